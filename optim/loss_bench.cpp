// optim_loss_bench: wall time of the 3DGS photometric loss (L1 + D-SSIM, Kerbl et al. 2023) and its
// gradient on float RGB images. Usage: optim_loss_bench [width height repeats] (504 378 50).
#include "core/image.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "optim/losses.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

namespace {

// A smooth pattern plus noise in [0, 1], so SSIM is neither 1 nor 0.
glimpse::Image<float> make_image(int width, int height, uint32_t seed, float noise) {
  glimpse::Image<float> img(width, height, 3);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-noise, noise);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = 0.5f + 0.3f * std::sin(0.05f * x + 0.7f * c) * std::cos(0.04f * y) + u(rng);
        img.at(x, y, c) = std::clamp(v, 0.0f, 1.0f);
      }
  return img;
}

void report(const char* name, int repeats, const std::function<void()>& fn) {
  fn();  // warm-up (allocations, page faults)
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    glimpse::Timer timer;
    fn();
    ms.push_back(timer.milliseconds());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-32s median %7.3f ms   min %7.3f ms\n", name, ms[ms.size() / 2], ms.front());
}

}  // namespace

int main(int argc, char** argv) {
  const int width = argc > 1 ? std::atoi(argv[1]) : 504;
  const int height = argc > 2 ? std::atoi(argv[2]) : 378;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 50;
  if (width <= 0 || height <= 0 || repeats <= 0) {
    std::fprintf(stderr, "usage: optim_loss_bench [width height repeats]\n");
    return 2;
  }
  const glimpse::Image<float> render = make_image(width, height, 1, 0.05f);
  const glimpse::Image<float> target = make_image(width, height, 2, 0.05f);
  glimpse::Image<float> grad;
  std::printf("optim_loss_bench: %dx%dx3 float, %d threads, %d repeats\n", width, height,
              glimpse::ThreadPool::global().num_threads(), repeats);
  double sink = 0;
  report("l1_loss", repeats, [&] { sink += glimpse::l1_loss(render, target); });
  report("l1_loss + gradient", repeats, [&] { sink += glimpse::l1_loss(render, target, &grad); });
  report("ssim", repeats, [&] { sink += glimpse::ssim(render, target); });
  report("ssim + gradient", repeats, [&] { sink += glimpse::ssim(render, target, &grad); });
  report("photometric_loss + gradient", repeats,
         [&] { sink += glimpse::photometric_loss(render, target, 0.2, &grad).loss; });
  std::printf("(checksum %.6f)\n", sink);
  return 0;
}
