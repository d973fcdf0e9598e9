// The ablation runner and its tables (see bench_ablation.h).
#include "app/bench_ablation.h"

#include "app/cli.h"
#include "app/progress.h"
#include "app/report_values.h"
#include "core/check.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "io/image_io.h"
#include "io/plot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace glimpse {

namespace fs = std::filesystem;

namespace {

void check_variant_name(const std::string& name, const std::string& what) {
  GLIMPSE_CHECK(!name.empty() && name.size() <= 64 && name != "." && name != "..")
      << what << ": a variant name must be 1 to 64 characters, got '" << name << "'";
  for (char c : name)
    GLIMPSE_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '+' ||
                  c == '.')
        << what << ": variant name '" << name
        << "' may only hold letters, digits, '-', '_', '+' and '.'";
}

// Checks the patch against a copy of the configuration (unknown keys, bad values).
void check_patch(const BenchVariant& v, const TrainConfig& base, const std::string& what) {
  TrainConfig copy = base;
  copy.update_from_json(v.patch, what + " (variant '" + v.name + "')");
}

double mean_over_runs(const SuiteScene& s, double SuiteRun::*field) {
  std::vector<double> v;
  for (const SuiteRun& r : s.runs) v.push_back(r.*field);
  return finite_mean(v);
}

std::string init_of(const SuiteScene& s) {
  std::set<std::string> names;
  for (const SuiteRun& r : s.runs)
    if (!r.init_method.empty()) names.insert(r.init_method);
  std::string text;
  for (const std::string& n : names) text += (text.empty() ? "" : "/") + n;
  return text.empty() ? "n/a" : text;
}

}  // namespace

std::vector<BenchVariant> load_bench_variants(const std::string& path, const TrainConfig& base) {
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.good()) << "bench: cannot read the variants file " << path;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << path << ": not valid JSON (" << e.what() << ")";
  }
  GLIMPSE_CHECK(j.is_array() && !j.empty())
      << path << ": expected a non-empty array of {\"name\": ..., \"config\": {...}}";
  std::vector<BenchVariant> variants;
  std::set<std::string> seen;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string what = path + " entry " + std::to_string(i);
    const nlohmann::json& e = j[i];
    GLIMPSE_CHECK(e.is_object() && e.contains("name") && e["name"].is_string())
        << what << ": expected {\"name\": \"...\", \"config\": {...}}";
    for (const auto& [key, value] : e.items())
      GLIMPSE_CHECK(key == "name" || key == "config")
          << what << ": unknown key '" << key << "' (expected name and config)";
    BenchVariant v;
    v.name = e["name"].get<std::string>();
    v.patch = e.value("config", nlohmann::json::object());
    GLIMPSE_CHECK(v.patch.is_object()) << what << ": 'config' must be an object";
    check_variant_name(v.name, what);
    GLIMPSE_CHECK(seen.insert(v.name).second) << what << ": duplicate variant '" << v.name << "'";
    check_patch(v, base, what);
    variants.push_back(std::move(v));
  }
  return variants;
}

std::vector<BenchVariant> init_variants(const std::vector<std::string>& inits,
                                        const TrainConfig& base) {
  std::vector<BenchVariant> variants;
  std::set<std::string> seen;
  for (const std::string& init : inits) {
    GLIMPSE_CHECK(seen.insert(init).second) << "bench: --inits names '" << init << "' twice";
    BenchVariant v{"init-" + init, {{"init", init}}};
    check_variant_name(v.name, "bench --inits");
    check_patch(v, base, "bench --inits");
    variants.push_back(std::move(v));
  }
  return variants;
}

nlohmann::json BenchAblationResult::to_json(const BenchSuiteOptions& options) const {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < variants.size() && i < suites.size(); ++i)
    rows.push_back({{"variant", variants[i].name},
                    {"config", variants[i].patch},
                    {"results", suites[i].to_json(options)}});
  return {{"suite", suite_name(options.suite)},
          {"views", options.views},
          {"variants", rows},
          {"failed_runs", num_failed}};
}

std::string BenchAblationResult::to_csv(const BenchSuiteOptions& options) const {
  std::ostringstream csv;
  csv << "suite,views,variant,scene,runs,init,psnr,ssim,ssim_sk,lpips,init_seconds,"
         "train_seconds,wall_seconds,error\n";
  for (size_t i = 0; i < variants.size() && i < suites.size(); ++i)
    for (const SuiteScene& s : suites[i].scenes) {
      const auto m = s.mean.value_or(SuiteMetrics{NAN, NAN, NAN, NAN, NAN});
      csv << suite_name(options.suite) << "," << options.views << "," << variants[i].name << ","
          << s.name << "," << s.runs.size() << "," << init_of(s) << "," << fixed_or_na(m.psnr, 3)
          << "," << fixed_or_na(m.ssim, 4) << "," << fixed_or_na(m.ssim_sk, 4) << ","
          << fixed_or_na(m.lpips, 4) << ","
          << fixed_or_na(mean_over_runs(s, &SuiteRun::init_seconds), 1) << ","
          << fixed_or_na(mean_over_runs(s, &SuiteRun::train_seconds), 1) << ","
          << fixed_or_na(mean_over_runs(s, &SuiteRun::wall_seconds), 1) << ",\"" << s.error
          << "\"\n";
    }
  return csv.str();
}

std::string BenchAblationResult::to_markdown(const BenchSuiteOptions& options) const {
  std::ostringstream md;
  md << "# glimpse bench ablation: " << suite_name(options.suite) << ", " << options.views
     << " views\n\n";
  md << "Each variant is a whole suite in its own folder (`<variant>/results.md` has the "
        "per-view figures and the published methods). Means over the seeds of each scene; "
        "times per run.\n\n";
  md << "| variant | scene | init | PSNR | SSIM | SSIM_sk | LPIPS | init time | training time | "
        "total time |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (size_t i = 0; i < variants.size() && i < suites.size(); ++i) {
    const BenchSuiteResult& r = suites[i];
    for (const SuiteScene& s : r.scenes) {
      if (!s.mean) {
        md << "| " << variants[i].name << " | " << s.name << " | failed: " << s.error
           << " | | | | | | | |\n";
        continue;
      }
      md << "| " << variants[i].name << " | " << s.name << (s.official ? "" : "*") << " | "
         << init_of(s) << " | " << fixed_or_na(s.mean->psnr, 2) << " | "
         << fixed_or_na(s.mean->ssim, 3) << " | " << fixed_or_na(s.mean->ssim_sk, 3) << " | "
         << fixed_or_na(s.mean->lpips, 3) << " | "
         << format_duration(mean_over_runs(s, &SuiteRun::init_seconds)) << " | "
         << format_duration(mean_over_runs(s, &SuiteRun::train_seconds)) << " | "
         << format_duration(mean_over_runs(s, &SuiteRun::wall_seconds)) << " |\n";
    }
    if (r.mean)
      md << "| **" << variants[i].name << "** | **mean** | | **" << fixed_or_na(r.mean->psnr, 2)
         << "** | **" << fixed_or_na(r.mean->ssim, 3) << "** | **"
         << fixed_or_na(r.mean->ssim_sk, 3) << "** | **" << fixed_or_na(r.mean->lpips, 3)
         << "** | | | |\n";
  }
  md << "\n* not among the protocol's scenes: not comparable with published figures.\n";
  return md.str();
}

// [SECTION] the side-by-side sheet ----------------------------------------------------------------

namespace {

// write_ablation_sheet; `warn`: log the scenes without the view asked for (once per suite, not
// at every variant's intermediate sheet).
void write_sheet(const BenchAblationResult& result, const std::string& path,
                 const std::string& wanted_view, bool warn) {
  if (result.suites.empty()) return;
  const auto& scenes = result.suites.front().scenes;
  // Each cell: the image a run wrote for the scene's view, or none (a failed or missing run).
  struct Cell {
    std::optional<Image<float>> image;
    std::string caption;
  };
  std::vector<std::vector<Cell>> rows;
  std::vector<int> row_heights;
  for (size_t s = 0; s < scenes.size(); ++s) {
    // The view: the one asked for, else the first test view, of the first variant that
    // finished the scene.
    std::string view;
    std::string gt_path;
    for (const BenchSuiteResult& suite : result.suites) {
      if (s >= suite.scenes.size() || suite.scenes[s].runs.empty()) continue;
      const SuiteRun& run = suite.scenes[s].runs.front();
      if (run.test_views.empty()) continue;
      view = run.test_views.front().value("name", "");
      if (!wanted_view.empty()) {
        const bool found = std::any_of(
            run.test_views.begin(), run.test_views.end(),
            [&](const nlohmann::json& v) { return v.value("name", "") == wanted_view; });
        if (found) {
          view = wanted_view;
        } else if (warn) {
          GLIMPSE_LOG(Warning) << "bench: " << scenes[s].name << " has no test view '"
                               << wanted_view << "'; the sheet shows its first, '" << view << "'";
        }
      }
      gt_path = (fs::path(run.dir) / "test" / "gt" / evaluation_image_name(view)).string();
      break;
    }
    if (view.empty() || !fs::is_regular_file(gt_path)) continue;  // no run has test views
    const Image<float> truth = read_image_rgb(gt_path);
    const int height =
        std::max(1, static_cast<int>(std::lround(static_cast<double>(kAblationSheetPanelWidth) *
                                                 truth.height() / truth.width())));
    std::vector<Cell> row;
    row.push_back({resize_image_area(truth, kAblationSheetPanelWidth, height),
                   scenes[s].name + " " + fs::path(view).stem().string() + ": ground truth"});
    for (size_t i = 0; i < result.suites.size(); ++i) {
      Cell cell;
      cell.caption = result.variants[i].name + ": no run";
      const auto& suite_scenes = result.suites[i].scenes;
      if (s < suite_scenes.size() && !suite_scenes[s].runs.empty()) {
        const SuiteRun& run = suite_scenes[s].runs.front();
        const fs::path test = fs::path(run.dir) / "test";
        // As the metric sees it: DTU's render composited outside the mask, when there is one.
        fs::path file = test / "renders_masked" / evaluation_image_name(view);
        if (!fs::is_regular_file(file)) file = test / "renders" / evaluation_image_name(view);
        const auto entry =
            std::find_if(run.test_views.begin(), run.test_views.end(),
                         [&](const nlohmann::json& v) { return v.value("name", "") == view; });
        if (entry != run.test_views.end() && fs::is_regular_file(file)) {
          cell.image =
              resize_image_area(read_image_rgb(file.string()), kAblationSheetPanelWidth, height);
          cell.caption = result.variants[i].name + ", seed " + std::to_string(run.seed) + ": " +
                         fixed_or_na(number_or_nan(*entry, "psnr"), 1) + " dB";
        }
      }
      row.push_back(std::move(cell));
    }
    rows.push_back(std::move(row));
    row_heights.push_back(height);
  }
  if (rows.empty()) return;
  const int columns = static_cast<int>(result.suites.size()) + 1;
  int total_height = 0;
  for (int h : row_heights) total_height += h;
  Image<float> sheet(columns * kAblationSheetPanelWidth, total_height, 3, 0.5f);
  int y0 = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int c = 0; c < columns; ++c) {
      Cell& cell = rows[r][static_cast<size_t>(c)];
      Image<float> panel = cell.image
                               ? *cell.image
                               : Image<float>(kAblationSheetPanelWidth, row_heights[r], 3, 0.5f);
      caption_image(panel, cell.caption);
      paste_image(sheet, panel, c * kAblationSheetPanelWidth, y0);
    }
    y0 += row_heights[r];
  }
  write_png(path, sheet);
}

}  // namespace

void write_ablation_sheet(const BenchAblationResult& result, const std::string& path,
                          const std::string& view) {
  write_sheet(result, path, view, true);
}

BenchAblationResult run_bench_ablation(const BenchSuiteOptions& options,
                                       const std::vector<BenchVariant>& variants,
                                       const std::string& sheet_view) {
  options.check();
  GLIMPSE_CHECK(!variants.empty()) << "bench: no variants to run";
  BenchAblationResult result;
  result.variants = variants;
  const fs::path out(options.output_dir);
  fs::create_directories(out);
  auto write_tables = [&] {
    write_file_atomically((out / "ablation.md").string(),
                          [&](std::ostream& s) { s << result.to_markdown(options); });
    write_file_atomically((out / "ablation.csv").string(),
                          [&](std::ostream& s) { s << result.to_csv(options); });
    write_file_atomically((out / "ablation.json").string(),
                          [&](std::ostream& s) { s << result.to_json(options).dump(2) << "\n"; });
    try {
      write_sheet(result, (out / "ablation.png").string(), sheet_view,
                  result.suites.size() == variants.size());
    } catch (const std::exception& e) {  // a picture missing or unreadable: the tables stand
      GLIMPSE_LOG(Warning) << "bench: no side-by-side sheet: " << user_error_message(e.what());
    }
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    BenchSuiteOptions v = options;
    v.output_dir = (out / variants[i].name).string();
    v.train.update_from_json(variants[i].patch, "variant '" + variants[i].name + "'");
    // Variants share the MVS cache (keyed by views and settings).
    if (v.train.cache_dir.empty()) v.train.cache_dir = (out / "cache").string();
    GLIMPSE_LOG(Info) << "bench: variant " << i + 1 << "/" << variants.size() << " '"
                      << variants[i].name << "' " << variants[i].patch.dump() << " -> "
                      << v.output_dir;
    result.suites.push_back(run_bench_suite(v));
    result.num_failed += result.suites.back().num_failed;
    write_tables();
  }
  GLIMPSE_LOG(Info) << "bench: ablation tables in " << (out / "ablation.md").string()
                    << ", side by side in " << (out / "ablation.png").string();
  return result;
}

}  // namespace glimpse
