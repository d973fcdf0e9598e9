// The initialisation stage of a training run: makes the starting Gaussians with the initialiser
// the configuration names (app/train_config.h InitMethod), or with `auto` the best one that
// succeeds on this capture, falling back down the list and saying why. Every initialiser that
// produces a point cloud writes it to <out>/init/<method>.ply for inspection.
#pragma once

#include "app/train_config.h"
#include "core/dataset.h"
#include "core/point_cloud.h"
#include "renderer/gaussians.h"

#include <string>
#include <vector>

namespace glimpse {

struct InitStageResult {
  Gaussians gaussians;
  InitMethod method = InitMethod::Depth;  // the initialiser that produced them
  int64_t points = 0;                     // points the initialiser produced (before Gaussians)
  double seconds = 0.0;                   // wall time of the whole stage, fallbacks included
  std::vector<std::string> notes;         // why initialisers were skipped or failed, in order
};

// The order `auto` tries: fused multi-view stereo, COLMAP triangulation with the known poses,
// the visual hull (captures with masks), depth back-projection at the mean depth (always works).
std::vector<InitMethod> auto_init_order(const Dataset& dataset);

// Whether an initialiser guesses the geometry (depth, random, hull) rather than measuring it
// (mvs, colmap, points): see TrainConfig::guessed_geometry_lr_factor.
bool init_guesses_geometry(InitMethod method);

// Where the MVS stage of `train_views` keeps its maps and cloud: <cache_dir>/mvs/<key> with a
// cache folder, else <out_dir>/mvs.
std::string mvs_stage_folder(const TrainConfig& config, const Dataset& dataset,
                             const std::vector<View>& train_views, const std::string& out_dir);

// Runs the stage for `train_views` of `dataset`. `out_dir` receives init/ (point clouds) and the
// caches of the MVS and COLMAP stages (<out>/mvs, <out>/colmap). `sfm_points`, when not empty,
// are the points of the structure from motion that posed the capture (app/colmap_stage.h): the
// colmap initialiser uses them instead of triangulating again. An explicitly requested
// initialiser that fails throws glimpse::Error with its reason; `auto` falls back and records why
// in `notes` (also logged).
InitStageResult run_init_stage(const TrainConfig& config, const Dataset& dataset,
                               const std::vector<View>& train_views, const std::string& out_dir,
                               const PointCloud& sfm_points = {});

}  // namespace glimpse
