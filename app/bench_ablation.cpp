// The ablation runner and its tables (see bench_ablation.h).
#include "app/bench_ablation.h"

#include "app/progress.h"
#include "app/report_values.h"
#include "core/check.h"
#include "core/log.h"
#include "io/atomic_file.h"

#include <cmath>
#include <filesystem>
#include <fstream>
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

BenchAblationResult run_bench_ablation(const BenchSuiteOptions& options,
                                       const std::vector<BenchVariant>& variants) {
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
  GLIMPSE_LOG(Info) << "bench: ablation tables in " << (out / "ablation.md").string();
  return result;
}

}  // namespace glimpse
