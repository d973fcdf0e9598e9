// `glimpse bench --variants`: the same sparse-view suite run once per configuration variant (an
// initialiser, a prior switched on, ...), each in <out>/<variant>/ as an ordinary suite, with one
// comparison table across them (ablation.md, ablation.csv, ablation.json in <out>): per variant
// and scene the test metrics, the initialiser used and the initialisation, training and total
// times, and each variant's mean over the scenes; and ablation.png, the variants side by side.
#pragma once

#include "app/bench_suite.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace glimpse {

struct BenchVariant {
  std::string name;      // a folder name: letters, digits, '-', '_', '+', '.'
  nlohmann::json patch;  // train configuration keys applied on top of the suite's configuration
};

// Reads variants from a JSON file: an array of {"name": "...", "config": {...}} in row order.
// Throws glimpse::Error naming `path` and the entry for a bad name, a duplicate, or a patch that
// the train configuration refuses.
std::vector<BenchVariant> load_bench_variants(const std::string& path, const TrainConfig& base);

// One variant per initialiser name ("init-mvs" patching {"init": "mvs"}, ...).
std::vector<BenchVariant> init_variants(const std::vector<std::string>& inits,
                                        const TrainConfig& base);

struct BenchAblationResult {
  std::vector<BenchVariant> variants;
  std::vector<BenchSuiteResult> suites;  // one per variant, same order
  int num_failed = 0;                    // failed runs over every variant

  nlohmann::json to_json(const BenchSuiteOptions& options) const;
  std::string to_csv(const BenchSuiteOptions& options) const;
  std::string to_markdown(const BenchSuiteOptions& options) const;
};

// Width in pixels of each panel of the side-by-side sheet.
inline constexpr int kAblationSheetPanelWidth = 336;

// The side-by-side sheet: one row per scene, the ground truth of one test view (`view`, a test
// view's file name such as "image008.png"; the scene's first test view when empty or when the
// scene has no such test view, with a warning) and each variant's render of it (the first seed that
// finished; DTU: composited outside the mask, as the metric sees it), each panel captioned with the
// variant, seed and the view's PSNR; a grey panel "no run" where a variant has none. Written
// atomically as PNG; nothing when no run has test views. Throws glimpse::Error when an image cannot
// be read or the file written.
void write_ablation_sheet(const BenchAblationResult& result, const std::string& path,
                          const std::string& view = "");

// Runs the suite of `options` once per variant (configuration = options.train + the patch,
// output <out>/<name>/), resumable like a suite, and writes the ablation tables and the sheet
// into <out> atomically after every variant (`sheet_view`: the sheet's view, as above).
BenchAblationResult run_bench_ablation(const BenchSuiteOptions& options,
                                       const std::vector<BenchVariant>& variants,
                                       const std::string& sheet_view = "");

}  // namespace glimpse
