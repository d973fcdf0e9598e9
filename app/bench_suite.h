// `glimpse bench`: a sparse-view benchmark suite (LLFF or DTU at 3, 6 or 9 views) run headless
// scene by scene with the community protocol (eval/protocols.h), with results.json, results.csv,
// results.md (ours beside the published figures, labelled as such) and report.html (images per
// test view, loss curves). Resumable: finished runs are read back, not retrained.
#pragma once

#include "app/train_config.h"
#include "eval/protocols.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace glimpse {

struct BenchSuiteOptions {
  Suite suite = Suite::Llff;
  int views = 3;                    // training views: 3, 6 or 9
  std::string data_dir;             // scenes as <data>/<scene> or <data>/<suite>/<scene>
  std::string output_dir;           // <out>/<scene>/seed<k>/ per run, reports at the top
  std::vector<std::string> scenes;  // empty: the protocol's scenes found under data_dir, or
                                    // (none found) every scene folder of the suite's layout
  int seeds = 1;                    // runs per scene with seeds seed, seed + 1, ...
  TrainConfig train;  // the runs' configuration (dataset, output, protocol, views set per run)
  // "host:port": serve each run over the HTTP link in turn, with one token for the whole suite,
  // so a viewer attached with it follows the batch from run to run (app/http_link.h).
  std::string serve;
  bool serve_remote = false;  // allow an address other than loopback

  // Throws glimpse::Error naming the option: views not 3/6/9, seeds < 1, empty or missing
  // data folder, empty output folder, an invalid train configuration.
  void check() const;
};

// The test-view means of one run (NaN: unavailable).
struct SuiteMetrics {
  double psnr = 0, ssim = 0, ssim_sk = 0, lpips = 0, avg_error = 0;
};

struct SuiteRun {
  int seed = 0;
  std::string dir;      // the run's output folder
  bool reused = false;  // read back from an earlier invocation
  int iterations = 0;
  int num_gaussians = 0;
  double train_seconds = 0, wall_seconds = 0, its_per_second = 0;
  std::string init_method;  // the initialiser the run used ("" in reports from before it existed)
  double init_seconds = 0;  // its initialisation stage (MVS, COLMAP, hull ...), 0 when unknown
  SuiteMetrics test;
  nlohmann::json test_views;  // metrics.json "test"."views" (per-view figures)
  std::string protocol;       // the split as run (describe_protocol: ids of this scene)
};

struct SuiteScene {
  std::string name;      // "fern", "scan24"
  std::string path;      // dataset folder ("" when not found)
  bool official = true;  // one of the protocol's scenes (LLFF's 8, DTU's 15 scans)
  std::string error;     // why the scene failed ("" when every run finished)
  std::vector<SuiteRun> runs;
  // Over the runs (std 0 for a single run); empty when no run finished.
  std::optional<SuiteMetrics> mean, stddev;
};

struct BenchSuiteResult {
  std::string protocol;  // the protocol in one line (each run's ids: SuiteRun::protocol)
  std::vector<SuiteScene> scenes;
  std::optional<SuiteMetrics> mean;  // mean over the scenes that finished (of their means)
  int num_failed = 0;
  double wall_seconds = 0;
  std::string lpips;  // the runs' LPIPS status (see TrainResult::lpips)

  nlohmann::json to_json(const BenchSuiteOptions& options) const;
  std::string to_csv(const BenchSuiteOptions& options) const;
  std::string to_markdown(const BenchSuiteOptions& options) const;
  // Links images under output_dir by relative paths: write it into output_dir.
  std::string to_html(const BenchSuiteOptions& options) const;
};

// The scenes a suite runs: options.scenes, or the defaults described above. Scenes named but
// not found are returned with an empty path (the run reports them as failed).
std::vector<SuiteScene> find_bench_scenes(const BenchSuiteOptions& options);

// Runs the suite: every (scene, seed) headless in <out>/<scene>/seed<k>/, skipping runs whose
// metrics.json exists with the same configuration, resuming runs that left a checkpoint, with one
// progress line across the whole suite (ETA). A scene that fails (unreadable, diverged, ...) is
// reported and the others go on. Writes results.json, results.csv, results.md and report.html
// into <out> (atomically) after every run and at the end.
BenchSuiteResult run_bench_suite(const BenchSuiteOptions& options);

}  // namespace glimpse
