// CoR-GS co-regularisation: pseudo cameras, the co-pruning neighbour test, the second field's
// lockstep and determinism, and that the pseudo-view term makes the two fields agree.
#include "optim/co_regularization.h"

#include "core/check.h"
#include "optim/losses.h"
#include "tests/support/synthetic_rig.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace glimpse {
namespace {

using testing::random_init;
using testing::render_ring;
using testing::textured_sphere;

Camera look_camera(double angle, int width, int height) {
  Camera c;
  c.width = width, c.height = height;
  c.fx = c.fy = 60.0;
  c.cx = width / 2.0, c.cy = height / 2.0;
  const double s = std::sin(angle), co = std::cos(angle);
  // Rotation about y by `angle`, the camera 4 units from the origin looking at it.
  c.rotation.m[0][0] = co, c.rotation.m[0][1] = 0, c.rotation.m[0][2] = -s;
  c.rotation.m[1][0] = 0, c.rotation.m[1][1] = 1, c.rotation.m[1][2] = 0;
  c.rotation.m[2][0] = s, c.rotation.m[2][1] = 0, c.rotation.m[2][2] = co;
  c.translation = Vec3<double>{0.0, 0.0, 4.0};
  return c;
}

double max_abs_difference(const Mat3<double>& a, const Mat3<double>& b) {
  double d = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) d = std::max(d, std::abs(a.m[i][j] - b.m[i][j]));
  return d;
}

TEST(CoRegularization, InterpolatedCameraRunsFromOneCameraToTheOther) {
  const Camera a = look_camera(0.0, 80, 60), b = look_camera(0.8, 80, 60);
  const Camera at0 = interpolated_camera(a, b, 0.0, 1), at1 = interpolated_camera(a, b, 1.0, 1);
  EXPECT_LT(max_abs_difference(at0.rotation, a.rotation), 1e-12);
  EXPECT_LT(max_abs_difference(at1.rotation, b.rotation), 1e-12);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(at0.translation[k], a.translation[k], 1e-12);
    EXPECT_NEAR(at1.translation[k], b.translation[k], 1e-12);
  }
  // Halfway: the rotation by half the angle, the centre at the midpoint, a valid camera.
  const Camera mid = interpolated_camera(a, b, 0.5, 1);
  EXPECT_LT(max_abs_difference(mid.rotation, look_camera(0.4, 80, 60).rotation), 1e-12);
  const Vec3<double> c = mid.center(), ca = a.center(), cb = b.center();
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(c[k], 0.5 * (ca[k] + cb[k]), 1e-12);
  EXPECT_NO_THROW(check_camera(mid, "midway camera"));
  // Downscaled: half the size, intrinsics with it.
  const Camera half = interpolated_camera(a, b, 0.25, 2);
  EXPECT_EQ(half.width, 40);
  EXPECT_EQ(half.height, 30);
  EXPECT_DOUBLE_EQ(half.fx, 30.0);
  EXPECT_DOUBLE_EQ(half.cx, 20.0);
}

TEST(CoRegularization, PseudoCamerasAreDeterministicAndBetweenTheViews) {
  std::vector<View> views(3);
  for (int i = 0; i < 3; ++i) views[i].camera = look_camera(0.3 * i, 64, 48);
  CoRegularizationOptions o;
  o.downscale = 2;
  double lo = 1e9, hi = -1e9;
  for (int it = 1; it <= 200; ++it) {
    const Camera c = pseudo_camera(views, 7, it, o);
    const Camera again = pseudo_camera(views, 7, it, o);
    EXPECT_EQ(max_abs_difference(c.rotation, again.rotation), 0.0);
    EXPECT_EQ(c.width, 32);
    // Every camera looks along a y rotation in [0, 0.6] (no extrapolation).
    const double angle = std::atan2(c.rotation.m[2][0], c.rotation.m[0][0]);
    lo = std::min(lo, angle), hi = std::max(hi, angle);
  }
  EXPECT_GE(lo, -1e-9);
  EXPECT_LE(hi, 0.6 + 1e-9);
  EXPECT_GT(hi - lo, 0.4);  // and they spread over the range
  const Camera other_seed = pseudo_camera(views, 8, 1, o);
  const Camera same_seed = pseudo_camera(views, 7, 1, o);
  EXPECT_GT(max_abs_difference(other_seed.rotation, same_seed.rotation) +
                std::abs(other_seed.translation[0] - same_seed.translation[0]),
            0.0);
}

TEST(CoRegularization, WithoutCounterpartMatchesBruteForce) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> a(3 * 500), b(3 * 400);
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng);
  const float d = 0.12f;
  const std::vector<uint8_t> lonely = without_counterpart(a, b, d);
  int count = 0;
  for (size_t i = 0; i < 500; ++i) {
    bool near = false;
    for (size_t k = 0; k < 400 && !near; ++k) {
      const float x = a[3 * i] - b[3 * k], y = a[3 * i + 1] - b[3 * k + 1],
                  z = a[3 * i + 2] - b[3 * k + 2];
      near = x * x + y * y + z * z <= d * d;
    }
    EXPECT_EQ(lonely[i], near ? 0 : 1) << "point " << i;
    count += lonely[i];
  }
  EXPECT_GT(count, 10);  // the case tests both answers
  EXPECT_LT(count, 490);
  EXPECT_EQ(without_counterpart(a, {}, d), std::vector<uint8_t>(500, 1));
  EXPECT_THROW(without_counterpart(a, b, 0.f), Error);
}

TrainerOptions small_options(int iterations) {
  TrainerOptions o;
  o.iterations = iterations;
  o.sh_degree = 0;
  o.strategy = DensifyStrategy::None;
  o.random_background = true;
  o.dropout_rate = 0.2f;
  o.lr.means_max_steps = 0;
  o.seed = 5;
  return o;
}

// Mean photometric disagreement of the two fields over pseudo views (not the ones trained on).
double disagreement(const Gaussians& a, const Gaussians& b, const std::vector<View>& views) {
  CpuRasterizerT<float> r(0);
  CoRegularizationOptions o;
  o.downscale = 1;
  double sum = 0;
  const int n = 12;
  for (int k = 0; k < n; ++k) {
    const Camera c = pseudo_camera(views, 1234, k + 1, o);
    RenderOutputT<float> ra, rb;
    RenderOptions ro;
    r.forward(a, c.cast<float>(), ro, ra);
    r.forward(b, c.cast<float>(), ro, rb);
    sum += photometric_loss(ra.rgb, rb.rgb).l1;
  }
  return sum / n;
}

struct CoRun {
  Gaussians leader, partner;
  int partner_iteration = 0;
};

struct CoTrainer {
  std::unique_ptr<Trainer> trainer;
  CoRegularizationLoss* term = nullptr;
};

CoTrainer make_co_trainer(float weight, int iterations, int prune_every = 0) {
  static const Gaussians truth = textured_sphere(3000, 11);
  const auto views = render_ring(truth, 3, 6, 0, 48);
  const Gaussians init = random_init(1500, 4);
  const TrainerOptions options = small_options(iterations);
  CoRegularizationOptions co;
  co.weight = weight;
  co.downscale = 1;
  co.prune_every = prune_every;
  co.prune_distance = 0.02f;
  auto term =
      std::make_unique<CoRegularizationLoss>(views, init, options, make_cpu_rasterizer(0),
                                             make_cpu_rasterizer(0), make_cpu_rasterizer(0), co);
  CoTrainer t;
  t.term = term.get();
  t.trainer = std::make_unique<Trainer>(views, init, options, make_cpu_rasterizer(0));
  t.trainer->add_loss_term(std::move(term));
  return t;
}

CoRun co_train(float weight, int iterations) {
  CoTrainer t = make_co_trainer(weight, iterations);
  for (int i = 0; i < iterations; ++i) t.trainer->step();
  return {t.trainer->gaussians(), t.term->partner()->gaussians(), t.term->partner()->iteration()};
}

TEST(CoRegularization, TheSecondFieldStepsInLockstepAndRunsAreDeterministic) {
  const CoRun a = co_train(1.f, 30), b = co_train(1.f, 30);
  EXPECT_EQ(a.partner_iteration, 30);
  EXPECT_EQ(a.leader.means, b.leader.means);
  EXPECT_EQ(a.partner.opacity_logits, b.partner.opacity_logits);
  // The second field runs under its own seed (view order, backgrounds, dropout): it differs.
  EXPECT_NE(a.leader.means, a.partner.means);
}

TEST(CoRegularization, AResumedRunContinuesBothFieldsBitIdentically) {
  const int total = 24, half = 12;
  CoTrainer straight = make_co_trainer(1.f, total, 8);
  for (int i = 0; i < total; ++i) straight.trainer->step();
  CoTrainer first = make_co_trainer(1.f, total, 8);
  for (int i = 0; i < half; ++i) first.trainer->step();
  std::stringstream checkpoint;
  first.trainer->save_checkpoint(checkpoint, "co");
  CoTrainer resumed = make_co_trainer(1.f, total, 8);
  EXPECT_EQ(resumed.trainer->load_checkpoint(checkpoint, "co checkpoint"), "co");
  EXPECT_EQ(resumed.term->partner()->iteration(), half);
  for (int i = half; i < total; ++i) resumed.trainer->step();
  EXPECT_EQ(resumed.trainer->gaussians().means, straight.trainer->gaussians().means);
  EXPECT_EQ(resumed.term->partner()->gaussians().means,
            straight.term->partner()->gaussians().means);
  EXPECT_EQ(resumed.term->partner()->gaussians().size(),
            straight.term->partner()->gaussians().size());
  // A checkpoint of a run without the term is refused by a run with it.
  const auto views = render_ring(textured_sphere(3000, 11), 3, 6, 0, 48);
  Trainer plain(views, random_init(1500, 4), small_options(total), make_cpu_rasterizer(0));
  plain.step();
  std::stringstream plain_checkpoint;
  plain.save_checkpoint(plain_checkpoint, "plain");
  CoTrainer other = make_co_trainer(1.f, total);
  EXPECT_THROW(other.trainer->load_checkpoint(plain_checkpoint, "plain checkpoint"), Error);
}

TEST(CoRegularization, CoPruningRemovesTheGaussiansWithoutACounterpart) {
  CoTrainer t = make_co_trainer(0.f, 40, 20);
  // The second field after one step is still the start; displace every tenth Gaussian of a copy
  // by far more than the pruning distance: co-pruning flags exactly those.
  Gaussians moved = random_init(1500, 4);
  t.term->before_step(1, moved);  // points the term at the second field, which steps once
  const float distance = 0.02f * t.trainer->scene_extent();
  for (size_t i = 0; i < moved.size(); i += 10) moved.means[3 * i] += 50.f * distance;
  std::vector<uint8_t> remove(moved.size(), 0);
  EXPECT_FALSE(t.term->prune(19, moved, t.trainer->views(), remove));  // not a pruning step
  EXPECT_TRUE(t.term->prune(20, moved, t.trainer->views(), remove));
  int flagged = 0;
  for (size_t i = 0; i < moved.size(); ++i) {
    EXPECT_EQ(remove[i], i % 10 == 0 ? 1 : 0) << "Gaussian " << i;
    flagged += remove[i];
  }
  EXPECT_EQ(flagged, 150);
  // In training, the leader's Gaussians all have a counterpart after its last co-pruning.
  CoTrainer u = make_co_trainer(0.f, 40, 20);
  for (int i = 0; i < 40; ++i) u.trainer->step();
  const std::vector<uint8_t> lonely = without_counterpart(
      u.trainer->gaussians().means, u.term->partner()->gaussians().means, distance);
  for (size_t i = 0; i < lonely.size(); ++i) EXPECT_EQ(lonely[i], 0) << "Gaussian " << i;
}

TEST(CoRegularization, ThePseudoViewTermMakesTheFieldsAgree) {
  static const Gaussians truth = textured_sphere(3000, 11);
  const auto views = render_ring(truth, 3, 6, 0, 48);
  const int iterations = 300;
  const CoRun off = co_train(0.f, iterations), on = co_train(1.f, iterations);
  const double d_off = disagreement(off.leader, off.partner, views);
  const double d_on = disagreement(on.leader, on.partner, views);
  std::printf("pseudo-view L1 between the fields: %.4f without the term, %.4f with it\n", d_off,
              d_on);
  // Bound: the term removes at least a fifth of the disagreement at pseudo views.
  EXPECT_LT(d_on, 0.8 * d_off);
}

}  // namespace
}  // namespace glimpse
