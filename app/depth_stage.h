// The depth-prior stage of a training run: one depth map and confidence per training view from
// the configured source (app/train_config.h DepthSource): the built-in MVS (cached with the
// initialisation's), files the user supplies, or a monocular network in ONNX. Each prior is
// written as an image to <out>/depth_prior/. A view whose prior cannot be made loses it, with
// the reason logged and recorded, unless the configuration marks the priors required.
#pragma once

#include "app/train_config.h"
#include "core/dataset.h"
#include "priors/depth_prior.h"

#include <string>
#include <vector>

namespace glimpse {

struct DepthStageResult {
  std::vector<DepthPrior> priors;          // one per training view; empty where none could be made
  DepthSource source = DepthSource::None;  // the source used (None: no priors at all)
  int views_with_prior = 0;
  double seconds = 0.0;
  std::vector<std::string> notes;  // what was skipped and why
};

// The source `auto` resolves to for this configuration (files, model, or mvs).
DepthSource resolve_depth_source(const PriorsConfig& priors);

// Makes the priors for `train_views`. `mvs_folder` is where the initialisation's MVS stage keeps
// (or would keep) its maps (app/init_stage.h mvs_stage_folder). Throws glimpse::Error naming the
// file when depth_required is set and a prior cannot be made.
DepthStageResult run_depth_stage(const TrainConfig& config, const Dataset& dataset,
                                 const std::vector<View>& train_views,
                                 const std::string& mvs_folder, const std::string& out_dir);

// Reads one view's prior from `depth_dir`: <stem>.npy, .pfm, .exr or .png (the first present;
// stem: the view's file name without extension) with an optional <stem>.confidence.npy. Pixels
// that are 0 (kind Depth) have no confidence. A map of another size with the view's aspect ratio
// (within 1 %) is resampled; any other size, NaN or infinite values, negative values, or no file
// throw glimpse::Error naming the file.
DepthPrior read_depth_prior_file(const std::string& depth_dir, const View& view,
                                 DepthPriorKind kind, double png_scale);

}  // namespace glimpse
