// Built-in multi-view stereo on posed views (CPU): per-view PatchMatch depth and normal maps in
// the manner of COLMAP and ACMM (priors/mvs/patch_match.h), a forward-backward geometric
// consistency filter, a confidence map per view, and fusion of the consistent pixels into a
// coloured point cloud with normals (COLMAP's StereoFusion, simplified).
#pragma once

#include "core/dataset.h"
#include "core/image.h"
#include "core/point_cloud.h"
#include "priors/mvs/mvs_options.h"

#include <functional>
#include <string>
#include <vector>

namespace glimpse {

struct MvsViewResult {
  int view = 0;              // index into the input views
  std::vector<int> sources;  // its source views (indices into the input views), best first
  // PatchMatch's output at every pixel: camera z (0 where the patch is too flat to match), unit
  // normal in the camera frame (3 channels, OpenCV frame), and the photometric cost 1 - NCC
  // averaged over the selected source views (2 where unmatched).
  Image<float> raw_depth;
  Image<float> normal;
  Image<float> cost;
  // Number of source views whose depth maps agree with the pixel (forward-backward check).
  Image<float> consistent;
  // Camera z where the pixel passes the filter (cost <= max_cost and consistent in at least
  // min_consistent_sources views), else 0.
  Image<float> depth;
  // In [0, 1], > 0 exactly where depth > 0: (1 - cost / (2 max_cost)) times the fraction of
  // min(3, checkable sources) that agree (capped at 1).
  Image<float> confidence;
  double seconds = 0;  // PatchMatch time of this view (all its iterations)
};

struct MvsResult {
  std::vector<MvsViewResult> views;  // one per reference view, in the order asked for
  // Fused points: one per group of mutually consistent confident pixels seen by at least
  // 1 + min_consistent_sources views, at the mean of their 3D points, with the mean image colour
  // and normal; support = the number of views in the group.
  PointCloud cloud;
  double seconds = 0;         // the whole run
  double fusion_seconds = 0;  // filter and fusion
  int threads = 1;
};

// Progress: (views done, views in total, what), called from the calling thread.
using MvsProgress = std::function<void(int done, int total, const std::string& what)>;

// Runs MVS with every view as a source candidate. reference_ids (indices into views, empty: all)
// are the views that get depth maps; consistency and fusion use the references only. Views need
// RGB images of their camera's size; [near, far] bounds the depths (0 < near < far, finite).
// threads <= 0 uses all hardware threads. Throws glimpse::Error naming the setting or view for
// bad input: NaN or non-positive bounds, fewer than 2 views, a missing or wrongly sized image,
// a reference index out of range.
MvsResult run_mvs(const std::vector<View>& views, double near, double far,
                  const MvsOptions& options, int threads,
                  const std::vector<int>& reference_ids = {}, const MvsProgress& progress = {});

// Greyscale (0.299 R + 0.587 G + 0.114 B) of an RGB image, one channel.
Image<float> to_grey(const Image<float>& rgb);

// [SECTION] accuracy against a reference depth --------------------------------------------------

struct DepthAgreement {
  int64_t pixels = 0;          // of the image
  int64_t confident = 0;       // depth > 0
  int64_t with_reference = 0;  // confident and the reference is valid there (> 0)
  int64_t within_1pct = 0;     // |depth - ref| <= 0.01 ref among with_reference
  int64_t within_2pct = 0;
  int64_t mask_pixels = 0;       // mask > 0.5 (all pixels when no mask is given)
  int64_t mask_covered = 0;      // confident pixels inside the mask
  double fraction_1pct() const;  // within_1pct / with_reference (0 when none)
  double fraction_2pct() const;
  double coverage() const;  // mask_covered / mask_pixels
  void add(const DepthAgreement& other);
};

// Compares a depth map with a reference depth map of the same size (both camera z, <= 0 or
// non-finite invalid); mask (1 channel, same size) may be empty. Throws on size mismatches.
DepthAgreement compare_depth(const Image<float>& depth, const Image<float>& reference,
                             const Image<float>& mask);

}  // namespace glimpse
