// `glimpse bench-train`: the phase breakdown on the synthetic scene and on a real capture set up
// as `glimpse train` does it (here the tiny capture made in code), its JSON, and its refusals.
#include "app/bench_train.h"

#include "app/train_config.h"
#include "core/check.h"
#include "tests/app/tiny_capture.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace glimpse {
namespace {
namespace fs = std::filesystem;

// Folders bench-train made for its runs and left behind.
int leftover_run_folders() {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    n += e.path().filename().string().rfind("glimpse-bench-train-", 0) == 0;
  return n;
}

void expect_phases_timed(const BenchTrainResult& r) {
  EXPECT_GT(r.iterations_per_second, 0.0);
  EXPECT_GT(r.phases.render_forward, 0.0);
  EXPECT_GT(r.phases.render_backward, 0.0);
  EXPECT_GT(r.phases.photometric, 0.0);
  EXPECT_GT(r.phases.adam, 0.0);
  EXPECT_LE(r.step_ms_min, r.step_ms_median);
  EXPECT_GT(r.peak_memory_mib, 0.0);
}

TEST(BenchTrain, SyntheticScene) {
  BenchTrainOptions o;
  o.gaussians = 2000;
  o.width = 64;
  o.height = 48;
  o.iterations = 3;
  o.warmup = 1;
  o.threads = 2;
  const BenchTrainResult r = run_bench_train(o);
  EXPECT_EQ(r.scene, "synthetic");
  EXPECT_EQ(r.gaussians, 2000);
  EXPECT_EQ(r.width, 64);
  EXPECT_EQ(r.height, 48);
  expect_phases_timed(r);
  EXPECT_NE(format_bench_train(o, r).find("render_backward"), std::string::npos);
}

TEST(BenchTrain, RealCaptureAsTrainSetsItUp) {
  const TinyCapture capture;
  TrainConfig c = tiny_config(capture, (capture.tmp() / "unused").string(), 4);
  c.trainer.strategy = DensifyStrategy::None;
  const fs::path config = capture.tmp() / "config.json";
  save_train_config(config.string(), c);
  BenchTrainOptions o;
  o.data = capture.root();
  o.config_path = config.string();
  o.iterations = 5;
  o.warmup = 2;
  o.threads = 2;
  o.json_path = (capture.tmp() / "bench.json").string();
  const int before = leftover_run_folders();
  const BenchTrainResult r = run_bench_train(o);
  EXPECT_EQ(leftover_run_folders(), before);           // its run folder is removed
  EXPECT_FALSE(fs::exists(capture.tmp() / "unused"));  // the configured output is not used
  EXPECT_NE(r.scene.find("capture"), std::string::npos) << r.scene;
  EXPECT_NE(r.scene.find("init depth"), std::string::npos) << r.scene;
  EXPECT_EQ(r.width, kWidth);
  EXPECT_EQ(r.height, kHeight);
  EXPECT_GT(r.gaussians, 0);
  expect_phases_timed(r);
  std::ifstream in(o.json_path);
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["scene"], r.scene);
  EXPECT_EQ(j["gaussians"], r.gaussians);
  EXPECT_GT(j["phase_ms"]["render_forward"].get<double>(), 0.0);
}

TEST(BenchTrain, RefusesCaptureOptionsWithoutACapture) {
  BenchTrainOptions o;
  o.protocol = "llff";
  EXPECT_THROW(run_bench_train(o), Error);
  o.protocol = "none";
  o.config_path = "c.json";
  EXPECT_THROW(run_bench_train(o), Error);
  BenchTrainOptions missing;
  missing.data = "/nonexistent/capture";
  try {
    run_bench_train(missing);
    ADD_FAILURE() << "a missing capture was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/capture"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace glimpse
