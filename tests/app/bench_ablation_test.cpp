// `glimpse bench --variants` / `--inits`: the variants file is read with its errors named, each
// variant runs as its own suite with its patch applied, the tables list every variant and scene,
// and the side-by-side sheet holds the ground truth and each variant's render of one test view
// per scene, captioned.
#include "app/bench_ablation.h"

#include "app/report_values.h"
#include "core/check.h"
#include "io/image_io.h"
#include "tests/app/bench_scenes.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace glimpse {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::json;
Json read_json(const fs::path& path) { return testing::read_json_file(path); }
using testing::error_of;
using testing::TempDir;

std::string write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

TEST(BenchAblation, VariantsFileIsReadAndItsErrorsNamed) {
  const TempDir tmp;
  const TrainConfig base;
  const std::vector<BenchVariant> v =
      load_bench_variants(write_text(tmp.path() / "ok.json",
                                     R"([{"name": "plain", "config": {"init": "depth"}},
                     {"name": "mvs+pearson", "config": {"priors": {"depth": {"pearson_weight": 0.05}}}},
                     {"name": "default"}])"),
                          base);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].name, "plain");
  EXPECT_EQ(v[0].patch, Json({{"init", "depth"}}));
  EXPECT_EQ(v[1].name, "mvs+pearson");
  EXPECT_TRUE(v[2].patch.empty());  // no config: the suite's configuration as it is

  const auto error_in = [&](const std::string& name, const std::string& text) {
    const std::string path = write_text(tmp.path() / name, text);
    return error_of([&] { load_bench_variants(path, base); });
  };
  EXPECT_HAS(error_in("missing.json", ""), "not valid JSON");
  EXPECT_HAS(error_of([&] { load_bench_variants((tmp.path() / "none.json").string(), base); }),
             "cannot read the variants file");
  EXPECT_HAS(error_in("empty.json", "[]"), "non-empty array");
  EXPECT_HAS(error_in("slash.json", R"([{"name": "a/b"}])"), "may only hold letters");
  EXPECT_HAS(error_in("dup.json", R"([{"name": "a"}, {"name": "a"}])"), "duplicate variant 'a'");
  EXPECT_HAS(error_in("key.json", R"([{"name": "a", "cfg": {}}])"), "unknown key 'cfg'");
  const std::string bad = error_in("bad.json", R"([{"name": "a", "config": {"init": "nope"}}])");
  EXPECT_HAS(bad, "bad.json entry 0");
  EXPECT_HAS(bad, "variant 'a'");

  const std::vector<BenchVariant> inits = init_variants({"mvs", "depth"}, base);
  ASSERT_EQ(inits.size(), 2u);
  EXPECT_EQ(inits[0].name, "init-mvs");
  EXPECT_EQ(inits[1].patch, Json({{"init", "depth"}}));
  EXPECT_HAS(error_of([&] { init_variants({"mvs", "mvs"}, base); }), "names 'mvs' twice");
}

TEST(BenchAblation, EachVariantRunsWithItsPatchAndTheSheetShowsThemSideBySide) {
  const TempDir tmp;
  const fs::path data = tmp.path() / "data", out = tmp.path() / "out";
  testing::write_llff_scene(data / "fern", 9);
  testing::write_llff_scene(data / "flower", 9);
  BenchSuiteOptions o = testing::llff_options(data, out);
  o.train.trainer.iterations = 10;
  const std::vector<BenchVariant> variants = {
      {"opaque", {{"init_opacity", 0.9}}},
      {"faint", {{"init_opacity", 0.05}, {"trainer", {{"dropout_rate", 0.0}}}}}};
  const BenchAblationResult r = run_bench_ablation(o, variants);
  EXPECT_EQ(r.num_failed, 0);
  ASSERT_EQ(r.suites.size(), 2u);

  // Each variant's runs carry its patch.
  for (const char* scene : {"fern", "flower"}) {
    const Json opaque = read_json(out / "opaque" / scene / "seed0" / "metrics.json");
    const Json faint = read_json(out / "faint" / scene / "seed0" / "metrics.json");
    EXPECT_NEAR(opaque["config"]["init_opacity"].get<double>(), 0.9, 1e-6);
    EXPECT_NEAR(faint["config"]["init_opacity"].get<double>(), 0.05, 1e-6);
    EXPECT_EQ(faint["config"]["trainer"]["dropout_rate"].get<double>(), 0.0);
    EXPECT_NE(opaque["test"]["mean"]["psnr"], faint["test"]["mean"]["psnr"]);
  }
  // The tables: every variant and scene, and each variant's mean.
  std::ifstream md_in(out / "ablation.md");
  std::stringstream md;
  md << md_in.rdbuf();
  for (const char* row :
       {"| opaque | fern |", "| opaque | flower |", "| faint | fern |", "| **faint** | **mean** |"})
    EXPECT_HAS(md.str(), row);
  EXPECT_EQ(read_json(out / "ablation.json")["variants"].size(), 2u);

  // The sheet: one row per scene (32x24 views -> panels of 336x252), the ground truth and the
  // two variants; each panel is the run's image scaled up, with a caption in its corner.
  const Image<float> sheet = read_image_rgb((out / "ablation.png").string());
  ASSERT_EQ(sheet.width(), 3 * kAblationSheetPanelWidth);
  ASSERT_EQ(sheet.height(), 2 * 252);
  const Json views =
      read_json(out / "faint" / "flower" / "seed0" / "metrics.json")["test"]["views"];
  const std::string file = evaluation_image_name(views[0]["name"].get<std::string>());
  const Image<float> render =
      read_image_rgb((out / "faint" / "flower" / "seed0" / "test" / "renders" / file).string());
  const Image<float> scaled = resize_image_area(render, kAblationSheetPanelWidth, 252);
  // Row 1 (flower), column 2 (faint): away from the caption, the scaled render (8-bit round trip).
  for (const auto& [x, y] : {std::pair{200, 200}, std::pair{300, 120}, std::pair{40, 240}})
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(sheet.at(2 * kAblationSheetPanelWidth + x, 252 + y, c), scaled.at(x, y, c),
                  1.0 / 255 + 1e-6);
  // Captions: black boxes in each panel's top-left corner.
  for (int row = 0; row < 2; ++row)
    for (int col = 0; col < 3; ++col)
      EXPECT_EQ(sheet.at(col * kAblationSheetPanelWidth + 1, row * 252 + 1, 1), 0.f)
          << row << " " << col;

  // Another view asked for: the protocol's other test view (img8), where the scene has it; a name
  // no scene has falls back to the first view, with a warning.
  ASSERT_EQ(views.size(), 2u);
  const std::string other = views[1]["name"].get<std::string>();
  write_ablation_sheet(r, (out / "other.png").string(), other);
  const Image<float> other_sheet = read_image_rgb((out / "other.png").string());
  const Image<float> other_scaled =
      resize_image_area(read_image_rgb((out / "faint" / "flower" / "seed0" / "test" / "renders" /
                                        evaluation_image_name(other))
                                           .string()),
                        kAblationSheetPanelWidth, 252);
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(other_sheet.at(2 * kAblationSheetPanelWidth + 200, 252 + 200, c),
                other_scaled.at(200, 200, c), 1.0 / 255 + 1e-6);
  EXPECT_NE(other_sheet.vector(), sheet.vector());
  testing::LogCapture log;
  write_ablation_sheet(r, (out / "fallback.png").string(), "nope.png");
  EXPECT_EQ(log.warnings.size(), 2u);  // one per scene
  EXPECT_EQ(read_image_rgb((out / "fallback.png").string()).vector(), sheet.vector());
}

}  // namespace
}  // namespace glimpse
