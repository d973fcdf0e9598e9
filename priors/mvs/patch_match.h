// PatchMatch stereo for one reference view on the CPU (ACMH/ACMM schedule: Xu and Tao, CVPR
// 2019): random plane hypotheses, red-black checkerboard propagation with adaptive sampling,
// multi-view bilateral NCC with joint view selection, random refinement, and optional geometric
// consistency iterations. The per-pixel math is priors/mvs/patch_match_kernels.h; this file only
// schedules it (rows of one colour in parallel on a ThreadPool).
#pragma once

#include "core/thread_pool.h"
#include "priors/mvs/mvs_options.h"
#include "priors/mvs/patch_match_kernels.h"

#include <cstdint>
#include <vector>

namespace glimpse::mvs {

struct PatchMatchSource {
  const float* gray = nullptr;  // [height, width] grey in [0, 1] of `intrinsics`' size
  Intrinsics intrinsics;
  RelativePose src_from_ref, ref_from_src;
  // [height, width] camera z of this source's own depth map (<= 0 invalid), for the geometric
  // iterations; null when the source has none (it then adds no geometric term).
  const float* depth = nullptr;
};

struct PatchMatchProblem {
  const float* ref_gray = nullptr;  // [height, width] grey in [0, 1]
  Intrinsics ref;
  std::vector<PatchMatchSource> sources;  // 1..kMaxSources
  float depth_min = 0, depth_max = 0;     // camera-z bounds of the hypotheses
  uint32_t view_id = 0;                   // seeds the pixel random streams
};

// Per-pixel hypotheses and costs, structure of arrays ([height, width] row-major).
struct PatchMatchState {
  int width = 0, height = 0;
  std::vector<float> depth;        // camera z of the pixel centre
  std::vector<float> normal;       // [H, W, 3] unit normal, reference camera frame
  std::vector<float> cost;         // the aggregated cost the propagation compares
  std::vector<float> photo_cost;   // its photometric part: weighted 1 - NCC
  std::vector<uint32_t> selected;  // bit j: source j selected at the last iteration
};

// Random hypotheses (depth uniform in inverse depth, normals facing the camera) and their costs
// (mean of the best half of the sources). Throws glimpse::Error for an invalid problem.
void patch_match_initialize(const PatchMatchProblem& problem, const MvsOptions& options,
                            ThreadPool& pool, PatchMatchState& state);

// Starts from the solution `coarse` of the same view at a lower resolution (intrinsics
// coarse_intrinsics; ACMM's multi-scale scheme): each pixel takes the best, by the same cost as
// patch_match_initialize, of the planes of the coarse pixel under it and its 4 neighbours.
void patch_match_initialize_from_coarse(const PatchMatchProblem& problem, const MvsOptions& options,
                                        const Intrinsics& coarse_intrinsics,
                                        const PatchMatchState& coarse, ThreadPool& pool,
                                        PatchMatchState& state);

// One iteration (a red and a black half-sweep). `iteration` counts from 0 over the whole run (it
// sets the good-cost threshold and the perturbation range); `geometric` adds the consistency term
// against the sources' depth maps.
void patch_match_iterate(const PatchMatchProblem& problem, const MvsOptions& options, int iteration,
                         bool geometric, ThreadPool& pool, PatchMatchState& state);

}  // namespace glimpse::mvs
