// `glimpse bench` (see bench_suite.h): scene discovery, the per-run loop with resume and suite
// progress, and the four reports.
#include "app/bench_suite.h"

#include "app/cli.h"
#include "app/http_link.h"
#include "app/progress.h"
#include "app/report_values.h"
#include "app/train_command.h"
#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "eval/lpips.h"
#include "eval/metrics.h"
#include "eval/published.h"
#include "io/atomic_file.h"
#include "renderer/rasterizer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <tuple>

namespace glimpse {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// [SECTION] scenes -------------------------------------------------------------------------------

std::vector<std::string> official_scene_names(Suite suite) {
  std::vector<std::string> names;
  if (suite == Suite::Llff) {
    for (std::string_view s : llff_scenes()) names.emplace_back(s);
  } else {
    for (int scan : dtu_scans()) names.push_back("scan" + std::to_string(scan));
  }
  return names;
}

// Folders a scene may live in under the data folder.
std::vector<fs::path> scene_roots(const BenchSuiteOptions& o) {
  const fs::path data(o.data_dir);
  std::vector<fs::path> roots = {data, data / suite_name(o.suite)};
  if (o.suite == Suite::Llff) roots.push_back(data / "nerf_llff_data");
  if (o.suite == Suite::Dtu) {
    roots.push_back(data / "Rectified");
    roots.push_back(data / "dtu" / "Rectified");
  }
  return roots;
}

// Whether a folder holds a scene of the suite's layout.
bool looks_like_scene(Suite suite, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  if (suite == Suite::Llff) return fs::exists(dir / "poses_bounds.npy", ec);
  return fs::exists(dir / "cameras_sphere.npz", ec) || fs::exists(dir / "cameras.npz", ec) ||
         dir.parent_path().filename() == "Rectified";
}

std::string locate_scene(const BenchSuiteOptions& o, const std::string& name) {
  for (const fs::path& root : scene_roots(o)) {
    std::error_code ec;
    if (fs::is_directory(root / name, ec)) return (root / name).string();
  }
  return "";
}

// [SECTION] statistics ---------------------------------------------------------------------------

// Mean and population standard deviation of the finite values (NaN when there are none).
std::pair<double, double> mean_std(const std::vector<double>& values) {
  double sum = 0;
  int n = 0;
  for (double v : values)
    if (std::isfinite(v)) sum += v, ++n;
  if (n == 0) return {kNaN, kNaN};
  const double mean = sum / n;
  double squares = 0;  // two passes: exact 0 for equal values
  for (double v : values)
    if (std::isfinite(v)) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / n)};
}

void summarise(const std::vector<SuiteMetrics>& items, std::optional<SuiteMetrics>& mean,
               std::optional<SuiteMetrics>* stddev) {
  if (items.empty()) return;
  SuiteMetrics m, s;
  for (double SuiteMetrics::*f : {&SuiteMetrics::psnr, &SuiteMetrics::ssim, &SuiteMetrics::ssim_sk,
                                  &SuiteMetrics::lpips, &SuiteMetrics::avg_error}) {
    std::vector<double> values;
    for (const SuiteMetrics& x : items) values.push_back(x.*f);
    std::tie(m.*f, s.*f) = mean_std(values);
  }
  mean = m;
  if (stddev != nullptr) *stddev = s;
}

nlohmann::json metrics_json(const SuiteMetrics& m) {
  return {{"psnr", finite_or_null(m.psnr)},
          {"ssim", finite_or_null(m.ssim)},
          {"ssim_sk", finite_or_null(m.ssim_sk)},
          {"lpips", finite_or_null(m.lpips)},
          {"avg_error", finite_or_null(m.avg_error)}};
}

// [SECTION] runs ---------------------------------------------------------------------------------

// <dir>/metrics.json, parsed. `what_to_do` ends the message when it is not valid JSON.
nlohmann::json read_report(const fs::path& dir, const char* what_to_do) {
  const fs::path path = dir / "metrics.json";
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.good()) << "bench: cannot read " << path.string();
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << "bench: " << path.string() << " is not valid JSON (" << e.what() << ")"
                   << what_to_do;
  }
  return {};
}

// A finished run as its train report (metrics.json of `dir`) records it.
SuiteRun run_from_report(const nlohmann::json& j, const fs::path& dir, int seed) {
  SuiteRun run;
  run.seed = seed;
  run.dir = dir.string();
  try {
    run.iterations = j.at("iterations").get<int>();
    run.num_gaussians = j.at("num_gaussians").get<int>();
    run.train_seconds = j.at("train_seconds").get<double>();
    run.wall_seconds = j.at("wall_seconds").get<double>();
    run.its_per_second = number_or_nan(j, "iterations_per_second");
    if (const auto init = j.find("init"); init != j.end() && init->is_object()) {
      run.init_method = init->value("method", "");
      run.init_seconds = init->value("seconds", 0.0);
    }
    const nlohmann::json& mean = j.at("test").at("mean");
    run.test = {number_or_nan(mean, "psnr"), number_or_nan(mean, "ssim"),
                number_or_nan(mean, "ssim_sk"), number_or_nan(mean, "lpips"),
                number_or_nan(mean, "avg_error")};
    run.test_views = j.at("test").at("views");
    run.protocol = j.value("protocol", "");
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << "bench: " << (dir / "metrics.json").string()
                   << " lacks a field of a train report (" << e.what() << ")";
  }
  return run;
}

// The finished run of `config` in `dir`, or nullopt when it has no metrics.json. Throws when it
// is a finished run of another configuration (retraining would mix two configurations under one
// folder).
std::optional<SuiteRun> finished_run(const fs::path& dir, const TrainConfig& config, int seed) {
  const fs::path path = dir / "metrics.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const nlohmann::json report = read_report(dir, "; remove the folder to retrain it");
  GLIMPSE_CHECK(report.contains("config"))
      << "bench: " << path.string()
      << " is not a readable train report; remove the folder to retrain it";
  TrainConfig previous;
  previous.update_from_json(report.at("config"), path.string() + " (config)");
  std::string differences = describe_config_differences(previous.resume_key(), config.resume_key());
  if (previous.trainer.iterations != config.trainer.iterations)
    differences += std::string(differences.empty() ? "" : "; ") +
                   "trainer.iterations: " + std::to_string(previous.trainer.iterations) + " vs " +
                   std::to_string(config.trainer.iterations);
  GLIMPSE_CHECK(differences.empty())
      << "bench: " << dir.string()
      << " holds a finished run of another configuration (there vs now: " << differences
      << "); use another output folder or remove it";
  return run_from_report(report, dir, seed);
}

// [SECTION] formatting ---------------------------------------------------------------------------

// "19.48" or "19.48 ± 0.12" (several seeds).
std::string with_std(double mean, double stddev, int precision, bool show_std) {
  if (!show_std || !std::isfinite(mean)) return fixed_or_na(mean, precision);
  return fixed_or_na(mean, precision) + " ± " + fixed_or_na(stddev, precision);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream s;
  s << std::setprecision(10) << v;
  return s.str();
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string relative_to(const std::string& path, const std::string& base) {
  return fs::path(path).lexically_relative(fs::path(base)).generic_string();
}

template <typename T>
double mean_of(const SuiteScene& s, T SuiteRun::*field) {
  double sum = 0;
  for (const SuiteRun& r : s.runs) sum += static_cast<double>(r.*field);
  return s.runs.empty() ? kNaN : sum / static_cast<double>(s.runs.size());
}

std::string configuration_line(const BenchSuiteOptions& o) {
  std::ostringstream s;
  s << o.train.trainer.iterations << " iterations, device " << train_device_name(o.train.device)
    << ", initialisation " << init_method_name(o.train.init) << ", densification "
    << densify_strategy_name(o.train.trainer.strategy) << ", SH degree "
    << o.train.trainer.sh_degree << ", " << o.seeds << " seed(s) from " << o.train.trainer.seed;
  return s.str();
}

// The protocol in one line. LLFF's ids depend on each scene's image count (see the runs).
std::string suite_protocol_text(Suite suite, int views) {
  if (suite == Suite::Dtu)
    return describe_protocol(make_protocol(Suite::Dtu, views, kDtuNumImages));
  std::ostringstream s;
  s << "llff-" << views << "view: " << kLlffWidth << "x" << kLlffHeight << " (factor "
    << kLlffFactor << "), every " << kLlffTestEvery << "th image tested, " << views
    << " training views by linspace over the others (round half to even), full-image metrics";
  return s.str();
}

void write_reports(const BenchSuiteOptions& o, const BenchSuiteResult& r) {
  const fs::path out(o.output_dir);
  const std::string json = r.to_json(o).dump(2) + "\n";
  write_file_atomically((out / "results.json").string(), [&](std::ostream& s) { s << json; });
  const std::string csv = r.to_csv(o);
  write_file_atomically((out / "results.csv").string(), [&](std::ostream& s) { s << csv; });
  const std::string md = r.to_markdown(o);
  write_file_atomically((out / "results.md").string(), [&](std::ostream& s) { s << md; });
  const std::string html = r.to_html(o);
  write_file_atomically((out / "report.html").string(), [&](std::ostream& s) { s << html; });
}

void finalise(BenchSuiteResult& r) {
  r.num_failed = 0;
  std::vector<SuiteMetrics> scene_means;
  for (SuiteScene& s : r.scenes) {
    std::vector<SuiteMetrics> runs;
    for (const SuiteRun& run : s.runs) runs.push_back(run.test);
    s.mean.reset();
    s.stddev.reset();
    summarise(runs, s.mean, &s.stddev);
    if (!s.error.empty()) ++r.num_failed;
    if (s.mean) scene_means.push_back(*s.mean);
  }
  r.mean.reset();
  summarise(scene_means, r.mean, nullptr);
}

}  // namespace

// [SECTION] options ------------------------------------------------------------------------------

void BenchSuiteOptions::check() const {
  GLIMPSE_CHECK(views == 3 || views == 6 || views == 9)
      << "bench: --views must be 3, 6 or 9 (the protocols' view counts), got " << views;
  GLIMPSE_CHECK(seeds >= 1) << "bench: --seeds must be >= 1, got " << seeds;
  GLIMPSE_CHECK(!data_dir.empty()) << "bench: no data folder given (--data)";
  std::error_code ec;
  GLIMPSE_CHECK(fs::is_directory(data_dir, ec))
      << "bench: data folder " << data_dir << " does not exist or is not a folder";
  GLIMPSE_CHECK(!output_dir.empty()) << "bench: no output folder given (-o)";
  TrainConfig probe = train;
  probe.dataset = data_dir;
  probe.output = output_dir;
  probe.check();
  // Said once here rather than as a failure of every scene.
  GLIMPSE_CHECK(train.device != TrainDevice::Cuda || cuda_backend_available())
      << "bench: --device cuda, but no CUDA device is available to this build (see `glimpse "
         "info`); use --device cpu or auto";
}

std::vector<SuiteScene> find_bench_scenes(const BenchSuiteOptions& o) {
  const std::vector<std::string> official = official_scene_names(o.suite);
  auto is_official = [&](const std::string& name) {
    return std::find(official.begin(), official.end(), name) != official.end();
  };
  std::vector<SuiteScene> scenes;
  auto add = [&](const std::string& name, const std::string& path) {
    SuiteScene s;
    s.name = name;
    s.path = path;
    s.official = is_official(name);
    scenes.push_back(std::move(s));
  };
  if (!o.scenes.empty()) {
    for (const std::string& name : o.scenes) add(name, locate_scene(o, name));
    return scenes;
  }
  for (const std::string& name : official) {
    const std::string path = locate_scene(o, name);
    if (!path.empty()) add(name, path);
  }
  if (!scenes.empty()) return scenes;
  // None of the protocol's scenes: every folder of the suite's layout (reported as unofficial).
  std::vector<std::pair<std::string, std::string>> found;
  for (const fs::path& root : scene_roots(o)) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (!looks_like_scene(o.suite, entry.path())) continue;
      if (std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.first == name; }))
        found.emplace_back(name, entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  for (const auto& [name, path] : found) add(name, path);
  return scenes;
}

// [SECTION] the suite ----------------------------------------------------------------------------

namespace {

// The suite's LPIPS status, with the weights found and read once up front: a missing or corrupt
// weights file stops the suite here, not in every run; each run's own status replaces this one.
// `ready`: whether the runs will measure LPIPS.
// Not inlined: inlined, it makes GCC 12 report a false -Wrestrict in run_bench_suite's string +.
[[gnu::noinline]] std::string lpips_status_up_front(const BenchSuiteOptions& options, bool& ready) {
  LpipsOptions lpips_options;
  lpips_options.threads = options.train.threads;
  std::string status;
  ready = find_and_load_lpips(options.train.lpips_model, lpips_options, status).has_value();
  if (ready) {
    GLIMPSE_LOG(Info) << "bench: " << status;
  } else if (options.train.lpips_model != kLpipsModelNone) {
    GLIMPSE_LOG(Warning) << "bench: LPIPS " << status;
  }
  return status;
}

}  // namespace

BenchSuiteResult run_bench_suite(const BenchSuiteOptions& options) {
  const Timer wall;
  options.check();
  BenchSuiteResult result;
  result.scenes = find_bench_scenes(options);
  GLIMPSE_CHECK(!result.scenes.empty())
      << "bench: no " << suite_name(options.suite) << " scene found under " << options.data_dir
      << " (looked for the protocol's scenes and for folders of the "
      << (options.suite == Suite::Llff ? "LLFF layout (poses_bounds.npy)"
                                       : "DTU layout (cameras_sphere.npz, Rectified/scanN)")
      << " in it and in its " << suite_name(options.suite) << "/ subfolder)";
  const fs::path out(options.output_dir);
  std::error_code ec;
  const std::string serve_token = options.serve.empty() ? "" : random_link_token();
  if (!options.serve.empty()) {
    GLIMPSE_LOG(Info) << "bench: serving each run on " << options.serve
                      << "; watch the batch with glimpse-viewer --connect http://" << options.serve
                      << " --token " << serve_token;
  }
  fs::create_directories(out, ec);
  GLIMPSE_CHECK(!ec && fs::is_directory(out))
      << "bench: cannot create output folder " << out.string() << ": " << ec.message();
  {
    std::string names;
    for (const SuiteScene& s : result.scenes) names += (names.empty() ? "" : ", ") + s.name;
    GLIMPSE_LOG(Info) << "bench: " << suite_name(options.suite) << " " << options.views
                      << " views, " << result.scenes.size() << " scene(s): " << names << "; "
                      << configuration_line(options);
  }
  if (std::any_of(result.scenes.begin(), result.scenes.end(),
                  [](const SuiteScene& s) { return !s.official; })) {
    GLIMPSE_LOG(Warning) << "bench: some scenes are not among the protocol's scenes: their "
                            "figures are not comparable with published ones";
  }
  bool lpips_ready = false;
  result.lpips = lpips_status_up_front(options, lpips_ready);

  result.protocol = suite_protocol_text(options.suite, options.views);
  const int total_runs = static_cast<int>(result.scenes.size()) * options.seeds;
  const int iterations = options.train.trainer.iterations;
  // Suite progress: iterations of all runs; the rate from the iterations trained here.
  const double total_units = static_cast<double>(total_runs) * iterations;
  double done_units = 0, trained_units = 0, trained_seconds = 0;
  int run_index = 0;
  for (SuiteScene& scene : result.scenes) {
    for (int k = 0; k < options.seeds; ++k) {
      ++run_index;
      const int seed = static_cast<int>(options.train.trainer.seed) + k;
      const fs::path dir = out / scene.name / ("seed" + std::to_string(seed));
      std::ostringstream tag_text;  // (a + chain here: GCC 12's false -Wrestrict)
      tag_text << "[" << run_index << "/" << total_runs << "] " << scene.name << " seed " << seed;
      const std::string tag = tag_text.str();
      if (scene.path.empty()) {
        scene.error = "scene folder not found under " + options.data_dir;
        GLIMPSE_LOG(Error) << "bench: " << tag << ": " << scene.error;
        done_units += static_cast<double>(options.seeds - k) * iterations;
        break;
      }
      TrainConfig config = options.train;
      config.dataset = scene.path;
      config.output = dir.string();
      config.protocol = options.suite == Suite::Llff ? EvalProtocol::Llff : EvalProtocol::Dtu;
      config.views = options.views;
      config.trainer.seed = static_cast<uint64_t>(seed);
      // MVS results depend on the views, not the seed: every run of the suite shares them.
      if (config.cache_dir.empty()) config.cache_dir = (out / "cache").string();
      if (options.suite == Suite::Llff) config.factor = kLlffFactor;
      try {
        std::error_code exists_ec;
        const fs::path checkpoint = dir / "checkpoint.bin";
        const bool has_checkpoint = fs::is_regular_file(checkpoint, exists_ec);
        std::optional<SuiteRun> finished = finished_run(dir, config, seed);
        // A run finished without LPIPS (no weights then) is evaluated again from its final
        // checkpoint, without training, when the weights are there now and the checkpoint keeps
        // the run's history (so its times and curves stay those of the training).
        if (finished && lpips_ready && !std::isfinite(finished->test.lpips)) {
          std::string why_not = "no checkpoint.bin is left";
          if (has_checkpoint) {
            try {
              why_not = checkpoint_has_history(checkpoint.string())
                            ? ""
                            : checkpoint.string() + " predates the run history";
            } catch (const std::exception& e) {
              why_not = user_error_message(e.what());
            }
          }
          if (why_not.empty()) {
            GLIMPSE_LOG(Info) << "bench: " << tag
                              << ": finished earlier without LPIPS; evaluating it again from "
                              << checkpoint.string() << " (no training)";
            finished.reset();
          } else {
            GLIMPSE_LOG(Warning) << "bench: " << tag << ": finished earlier without LPIPS, and "
                                 << why_not << ": its LPIPS stays n/a (remove " << dir.string()
                                 << " to train it again)";
          }
        }
        if (finished) {
          SuiteRun run = std::move(*finished);
          run.reused = true;
          GLIMPSE_LOG(Info) << "bench: " << tag << ": finished earlier (test PSNR "
                            << fixed_or_na(run.test.psnr, 2) << " dB), skipped";
          scene.runs.push_back(std::move(run));
          done_units += iterations;
          continue;
        }
        TrainRunOptions run_options;
        run_options.resume = has_checkpoint;
        run_options.progress = ProgressMode::Auto;
        run_options.progress_label = "bench";
        run_options.serve = options.serve;
        run_options.serve_remote = options.serve_remote;
        run_options.serve_token = serve_token;
        const double units_before = done_units;
        const Timer run_clock;
        run_options.progress_context = [&, tag, units_before](const ProgressFigures& f) {
          const double done = units_before + f.iteration;
          const double rate =
              trained_units + f.iteration > 0 && trained_seconds + run_clock.seconds() > 0
                  ? (trained_units + f.iteration) / (trained_seconds + run_clock.seconds())
                  : 0.0;
          std::ostringstream s;
          s << "  | suite " << tag << " " << std::fixed << std::setprecision(0)
            << 100.0 * done / std::max(1.0, total_units) << "%";
          if (rate > 0) s << " ETA " << format_duration((total_units - done) / rate);
          return s.str();
        };
        GLIMPSE_LOG(Info) << "bench: " << tag << ": " << scene.path << " -> " << dir.string()
                          << (run_options.resume ? " (resuming its checkpoint)" : "");
        const TrainResult trained = run_train(config, run_options);
        trained_units += trained.final_iteration - trained.start_iteration;
        trained_seconds += run_clock.seconds();
        done_units = units_before + iterations;
        result.lpips = trained.lpips;
        scene.runs.push_back(run_from_report(read_report(dir, ""), dir, seed));
        GLIMPSE_LOG(Info) << "bench: " << tag << ": test PSNR "
                          << fixed_or_na(trained.test.mean_psnr, 2) << " dB, SSIM "
                          << fixed_or_na(trained.test.mean_ssim, 4) << " ("
                          << fixed_or_na(trained.wall_seconds, 0) << " s)";
      } catch (const std::exception& e) {
        const std::string message = user_error_message(e.what());
        scene.error +=
            (scene.error.empty() ? "" : "; ") + ("seed " + std::to_string(seed) + ": " + message);
        GLIMPSE_LOG(Error) << "bench: " << tag << " failed: " << message
                           << " (continuing with the other runs)";
        done_units += iterations;
      }
      finalise(result);
      result.wall_seconds = wall.seconds();
      write_reports(options, result);
    }
  }
  finalise(result);
  result.wall_seconds = wall.seconds();
  write_reports(options, result);
  return result;
}

// [SECTION] reports ------------------------------------------------------------------------------

nlohmann::json BenchSuiteResult::to_json(const BenchSuiteOptions& o) const {
  nlohmann::json scenes_json = nlohmann::json::array();
  for (const SuiteScene& s : scenes) {
    nlohmann::json runs_json = nlohmann::json::array();
    for (const SuiteRun& r : s.runs)
      runs_json.push_back({{"seed", r.seed},
                           {"dir", r.dir},
                           {"reused", r.reused},
                           {"iterations", r.iterations},
                           {"num_gaussians", r.num_gaussians},
                           {"train_seconds", r.train_seconds},
                           {"wall_seconds", r.wall_seconds},
                           {"iterations_per_second", finite_or_null(r.its_per_second)},
                           {"protocol", r.protocol},
                           {"test", metrics_json(r.test)},
                           {"test_views", r.test_views}});
    scenes_json.push_back({{"name", s.name},
                           {"path", s.path},
                           {"official", s.official},
                           {"status", s.error.empty() ? "done" : "failed"},
                           {"error", s.error},
                           {"runs", runs_json},
                           {"mean", s.mean ? metrics_json(*s.mean) : nlohmann::json(nullptr)},
                           {"std", s.stddev ? metrics_json(*s.stddev) : nlohmann::json(nullptr)}});
  }
  nlohmann::json published = nlohmann::json::array();
  for (const PublishedResult& p : published_results(o.suite, o.views))
    published.push_back({{"method", p.method},
                         {"psnr", finite_or_null(p.psnr)},
                         {"ssim", finite_or_null(p.ssim)},
                         {"lpips", finite_or_null(p.lpips)},
                         {"source", p.source},
                         {"marker", p.marker},
                         {"note", p.note}});
  return {{"command", "bench"},
          {"suite", suite_name(o.suite)},
          {"views", o.views},
          {"protocol", protocol},
          {"data", o.data_dir},
          {"seeds", o.seeds},
          {"configuration", o.train.to_json()},
          {"metrics",
           {{"masked", o.suite == Suite::Dtu},
            {"ssim", kSsim3dgsName},
            {"ssim_sk", kSsimSkimageName},
            {"lpips", lpips}}},
          {"scenes", scenes_json},
          {"mean", mean ? metrics_json(*mean) : nlohmann::json(nullptr)},
          {"num_failed", num_failed},
          {"wall_seconds", wall_seconds},
          {"published", published},
          {"published_note",
           "figures from the literature (eval/published.cpp), not measured by Glimpse: means over "
           "all of the protocol's scenes"}};
}

std::string BenchSuiteResult::to_csv(const BenchSuiteOptions& o) const {
  std::ostringstream csv;
  csv << "suite,views,scene,official,seed,status,iterations,train_seconds,iterations_per_second,"
         "gaussians,psnr,ssim,ssim_sk,lpips,avg_error,run_dir,error\n";
  const std::string prefix = std::string(suite_name(o.suite)) + "," + std::to_string(o.views) + ",";
  for (const SuiteScene& s : scenes) {
    for (const SuiteRun& r : s.runs)
      csv << prefix << csv_field(s.name) << "," << (s.official ? 1 : 0) << "," << r.seed << ",done,"
          << r.iterations << "," << csv_number(r.train_seconds) << ","
          << csv_number(r.its_per_second) << "," << r.num_gaussians << ","
          << csv_number(r.test.psnr) << "," << csv_number(r.test.ssim) << ","
          << csv_number(r.test.ssim_sk) << "," << csv_number(r.test.lpips) << ","
          << csv_number(r.test.avg_error) << "," << csv_field(r.dir) << ",\n";
    if (!s.error.empty())
      csv << prefix << csv_field(s.name) << "," << (s.official ? 1 : 0) << ",,failed,,,,,,,,,,"
          << csv_field(s.path) << "," << csv_field(s.error) << "\n";
  }
  if (mean)
    csv << prefix << "mean,,,mean,,,,," << csv_number(mean->psnr) << "," << csv_number(mean->ssim)
        << "," << csv_number(mean->ssim_sk) << "," << csv_number(mean->lpips) << ","
        << csv_number(mean->avg_error) << ",,\n";
  return csv.str();
}

std::string BenchSuiteResult::to_markdown(const BenchSuiteOptions& o) const {
  std::ostringstream md;
  const bool show_std = o.seeds > 1;
  int official_count = 0, finished = 0;
  for (const SuiteScene& s : scenes) {
    official_count += s.official ? 1 : 0;
    finished += s.mean ? 1 : 0;
  }
  const size_t protocol_scenes = official_scene_names(o.suite).size();
  md << "# glimpse bench: " << suite_name(o.suite) << ", " << o.views << " views\n\n";
  md << "- protocol: " << protocol << "\n";
  md << "- data: `" << o.data_dir << "`; " << scenes.size() << " scene(s), " << official_count
     << " of the protocol's " << protocol_scenes << "\n";
  md << "- configuration: " << configuration_line(o) << "\n";
  md << "- metrics on the test views: "
     << (o.suite == Suite::Dtu
             ? "PSNR over the object mask; SSIM and LPIPS on images composited onto white "
               "outside it"
             : "full images")
     << "; SSIM = SSIM_gs (3DGS), SSIM_sk = scikit-image; LPIPS " << lpips << "\n";
  double run_seconds = 0;
  int runs = 0, reused = 0;
  for (const SuiteScene& s : scenes)
    for (const SuiteRun& r : s.runs) run_seconds += r.wall_seconds, ++runs, reused += r.reused;
  md << "- time: " << format_duration(run_seconds) << " over " << runs
     << " run(s) (each run's wall time: training and evaluation); this invocation "
     << format_duration(wall_seconds);
  if (reused > 0) md << ", " << reused << " run(s) read back from an earlier invocation";
  md << "\n\n";
  if (official_count < static_cast<int>(scenes.size()))
    md << "**Not comparable with published figures:** scenes marked * are not among the "
          "protocol's scenes.\n\n";
  md << "| scene | PSNR ↑ | SSIM ↑ | SSIM_sk ↑ | LPIPS ↓ | avg error ↓ | iterations | train time | "
        "it/s | Gaussians |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const SuiteScene& s : scenes) {
    const std::string name = s.name + (s.official ? "" : "*");
    if (!s.mean) {
      // A scene without a finished run has failed, or (while the suite runs) not run yet.
      md << "| " << name << " | " << (s.error.empty() ? "not run yet" : "failed")
         << " | | | | | | | | |\n";
      continue;
    }
    const SuiteMetrics& m = *s.mean;
    const SuiteMetrics& d = *s.stddev;
    md << "| " << name << " | " << with_std(m.psnr, d.psnr, 2, show_std) << " | "
       << with_std(m.ssim, d.ssim, 3, show_std) << " | "
       << with_std(m.ssim_sk, d.ssim_sk, 3, show_std) << " | "
       << with_std(m.lpips, d.lpips, 3, show_std) << " | "
       << with_std(m.avg_error, d.avg_error, 3, show_std) << " | " << s.runs.front().iterations
       << " | " << format_duration(mean_of(s, &SuiteRun::train_seconds)) << " | "
       << fixed_or_na(mean_of(s, &SuiteRun::its_per_second), 1) << " | "
       << fixed_or_na(mean_of(s, &SuiteRun::num_gaussians), 0) << " |\n";
  }
  if (mean)
    md << "| **mean (" << finished << " scene" << (finished == 1 ? "" : "s") << ")** | "
       << fixed_or_na(mean->psnr, 2) << " | " << fixed_or_na(mean->ssim, 3) << " | "
       << fixed_or_na(mean->ssim_sk, 3) << " | " << fixed_or_na(mean->lpips, 3) << " | "
       << fixed_or_na(mean->avg_error, 3) << " | | | | |\n";
  md << "\n## Published figures (from the literature, not measured by Glimpse)\n\n";
  md << "Means over all " << protocol_scenes << " of the protocol's scenes as each paper reports "
     << "them; the table above covers only the scenes listed.\n\n";
  const std::vector<PublishedResult> rows = published_results(o.suite, o.views);
  if (rows.empty()) {
    md << "(none recorded for " << suite_name(o.suite) << " at " << o.views << " views)\n";
  } else {
    md << "| method | PSNR ↑ | SSIM ↑ | LPIPS ↓ | source |\n|---|---:|---:|---:|---|\n";
    for (const PublishedResult& p : rows)
      md << "| " << p.method << " | " << fixed_or_na(p.psnr, 2) << " | " << fixed_or_na(p.ssim, 3)
         << " | " << fixed_or_na(p.lpips, 3) << " | " << p.source << (p.marker.empty() ? "" : " ")
         << p.marker << (p.note.empty() ? "" : " (") << p.note << (p.note.empty() ? "" : ")")
         << " |\n";
  }
  md << "\n## Splits\n\n";
  for (const SuiteScene& s : scenes)
    if (!s.runs.empty()) md << "- " << s.name << ": " << s.runs.front().protocol << "\n";
  if (num_failed > 0) {
    md << "\n## Failed\n\n";
    for (const SuiteScene& s : scenes)
      if (!s.error.empty()) md << "- " << s.name << ": " << s.error << "\n";
  }
  return md.str();
}

std::string BenchSuiteResult::to_html(const BenchSuiteOptions& o) const {
  std::ostringstream h;
  const std::string title = std::string("glimpse bench: ") + suite_name(o.suite) + ", " +
                            std::to_string(o.views) + " views";
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html_escape(title)
    << "</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,"
       "th:first-child{text-align:left}img{display:block}.views td{vertical-align:top}"
       ".fail{color:#b00}</style></head><body>\n";
  h << "<h1>" << html_escape(title) << "</h1>\n<p>" << html_escape(protocol) << "<br>"
    << html_escape(configuration_line(o)) << "<br>LPIPS " << html_escape(lpips) << "</p>\n";
  if (std::any_of(scenes.begin(), scenes.end(), [](const SuiteScene& s) { return !s.official; }))
    h << "<p class=\"fail\">Scenes marked * are not among the protocol's scenes: their figures are "
         "not comparable with published ones.</p>\n";
  h << "<table><tr><th>scene</th><th>PSNR</th><th>SSIM</th><th>SSIM_sk</th><th>LPIPS</th>"
       "<th>avg error</th><th>train time</th></tr>\n";
  for (const SuiteScene& s : scenes) {
    h << "<tr><td><a href=\"#" << html_escape(s.name) << "\">" << html_escape(s.name)
      << (s.official ? "" : "*") << "</a></td>";
    if (!s.mean) {
      h << (s.error.empty() ? "<td colspan=\"6\">not run yet</td></tr>\n"
                            : "<td colspan=\"6\" class=\"fail\">failed</td></tr>\n");
      continue;
    }
    h << "<td>" << fixed_or_na(s.mean->psnr, 2) << "</td><td>" << fixed_or_na(s.mean->ssim, 3)
      << "</td><td>" << fixed_or_na(s.mean->ssim_sk, 3) << "</td><td>"
      << fixed_or_na(s.mean->lpips, 3) << "</td><td>" << fixed_or_na(s.mean->avg_error, 3)
      << "</td><td>" << format_duration(mean_of(s, &SuiteRun::train_seconds)) << "</td></tr>\n";
  }
  if (mean)
    h << "<tr><th>mean</th><th>" << fixed_or_na(mean->psnr, 2) << "</th><th>"
      << fixed_or_na(mean->ssim, 3) << "</th><th>" << fixed_or_na(mean->ssim_sk, 3) << "</th><th>"
      << fixed_or_na(mean->lpips, 3) << "</th><th>" << fixed_or_na(mean->avg_error, 3)
      << "</th><th></th></tr>\n";
  h << "</table>\n";
  const std::vector<PublishedResult> rows = published_results(o.suite, o.views);
  if (!rows.empty()) {
    h << "<h2>Published figures (from the literature, not measured by Glimpse)</h2>\n<table>"
         "<tr><th>method</th><th>PSNR</th><th>SSIM</th><th>LPIPS</th><th>source</th></tr>\n";
    for (const PublishedResult& p : rows)
      h << "<tr><td>" << html_escape(std::string(p.method)) << "</td><td>" << fixed_or_na(p.psnr, 2)
        << "</td><td>" << fixed_or_na(p.ssim, 3) << "</td><td>" << fixed_or_na(p.lpips, 3)
        << "</td><td>" << html_escape(std::string(p.source)) << " "
        << html_escape(std::string(p.marker)) << "</td></tr>\n";
    h << "</table>\n";
  }
  for (const SuiteScene& s : scenes) {
    h << "<h2 id=\"" << html_escape(s.name) << "\">" << html_escape(s.name) << "</h2>\n";
    if (!s.error.empty()) h << "<p class=\"fail\">" << html_escape(s.error) << "</p>\n";
    for (const SuiteRun& r : s.runs) {
      const std::string dir = relative_to(r.dir, o.output_dir);
      h << "<p>" << html_escape(r.protocol) << "</p>\n";
      h << "<h3>seed " << r.seed << ": PSNR " << fixed_or_na(r.test.psnr, 2) << " dB, SSIM "
        << fixed_or_na(r.test.ssim, 3) << ", " << r.iterations << " iterations, "
        << format_duration(r.train_seconds) << "</h3>\n";
      h << "<img src=\"" << html_escape(dir + "/loss_curve.png") << "\" alt=\"loss curve\">\n";
      h << "<table class=\"views\"><tr><th>view</th><th>ground truth</th><th>render</th>"
           "<th>depth</th><th>error</th></tr>\n";
      for (const nlohmann::json& v : r.test_views) {
        const std::string name = v.value("name", "");
        const std::string png = evaluation_image_name(name);
        h << "<tr><td>" << html_escape(name) << "<br>PSNR "
          << fixed_or_na(number_or_nan(v, "psnr"), 2) << "<br>SSIM "
          << fixed_or_na(number_or_nan(v, "ssim"), 3) << "</td>";
        for (const char* sub : {"gt", "renders", "depth", "error"}) {
          const std::string src = dir + "/test/" + sub + "/" + png;
          h << "<td><a href=\"" << html_escape(src) << "\"><img src=\"" << html_escape(src)
            << "\" width=\"200\" alt=\"" << sub << "\"></a></td>";
        }
        h << "</tr>\n";
      }
      h << "</table>\n";
    }
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace glimpse
