// Adaptive density control and the MCMC-style strategy.
#include "optim/densify.h"

#include "core/check.h"
#include "renderer/kernels/covariance.h"

#include <algorithm>
#include <cmath>
#include <istream>
#include <numeric>
#include <ostream>

namespace glimpse {
namespace {

float logit(float p) {
  p = std::clamp(p, 1e-6f, 1.f - 1e-6f);
  return std::log(p / (1.f - p));
}

template <typename V>
void write_vec(std::ostream& out, const std::vector<V>& v) {
  const uint64_t n = v.size();
  out.write(reinterpret_cast<const char*>(&n), sizeof(n));
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(n * sizeof(V)));
}

template <typename V>
void read_vec(std::istream& in, std::vector<V>& v, size_t expected, const char* what) {
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), sizeof(n));
  GLIMPSE_CHECK(in && n == expected) << "checkpoint: densification state '" << what << "' has " << n
                                     << " entries, expected " << expected;
  v.resize(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(V)));
  GLIMPSE_CHECK(in) << "checkpoint: densification state '" << what << "' is truncated";
}

// Samples `count` indices with probability proportional to weights (with replacement).
std::vector<int64_t> sample_proportional(const std::vector<float>& weights, int64_t count,
                                         std::mt19937_64& rng) {
  std::vector<double> cdf(weights.size());
  double total = 0;
  for (size_t i = 0; i < weights.size(); ++i) cdf[i] = (total += std::max(0.f, weights[i]));
  std::vector<int64_t> out;
  if (total <= 0) return out;
  out.reserve(count);
  for (int64_t k = 0; k < count; ++k) {
    const double u = (static_cast<double>(rng() >> 11) / 9007199254740992.0) * total;
    const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
    out.push_back(std::min<int64_t>(it - cdf.begin(), static_cast<int64_t>(cdf.size()) - 1));
  }
  return out;
}

}  // namespace

float standard_normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) / 9007199254740993.0;  // (0, 1]
  const double u2 = static_cast<double>(rng() >> 11) / 9007199254740992.0;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

void AdcOptions::check() const {
  GLIMPSE_CHECK(every > 0) << "densify: every must be > 0, got " << every;
  GLIMPSE_CHECK(start_iteration >= 0 && stop_iteration >= start_iteration)
      << "densify: need 0 <= start_iteration <= stop_iteration, got " << start_iteration << ", "
      << stop_iteration;
  GLIMPSE_CHECK(grad_threshold > 0)
      << "densify: grad_threshold must be > 0, got " << grad_threshold;
  GLIMPSE_CHECK(percent_dense > 0) << "densify: percent_dense must be > 0, got " << percent_dense;
  GLIMPSE_CHECK(prune_opacity >= 0 && prune_opacity < 1)
      << "densify: prune_opacity must be in [0, 1), got " << prune_opacity;
  GLIMPSE_CHECK(opacity_reset_every >= 0) << "densify: opacity_reset_every must be >= 0";
  GLIMPSE_CHECK(max_screen_radius >= 0 && max_world_scale >= 0 && max_gaussians >= 0)
      << "densify: size limits must be >= 0";
}

void McmcOptions::check() const {
  GLIMPSE_CHECK(cap_max > 0) << "mcmc: cap_max must be > 0, got " << cap_max;
  GLIMPSE_CHECK(every > 0) << "mcmc: every must be > 0, got " << every;
  GLIMPSE_CHECK(start_iteration >= 0 && stop_iteration >= start_iteration)
      << "mcmc: need 0 <= start_iteration <= stop_iteration";
  GLIMPSE_CHECK(min_opacity >= 0 && min_opacity < 1) << "mcmc: min_opacity must be in [0, 1)";
  GLIMPSE_CHECK(growth >= 0) << "mcmc: growth must be >= 0";
  GLIMPSE_CHECK(noise_lr >= 0 && opacity_reg >= 0 && scale_reg >= 0)
      << "mcmc: noise_lr and regulariser weights must be >= 0";
}

Gaussians gather_gaussians(const Gaussians& g, const std::vector<int64_t>& index) {
  Gaussians r;
  r.sh_degree = g.sh_degree;
  r.resize(index.size());
  const int k3 = 3 * g.sh_coeffs();
  for (size_t j = 0; j < index.size(); ++j) {
    const size_t i = static_cast<size_t>(index[j]);
    std::copy_n(&g.means[3 * i], 3, &r.means[3 * j]);
    std::copy_n(&g.log_scales[3 * i], 3, &r.log_scales[3 * j]);
    std::copy_n(&g.quats[4 * i], 4, &r.quats[4 * j]);
    r.opacity_logits[j] = g.opacity_logits[i];
    std::copy_n(&g.sh[k3 * i], k3, &r.sh[k3 * j]);
  }
  return r;
}

// [SECTION] adaptive density control
// ---------------------------------------------------------------
AdaptiveDensityControl::AdaptiveDensityControl(const AdcOptions& options, float scene_extent)
    : options_(options), extent_(scene_extent) {
  options_.check();
  GLIMPSE_CHECK(scene_extent > 0) << "densify: scene extent must be > 0, got " << scene_extent;
}

DensifyResult AdaptiveDensityControl::step(int iteration, Gaussians& g, std::mt19937_64& rng) {
  DensifyResult result;
  const size_t n = g.size();
  if (stats_.size() != n) stats_.reset(n);
  const bool densify_now = iteration > options_.start_iteration &&
                           iteration < options_.stop_iteration && iteration % options_.every == 0;
  if (densify_now) {
    const bool after_reset =
        options_.opacity_reset_every > 0 && iteration > options_.opacity_reset_every;
    const bool may_grow = options_.max_gaussians == 0 ||
                          static_cast<int64_t>(n) < static_cast<int64_t>(options_.max_gaussians);
    const float dense_limit = options_.percent_dense * extent_;
    std::vector<int64_t> index;  // gather map of the new model
    std::vector<int64_t> source;
    std::vector<int8_t> split_child;  // 1 for the children of a split (placed below)
    index.reserve(n + n / 4);
    for (size_t i = 0; i < n; ++i) {
      const float grad =
          stats_.views[i] > 0 ? stats_.grad_norm_sum[i] / static_cast<float>(stats_.views[i]) : 0.f;
      const float max_scale = std::exp(
          std::max({g.log_scales[3 * i], g.log_scales[3 * i + 1], g.log_scales[3 * i + 2]}));
      const bool grow = may_grow && grad >= options_.grad_threshold;
      if (grow && max_scale > dense_limit) {  // split into two smaller samples
        for (int c = 0; c < 2; ++c) {
          index.push_back(static_cast<int64_t>(i));
          source.push_back(-1);
          split_child.push_back(1);
        }
        ++result.stats.split;
        continue;
      }
      index.push_back(static_cast<int64_t>(i));
      source.push_back(static_cast<int64_t>(i));
      split_child.push_back(0);
      if (grow) {  // clone: an identical copy that the next gradients pull apart
        index.push_back(static_cast<int64_t>(i));
        source.push_back(-1);
        split_child.push_back(0);
        ++result.stats.cloned;
      }
    }
    Gaussians grown = gather_gaussians(g, index);
    // Split children: positions sampled from the parent's Gaussian, scales divided by 1.6.
    for (size_t j = 0; j < index.size(); ++j) {
      if (!split_child[j]) continue;
      const Quat<float> q{grown.quats[4 * j], grown.quats[4 * j + 1], grown.quats[4 * j + 2],
                          grown.quats[4 * j + 3]};
      const Mat3<float> r = quat_to_rotmat(normalize_quat(q));
      Vec3<float> local;
      for (int c = 0; c < 3; ++c)
        local[c] = standard_normal(rng) * std::exp(grown.log_scales[3 * j + c]);
      const Vec3<float> offset = r * local;
      for (int c = 0; c < 3; ++c) {
        grown.means[3 * j + c] += offset[c];
        grown.log_scales[3 * j + c] -= std::log(1.6f);
      }
    }
    // Prune: transparent, and (after the first opacity reset) too large on screen or in the world.
    std::vector<int64_t> keep;
    std::vector<int64_t> kept_source;
    for (size_t j = 0; j < index.size(); ++j) {
      const float opacity = sigmoid(grown.opacity_logits[j]);
      bool prune = opacity < options_.prune_opacity;
      if (after_reset && source[j] >= 0) {
        const size_t i = static_cast<size_t>(source[j]);
        if (options_.max_screen_radius > 0 && stats_.max_radius[i] > options_.max_screen_radius)
          prune = true;
        const float max_scale = std::exp(std::max(
            {grown.log_scales[3 * j], grown.log_scales[3 * j + 1], grown.log_scales[3 * j + 2]}));
        if (options_.max_world_scale > 0 && max_scale > options_.max_world_scale * extent_)
          prune = true;
      }
      if (prune) {
        ++result.stats.pruned;
        continue;
      }
      keep.push_back(static_cast<int64_t>(j));
      kept_source.push_back(source[j]);
    }
    g = gather_gaussians(grown, keep);
    result.source = std::move(kept_source);
    stats_.reset(g.size());
  }
  if (options_.opacity_reset_every > 0 && iteration % options_.opacity_reset_every == 0 &&
      iteration < options_.stop_iteration) {
    const float cap = logit(0.01f);
    for (float& l : g.opacity_logits) l = std::min(l, cap);
    result.stats.opacity_reset = true;
    result.reset_opacity_moments = true;
  }
  return result;
}

void AdaptiveDensityControl::save(std::ostream& out) const {
  write_vec(out, stats_.grad_norm_sum);
  write_vec(out, stats_.views);
  write_vec(out, stats_.max_radius);
}

void AdaptiveDensityControl::load(std::istream& in, size_t num_gaussians) {
  uint64_t peek = 0;
  // Statistics are either empty (fresh) or sized like the model.
  const auto pos = in.tellg();
  in.read(reinterpret_cast<char*>(&peek), sizeof(peek));
  in.seekg(pos);
  const size_t n = peek == 0 ? 0 : num_gaussians;
  read_vec(in, stats_.grad_norm_sum, n, "gradient sums");
  read_vec(in, stats_.views, n, "view counts");
  read_vec(in, stats_.max_radius, n, "max radii");
}

// [SECTION] MCMC
// ------------------------------------------------------------------------------------
void mcmc_relocation(float o, int n, float& new_opacity, float& scale_factor) {
  n = std::clamp(n, 1, 51);
  const double opacity = std::clamp(static_cast<double>(o), 1e-6, 1.0 - 1e-6);
  const double no = 1.0 - std::pow(1.0 - opacity, 1.0 / n);
  // denom = sum_{i=1..n} sum_{k=0..i-1} C(i-1, k) (-1)^k no^(k+1) / sqrt(k+1)
  double denom = 0;
  for (int i = 1; i <= n; ++i) {
    double binom = 1;  // C(i-1, k)
    for (int k = 0; k <= i - 1; ++k) {
      denom += binom * ((k % 2) ? -1.0 : 1.0) * std::pow(no, k + 1) / std::sqrt(k + 1.0);
      binom = binom * (i - 1 - k) / (k + 1);
    }
  }
  new_opacity = static_cast<float>(no);
  scale_factor = static_cast<float>(opacity / denom);
}

McmcDensifier::McmcDensifier(const McmcOptions& options, float scene_extent)
    : options_(options), extent_(scene_extent) {
  options_.check();
}

double add_opacity_scale_regularizers(const Gaussians& g, float opacity_weight, float scale_weight,
                                      float scale_unit, GaussianGradients& grads) {
  GLIMPSE_CHECK(scale_unit > 0.f) << "scale regulariser: the scale unit must be > 0, got "
                                  << scale_unit;
  const size_t n = g.size();
  if (n == 0) return 0;
  double loss = 0;
  const float wo = opacity_weight / static_cast<float>(n);
  const float ws = scale_weight / (static_cast<float>(3 * n) * scale_unit);
  // A term whose weight is 0 is skipped (it adds nothing): the training step runs this every
  // iteration, and the scale term's exponentials are most of its cost.
  if (opacity_weight != 0.f)
    for (size_t i = 0; i < n; ++i) {
      const float o = sigmoid(g.opacity_logits[i]);
      loss += static_cast<double>(wo) * o;
      grads.opacity_logits[i] += wo * o * (1.f - o);
    }
  if (scale_weight != 0.f)
    for (size_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c) {
        const float s = std::exp(g.log_scales[3 * i + c]);
        loss += static_cast<double>(ws) * s;
        grads.log_scales[3 * i + c] += ws * s;
      }
  return loss;
}

double add_needle_regularizer(const Gaussians& g, float weight, float ratio,
                              GaussianGradients& grads) {
  GLIMPSE_CHECK(ratio >= 1.f && std::isfinite(ratio))
      << "needle regulariser: the ratio must be >= 1, got " << ratio;
  const size_t n = g.size();
  if (n == 0 || weight == 0.f) return 0;
  const float w = weight / static_cast<float>(n), log_ratio = std::log(ratio);
  double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* l = &g.log_scales[3 * i];
    // The largest and the middle axis (ties: the lower index counts as the larger).
    int hi = 0;
    for (int c = 1; c < 3; ++c)
      if (l[c] > l[hi]) hi = c;
    const int a = (hi + 1) % 3, b = (hi + 2) % 3;
    const int mid = l[a] >= l[b] ? a : b;
    const float excess = l[hi] - l[mid] - log_ratio;
    if (excess <= 0.f) continue;
    loss += static_cast<double>(w) * excess;
    grads.log_scales[3 * i + hi] += w;
    grads.log_scales[3 * i + mid] -= w;
  }
  return loss;
}

double McmcDensifier::add_regularizers(const Gaussians& g, GaussianGradients& grads) const {
  return add_opacity_scale_regularizers(g, options_.opacity_reg, options_.scale_reg, 1.f, grads);
}

DensifyResult McmcDensifier::step(int iteration, float means_lr, Gaussians& g,
                                  std::mt19937_64& rng) {
  DensifyResult result;
  const bool refine = iteration > options_.start_iteration && iteration < options_.stop_iteration &&
                      iteration % options_.every == 0;
  if (refine) {
    const size_t n = g.size();
    std::vector<float> opacity(n);
    for (size_t i = 0; i < n; ++i) opacity[i] = sigmoid(g.opacity_logits[i]);
    std::vector<int64_t> source(n);
    std::iota(source.begin(), source.end(), 0);
    // Copies per sampled Gaussian: relocations of dead ones, then growth.
    std::vector<int32_t> copies(n, 0);
    std::vector<int64_t> dead;
    std::vector<float> live_weight(n);
    for (size_t i = 0; i < n; ++i) {
      const bool is_dead = opacity[i] <= options_.min_opacity;
      if (is_dead) dead.push_back(static_cast<int64_t>(i));
      live_weight[i] = is_dead ? 0.f : opacity[i];
    }
    const std::vector<int64_t> reloc_targets =
        sample_proportional(live_weight, static_cast<int64_t>(dead.size()), rng);
    const int64_t target_count = std::min<int64_t>(
        options_.cap_max, static_cast<int64_t>(std::floor((1.0 + options_.growth) * n)));
    const int64_t n_add = std::max<int64_t>(0, target_count - static_cast<int64_t>(n));
    const std::vector<int64_t> add_targets = sample_proportional(live_weight, n_add, rng);
    for (int64_t t : reloc_targets) ++copies[t];
    for (int64_t t : add_targets) ++copies[t];
    // Update every sampled Gaussian: it and its copies share its opacity and scale.
    for (size_t i = 0; i < n; ++i) {
      if (copies[i] == 0) continue;
      float new_o, factor;
      mcmc_relocation(opacity[i], copies[i] + 1, new_o, factor);
      g.opacity_logits[i] = logit(std::max(new_o, options_.min_opacity));
      for (int c = 0; c < 3; ++c) g.log_scales[3 * i + c] += std::log(factor);
      result.reset_moments.push_back(static_cast<int64_t>(i));
    }
    // Dead Gaussians become copies of their targets (same slot); growth appends copies.
    const Gaussians snapshot = g;
    const int k3 = 3 * g.sh_coeffs();
    for (size_t d = 0; d < reloc_targets.size(); ++d) {
      const size_t dst = static_cast<size_t>(dead[d]), src = static_cast<size_t>(reloc_targets[d]);
      std::copy_n(&snapshot.means[3 * src], 3, &g.means[3 * dst]);
      std::copy_n(&snapshot.log_scales[3 * src], 3, &g.log_scales[3 * dst]);
      std::copy_n(&snapshot.quats[4 * src], 4, &g.quats[4 * dst]);
      g.opacity_logits[dst] = snapshot.opacity_logits[src];
      std::copy_n(&snapshot.sh[k3 * src], k3, &g.sh[k3 * dst]);
      result.reset_moments.push_back(static_cast<int64_t>(dst));
    }
    result.stats.relocated = static_cast<int64_t>(reloc_targets.size());
    if (!add_targets.empty()) {
      std::vector<int64_t> index(n);
      std::iota(index.begin(), index.end(), 0);
      index.insert(index.end(), add_targets.begin(), add_targets.end());
      g = gather_gaussians(g, index);
      source.resize(index.size(), -1);
      result.stats.added = static_cast<int64_t>(add_targets.size());
    }
    result.source = std::move(source);
    std::sort(result.reset_moments.begin(), result.reset_moments.end());
    result.reset_moments.erase(
        std::unique(result.reset_moments.begin(), result.reset_moments.end()),
        result.reset_moments.end());
  }
  // Noise: mostly on low-opacity Gaussians, shaped by each one's covariance.
  if (options_.noise_lr > 0 && iteration < options_.stop_iteration) {
    const float scale = options_.noise_lr * means_lr;
    for (size_t i = 0; i < g.size(); ++i) {
      const float o = sigmoid(g.opacity_logits[i]);
      const float gate = 1.f / (1.f + std::exp(-100.f * ((1.f - o) - 0.995f)));
      const Vec3<float> eps{standard_normal(rng), standard_normal(rng), standard_normal(rng)};
      if (gate * scale == 0.f) continue;
      const Mat3<float> cov = covariance_from_params(
          Quat<float>{g.quats[4 * i], g.quats[4 * i + 1], g.quats[4 * i + 2], g.quats[4 * i + 3]},
          Vec3<float>{g.log_scales[3 * i], g.log_scales[3 * i + 1], g.log_scales[3 * i + 2]});
      const Vec3<float> d = cov * eps;
      for (int c = 0; c < 3; ++c) g.means[3 * i + c] += gate * scale * d[c];
    }
  }
  return result;
}

}  // namespace glimpse
