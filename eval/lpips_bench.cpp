// eval_lpips_bench: wall time of one LPIPS distance (eval/lpips.h) per image pair, the figure a
// test view costs. Usage: eval_lpips_bench WEIGHTS.npz [vgg|alex] [width height threads repeats
// [winograd|direct]] (defaults vgg 504 378 2 5 winograd).
#include "core/image.h"
#include "core/timer.h"
#include "eval/lpips.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace {

// A smooth pattern plus noise in [0, 1].
glimpse::Image<float> make_image(int width, int height, uint32_t seed) {
  glimpse::Image<float> img(width, height, 3);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.05f, 0.05f);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = 0.5f + 0.3f * std::sin(0.05f * x + 0.7f * c) * std::cos(0.04f * y) + u(rng);
        img.at(x, y, c) = std::clamp(v, 0.0f, 1.0f);
      }
  return img;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: eval_lpips_bench WEIGHTS.npz [vgg|alex] [width height threads repeats "
                 "[winograd|direct]]\n");
    return 2;
  }
  try {
    glimpse::LpipsOptions options;
    options.net = glimpse::lpips_net_from_name(argc > 2 ? argv[2] : "vgg");
    const int width = argc > 3 ? std::atoi(argv[3]) : 504;
    const int height = argc > 4 ? std::atoi(argv[4]) : 378;
    options.threads = argc > 5 ? std::atoi(argv[5]) : 2;
    const int repeats = argc > 6 ? std::atoi(argv[6]) : 5;
    options.winograd = argc > 7 ? std::string(argv[7]) != "direct" : true;
    const glimpse::Timer load_timer;
    glimpse::Lpips lpips = glimpse::Lpips::load(argv[1], options);
    const double load_ms = load_timer.milliseconds();
    const glimpse::Image<float> a = make_image(width, height, 1), b = make_image(width, height, 2);
    std::printf("eval_lpips_bench: %s, %dx%d, %d threads, %d repeats, %s; load %.0f ms\n",
                lpips.description().c_str(), width, height, options.threads, repeats,
                options.winograd && options.net == glimpse::LpipsNet::Vgg ? "Winograd" : "direct",
                load_ms);
    double value = lpips.distance(a, b);  // warm-up (allocations, first-run set-up)
    std::vector<double> ms;
    const std::clock_t cpu_start = std::clock();
    for (int r = 0; r < repeats; ++r) {
      const glimpse::Timer timer;
      value = lpips.distance(a, b);
      ms.push_back(timer.milliseconds());
    }
    const double cpu_ms = 1e3 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    std::sort(ms.begin(), ms.end());
    // CPU time (all threads) shows the work when the host is busy and wall times spread.
    std::printf(
        "distance per pair: median %.1f ms, min %.1f ms, max %.1f ms wall; %.1f ms CPU time "
        "(LPIPS %.6f)\n",
        ms[ms.size() / 2], ms.front(), ms.back(), cpu_ms / repeats, value);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eval_lpips_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
