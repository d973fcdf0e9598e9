// The initialisation stage of `glimpse train`: each initialiser on a synthetic object capture (a
// textured sphere seen by a ring of cameras, masks from the rendered alpha), the point clouds it
// writes, the explicit requests that fail with their reason, and `auto` falling back down its
// list and saying why.
#include "app/init_stage.h"

#include "app/mvs_command.h"
#include "app/progress.h"
#include "app/train_command.h"
#include "io/point_cloud_ply.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/synthetic_rig.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// 4 views of the unit sphere at distance ~3.3, with masks; depth bounds 1.5 .. 5.
struct SphereCapture {
  Dataset dataset;
  explicit SphereCapture(bool masks, int size = 48) {
    const Gaussians truth = testing::textured_sphere(size > 48 ? 20000 : 3000, 5);
    CpuRasterizerT<float> r(0);
    if (size > 48) {
      // Three neighbouring views 30 degrees apart: baselines that stereo matching can use.
      dataset.views = testing::render_ring(truth, 12, 1, 0, size);
      dataset.views.resize(3);
    } else {
      dataset.views = testing::render_ring(truth, 4, 1, 0, size);
    }
    if (masks)
      for (View& v : dataset.views) {
        RenderOutputT<float> out;
        r.forward(truth, v.camera.cast<float>(), RenderOptions{}, out);
        v.mask = Image<float>(size, size, 1);
        for (int y = 0; y < size; ++y)
          for (int x = 0; x < size; ++x) v.mask.at(x, y) = out.alpha.at(x, y) > 0.5f ? 1.f : 0.f;
      }
    dataset.near_depth = 1.5;
    dataset.far_depth = 5.0;
    dataset.format = "synthetic";
  }
};

TrainConfig base_config() {
  TrainConfig c;
  c.dataset = "unused";
  c.output = "unused";
  c.threads = 2;
  c.trainer.sh_degree = 1;
  c.hull_resolution = 48;
  c.colmap_path = "/nonexistent/colmap";
  return c;
}

double radius(const Gaussians& g, size_t i) {
  const float* m = &g.means[3 * i];
  return std::sqrt(m[0] * m[0] + m[1] * m[1] + m[2] * m[2]);
}

TEST(InitStage, HullPointsHugTheSphereAndAreWrittenForInspection) {
  const SphereCapture capture(true);
  TempDir dir;
  TrainConfig config = base_config();
  config.init = InitMethod::Hull;
  const InitStageResult r =
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string());
  EXPECT_EQ(r.method, InitMethod::Hull);
  ASSERT_GT(r.gaussians.size(), 100u);
  EXPECT_EQ(static_cast<int64_t>(r.gaussians.size()), r.points);
  EXPECT_EQ(r.gaussians.sh_degree, 1);
  // 4 views around the sphere: the hull's surface lies between the sphere and its circumscribed
  // square prism (radius sqrt(2) in the ring's plane), allowing for the masks' pixels.
  for (size_t i = 0; i < r.gaussians.size(); ++i) {
    EXPECT_GT(radius(r.gaussians, i), 0.85) << i;
    EXPECT_LT(radius(r.gaussians, i), 1.75) << i;
  }
  const PointCloud written = read_point_cloud_ply(dir.file("init/hull.ply"));
  EXPECT_EQ(static_cast<int64_t>(written.size()), r.points);
}

TEST(InitStage, MvsPointsLieOnTheSphereAndTheCacheIsReused) {
  const SphereCapture capture(false, 128);
  TempDir dir;
  TrainConfig config = base_config();
  config.init = InitMethod::Mvs;
  config.cache_dir = dir.file("cache");
  // The stage reports its progress view by view to this thread's sink (a session's phase).
  std::vector<double> fractions;
  std::string last_what;
  InitStageResult first;
  {
    const ScopedStageProgress progress([&](double fraction, const std::string& what) {
      fractions.push_back(fraction);
      last_what = what;
    });
    first = run_init_stage(config, capture.dataset, capture.dataset.views, dir.file("run1"));
  }
  ASSERT_GE(fractions.size(), capture.dataset.views.size());
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  EXPECT_NE(last_what.find("multi-view stereo"), std::string::npos) << last_what;
  report_stage_progress(0.5, "nobody listens");  // no sink in scope: nothing happens
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  EXPECT_EQ(first.method, InitMethod::Mvs);
  ASSERT_GE(first.gaussians.size(), 1000u);
  // The sphere's texture is smooth (a few sines), so stereo is noisier here than on the MVS
  // tests' textured plane (priors/mvs_test): the median fused point lies within 2 % of the
  // radius and two thirds within 5 % (measured: 69 %; 10/50/90 % at 0.980, 1.006, 1.137).
  size_t close = 0;
  for (size_t i = 0; i < first.gaussians.size(); ++i)
    close += std::abs(radius(first.gaussians, i) - 1.0) < 0.05;
  std::vector<double> radii;
  for (size_t i = 0; i < first.gaussians.size(); ++i) radii.push_back(radius(first.gaussians, i));
  std::sort(radii.begin(), radii.end());
  EXPECT_NEAR(radii[radii.size() / 2], 1.0, 0.02);
  EXPECT_GT(static_cast<double>(close), 0.65 * first.gaussians.size())
      << "radius percentiles 10/50/90: " << radii[radii.size() / 10] << " "
      << radii[radii.size() / 2] << " " << radii[radii.size() * 9 / 10];
  EXPECT_TRUE(fs::is_regular_file(dir.file("run1/init/mvs.ply")));
  // A second run on the same views reads the shared cache: the same Gaussians.
  ASSERT_TRUE(fs::is_directory(dir.file("cache/mvs")));
  const InitStageResult second =
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.file("run2"));
  // Bit for bit, colours included (the cache stores them in 8 bits; the fresh run rounds its
  // own the same way), so a run's result does not depend on whether the cache existed.
  EXPECT_EQ(second.gaussians.means, first.gaussians.means);
  EXPECT_EQ(second.gaussians.sh, first.gaussians.sh);
  EXPECT_EQ(second.gaussians.log_scales, first.gaussians.log_scales);
  EXPECT_EQ(second.gaussians.quats, first.gaussians.quats);
  EXPECT_EQ(second.gaussians.opacity_logits, first.gaussians.opacity_logits);
  EXPECT_LT(second.seconds, first.seconds);
}

TEST(InitStage, MvsCacheKeyFollowsPixelsCamerasAndBounds) {
  const SphereCapture capture(false);
  const std::vector<View>& views = capture.dataset.views;
  const std::string key = mvs_cache_key(views, 1.5, 5.0, MvsOptions{});
  EXPECT_EQ(key.size(), 16u);
  EXPECT_EQ(mvs_cache_key(views, 1.5, 5.0, MvsOptions{}), key);
  // One pixel of one image edited in place (same name and size): another key, so the maps of
  // the old image are never reused.
  std::vector<View> edited = views;
  edited[1].image.at(7, 9, 2) += 1.0f / 255.0f;
  EXPECT_NE(mvs_cache_key(edited, 1.5, 5.0, MvsOptions{}), key);
  std::vector<View> moved = views;
  moved[0].camera.translation[0] += 1e-9;
  EXPECT_NE(mvs_cache_key(moved, 1.5, 5.0, MvsOptions{}), key);
  EXPECT_NE(mvs_cache_key(views, 1.5, 5.5, MvsOptions{}), key);
}

TEST(InitStage, ExplicitRequestsThatCannotRunFailWithTheirReason) {
  const SphereCapture capture(false);
  TempDir dir;
  TrainConfig config = base_config();
  config.init = InitMethod::Hull;
  EXPECT_ERROR_CONTAINS(
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string()), "masks");
  config.init = InitMethod::Colmap;
  EXPECT_ERROR_CONTAINS(
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string()),
      "/nonexistent/colmap");
  config.init = InitMethod::Points;
  config.init_points = dir.file("missing.ply");
  EXPECT_ERROR_CONTAINS(
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string()),
      "missing.ply");
}

TEST(InitStage, PointsRandomAndDepthInitialisers) {
  const SphereCapture capture(false);
  TempDir dir;
  TrainConfig config = base_config();
  PointCloud cloud;
  for (int i = 0; i < 50; ++i) cloud.add(0.02f * i, 0.f, 0.f, 1.f, 0.f, 0.f);
  write_point_cloud_ply(dir.file("cloud.ply"), cloud);
  config.init = InitMethod::Points;
  config.init_points = dir.file("cloud.ply");
  InitStageResult r =
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string());
  EXPECT_EQ(r.gaussians.size(), 50u);
  // Neighbours at 0.02, 0.02 and 0.04: sqrt((1 + 1 + 4) / 3) x 0.02.
  EXPECT_NEAR(std::exp(r.gaussians.log_scales[3 * 10]), 0.02 * std::sqrt(2.0), 1e-4);

  config.init = InitMethod::Random;
  config.random_count = 321;
  r = run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string());
  EXPECT_EQ(r.gaussians.size(), 321u);
  config.init = InitMethod::Depth;
  config.init_stride = 8;
  r = run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string());
  EXPECT_EQ(r.gaussians.size(), 4u * 6 * 6);
}

TEST(InitStage, AutoFallsBackAndSaysWhy) {
  const SphereCapture capture(false);  // no masks, no colmap: hull and colmap cannot run
  TempDir dir;
  TrainConfig config = base_config();
  config.init = InitMethod::Auto;
  const InitStageResult r =
      run_init_stage(config, capture.dataset, capture.dataset.views, dir.path().string());
  EXPECT_GT(r.gaussians.size(), 0u);
  EXPECT_NE(r.method, InitMethod::Colmap);
  EXPECT_NE(r.method, InitMethod::Hull);
  std::string notes;
  for (const std::string& n : r.notes) notes += n + "\n";
  EXPECT_NE(notes.find("colmap: "), std::string::npos) << notes;
  EXPECT_NE(notes.find("/nonexistent/colmap"), std::string::npos) << notes;
  EXPECT_NE(notes.find("hull: skipped, the capture has no masks"), std::string::npos) << notes;
}

// End to end on the bundled demo (fern, 3 training views): `auto` initialises from the
// multi-view stereo, whose maps and cloud are written, and the run records what it used.
TEST(InitStage, DemoTrainsFromTheMultiViewStereoByDefault) {
  TempDir dir;
  TrainConfig config;
  config.dataset = (testing::source_dir() / "assets" / "demo").string();
  config.output = dir.file("out");
  config.device = TrainDevice::Cpu;
  config.threads = 2;
  config.lpips_model = "none";
  config.colmap_path = "/nonexistent/colmap";  // not reached: mvs comes first
  config.trainer.iterations = 10;
  config.checkpoint_every = 0;
  const TrainResult r = run_train(config);
  EXPECT_EQ(r.init_method, "mvs");
  EXPECT_GT(r.init_points, 20000);
  EXPECT_TRUE(r.init_notes.empty());
  EXPECT_GT(r.init_seconds, 0.0);
  // The scene scale is the initial geometry's median depth: fern lies between 1.3 and 100
  // (its bounds) and mostly within a few units of 20.
  EXPECT_GT(r.scene_extent, 10.0);
  EXPECT_LT(r.scene_extent, 40.0);
  EXPECT_TRUE(fs::is_regular_file(dir.file("out/init/mvs.ply")));
  EXPECT_TRUE(fs::is_regular_file(dir.file("out/mvs/fused.ply")));
  EXPECT_TRUE(fs::is_regular_file(dir.file("out/mvs/depth/image001.png")));
  EXPECT_TRUE(fs::is_regular_file(dir.file("out/mvs/confidence/image010.png")));
  EXPECT_TRUE(std::isfinite(r.test.mean_psnr));
}

}  // namespace
}  // namespace glimpse
