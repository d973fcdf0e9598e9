// The local session (app/session.h) on the tiny capture: pausing, single steps and resuming give
// the same model as an uninterrupted run; commands outside their phase are refused; the views can
// be chosen before start; renders, snapshots, curves, log and exports; a failing dataset ends in
// Failed with its message; destroying a running session stops it.
#include "app/session.h"

#include "app/http_link.h"
#include "app/train_command.h"
#include "core/check.h"
#include "io/splat_formats.h"
#include "tests/app/run_glimpse.h"
#include "tests/app/tiny_capture.h"
#include "tests/support/errors.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

namespace glimpse {
namespace {

using glimpse::testing::error_of;
namespace fs = std::filesystem;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

SessionOptions options_for(const TrainConfig& config, bool start) {
  SessionOptions o;
  o.config = config;
  o.run.progress = ProgressMode::Silent;
  o.start = start;
  o.snapshot_interval = 0.0;
  return o;
}

// Polls until `done` holds (10 s at most).
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Session, PauseStepAndResumeGiveTheUninterruptedResult) {
  const TinyCapture capture;
  const fs::path straight = capture.tmp() / "straight";
  run_train(tiny_config(capture, straight.string(), 30), {});

  const fs::path paused = capture.tmp() / "paused";
  Session session(options_for(tiny_config(capture, paused.string(), 30), false));
  ASSERT_TRUE(eventually([&] { return session.status().phase == SessionPhase::Ready; }))
      << session.status().error;
  EXPECT_HAS(error_of([&] { session.command(SessionCommand::Save); }), "cannot save now");
  session.command(SessionCommand::Start);
  session.command(SessionCommand::Pause);
  ASSERT_TRUE(eventually([&] { return session.status().paused; }));
  const int held = session.status().iteration;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(session.status().iteration, held) << "a paused run must not step";
  session.command(SessionCommand::Step);
  session.command(SessionCommand::Step);
  ASSERT_TRUE(eventually([&] { return session.status().iteration == held + 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(session.status().iteration, held + 2) << "two single steps, then paused again";
  EXPECT_TRUE(session.status().paused);
  session.command(SessionCommand::Resume);
  const TrainResult result = session.wait();
  EXPECT_EQ(result.final_iteration, 30);
  EXPECT_EQ(session.status().phase, SessionPhase::Finished);
  const std::string ply = "point_cloud/iteration_30/point_cloud.ply";
  EXPECT_EQ(read_bytes(paused / ply), read_bytes(straight / ply))
      << "pausing and single-stepping must not change the result";
  // The curve has every step, the tests the periodic and final evaluations.
  const auto curve = session.curve(-1);
  ASSERT_EQ(curve.size(), 30u);
  EXPECT_EQ(curve.front().iteration, 1);
  EXPECT_EQ(curve.back().iteration, 30);
  EXPECT_EQ(session.curve(25).size(), 5u);
  const auto tests = session.tests();
  ASSERT_EQ(tests.size(), 3u);  // iterations 10, 20 and the final 30
  EXPECT_EQ(tests.back().iteration, 30);
  EXPECT_NEAR(tests.back().psnr, result.test.mean_psnr, 1e-9);
  EXPECT_HAS(error_of([&] { session.command(SessionCommand::Resume); }), "finished");
}

TEST(Session, ViewsAreChosenBeforeStartAndRefusedAfter) {
  const TinyCapture capture;
  TrainConfig config = tiny_config(capture, (capture.tmp() / "views").string(), 5);
  Session session(options_for(config, false));
  ASSERT_TRUE(eventually([&] { return session.status().phase == SessionPhase::Ready; }));
  SessionScene scene = session.scene();
  ASSERT_EQ(scene.views.size(), static_cast<size_t>(kViews));
  EXPECT_EQ(scene.format, "llff");
  EXPECT_TRUE(scene.views[0].train);
  EXPECT_TRUE(scene.views[1].test);
  const Image<uint8_t> thumb = session.thumbnail(1, 16);
  EXPECT_EQ(thumb.width(), 16);
  EXPECT_EQ(thumb.height(), 12);
  EXPECT_HAS(error_of([&] { session.thumbnail(9, 16); }), "view 9 does not exist");
  EXPECT_HAS(error_of([&] { session.set_train_views({0, 7}); }), "view 7 does not exist");
  EXPECT_HAS(error_of([&] { session.render(scene.views[0].camera, 0); }), "nothing to render yet");

  session.set_train_views({1, 2});  // the split trains 0, 2, 4 and tests 1, 3
  scene = session.scene();
  EXPECT_TRUE(scene.views[1].train && scene.views[2].train);
  EXPECT_FALSE(scene.views[0].train || scene.views[4].train);
  EXPECT_TRUE(scene.views[3].test) << "the split's test views lose the chosen ones only";
  EXPECT_FALSE(scene.views[1].test || scene.views[0].test);
  session.command(SessionCommand::Start);
  const TrainResult result = session.wait();
  ASSERT_EQ(result.config.train_views, (std::vector<int>{1, 2}));
  EXPECT_EQ(result.train.views.size(), 2u);
  EXPECT_EQ(result.test.views.size(), 1u);
  EXPECT_HAS(result.protocol, "training views chosen: 1, 2");
  EXPECT_HAS(error_of([&] { session.set_train_views({0, 2}); }), "before training starts");

  // A finished session still renders (with ground truth for a dataset view) and exports.
  const ViewRender r = session.render(scene.views[1].camera, 1);
  EXPECT_EQ(r.render.width(), kWidth);
  EXPECT_EQ(r.depth.channels(), 1);
  ASSERT_FALSE(r.truth.empty());
  EXPECT_EQ(r.error.channels(), 1);
  EXPECT_GT(r.psnr, 10.0);
  const ViewRender free_camera = session.render(scene.views[2].camera, -1);
  EXPECT_TRUE(free_camera.truth.empty());
  EXPECT_TRUE(std::isnan(free_camera.psnr));
  SessionExport request;
  request.output = (capture.tmp() / "model.splat").string();
  session.export_model(request);
  EXPECT_EQ(read_splat_file(request.output).size(), static_cast<size_t>(result.num_gaussians));
  request.output = (capture.tmp() / "cropped.ply").string();
  request.crop = std::array<double, 6>{-100, -100, -100, 0, 100, 100};  // x <= 0
  session.export_model(request);
  const size_t cropped = read_splat_file(request.output).size();
  EXPECT_GT(cropped, 0u);
  EXPECT_LT(cropped, static_cast<size_t>(result.num_gaussians));
}

TEST(Session, SnapshotsArePublishedOnlyWhenAskedFor) {
  const TinyCapture capture;
  Session session(options_for(tiny_config(capture, (capture.tmp() / "s").string(), 40), true));
  EXPECT_EQ(session.snapshot(0), nullptr);  // nothing yet; asking makes the run publish
  std::shared_ptr<const SplatSnapshot> first;
  ASSERT_TRUE(eventually([&] { return (first = session.snapshot(0)) != nullptr; }));
  EXPECT_GT(first->gaussians.size(), 0u);
  EXPECT_EQ(session.snapshot(first->version), nullptr);
  std::shared_ptr<const SplatSnapshot> second;
  ASSERT_TRUE(eventually([&] { return (second = session.snapshot(first->version)) != nullptr; }));
  EXPECT_GT(second->version, first->version);
  EXPECT_GE(second->iteration, first->iteration);
  session.wait();
  // Nobody asked after the last one: the version stays.
  const uint64_t version = session.status().snapshot_version;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(session.status().snapshot_version, version);
  // The run's log reached the session.
  const auto log = session.log(0);
  ASSERT_FALSE(log.empty());
  bool saw_priors = false;
  for (const auto& e : log) saw_priors |= e.message.find("train: priors") != std::string::npos;
  EXPECT_TRUE(saw_priors);
  EXPECT_EQ(session.log(log.back().sequence).size(), 0u);
}

TEST(Session, StopSavesAndEndsStopped) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "stop";
  Session session(options_for(tiny_config(capture, out.string(), 100000), true));
  ASSERT_TRUE(eventually([&] { return session.status().iteration >= 3; }));
  session.command(SessionCommand::Save);
  session.command(SessionCommand::Stop);
  EXPECT_HAS(error_of([&] { session.wait(); }), "stopped at iteration");
  const SessionStatus s = session.status();
  EXPECT_EQ(s.phase, SessionPhase::Stopped);
  EXPECT_TRUE(fs::is_regular_file(
      out / "point_cloud" / ("iteration_" + std::to_string(s.iteration)) / "point_cloud.ply"));
  EXPECT_FALSE(fs::exists(out / "metrics.json")) << "a stopped run is not evaluated";
}

TEST(Session, BadDatasetFailsWithItsMessage) {
  const TinyCapture capture;
  TrainConfig config = tiny_config(capture, (capture.tmp() / "bad").string(), 5);
  config.dataset = (capture.tmp() / "missing").string();
  Session session(options_for(config, true));
  EXPECT_HAS(error_of([&] { session.wait(); }), "does not exist");
  const SessionStatus s = session.status();
  EXPECT_EQ(s.phase, SessionPhase::Failed);
  EXPECT_HAS(s.error, "does not exist");
  EXPECT_HAS(error_of([&] { session.command(SessionCommand::Start); }), "failed");
  bool logged = false;
  for (const auto& e : session.log(0)) logged |= e.level == LogLevel::Error;
  EXPECT_TRUE(logged) << "the failure must reach the log panel";
}

TEST(Session, DestroyingARunningSessionStopsIt) {
  const TinyCapture capture;
  auto session = std::make_unique<Session>(
      options_for(tiny_config(capture, (capture.tmp() / "d").string(), 100000), true));
  ASSERT_TRUE(eventually([&] { return session->status().iteration >= 2; }));
  session.reset();  // must return (joins the worker) without finishing 100000 steps
  SUCCEED();
}

// `glimpse train --serve 127.0.0.1:0` prints where it serves and the token; a RemoteSession with
// them watches the run, pauses it, steps it and stops it, and the program exits saying so.
TEST(Session, TrainServeIsDrivenByARemoteViewer) {
  const TinyCapture capture;
  const fs::path out = capture.tmp() / "served";
  std::string command = glimpse::testing::shell_quoted(GLIMPSE_BINARY);
  command += " train " + glimpse::testing::shell_quoted(capture.root()) + " -o " +
             glimpse::testing::shell_quoted(out) +
             " --factor 1 --init depth --iterations 100000 --threads 1 --lpips-model none "
             "--serve 127.0.0.1:0 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string url, token, output;
  char line[4096];
  const std::regex serving(
      "serving the run on (http://[^;]+); watch it with .* --token ([0-9a-f]+)");
  while (url.empty() && std::fgets(line, sizeof(line), pipe) != nullptr) {
    output += line;
    std::cmatch m;
    if (std::regex_search(line, m, serving)) {
      url = m[1];
      token = m[2];
    }
  }
  ASSERT_FALSE(url.empty()) << output;
  {
    RemoteSession remote(url, token);
    ASSERT_TRUE(eventually([&] { return remote.status().iteration >= 2; }));
    EXPECT_EQ(remote.status().phase, SessionPhase::Training);
    remote.command(SessionCommand::Pause);
    ASSERT_TRUE(eventually([&] { return remote.status().paused; }));
    const int held = remote.status().iteration;
    remote.command(SessionCommand::Step);
    ASSERT_TRUE(eventually([&] { return remote.status().iteration == held + 1; }));
    EXPECT_FALSE(remote.scene().views.empty());
    RemoteSession wrong(url, std::string(32, '0'));
    EXPECT_HAS(error_of([&] { wrong.status(); }), "unknown or expired token");
    remote.command(SessionCommand::Stop);
  }
  while (std::fgets(line, sizeof(line), pipe) != nullptr) output += line;
  const int status = pclose(pipe);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 1) << output;
  EXPECT_HAS(output, "the run was stopped at iteration");
  EXPECT_TRUE(fs::exists(out / "point_cloud")) << "a stopped run keeps its splats";
}

}  // namespace
}  // namespace glimpse
