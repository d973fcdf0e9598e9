// The read-only session over a splat file: what it reports, renders (the CPU rasterizer's own
// image), exports (every splat format, cropped), the commands it refuses and files that do not
// load.
#include "app/model_session.h"

#include "io/cameras_json.h"
#include "io/splat_formats.h"
#include "renderer/rasterizer.h"
#include "tests/app/fake_session_client.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>

namespace glimpse {
namespace {

using glimpse::testing::make_fake_gaussians;
using glimpse::testing::TempDir;

Camera test_camera() {
  Camera c;
  c.width = 64, c.height = 48, c.fx = c.fy = 50, c.cx = 32, c.cy = 24;
  c.translation = {0, 0, 6};
  return c;
}

TEST(ModelSession, OpensAFileAndReportsIt) {
  TempDir dir;
  const std::string path = (dir.path() / "model.ply").string();
  const Gaussians g = make_fake_gaussians(40, 1);
  write_splat_file(path, g, SplatFormat::Ply);
  ModelSession s(path, 1);
  const SessionStatus st = s.status();
  EXPECT_EQ(st.phase, SessionPhase::Finished);
  EXPECT_EQ(st.num_gaussians, 40);
  EXPECT_EQ(st.snapshot_version, 1u);
  EXPECT_EQ(st.log_sequence, 1u);
  EXPECT_EQ(s.describe(), "model: model.ply");
  EXPECT_EQ(s.scene().format, "ply");
  EXPECT_TRUE(s.scene().views.empty());
  EXPECT_TRUE(s.curve(-1).empty());
  EXPECT_TRUE(s.tests().empty());
  const std::vector<SessionLogEntry> log = s.log(0);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].message.find("40 Gaussians, SH degree 1"), std::string::npos);
  EXPECT_TRUE(s.log(1).empty());
  const std::shared_ptr<const SplatSnapshot> snap = s.snapshot(0);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->gaussians.means, g.means);
  EXPECT_EQ(s.snapshot(1), nullptr);
}

TEST(ModelSession, RendersWithTheCpuRasterizer) {
  const Gaussians g = make_fake_gaussians(60, 1);
  ModelSession s(g, "in memory", 1);
  const ViewRender r = s.render(test_camera(), -1);
  ASSERT_EQ(r.render.width(), 64);
  ASSERT_EQ(r.depth.channels(), 1);
  EXPECT_TRUE(r.truth.empty());
  RenderOptions options;
  options.sh_degree = 1;
  RenderOutput expected;
  make_cpu_rasterizer(1)->forward(g, test_camera(), options, expected);
  EXPECT_EQ(r.render.vector(), expected.rgb.vector());
  EXPECT_THROW(s.render(test_camera(), 0), Error);
  EXPECT_THROW(s.thumbnail(0, 64), Error);
}

// A run's cameras.json gives the model its views: names and cameras to snap to, renders of a
// view use its camera; a damaged file is a warning in the log and changes nothing.
TEST(ModelSession, LoadsARunsCamerasAsItsViews) {
  TempDir dir;
  const Gaussians g = make_fake_gaussians(60, 1);
  ModelSession s(g, "in memory", 1);
  std::vector<View> views(2);
  views[0].name = "a.png";
  views[0].camera = test_camera();
  views[1].name = "b.png";
  views[1].camera = test_camera();
  views[1].camera.translation = {0.5, 0, 6};
  const std::string cameras = (dir.path() / "cameras.json").string();
  write_cameras_json(cameras, views);
  s.load_cameras(cameras);
  const SessionScene scene = s.scene();
  ASSERT_EQ(scene.views.size(), 2u);
  EXPECT_EQ(scene.views[1].name, "b");
  EXPECT_NEAR(scene.views[1].camera.translation.x, 0.5, 1e-12);
  const ViewRender r = s.render(Camera{}, 1);
  EXPECT_EQ(r.view_index, 1);
  EXPECT_EQ(r.render.vector(), s.render(views[1].camera, -1).render.vector());
  EXPECT_THROW(s.render(test_camera(), 2), Error);
  // Thumbnails are the model seen from the view.
  const Image<uint8_t> thumb = s.thumbnail(0, 32);
  EXPECT_EQ(thumb.width(), 32);
  EXPECT_EQ(thumb.height(), 24);
  EXPECT_THROW(s.thumbnail(2, 32), Error);

  ModelSession other(g, "other", 1);
  const std::string bad = (dir.path() / "bad.json").string();
  std::ofstream(bad) << "[{\"id\": 0}";
  other.load_cameras(bad);
  EXPECT_TRUE(other.scene().views.empty());
  const std::vector<SessionLogEntry> log = other.log(0);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].level, LogLevel::Warning);
  EXPECT_NE(log[1].message.find("bad.json"), std::string::npos) << log[1].message;
}

TEST(ModelSession, RefusesCommands) {
  ModelSession s(make_fake_gaussians(5), "model.spz", 1);
  for (SessionCommand c : {SessionCommand::Start, SessionCommand::Pause, SessionCommand::Save}) {
    try {
      s.command(c);
      FAIL() << "accepted " << session_command_name(c);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("cannot ") + session_command_name(c) +
                                           ": model.spz is a model file, opened read-only"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(ModelSession, ExportsEveryFormatAndCrops) {
  TempDir dir;
  const Gaussians g = make_fake_gaussians(300, 0);
  ModelSession s(g, "model", 1);
  for (const char* name : {"a.ply", "a.splat", "a.spz", "a.compressed.ply"}) {
    SessionExport e;
    e.output = (dir.path() / name).string();
    s.export_model(e);
    EXPECT_EQ(read_splat_file(e.output).size(), 300u) << name;
  }
  SessionExport e;
  e.output = (dir.path() / "cropped.bin").string();
  e.format = "ply";
  e.crop = std::array<double, 6>{0, -2, -2, 2, 2, 2};  // x >= 0: about half
  s.export_model(e);
  const Gaussians cropped = read_splat_file(e.output);
  size_t expected = 0;
  for (size_t i = 0; i < g.size(); ++i) expected += g.means[3 * i] >= 0;
  EXPECT_EQ(cropped.size(), expected);
  for (size_t i = 0; i < cropped.size(); ++i) EXPECT_GE(cropped.means[3 * i], 0.f);
  EXPECT_GE(s.log(0).size(), 6u);

  e.crop = std::array<double, 6>{10, 10, 10, 11, 11, 11};
  EXPECT_THROW(s.export_model(e), Error);  // keeps nothing
  e.crop.reset();
  e.format = "mesh";
  EXPECT_THROW(s.export_model(e), Error);
  e.format = "";
  e.output = (dir.path() / "a.txt").string();
  EXPECT_THROW(s.export_model(e), Error);  // no format from the name
}

TEST(ModelSession, FilesThatDoNotLoadNameTheFile) {
  TempDir dir;
  const std::string path = (dir.path() / "broken.ply").string();
  std::ofstream(path) << "ply\nformat ascii 1.0\nelement vertex 2\nend_header\n";
  try {
    ModelSession s(path, 1);
    FAIL() << "opened a broken file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.ply"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ModelSession((dir.path() / "missing.ply").string(), 1), Error);
  EXPECT_THROW(ModelSession(Gaussians{}, "empty", 1), Error);
}

}  // namespace
}  // namespace glimpse
