// The sparse-view priors as trainer loss terms: depth ranking and Pearson correlation against one
// depth prior per training view, floater pruning in front of the confident prior, and multi-view
// warp consistency through the rendered depth (the math is in priors/depth_losses.h).
#pragma once

#include "optim/loss_term.h"
#include "priors/depth_losses.h"
#include "priors/depth_prior.h"

#include <memory>
#include <vector>

namespace glimpse {

struct DepthLossOptions {
  // Local depth ranking with continuity (SparseNeRF): weight of the hinge, 0 = off. SparseNeRF
  // uses 0.5 (LLFF) and 0.2 (DTU) on NeRF distances.
  // The hinge is measured in scene scales (TrainerOptions::scene_extent).
  float ranking_weight = 0.f;
  float continuity = 0.01f;          // continuity term relative to the ranking (LLFF 0.01, DTU 1)
  float ranking_margin = 1e-4f;      // hinge margin, relative to the scene scale
  RankingSampling ranking;           // pairs per step, box size, neighbours
  float pearson_weight = 0.f;        // global Pearson correlation (FSGS: 0.05), 0 = off
  float patch_pearson_weight = 0.f;  // patch-local Pearson (DNGaussian, LoopSparseGS), 0 = off
  int patch = 32;                    // patch side in pixels (the grid shifts randomly every step)
  // Metric priors only (MVS): the mean relative error |D - P| / P on confident pixels. 0 = off.
  float depth_l1_weight = 0.f;
  float min_alpha = 0.5f;   // rendered pixels below this opacity are not compared
  int start_iteration = 0;  // first iteration with the depth losses
  int stop_iteration = 0;   // last one (0: to the end)
  // Floater pruning (GaussianObject-style, against the prior): Gaussians whose centre lies more
  // than prune_margin x depth in front of the prior's confident depth in a training view are
  // removed at the trainer's pruning iterations up to prune_until. 0 = off.
  int prune_until = 0;
  float prune_margin = 0.1f;
  float prune_min_confidence = 0.5f;
  void check() const;
  bool any_loss() const {
    return ranking_weight > 0.f || pearson_weight > 0.f || patch_pearson_weight > 0.f ||
           depth_l1_weight > 0.f;
  }
};

// Depth losses against priors[i] for training view i (an empty prior: no loss for that view).
// Priors must be the size of their views (check_depth_prior). Non-metric priors are aligned to
// the rendered depth (an affine fit in depth or inverse depth, kept per view from the latest
// step) before they are used for pruning.
class DepthPriorLoss : public LossTerm {
 public:
  DepthPriorLoss(std::vector<DepthPrior> priors, const DepthLossOptions& options);
  std::string name() const override { return "depth_prior"; }
  double evaluate(const LossContext& context, RenderOutputGradients& v_render,
                  GaussianGradients& v_params) override;
  bool prune(int iteration, const Gaussians& gaussians, const std::vector<View>& views,
             std::vector<uint8_t>& remove) override;

  // Values of the last evaluation (for logs and tests).
  double last_ranking() const { return last_ranking_; }
  double last_pearson() const { return last_pearson_; }
  double last_patch_pearson() const { return last_patch_pearson_; }
  double last_depth_l1() const { return last_depth_l1_; }

 private:
  struct Alignment {
    bool valid = false;
    double a = 1, b = 0;  // depth = a v + b (Depth) or 1 / depth = a v + b (InverseDepth)
  };
  std::vector<DepthPrior> priors_;
  std::vector<Image<float>> nearness_;     // per view, for ranking
  std::vector<Image<float>> prior_depth_;  // per view, the prior as depth-like (larger farther)
  std::vector<Alignment> alignment_;
  DepthLossOptions options_;
  double last_ranking_ = 0, last_pearson_ = 0, last_patch_pearson_ = 0, last_depth_l1_ = 0;
};

struct WarpLossOptions {
  float weight = 0.f;                 // 0 = off
  int neighbours = 1;                 // nearest training cameras each view is warped into
  float delta = 0.05f;                // Huber threshold on the colour residual
  float min_alpha = 0.5f;             // rendered pixels below this opacity are not warped
  int start_iteration = 0;            // first iteration with the term
  int stop_iteration = 0;             // last one (0: to the end)
  float occlusion_tolerance = 0.03f;  // with metric priors: farther than prior x (1 + this)
  void check() const;
};

// Multi-view photometric consistency: the step's view, warped through its rendered depth into its
// nearest training views, must match their images. With metric priors (MVS), the neighbour's
// prior depth hides occluded pixels.
class WarpConsistencyLoss : public LossTerm {
 public:
  // `priors` may be empty, or one per view (metric ones are used for occlusion).
  WarpConsistencyLoss(const std::vector<View>& views, std::vector<DepthPrior> priors,
                      const WarpLossOptions& options);
  std::string name() const override { return "warp_consistency"; }
  double evaluate(const LossContext& context, RenderOutputGradients& v_render,
                  GaussianGradients& v_params) override;
  const std::vector<int>& neighbours_of(int view) const { return neighbours_[view]; }

 private:
  std::vector<std::vector<int>> neighbours_;
  std::vector<Image<float>> occlusion_depth_;  // per view; empty: unknown
  WarpLossOptions options_;
};

struct SelfConsistencyOptions {
  float weight = 0.f;       // 0 = off
  float baseline = 0.02f;   // the virtual camera's shift along its x axis, x the scene scale
  int every = 1;            // on every N-th step (each costs a second render and backward)
  float delta = 0.05f;      // Huber threshold on the colour residual
  float min_alpha = 0.5f;   // source pixels below this rendered opacity are not warped
  int start_iteration = 0;  // first iteration with the term
  int stop_iteration = 0;   // last one (0: to the end)
  void check() const;
};

// Binocular3DGS's self-consistency (Han et al. NeurIPS 2024): the model is rendered from a
// virtual camera shifted sideways by a random baseline (left or right, 0.5 to 1 x baseline x the
// scene scale), that render is warped back into the step's view through the view's rendered
// depth and compared with the view's image. Gradients reach the depth of the view and, through
// the term's own rasterizer, every Gaussian of the virtual render.
class SelfConsistencyLoss : public LossTerm {
 public:
  SelfConsistencyLoss(std::unique_ptr<Rasterizer> rasterizer,
                      const SelfConsistencyOptions& options);
  std::string name() const override { return "self_consistency"; }
  double evaluate(const LossContext& context, RenderOutputGradients& v_render,
                  GaussianGradients& v_params) override;

 private:
  std::unique_ptr<Rasterizer> rasterizer_;
  SelfConsistencyOptions options_;
  RenderOutput virtual_render_;
  RenderOutputGradients v_virtual_;
  GaussianGradients grads_;
};

}  // namespace glimpse
