// Losses between a rendered depth map and a depth prior whose scale and shift are unknown, each
// with its vector-Jacobian product right below it (gradients with respect to the rendered depth):
//  - local depth ranking with the continuity term (SparseNeRF, Wang et al. ICCV 2023);
//  - Pearson correlation, global (FSGS, Zhu et al. ECCV 2024) and patch-local (DNGaussian, Li et
//    al. CVPR 2024; LoopSparseGS);
//  - multi-view photometric consistency through the rendered depth: the view's pixels warped into
//    a neighbouring training view (as in self-supervised depth and Binocular3DGS, Han et al.
//    NeurIPS 2024), which needs no learned model.
// Templated on the scalar so the tests check them in double against central differences.
#pragma once

#include "core/camera.h"
#include "core/image.h"

#include <cstdint>
#include <random>
#include <vector>

namespace glimpse {

// [SECTION] depth ranking ------------------------------------------------------------------------

// One ranking sample: pixel `nearer` is nearer than pixel `farther` in the prior; each has a
// neighbour of similar prior depth for the continuity term (-1: none). Pixel indices are y*W+x.
struct RankingPair {
  int32_t nearer = 0, farther = 0;
  int32_t nearer_neighbour = -1, farther_neighbour = -1;
  float weight = 1.f;  // the product of the two pixels' confidences
};

struct RankingSampling {
  int pairs = 4096;  // pairs per step
  int box = 30;      // both pixels of a pair lie in a box of this side (pixels; 0: the image)
  int neighbour_window = 6;         // continuity neighbours come from this square around a pixel
  float neighbour_fraction = 0.3f;  // ... among this fraction of it closest in prior depth
  float min_confidence = 0.5f;      // pixels whose prior confidence is below are not sampled
  void check() const;
};

// Samples ranking pairs from a prior given as nearness (larger is nearer; priors/depth_prior.h
// nearness_of) with its confidence. Pairs whose nearness is equal are dropped. Deterministic for
// the engine's state.
std::vector<RankingPair> sample_ranking_pairs(const Image<float>& nearness,
                                              const Image<float>& confidence,
                                              const RankingSampling& sampling,
                                              std::mt19937_64& rng);

// L = (1/P) sum_p w_p [ max(D(nearer) - D(farther) + margin, 0)
//                       + continuity * (max(|D(nearer) - D(nn)| - margin, 0)
//                                       + max(|D(farther) - D(fn)| - margin, 0)) ]
// D is the rendered depth (larger is farther). Adds dL/dD * scale into v_depth when given.
template <typename T>
T depth_ranking_loss(const Image<T>& depth, const std::vector<RankingPair>& pairs, T margin,
                     T continuity, T scale, Image<T>* v_depth);

// [SECTION] Pearson correlation ------------------------------------------------------------------

// 1 - rho(D, P) over the pixels where weight > 0, with the weighted correlation
// rho = cov / sqrt((var_D + eps)(var_P + eps)). P is the prior as depth (larger is farther; for
// inverse depth pass its negation). 0 when fewer than 16 pixels have weight. Adds
// dL/dD * scale into v_depth.
template <typename T>
T pearson_depth_loss(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight, T scale,
                     Image<T>* v_depth);

// The mean of 1 - rho over patch x patch tiles (the grid shifted by (offset_x, offset_y), tiles
// cut at the border), counting tiles with at least a quarter of their pixels weighted and a prior
// that varies (var_P > eps). Adds dL/dD * scale into v_depth.
template <typename T>
T patch_pearson_depth_loss(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight,
                           int patch, int offset_x, int offset_y, T scale, Image<T>* v_depth);

// [SECTION] metric depth -------------------------------------------------------------------------

// For metric priors (multi-view stereo): the weighted mean relative error
// L = (1/sum w) sum w |D - P| / P over pixels with weight > 0 and P > 0. Adds dL/dD * scale into
// v_depth.
template <typename T>
T relative_depth_l1_loss(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight,
                         T scale, Image<T>* v_depth);

// [SECTION] multi-view consistency ---------------------------------------------------------------

// A neighbouring training view: its image, camera and (optionally) a depth for occlusion tests.
template <typename T>
struct WarpTarget {
  const Image<T>* image = nullptr;  // [H, W, 3]
  const Camera* camera = nullptr;   // its camera
  const Image<T>* depth = nullptr;  // optional [H, W] camera z in the same units; 0: unknown
  T occlusion_tolerance = T(0.03);  // a point farther than depth * (1 + this) is occluded
};

// Warps the source view into the target through the rendered depth: for each source pixel p with
// weight > 0 and depth D(p) > 0, X = the point at camera z D(p) on p's ray, q = its projection in
// the target view, and L = (1/sum w) sum_p w(p) * mean_c |I_src(p) - I_tgt(q)|_huber, where the
// target image is sampled bilinearly. Pixels landing outside the target (1 pixel margin), behind
// it, or occluded per the target depth are skipped. The Huber (smooth L1) threshold `delta` keeps
// the gradient continuous. Adds dL/dD * scale into v_depth (through the target image's bilinear
// gradient) and, when v_target_image is given, dL/d(target image) * scale into it (for a
// rendered target: Binocular3DGS's self-consistency warps a render from a shifted camera back
// into the view). Returns the loss; `valid` (optional) receives the number of pixels used.
template <typename T>
T warp_consistency_loss(const Image<T>& depth, const Image<T>& weight, const Image<T>& src_image,
                        const Camera& src_camera, const WarpTarget<T>& target, T delta, T scale,
                        Image<T>* v_depth, int64_t* valid = nullptr,
                        Image<T>* v_target_image = nullptr);

}  // namespace glimpse
