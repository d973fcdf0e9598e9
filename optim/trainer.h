// The 3DGS training loop (Kerbl et al. 2023): one view per step, (1 - lambda) L1 + lambda D-SSIM
// plus pluggable loss terms, Adam with per-group learning rates (position decaying exponentially,
// scaled by the scene extent), SH degree ramp-up, densification. Trainer::step() is synchronous
// (no threads of its own, no UI) and deterministic for a seed and thread count.
#pragma once

#include "core/check.h"
#include "core/dataset.h"
#include "optim/adam.h"
#include "optim/densify.h"
#include "optim/loss_term.h"
#include "renderer/rasterizer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace glimpse {

struct LearningRateOptions {
  float means_initial = 1.6e-4f;  // position lr at step 0, times the scene extent
  float means_final = 1.6e-6f;    // position lr at means_max_steps, times the scene extent
  int means_max_steps = 30000;    // length of the exponential decay (0: the run's iterations)
  float sh_dc = 2.5e-3f;          // SH degree-0 coefficients
  float sh_rest = 1.25e-4f;       // higher SH coefficients (sh_dc / 20)
  float opacity = 0.05f;          // opacity logits
  float scales = 5e-3f;           // log-scales
  float quats = 1e-3f;            // rotations
  void check() const;
};

struct TrainerOptions {
  int iterations = 7000;      // total optimisation steps
  double dssim_lambda = 0.2;  // weight of D-SSIM in (1 - lambda) L1 + lambda D-SSIM
  LearningRateOptions lr;
  AdamOptions adam;
  bool visible_adam = false;  // update only the Gaussians visible in the step's view
  DensifyStrategy strategy = DensifyStrategy::AdaptiveDensityControl;
  AdcOptions adc;
  McmcOptions mcmc;
  int sh_degree = 3;                      // final SH degree
  int sh_increase_every = 1000;           // raise the active SH degree by one every N steps
  bool random_background = false;         // a random background colour each step
  Vec3<float> background{0.f, 0.f, 0.f};  // otherwise this one
  RenderOptions render;  // extent mode, anti-aliasing, near/far (sh_degree, background
                         // are set per step)
  uint64_t seed = 0;     // view order, split sampling, noise
  // DropGaussian (Park et al. CVPR 2025): in each training render, every Gaussian is dropped with
  // probability r_t = dropout_rate * min(1, t / dropout_ramp) and the kept ones' opacities are
  // divided by (1 - r_t). 0: off; the paper uses 0.2 over 10k iterations.
  float dropout_rate = 0.f;
  // Iterations of the linear ramp. A fixed length (not the run's), so that a run extended with
  // --resume follows the schedule of a straight run; 0 uses the run's iterations instead.
  int dropout_ramp = 2000;
  // Opacity decay (Binocular3DGS, Han et al. NeurIPS 2024): after each step every opacity is
  // multiplied by this, so Gaussians the views do not keep up fade and can be pruned. 1: off.
  float opacity_decay = 1.f;
  int opacity_decay_until = 0;  // the last iteration decayed (0: all)
  // The opacity and scale regularisers (3DGS-MCMC's L1 terms, here for every strategy):
  // opacity_reg * mean(opacity) + scale_reg * mean(scale / scene extent) join the loss. 0: off.
  // The MCMC strategy adds its own (mcmc.opacity_reg, mcmc.scale_reg) as well.
  float opacity_reg = 0.f;
  float scale_reg = 0.f;
  // The needle regulariser (add_needle_regularizer): needle_reg * mean hinge on
  // log(s_max / s_mid) above log(needle_ratio). 0: off.
  float needle_reg = 0.f;
  float needle_ratio = 10.f;
  float prune_opacity = 0.f;  // without densification: remove Gaussians below this opacity
  int prune_every = 500;      // ... every N iterations
  // Each step runs with subnormal floats flushed to zero (core/float_mode.h): late in a run the
  // tiny gradients and moments of faded Gaussians are subnormal, and on x86 each operation on
  // one costs a microcode assist (the default's last steps on LLFF 1.6x slower). false: IEEE
  // gradual underflow, as before 2026-12-07 (for comparing with older runs).
  bool flush_denormals = true;
  // The scene's scale, which the position learning rate and the densification thresholds are
  // relative to; 0 takes the training cameras' spread (scene_extent_of, the reference 3DGS
  // choice). Set by the caller (e.g. from the initial geometry's depth, scene_depth_of), not
  // saved with the options.
  float scene_extent = 0.f;
  void check() const;
};

// What one step did.
// Where a step's wall time went, in seconds (issue 17's breakdown; measured with a steady clock
// between the phases, so the parts sum to the step's time).
struct StepPhases {
  double render_forward = 0;   // rasterizer forward
  double photometric = 0;      // L1 + D-SSIM forward and backward (its image gradient), PSNR
  double terms = 0;            // plug-in loss terms (depth priors, warp, self-consistency)
  double render_backward = 0;  // rasterizer backward (with the densification statistics)
  double gradients = 0;        // term gradients merged, dropout chain rule, finiteness checks
  double adam = 0;             // optimiser step and the parameters' finiteness check
  double densify = 0;          // densification, pruning, opacity decay
  double other = 0;            // view choice, background, dropout, target, buffers
  // The phases in the order above, with their names (reports, JSON).
  static constexpr std::array<const char*, 8> kNames = {"render_forward",  "photometric", "terms",
                                                        "render_backward", "gradients",   "adam",
                                                        "densify",         "other"};
  std::array<double, 8> values() const;             // in kNames order
  void set_values(const std::array<double, 8>& v);  // the inverse of values()
  double total() const;
  StepPhases& operator+=(const StepPhases& p);
  StepPhases& operator/=(double n);  // a sum over n steps -> the mean per step

 private:
  template <typename Self>
  static auto fields_of(Self& s) {
    return std::array{&s.render_forward, &s.photometric, &s.terms,   &s.render_backward,
                      &s.gradients,      &s.adam,        &s.densify, &s.other};
  }
};

struct StepStats {
  int iteration = 0;          // 1-based
  int view_index = 0;         // training view used
  double loss = 0;            // total loss, including plug-in terms
  double l1 = 0, ssim = 0;    // photometric terms on this view
  double psnr = 0;            // of the render against this training view
  int64_t num_gaussians = 0;  // after densification
  int64_t pruned = 0;         // removed by the loss terms' pruning and the opacity threshold
  double dropout_rate = 0;    // DropGaussian rate of this step
  int active_sh_degree = 0;
  double seconds = 0;  // wall time of the step
  StepPhases phases;   // the same, by phase
  DensifyStats densify;
};

// Thrown when a loss, gradient or parameter turns NaN or infinite. The model is left as it was
// before the step's update, so a checkpoint written earlier remains the last good state.
class DivergenceError : public Error {
 public:
  DivergenceError(const std::string& message, int iteration, std::string group)
      : Error(message), iteration_(iteration), group_(std::move(group)) {}
  int iteration() const { return iteration_; }
  const std::string& group() const { return group_; }

 private:
  int iteration_;
  std::string group_;
};

class Trainer {
 public:
  // `views`: the training views with their images loaded. `init`: the starting Gaussians.
  Trainer(std::vector<View> views, Gaussians init, const TrainerOptions& options,
          std::unique_ptr<Rasterizer> rasterizer);

  StepStats step();

  int iteration() const { return iteration_; }
  const Gaussians& gaussians() const { return gaussians_; }
  const TrainerOptions& options() const { return options_; }
  const std::vector<View>& views() const { return views_; }
  float scene_extent() const { return extent_; }
  int active_sh_degree() const;
  Rasterizer& rasterizer() { return *rasterizer_; }
  // The position learning rate of `iteration` (1-based), in scene units: the exponential decay
  // from lr.means_initial to lr.means_final over lr.means_max_steps (0: the run's iterations),
  // times the scene extent.
  float means_lr(int iteration) const;

  void add_loss_term(std::unique_ptr<LossTerm> term);

  // Checkpoint of everything a resumed run needs to continue bit-identically: the iteration,
  // Gaussians, optimiser moments, densification statistics, random engine and view order.
  // `metadata` (e.g. the resolved configuration) is stored and returned by load.
  void save_checkpoint(std::ostream& out, const std::string& metadata) const;
  std::string load_checkpoint(std::istream& in, const std::string& what);

 private:
  int next_view();
  void check_finite_gradients(const GaussianGradients& grads) const;
  void apply_densify_result(const DensifyResult& result);
  int64_t prune_after_step();
  double apply_dropout();
  void dropout_backward(double rate);

  std::vector<View> views_;
  Gaussians gaussians_;
  TrainerOptions options_;
  std::unique_ptr<Rasterizer> rasterizer_;
  std::vector<std::unique_ptr<LossTerm>> loss_terms_;
  float extent_ = 1.f;
  int iteration_ = 0;
  std::mt19937_64 rng_;
  std::vector<int> view_stack_;
  Adam adam_;
  std::unique_ptr<AdaptiveDensityControl> adc_;
  std::unique_ptr<McmcDensifier> mcmc_;
  // Scratch reused across steps.
  RenderOutput render_;
  RenderOutputGradients v_render_;
  GaussianGradients grads_;
  GaussianGradients extra_grads_;   // the loss terms' parameter gradients
  Image<float> composited_;         // a masked view's target over the step's background
  std::vector<float> kept_logits_;  // DropGaussian: the true logits while a step renders
  std::vector<uint8_t> dropped_;    // DropGaussian: 1 for the Gaussians dropped this step
};

// A checkpoint's metadata and iteration, read without loading the rest (its checksum, magic and
// version are checked as by Trainer::load_checkpoint). Throws glimpse::Error naming `what`.
struct CheckpointHeader {
  std::string metadata;
  int iteration = 0;
};
CheckpointHeader read_checkpoint_header(std::istream& in, const std::string& what);

// Radius of the camera centres around their mean, times 1.1 (3DGS getNerfppNorm); 1 for a
// single camera.
float scene_extent_of(const std::vector<View>& views);

// The median camera depth of the Gaussians' means over the views in which they lie in front of
// the camera: a scale that follows the scene rather than the camera rig (a forward-facing
// capture's cameras span a small fraction of its depth, a ring around an object about its
// distance). 0 when no mean lies in front of any view.
float scene_depth_of(const std::vector<View>& views, const Gaussians& gaussians);

double psnr_of(const Image<float>& a, const Image<float>& b);

// DropGaussian's opacity compensation on logits: the logit of min(sigmoid(l) c, kMax) for
// c = 1 / (1 - rate), and its VJP (0 where the compensated opacity is clamped).
inline constexpr double kMaxCompensatedOpacity = 0.9999;
template <typename T>
T compensated_logit(T logit, T c) {
  const T o = std::min(c / (T(1) + std::exp(-logit)), T(kMaxCompensatedOpacity));
  return std::log(o / (T(1) - o));
}
template <typename T>
T compensated_logit_vjp(T logit, T c, T v_out) {
  const T o = T(1) / (T(1) + std::exp(-logit));
  const T oc = o * c;
  if (oc >= T(kMaxCompensatedOpacity)) return T(0);
  // d logit(c o) / d l = c o (1 - o) / (c o (1 - c o)) = (1 - o) / (1 - c o).
  return v_out * (T(1) - o) / (T(1) - oc);
}

}  // namespace glimpse
