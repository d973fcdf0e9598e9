// Settings of the built-in multi-view stereo (priors/mvs/mvs.h): source selection, the
// bilateral NCC window, the PatchMatch schedule (ACMM-style), the consistency filter and fusion.
#pragma once

#include <cstdint>
#include <string>

namespace glimpse {

struct MvsOptions {
  // [SECTION] source views
  // Source views per reference view: all other views when there are at most this many, else the
  // best by the baseline-angle / shared-frustum score (COLMAP and MVSNet's heuristic). <= 32.
  int max_sources = 8;

  // [SECTION] matching cost: 1 - bilateral-weighted NCC on greyscale
  int window_radius = 5;       // the window spans (2 r + 1)^2 pixels (ACMM, COLMAP: 5)
  int window_step = 2;         // every step-th pixel of it is sampled: 11x11 at 2 = 36 samples
  float sigma_spatial = 5.0f;  // bilateral weight: spatial std dev, pixels
  float sigma_color = 0.1f;    // bilateral weight: intensity std dev, grey in [0, 1]
  float min_variance = 1e-5f;  // patches flatter than this (grey^2) are not scored

  // [SECTION] PatchMatch
  // Coarse-to-fine levels (ACMM's multi-scale scheme): 1 solves at half resolution first and
  // starts the full resolution from its planes (helps weakly textured surfaces); 0: full
  // resolution only.
  int coarse_levels = 1;
  // Red-black iterations of propagation (ACMH's adaptive checkerboard sampling), multi-view
  // cost with view selection, and random refinement, on the photometric cost only.
  int iterations = 4;
  // Iterations at each resolution after the coarsest (photometric).
  int fine_iterations = 2;
  // Then iterations with ACMM's geometric-consistency term against the other views' depths
  // (0: none). Needs the other views to be reference views of the same run.
  int geometric_iterations = 2;
  float geometric_weight = 0.2f;     // lambda: cost += lambda * min(reprojection error, max)
  float geometric_max_error = 3.0f;  // pixels: the geometric term's cap
  // Refinement: depth and normal perturbations of this fraction of the inverse-depth range (and
  // radians of normal), halved every iteration down to 1/16 of it.
  float perturbation = 0.05f;
  uint32_t seed = 0;  // random hypotheses (the result does not depend on the thread count)

  // [SECTION] filtering, confidence and fusion
  float max_cost = 0.6f;  // a pixel's photometric cost (1 - NCC) must be at most this
  // Forward-backward consistency with a source view's depth map: round-trip error in reference
  // pixels and relative depth difference.
  float max_reprojection_error = 1.0f;
  float max_relative_depth_error = 0.01f;
  // A pixel is kept (and fused) when consistent in at least this many source views, i.e. seen
  // consistently by 1 + min_consistent_sources views.
  int min_consistent_sources = 1;

  // Throws glimpse::Error naming the field for a value out of range.
  void check() const;
  // Every field as "name=value;" in a fixed order, with exact float values: the cache key.
  std::string key() const;
};

}  // namespace glimpse
