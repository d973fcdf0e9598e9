// The depth-prior stage of `glimpse train`: imported maps (resampled when only the resolution
// differs), the refusals that name the file (missing view, another aspect ratio, NaN, negative
// depth, a model that does not load), continuing without a prior unless it is required, the MVS
// source on a synthetic capture, and the images written for each prior.
#include "app/depth_stage.h"

#include "io/depth_io.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/synthetic_rig.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::vector<View> three_views(int size = 32) {
  const Gaussians truth = testing::textured_sphere(3000, 5);
  return testing::render_ring(truth, 3, 1, 0, size);
}

TrainConfig files_config(const std::string& dir) {
  TrainConfig c;
  c.threads = 1;
  c.priors.depth_source = DepthSource::Files;
  c.priors.depth_dir = dir;
  c.priors.depth.pearson_weight = 0.05f;
  return c;
}

Image<float> ramp(int w, int h, float base) {
  Image<float> d(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) d.at(x, y) = base + 0.01f * x + 0.02f * y;
  return d;
}

TEST(DepthStage, ImportsMapsResamplesOtherResolutionsAndWritesImages) {
  TempDir tmp;
  const auto views = three_views();
  const fs::path dir = tmp.path() / "depths";
  fs::create_directories(dir);
  write_depth_npy((dir / "view0.npy").string(), ramp(32, 32, 2.f));
  write_depth_npy((dir / "view1.npy").string(), ramp(64, 64, 2.f));  // twice the resolution
  Image<float> with_hole = ramp(32, 32, 3.f);
  with_hole.at(5, 5) = 0.f;  // no depth there
  write_depth_npy((dir / "view2.npy").string(), with_hole);
  Dataset dataset;
  dataset.views = views;
  const DepthStageResult r =
      run_depth_stage(files_config(dir.string()), dataset, views, "", tmp.path().string());
  EXPECT_EQ(r.source, DepthSource::Files);
  EXPECT_EQ(r.views_with_prior, 3);
  EXPECT_TRUE(r.notes.empty());
  ASSERT_EQ(r.priors.size(), 3u);
  EXPECT_EQ(r.priors[1].values.width(), 32);
  EXPECT_FALSE(r.priors[0].metric);
  EXPECT_EQ(r.priors[2].confidence.at(5, 5), 0.f);
  EXPECT_EQ(r.priors[2].confidence.at(6, 6), 1.f);
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "depth_prior" / "view0.png"));
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "depth_prior" / "view2.confidence.png"));
}

TEST(DepthStage, BadMapsAreNamedAndSkippedUnlessRequired) {
  TempDir tmp;
  const auto views = three_views();
  const fs::path dir = tmp.path() / "depths";
  fs::create_directories(dir);
  write_depth_npy((dir / "view0.npy").string(), ramp(40, 32, 2.f));  // another aspect ratio
  Image<float> nan_map = ramp(32, 32, 2.f);
  nan_map.at(3, 4) = std::nanf("");
  write_depth_npy((dir / "view1.npy").string(), nan_map);
  // view2 has no file.
  Dataset dataset;
  dataset.views = views;
  const DepthStageResult r =
      run_depth_stage(files_config(dir.string()), dataset, views, "", tmp.path().string());
  EXPECT_EQ(r.views_with_prior, 0);
  EXPECT_EQ(r.source, DepthSource::None);
  ASSERT_EQ(r.notes.size(), 3u);
  EXPECT_NE(r.notes[0].find("view0.npy"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[0].find("40x32"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[1].find("view1.npy"), std::string::npos) << r.notes[1];
  EXPECT_NE(r.notes[1].find("(3, 4)"), std::string::npos) << r.notes[1];
  EXPECT_NE(r.notes[2].find("no depth map for view view2"), std::string::npos) << r.notes[2];

  TrainConfig required = files_config(dir.string());
  required.priors.depth_required = true;
  EXPECT_ERROR_CONTAINS(run_depth_stage(required, dataset, views, "", tmp.path().string()),
                        "view0.npy");
  // Negative values declared as depth.
  Image<float> negative = ramp(32, 32, 2.f);
  negative.at(0, 0) = -1.f;
  write_depth_npy((dir / "view0.npy").string(), negative);
  EXPECT_ERROR_CONTAINS(read_depth_prior_file(dir.string(), views[0], DepthPriorKind::Depth, 1.0),
                        "negative");
}

TEST(DepthStage, AModelThatDoesNotLoadIsNamedAndSkipped) {
  TempDir tmp;
  const auto views = three_views();
  const fs::path model = tmp.path() / "broken.onnx";
  std::ofstream(model) << "not an onnx file";
  TrainConfig c;
  c.threads = 1;
  c.priors.depth_model = model.string();
  c.priors.depth.ranking_weight = 0.1f;
  EXPECT_EQ(resolve_depth_source(c.priors), DepthSource::Model);
  Dataset dataset;
  dataset.views = views;
  const DepthStageResult r = run_depth_stage(c, dataset, views, "", tmp.path().string());
  EXPECT_EQ(r.views_with_prior, 0);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("broken.onnx"), std::string::npos) << r.notes[0];
  c.priors.depth_required = true;
  EXPECT_ERROR_CONTAINS(run_depth_stage(c, dataset, views, "", tmp.path().string()), "broken.onnx");
}

TEST(DepthStage, ANetworkPredictsInverseDepthOncePerViewAndTheCacheServesRepeats) {
  TempDir tmp;
  const auto views = three_views();
  const fs::path model =
      testing::source_dir() / "tests" / "data" / "depth_model" / "tiny_depth.onnx";
  ASSERT_TRUE(fs::is_regular_file(model)) << model;
  TrainConfig c;
  c.threads = 1;
  c.cache_dir = (tmp.path() / "cache").string();
  c.priors.depth_model = model.string();
  c.priors.depth_model_convention = "dpt";
  c.priors.depth.pearson_weight = 0.05f;
  Dataset dataset;
  dataset.views = views;
  const DepthStageResult first = run_depth_stage(c, dataset, views, "", tmp.path().string());
  EXPECT_EQ(first.source, DepthSource::Model);
  ASSERT_EQ(first.views_with_prior, 3);
  EXPECT_EQ(first.priors[0].kind, DepthPriorKind::InverseDepth);
  EXPECT_EQ(first.priors[0].values.width(), 32);
  EXPECT_EQ(first.priors[0].source.find("(cached)"), std::string::npos);
  const DepthStageResult second = run_depth_stage(c, dataset, views, "", tmp.path().string());
  ASSERT_EQ(second.views_with_prior, 3);
  EXPECT_NE(second.priors[0].source.find("(cached)"), std::string::npos);
  for (size_t k = 0; k < first.priors[1].values.size(); ++k) {
    ASSERT_EQ(first.priors[1].confidence.data()[k], second.priors[1].confidence.data()[k]);
    ASSERT_EQ(first.priors[1].values.data()[k], second.priors[1].values.data()[k]);
  }
}

TEST(DepthStage, MultiViewStereoGivesMetricPriorsAndNothingRunsWhenNoTermNeedsThem) {
  TempDir tmp;
  const Gaussians truth = testing::textured_sphere(20000, 5);
  auto views = testing::render_ring(truth, 12, 1, 0, 64);
  views.resize(3);
  Dataset dataset;
  dataset.views = views;
  dataset.near_depth = 1.5;
  dataset.far_depth = 5.0;
  TrainConfig c;
  c.threads = 2;
  c.priors.depth_source = DepthSource::Mvs;
  c.priors.depth.pearson_weight = 0.05f;
  const DepthStageResult r =
      run_depth_stage(c, dataset, views, (tmp.path() / "mvs").string(), tmp.path().string());
  EXPECT_EQ(r.source, DepthSource::Mvs);
  EXPECT_EQ(r.views_with_prior, 3);
  ASSERT_FALSE(r.priors[0].empty());
  EXPECT_TRUE(r.priors[0].metric);
  // The MVS depth lies on the sphere's front (camera z 2.3 to 3.3) where it is confident: at least
  // 90 % of the confident pixels within [2.2, 3.4].
  int confident = 0, on_sphere = 0;
  for (size_t i = 0; i < r.priors[0].values.size(); ++i)
    if (r.priors[0].confidence.data()[i] > 0.f) {
      ++confident;
      const float z = r.priors[0].values.data()[i];
      on_sphere += z > 2.2f && z < 3.4f;
    }
  EXPECT_GT(confident, 200);
  EXPECT_GE(on_sphere, 0.9 * confident);
  // No term uses depth: no stage work at all.
  TrainConfig off;
  off.priors.depth = DepthLossOptions{};
  off.priors.warp = WarpLossOptions{};
  const DepthStageResult none =
      run_depth_stage(off, dataset, views, (tmp.path() / "mvs2").string(), tmp.path().string());
  EXPECT_EQ(none.views_with_prior, 0);
  EXPECT_FALSE(fs::exists(tmp.path() / "mvs2"));
}

}  // namespace
}  // namespace glimpse
