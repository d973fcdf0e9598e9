// Training end to end on a synthetic capture with a known answer; determinism, bit-identical
// resume, the divergence guard and option checks.
#include "optim/trainer.h"

#include "core/float_mode.h"
#include "core/timer.h"
#include "optim/densify.h"
#include "optim/losses.h"
#include "tests/support/errors.h"
#include "tests/support/synthetic_rig.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace glimpse {
namespace {

using testing::error_of;
using testing::random_init;
using testing::render_ring;
using testing::textured_sphere;

constexpr int kSize = 64;

const Gaussians& truth() {
  static const Gaussians g = textured_sphere(4000, 7);
  return g;
}

TrainerOptions fast_options(int iterations) {
  TrainerOptions o;
  o.iterations = iterations;
  o.sh_degree = 1;
  o.sh_increase_every = 500;
  o.lr.means_max_steps = iterations;
  o.adc.start_iteration = std::min(100, iterations / 4);
  o.adc.every = 100;
  o.adc.stop_iteration = iterations * 3 / 4;
  o.adc.opacity_reset_every = 1000;
  o.adc.grad_threshold = 2e-4f;
  return o;
}

double held_out_psnr(const Gaussians& g, const std::vector<View>& test) {
  CpuRasterizerT<float> r(0);
  double sum = 0;
  for (const View& v : test) {
    RenderOutputT<float> out;
    RenderOptions ro;
    ro.sh_degree = g.sh_degree;
    r.forward(g, v.camera.cast<float>(), ro, out);
    sum += psnr_of(out.rgb, v.image);
  }
  return sum / static_cast<double>(test.size());
}

TEST(Trainer, NineViewsReachHeldOutPsnr) {
  const auto train = render_ring(truth(), 9, 2, 0, kSize);  // 18 ring slots, even ones
  const auto test = render_ring(truth(), 3, 6, 3, kSize);   // odd slots between them
  const Gaussians init = random_init(3000, 1);
  const TrainerOptions options = fast_options(1500);
  Trainer trainer(train, init, options, make_cpu_rasterizer(0));
  const double before = held_out_psnr(trainer.gaussians(), test);
  Timer timer;
  StepStats last;
  for (int i = 0; i < options.iterations; ++i) last = trainer.step();
  const double after = held_out_psnr(trainer.gaussians(), test);
  std::printf(
      "9 views: held-out PSNR %.2f dB -> %.2f dB, %lld Gaussians, %d iterations in %.1f s\n",
      before, after, static_cast<long long>(last.num_gaussians), options.iterations,
      timer.seconds());
  EXPECT_GE(after, 28.0);
}

TEST(Trainer, ThreeViewsStayFiniteAndImprove) {
  const auto train = render_ring(truth(), 3, 6, 0, kSize);
  const auto test = render_ring(truth(), 3, 6, 3, kSize);
  const TrainerOptions options = fast_options(400);
  Trainer trainer(train, random_init(2000, 2), options, make_cpu_rasterizer(0));
  const double before = held_out_psnr(trainer.gaussians(), test);
  for (int i = 0; i < options.iterations; ++i) {
    const StepStats s = trainer.step();
    ASSERT_TRUE(std::isfinite(s.loss)) << "iteration " << s.iteration;
  }
  const double after = held_out_psnr(trainer.gaussians(), test);
  std::printf("3 views: held-out PSNR %.2f dB -> %.2f dB\n", before, after);
  EXPECT_GT(after, before + 1.0);
  EXPECT_NO_THROW(trainer.gaussians().check());
}

std::vector<float> flatten(const Gaussians& g) {
  std::vector<float> v = g.means;
  for (auto* a : {&g.log_scales, &g.quats, &g.opacity_logits, &g.sh})
    v.insert(v.end(), a->begin(), a->end());
  return v;
}

TEST(Trainer, StepPhasesAccountForTheStep) {
  const auto train = render_ring(truth(), 3, 6, 0, 48);
  TrainerOptions options = fast_options(20);
  options.adc.start_iteration = 5;
  options.adc.every = 5;
  Trainer t(train, random_init(800, 3), options, make_cpu_rasterizer(2));
  StepPhases sum;
  double seconds = 0;
  for (int i = 0; i < options.iterations; ++i) {
    const StepStats s = t.step();
    EXPECT_LE(s.phases.total(), s.seconds * 1.0001 + 1e-6);
    sum += s.phases;
    seconds += s.seconds;
  }
  // The laps cover the step (the parts not timed are a few clock reads).
  EXPECT_GT(sum.total(), 0.95 * seconds);
  EXPECT_GT(sum.render_forward, 0.0);
  EXPECT_GT(sum.render_backward, 0.0);
  EXPECT_GT(sum.photometric, 0.0);
  EXPECT_GT(sum.adam, 0.0);
  EXPECT_GT(sum.densify, 0.0);           // ADC is on
  EXPECT_LT(sum.terms, 0.05 * seconds);  // no plug-in term
}

// The position learning rate decays from means_initial to means_final over means_max_steps, or
// over the run's iterations when that is 0.
TEST(Trainer, PositionLearningRateDecaysOverTheRunWhenMaxStepsIsZero) {
  const auto train = render_ring(truth(), 3, 6, 0, 48);
  TrainerOptions options = fast_options(400);
  options.lr.means_initial = 1e-3f;
  options.lr.means_final = 1e-5f;
  auto lr_at = [&](int max_steps, int iteration) {
    TrainerOptions o = options;
    o.lr.means_max_steps = max_steps;
    Trainer t(train, truth(), o, make_cpu_rasterizer(1));
    return t.means_lr(iteration) / t.scene_extent();
  };
  EXPECT_NEAR(lr_at(0, 0), 1e-3f, 1e-9f);
  EXPECT_NEAR(lr_at(0, 400), 1e-5f, 1e-10f);  // the end of the run
  EXPECT_NEAR(lr_at(0, 200), 1e-4f, 1e-9f);   // log-linear: halfway is the geometric mean
  EXPECT_FLOAT_EQ(lr_at(0, 250), lr_at(400, 250));
  EXPECT_GT(lr_at(30000, 400), 9e-4f);  // a 30000-step decay has barely begun
  options.lr.means_max_steps = -1;
  EXPECT_THROW(Trainer(train, truth(), options, make_cpu_rasterizer(1)), Error);
}

TEST(Trainer, DeterministicForSeedAndThreads) {
  const auto train = render_ring(truth(), 3, 6, 0, 48);
  TrainerOptions options = fast_options(250);
  options.adc.start_iteration = 50;
  options.adc.every = 50;
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    Trainer t(train, random_init(800, 3), options, make_cpu_rasterizer(2));
    for (int i = 0; i < options.iterations; ++i) t.step();
    if (run == 0)
      first = flatten(t.gaussians());
    else
      EXPECT_EQ(first, flatten(t.gaussians()));
  }
}

TEST(Trainer, ResumeIsBitIdentical) {
  const auto train = render_ring(truth(), 3, 6, 0, 48);
  TrainerOptions options = fast_options(240);
  options.adc.start_iteration = 40;
  options.adc.every = 40;
  options.adc.opacity_reset_every = 160;
  options.random_background = true;
  Trainer straight(train, random_init(800, 4), options, make_cpu_rasterizer(2));
  for (int i = 0; i < 240; ++i) straight.step();

  std::stringstream checkpoint;
  {
    Trainer first_half(train, random_init(800, 4), options, make_cpu_rasterizer(2));
    for (int i = 0; i < 130; ++i) first_half.step();  // mid-epoch, after densifications
    first_half.save_checkpoint(checkpoint, "{\"test\": 1}");
  }
  Trainer resumed(train, random_init(10, 99), options, make_cpu_rasterizer(2));
  EXPECT_EQ(resumed.load_checkpoint(checkpoint, "memory"), "{\"test\": 1}");
  EXPECT_EQ(resumed.iteration(), 130);
  for (int i = 130; i < 240; ++i) resumed.step();
  EXPECT_EQ(flatten(straight.gaussians()), flatten(resumed.gaussians()));
}

TEST(Trainer, CorruptCheckpointIsRejected) {
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  Trainer t(train, random_init(100, 5), fast_options(10), make_cpu_rasterizer(1));
  t.step();
  std::stringstream good;
  t.save_checkpoint(good, "m");
  const std::string bytes = good.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() / 2));
  try {
    t.load_checkpoint(truncated, "ckpt.bin");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt.bin"), std::string::npos) << e.what();
  }
  std::stringstream garbage("not a checkpoint at all");
  EXPECT_THROW(t.load_checkpoint(garbage, "x"), Error);
  // One flipped bit anywhere (here in the middle of the Gaussians, where the parser alone would
  // accept it) is caught by the CRC-32 trailer before anything is used.
  for (const size_t at : {bytes.size() / 2, size_t{20}, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    std::stringstream in(flipped);
    try {
      t.load_checkpoint(in, "ckpt.bin");
      FAIL() << "no error for a flipped bit at byte " << at;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("ckpt.bin: the checkpoint is corrupt (its CRC-32"),
                std::string::npos)
          << e.what();
    }
  }
  std::stringstream longer(bytes + "extra");
  EXPECT_THROW(t.load_checkpoint(longer, "x"), Error);
  std::stringstream intact(bytes);
  EXPECT_EQ(t.load_checkpoint(intact, "x"), "m");
  // Empty arrays (densification statistics before the first step) are part of the checksum too
  // (zlib's crc32 restarts on a null buffer: the sum must skip empty writes).
  TrainerOptions adc = fast_options(10);
  adc.strategy = DensifyStrategy::AdaptiveDensityControl;
  Trainer fresh(train, random_init(100, 5), adc, make_cpu_rasterizer(1));
  std::stringstream fresh_bytes;
  fresh.save_checkpoint(fresh_bytes, "fresh");
  EXPECT_EQ(fresh.load_checkpoint(fresh_bytes, "x"), "fresh");
  EXPECT_EQ(t.iteration(), 1);  // a failed load leaves the trainer as it was
}

// A loss term that returns NaN at a chosen iteration.
class PoisonTerm : public LossTerm {
 public:
  explicit PoisonTerm(int at) : at_(at) {}
  std::string name() const override { return "poison"; }
  double evaluate(const LossContext& c, RenderOutputGradients&, GaussianGradients& v) override {
    if (c.iteration == at_) v.means[0] = NAN;
    return 0.0;
  }

 private:
  int at_;
};

TEST(Trainer, DivergenceIsReportedWithGroupAndIteration) {
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  Trainer t(train, random_init(100, 6), fast_options(50), make_cpu_rasterizer(1));
  t.add_loss_term(std::make_unique<PoisonTerm>(5));
  for (int i = 0; i < 4; ++i) t.step();
  const std::vector<float> before = flatten(t.gaussians());
  try {
    t.step();
    FAIL() << "no divergence reported";
  } catch (const DivergenceError& e) {
    EXPECT_EQ(e.iteration(), 5);
    EXPECT_EQ(e.group(), "means");
    EXPECT_NE(std::string(e.what()).find("iteration 5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(before, flatten(t.gaussians())) << "a diverging step must not change the model";
}

// A loss term that records whether subnormals are flushed while the trainer evaluates it.
class FloatModeProbe : public LossTerm {
 public:
  std::string name() const override { return "float_mode_probe"; }
  double evaluate(const LossContext&, RenderOutputGradients&, GaussianGradients&) override {
    seen.push_back(flush_denormals_enabled());
    return 0.0;
  }
  std::vector<bool> seen;
};

// A step flushes subnormals (options.flush_denormals, on by default) and gives the thread its
// own mode back; switched off, the step keeps IEEE gradual underflow.
TEST(Trainer, StepsFlushSubnormalsAndRestoreTheThreadsMode) {
  if (!flush_denormals_supported()) GTEST_SKIP() << "no subnormal flushing on this target";
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  ASSERT_FALSE(flush_denormals_enabled());
  for (const bool flush : {true, false}) {
    TrainerOptions o = fast_options(3);
    EXPECT_TRUE(o.flush_denormals) << "on by default";
    o.flush_denormals = flush;
    Trainer t(train, random_init(100, 6), o, make_cpu_rasterizer(2));
    auto probe = std::make_unique<FloatModeProbe>();
    FloatModeProbe* seen = probe.get();
    t.add_loss_term(std::move(probe));
    for (int i = 0; i < 3; ++i) {
      t.step();
      EXPECT_FALSE(flush_denormals_enabled()) << "step " << i << " left the thread flushing";
    }
    EXPECT_EQ(seen->seen, std::vector<bool>(3, flush)) << "flush_denormals " << flush;
  }
}

TEST(Trainer, RejectsBadOptions) {
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  EXPECT_NO_THROW(Trainer(train, random_init(10, 1), fast_options(10), make_cpu_rasterizer(1)));
  TrainerOptions o = fast_options(10);
  o.iterations = 0;
  EXPECT_THROW(Trainer(train, random_init(10, 1), o, make_cpu_rasterizer(1)), Error);
  o = fast_options(10);
  o.dssim_lambda = 2;
  EXPECT_THROW(Trainer(train, random_init(10, 1), o, make_cpu_rasterizer(1)), Error);
  o = fast_options(10);
  o.lr.opacity = -1;
  EXPECT_THROW(Trainer(train, random_init(10, 1), o, make_cpu_rasterizer(1)), Error);
  EXPECT_THROW(Trainer({}, random_init(10, 1), fast_options(10), make_cpu_rasterizer(1)), Error);
}

// A position rate that overflows float once scaled by the scene is refused when the trainer is
// made, naming the rate and the extent, not at the first step.
TEST(Trainer, RefusesAPositionRateThatOverflowsWithTheSceneExtent) {
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  TrainerOptions o = fast_options(10);
  o.scene_extent = 1e30f;
  o.lr.means_initial = 1e20f;
  const std::string message =
      error_of([&] { Trainer(train, random_init(10, 1), o, make_cpu_rasterizer(1)); });
  EXPECT_HAS(message, "position learning rate 1e+20");
  EXPECT_HAS(message, "scene extent 1e+30");
  o.lr.means_initial = 1e-3f;  // the same extent with a finite product is accepted
  EXPECT_NO_THROW(Trainer(train, random_init(10, 1), o, make_cpu_rasterizer(1)));
}

TEST(Trainer, McmcKeepsTheCap) {
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  TrainerOptions o = fast_options(300);
  o.strategy = DensifyStrategy::Mcmc;
  o.mcmc.cap_max = 900;
  o.mcmc.start_iteration = 50;
  o.mcmc.every = 50;
  Trainer t(train, random_init(600, 8), o, make_cpu_rasterizer(1));
  int64_t max_count = 0;
  for (int i = 0; i < o.iterations; ++i) max_count = std::max(max_count, t.step().num_gaussians);
  EXPECT_LE(max_count, 900);
  EXPECT_GT(max_count, 600);
}

// opacity_weight * mean(opacity) + scale_weight * mean(scale / unit): its value in closed form
// and its gradients against central differences (float parameters, so a loose tolerance).
TEST(Regularizers, OpacityAndScaleMatchFiniteDifferences) {
  Gaussians g = random_init(7, 3);
  for (size_t i = 0; i < g.size(); ++i) {
    g.opacity_logits[i] = -1.5f + 0.5f * static_cast<float>(i);
    for (int c = 0; c < 3; ++c) g.log_scales[3 * i + c] = -2.f + 0.3f * static_cast<float>(c + i);
  }
  const float wo = 0.3f, ws = 0.7f, unit = 2.5f;
  auto value = [&](const Gaussians& m) {
    GaussianGradients unused;
    unused.resize_like(m);
    return add_opacity_scale_regularizers(m, wo, ws, unit, unused);
  };
  GaussianGradients grads;
  grads.resize_like(g);
  const double loss = add_opacity_scale_regularizers(g, wo, ws, unit, grads);
  double expected = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    expected += wo / 7.0 / (1.0 + std::exp(-static_cast<double>(g.opacity_logits[i])));
    for (int c = 0; c < 3; ++c)
      expected += ws / 21.0 * std::exp(static_cast<double>(g.log_scales[3 * i + c])) / unit;
  }
  EXPECT_NEAR(loss, expected, 1e-6 * expected);
  const float h = 1e-2f;
  for (size_t i = 0; i < g.size(); ++i) {
    Gaussians p = g, m = g;
    p.opacity_logits[i] += h;
    m.opacity_logits[i] -= h;
    EXPECT_NEAR(grads.opacity_logits[i], (value(p) - value(m)) / (2 * h), 2e-5) << i;
    for (int c = 0; c < 3; ++c) {
      Gaussians ps = g, ms = g;
      ps.log_scales[3 * i + c] += h;
      ms.log_scales[3 * i + c] -= h;
      EXPECT_NEAR(grads.log_scales[3 * i + c], (value(ps) - value(ms)) / (2 * h), 2e-5) << i;
    }
  }
  EXPECT_THROW(add_opacity_scale_regularizers(g, wo, ws, 0.f, grads), Error);
}

// weight * mean(max(0, log(s_max / s_mid) - log(ratio))): its value for Gaussians on both sides of
// the hinge (needles, flat discs, round ones), and its gradients against central differences.
TEST(Regularizers, NeedleMatchesFiniteDifferences) {
  Gaussians g = random_init(6, 5);
  const float log_scales[6][3] = {{0.f, -3.f, -3.5f},    // needle: ratio e^3 = 20
                                  {-3.f, -3.2f, 0.5f},   // needle along z
                                  {0.f, -0.2f, -4.f},    // flat disc: free
                                  {-1.f, -1.1f, -1.2f},  // round: free
                                  {-2.f, 0.4f, -1.f},    // ratio e^1.4 = 4: below the hinge
                                  {1.f, -2.5f, -2.f}};   // needle, middle axis is z
  for (size_t i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) g.log_scales[3 * i + c] = log_scales[i][c];
  const float w = 0.6f, ratio = 5.f;
  auto value = [&](const Gaussians& m) {
    GaussianGradients unused;
    unused.resize_like(m);
    return add_needle_regularizer(m, w, ratio, unused);
  };
  GaussianGradients grads;
  grads.resize_like(g);
  const double loss = add_needle_regularizer(g, w, ratio, grads);
  const double lr = std::log(5.0);
  const double expected = w / 6.0 * ((3.0 - lr) + (3.5 - lr) + (3.0 - lr));
  EXPECT_NEAR(loss, expected, 1e-6);
  const float h = 1e-2f;
  for (size_t i = 0; i < g.size(); ++i)
    for (int c = 0; c < 3; ++c) {
      Gaussians ps = g, ms = g;
      ps.log_scales[3 * i + c] += h;
      ms.log_scales[3 * i + c] -= h;
      EXPECT_NEAR(grads.log_scales[3 * i + c], (value(ps) - value(ms)) / (2 * h), 2e-5)
          << i << " " << c;
    }
  EXPECT_FLOAT_EQ(grads.log_scales[0], w / 6.f);
  EXPECT_FLOAT_EQ(grads.log_scales[1], -w / 6.f);
  EXPECT_EQ(grads.log_scales[2], 0.f);
  EXPECT_THROW(add_needle_regularizer(g, w, 0.5f, grads), Error);
}

// In training, the opacity regulariser lowers the opacities and the scale regulariser the
// scales against the same run without them; both are refused when negative.
TEST(Trainer, OpacityAndScaleRegularizersPullTheirParametersDown) {
  const auto train = render_ring(truth(), 3, 6, 0, 32);
  TrainerOptions o = fast_options(120);
  o.strategy = DensifyStrategy::None;
  auto run = [&](float opacity_reg, float scale_reg) {
    TrainerOptions r = o;
    r.opacity_reg = opacity_reg;
    r.scale_reg = scale_reg;
    Trainer t(train, random_init(400, 5), r, make_cpu_rasterizer(1));
    for (int i = 0; i < r.iterations; ++i) t.step();
    double opacity = 0, scale = 0;
    const Gaussians& g = t.gaussians();
    for (size_t i = 0; i < g.size(); ++i) {
      opacity += 1.0 / (1.0 + std::exp(-static_cast<double>(g.opacity_logits[i])));
      for (int c = 0; c < 3; ++c) scale += std::exp(static_cast<double>(g.log_scales[3 * i + c]));
    }
    return std::pair{opacity / g.size(), scale / g.size()};
  };
  const auto [o0, s0] = run(0.f, 0.f);
  const auto [o1, s1] = run(0.5f, 0.f);
  const auto [o2, s2] = run(0.f, 50.f);
  EXPECT_LT(o1, 0.9 * o0);
  EXPECT_LT(s2, 0.9 * s0);
  o.opacity_reg = -1.f;
  EXPECT_THROW(Trainer(train, random_init(10, 5), o, make_cpu_rasterizer(1)), Error);
}

TEST(Mcmc, RelocationPreservesOpacityOfTheSum) {
  // n copies of opacity o' composite to the original opacity: 1 - (1 - o')^n = o.
  for (float o : {0.1f, 0.5f, 0.9f})
    for (int n : {1, 2, 5}) {
      float no, factor;
      mcmc_relocation(o, n, no, factor);
      EXPECT_NEAR(1.0 - std::pow(1.0 - no, n), o, 1e-5);
      if (n == 1) {
        EXPECT_NEAR(factor, 1.f, 1e-5);
      } else {
        EXPECT_GT(factor, 0.f);
      }
    }
}

}  // namespace
}  // namespace glimpse
