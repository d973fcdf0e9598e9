// `glimpse mvs`: the built-in multi-view stereo (priors/mvs/) on a dataset's training views, with
// depth, normal and confidence maps as images, the fused point cloud as PLY and a report; the
// cached MVS stage that `glimpse train --init mvs` runs; and the accuracy evaluation against a
// reference depth built by the same MVS from all of the dataset's views.
#pragma once

#include "app/train_config.h"
#include "core/dataset.h"
#include "core/image.h"
#include "core/point_cloud.h"
#include "priors/mvs/mvs.h"
#include "priors/mvs/mvs_options.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace glimpse {

// [SECTION] the cached stage (for `glimpse train`) ----------------------------------------------

struct MvsStageResult {
  // Per input view, in the input order: filtered camera-z depth (0 = invalid), confidence in
  // [0, 1] (0 exactly where the depth is invalid), and camera-frame unit normals (3 channels).
  std::vector<Image<float>> depths;
  std::vector<Image<float>> confidences;
  std::vector<Image<float>> normals;
  PointCloud cloud;        // fused, with normals and support (views agreeing, >= 2)
  double seconds = 0;      // this call: the MVS run, or loading the cache
  double mvs_seconds = 0;  // the MVS run that made the result (from the cache's record)
  bool from_cache = false;
  std::string cache_key;  // 16 hex digits
};

// Multi-view stereo on `views` (every view a reference, each matched against the others, the best
// options.max_sources of them), cached in cache_dir: a run whose views (names, pixels,
// cameras), bounds and options hash to the key recorded in <cache_dir>/cache.json reloads the
// maps and the cloud instead of recomputing. Writes into cache_dir what `glimpse mvs` writes
// (depth/normal/confidence PNGs, maps/*.npy|pfm, fused.ply, report.json, report.md), every file
// atomically and cache.json last. threads <= 0: all hardware threads. Throws glimpse::Error for
// bad input (see run_mvs) or an unwritable cache_dir.
MvsStageResult run_mvs_stage(const std::vector<View>& views, double near, double far,
                             const MvsOptions& options, const std::string& cache_dir, int threads);

// The cache key: FNV-1a 64 over a version salt, the view names, image sizes and pixels, camera
// intrinsics and poses (exact doubles), the bounds and MvsOptions::key(), as 16 hex digits.
std::string mvs_cache_key(const std::vector<View>& views, double near, double far,
                          const MvsOptions& options);

// [SECTION] the command -------------------------------------------------------------------------

// Which views get depth maps.
enum class MvsReferenceViews {
  Train,  // the training views of the split (protocol, split.json or holdout); all without one
  All,    // every view of the dataset
};

struct MvsCommandOptions {
  std::string dataset_dir;      // LLFF, COLMAP, DTU or transforms.json folder
  std::string output_dir;       // created if missing
  std::string format = "auto";  // dataset layout: auto, llff, colmap, dtu, transforms
  int factor = 8;               // LLFF images_<factor>/
  int downscale = 1;            // COLMAP and transforms.json image downscale
  EvalProtocol protocol = EvalProtocol::None;
  int views = 3;  // protocol training views: 3, 6 or 9
  MvsReferenceViews reference = MvsReferenceViews::Train;
  int threads = 0;  // 0: all hardware threads
  // Also run the MVS on all of the dataset's views and compare the training views' depth maps
  // with it (evaluate_mvs_against_all); written to the report.
  bool evaluate_against_all = false;
  // The reference's filter: a reference pixel must agree with at least this many of its sources.
  int reference_min_consistent = 2;
  MvsOptions mvs;

  // Throws glimpse::Error naming the option.
  void check() const;
};

// Accuracy of the training views' MVS depth against the all-view reference, per view and overall.
struct MvsEvaluation {
  std::vector<std::string> names;
  std::vector<DepthAgreement> per_view;
  DepthAgreement total;
  bool masked = false;      // coverage over the object masks (else over the whole image)
  int reference_views = 0;  // views whose depth maps the reference run computed
  double reference_seconds = 0;
  nlohmann::json to_json() const;
};

struct MvsCommandResult {
  std::string dataset_root, dataset_format, split;
  std::vector<std::string> view_names;  // the reference views
  MvsStageResult stage;
  bool evaluated = false;
  MvsEvaluation evaluation;
  double wall_seconds = 0;
};

// Reads the dataset (io/dataset_reader.h), picks the views (protocol split as `glimpse train`),
// runs run_mvs_stage with <output_dir> as its folder, optionally the evaluation, and writes
// everything there. Bad input (a missing folder, NaN or non-positive bounds, fewer than 2 views,
// images of the wrong size) throws glimpse::Error naming the setting or file, before anything is
// written.
MvsCommandResult run_mvs_command(const MvsCommandOptions& options);

// The evaluation: MVS on the reference views `train_ids` of `dataset` against a reference made by
// the same MVS over all of the dataset's views (depth maps for train_ids and their sources, then
// the consistency filter with reference_min_consistent sources). `depths` are the training views'
// confident depths (MvsStageResult::depths). Coverage is over the views' masks when every
// training view has one, else over the whole image. Writes the reference depth images to
// <out_dir>/reference/ when out_dir is not empty.
MvsEvaluation evaluate_mvs_against_all(const Dataset& dataset, const std::vector<int>& train_ids,
                                       const std::vector<Image<float>>& depths,
                                       const MvsOptions& options, int reference_min_consistent,
                                       int threads, const std::string& out_dir);

// [SECTION] command line ------------------------------------------------------------------------

// `glimpse mvs` on a CLI11 app: add_mvs_subcommand binds the flags to a MvsCommandOptions;
// run_mvs_cli runs the command once parsed and prints a summary (exit code 0).
struct MvsCli {
  CLI::App* command = nullptr;
  std::shared_ptr<MvsCommandOptions> options;
  std::shared_ptr<std::string> protocol, reference;
};
MvsCli add_mvs_subcommand(CLI::App& app);
int run_mvs_cli(const MvsCli& cli);

}  // namespace glimpse
