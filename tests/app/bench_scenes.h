// Scenes made in code for the bench tests: an LLFF capture laid out as the protocol expects
// (images_8/ of 32x24, poses_bounds.npy), smooth colour patterns that differ per view, and the
// options of a fast 3-view suite over them.
#pragma once

#include "app/bench_suite.h"
#include "core/image.h"
#include "io/image_io.h"
#include "io/npy.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace glimpse::testing {

// A smooth colour pattern that differs per view (so renders are not trivially exact).
inline Image<float> pattern(int width, int height, int view) {
  Image<float> img(width, height, 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        img.at(x, y, c) =
            static_cast<float>(0.5 + 0.4 * std::sin(0.3 * x + 0.2 * y + 1.7 * c + 0.1 * view));
  return img;
}

// An LLFF capture of `views` images_8/img<i>.png of 32x24 (the protocol's factor 8 of a 256x192
// capture): cameras on a line looking down +z.
inline void write_llff_scene(const std::filesystem::path& root, int views) {
  std::filesystem::create_directories(root / "images_8");
  std::vector<double> rows;
  for (int i = 0; i < views; ++i) {
    std::vector<double> row(17, 0.0);
    const double centre[3] = {-0.4 + 0.1 * i, 0.0, 0.0};
    for (int r = 0; r < 3; ++r) {
      row[r * 5 + 0] = r == 1 ? 1.0 : 0.0;
      row[r * 5 + 1] = r == 0 ? 1.0 : 0.0;
      row[r * 5 + 2] = r == 2 ? -1.0 : 0.0;
      row[r * 5 + 3] = centre[r];
    }
    row[4] = 24 * 8;  // full-resolution H, W, f
    row[9] = 32 * 8;
    row[14] = 30 * 8;
    row[15] = 2.0;
    row[16] = 8.0;
    rows.insert(rows.end(), row.begin(), row.end());
    write_png((root / "images_8" / ("img" + std::to_string(i) + ".png")).string(),
              pattern(32, 24, i));
  }
  write_npy((root / "poses_bounds.npy").string(), {static_cast<size_t>(views), 17}, rows);
}

// A 3-view LLFF suite over `data` into `out`: CPU, 2 threads, 12 iterations, the depth
// initialiser (the initialisers have their own tests), no checkpoints, LPIPS off whatever
// GLIMPSE_LPIPS_DIR says (tests/eval covers it).
inline BenchSuiteOptions llff_options(const std::filesystem::path& data,
                                      const std::filesystem::path& out) {
  BenchSuiteOptions o;
  o.suite = Suite::Llff;
  o.views = 3;
  o.data_dir = data.string();
  o.output_dir = out.string();
  o.train.device = TrainDevice::Cpu;
  o.train.threads = 2;
  o.train.trainer.iterations = 12;
  o.train.checkpoint_every = 0;
  o.train.init = InitMethod::Depth;  // the initialisers have their own tests (init_stage_test)
  o.train.lpips_model = "none";  // LPIPS off whatever GLIMPSE_LPIPS_DIR says (tests/eval covers it)
  return o;
}

}  // namespace glimpse::testing
