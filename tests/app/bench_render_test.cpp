// The benchmark scene generator (trained-model statistics, deterministic per seed) and the
// `glimpse bench-render` runner on a tiny configuration.
#include "app/bench_render.h"

#include "core/check.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/projection.h"
#include "renderer/synthetic_scene.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace glimpse {
namespace {

// A camera away from the origin, so the scene must follow the pose.
Camera posed_camera() {
  Camera c = make_benchmark_camera(320, 240);
  const double n = std::sqrt(0.8 * 0.8 + 0.1 * 0.1 + 0.5 * 0.5 + 0.3 * 0.3);
  c.rotation = quat_to_rotmat(Quat<double>(0.8 / n, 0.1 / n, 0.5 / n, -0.3 / n));
  c.translation = {1.0, -2.0, 0.5};
  return c;
}

TEST(BenchmarkCamera, Intrinsics) {
  const Camera c = make_benchmark_camera(504, 378);
  EXPECT_EQ(c.width, 504);
  EXPECT_EQ(c.height, 378);
  EXPECT_DOUBLE_EQ(c.fx, 0.8 * 504);
  EXPECT_DOUBLE_EQ(c.fy, c.fx);
  EXPECT_DOUBLE_EQ(c.cx, 252.0);
  EXPECT_DOUBLE_EQ(c.cy, 189.0);
  EXPECT_NO_THROW(check_camera(c, "benchmark"));
  EXPECT_THROW(make_benchmark_camera(0, 10), Error);
  EXPECT_THROW(make_benchmark_camera(10, -1), Error);
}

TEST(BenchmarkScene, DeterministicPerSeed) {
  const Camera c = make_benchmark_camera(64, 48);
  const Gaussians a = make_benchmark_scene(500, c, 7), b = make_benchmark_scene(500, c, 7);
  const Gaussians other = make_benchmark_scene(500, c, 8);
  EXPECT_EQ(a.means, b.means);
  EXPECT_EQ(a.log_scales, b.log_scales);
  EXPECT_EQ(a.quats, b.quats);
  EXPECT_EQ(a.opacity_logits, b.opacity_logits);
  EXPECT_EQ(a.sh, b.sh);
  EXPECT_NE(a.means, other.means);
  EXPECT_EQ(make_benchmark_scene(0, c, 1).size(), 0u);
}

TEST(BenchmarkScene, LooksLikeATrainedSceneInTheView) {
  const Camera cam = posed_camera();
  const size_t n = 20000;
  const Gaussians g = make_benchmark_scene(n, cam, 3);
  ASSERT_EQ(g.size(), n);
  ASSERT_EQ(g.sh_degree, 3);
  ASSERT_EQ(g.sh.size(), n * 16 * 3);
  EXPECT_NO_THROW(g.check());

  const CameraT<float> camf = cam.cast<float>();
  const Intrinsics<float> k = intrinsics_of(camf);
  double radius_sum = 0.0, anisotropy_sum = 0.0;
  int opaque = 0, transparent = 0, mid = 0;
  double higher_sh_abs = 0.0, dc_min = 1e9, dc_max = -1e9;
  for (size_t i = 0; i < n; ++i) {
    const Vec3<float> mean{g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]};
    const Vec3<float> p = transform_point(camf.rotation, camf.translation, mean);
    ASSERT_GE(p.z, 2.0f - 1e-4f);
    ASSERT_LE(p.z, 10.0f + 1e-4f);
    const float u = k.fx * p.x / p.z + k.cx, v = k.fy * p.y / p.z + k.cy;
    ASSERT_GE(u, -1e-2f);
    ASSERT_LE(u, cam.width + 1e-2f);
    ASSERT_GE(v, -1e-2f);
    ASSERT_LE(v, cam.height + 1e-2f);

    // Screen radius: 3 sqrt(largest eigenvalue) of the projected covariance (no blur).
    const Quat<float> q = normalize_quat(
        Quat<float>(g.quats[4 * i], g.quats[4 * i + 1], g.quats[4 * i + 2], g.quats[4 * i + 3]));
    EXPECT_NEAR(
        std::sqrt(g.quats[4 * i] * g.quats[4 * i] + g.quats[4 * i + 1] * g.quats[4 * i + 1] +
                  g.quats[4 * i + 2] * g.quats[4 * i + 2] +
                  g.quats[4 * i + 3] * g.quats[4 * i + 3]),
        1.0f, 1e-5f);
    const Vec3<float> s{std::exp(g.log_scales[3 * i]), std::exp(g.log_scales[3 * i + 1]),
                        std::exp(g.log_scales[3 * i + 2])};
    const Mat3<float> cov = covariance_from_rotation_scale(quat_to_rotmat(q), s);
    Vec2<float> mean2d;
    Vec3<float> cov2d;
    project_gaussian(k, p, rotate_covariance(camf.rotation, cov), mean2d, cov2d);
    const float half_trace = 0.5f * (cov2d.x + cov2d.z);
    const float det = cov2d.x * cov2d.z - cov2d.y * cov2d.y;
    const float lambda_max = half_trace + std::sqrt(std::max(0.0f, half_trace * half_trace - det));
    radius_sum += 3.0 * std::sqrt(lambda_max);
    anisotropy_sum += std::max({s.x, s.y, s.z}) / std::min({s.x, s.y, s.z});

    const double opacity = 1.0 / (1.0 + std::exp(-g.opacity_logits[i]));
    opaque += opacity > 0.9;
    transparent += opacity < 0.1;
    mid += opacity >= 0.2 && opacity <= 0.8;
    for (int c = 0; c < 3; ++c) {
      const double dc = 0.28209479177387814 * g.sh[i * 48 + c] + 0.5;
      dc_min = std::min(dc_min, dc);
      dc_max = std::max(dc_max, dc);
    }
    for (int j = 3; j < 48; ++j) higher_sh_abs += std::abs(g.sh[i * 48 + j]);
  }
  const double mean_radius = radius_sum / n;
  EXPECT_GT(mean_radius, 2.0);
  EXPECT_LT(mean_radius, 6.0);
  EXPECT_GT(anisotropy_sum / n, 1.3);  // not isotropic
  // sigmoid(N(0, 2)): about 14% above 0.9, 14% below 0.1, 50% between 0.2 and 0.8.
  EXPECT_GT(opaque, 0.08 * n);
  EXPECT_GT(transparent, 0.08 * n);
  EXPECT_GT(mid, 0.35 * n);
  EXPECT_GE(dc_min, 0.05 - 1e-5);
  EXPECT_LE(dc_max, 0.95 + 1e-5);
  const double mean_higher = higher_sh_abs / (n * 45.0);
  EXPECT_GT(mean_higher, 0.005);  // view-dependent, but small
  EXPECT_LT(mean_higher, 0.1);
}

TEST(BenchRender, OptionsNameWhatIsWrong) {
  auto error_of = [](const BenchRenderOptions& o) -> std::string {
    try {
      o.check();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of(BenchRenderOptions{}), "");
  BenchRenderOptions o;
  o.scenes = {BenchScene{0, 10, 10}};
  EXPECT_NE(error_of(o).find("Gaussians must be positive"), std::string::npos) << error_of(o);
  o.scenes = {BenchScene{10, -4, 10}};
  EXPECT_NE(error_of(o).find("width and height must be positive"), std::string::npos);
  o = {};
  o.threads = {1, -1};
  EXPECT_NE(error_of(o).find("threads must be >= 0"), std::string::npos) << error_of(o);
  o = {};
  o.threads = {};
  EXPECT_NE(error_of(o).find("thread"), std::string::npos) << error_of(o);
  o = {};
  o.repeats = 0;
  EXPECT_NE(error_of(o).find("repeats"), std::string::npos) << error_of(o);
  o = {};
  o.upstream_gradient = std::nanf("");
  EXPECT_NE(error_of(o).find("finite"), std::string::npos) << error_of(o);
}

TEST(BenchRender, StandardScenes) {
  const std::vector<BenchScene> s = standard_bench_scenes();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].gaussians, 100000);
  EXPECT_EQ(s[0].width, 504);
  EXPECT_EQ(s[0].height, 378);
  EXPECT_EQ(s[1].gaussians, 1000000);
  EXPECT_EQ(s[1].width, 1920);
  EXPECT_EQ(s[1].height, 1080);
}

TEST(BenchRender, RunsATinyConfiguration) {
  glimpse::testing::TempDir tmp;
  BenchRenderOptions o;
  o.scenes = {BenchScene{3000, 96, 64}, BenchScene{1000, 48, 40}};
  o.threads = {1, 2};
  o.repeats = 3;
  o.json_path = (tmp.path() / "bench.json").string();
  const std::vector<BenchRenderResult> results = run_bench_render(o);
  ASSERT_EQ(results.size(), 4u);
  for (const BenchRenderResult& r : results) {
    EXPECT_GT(r.forward_ms_median, 0.0);
    EXPECT_LE(r.forward_ms_min, r.forward_ms_median);
    EXPECT_GT(r.forward_backward_ms_median, 0.0);
    EXPECT_LE(r.forward_backward_ms_min, r.forward_backward_ms_median);
    EXPECT_GT(r.num_visible, r.scene.gaussians / 2);
    EXPECT_LE(r.num_visible, r.scene.gaussians);
    EXPECT_GE(r.num_instances, r.num_visible);
    EXPECT_GT(r.num_evaluations, 0);
    EXPECT_GT(r.evaluations_per_second, 0.0);
    EXPECT_GT(r.mean_radius_px, 1.0);
    EXPECT_LT(r.mean_radius_px, 20.0);
  }
  // Same scene, different thread counts: identical work.
  EXPECT_EQ(results[0].num_evaluations, results[1].num_evaluations);
  EXPECT_EQ(results[0].num_visible, results[1].num_visible);
  EXPECT_EQ(results[1].threads_resolved, 2);

  std::ifstream in(o.json_path);
  ASSERT_TRUE(in.good());
  const nlohmann::json json = nlohmann::json::parse(in);
  EXPECT_EQ(json["results"].size(), 4u);
  EXPECT_EQ(json["results"][2]["gaussians"].get<int64_t>(), 1000);
  EXPECT_TRUE(json["build"].contains("version"));

  const std::string table = format_bench_table(results);
  EXPECT_NE(table.find("96x64"), std::string::npos);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 2 + 4);
}

}  // namespace
}  // namespace glimpse
