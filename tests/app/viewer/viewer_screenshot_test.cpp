// `glimpse-viewer` in a real window: Xvfb (xvfb-run) with Mesa's software OpenGL. Screenshots of
// a splat file and of a short training run of the bundled demo scene must not be blank and must
// change as training proceeds; a file that does not load fails the scripted run with its name;
// the splat benchmark prints its figures.
#include "app/viewer/ui_state.h"
#include "io/image_io.h"
#include "io/splat_formats.h"
#include "tests/app/fake_session_client.h"
#include "tests/app/run_glimpse.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

namespace glimpse::viewer {
namespace {

namespace fs = std::filesystem;
using glimpse::testing::ProgramRun;
using glimpse::testing::shell_quoted;
using glimpse::testing::TempDir;

// Runs the viewer under xvfb-run with `args`. The exit code is the viewer's own, written to a file
// by a shell inside the virtual display: xvfb-run replaces it with its own when its clean-up
// fails ("problem while cleaning up temporary directory", seen once in CI).
ProgramRun run_viewer(const std::string& args) {
  static int runs = 0;
  const fs::path exit_file =
      fs::temp_directory_path() /
      ("glimpse_viewer_exit_" + std::to_string(getpid()) + "_" + std::to_string(++runs));
  std::string command = "GLIMPSE_EXIT_FILE=";
  command += shell_quoted(exit_file);
  command +=
      " xvfb-run -a -s '-screen 0 1280x800x24' sh -c '\"$@\"; echo $? > \"$GLIMPSE_EXIT_FILE\"' "
      "sh ";
  command += shell_quoted(GLIMPSE_VIEWER_BINARY);
  command += " ";
  command += args;
  ProgramRun run = glimpse::testing::run_command(command);
  std::ifstream in(exit_file);
  int code = -1;
  if (in >> code) run.exit_code = code;
  std::error_code ec;
  fs::remove(exit_file, ec);
  return run;
}

Image<uint8_t> read_screenshot(const fs::path& path) {
  const Image<float> f = read_image_rgb(path.string());
  Image<uint8_t> out(f.width(), f.height(), 3);
  for (size_t i = 0; i < f.size(); ++i)
    out.data()[i] = static_cast<uint8_t>(std::lround(255.f * f.data()[i]));
  return out;
}

class ViewerWindow : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system("command -v xvfb-run >/dev/null 2>&1"), 0)
        << "xvfb-run is missing: install xvfb and xauth (tools/install_deps.sh)";
  }
};

TEST_F(ViewerWindow, ShowsASplatFile) {
  TempDir dir;
  const fs::path model = dir.path() / "model.ply";
  write_splat_file(model.string(), glimpse::testing::make_fake_gaussians(3000, 0),
                   SplatFormat::Ply);
  const fs::path shot = dir.path() / "model.png";
  const ProgramRun run = run_viewer(shell_quoted(model) + " --screenshot " + shell_quoted(shot) +
                                    " --frames 3 --width 640 --height 480 --threads 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Image<uint8_t> image = read_screenshot(shot);
  EXPECT_EQ(image.width(), 640);
  EXPECT_EQ(image.height(), 480);
  EXPECT_GT(pixel_variance(image), 100.0) << "the screenshot is blank";

  // The rasterizer's own image of the same camera (--raster) agrees with the OpenGL splats up to
  // their per-pixel vs per-view sorting and extents.
  const fs::path raster = dir.path() / "raster.png";
  const ProgramRun run2 =
      run_viewer(shell_quoted(model) + " --raster --screenshot " + shell_quoted(raster) +
                 " --frames 2 --width 640 --height 480 --threads 2");
  ASSERT_EQ(run2.exit_code, 0) << run2.output;
  const Image<uint8_t> reference = read_screenshot(raster);
  EXPECT_GT(pixel_variance(reference), 100.0);
  const double difference = mean_abs_difference(image, reference);
  std::cout << "OpenGL splats vs CPU rasterizer: mean |difference| " << difference
            << " (8-bit levels)\n";
  EXPECT_LT(difference, 4.0);
}

TEST_F(ViewerWindow, TrainsTheDemoSceneLive) {
  TempDir dir;
  const fs::path demo = fs::path(GLIMPSE_TEST_SOURCE_DIR) / "assets" / "demo";
  ASSERT_TRUE(fs::is_directory(demo)) << demo;
  // Fast settings: depth-plane initialisation, no LPIPS, 60 iterations.
  const fs::path config = dir.path() / "config.json";
  std::ofstream(config) << R"({"init": "depth", "init_stride": 6, "lpips_model": "none"})";
  const fs::path start = dir.path() / "start.png", end = dir.path() / "end.png";
  const ProgramRun run =
      run_viewer(shell_quoted(demo) + " --config " + shell_quoted(config) + " -o " +
                 shell_quoted(dir.path() / "run") + " --device cpu --threads 2 --train-steps 60" +
                 " --screenshot-start " + shell_quoted(start) + " --screenshot " +
                 shell_quoted(end) + " --frames 3 --width 504 --height 378 --timeout 400");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Image<uint8_t> a = read_screenshot(start), b = read_screenshot(end);
  EXPECT_GT(pixel_variance(a), 100.0) << "the first Gaussians' screenshot is blank";
  EXPECT_GT(pixel_variance(b), 100.0) << "the trained Gaussians' screenshot is blank";
  // The view is the first training view both times: what changed is the Gaussians.
  EXPECT_GT(mean_abs_difference(a, b), 2.0) << "the view did not change with training";
  EXPECT_TRUE(fs::exists(dir.path() / "run")) << run.output;
}

TEST_F(ViewerWindow, AFileThatDoesNotLoadIsReported) {
  TempDir dir;
  const fs::path bad = dir.path() / "bad.ply";
  std::ofstream(bad) << "ply\nformat binary_little_endian 1.0\nelement vertex 5\nend_header\n";
  const ProgramRun run = run_viewer(shell_quoted(bad) + " --screenshot " +
                                    shell_quoted(dir.path() / "x.png") + " --frames 2");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("cannot open " + bad.string()), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(dir.path() / "x.png"));
}

TEST_F(ViewerWindow, BenchmarksTheSplatDisplay) {
  const ProgramRun run = run_viewer("--bench-splats 5000 --frames 5 --width 320 --height 240");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("bench-splats: 5000 Gaussians, 320x240, 5 frames"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("median"), std::string::npos);
}

}  // namespace
}  // namespace glimpse::viewer
