// `glimpse bench-render`: forward and forward+backward timings of the CPU rasterizer on synthetic
// scenes with trained-model statistics (renderer/synthetic_scene.h), per thread count.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

// One benchmark scene: Gaussian count and image size.
struct BenchScene {
  int64_t gaussians = 100000;  // number of Gaussians
  int width = 504;             // image width in pixels
  int height = 378;            // image height in pixels
};

// The standard configurations: 100k Gaussians at 504x378 (LLFF at factor 8) and 1M at 1920x1080.
std::vector<BenchScene> standard_bench_scenes();

struct BenchRenderOptions {
  std::vector<BenchScene> scenes = standard_bench_scenes();  // scenes to run, in order
  std::vector<int> threads = {1, 2};  // CPU thread counts to run each scene with (0: all)
  int repeats = 10;                   // timed repetitions; medians and minima are reported
  int warmup = 1;                     // untimed forward+backward passes before timing
  uint64_t seed = 1;                  // scene seed (make_benchmark_scene)
  float upstream_gradient = 1e-3f;    // value of every upstream gradient (rgb, alpha, depth)
  std::string json_path;              // also write the results here (empty: don't)

  // Throws glimpse::Error naming the option: no scenes, non-positive Gaussian count or size, no
  // thread counts or a negative one, repeats < 1, warmup < 0, non-finite upstream gradient.
  void check() const;
  nlohmann::json to_json() const;
};

struct BenchRenderResult {
  BenchScene scene;
  int threads = 0;           // as requested (0: all hardware threads)
  int threads_resolved = 0;  // actual thread count
  int repeats = 0;
  double forward_ms_median = 0.0, forward_ms_min = 0.0;
  double forward_backward_ms_median = 0.0, forward_backward_ms_min = 0.0;
  double evaluations_per_second = 0.0;  // num_evaluations / median forward time
  double mean_radius_px = 0.0;          // mean screen radius of the visible Gaussians
  int64_t num_visible = 0;              // Gaussians that passed culling
  int64_t num_instances = 0;            // (Gaussian, tile) pairs
  int64_t num_evaluations = 0;          // Gaussian-pixel evaluations of one forward pass

  nlohmann::json to_json() const;
};

// Runs every scene at every thread count; logs one line per result. Writes options.json_path
// (atomically) when set. Validates the options before any work.
std::vector<BenchRenderResult> run_bench_render(const BenchRenderOptions& options);

// The results as a fixed-width text table (one row per result).
std::string format_bench_table(const std::vector<BenchRenderResult>& results);

// The JSON document written by run_bench_render: options, machine and results.
nlohmann::json bench_report_json(const BenchRenderOptions& options,
                                 const std::vector<BenchRenderResult>& results);

}  // namespace glimpse
