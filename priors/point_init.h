// Initialisers that place Gaussians at points: a coloured point cloud (COLMAP triangulation,
// fused multi-view stereo, visual hull) turned into isotropic Gaussians with 3DGS's
// nearest-neighbour scales (Kerbl et al. 2023, scene/gaussian_model.py create_from_pcd), and
// random points in the training cameras' frustums (the prior-free fallback).
#pragma once

#include "core/dataset.h"
#include "core/point_cloud.h"
#include "renderer/gaussians.h"

#include <cstdint>
#include <vector>

namespace glimpse {

struct PointInitOptions {
  float opacity = 0.1f;  // initial opacity of every Gaussian, in (0, 1) (3DGS: 0.1)
  int neighbours = 3;    // scale = sqrt(mean squared distance to this many nearest points)
  // Scales are clamped to [min, max] x the median nearest-neighbour scale, so that a few isolated
  // points (a COLMAP outlier, a stray MVS point) do not become screen-filling blobs.
  float min_scale_ratio = 0.1f;
  float max_scale_ratio = 10.0f;
  // More points than this are thinned by a deterministic stride (0: keep all).
  int64_t max_points = 0;

  void check() const;  // throws glimpse::Error naming the field
};

// Squared distances from each point to its k nearest other points, averaged ([N]; exact, by a
// uniform grid; duplicates count at distance 0). Points with fewer than k others use what there
// is; a single point gets 0.
std::vector<float> mean_sq_knn_distance(const std::vector<float>& positions, int k);

// One Gaussian per point: mean at the point, colour as the SH DC term ((rgb - 0.5) / C0, higher
// orders zero), isotropic scale from the nearest neighbours (clamped as above), identity
// rotation. Throws glimpse::Error for an empty or invalid cloud.
Gaussians gaussians_from_points(const PointCloud& cloud, const PointInitOptions& options,
                                int sh_degree);

// `count` Gaussians at random pixels of random training views, at depths uniform in disparity
// between near and far, coloured by their pixel, sized so that together they cover the views'
// pixels once. Deterministic for a seed.
Gaussians random_frustum_init(const std::vector<View>& views, double near, double far, int count,
                              float opacity, uint64_t seed, int sh_degree);

}  // namespace glimpse
