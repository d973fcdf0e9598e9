// Adam (Kingma & Ba 2015) over the Gaussian parameter groups of 3D Gaussian Splatting, with the
// update and bias correction of torch.optim.Adam, the visible-only ("selective"/sparse) update of
// Taming 3DGS and gsplat, moment resizing for densification and bit-exact checkpoints.
#pragma once

#include "renderer/gaussians.h"

#include <array>
#include <cstdint>
#include <iosfwd>
#include <vector>

namespace glimpse {

// Parameter groups, each with its own learning rate, step count and moments. sh_dc is the first
// SH coefficient (3 values) of each Gaussian, sh_rest the remaining (K - 1) x 3.
enum class AdamGroup : int { kMeans, kLogScales, kQuats, kOpacityLogits, kShDc, kShRest };
inline constexpr int kNumAdamGroups = 6;
inline constexpr std::array<AdamGroup, kNumAdamGroups> kAdamGroups = {
    AdamGroup::kMeans,         AdamGroup::kLogScales, AdamGroup::kQuats,
    AdamGroup::kOpacityLogits, AdamGroup::kShDc,      AdamGroup::kShRest};

// "means", "log_scales", "quats", "opacity_logits", "sh_dc", "sh_rest".
const char* adam_group_name(AdamGroup group);

// Values per Gaussian in a group, for `sh_coeffs` SH coefficients per channel.
int adam_group_width(AdamGroup group, int sh_coeffs);

struct AdamOptions {
  float beta1 = 0.9f;    // decay of the first moment (torch default)
  float beta2 = 0.999f;  // decay of the second moment (torch default)
  float eps = 1e-15f;    // added to sqrt(v_hat); 3DGS uses 1e-15 instead of torch's 1e-8

  // Throws glimpse::Error unless 0 <= beta1, beta2 < 1 and eps >= 0 (all finite).
  void check() const;
};

// Learning rate of every group for one step (the trainer evaluates its schedules each step).
struct GroupLearningRates {
  float means = 0;           // position (3DGS: exponential schedule times the scene extent)
  float log_scales = 0;      // 3DGS: 0.005
  float quats = 0;           // 3DGS: 0.001
  float opacity_logits = 0;  // 3DGS: 0.025 (0.05 in the first release)
  float sh_dc = 0;           // 3DGS: 0.0025
  float sh_rest = 0;         // 3DGS: 0.0025 / 20

  float get(AdamGroup group) const;
};

// What an Adam step found in the parameters it wrote.
struct AdamStepResult {
  bool finite = true;                   // every updated parameter is finite
  AdamGroup group = AdamGroup::kMeans;  // else: the group of the first non-finite value
  int64_t gaussian = -1;                // and its Gaussian
};

// Adam state for one GaussiansT<T>: per group, a step count and first/second moments laid out
// [N, width] (contiguous per Gaussian). Moments start at zero on the first step (as torch's lazy
// state); after densification call resize() before the next step. Updates run over Gaussians in
// fixed chunks on ThreadPool::global(); every element is independent, so results are
// deterministic.
template <typename T>
class AdamT {
 public:
  explicit AdamT(const AdamOptions& options = {});

  const AdamOptions& options() const { return options_; }

  // One Adam step on every group whose gradient array is non-empty (an empty array is torch's
  // `grad is None`: that group is skipped and its step count does not advance). Per element, with
  // t the group's step count after incrementing:
  //   m <- m + (1 - beta1) (g - m);  v <- beta2 v + (1 - beta2) g^2
  //   p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
  // exactly as torch.optim.Adam (bias corrections in double). With `visible` ([N], non-zero =
  // visible), only visible Gaussians update their moments and parameters (selective Adam); the
  // step count still advances once per call. Throws glimpse::Error on shape mismatches (including
  // a Gaussian count that differs from the moments': call resize() after densification).
  //
  // `active_sh_coeffs` (>= 1; -1: all) skips the SH coefficients from that index on: the trainer's
  // SH ramp-up has never made them active, so their gradients are zero and their moments too,
  // and the full update would leave them exactly as they are (m = v = 0, p += 0 / (0 + eps));
  // with eps = 0 nothing is skipped (0 / 0 would be NaN, as in torch). The update checks what it
  // writes: the result names the first parameter that came out NaN or infinite, if any (the
  // caller need not scan the parameters again).
  AdamStepResult step(GaussiansT<T>& params, const GaussianGradientsT<T>& grads,
                      const GroupLearningRates& lr, const std::vector<uint8_t>* visible = nullptr,
                      int active_sh_coeffs = -1);

  // Rebuilds the moments after densification or pruning: new Gaussian k takes the moments of old
  // Gaussian source_index[k], or zero moments when source_index[k] < 0. Step counts are kept (as
  // 3DGS's cat/prune of optimizer state). Before the first step there are no moments: no-op.
  void resize(const std::vector<int64_t>& source_index);

  // Zeroes the moments of a group for all Gaussians (3DGS's opacity reset) or for `indices`.
  void reset_moments(AdamGroup group);
  void reset_moments(AdamGroup group, const std::vector<int64_t>& indices);

  // Forgets all state (moments and step counts), as a freshly constructed optimiser.
  void clear();

  bool initialized() const { return initialized_; }
  size_t num_gaussians() const { return num_gaussians_; }
  int sh_coeffs() const { return sh_coeffs_; }
  int64_t step_count(AdamGroup group) const { return group_state(group).step; }
  int width(AdamGroup group) const { return group_state(group).width; }
  const std::vector<T>& exp_avg(AdamGroup group) const { return group_state(group).exp_avg; }
  const std::vector<T>& exp_avg_sq(AdamGroup group) const { return group_state(group).exp_avg_sq; }

  // Binary checkpoint of the options and the complete state (versioned, native little-endian).
  // load() replaces this optimiser's state only after the whole record was read; it throws
  // glimpse::Error on a wrong tag or version, another scalar type, inconsistent sizes or
  // truncation.
  void save(std::ostream& out) const;
  void load(std::istream& in);

 private:
  struct Group {
    int64_t step = 0;
    int width = 0;              // values per Gaussian
    std::vector<T> exp_avg;     // [N, width] first moment
    std::vector<T> exp_avg_sq;  // [N, width] second moment
  };

  const Group& group_state(AdamGroup group) const { return groups_[static_cast<int>(group)]; }
  Group& group_state(AdamGroup group) { return groups_[static_cast<int>(group)]; }
  void initialize(size_t n, int sh_coeffs);

  AdamOptions options_;
  bool initialized_ = false;
  size_t num_gaussians_ = 0;
  int sh_coeffs_ = 0;
  std::array<Group, kNumAdamGroups> groups_;
};

using Adam = AdamT<float>;

}  // namespace glimpse
