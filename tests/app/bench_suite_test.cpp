// `glimpse bench` on tiny scenes made in code: LLFF-layout scenes (9 images of 32x24) and a DTU
// Rectified scan (49 views of 40x30 with cam.txt cameras and idrmasks). The protocol splits and
// masked metrics reach the runs, the four reports agree with the runs' metrics.json, finished
// runs are skipped on a second invocation, broken or missing scenes are reported while the
// others finish, and the command line validates its flags.
#include "app/bench_suite.h"

#include "app/train_command.h"
#include "core/check.h"
#include "core/log.h"
#include "eval/metrics.h"
#include "io/image_io.h"
#include "io/npy.h"
#include "renderer/rasterizer.h"
#include "tests/app/bench_scenes.h"
#include "tests/app/run_glimpse.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::json;
Json read_json(const fs::path& path) { return testing::read_json_file(path); }
std::string read_text(const fs::path& path) { return testing::read_text_file(path); }
using testing::llff_options;
using testing::pattern;
using testing::write_llff_scene;

// A DTU Rectified scan: 49 views of 40x30 around the origin (calibration for 1600x1200), masks
// (idrmasks) for every view: the left half of the image.
void write_dtu_scan(const fs::path& dtu, const std::string& scan) {
  fs::create_directories(dtu / "Rectified" / scan);
  fs::create_directories(dtu / "idrmasks" / scan);
  for (int i = 0; i < 49; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "rect_%03d_3_r5000.png", i + 1);
    write_png((dtu / "Rectified" / scan / name).string(), pattern(40, 30, i));
    // Camera on a ring of radius 600 mm looking at the origin.
    const double a = 0.04 * (i - 24);
    const double cx = 600 * std::sin(a), cz = -600 * std::cos(a);
    // Rows of R (world -> camera): x = right, y = down, z = towards the origin.
    const double z[3] = {-cx / 600, 0, -cz / 600};
    const double x[3] = {z[2], 0, -z[0]};
    const double y[3] = {0, 1, 0};
    const double c[3] = {cx, 0, cz};
    std::ostringstream cam;
    cam << std::setprecision(17) << "extrinsic\n";
    for (const double* row : {x, y, z}) {
      const double t = -(row[0] * c[0] + row[1] * c[1] + row[2] * c[2]);
      cam << row[0] << " " << row[1] << " " << row[2] << " " << t << "\n";
    }
    cam << "0 0 0 1\n\nintrinsic\n2000 0 800\n0 2000 600\n0 0 1\n\n425 2.5\n";
    char cam_name[64];
    std::snprintf(cam_name, sizeof(cam_name), "%08d_cam.txt", i);
    fs::create_directories(dtu / "Cameras");
    std::ofstream(dtu / "Cameras" / cam_name) << cam.str();
    Image<float> mask(40, 30, 1, 0.0f);
    for (int yy = 0; yy < 30; ++yy)
      for (int xx = 0; xx < 20; ++xx) mask.at(xx, yy) = 1.0f;
    char mask_name[64];
    std::snprintf(mask_name, sizeof(mask_name), "%03d.png", i);
    write_png((dtu / "idrmasks" / scan / mask_name).string(), mask);
  }
}

TEST(BenchSuite, RunsTheLlffProtocolAndWritesConsistentReports) {
  glimpse::testing::TempDir tmp;
  const fs::path data = tmp.path() / "data", out = tmp.path() / "out";
  write_llff_scene(data / "fern", 9);
  write_llff_scene(data / "llff" / "horns", 9);  // found in <data>/<suite>/ too
  write_llff_scene(data / "mine", 9);            // not a protocol scene: not run by default

  BenchSuiteOptions o = llff_options(data, out);
  const std::vector<SuiteScene> found = find_bench_scenes(o);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "fern");  // in the protocol's order: fern flower fortress horns ...
  EXPECT_EQ(found[1].name, "horns");
  EXPECT_TRUE(found[0].official);

  const BenchSuiteResult r = run_bench_suite(o);
  ASSERT_EQ(r.scenes.size(), 2u);
  EXPECT_EQ(r.num_failed, 0);
  for (const SuiteScene& s : r.scenes) {
    ASSERT_EQ(s.runs.size(), 1u) << s.name << ": " << s.error;
    const Json metrics = read_json(out / s.name / "seed0" / "metrics.json");
    // The protocol's split: 9 images -> test {0, 8}; train = linspace over 1..7 -> {1, 4, 7}.
    ASSERT_EQ(metrics["test"]["views"].size(), 2u);
    EXPECT_EQ(metrics["test"]["views"][0]["name"], "img0.png");
    EXPECT_EQ(metrics["test"]["views"][1]["name"], "img8.png");
    std::vector<std::string> train;
    for (const Json& v : metrics["train"]["views"]) train.push_back(v["name"]);
    EXPECT_EQ(train, (std::vector<std::string>{"img1.png", "img4.png", "img7.png"}));
    EXPECT_HAS(metrics["protocol"].get<std::string>(), "llff-3view");
    EXPECT_EQ(s.runs[0].protocol, metrics["protocol"].get<std::string>());
    EXPECT_FALSE(metrics["metrics"]["masked"].get<bool>());
    // The suite's figures are the run's.
    EXPECT_DOUBLE_EQ(s.runs[0].test.psnr, metrics["test"]["mean"]["psnr"].get<double>());
    EXPECT_DOUBLE_EQ(s.mean->psnr, s.runs[0].test.psnr);
    EXPECT_EQ(s.stddev->psnr, 0.0);
    EXPECT_TRUE(std::isnan(s.runs[0].test.lpips));  // LPIPS off: unavailable, never estimated
    EXPECT_FALSE(s.runs[0].reused);
  }
  ASSERT_TRUE(r.mean.has_value());
  EXPECT_NEAR(r.mean->psnr, 0.5 * (r.scenes[0].mean->psnr + r.scenes[1].mean->psnr), 1e-12);

  const Json results = read_json(out / "results.json");
  EXPECT_EQ(results["suite"], "llff");
  EXPECT_EQ(results["views"], 3);
  ASSERT_EQ(results["scenes"].size(), 2u);
  EXPECT_EQ(results["scenes"][1]["status"], "done");
  EXPECT_DOUBLE_EQ(results["mean"]["psnr"].get<double>(), r.mean->psnr);
  EXPECT_TRUE(results["mean"]["lpips"].is_null());
  EXPECT_FALSE(results["published"].empty());

  const std::string csv = read_text(out / "results.csv");
  EXPECT_EQ(csv.rfind("suite,views,scene,official,seed,status", 0), 0u);
  EXPECT_HAS(csv, "llff,3,fern,1,0,done,12,");
  EXPECT_HAS(csv, "llff,3,mean,,,mean,");

  const std::string md = read_text(out / "results.md");
  EXPECT_HAS(md, "| fern | ");
  EXPECT_HAS(md, "**mean (2 scenes)**");
  EXPECT_HAS(md, "Published figures (from the literature, not measured by Glimpse)");
  EXPECT_HAS(md, "| FSGS (ECCV) | 20.31 | 0.652 | 0.288 |");
  EXPECT_EQ(md.find("Not comparable"), std::string::npos);
  EXPECT_HAS(md, "every 8th image tested, 3 training views by linspace");
  EXPECT_HAS(md, "- fern: llff-3view: 504x378 (factor 8), 9 images, train [1, 4, 7], test [0, 8]");

  const std::string html = read_text(out / "report.html");
  for (const char* sub : {"gt", "renders", "depth", "error"}) {
    const std::string src = std::string("horns/seed0/test/") + sub + "/img8.png";
    EXPECT_HAS(html, "src=\"" + src + "\"");
    EXPECT_TRUE(fs::is_regular_file(out / src)) << src;
  }
  EXPECT_HAS(html, "src=\"fern/seed0/loss_curve.png\"");
  EXPECT_TRUE(fs::is_regular_file(out / "fern" / "seed0" / "loss_curve.png"));

  // Second invocation: both runs are read back, not retrained.
  const fs::file_time_type before = fs::last_write_time(out / "fern" / "seed0" / "metrics.json");
  const BenchSuiteResult again = run_bench_suite(o);
  ASSERT_EQ(again.scenes.size(), 2u);
  for (const SuiteScene& s : again.scenes) {
    ASSERT_EQ(s.runs.size(), 1u);
    EXPECT_TRUE(s.runs[0].reused);
  }
  EXPECT_EQ(fs::last_write_time(out / "fern" / "seed0" / "metrics.json"), before);
  EXPECT_DOUBLE_EQ(again.mean->psnr, r.mean->psnr);

  // Another configuration into the same folder: refused per scene (not mixed, not overwritten).
  o.train.trainer.iterations = 13;
  glimpse::testing::LogCapture log;
  const BenchSuiteResult changed = run_bench_suite(o);
  EXPECT_EQ(log.errors.size(), 2u);
  EXPECT_EQ(changed.num_failed, 2);
  EXPECT_HAS(changed.scenes[0].error, "another configuration");
  EXPECT_HAS(changed.scenes[0].error, "trainer.iterations: 12 vs 13");
}

// A suite finished without LPIPS weights, run again with them: each finished run is evaluated
// again from its final checkpoint (no training), gains LPIPS and keeps its training figures; a
// third invocation reuses it as it is.
TEST(BenchSuite, RunsFinishedWithoutLpipsAreScoredOnceTheWeightsAreThere) {
  const char* weights = std::getenv("GLIMPSE_LPIPS_DIR");
  if (weights == nullptr) GTEST_SKIP() << "GLIMPSE_LPIPS_DIR is not set: no LPIPS weights";
  glimpse::testing::TempDir tmp;
  const fs::path data = tmp.path() / "data", out = tmp.path() / "out";
  write_llff_scene(data / "fern", 9);
  BenchSuiteOptions o = llff_options(data, out);
  o.train.checkpoint_every = 100;  // only the final checkpoint, at 12
  ASSERT_EQ(run_bench_suite(o).num_failed, 0);
  const fs::path run = out / "fern" / "seed0";
  const Json before = read_json(run / "metrics.json");
  ASSERT_TRUE(before["test"]["mean"]["lpips"].is_null());

  o.train.lpips_model = weights;
  const BenchSuiteResult scored = run_bench_suite(o);
  ASSERT_EQ(scored.scenes.size(), 1u);
  ASSERT_EQ(scored.scenes[0].runs.size(), 1u) << scored.scenes[0].error;
  EXPECT_FALSE(scored.scenes[0].runs[0].reused);
  const Json after = read_json(run / "metrics.json");
  ASSERT_TRUE(after["test"]["mean"]["lpips"].is_number());
  EXPECT_GT(after["test"]["mean"]["lpips"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(scored.scenes[0].runs[0].test.lpips,
                   after["test"]["mean"]["lpips"].get<double>());
  // The same model and the same training figures: nothing was trained.
  EXPECT_EQ(after["test"]["mean"]["psnr"], before["test"]["mean"]["psnr"]);
  EXPECT_EQ(after["train_seconds"], before["train_seconds"]);
  EXPECT_EQ(after["iterations_per_second"], before["iterations_per_second"]);
  EXPECT_EQ(after["start_iteration"], 12);  // resumed at its final checkpoint

  const fs::file_time_type written = fs::last_write_time(run / "metrics.json");
  const BenchSuiteResult again = run_bench_suite(o);
  EXPECT_TRUE(again.scenes[0].runs[0].reused);
  EXPECT_EQ(fs::last_write_time(run / "metrics.json"), written);
}

// `glimpse bench --serve`: one token for the suite, each run served in turn (here on a free port
// each, so the runs name their addresses).
TEST(BenchSuite, ServesEachRunWithTheSuitesToken) {
  glimpse::testing::TempDir tmp;
  const fs::path data = tmp.path() / "data", out = tmp.path() / "out";
  write_llff_scene(data / "fern", 9);
  write_llff_scene(data / "horns", 9);
  BenchSuiteOptions o = llff_options(data, out);
  o.serve = "127.0.0.1:0";
  std::mutex mutex;
  std::vector<std::string> lines;
  const int listener = add_log_listener([&](LogLevel, const std::string& message) {
    const std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(message);
  });
  const BenchSuiteResult r = run_bench_suite(o);
  remove_log_listener(listener);
  EXPECT_EQ(r.num_failed, 0);
  int suite_lines = 0, run_lines = 0;
  for (const std::string& line : lines) {
    if (line.find("bench: serving each run on 127.0.0.1:0") != std::string::npos &&
        line.find("--token ") != std::string::npos)
      ++suite_lines;
    if (line.find("train: serving the run on http://127.0.0.1:") != std::string::npos) {
      ++run_lines;
      EXPECT_HAS(line, "<the suite's token>");  // printed once, by the suite
    }
  }
  EXPECT_EQ(suite_lines, 1);
  EXPECT_EQ(run_lines, 2);
}

TEST(BenchSuite, BrokenAndMissingScenesAreReportedAndTheOthersFinish) {
  glimpse::testing::TempDir tmp;
  const fs::path data = tmp.path() / "data", out = tmp.path() / "out";
  write_llff_scene(data / "fern", 9);
  write_llff_scene(data / "room", 9);
  // room's poses file truncated.
  const fs::path poses = data / "room" / "poses_bounds.npy";
  const std::string bytes = read_text(poses);
  std::ofstream(poses, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);

  BenchSuiteOptions o = llff_options(data, out);
  o.scenes = {"room", "trex", "fern"};
  o.seeds = 2;
  glimpse::testing::LogCapture log;
  const BenchSuiteResult r = run_bench_suite(o);
  ASSERT_EQ(log.errors.size(), 3u);  // room twice (each seed), trex once
  EXPECT_HAS(log.errors[0], "[1/6] room seed 0 failed");
  ASSERT_EQ(r.scenes.size(), 3u);
  EXPECT_EQ(r.num_failed, 2);
  EXPECT_HAS(r.scenes[0].error, "poses_bounds.npy");
  EXPECT_TRUE(r.scenes[0].runs.empty());
  EXPECT_HAS(r.scenes[1].error, "not found");
  ASSERT_EQ(r.scenes[2].runs.size(), 2u) << r.scenes[2].error;
  EXPECT_EQ(r.scenes[2].runs[0].seed, 0);
  EXPECT_EQ(r.scenes[2].runs[1].seed, 1);
  EXPECT_TRUE(r.scenes[2].error.empty());
  ASSERT_TRUE(r.mean.has_value());
  EXPECT_DOUBLE_EQ(r.mean->psnr, r.scenes[2].mean->psnr);  // the failed scenes do not count
  EXPECT_NEAR(r.scenes[2].mean->psnr,
              0.5 * (r.scenes[2].runs[0].test.psnr + r.scenes[2].runs[1].test.psnr), 1e-12);

  const Json results = read_json(out / "results.json");
  EXPECT_EQ(results["scenes"][0]["status"], "failed");
  EXPECT_EQ(results["num_failed"], 2);
  const std::string md = read_text(out / "results.md");
  EXPECT_HAS(md, "| room | failed |");
  EXPECT_HAS(md, "## Failed");
  EXPECT_HAS(md, " ± ");  // two seeds: mean ± std
  EXPECT_HAS(read_text(out / "results.csv"), "llff,3,trex,1,,failed,");
  // While a suite runs, its reports list the scenes not reached yet as such, not as failed.
  BenchSuiteResult running = r;
  running.scenes[0].error.clear();
  running.scenes[0].mean.reset();
  BenchSuiteOptions shown;
  shown.suite = Suite::Llff;
  const std::string running_md = running.to_markdown(shown);
  EXPECT_HAS(running_md, "| room | not run yet |");

  // Through the binary: the failures give exit code 1 after the reports are written.
  const glimpse::testing::ProgramRun run = glimpse::testing::run_glimpse(
      "bench --suite llff --data " + glimpse::testing::shell_quoted(data) + " -o " +
      glimpse::testing::shell_quoted(tmp.path() / "cli") +
      " --scenes room,fern --iterations 5 --threads 1 --device cpu");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_HAS(run.output, "1 of 2 scene(s) failed");
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "cli" / "fern" / "seed0" / "metrics.json"));
}

TEST(BenchSuite, UnofficialScenesAreFoundAndFlagged) {
  glimpse::testing::TempDir tmp;
  const fs::path data = tmp.path() / "data";
  write_llff_scene(data / "garden_b", 9);
  write_llff_scene(data / "garden_a", 9);
  fs::create_directories(data / "notes");  // not a scene
  BenchSuiteOptions o = llff_options(data, tmp.path() / "out");
  const std::vector<SuiteScene> found = find_bench_scenes(o);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "garden_a");
  EXPECT_FALSE(found[0].official);
  o.scenes = {"garden_a"};
  const BenchSuiteResult r = run_bench_suite(o);
  EXPECT_EQ(r.num_failed, 0);
  EXPECT_HAS(read_text(tmp.path() / "out" / "results.md"), "Not comparable with published");
  EXPECT_HAS(read_text(tmp.path() / "out" / "report.html"), "not comparable with published");
}

TEST(BenchSuite, DtuProtocolUsesTheMasks) {
  glimpse::testing::TempDir tmp;
  const fs::path data = tmp.path() / "dtu", out = tmp.path() / "out";
  write_dtu_scan(data, "scan8");
  BenchSuiteOptions o = llff_options(data, out);
  o.suite = Suite::Dtu;
  o.train.trainer.iterations = 5;
  const BenchSuiteResult r = run_bench_suite(o);
  ASSERT_EQ(r.scenes.size(), 1u);
  ASSERT_EQ(r.scenes[0].runs.size(), 1u) << r.scenes[0].error;
  EXPECT_TRUE(r.scenes[0].official);
  const Json metrics = read_json(out / "scan8" / "seed0" / "metrics.json");
  EXPECT_TRUE(metrics["metrics"]["masked"].get<bool>());
  EXPECT_HAS(metrics["protocol"].get<std::string>(), "dtu-3view");
  ASSERT_EQ(metrics["test"]["views"].size(), 25u);
  std::vector<std::string> train;
  for (const Json& v : metrics["train"]["views"]) train.push_back(v["name"]);
  EXPECT_EQ(train, (std::vector<std::string>{"rect_026_3_r5000.png", "rect_023_3_r5000.png",
                                             "rect_029_3_r5000.png"}));
  // PSNR over the mask: recompute from the written render and the original image.
  const Json& v = metrics["test"]["views"][0];
  EXPECT_EQ(v["name"], "rect_002_3_r5000.png");  // test id 1
  const fs::path run = out / "scan8" / "seed0" / "test";
  const Image<float> render = read_image_rgb((run / "renders" / "rect_002_3_r5000.png").string());
  const Image<float> truth = resize_image_area(
      read_image_rgb((data / "Rectified" / "scan8" / "rect_002_3_r5000.png").string()), 400, 300);
  Image<float> mask(400, 300, 1, 0.0f);
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 200; ++x) mask.at(x, y) = 1.0f;
  EXPECT_NEAR(v["psnr"].get<double>(), psnr_masked(render, truth, mask), 0.1);
  EXPECT_GT(std::abs(v["psnr"].get<double>() - psnr(render, truth)), 0.1);
  // The render as the metric sees it, beside the raw one: white outside the mask, the render
  // inside.
  const Image<float> seen =
      read_image_rgb((run / "renders_masked" / "rect_002_3_r5000.png").string());
  ASSERT_EQ(seen.width(), 400);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(seen.at(300, 150, c), 1.0f);
    EXPECT_NEAR(seen.at(100, 150, c), render.at(100, 150, c), 1.f / 255);
  }
  // The ground truth written for the report is white outside the mask.
  const Image<float> gt = read_image_rgb((run / "gt" / "rect_002_3_r5000.png").string());
  EXPECT_EQ(gt.at(300, 150, 0), 1.0f);
  EXPECT_NEAR(gt.at(100, 150, 1), truth.at(100, 150, 1), 1.0f / 255);
}

// A real scan of ../shared/data (IDR layout, anti-aliased masks binarised by the reader) runs the
// DTU protocol: 400x300, the 25 test views (each needs a mask, or the run fails), masked metrics.
TEST(BenchSuiteReal, DtuScanRunsTheMaskedProtocol) {
  if (glimpse::testing::data_dir().empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set";
  glimpse::testing::TempDir tmp;
  BenchSuiteOptions o = llff_options(glimpse::testing::data_dir() / "dtu", tmp.path() / "out");
  o.suite = Suite::Dtu;
  o.scenes = {"scan24"};
  o.train.trainer.iterations = 20;
  const BenchSuiteResult r = run_bench_suite(o);
  ASSERT_EQ(r.scenes.size(), 1u);
  ASSERT_EQ(r.scenes[0].runs.size(), 1u) << r.scenes[0].error;
  EXPECT_FALSE(r.scenes[0].official);
  const Json metrics = read_json(tmp.path() / "out" / "scan24" / "seed0" / "metrics.json");
  EXPECT_TRUE(metrics["metrics"]["masked"].get<bool>());
  EXPECT_EQ(metrics["dataset"]["width"], 400);
  EXPECT_EQ(metrics["dataset"]["height"], 300);
  ASSERT_EQ(metrics["test"]["views"].size(), 25u);
  EXPECT_EQ(metrics["test"]["views"][0]["name"], "000001.png");
  const double psnr = metrics["test"]["mean"]["psnr"].get<double>();
  EXPECT_TRUE(std::isfinite(psnr));
  EXPECT_GT(psnr, 5.0);
}

TEST(BenchSuite, OptionsAndCommandLineAreValidated) {
  glimpse::testing::TempDir tmp;
  BenchSuiteOptions o = llff_options(tmp.path(), tmp.path() / "out");
  o.views = 4;
  EXPECT_THROW(o.check(), Error);
  o.views = 3;
  o.seeds = 0;
  EXPECT_THROW(o.check(), Error);
  o.seeds = 1;
  o.data_dir = (tmp.path() / "missing").string();
  EXPECT_THROW(o.check(), Error);
  o.data_dir = tmp.path().string();
  EXPECT_NO_THROW(o.check());
  if (!cuda_backend_available()) {
    o.train.device = TrainDevice::Cuda;
    EXPECT_THROW(o.check(), Error);
    o.train.device = TrainDevice::Cpu;
  }
  // An empty data folder: no scene, a clear error.
  EXPECT_THROW(run_bench_suite(o), Error);

  using glimpse::testing::run_glimpse;
  const std::string data = glimpse::testing::shell_quoted(tmp.path());
  const std::string out = glimpse::testing::shell_quoted(tmp.path() / "o");
  EXPECT_EQ(run_glimpse("bench --suite nerf --data " + data + " -o " + out).exit_code, 2);
  EXPECT_EQ(run_glimpse("bench --suite llff -o " + out).exit_code, 2);
  const glimpse::testing::ProgramRun views =
      run_glimpse("bench --suite llff --views 4 --data " + data + " -o " + out);
  EXPECT_EQ(views.exit_code, 1);
  EXPECT_HAS(views.output, "views must be 3, 6 or 9");
  const glimpse::testing::ProgramRun empty =
      run_glimpse("bench --suite dtu --data " + data + " -o " + out);
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_HAS(empty.output, "no dtu scene found");
  const glimpse::testing::ProgramRun sheet =
      run_glimpse("bench --suite llff --data " + data + " -o " + out + " --sheet-view a.png");
  EXPECT_EQ(sheet.exit_code, 1);
  EXPECT_HAS(sheet.output, "--sheet-view names the view of the ablation sheet");
}

}  // namespace
}  // namespace glimpse
