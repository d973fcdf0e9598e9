// `glimpse train` on a tiny LLFF capture made in code (5 views of 32x24 rendered from a random
// Gaussian scene): every output, resume (bit-identical to a straight run), failures before any
// work, divergence keeping the last checkpoint, and the command line through the binary.
#include "app/train_command.h"

#include "app/progress.h"
#include "app/render_pipeline.h"
#include "core/check.h"
#include "core/log.h"
#include "io/cameras_json.h"
#include "io/image_io.h"
#include "io/llff.h"
#include "io/npy.h"
#include "io/plot.h"
#include "io/splat_formats.h"
#include "io/splat_ply.h"
#include "optim/loss_term.h"
#include "priors/background_mask.h"
#include "priors/point_init.h"
#include "tests/app/run_glimpse.h"
#include "tests/app/tiny_capture.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>
#include <zlib.h>

namespace glimpse {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::json;

TrainRunOptions logged() {
  TrainRunOptions run;
  run.progress = ProgressMode::Logged;
  return run;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) \
  EXPECT_NE((text).find(part), std::string::npos) << "'" << (text) << "' lacks '" << (part) << "'"

TEST(TrainCommand, TrainsAndWritesEveryOutput) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  const TrainConfig config = tiny_config(capture, out.string(), 30);
  const TrainResult result = run_train(config, logged());

  EXPECT_EQ(result.device, "cpu");
  EXPECT_EQ(result.start_iteration, 0);
  EXPECT_EQ(result.final_iteration, 30);
  EXPECT_EQ(result.num_dataset_views, kViews);
  EXPECT_EQ(result.num_initial_gaussians, 3 * (kWidth / 4) * (kHeight / 4));
  EXPECT_GT(result.num_gaussians, 0);
  EXPECT_GT(result.its_per_second, 0.0);

  // config.json is the resolved configuration and loads back as it.
  ASSERT_TRUE(fs::is_regular_file(out / "config.json"));
  EXPECT_EQ(load_train_config((out / "config.json").string()).to_json(), config.to_json());
  // cameras.json: every view of the dataset.
  EXPECT_EQ(read_cameras_json((out / "cameras.json").string()).size(), size_t{kViews});
  // Point clouds every 10 iterations; the last is the final model.
  for (int it : {10, 20, 30})
    EXPECT_TRUE(fs::is_regular_file(out / "point_cloud" / ("iteration_" + std::to_string(it)) /
                                    "point_cloud.ply"))
        << it;
  const Gaussians final_model =
      read_splat_ply((out / "point_cloud" / "iteration_30" / "point_cloud.ply").string());
  EXPECT_EQ(static_cast<int64_t>(final_model.size()), result.num_gaussians);
  EXPECT_EQ(final_model.sh_degree, 1);
  EXPECT_TRUE(fs::is_regular_file(out / "checkpoint.bin"));

  // metrics.json: both splits with finite PSNR and SSIM, the run's figures.
  const Json metrics = read_json(out / "metrics.json");
  EXPECT_EQ(metrics["iterations"], 30);
  EXPECT_EQ(metrics["device"], "cpu");
  EXPECT_EQ(metrics["num_gaussians"].get<int64_t>(), result.num_gaussians);
  ASSERT_EQ(metrics["test"]["views"].size(), 2u);
  ASSERT_EQ(metrics["train"]["views"].size(), 3u);
  EXPECT_EQ(metrics["test"]["views"][0]["name"], "img1.png");
  const double test_psnr = metrics["test"]["mean"]["psnr"].get<double>();
  EXPECT_TRUE(std::isfinite(test_psnr));
  EXPECT_GT(test_psnr, 5.0);
  EXPECT_NEAR(test_psnr, result.test.mean_psnr, 1e-9);
  const double ssim = metrics["test"]["mean"]["ssim"].get<double>();
  EXPECT_GT(ssim, 0.0);
  EXPECT_LE(ssim, 1.0);
  EXPECT_GT(metrics["wall_seconds"].get<double>(), 0.0);
  EXPECT_EQ(metrics["test_psnr_history"].size(), 2u);  // iterations 10 and 20
  EXPECT_EQ(metrics["config"], config.to_json());
  EXPECT_TRUE(fs::is_regular_file(out / "metrics.md"));
  // Where the steps' time went, by phase (ms per step).
  EXPECT_GT(metrics["step_phases_ms"]["render_forward"].get<double>(), 0.0);
  EXPECT_GT(metrics["step_phases_ms"]["render_backward"].get<double>(), 0.0);
  EXPECT_GE(metrics["step_phases_ms"]["loop_overhead"].get<double>(), 0.0);

  // The images of the evaluation, and the loss curve.
  for (const char* split_view : {"test/%s/img1.png", "test/%s/img3.png", "train/%s/img0.png"})
    for (const char* kind : {"renders", "gt", "depth", "error"}) {
      char rel[64];
      std::snprintf(rel, sizeof(rel), split_view, kind);
      const Image<float> image = read_image_rgb((out / rel).string());
      // Depth images carry their colour scale to the right.
      if (std::string(kind) == "depth")
        EXPECT_GT(image.width(), kWidth) << rel;
      else
        EXPECT_EQ(image.width(), kWidth) << rel;
      EXPECT_EQ(image.height(), kHeight) << rel;
    }
  EXPECT_FALSE(fs::exists(out / "test" / "renders_masked"));  // not a masked protocol
  // The written render is the one the PSNR was measured on (up to 8-bit rounding).
  const Image<float> render = read_image_rgb((out / "test/renders/img1.png").string());
  const Image<float> gt = read_image_rgb((out / "test/gt/img1.png").string());
  EXPECT_NEAR(psnr_clamped(render, gt), result.test.views[0].psnr, 0.2);
  const Image<float> curve = read_image_rgb((out / "loss_curve.png").string());
  EXPECT_EQ(curve.width(), PlotOptions{}.width);
  EXPECT_EQ(curve.height(), PlotOptions{}.height);
  // Test PSNR against time: one point per periodic test (every 10 iterations) and the final one,
  // with times that increase.
  ASSERT_EQ(result.test_seconds_history.size(), result.test_psnr_history.size());
  ASSERT_FALSE(result.test_seconds_history.empty());
  for (size_t i = 1; i < result.test_seconds_history.size(); ++i)
    EXPECT_GT(result.test_seconds_history[i], result.test_seconds_history[i - 1]);
  EXPECT_GE(result.final_train_wall_seconds, result.test_seconds_history.back());
  EXPECT_GT(metrics["test_psnr_history"][0]["seconds"].get<double>(), 0.0);
  EXPECT_EQ(read_image_rgb((out / "test_psnr_time.png").string()).width(), PlotOptions{}.width);

  // No temporary or probe files left behind.
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
    EXPECT_EQ(entry.path().string().find("probe"), std::string::npos) << entry.path();
  }
}

TEST(TrainCommand, TrainingImprovesTheTrainingViews) {
  const TinyCapture capture;
  TrainConfig config = tiny_config(capture, (capture.tmp() / "a").string(), 1);
  config.checkpoint_every = 0;
  const TrainResult one = run_train(config, logged());
  EXPECT_FALSE(fs::exists(capture.tmp() / "a" / "checkpoint.bin"));  // checkpoint_every 0
  config.output = (capture.tmp() / "b").string();
  config.trainer.iterations = 150;
  config.save_every = 0;
  config.test_every = 0;
  const TrainResult many = run_train(config, logged());
  EXPECT_GT(many.train.mean_psnr, one.train.mean_psnr + 3.0)
      << one.train.mean_psnr << " -> " << many.train.mean_psnr;
  // save_every 0: only the final point cloud.
  EXPECT_EQ(std::distance(fs::directory_iterator(capture.tmp() / "b" / "point_cloud"),
                          fs::directory_iterator{}),
            1);
}

TEST(TrainCommand, ResumeContinuesBitIdentically) {
  const TinyCapture capture;
  // Straight to 30.
  const fs::path straight = capture.tmp() / "straight";
  run_train(tiny_config(capture, straight.string(), 30), logged());
  // 20, then resumed to 30 (a different thread count and cadence do not matter for resuming).
  const fs::path resumed = capture.tmp() / "resumed";
  TrainConfig first = tiny_config(capture, resumed.string(), 20);
  first.checkpoint_every = 7;  // checkpoints at 7, 14 and the final one at 20
  const TrainResult part = run_train(first, logged());
  ASSERT_TRUE(checkpoint_has_history((resumed / "checkpoint.bin").string()));
  TrainConfig second = tiny_config(capture, resumed.string(), 30);
  TrainRunOptions run = logged();
  run.resume = true;
  const TrainResult result = run_train(second, run);
  EXPECT_EQ(result.start_iteration, 20);
  EXPECT_EQ(result.final_iteration, 30);
  const std::string ply = "point_cloud/iteration_30/point_cloud.ply";
  ASSERT_TRUE(fs::is_regular_file(resumed / ply));
  EXPECT_EQ(read_bytes(resumed / ply), read_bytes(straight / ply))
      << "a resumed run must end where the straight run ends";
  EXPECT_EQ(read_json(resumed / "metrics.json")["start_iteration"], 20);

  // The report covers the whole run: the checkpoint kept what the first process measured.
  EXPECT_GT(result.train_seconds, part.train_seconds);
  EXPECT_DOUBLE_EQ(result.its_per_second, 30 / result.train_seconds);
  ASSERT_EQ(part.test_psnr_history.size(), 1u);  // at 10 (20 was the final evaluation)
  ASSERT_EQ(result.test_psnr_history.size(), 1u);
  EXPECT_EQ(result.test_psnr_history[0], part.test_psnr_history[0]);
  EXPECT_EQ(result.test_ssim_history[0], part.test_ssim_history[0]);
  EXPECT_EQ(result.test_seconds_history, part.test_seconds_history);
  EXPECT_GT(result.final_train_wall_seconds, part.final_train_wall_seconds);
  EXPECT_GT(result.step_phases.total(), 0.0);
}

// The checkpoint at `path` with its metadata replaced by `metadata` (length prefix and CRC-32
// trailer rewritten): checkpoints from older versions, or with a history that does not fit.
void rewrite_checkpoint_metadata(const fs::path& path, const std::string& metadata) {
  const std::string bytes = read_bytes(path);
  constexpr size_t kLengthAt = 12;  // magic (8), version (4), then the metadata's length (8)
  uint64_t length = 0;
  std::memcpy(&length, bytes.data() + kLengthAt, sizeof(length));
  const size_t rest = kLengthAt + 8 + length;
  ASSERT_LT(rest, bytes.size() - 4);
  std::string out = bytes.substr(0, kLengthAt);
  const uint64_t new_length = metadata.size();
  out.append(reinterpret_cast<const char*>(&new_length), sizeof(new_length));
  out += metadata;
  out += bytes.substr(rest, bytes.size() - 4 - rest);
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(out.data()), out.size()));
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((crc >> (8 * k)) & 0xff));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << out;
}

// A checkpoint whose history does not fit the iteration (a curve cut short), or one from before
// the history was kept (the bare configuration): both resume with a warning, and the report
// covers the resumed part only.
TEST(TrainCommand, ResumingWithoutAFittingHistoryWarnsAndReportsTheResumedPart) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  const TrainResult first = run_train(tiny_config(capture, out.string(), 20), logged());
  ASSERT_EQ(first.test_psnr_history.size(), 1u);  // at 10
  const fs::path checkpoint = out / "checkpoint.bin";
  std::ifstream in(checkpoint, std::ios::binary);
  const Json saved = Json::parse(read_checkpoint_header(in, checkpoint.string()).metadata);
  in.close();
  ASSERT_EQ(saved["history"]["losses"].size(), 20u);

  for (const bool legacy : {false, true}) {
    Json changed = saved;
    changed["history"]["losses"].erase(0);  // 19 losses for 20 iterations
    rewrite_checkpoint_metadata(checkpoint, legacy ? saved["config"].dump() : changed.dump());
    TrainRunOptions run = logged();
    run.resume = true;
    testing::LogCapture log;
    const int target = legacy ? 30 : 25;
    const TrainResult r = run_train(tiny_config(capture, out.string(), target), run);
    EXPECT_EQ(r.final_iteration, target);
    std::vector<std::string> history_warnings;  // (LPIPS may warn too, without weights)
    for (const std::string& w : log.warnings)
      if (w.find("run history") != std::string::npos) history_warnings.push_back(w);
    ASSERT_EQ(history_warnings.size(), 1u) << legacy;
    EXPECT_HAS(history_warnings[0],
               legacy ? "predates the run history" : "holds a run history that does not fit");
    EXPECT_HAS(history_warnings[0], "cover iterations " + std::to_string(legacy ? 25 : 20));
    EXPECT_TRUE(r.test_psnr_history.empty()) << legacy;  // the first part's test at 10 is gone
    EXPECT_DOUBLE_EQ(r.its_per_second, (target - r.start_iteration) / r.train_seconds);
  }
}

// A checkpoint's metadata: {"config", "history"} now, the bare configuration before the history
// was kept (such checkpoints still resume, reporting the resumed part only).
TEST(TrainCommand, CheckpointMetadataWithAndWithoutTheRunHistory) {
  const nlohmann::json config = TrainConfig{}.to_json();
  const SavedRunMetadata bare = parse_checkpoint_metadata(config.dump(), "old.bin");
  EXPECT_EQ(bare.config, config);
  EXPECT_TRUE(bare.history.is_null());
  const nlohmann::json history = {{"first_iteration", 0}, {"losses", {0.5, 0.25}}};
  const SavedRunMetadata both = parse_checkpoint_metadata(
      nlohmann::json{{"config", config}, {"history", history}}.dump(), "new.bin");
  EXPECT_EQ(both.config, config);
  EXPECT_EQ(both.history, history);
  EXPECT_HAS(error_of([] { parse_checkpoint_metadata("{not json", "broken.bin"); }),
             "broken.bin carries no readable configuration");
  EXPECT_HAS(error_of([] { parse_checkpoint_metadata("[1, 2]", "list.bin"); }),
             "list.bin carries no readable configuration");
}

TEST(TrainCommand, ResumeRefusesAnotherConfiguration) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  run_train(tiny_config(capture, out.string(), 10), logged());
  const std::string config_before = read_bytes(out / "config.json");
  const std::string checkpoint_before = read_bytes(out / "checkpoint.bin");
  TrainConfig changed = tiny_config(capture, out.string(), 20);
  changed.trainer.lr.opacity = 0.02f;
  TrainRunOptions run = logged();
  run.resume = true;
  const std::string e = error_of([&] { run_train(changed, run); });
  EXPECT_HAS(e, "cannot resume from");
  EXPECT_HAS(e, "trainer.lr.opacity: 0.05 vs 0.02");
  // Nothing was written.
  EXPECT_EQ(read_bytes(out / "config.json"), config_before);
  EXPECT_EQ(read_bytes(out / "checkpoint.bin"), checkpoint_before);
  EXPECT_FALSE(fs::exists(out / "point_cloud" / "iteration_20"));

  // A checkpoint with one byte flipped in the middle: refused by its checksum, naming the file.
  {
    std::string flipped = checkpoint_before;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    std::ofstream(out / "checkpoint.bin", std::ios::binary) << flipped;
    TrainConfig same = tiny_config(capture, out.string(), 20);
    const std::string flip_error = error_of([&] { run_train(same, run); });
    EXPECT_HAS(flip_error, (out / "checkpoint.bin").string());
    EXPECT_HAS(flip_error, "CRC-32 checksum does not match");
    EXPECT_EQ(read_bytes(out / "config.json"), config_before);
    EXPECT_FALSE(fs::exists(out / "point_cloud" / "iteration_20"));
  }

  // --resume without a checkpoint.
  TrainConfig fresh = tiny_config(capture, (capture.tmp() / "fresh").string(), 10);
  EXPECT_HAS(error_of([&] { run_train(fresh, run); }), "there is no checkpoint");
  EXPECT_FALSE(fs::exists(capture.tmp() / "fresh"));
}

TEST(TrainCommand, FailsBeforeTrainingOnBadInputs) {
  const TinyCapture capture;
  // An output folder that cannot be created: its parent is a file (fails for root as well).
  const fs::path file = capture.tmp() / "a_file";
  std::ofstream(file) << "x";
  TrainConfig config = tiny_config(capture, (file / "out").string(), 10);
  std::string e = error_of([&] { run_train(config, logged()); });
  EXPECT_HAS(e, "cannot create output folder");
  EXPECT_HAS(e, (file / "out").string());
  // An output path that is a file.
  config.output = file.string();
  EXPECT_HAS(error_of([&] { run_train(config, logged()); }), "exists and is not a folder");
  // A missing dataset: nothing is created.
  config = tiny_config(capture, (capture.tmp() / "out").string(), 10);
  config.dataset = (capture.tmp() / "nothing").string();
  EXPECT_HAS(error_of([&] { run_train(config, logged()); }), "does not exist");
  EXPECT_FALSE(fs::exists(capture.tmp() / "out"));
  // A configuration file with an unknown key fails while loading, before any work.
  const fs::path cfg = capture.tmp() / "cfg.json";
  std::ofstream(cfg) << R"({"trainer": {"lr": {"means_inital": 0.001}}})";
  e = error_of([&] { load_train_config(cfg.string()); });
  EXPECT_HAS(e, cfg.string());
  EXPECT_HAS(e, "unknown key 'trainer.lr.means_inital'");
  // An out-of-range value given programmatically.
  config = tiny_config(capture, (capture.tmp() / "out").string(), 10);
  config.trainer.dssim_lambda = -1;
  EXPECT_HAS(error_of([&] { run_train(config, logged()); }), "dssim_lambda");
  EXPECT_FALSE(fs::exists(capture.tmp() / "out"));
}

using glimpse::testing::LogCapture;

// A loss term that makes the gradient of one position NaN at a chosen iteration, and copies the
// checkpoint file as it is two iterations earlier (after the checkpoint before the divergence).
class PoisonTerm : public LossTerm {
 public:
  PoisonTerm(int at, fs::path checkpoint, std::string* copy)
      : at_(at), checkpoint_(std::move(checkpoint)), copy_(copy) {}
  std::string name() const override { return "poison"; }
  double evaluate(const LossContext& c, RenderOutputGradients&, GaussianGradients& v) override {
    if (c.iteration == at_ - 2) *copy_ = read_bytes(checkpoint_);
    if (c.iteration == at_) v.means[0] = NAN;
    return 0.0;
  }

 private:
  int at_;
  fs::path checkpoint_;
  std::string* copy_;
};

TEST(TrainCommand, DivergenceKeepsTheLastCheckpointAndWritesNothingElse) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  TrainConfig config = tiny_config(capture, out.string(), 30);
  config.checkpoint_every = 5;
  config.save_every = 5;
  std::string checkpoint_at_11;
  TrainRunOptions run = logged();
  run.prepare = [&](Trainer& trainer) {
    trainer.add_loss_term(
        std::make_unique<PoisonTerm>(13, out / "checkpoint.bin", &checkpoint_at_11));
  };
  {
    LogCapture log;
    try {
      run_train(config, run);
      FAIL() << "the run did not diverge";
    } catch (const DivergenceError& e) {
      EXPECT_EQ(e.iteration(), 13);
      EXPECT_EQ(e.group(), "means");
      EXPECT_HAS(std::string(e.what()), "training diverged at iteration 13");
      EXPECT_HAS(std::string(e.what()), "the last checkpoint " + (out / "checkpoint.bin").string() +
                                            " (iteration 10) is kept");
    }
    ASSERT_EQ(log.errors.size(), 1u);
    EXPECT_EQ(log.errors[0], "train: diverged at iteration 13 in parameter group 'means'");
  }
  // The checkpoint of iteration 10, untouched; nothing written after the divergence.
  ASSERT_FALSE(checkpoint_at_11.empty());
  EXPECT_EQ(read_bytes(out / "checkpoint.bin"), checkpoint_at_11);
  EXPECT_TRUE(fs::exists(out / "point_cloud" / "iteration_10"));
  EXPECT_FALSE(fs::exists(out / "point_cloud" / "iteration_15"));
  EXPECT_FALSE(fs::exists(out / "metrics.json"));
  EXPECT_FALSE(fs::exists(out / "loss_curve.png"));
  EXPECT_FALSE(fs::exists(out / "test"));
  // It resumes.
  TrainConfig resume = config;
  resume.trainer.iterations = 12;
  TrainRunOptions resume_run = logged();
  resume_run.resume = true;
  const TrainResult result = run_train(resume, resume_run);
  EXPECT_EQ(result.start_iteration, 10);
  EXPECT_EQ(result.final_iteration, 12);
}

TEST(TrainCommand, DivergenceFromAnAbsurdLearningRate) {
  // A learning rate above FLT_MAX / 10 makes Adam's first bias-corrected step size lr / (1 -
  // beta1) infinite, so every opacity logit becomes infinite or NaN in the first update: a
  // divergence that does not depend on the data.
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  TrainConfig config = tiny_config(capture, out.string(), 30);
  config.trainer.lr.opacity = 1e38f;
  ASSERT_NO_THROW(config.check());  // finite, so not rejected up front
  LogCapture log;
  try {
    run_train(config, logged());
    FAIL() << "the run did not diverge";
  } catch (const DivergenceError& e) {
    EXPECT_EQ(e.iteration(), 1);
    EXPECT_EQ(e.group(), "opacity_logits");
    EXPECT_HAS(std::string(e.what()), "no checkpoint had been written");
  }
  EXPECT_EQ(log.errors.size(), 1u);
  // Only what is written before training.
  EXPECT_TRUE(fs::is_regular_file(out / "config.json"));
  EXPECT_TRUE(fs::is_regular_file(out / "cameras.json"));
  EXPECT_FALSE(fs::exists(out / "checkpoint.bin"));
  EXPECT_FALSE(fs::exists(out / "metrics.json"));
  EXPECT_FALSE(fs::exists(out / "loss_curve.png"));
  EXPECT_FALSE(fs::exists(out / "point_cloud"));
  EXPECT_FALSE(fs::exists(out / "test"));
}

TEST(RandomInit, PointsLieInTheFrustumsBetweenTheBounds) {
  const TinyCapture capture;
  LlffOptions llff;
  llff.factor = 1;
  const Dataset dataset = read_llff(capture.root(), llff);
  const Gaussians g = random_frustum_init(dataset.views, kNear, kFar, 500, 0.1f, 3, 2);
  ASSERT_EQ(g.size(), 500u);
  EXPECT_EQ(g.sh_degree, 2);
  for (size_t i = 0; i < g.size(); ++i) {
    const Vec3<double> p{g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]};
    bool inside = false;  // in at least one view's frustum, between the bounds
    for (const View& v : dataset.views) {
      const Vec3<double> q = v.camera.cam_from_world(p);
      const double u = v.camera.fx * q.x / q.z + v.camera.cx;
      const double w = v.camera.fy * q.y / q.z + v.camera.cy;
      inside = inside || (q.z >= kNear * 0.999 && q.z <= kFar * 1.001 && u >= -1e-3 &&
                          u <= kWidth + 1e-3 && w >= -1e-3 && w <= kHeight + 1e-3);
    }
    EXPECT_TRUE(inside) << "Gaussian " << i;
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-g.opacity_logits[i])), 0.1, 1e-6);
  }
  // Deterministic for a seed; another seed gives other points.
  EXPECT_EQ(random_frustum_init(dataset.views, kNear, kFar, 500, 0.1f, 3, 2).means, g.means);
  EXPECT_NE(random_frustum_init(dataset.views, kNear, kFar, 500, 0.1f, 4, 2).means, g.means);
  EXPECT_THROW(random_frustum_init(dataset.views, kFar, kNear, 10, 0.1f, 1, 0), Error);
}

// --holdout replaces the capture's split.json (train 0 2 4 / test 1 3) with every Nth view.
TEST(TrainCommand, HoldoutChoosesEveryNthViewForTesting) {
  const TinyCapture capture;
  TrainConfig config = tiny_config(capture, (capture.tmp() / "out").string(), 3);
  config.holdout = 2;
  const TrainResult result = run_train(config, logged());
  std::vector<std::string> test, train;
  for (const ViewMetrics& v : result.test.views) test.push_back(v.name);
  for (const ViewMetrics& v : result.train.views) train.push_back(v.name);
  EXPECT_EQ(test, (std::vector<std::string>{"img0.png", "img2.png", "img4.png"}));
  EXPECT_EQ(train, (std::vector<std::string>{"img1.png", "img3.png"}));
  EXPECT_HAS(result.protocol, "holdout 2: views i with i % 2 == 0 tested, 2 training views");
  config.holdout = 1;  // nothing left to train on
  config.output = (capture.tmp() / "out1").string();
  EXPECT_HAS(error_of([&] { run_train(config, logged()); }), "leaves no training view");
}

TEST(TrainCommand, WithoutHeldOutViewsNoFigureIsCalledATestFigure) {
  const TinyCapture capture;
  fs::remove(fs::path(capture.root()) / "split.json");
  const fs::path out = capture.tmp() / "out";
  const TrainResult result = run_train(tiny_config(capture, out.string(), 3), logged());
  EXPECT_TRUE(result.test.views.empty());
  EXPECT_EQ(result.train.views.size(), 5u);
  EXPECT_HAS(result.protocol, "no held-out views");
  const Json metrics = read_json(out / "metrics.json");
  EXPECT_TRUE(metrics["test"].is_null()) << metrics["test"].dump();
  EXPECT_EQ(metrics["held_out_views"], 0);
  EXPECT_HAS(metrics["protocol"].get<std::string>(), "no held-out views");
  EXPECT_HAS(read_bytes(out / "metrics.md"), "**no held-out views**");
  EXPECT_FALSE(fs::exists(out / "test"));
  // With the split, the test figures are there.
  const fs::path split_out = capture.tmp() / "split";
  std::ofstream(fs::path(capture.root()) / "split.json")
      << R"({"train": ["img0.png", "img2.png", "img4.png"], "test": ["img1.png", "img3.png"]})";
  run_train(tiny_config(capture, split_out.string(), 3), logged());
  const Json with_split = read_json(split_out / "metrics.json");
  EXPECT_EQ(with_split["held_out_views"], 2);
  EXPECT_EQ(with_split["test"]["views"].size(), 2u);
  EXPECT_HAS(with_split["protocol"].get<std::string>(),
             "the dataset's split (llff): 3 training, 2 test");
}

// The training masks: none, the dataset's (this capture has none) or the images' dark background,
// whose masks are written beside the run and are those of priors/background_mask.h.
TEST(TrainCommand, TrainingMasksAreChosenRecordedAndWritten) {
  const TinyCapture capture;
  TrainConfig config = tiny_config(capture, (capture.tmp() / "dark").string(), 2);
  config.training_masks = TrainingMasks::Heuristic;
  config.background_heuristic.dark_threshold = 0.5f;  // the tiny scene's background is dark
  config.background_heuristic.dark_run = 3;
  const TrainResult dark = run_train(config, logged());
  EXPECT_HAS(dark.training_masks,
             "heuristic: background from the images, dark (max RGB < 0.5) over 3 pixels up");
  EXPECT_HAS(dark.training_masks, "3 of 3 training views");
  const Json metrics = read_json(capture.tmp() / "dark" / "metrics.json");
  EXPECT_EQ(metrics["training_masks"], dark.training_masks);
  const Dataset dataset = read_llff(capture.root(), LlffOptions{1});
  int written = 0;
  for (const View& v : dataset.views) {
    const fs::path png = capture.tmp() / "dark" / "training_masks" / v.name;
    if (!fs::exists(png)) continue;
    ++written;
    const Image<float> saved = read_mask(png.string());
    const Image<float> expected = background_heuristic_mask(v.image, config.background_heuristic);
    ASSERT_EQ(saved.width(), expected.width());
    for (size_t p = 0; p < expected.num_pixels(); ++p)
      ASSERT_EQ(saved.data()[p], expected.data()[p]) << v.name << " pixel " << p;
  }
  EXPECT_EQ(written, 3);

  config.output = (capture.tmp() / "none").string();
  config.training_masks = TrainingMasks::None;
  EXPECT_EQ(run_train(config, logged()).training_masks, "none");
  EXPECT_FALSE(fs::exists(capture.tmp() / "none" / "training_masks"));

  config.output = (capture.tmp() / "auto").string();
  config.training_masks = TrainingMasks::Auto;  // no protocol: the dataset's, which has none
  EXPECT_HAS(run_train(config, logged()).training_masks,
             "dataset (auto): the dataset's object masks; no training view has one");
  EXPECT_EQ(resolve_training_masks(TrainingMasks::Auto, EvalProtocol::Dtu),
            TrainingMasks::Heuristic);
  EXPECT_EQ(resolve_training_masks(TrainingMasks::Auto, EvalProtocol::Llff),
            TrainingMasks::Dataset);
  EXPECT_EQ(resolve_training_masks(TrainingMasks::None, EvalProtocol::Dtu), TrainingMasks::None);
}

TEST(TrainCommand, ContinuesFromASplatFileOfAnyFormatAndDegree) {
  const TinyCapture capture;
  const fs::path first = capture.tmp() / "first";
  TrainConfig config = tiny_config(capture, first.string(), 5);
  const TrainResult a = run_train(config, logged());
  // The model as SPZ at SH degree 0, continued at the configured degree 3.
  Gaussians g = read_splat_ply(a.ply_path);
  const fs::path spz = capture.tmp() / "model.spz";
  write_splat_file(spz.string(), with_sh_degree(g, 0), SplatFormat::Spz);
  TrainConfig next = tiny_config(capture, (capture.tmp() / "next").string(), 3);
  next.init = InitMethod::Ply;
  next.init_ply = spz.string();
  const TrainResult b = run_train(next, logged());
  EXPECT_EQ(b.init_method, "ply");
  EXPECT_EQ(b.num_initial_gaussians, static_cast<int64_t>(g.size()));
  EXPECT_EQ(read_splat_ply(b.ply_path).sh_degree, next.trainer.sh_degree);
  // A missing or broken file is named before anything is written.
  next.output = (capture.tmp() / "broken").string();
  next.init_ply = (capture.tmp() / "nothing.splat").string();
  EXPECT_HAS(error_of([&] { run_train(next, logged()); }), "nothing.splat");
  EXPECT_FALSE(fs::exists(capture.tmp() / "broken" / "metrics.json"));
}

TEST(TrainCommand, RandomInitTrains) {
  const TinyCapture capture;
  TrainConfig config = tiny_config(capture, (capture.tmp() / "out").string(), 10);
  config.init = InitMethod::Random;
  config.random_count = 300;
  config.trainer.strategy = DensifyStrategy::Mcmc;
  config.trainer.mcmc.cap_max = 400;
  config.trainer.mcmc.start_iteration = 5;
  config.trainer.mcmc.every = 5;
  const TrainResult result = run_train(config, logged());
  EXPECT_EQ(result.num_initial_gaussians, 300);
  EXPECT_LE(result.num_gaussians, 400);
  EXPECT_TRUE(std::isfinite(result.test.mean_psnr));
}

// [SECTION] progress display ----------------------------------------------------------------------

StepStats step_stats(int iteration) {
  StepStats s;
  s.iteration = iteration;
  s.loss = 0.1;
  s.psnr = 20.0;
  s.num_gaussians = 1234;
  s.seconds = 0.05;
  return s;
}

TEST(Progress, LineShowsEveryFigure) {
  ProgressFigures f;
  f.iteration = 250;
  f.total = 1000;
  f.its_per_second = 12.5;
  f.loss = 0.04123;
  f.psnr = 24.316;
  f.num_gaussians = 71234;
  f.eta_seconds = 61;
  EXPECT_EQ(
      format_progress_line(f, 8),
      "[##......]  250/1000 ( 25%)  12.5 it/s  loss 0.0412  PSNR 24.32 dB (train view, unmasked)  "
      "71234 "
      "Gaussians  ETA 1:01");
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(format_duration(7), "0:07");
}

TEST(Progress, InteractiveRedrawsOneLineInPlace) {
  std::ostringstream out;
  ProgressOptions options;
  options.interactive = true;
  options.redraw_interval = 0.0;
  TrainProgress progress(0, 3, options, out);
  for (int i = 1; i <= 3; ++i) progress.update(step_stats(i));
  progress.finish();
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;  // one line, ended once
  EXPECT_GE(std::count(text.begin(), text.end(), '\r'), 3) << text;
  EXPECT_HAS(text, "3/3 (100%)");
  EXPECT_NEAR(progress.figures().its_per_second, 20.0, 1e-9);
  EXPECT_NEAR(progress.figures().eta_seconds, 0.0, 1e-9);
}

TEST(Progress, LoggedModeWritesFewLines) {
  std::ostringstream out;
  ProgressOptions options;  // logged: every 10%, at most one line per 2 s
  TrainProgress progress(0, 1000, options, out);
  for (int i = 1; i <= 1000; ++i) progress.update(step_stats(i));
  progress.finish();
  EXPECT_EQ(out.str(), "");                // nothing on the interactive stream
  EXPECT_EQ(progress.lines_written(), 1);  // a fast run: only the final line
  options.log_min_interval = 0.0;
  TrainProgress every_tenth(0, 1000, options, out);
  for (int i = 1; i <= 1000; ++i) every_tenth.update(step_stats(i));
  every_tenth.finish();
  EXPECT_EQ(every_tenth.lines_written(), 10);
}

// [SECTION] the loss-curve plot (io/plot.h)
// --------------------------------------------------------

TEST(Plot, NiceTicksCoverTheRangeInRoundSteps) {
  EXPECT_EQ(nice_ticks(0, 2000, 5), (std::vector<double>{0, 500, 1000, 1500, 2000}));
  EXPECT_EQ(nice_ticks(0.043, 0.19, 5),
            (std::vector<double>{0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2}));
  const std::vector<double> flat = nice_ticks(3, 3);  // a constant series gets a range
  EXPECT_LT(flat.front(), 3);
  EXPECT_GT(flat.back(), 3);
  const std::vector<double> t = nice_ticks(-7.3, 12.1, 4);
  EXPECT_LE(t.front(), -7.3);
  EXPECT_GE(t.back(), 12.1);
  EXPECT_GE(t.size(), 2u);
}

TEST(Plot, WritesAPngAndRejectsBadSeries) {
  glimpse::testing::TempDir tmp;
  PlotSeries loss{"loss", {1, 2, 3, 4}, {0.5, 0.3, NAN, 0.2}};
  PlotSeries psnr{"PSNR", {1, 4}, {15, 20}};
  psnr.right_axis = true;
  psnr.markers = true;
  const std::string path = (tmp.path() / "plot.png").string();
  PlotOptions options;
  options.width = 400;
  options.height = 300;
  write_line_plot_png(path, {loss, psnr}, "title", "iteration", options);
  const Image<float> image = read_image_rgb(path);
  ASSERT_EQ(image.width(), 400);
  ASSERT_EQ(image.height(), 300);
  // A white canvas with something drawn on it: the corner is white, some pixels are not.
  EXPECT_EQ(image.at(0, 0, 0), 1.0f);
  int coloured = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x)
      coloured += image.at(x, y, 0) != image.at(x, y, 2);  // the blue and orange curves
  EXPECT_GT(coloured, 100);

  PlotSeries bad{"bad", {1, 2}, {1}};
  EXPECT_HAS(error_of([&] { write_line_plot_png(path, {bad}, "t", "x"); }),
             "series 'bad' has 2 x values but 1 y values");
  PlotSeries empty{"empty", {1}, {NAN}};
  EXPECT_HAS(error_of([&] { write_line_plot_png(path, {empty}, "t", "x"); }), "no finite data");
  options.width = 10;
  EXPECT_THROW(write_line_plot_png(path, {loss}, "t", "x", options), Error);
}

// [SECTION] the command line ------------------------------------------------------------------

using testing::ProgramRun;
using testing::run_glimpse;
using testing::shell_quoted;

#define EXPECT_OUTPUT_HAS(run, text) \
  EXPECT_NE((run).output.find(text), std::string::npos) << "output:\n" << (run).output

TEST(TrainCli, RejectsBadFlags) {
  glimpse::testing::TempDir tmp;
  const std::string out = shell_quoted(tmp.path() / "out");
  // Syntax: exit code 2.
  ProgramRun r = run_glimpse("train /d -o " + out + " --device gpu");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_OUTPUT_HAS(r, "--device");
  r = run_glimpse("train /d -o " + out + " --iterations many");
  EXPECT_EQ(r.exit_code, 2);
  r = run_glimpse("train /d -o " + out + " --strategy magic");
  EXPECT_EQ(r.exit_code, 2);
  r = run_glimpse("train /d -o " + out + " --no-such-flag");
  EXPECT_EQ(r.exit_code, 2);
  // Values: exit code 1 and a message.
  r = run_glimpse("train /no/such/dataset -o " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "glimpse: error: train: dataset folder /no/such/dataset does not exist");
  r = run_glimpse("train /d -o " + out + " --threads -1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "glimpse: error: command line: train: threads must be >= 0");
  r = run_glimpse("train /d -o " + out + " --iterations 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "iterations must be > 0");
  r = run_glimpse("train -o " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "no dataset folder given");
  r = run_glimpse("train /d -o " + out + " --config " + shell_quoted(tmp.path() / "missing.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "missing.json: file does not exist");
  std::ofstream(tmp.path() / "bad.json") << R"({"trainer": {"iterationz": 3}})";
  r = run_glimpse("train /d -o " + out + " --config " + shell_quoted(tmp.path() / "bad.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "unknown key 'trainer.iterationz'");
  EXPECT_OUTPUT_HAS(r, "bad.json");
  if (!cuda_backend_available()) {
    r = run_glimpse("train /d -o " + out + " --device cuda");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_OUTPUT_HAS(r, "--device cuda, but no CUDA device is available");
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "out"));
}

TEST(TrainCli, FlagsOverrideTheConfigFile) {
  glimpse::testing::TempDir tmp;
  std::ofstream(tmp.path() / "cfg.json")
      << R"({"threads": 3, "trainer": {"iterations": 500, "lr": {"opacity": 0.01}}})";
  const ProgramRun r =
      run_glimpse("train /d -o /o --config " + shell_quoted(tmp.path() / "cfg.json") +
                  " --iterations 42 --strategy mcmc --seed 7 --dump-config");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json j = Json::parse(r.output);
  EXPECT_EQ(j["trainer"]["iterations"], 42);  // flag over file
  EXPECT_EQ(j["threads"], 3);                 // file over default
  EXPECT_EQ(j["trainer"]["lr"]["opacity"], 0.01);
  EXPECT_EQ(j["trainer"]["strategy"], "mcmc");
  EXPECT_EQ(j["trainer"]["seed"], 7);
  EXPECT_EQ(j["trainer"]["sh_degree"], 3);  // default
  EXPECT_EQ(j["dataset"], "/d");
}

TEST(TrainCli, TrainsThroughTheBinaryAndReloadsItsConfig) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  ProgramRun r = run_glimpse("train " + shell_quoted(capture.root()) + " -o " + shell_quoted(out) +
                             " --factor 1 --iterations 5 --device cpu --threads 1 --sh-degree 0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "test PSNR");
  EXPECT_OUTPUT_HAS(r, "point_cloud/iteration_5/point_cloud.ply");
  ASSERT_TRUE(fs::is_regular_file(out / "config.json"));
  // The saved configuration reproduces the run; --resume with more iterations continues it.
  r = run_glimpse("train --config " + shell_quoted(out / "config.json") +
                  " --iterations 8 --resume --test-every 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "resumed from");
  EXPECT_TRUE(fs::is_regular_file(out / "point_cloud" / "iteration_8" / "point_cloud.ply"));
}

TEST(TrainCli, DivergenceExitsWithOneAndKeepsTheCheckpoint) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "out";
  const std::string common = "train " + shell_quoted(capture.root()) + " -o " + shell_quoted(out) +
                             " --factor 1 --device cpu --threads 1 --sh-degree 0 --init depth";
  ProgramRun r = run_glimpse(common + " --iterations 4 --checkpoint-every 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string checkpoint = read_bytes(out / "checkpoint.bin");
  const std::string metrics = read_bytes(out / "metrics.json");
  ASSERT_FALSE(checkpoint.empty());
  // A new run into the same folder that diverges at once.
  std::ofstream(capture.tmp() / "absurd.json") << R"({"trainer": {"lr": {"opacity": 1e38}}})";
  r = run_glimpse(common + " --iterations 10 --checkpoint-every 2 --config " +
                  shell_quoted(capture.tmp() / "absurd.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "diverged at iteration 1 in parameter group 'opacity_logits'");
  EXPECT_OUTPUT_HAS(r, "glimpse: error: training diverged at iteration 1");
  EXPECT_EQ(read_bytes(out / "checkpoint.bin"), checkpoint);
  EXPECT_EQ(read_bytes(out / "metrics.json"), metrics);
  EXPECT_FALSE(fs::exists(out / "point_cloud" / "iteration_2"));
}

}  // namespace
}  // namespace glimpse
