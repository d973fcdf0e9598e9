// Depth priors: one coarse depth map per training view whose scale and shift may be unknown (a
// monocular network, an imported file) or metric (multi-view stereo), with a confidence map. The
// depth losses (priors/depth_losses.h) compare the rendered depth against them.
#pragma once

#include "core/image.h"

#include <string>

namespace glimpse {

// What the values of a prior are.
enum class DepthPriorKind {
  Depth,         // camera z or distance: larger is farther (MVS, metric depth networks, files)
  InverseDepth,  // disparity or inverse depth: larger is nearer (MiDaS, DPT, Depth Anything)
};

const char* depth_prior_kind_name(DepthPriorKind kind);  // "depth" / "inverse"

struct DepthPrior {
  Image<float> values;      // [H, W] 1 channel, of the kind below; only read where confidence > 0
  Image<float> confidence;  // [H, W] 1 channel in [0, 1]; 0: no information at that pixel
  DepthPriorKind kind = DepthPriorKind::Depth;
  bool metric = false;  // values are camera z in the scene's units (MVS), not up to scale/shift
  std::string source;   // where it came from, for messages: "mvs", a file path, a model path

  bool empty() const { return values.empty(); }
};

// Throws glimpse::Error naming `prior.source` when the maps are not 1-channel width x height, a
// confidence is outside [0, 1] or not finite, or a value where the confidence is > 0 is not
// finite, or (kind Depth) not > 0, or (kind InverseDepth) negative. Returns the number of pixels
// with confidence > 0.
size_t check_depth_prior(const DepthPrior& prior, int width, int height);

// The prior as "nearness" (larger is nearer), the order depth ranking needs: -depth for Depth,
// the values for InverseDepth; 0 where the confidence is 0.
Image<float> nearness_of(const DepthPrior& prior);

// Resamples a prior to width x height (bilinear for the values, nearest-neighbour keeping zero
// confidence where any bilinear tap has none). For sources whose resolution differs from the
// view's by a uniform factor, like a network's output.
DepthPrior resize_depth_prior(const DepthPrior& prior, int width, int height);

}  // namespace glimpse
