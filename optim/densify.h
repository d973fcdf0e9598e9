// Densification strategies: adaptive density control (clone, split, prune, opacity reset; 3D
// Gaussian Splatting, Kerbl et al. 2023) and a capped MCMC-style strategy (relocation of dead
// Gaussians and growth by opacity sampling with the binomial opacity/scale correction, noise on
// low-opacity Gaussians, opacity and scale regularisers; 3DGS as MCMC, Kheradmand et al. 2024).
// Both change the number of Gaussians only through a source-index map that the optimiser uses
// to carry its moments along (source >= 0: copy of that Gaussian's state; -1: fresh).
#pragma once

#include "renderer/gaussians.h"
#include "renderer/rasterizer.h"

#include <cstdint>
#include <iosfwd>
#include <random>
#include <vector>

namespace glimpse {

enum class DensifyStrategy {
  None,                    // fixed set of Gaussians
  AdaptiveDensityControl,  // 3DGS clone / split / prune / opacity reset
  Mcmc,                    // capped relocation + growth with noise (3DGS as MCMC)
};

struct AdcOptions {
  int start_iteration = 500;       // first densification
  int stop_iteration = 15000;      // no clone/split/prune from this iteration on
  int every = 100;                 // densify every N iterations
  float grad_threshold = 2e-4f;    // mean NDC-space positional gradient norm that triggers growth
  float percent_dense = 0.01f;     // clone when max scale <= this x scene extent, else split
  float prune_opacity = 0.005f;    // remove Gaussians whose opacity falls below this
  int opacity_reset_every = 3000;  // clamp opacities to 0.01 every N iterations (0: never)
  float max_screen_radius = 20.f;  // after the first reset, prune above this radius (px; 0: off)
  float max_world_scale = 0.1f;    // after the first reset, prune above this x extent (0: off)
  int max_gaussians = 0;           // stop growing at this count (0: unlimited)
  void check() const;
};

struct McmcOptions {
  int cap_max = 300000;        // the number of Gaussians never exceeds this
  int start_iteration = 500;   // first relocation / growth
  int stop_iteration = 25000;  // none from this iteration on
  int every = 100;             // relocate and grow every N iterations
  float min_opacity = 0.005f;  // Gaussians below this are dead and get relocated
  float growth = 0.05f;        // grow by this fraction per refinement, up to cap_max
  float noise_lr = 5e5f;       // position noise scale (times the position learning rate)
  float opacity_reg = 0.01f;   // weight of mean opacity in the loss
  float scale_reg = 0.01f;     // weight of mean scale in the loss
  void check() const;
};

struct DensifyStats {
  int64_t cloned = 0, split = 0, pruned = 0, relocated = 0, added = 0;
  bool opacity_reset = false;
  bool changed() const { return cloned + split + pruned + relocated + added > 0 || opacity_reset; }
};

// What a densification did to the model, for the optimiser.
struct DensifyResult {
  DensifyStats stats;
  std::vector<int64_t> source;         // [new N] source Gaussian of each, -1 = fresh moments
  std::vector<int64_t> reset_moments;  // indices (new numbering) whose moments restart at zero
  bool reset_opacity_moments = false;  // the opacity group's moments restart at zero
};

class AdaptiveDensityControl {
 public:
  AdaptiveDensityControl(const AdcOptions& options, float scene_extent);
  // The gradient and radius statistics, for the rasterizer's backward pass to add each view to.
  ScreenGradientStats* screen_stats() { return &stats_; }
  // After the optimiser step of `iteration` (1-based): densify / prune / reset when due.
  DensifyResult step(int iteration, Gaussians& g, std::mt19937_64& rng);
  void save(std::ostream& out) const;
  void load(std::istream& in, size_t num_gaussians);

 private:
  AdcOptions options_;
  float extent_;
  ScreenGradientStats stats_;  // since the last densification
};

class McmcDensifier {
 public:
  McmcDensifier(const McmcOptions& options, float scene_extent);
  // Adds the opacity and scale regularisers' gradients to `grads`; returns their loss value.
  double add_regularizers(const Gaussians& g, GaussianGradients& grads) const;
  // After the optimiser step: relocation and growth when due, then position noise with the
  // current position learning rate.
  DensifyResult step(int iteration, float means_lr, Gaussians& g, std::mt19937_64& rng);

 private:
  McmcOptions options_;
  float extent_;
};

// opacity_weight * mean(sigmoid(logit)) + scale_weight * mean(exp(log_scale) / scale_unit) over
// every Gaussian and axis (3DGS-MCMC's L1 regularisers): adds the gradients to `grads` (sized
// like `g`) and returns the value.
double add_opacity_scale_regularizers(const Gaussians& g, float opacity_weight, float scale_weight,
                                      float scale_unit, GaussianGradients& grads);

// The needle regulariser: weight * mean over Gaussians of max(0, log(s_max / s_mid) - log(ratio)),
// a hinge on how much longer than wide each Gaussian is (its two largest axes; flat discs are
// free). Sparse views leave long thin Gaussians that explain a training pixel row and cross the
// image in other views. Adds the gradients (to the largest and middle log-scale) and returns the
// value.
double add_needle_regularizer(const Gaussians& g, float weight, float ratio,
                              GaussianGradients& grads);

// Gathers Gaussians by index (the densification building block).
Gaussians gather_gaussians(const Gaussians& g, const std::vector<int64_t>& index);

// New opacity and scale factor when a Gaussian of opacity `o` becomes `n` copies that together
// render like the original (Kheradmand et al. 2024, eq. 9; n >= 1).
void mcmc_relocation(float o, int n, float& new_opacity, float& scale_factor);

// Standard normal samples from a 64-bit engine (Box-Muller): the same on every standard library.
float standard_normal(std::mt19937_64& rng);

}  // namespace glimpse
