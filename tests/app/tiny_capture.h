// A tiny LLFF capture made in code (5 views of 32x24 rendered from a random Gaussian scene) and a
// fast training configuration for it: the fixture of the train command's and the session's tests.
#pragma once

#include "app/train_config.h"
#include "core/image.h"
#include "io/image_io.h"
#include "io/llff.h"
#include "io/npy.h"
#include "renderer/rasterizer.h"
#include "tests/support/temp_dir.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace glimpse {
namespace testing_tiny {
namespace fs = std::filesystem;

inline constexpr int kWidth = 32, kHeight = 24, kViews = 5;
inline constexpr double kFocal = 30.0, kNear = 2.0, kFar = 8.0;

// A forward-facing capture: cameras on a line along x looking down +z (LLFF's layout), the
// images rendered from 400 random Gaussians between depth 3 and 7; views 0, 2, 4 train, 1, 3 test.
class TinyCapture {
 public:
  TinyCapture() : root_(dir_.path() / "capture") {
    fs::create_directories(root_ / "images");
    std::vector<double> rows;
    for (int i = 0; i < kViews; ++i) {
      const double centre[3] = {-0.4 + 0.2 * i, 0.05 * i, 0.0};
      std::vector<double> row(17, 0.0);
      // Columns (down, right, back, centre, hwf) of an identity OpenCV camera-to-world rotation.
      for (int r = 0; r < 3; ++r) {
        row[r * 5 + 0] = r == 1 ? 1.0 : 0.0;   // down = y
        row[r * 5 + 1] = r == 0 ? 1.0 : 0.0;   // right = x
        row[r * 5 + 2] = r == 2 ? -1.0 : 0.0;  // back = -z
        row[r * 5 + 3] = centre[r];
      }
      row[4] = kHeight;
      row[9] = kWidth;
      row[14] = kFocal;
      row[15] = kNear;
      row[16] = kFar;
      rows.insert(rows.end(), row.begin(), row.end());
      write_png(image_path(i), Image<float>(kWidth, kHeight, 3, 0.5f));  // placeholder
    }
    write_npy((root_ / "poses_bounds.npy").string(), {kViews, 17}, rows);
    std::ofstream(root_ / "split.json")
        << R"({"train": ["img0.png", "img2.png", "img4.png"], "test": ["img1.png", "img3.png"]})";

    // Ground truth rendered through the cameras the reader makes.
    LlffOptions llff;
    llff.factor = 1;
    llff.load_images = false;
    const Dataset dataset = read_llff(root_.string(), llff);
    const Gaussians truth = scene();
    std::unique_ptr<Rasterizer> r = make_cpu_rasterizer(1);
    RenderOptions ro;
    ro.sh_degree = 0;
    for (int i = 0; i < kViews; ++i) {
      RenderOutput out;
      r->forward(truth, dataset.views[i].camera, ro, out);
      write_png(image_path(i), out.rgb);
    }
  }

  std::string root() const { return root_.string(); }
  const fs::path& tmp() const { return dir_.path(); }

 private:
  std::string image_path(int i) const {
    return (root_ / "images" / ("img" + std::to_string(i) + ".png")).string();
  }
  static Gaussians scene() {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Gaussians g;
    g.sh_degree = 0;
    g.resize(400);
    for (size_t i = 0; i < g.size(); ++i) {
      const double z = 3.0 + 4.0 * u(rng);
      g.means[3 * i + 0] = static_cast<float>((u(rng) - 0.5) * z * 1.3);
      g.means[3 * i + 1] = static_cast<float>((u(rng) - 0.5) * z * 1.0);
      g.means[3 * i + 2] = static_cast<float>(z);
      for (int c = 0; c < 3; ++c) {
        g.log_scales[3 * i + c] = static_cast<float>(std::log(0.12 * z / 3.0));
        g.sh[3 * i + c] = static_cast<float>((u(rng) - 0.5) / 0.28209479177387814);
      }
      g.opacity_logits[i] = 2.0f;
    }
    return g;
  }

  glimpse::testing::TempDir dir_;
  fs::path root_;
};

inline TrainConfig tiny_config(const TinyCapture& capture, const std::string& out, int iterations) {
  TrainConfig c;
  c.dataset = capture.root();
  c.output = out;
  c.device = TrainDevice::Cpu;
  c.threads = 2;
  c.factor = 1;
  c.init = InitMethod::Depth;  // the initialisers have their own tests (init_stage_test)
  c.init_stride = 4;
  c.init_opacity = 0.3f;
  c.save_every = 10;
  c.checkpoint_every = 10;
  c.test_every = 10;
  TrainerOptions& t = c.trainer;
  t.iterations = iterations;
  t.strategy = DensifyStrategy::AdaptiveDensityControl;  // exercised (and checkpointed) too
  t.sh_degree = 1;
  t.sh_increase_every = 10;
  t.lr.means_max_steps = 100;
  t.adc.start_iteration = 10;
  t.adc.every = 10;
  t.adc.stop_iteration = 100;
  t.adc.grad_threshold = 1e-5f;  // the tiny model does grow
  return c;
}

}  // namespace testing_tiny
using testing_tiny::kFar;
using testing_tiny::kFocal;
using testing_tiny::kHeight;
using testing_tiny::kNear;
using testing_tiny::kViews;
using testing_tiny::kWidth;
using testing_tiny::tiny_config;
using testing_tiny::TinyCapture;
}  // namespace glimpse
