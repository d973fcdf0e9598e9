// The `glimpse render` job on the bundled demo capture (assets/demo, LLFF fern at 504x378): every
// output is written, PSNR is finite and beats an empty render, bad options fail before any output.
#include "app/render_pipeline.h"

#include "core/check.h"
#include "io/image_io.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace glimpse {
namespace {
namespace fs = std::filesystem;

fs::path demo_dir() { return glimpse::testing::source_dir() / "assets" / "demo"; }

// The fixture must exist: a missing one fails the test, it never skips.
void require_demo() {
  ASSERT_TRUE(fs::is_regular_file(demo_dir() / "poses_bounds.npy"))
      << "missing fixture " << (demo_dir() / "poses_bounds.npy").string();
}

std::string error_of(const RenderPipelineOptions& options) {
  try {
    options.check();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Psnr, KnownValues) {
  Image<float> a(4, 2, 3, 0.5f), b(4, 2, 3, 0.6f);
  EXPECT_NEAR(psnr_clamped(a, b), 20.0, 1e-4);  // mse 0.01
  EXPECT_TRUE(std::isinf(psnr_clamped(a, a)));
  Image<float> over(4, 2, 3, 1.7f), one(4, 2, 3, 1.0f);
  EXPECT_TRUE(std::isinf(psnr_clamped(over, one)));  // clamped to [0, 1] like the stored images
  EXPECT_THROW(psnr_clamped(a, Image<float>(2, 4, 3)), Error);
}

TEST(RenderPipeline, OptionsNameWhatIsWrong) {
  require_demo();
  RenderPipelineOptions ok;
  ok.dataset_dir = demo_dir().string();
  ok.output_dir = "unused";
  EXPECT_EQ(error_of(ok), "");

  RenderPipelineOptions o = ok;
  o.dataset_dir = "/definitely/not/here";
  EXPECT_NE(error_of(o).find("/definitely/not/here does not exist"), std::string::npos)
      << error_of(o);
  o = ok;
  o.threads = -1;
  EXPECT_NE(error_of(o).find("threads must be >= 0"), std::string::npos) << error_of(o);
  o = ok;
  o.init.stride = 0;
  EXPECT_NE(error_of(o).find("stride must be >= 1"), std::string::npos) << error_of(o);
  o = ok;
  o.init.opacity = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error_of(o).find("opacity"), std::string::npos) << error_of(o);
  o = ok;
  o.output_dir = "";
  EXPECT_NE(error_of(o).find("output"), std::string::npos) << error_of(o);
  o = ok;
  o.llff_factor = 0;
  EXPECT_NE(error_of(o).find("factor"), std::string::npos) << error_of(o);
}

TEST(RenderPipeline, RendersTheDemoAndWritesEveryOutput) {
  require_demo();
  glimpse::testing::TempDir tmp;
  RenderPipelineOptions options;
  options.dataset_dir = demo_dir().string();
  options.output_dir = (tmp.path() / "out").string();
  options.init.stride = 8;
  options.threads = 2;
  int progress_calls = 0;
  const RenderReport report = run_render_pipeline(options, [&](int i, int n, const ViewReport&) {
    EXPECT_EQ(i, progress_calls);
    EXPECT_EQ(n, 6);
    ++progress_calls;
  });
  EXPECT_EQ(progress_calls, 6);

  // The demo: 6 views, training split image001/010/019.
  ASSERT_EQ(report.views.size(), 6u);
  ASSERT_EQ(report.init_view_ids.size(), 3u);
  // 504x378 at stride 8: 63 x 48 blocks per training view (the last row clipped).
  EXPECT_EQ(report.num_gaussians, 3 * 63 * 48);
  EXPECT_GT(report.init_depth, 0.0);
  int train = 0, test = 0;
  for (const ViewReport& v : report.views) {
    train += v.split == "train";
    test += v.split == "test";
    EXPECT_TRUE(std::isfinite(v.psnr)) << v.name;
    EXPECT_GT(v.render_ms, 0.0);
    EXPECT_GT(v.num_visible, 0);
    const std::string stem = fs::path(v.name).stem().string();
    for (const char* folder : {"renders", "depth", "alpha", "compare"}) {
      const fs::path file = fs::path(options.output_dir) / folder / (stem + ".png");
      ASSERT_TRUE(fs::is_regular_file(file)) << file;
    }
    // The written render is the image the PSNR was computed on, and it beats an empty render.
    const Image<float> gt = read_image_rgb((demo_dir() / "images_8" / v.name).string());
    const Image<float> written =
        read_image_rgb((fs::path(options.output_dir) / "renders" / (stem + ".png")).string());
    EXPECT_NEAR(psnr_clamped(written, gt), v.psnr, 0.1) << v.name;
    EXPECT_GT(v.psnr, psnr_clamped(Image<float>(gt.width(), gt.height(), 3, 0.0f), gt) + 3.0)
        << v.name;
    const Image<float> compare =
        read_image_rgb((fs::path(options.output_dir) / "compare" / (stem + ".png")).string());
    EXPECT_EQ(compare.width(), 2 * gt.width());
    EXPECT_EQ(compare.height(), gt.height());
  }
  EXPECT_EQ(train, 3);
  EXPECT_EQ(test, 3);

  // report.json: complete, parseable, with the resolved options and per-view results.
  std::ifstream in(fs::path(options.output_dir) / "report.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json json = nlohmann::json::parse(in);
  EXPECT_EQ(json["num_gaussians"].get<int64_t>(), report.num_gaussians);
  EXPECT_EQ(json["views"].size(), 6u);
  EXPECT_EQ(json["options"]["stride"].get<int>(), 8);
  EXPECT_EQ(json["options"]["threads_resolved"].get<int>(), 2);
  EXPECT_TRUE(json["mean_psnr"]["test"].is_number());
  EXPECT_TRUE(fs::is_regular_file(fs::path(options.output_dir) / "report.md"));
  // No temporary files left behind.
  for (const auto& entry : fs::recursive_directory_iterator(options.output_dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST(RenderPipeline, TestViewsOnly) {
  require_demo();
  glimpse::testing::TempDir tmp;
  RenderPipelineOptions options;
  options.dataset_dir = demo_dir().string();
  options.output_dir = (tmp.path() / "out").string();
  options.init.stride = 16;
  options.views = ViewSelection::Test;
  options.antialiased = true;
  const RenderReport report = run_render_pipeline(options, [](int, int, const ViewReport&) {});
  ASSERT_EQ(report.views.size(), 3u);
  for (const ViewReport& v : report.views) EXPECT_EQ(v.split, "test");
}

TEST(RenderPipeline, FailsBeforeWritingAnything) {
  require_demo();
  glimpse::testing::TempDir tmp;
  // A copy of the demo without split.json: asking for test views must fail, and leave no output.
  const fs::path copy = tmp.path() / "nosplit";
  fs::create_directories(copy);
  fs::copy(demo_dir() / "poses_bounds.npy", copy / "poses_bounds.npy");
  fs::copy(demo_dir() / "images_8", copy / "images_8");
  RenderPipelineOptions options;
  options.dataset_dir = copy.string();
  options.output_dir = (tmp.path() / "out").string();
  options.init.stride = 16;
  options.views = ViewSelection::Test;
  try {
    run_render_pipeline(options);
    FAIL() << "rendering the test split of a dataset without one succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no test split"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(options.output_dir));
}

}  // namespace
}  // namespace glimpse
