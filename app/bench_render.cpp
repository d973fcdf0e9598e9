// CPU rasterizer benchmark on synthetic scenes (see bench_render.h).
#include "app/bench_render.h"

#include "app/info.h"
#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "renderer/rasterizer.h"
#include "renderer/synthetic_scene.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <memory>
#include <ostream>

namespace glimpse {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double minimum(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

BenchRenderResult run_one(const BenchRenderOptions& options, const BenchScene& scene,
                          const Camera& camera, const Gaussians& gaussians, int threads) {
  BenchRenderResult r;
  r.scene = scene;
  r.threads = threads;
  r.threads_resolved = threads > 0 ? threads : hardware_threads();
  r.repeats = options.repeats;
  std::unique_ptr<Rasterizer> rasterizer = make_cpu_rasterizer(threads);
  RenderOptions render;  // defaults: SH degree 3, opacity-aware extent, classic dilation
  RenderOutput out;
  RenderOutputGradients v_out;
  const float g = options.upstream_gradient;
  v_out.rgb = Image<float>(scene.width, scene.height, 3, g);
  v_out.alpha = Image<float>(scene.width, scene.height, 1, g);
  v_out.depth = Image<float>(scene.width, scene.height, 1, g);
  GaussianGradients grads;

  for (int i = 0; i < options.warmup; ++i) {
    rasterizer->forward(gaussians, camera, render, out);
    rasterizer->backward(gaussians, camera, render, v_out, grads);
  }
  std::vector<double> forward_ms, forward_backward_ms;
  for (int i = 0; i < options.repeats; ++i) {
    const Timer timer;
    rasterizer->forward(gaussians, camera, render, out);
    forward_ms.push_back(timer.milliseconds());
  }
  for (int i = 0; i < options.repeats; ++i) {
    const Timer timer;
    rasterizer->forward(gaussians, camera, render, out);
    rasterizer->backward(gaussians, camera, render, v_out, grads);
    forward_backward_ms.push_back(timer.milliseconds());
  }
  r.forward_ms_median = median(forward_ms);
  r.forward_ms_min = minimum(forward_ms);
  r.forward_backward_ms_median = median(forward_backward_ms);
  r.forward_backward_ms_min = minimum(forward_backward_ms);
  r.num_visible = out.num_visible;
  r.num_instances = out.num_instances;
  r.num_evaluations = out.num_evaluations;
  r.evaluations_per_second =
      r.forward_ms_median > 0.0 ? out.num_evaluations / (r.forward_ms_median * 1e-3) : 0.0;
  double radius_sum = 0.0;
  int64_t visible = 0;
  for (int32_t radius : out.radii)
    if (radius > 0) radius_sum += radius, ++visible;
  r.mean_radius_px = visible > 0 ? radius_sum / static_cast<double>(visible) : 0.0;
  return r;
}

}  // namespace

std::vector<BenchScene> standard_bench_scenes() {
  return {BenchScene{100000, 504, 378}, BenchScene{1000000, 1920, 1080}};
}

void BenchRenderOptions::check() const {
  GLIMPSE_CHECK(!scenes.empty()) << "bench-render: no scenes to run";
  for (const BenchScene& s : scenes) {
    GLIMPSE_CHECK(s.gaussians > 0)
        << "bench-render: the number of Gaussians must be positive, got " << s.gaussians;
    GLIMPSE_CHECK(s.width > 0 && s.height > 0)
        << "bench-render: width and height must be positive, got " << s.width << "x" << s.height;
  }
  GLIMPSE_CHECK(!threads.empty()) << "bench-render: no thread counts given";
  for (int t : threads)
    GLIMPSE_CHECK(t >= 0) << "bench-render: threads must be >= 0 (0 = all hardware threads), got "
                          << t;
  GLIMPSE_CHECK(repeats >= 1) << "bench-render: repeats must be >= 1, got " << repeats;
  GLIMPSE_CHECK(warmup >= 0) << "bench-render: warmup must be >= 0, got " << warmup;
  GLIMPSE_CHECK(std::isfinite(upstream_gradient))
      << "bench-render: upstream gradient must be finite, got " << upstream_gradient;
}

nlohmann::json BenchRenderOptions::to_json() const {
  nlohmann::json scenes_json = nlohmann::json::array();
  for (const BenchScene& s : scenes)
    scenes_json.push_back({{"gaussians", s.gaussians}, {"width", s.width}, {"height", s.height}});
  return {{"scenes", scenes_json}, {"threads", threads}, {"repeats", repeats},
          {"warmup", warmup},      {"seed", seed},       {"upstream_gradient", upstream_gradient},
          {"json_path", json_path}};
}

nlohmann::json BenchRenderResult::to_json() const {
  return {{"gaussians", scene.gaussians},
          {"width", scene.width},
          {"height", scene.height},
          {"threads", threads},
          {"threads_resolved", threads_resolved},
          {"repeats", repeats},
          {"forward_ms_median", forward_ms_median},
          {"forward_ms_min", forward_ms_min},
          {"forward_backward_ms_median", forward_backward_ms_median},
          {"forward_backward_ms_min", forward_backward_ms_min},
          {"evaluations_per_second", evaluations_per_second},
          {"mean_radius_px", mean_radius_px},
          {"num_visible", num_visible},
          {"num_instances", num_instances},
          {"num_evaluations", num_evaluations}};
}

std::vector<BenchRenderResult> run_bench_render(const BenchRenderOptions& options) {
  options.check();
  std::vector<BenchRenderResult> results;
  for (const BenchScene& scene : options.scenes) {
    const Camera camera = make_benchmark_camera(scene.width, scene.height);
    const Gaussians gaussians =
        make_benchmark_scene(static_cast<size_t>(scene.gaussians), camera, options.seed);
    for (int threads : options.threads) {
      GLIMPSE_LOG(Info) << "bench-render: " << scene.gaussians << " Gaussians at " << scene.width
                        << "x" << scene.height << ", " << threads << " thread(s), "
                        << options.repeats << " repeats";
      results.push_back(run_one(options, scene, camera, gaussians, threads));
      const BenchRenderResult& r = results.back();
      GLIMPSE_LOG(Info) << std::fixed << std::setprecision(2) << "bench-render: forward "
                        << r.forward_ms_median << " ms (min " << r.forward_ms_min
                        << "), forward+backward " << r.forward_backward_ms_median << " ms (min "
                        << r.forward_backward_ms_min << "), " << std::setprecision(1)
                        << r.evaluations_per_second * 1e-6 << " M evaluations/s";
    }
  }
  if (!options.json_path.empty()) {
    const nlohmann::json json = bench_report_json(options, results);
    write_file_atomically(options.json_path, [&](std::ostream& s) { s << json.dump(2) << "\n"; });
  }
  return results;
}

std::string format_bench_table(const std::vector<BenchRenderResult>& results) {
  std::string table;
  char line[256];
  std::snprintf(line, sizeof(line), "%10s %11s %7s %10s %10s %10s %10s %10s %7s %10s %11s\n",
                "gaussians", "image", "threads", "fwd med", "fwd min", "f+b med", "f+b min",
                "Meval/s", "radius", "visible", "instances");
  table += line;
  std::snprintf(line, sizeof(line), "%10s %11s %7s %10s %10s %10s %10s %10s %7s %10s %11s\n", "",
                "", "", "(ms)", "(ms)", "(ms)", "(ms)", "", "(px)", "", "");
  table += line;
  for (const BenchRenderResult& r : results) {
    char image[32];
    std::snprintf(image, sizeof(image), "%dx%d", r.scene.width, r.scene.height);
    std::snprintf(line, sizeof(line),
                  "%10lld %11s %7d %10.2f %10.2f %10.2f %10.2f %10.1f %7.2f %10lld %11lld\n",
                  static_cast<long long>(r.scene.gaussians), image, r.threads_resolved,
                  r.forward_ms_median, r.forward_ms_min, r.forward_backward_ms_median,
                  r.forward_backward_ms_min, r.evaluations_per_second * 1e-6, r.mean_radius_px,
                  static_cast<long long>(r.num_visible), static_cast<long long>(r.num_instances));
    table += line;
  }
  return table;
}

nlohmann::json bench_report_json(const BenchRenderOptions& options,
                                 const std::vector<BenchRenderResult>& results) {
  nlohmann::json results_json = nlohmann::json::array();
  for (const BenchRenderResult& r : results) results_json.push_back(r.to_json());
  return {{"command", "bench-render"},
          {"backend", "cpu"},
          {"build", build_info_json()},
          {"options", options.to_json()},
          {"results", results_json}};
}

}  // namespace glimpse
