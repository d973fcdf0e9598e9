// CoR-GS co-regularisation (Zhang et al. ECCV 2024): two Gaussian fields trained side by side from
// the same start, each pulled towards the other's render at pseudo views between the training
// views, and (optionally) co-pruned: Gaussians of one field with no Gaussian of the other nearby
// are removed. Where the 3 views say little, the two fields disagree, and their disagreement is
// what the term suppresses.
//
// The trainer sees one loss term. The term of the run's own field (the "leader") owns the second
// field's Trainer and steps it at the start of each of its own steps (LossTerm::before_step), so
// both fields see the same iterations, pseudo cameras and schedules; the second field carries a
// "follower" term that points back at the leader's Gaussians.
#pragma once

#include "core/camera.h"
#include "optim/loss_term.h"
#include "optim/trainer.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace glimpse {

struct CoRegularizationOptions {
  float weight = 0.f;         // 0 = off; CoR-GS uses 1 (the pseudo-view loss against the other)
  int start_iteration = 0;    // first iteration with the pseudo-view term (CoR-GS DTU: 2000 of 10k)
  int stop_iteration = 0;     // the last one (0: to the end)
  int every = 1;              // pseudo-view term on every N-th step
  int downscale = 2;          // pseudo views are rendered at 1/downscale of the training resolution
  float extrapolation = 0.f;  // pseudo cameras at t in [-e, 1 + e] between two training cameras
  int prune_every = 0;        // co-pruning every N steps (0: off); CoR-GS: 500
  float prune_distance = 0.01f;  // ... of Gaussians with no counterpart within this x scene scale
  int prune_until = 0;           // the last co-pruning iteration (0: to the end)
  void check() const;
};

// A pseudo camera on the way from `a` to `b` (t = 0: a, t = 1: b): the centre moves linearly,
// the rotation by spherical interpolation, the intrinsics are a's, and the image is 1/downscale of
// a's size (intrinsics scaled with it).
Camera interpolated_camera(const Camera& a, const Camera& b, double t, int downscale);

// The pseudo camera of `iteration` (the same in both fields): two distinct training views drawn
// from the seed and iteration, and t uniform in [-extrapolation, 1 + extrapolation].
Camera pseudo_camera(const std::vector<View>& views, uint64_t seed, int iteration,
                     const CoRegularizationOptions& options);

// For each point of `points` ([N, 3]): 1 when no point of `others` ([M, 3]) lies within
// `distance` (exact, by a uniform grid of cell `distance`).
std::vector<uint8_t> without_counterpart(const std::vector<float>& points,
                                         const std::vector<float>& others, float distance);

class CoRegularizationLoss : public LossTerm {
 public:
  // The leader: builds the second field from `views` and `init` (the run's own starting point)
  // with the run's options under a seed derived from theirs, and `partner_rasterizer`; the two
  // pseudo-view rasterizers are this term's and the follower's. Pseudo cameras follow the run's
  // seed in both fields.
  CoRegularizationLoss(std::vector<View> views, Gaussians init, TrainerOptions run_options,
                       std::unique_ptr<Rasterizer> partner_rasterizer,
                       std::unique_ptr<Rasterizer> pseudo_rasterizer,
                       std::unique_ptr<Rasterizer> follower_pseudo_rasterizer,
                       const CoRegularizationOptions& options);
  ~CoRegularizationLoss() override;

  std::string name() const override { return "co_regularization"; }
  void before_step(int iteration, const Gaussians& gaussians) override;
  double evaluate(const LossContext& context, RenderOutputGradients& v_render,
                  GaussianGradients& v_params) override;
  bool prune(int iteration, const Gaussians& gaussians, const std::vector<View>& views,
             std::vector<uint8_t>& remove) override;
  // The leader's state is the second field's checkpoint.
  bool has_state() const override { return partner_ != nullptr; }
  void save_state(std::ostream& out) const override;
  void load_state(std::istream& in, const std::string& what) override;

  // The second field (the leader's only; null in the follower).
  const Trainer* partner() const { return partner_.get(); }
  Trainer* partner() { return partner_.get(); }

 private:
  // The follower, inside the second field's trainer.
  CoRegularizationLoss(std::unique_ptr<Rasterizer> pseudo_rasterizer,
                       const CoRegularizationOptions& options, uint64_t camera_seed);

  std::unique_ptr<Rasterizer> rasterizer_;
  CoRegularizationOptions options_;
  uint64_t camera_seed_ = 0;
  std::unique_ptr<Trainer> partner_;          // leader: the second field
  CoRegularizationLoss* follower_ = nullptr;  // leader: the term inside partner_
  const Gaussians* other_ = nullptr;          // the other field's Gaussians
  float scene_scale_ = 1.f;
  RenderOutput target_, own_;
  RenderOutputGradients v_own_;
  GaussianGradients grads_;
};

}  // namespace glimpse
