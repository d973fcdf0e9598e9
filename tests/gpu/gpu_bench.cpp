// glimpse_gpu_bench: milliseconds per forward and per forward+backward of the CUDA rasterizer at
// 100k Gaussians / 504x378 and 1M / 1920x1080, the CPU backend's time on the same scene and the
// ratio. Plain C++ (no Google Benchmark) so it builds on a bare CUDA machine. Wall times go through
// the Rasterizer interface (input validation, uploads and downloads included); "kernels" are the
// CUDA-event times of the GPU work alone. Medians over the timed iterations.
//
// Usage: glimpse_gpu_bench [--iters N] [--cpu-iters N] [--no-cpu] [--quick]
// Prints a table and one machine-readable `BENCH key=value ...` line per scene.
#include "core/check.h"
#include "renderer/cuda/cuda_device.h"
#include "renderer/cuda/cuda_rasterizer.h"
#include "renderer/rasterizer.h"

#if defined(GLIMPSE_HAVE_BENCHMARK_SCENE)
#include "renderer/synthetic_scene.h"
#else
#include "tests/support/random_scene.h"
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace glimpse {
namespace {

constexpr int kSkipped = 77;

struct Scene {
  const char* label;
  const char* key;
  size_t n;
  int width, height;
};

struct Figures {
  double fwd_ms = 0, fwd_bwd_ms = 0;                // wall, median
  double fwd_kernel_ms = 0, bwd_kernel_ms = 0;      // CUDA only, median
  double fwd_transfer_ms = 0, bwd_transfer_ms = 0;  // CUDA only, median
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void make_scene(const Scene& s, Gaussians& g, Camera& camera) {
#if defined(GLIMPSE_HAVE_BENCHMARK_SCENE)
  camera = make_benchmark_camera(s.width, s.height);
  g = make_benchmark_scene(s.n, camera, 1);
#else
  // Fallback when renderer/synthetic_scene.cpp is not built: splats of about 3 px.
  camera = testing::test_camera<double>(s.width, s.height);
  g = testing::random_gaussians<float>(static_cast<int>(s.n), 3, 1, 1.0, s.width, s.height);
#endif
}

Figures measure(Rasterizer& r, const Gaussians& g, const Camera& camera,
                const RenderOptions& options, const RenderOutputGradients& v, int warmup,
                int iters) {
  auto* cuda = dynamic_cast<CudaRasterizer*>(&r);
  RenderOutput out;
  GaussianGradients grads;
  for (int i = 0; i < warmup; ++i) {
    r.forward(g, camera, options, out);
    r.backward(g, camera, options, v, grads);
  }
  std::vector<double> fwd, fwd_bwd, fk, bk, ft, bt;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    r.forward(g, camera, options, out);
    fwd.push_back(ms_since(t0));
    if (cuda) {
      fk.push_back(cuda->last_forward_timings().compute_ms);
      ft.push_back(cuda->last_forward_timings().upload_ms +
                   cuda->last_forward_timings().download_ms);
    }
    const auto t1 = std::chrono::steady_clock::now();
    r.forward(g, camera, options, out);
    r.backward(g, camera, options, v, grads);
    fwd_bwd.push_back(ms_since(t1));
    if (cuda) {
      bk.push_back(cuda->last_backward_timings().compute_ms);
      bt.push_back(cuda->last_backward_timings().upload_ms +
                   cuda->last_backward_timings().download_ms);
    }
  }
  Figures f;
  f.fwd_ms = median(fwd);
  f.fwd_bwd_ms = median(fwd_bwd);
  f.fwd_kernel_ms = median(fk);
  f.bwd_kernel_ms = median(bk);
  f.fwd_transfer_ms = median(ft);
  f.bwd_transfer_ms = median(bt);
  return f;
}

int run(int argc, char** argv) {
  int iters = 20, cpu_iters = 3;
  bool with_cpu = true, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--cpu-iters") && i + 1 < argc) {
      cpu_iters = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--no-cpu")) {
      with_cpu = false;
    } else if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    } else {
      std::printf("usage: %s [--iters N] [--cpu-iters N] [--no-cpu] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (quick) iters = std::min(iters, 5), cpu_iters = 1;
  if (cuda_device_count() == 0) {
    std::printf("GPU benchmark did not run: no CUDA device\n");
    return kSkipped;
  }
  const Scene scenes[] = {{"100k @ 504x378", "100k_504x378", 100000, 504, 378},
                          {"1M @ 1920x1080", "1M_1920x1080", 1000000, 1920, 1080}};
  auto gpu = make_cuda_rasterizer();
  auto cpu = make_cpu_rasterizer();
  std::printf("device: %s\n", cuda_device_description().c_str());
  std::printf("cpu:    %s\n", cpu->name().c_str());
#if !defined(GLIMPSE_HAVE_BENCHMARK_SCENE)
  std::printf("scene:  tests/support/random_scene.h (renderer/synthetic_scene.cpp not built)\n");
#endif
  std::printf("times in ms (median); kernels = CUDA events of the GPU work without transfers\n\n");
  std::printf("%-16s %9s %9s %9s %9s %9s %9s %9s %8s %8s\n", "scene", "gpu fwd", "gpu f+b",
              "krn fwd", "krn bwd", "xfer f+b", "cpu fwd", "cpu f+b", "x fwd", "x f+b");
  for (const Scene& s : scenes) {
    Gaussians g;
    Camera camera;
    make_scene(s, g, camera);
    RenderOptions options;  // SH 3, opacity-aware extent, no anti-aliasing
    RenderOutputGradients v;
    v.rgb = Image<float>(s.width, s.height, 3);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1e-3f, 1e-3f);
    for (float& x : v.rgb.vector()) x = u(rng);
    const Figures fg = measure(*gpu, g, camera, options, v, 3, iters);
    Figures fc;
    if (with_cpu) fc = measure(*cpu, g, camera, options, v, 1, cpu_iters);
    const double x_fwd = with_cpu && fg.fwd_ms > 0 ? fc.fwd_ms / fg.fwd_ms : 0.0;
    const double x_fb = with_cpu && fg.fwd_bwd_ms > 0 ? fc.fwd_bwd_ms / fg.fwd_bwd_ms : 0.0;
    std::printf("%-16s %9.2f %9.2f %9.2f %9.2f %9.2f %9.1f %9.1f %8.1f %8.1f\n", s.label, fg.fwd_ms,
                fg.fwd_bwd_ms, fg.fwd_kernel_ms, fg.bwd_kernel_ms,
                fg.fwd_transfer_ms + fg.bwd_transfer_ms, fc.fwd_ms, fc.fwd_bwd_ms, x_fwd, x_fb);
    std::printf(
        "BENCH scene=%s gpu_fwd_ms=%.3f gpu_fwd_bwd_ms=%.3f gpu_fwd_kernel_ms=%.3f "
        "gpu_bwd_kernel_ms=%.3f gpu_transfer_ms=%.3f cpu_fwd_ms=%.2f cpu_fwd_bwd_ms=%.2f "
        "ratio_fwd=%.2f ratio_fwd_bwd=%.2f\n",
        s.key, fg.fwd_ms, fg.fwd_bwd_ms, fg.fwd_kernel_ms, fg.bwd_kernel_ms,
        fg.fwd_transfer_ms + fg.bwd_transfer_ms, fc.fwd_ms, fc.fwd_bwd_ms, x_fwd, x_fb);
    std::fflush(stdout);
  }
  if (auto* cuda = dynamic_cast<CudaRasterizer*>(gpu.get()))
    std::printf("\ncuda device memory held: %.1f MiB\n", double(cuda->device_bytes()) / (1 << 20));
  return 0;
}

}  // namespace
}  // namespace glimpse

int main(int argc, char** argv) {
  try {
    return glimpse::run(argc, argv);
  } catch (const std::exception& e) {
    std::printf("glimpse_gpu_bench: %s\n", e.what());
    return 1;
  }
}
