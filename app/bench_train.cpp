// Training-throughput benchmark: the full Trainer::step (render, photometric loss with SSIM,
// plug-in terms, backward, Adam, densification) at SH degree 3 on a synthetic capture, or with a
// real capture's configuration as `glimpse train` runs it.
#include "app/bench_train.h"

#include "app/train_command.h"
#include "app/train_config.h"
#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "optim/trainer.h"
#include "renderer/synthetic_scene.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <sys/resource.h>
#include <vector>

namespace glimpse {

void BenchTrainOptions::check() const {
  GLIMPSE_CHECK(gaussians > 0) << "bench-train: --gaussians must be > 0, got " << gaussians;
  GLIMPSE_CHECK(width > 0 && height > 0)
      << "bench-train: image size must be positive, got " << width << "x" << height;
  GLIMPSE_CHECK(views > 0) << "bench-train: --views must be > 0, got " << views;
  GLIMPSE_CHECK(iterations > 0) << "bench-train: --iterations must be > 0, got " << iterations;
  GLIMPSE_CHECK(warmup >= 0) << "bench-train: --warmup must be >= 0, got " << warmup;
  GLIMPSE_CHECK(threads >= 0) << "bench-train: --threads must be >= 0 (0: all), got " << threads;
  GLIMPSE_CHECK(!data.empty() || (config_path.empty() && cache_dir.empty() && protocol == "none"))
      << "bench-train: --protocol, --config and --cache-dir apply to a real capture (--data)";
}

namespace {

// Times `iterations` steps after `warmup` untimed ones; fills the timing fields of `r`.
template <typename StepFn>
void time_steps(const BenchTrainOptions& options, StepFn&& step, BenchTrainResult& r) {
  for (int i = 0; i < options.warmup; ++i) step();
  std::vector<double> ms;
  Timer timer;
  StepPhases phases;
  for (int i = 0; i < options.iterations; ++i) {
    const StepStats stats = step();
    ms.push_back(stats.seconds * 1e3);
    phases += stats.phases;
    r.gaussians = stats.num_gaussians;
  }
  const double wall = timer.seconds();
  std::sort(ms.begin(), ms.end());
  r.threads = options.threads > 0 ? options.threads : hardware_threads();
  r.iterations_per_second = options.iterations / wall;
  r.step_ms_median = ms[ms.size() / 2];
  r.step_ms_min = ms.front();
  r.phases = phases;
  r.phases /= options.iterations;
}

// A real capture: the run `glimpse train` would make (configuration, split, initialisation, depth
// priors) in a temporary output folder, removed afterwards; nothing is saved or evaluated.
void bench_on_capture(const BenchTrainOptions& options, BenchTrainResult& r) {
  TrainConfig config;
  if (!options.config_path.empty()) config = load_train_config(options.config_path);
  nlohmann::json patch = {{"dataset", options.data}, {"protocol", options.protocol},
                          {"views", options.views},  {"threads", options.threads},
                          {"save_every", 0},         {"checkpoint_every", 0},
                          {"test_every", 0},         {"lpips_model", "none"}};
  if (!options.cache_dir.empty()) patch["cache_dir"] = options.cache_dir;
  // At least the steps timed; a longer configured run keeps its schedules (SH ramp, priors).
  patch["trainer"]["iterations"] =
      std::max(config.trainer.iterations, options.warmup + options.iterations);
  config.update_from_json(patch, "bench-train");
  namespace fs = std::filesystem;
  const fs::path out =
      fs::temp_directory_path() / ("glimpse-bench-train-" + std::to_string(std::random_device{}()));
  config.output = out.string();
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{out};
  TrainRunOptions run_options;
  run_options.progress = ProgressMode::Silent;
  TrainRun run(config, run_options);
  run.load();
  run.prepare();
  const TrainResult& prepared = run.result();
  r.width = prepared.image_width;
  r.height = prepared.image_height;
  std::ostringstream scene;
  scene << fs::path(options.data).filename().string() << " (" << prepared.dataset_format << ", "
        << prepared.protocol << "; init " << prepared.init_method << ", "
        << prepared.num_initial_gaussians << " Gaussians";
  for (const std::string& term : prepared.prior_terms) scene << "; " << term;
  scene << ")";
  r.scene = scene.str();
  time_steps(
      options, [&] { return run.step(); }, r);
}

// The synthetic scene: a model of trained-model statistics fitted to renders of another.
void run_synthetic(const BenchTrainOptions& options, BenchTrainResult& r) {
  const Camera base = make_benchmark_camera(options.width, options.height);
  // Ground truth: a synthetic scene seen from slightly shifted cameras.
  const Gaussians truth =
      make_benchmark_scene(static_cast<size_t>(options.gaussians), base, options.seed);
  auto rasterizer = make_cpu_rasterizer(options.threads);
  std::vector<View> views;
  for (int v = 0; v < options.views; ++v) {
    View view;
    view.name = "view" + std::to_string(v);
    view.camera = base;
    view.camera.translation.x += 0.1 * (v - 0.5 * (options.views - 1));
    RenderOutput out;
    rasterizer->forward(truth, view.camera, RenderOptions{}, out);
    view.image = out.rgb;
    views.push_back(std::move(view));
  }
  // The model starts from another scene of the same statistics.
  Gaussians init =
      make_benchmark_scene(static_cast<size_t>(options.gaussians), base, options.seed + 1);
  TrainerOptions to;
  to.iterations = options.warmup + options.iterations;
  to.sh_degree = init.sh_degree;
  to.sh_increase_every = 1;  // full SH degree from the third step: the most expensive case
  Trainer trainer(std::move(views), std::move(init), to, make_cpu_rasterizer(options.threads));
  r.scene = "synthetic";
  r.width = options.width;
  r.height = options.height;
  time_steps(
      options, [&] { return trainer.step(); }, r);
}

}  // namespace

BenchTrainResult run_bench_train(const BenchTrainOptions& options) {
  options.check();
  BenchTrainResult r;
  if (!options.data.empty()) {
    bench_on_capture(options, r);
  } else {
    run_synthetic(options, r);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  r.peak_memory_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  if (!options.json_path.empty()) {
    nlohmann::json j = {{"scene", r.scene},
                        {"gaussians", r.gaussians},
                        {"width", r.width},
                        {"height", r.height},
                        {"views", options.views},
                        {"threads", r.threads},
                        {"iterations", options.iterations},
                        {"iterations_per_second", r.iterations_per_second},
                        {"step_ms_median", r.step_ms_median},
                        {"step_ms_min", r.step_ms_min},
                        {"peak_memory_mib", r.peak_memory_mib}};
    const auto values = r.phases.values();
    for (size_t k = 0; k < values.size(); ++k)
      j["phase_ms"][StepPhases::kNames[k]] = values[k] * 1e3;
    write_file_atomically(options.json_path, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
  }
  return r;
}

std::string format_step_phases(const StepPhases& phases) {
  const double total = phases.total();
  std::string out = "  phase             ms/step  share\n";
  const auto values = phases.values();
  for (size_t k = 0; k < values.size(); ++k) {
    char line[128];
    std::snprintf(line, sizeof(line), "  %-16s %8.2f  %4.1f %%\n", StepPhases::kNames[k],
                  values[k] * 1e3, total > 0 ? 100.0 * values[k] / total : 0.0);
    out += line;
  }
  char line[160];
  const double render = phases.render_forward + phases.render_backward;
  std::snprintf(line, sizeof(line),
                "  total            %8.2f  (render forward + backward %.1f %%, the rest %.1f %%)\n",
                total * 1e3, total > 0 ? 100.0 * render / total : 0.0,
                total > 0 ? 100.0 * (total - render) / total : 0.0);
  return out + line;
}

std::string format_bench_train(const BenchTrainOptions& o, const BenchTrainResult& r) {
  char line[1024];
  std::snprintf(line, sizeof(line),
                "bench-train: %s, %lld Gaussians, %dx%d, %d views, %d threads: %.2f it/s "
                "(step median %.1f ms, min %.1f ms over %d steps), peak memory %.0f MiB\n",
                r.scene.c_str(), static_cast<long long>(r.gaussians), r.width, r.height, o.views,
                r.threads, r.iterations_per_second, r.step_ms_median, r.step_ms_min, o.iterations,
                r.peak_memory_mib);
  return line + format_step_phases(r.phases);
}

}  // namespace glimpse
