// Adam over Gaussian parameter groups: torch.optim.Adam's update written out by hand, selective
// (visible-only) steps, moment resizing after densification and bit-exact checkpoints.
#include "optim/adam.h"

#include "core/check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>

namespace glimpse {
namespace {

using Gd = GaussiansT<double>;
using GradD = GaussianGradientsT<double>;

void fill_random(std::vector<double>& v, std::mt19937& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  for (double& e : v) e = u(rng);
}

Gd random_gaussians(size_t n, int sh_degree, uint32_t seed) {
  Gd g;
  g.sh_degree = sh_degree;
  g.resize(n);
  std::mt19937 rng(seed);
  fill_random(g.means, rng, -1, 1);
  fill_random(g.log_scales, rng, -3, 0);
  fill_random(g.quats, rng, -1, 1);
  fill_random(g.opacity_logits, rng, -2, 2);
  fill_random(g.sh, rng, -1, 1);
  return g;
}

GradD random_gradients(const Gd& g, uint32_t seed) {
  GradD d;
  d.resize_like(g);
  std::mt19937 rng(seed);
  fill_random(d.means, rng, -1, 1);
  fill_random(d.log_scales, rng, -1, 1);
  fill_random(d.quats, rng, -1, 1);
  fill_random(d.opacity_logits, rng, -1, 1);
  fill_random(d.sh, rng, -1, 1);
  return d;
}

GroupLearningRates distinct_rates() {
  GroupLearningRates lr;
  lr.means = 1.6e-4f;
  lr.log_scales = 5e-3f;
  lr.quats = 1e-3f;
  lr.opacity_logits = 2.5e-2f;
  lr.sh_dc = 2.5e-3f;
  lr.sh_rest = 2.5e-3f / 20;
  return lr;
}

// Group and learning rate of value j of Gaussian i in each parameter array (sh: [N, K, 3]).
double rate_for_sh(const GroupLearningRates& lr, size_t j_in_gaussian) {
  return j_in_gaussian < 3 ? lr.sh_dc : lr.sh_rest;
}

// torch.optim.Adam (single tensor, no weight decay, no amsgrad) written out for one value.
struct TorchAdamScalar {
  double beta1, beta2, eps;
  double m = 0, v = 0;
  int t = 0;
  double step(double p, double g, double lr) {
    ++t;
    m = m + (1 - beta1) * (g - m);        // exp_avg.lerp_(grad, 1 - beta1)
    v = v * beta2 + (1 - beta2) * g * g;  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    const double bias_correction1 = 1 - std::pow(beta1, t);
    const double bias_correction2 = 1 - std::pow(beta2, t);
    const double step_size = lr / bias_correction1;
    const double denom = std::sqrt(v) / std::sqrt(bias_correction2) + eps;
    return p + (-step_size) * (m / denom);  // param.addcdiv_(exp_avg, denom, value=-step_size)
  }
};

TEST(Adam, HandWorkedTwoSteps) {
  // One Gaussian, gradient 0.5 then -0.25 on its opacity, lr 2^-7: the first step moves by
  // exactly -lr sign(g); the second by lr * m_hat / (sqrt(v_hat) + eps) (values from the formulas
  // with beta1 = 0.9f, beta2 = 0.999f as doubles).
  Gd g;
  g.resize(1);
  g.opacity_logits[0] = 1.0;
  GradD d;
  d.opacity_logits = {0.5};
  GroupLearningRates lr;
  lr.opacity_logits = 0.0078125f;
  AdamT<double> adam;
  adam.step(g, d, lr);
  EXPECT_DOUBLE_EQ(g.opacity_logits[0], 0.9921875);
  EXPECT_DOUBLE_EQ(adam.exp_avg(AdamGroup::kOpacityLogits)[0], 0.050000011920928955);
  EXPECT_DOUBLE_EQ(adam.exp_avg_sq(AdamGroup::kOpacityLogits)[0], 0.00024999678134918213);
  d.opacity_logits = {-0.25};
  adam.step(g, d, lr);
  EXPECT_DOUBLE_EQ(adam.exp_avg(AdamGroup::kOpacityLogits)[0], 0.020000003576278402);
  EXPECT_DOUBLE_EQ(adam.exp_avg_sq(AdamGroup::kOpacityLogits)[0], 0.00031224598312373786);
  EXPECT_NEAR(g.opacity_logits[0], 0.9901067419795895, 1e-15);
  EXPECT_EQ(adam.step_count(AdamGroup::kOpacityLogits), 2);
  // Groups without gradients were skipped: parameters untouched, no steps counted.
  EXPECT_EQ(adam.step_count(AdamGroup::kMeans), 0);
  EXPECT_EQ(g.quats[0], 1.0);
}

TEST(Adam, MatchesTorchFormulasOnEveryGroup) {
  const size_t n = 5;
  Gd g = random_gaussians(n, 2, 1);  // K = 9: sh_dc 3 values, sh_rest 24
  const Gd g0 = g;
  const GradD d1 = random_gradients(g, 2), d2 = random_gradients(g, 3);
  const GroupLearningRates lr1 = distinct_rates();
  GroupLearningRates lr2 = lr1;
  lr2.means = 1.2e-4f;  // a scheduled rate changes between steps
  AdamOptions options;
  AdamT<double> adam(options);
  adam.step(g, d1, lr1);
  adam.step(g, d2, lr2);

  auto expect_group = [&](const std::vector<double>& p0, const std::vector<double>& p,
                          const std::vector<double>& g1, const std::vector<double>& g2, size_t per,
                          auto rate_of, const char* name) {
    ASSERT_EQ(p.size(), per * n);
    for (size_t i = 0; i < p.size(); ++i) {
      TorchAdamScalar ref{options.beta1, options.beta2, options.eps};
      double x = ref.step(p0[i], g1[i], rate_of(lr1, i % per));
      x = ref.step(x, g2[i], rate_of(lr2, i % per));
      ASSERT_NEAR(p[i], x, 1e-15 * std::max(1.0, std::abs(x))) << name << " value " << i;
      ASSERT_NE(p[i], p0[i]) << name << " value " << i << " did not move";
    }
  };
  expect_group(
      g0.means, g.means, d1.means, d2.means, 3,
      [](const GroupLearningRates& lr, size_t) { return double{lr.means}; }, "means");
  expect_group(
      g0.log_scales, g.log_scales, d1.log_scales, d2.log_scales, 3,
      [](const GroupLearningRates& lr, size_t) { return double{lr.log_scales}; }, "log_scales");
  expect_group(
      g0.quats, g.quats, d1.quats, d2.quats, 4,
      [](const GroupLearningRates& lr, size_t) { return double{lr.quats}; }, "quats");
  expect_group(
      g0.opacity_logits, g.opacity_logits, d1.opacity_logits, d2.opacity_logits, 1,
      [](const GroupLearningRates& lr, size_t) { return double{lr.opacity_logits}; },
      "opacity_logits");
  expect_group(g0.sh, g.sh, d1.sh, d2.sh, 27, rate_for_sh, "sh");
  for (AdamGroup group : kAdamGroups) EXPECT_EQ(adam.step_count(group), 2);
  EXPECT_EQ(adam.width(AdamGroup::kShDc), 3);
  EXPECT_EQ(adam.width(AdamGroup::kShRest), 24);
}

TEST(Adam, VisibleOnlyUpdateLeavesInvisibleUntouched) {
  const size_t n = 6;
  Gd sparse = random_gaussians(n, 1, 4);
  Gd dense = sparse;
  const Gd start = sparse;
  const std::vector<uint8_t> visible = {1, 0, 1, 1, 0, 0};
  AdamT<double> sparse_adam, dense_adam;
  for (uint32_t s = 0; s < 3; ++s) {
    const GradD d = random_gradients(start, 10 + s);
    sparse_adam.step(sparse, d, distinct_rates(), &visible);
    dense_adam.step(dense, d, distinct_rates());
  }
  for (AdamGroup group : kAdamGroups) EXPECT_EQ(sparse_adam.step_count(group), 3);
  auto check_array = [&](const std::vector<double>& p, const std::vector<double>& p0,
                         const std::vector<double>& pd, size_t per, const char* name) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < per; ++j) {
        const size_t k = i * per + j;
        if (visible[i])  // same step counts and gradients: the dense result, bit for bit
          EXPECT_EQ(p[k], pd[k]) << name << " of visible Gaussian " << i;
        else
          EXPECT_EQ(p[k], p0[k]) << name << " of invisible Gaussian " << i;
      }
  };
  check_array(sparse.means, start.means, dense.means, 3, "means");
  check_array(sparse.log_scales, start.log_scales, dense.log_scales, 3, "log_scales");
  check_array(sparse.quats, start.quats, dense.quats, 4, "quats");
  check_array(sparse.opacity_logits, start.opacity_logits, dense.opacity_logits, 1, "opacity");
  check_array(sparse.sh, start.sh, dense.sh, 12, "sh");
  for (AdamGroup group : kAdamGroups) {
    const int w = sparse_adam.width(group);
    for (size_t i = 0; i < n; ++i)
      for (int j = 0; j < w; ++j) {
        const double m = sparse_adam.exp_avg(group)[i * w + j];
        const double v = sparse_adam.exp_avg_sq(group)[i * w + j];
        if (visible[i]) {
          EXPECT_EQ(m, dense_adam.exp_avg(group)[i * w + j]);
          EXPECT_GT(v, 0.0);
        } else {
          EXPECT_EQ(m, 0.0) << adam_group_name(group) << " Gaussian " << i;
          EXPECT_EQ(v, 0.0) << adam_group_name(group) << " Gaussian " << i;
        }
      }
  }
  const std::vector<uint8_t> wrong_size(n + 1, 1);
  EXPECT_THROW(sparse_adam.step(sparse, random_gradients(start, 1), distinct_rates(), &wrong_size),
               Error);
}

TEST(Adam, ResizeKeepsMomentsOfSources) {
  Gd g = random_gaussians(3, 1, 5);
  AdamT<double> adam;
  adam.step(g, random_gradients(g, 6), distinct_rates());
  const AdamT<double> before = adam;
  const std::vector<int64_t> source = {2, -1, 0, 0};
  adam.resize(source);
  EXPECT_EQ(adam.num_gaussians(), 4u);
  for (AdamGroup group : kAdamGroups) {
    EXPECT_EQ(adam.step_count(group), 1);
    const int w = adam.width(group);
    ASSERT_EQ(adam.exp_avg(group).size(), 4u * w);
    for (size_t k = 0; k < source.size(); ++k)
      for (int j = 0; j < w; ++j) {
        const double m = adam.exp_avg(group)[k * w + j];
        const double v = adam.exp_avg_sq(group)[k * w + j];
        if (source[k] < 0) {
          EXPECT_EQ(m, 0.0);
          EXPECT_EQ(v, 0.0);
        } else {
          EXPECT_EQ(m, before.exp_avg(group)[source[k] * w + j]);
          EXPECT_EQ(v, before.exp_avg_sq(group)[source[k] * w + j]);
          EXPECT_NE(v, 0.0);
        }
      }
  }
  // The parameters must now have 4 Gaussians.
  EXPECT_THROW(adam.step(g, random_gradients(g, 7), distinct_rates()), Error);
  g.resize(4);
  EXPECT_NO_THROW(adam.step(g, random_gradients(g, 7), distinct_rates()));
  EXPECT_EQ(adam.step_count(AdamGroup::kMeans), 2);
  EXPECT_THROW(adam.resize({0, 4}), Error);  // source out of range
  // Pruning to nothing is allowed.
  adam.resize({});
  EXPECT_EQ(adam.num_gaussians(), 0u);
}

TEST(Adam, ResetMoments) {
  Gd g = random_gaussians(4, 0, 8);
  AdamT<double> adam;
  adam.step(g, random_gradients(g, 9), distinct_rates());
  adam.reset_moments(AdamGroup::kQuats, {1, 3});
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(adam.exp_avg(AdamGroup::kQuats)[4 * i + j] == 0.0, i == 1 || i == 3);
  adam.reset_moments(AdamGroup::kOpacityLogits);
  for (double v : adam.exp_avg_sq(AdamGroup::kOpacityLogits)) EXPECT_EQ(v, 0.0);
  for (double v : adam.exp_avg_sq(AdamGroup::kMeans)) EXPECT_NE(v, 0.0);
  EXPECT_EQ(adam.step_count(AdamGroup::kOpacityLogits), 1);
  EXPECT_THROW(adam.reset_moments(AdamGroup::kQuats, {4}), Error);
  EXPECT_EQ(adam.width(AdamGroup::kShRest), 0);  // degree 0: no rest coefficients
}

TEST(Adam, SaveLoadRoundTripIsBitExact) {
  Gd g = random_gaussians(7, 3, 11);
  const GradD d = random_gradients(g, 12);
  AdamT<double> adam(AdamOptions{0.85f, 0.995f, 1e-12f});
  adam.step(g, d, distinct_rates());
  GradD partial = d;
  partial.quats.clear();  // quats skip a step: step counts differ per group
  adam.step(g, partial, distinct_rates());

  std::stringstream buffer;
  adam.save(buffer);
  const std::string bytes = buffer.str();
  AdamT<double> loaded;
  std::istringstream in(bytes);
  loaded.load(in);
  EXPECT_EQ(loaded.options().beta1, 0.85f);
  EXPECT_EQ(loaded.options().beta2, 0.995f);
  EXPECT_EQ(loaded.options().eps, 1e-12f);
  EXPECT_EQ(loaded.num_gaussians(), 7u);
  EXPECT_EQ(loaded.sh_coeffs(), 16);
  EXPECT_EQ(loaded.step_count(AdamGroup::kQuats), 1);
  EXPECT_EQ(loaded.step_count(AdamGroup::kMeans), 2);
  for (AdamGroup group : kAdamGroups) {
    ASSERT_EQ(loaded.exp_avg(group).size(), adam.exp_avg(group).size());
    EXPECT_EQ(std::memcmp(loaded.exp_avg(group).data(), adam.exp_avg(group).data(),
                          adam.exp_avg(group).size() * sizeof(double)),
              0);
    EXPECT_EQ(std::memcmp(loaded.exp_avg_sq(group).data(), adam.exp_avg_sq(group).data(),
                          adam.exp_avg_sq(group).size() * sizeof(double)),
              0);
  }
  // Continuing from the checkpoint gives the same bits as continuing the original.
  Gd g1 = g, g2 = g;
  adam.step(g1, d, distinct_rates());
  loaded.step(g2, d, distinct_rates());
  EXPECT_EQ(std::memcmp(g1.sh.data(), g2.sh.data(), g1.sh.size() * sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(g1.means.data(), g2.means.data(), g1.means.size() * sizeof(double)), 0);
  std::stringstream again;
  loaded.step(g2, d, distinct_rates());
  adam.step(g1, d, distinct_rates());
  adam.save(again);
  std::stringstream again_loaded;
  loaded.save(again_loaded);
  EXPECT_EQ(again.str(), again_loaded.str());

  // An uninitialised optimiser round-trips too.
  std::stringstream empty_buffer;
  AdamT<double>().save(empty_buffer);
  AdamT<double> empty_loaded;
  empty_loaded.load(empty_buffer);
  EXPECT_FALSE(empty_loaded.initialized());
}

TEST(Adam, LoadRejectsTruncatedAndForeignInput) {
  Gd g = random_gaussians(3, 1, 13);
  AdamT<double> adam;
  adam.step(g, random_gradients(g, 14), distinct_rates());
  std::stringstream buffer;
  adam.save(buffer);
  const std::string bytes = buffer.str();
  const AdamT<double> reference = adam;
  for (size_t len = 0; len < bytes.size(); ++len) {
    AdamT<double> target = reference;
    std::istringstream in(bytes.substr(0, len));
    EXPECT_THROW(target.load(in), Error) << "prefix of " << len << " bytes";
    // A failed load leaves the optimiser as it was.
    ASSERT_EQ(target.exp_avg(AdamGroup::kMeans), reference.exp_avg(AdamGroup::kMeans));
  }
  std::string wrong_tag = bytes;
  wrong_tag[0] = 'X';
  std::istringstream in_tag(wrong_tag);
  EXPECT_THROW(adam.load(in_tag), Error);
  std::string wrong_version = bytes;
  wrong_version[8] = 9;
  std::istringstream in_version(wrong_version);
  EXPECT_THROW(adam.load(in_version), Error);
  // A double-precision state cannot be loaded into the float optimiser.
  Adam float_adam;
  std::istringstream in_scalar(bytes);
  EXPECT_THROW(float_adam.load(in_scalar), Error);
}

TEST(Adam, FloatStepMatchesDouble) {
  const Gd gd = random_gaussians(1000, 3, 15);
  Gaussians gf = gd.cast<float>();
  Gd g = gd;
  AdamT<double> adam_d;
  Adam adam_f;
  for (uint32_t s = 0; s < 3; ++s) {
    const GradD d = random_gradients(gd, 20 + s);
    GaussianGradients df;
    df.resize_like(gf);
    df.means.assign(d.means.begin(), d.means.end());
    df.log_scales.assign(d.log_scales.begin(), d.log_scales.end());
    df.quats.assign(d.quats.begin(), d.quats.end());
    df.opacity_logits.assign(d.opacity_logits.begin(), d.opacity_logits.end());
    df.sh.assign(d.sh.begin(), d.sh.end());
    adam_d.step(g, d, distinct_rates());
    adam_f.step(gf, df, distinct_rates());
  }
  for (size_t i = 0; i < g.sh.size(); ++i) ASSERT_NEAR(gf.sh[i], g.sh[i], 1e-6);
  for (size_t i = 0; i < g.means.size(); ++i) ASSERT_NEAR(gf.means[i], g.means[i], 1e-6);
}

TEST(Adam, OptionsAndLearningRatesAreChecked) {
  EXPECT_THROW(Adam(AdamOptions{1.0f, 0.999f, 1e-15f}), Error);
  EXPECT_THROW(Adam(AdamOptions{0.9f, -0.1f, 1e-15f}), Error);
  EXPECT_THROW(Adam(AdamOptions{0.9f, 0.999f, -1.0f}), Error);
  Gd g = random_gaussians(2, 0, 16);
  GroupLearningRates lr = distinct_rates();
  lr.quats = -1e-3f;
  AdamT<double> adam;
  EXPECT_THROW(adam.step(g, random_gradients(g, 17), lr), Error);
  EXPECT_FALSE(adam.initialized());  // validation happens before any state changes
  GradD bad = random_gradients(g, 17);
  bad.means.pop_back();
  EXPECT_THROW(adam.step(g, bad, distinct_rates()), Error);
}

}  // namespace
}  // namespace glimpse

namespace glimpse {
namespace {

// Skipping SH bands the ramp-up has not reached is exactly the full update: their gradients and
// moments are zero, so the full update leaves them as they are. Once a band is active it updates.
TEST(Adam, SkippingInactiveShBandsIsExact) {
  for (const int active_coeffs : {1, 4, 9}) {
    Gd full = random_gaussians(5000, 3, 21);  // more than one parallel chunk
    Gd skipped = full;
    AdamT<double> a, b;
    for (int step = 0; step < 3; ++step) {
      GradD d = random_gradients(full, 100 + step);
      // The rasterizer's gradients of inactive bands are exactly zero.
      const int k = full.sh_coeffs();
      for (size_t i = 0; i < full.size(); ++i)
        for (int c = 3 * active_coeffs; c < 3 * k; ++c) d.sh[i * 3 * k + c] = 0.0;
      a.step(full, d, distinct_rates());
      const AdamStepResult r = b.step(skipped, d, distinct_rates(), nullptr, active_coeffs);
      EXPECT_TRUE(r.finite);
    }
    EXPECT_EQ(full.sh, skipped.sh) << active_coeffs << " active coefficients";
    EXPECT_EQ(full.means, skipped.means);
    EXPECT_EQ(a.exp_avg(AdamGroup::kShRest), b.exp_avg(AdamGroup::kShRest));
    EXPECT_EQ(a.exp_avg_sq(AdamGroup::kShRest), b.exp_avg_sq(AdamGroup::kShRest));
    EXPECT_EQ(a.exp_avg(AdamGroup::kShDc), b.exp_avg(AdamGroup::kShDc));
  }
}

// The update reports the first parameter it made NaN or infinite, by group and Gaussian.
TEST(Adam, StepReportsTheFirstNonFiniteParameter) {
  Gd g = random_gaussians(9000, 1, 5);
  GradD d = random_gradients(g, 6);
  AdamT<double> adam;
  EXPECT_TRUE(adam.step(g, d, distinct_rates()).finite);
  d.log_scales[3 * 8200 + 1] = std::numeric_limits<double>::quiet_NaN();
  d.log_scales[3 * 4100 + 2] = std::numeric_limits<double>::infinity();
  AdamStepResult r = adam.step(g, d, distinct_rates());
  EXPECT_FALSE(r.finite);
  EXPECT_EQ(r.group, AdamGroup::kLogScales);
  EXPECT_EQ(r.gaussian, 4100);
  // The strided path (SH) and the visible-only path report too.
  Gd h = random_gaussians(300, 2, 7);
  GradD e = random_gradients(h, 8);
  e.sh[h.sh_coeffs() * 3 * 17 + 5] = std::numeric_limits<double>::quiet_NaN();
  std::vector<uint8_t> visible(h.size(), 1);
  AdamT<double> other;
  r = other.step(h, e, distinct_rates(), &visible);
  EXPECT_FALSE(r.finite);
  EXPECT_EQ(r.group, AdamGroup::kShRest);
  EXPECT_EQ(r.gaussian, 17);
}

}  // namespace
}  // namespace glimpse
