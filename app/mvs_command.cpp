// `glimpse mvs`, the cached MVS stage and the all-view accuracy evaluation (see mvs_command.h).
#include "app/mvs_command.h"

#include "app/progress.h"
#include "app/report_values.h"
#include "core/check.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/timer.h"
#include "eval/protocols.h"
#include "io/atomic_file.h"
#include "io/dataset_reader.h"
#include "io/depth_io.h"
#include "io/image_io.h"
#include "io/point_cloud_ply.h"
#include "priors/mvs/source_views.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

namespace glimpse {
namespace fs = std::filesystem;
namespace {

// [SECTION] helpers ------------------------------------------------------------------------------

// File stems of the views' maps: the image name's stem, with the view index in front when two
// views share a stem.
std::vector<std::string> map_stems(const std::vector<View>& views) {
  std::vector<std::string> stems;
  std::set<std::string> seen;
  bool unique = true;
  for (const View& v : views) {
    stems.push_back(fs::path(v.name).stem().string());
    if (stems.back().empty()) stems.back() = "view";
    unique = unique && seen.insert(stems.back()).second;
  }
  if (!unique)
    for (size_t i = 0; i < stems.size(); ++i) {
      char prefix[32];
      std::snprintf(prefix, sizeof(prefix), "%03zu_", i);
      stems[i] = prefix + stems[i];
    }
  return stems;
}

void write_text(const fs::path& path, const std::string& text) {
  write_file_atomically(path.string(), [&](std::ostream& s) { s << text; });
}

void make_folder(const fs::path& dir, const std::string& who) {
  std::error_code ec;
  GLIMPSE_CHECK(!fs::exists(dir, ec) || fs::is_directory(dir, ec))
      << who << ": output path " << dir.string() << " exists and is not a folder";
  fs::create_directories(dir, ec);
  GLIMPSE_CHECK(!ec && fs::is_directory(dir))
      << who << ": cannot create folder " << dir.string() << ": " << ec.message();
}

// Camera-frame normals as RGB (n + 1) / 2; black where there is none.
Image<float> normal_preview(const Image<float>& normal) {
  Image<float> rgb(normal.width(), normal.height(), 3);
  for (size_t i = 0; i < normal.num_pixels(); ++i) {
    const float* n = normal.data() + 3 * i;
    if (n[0] == 0.0f && n[1] == 0.0f && n[2] == 0.0f) continue;
    for (int c = 0; c < 3; ++c) rgb.data()[3 * i + c] = 0.5f * (n[c] + 1.0f);
  }
  return rgb;
}

nlohmann::json options_json(const MvsOptions& o) {
  return {{"max_sources", o.max_sources},
          {"window_radius", o.window_radius},
          {"window_step", o.window_step},
          {"sigma_spatial", o.sigma_spatial},
          {"sigma_color", o.sigma_color},
          {"min_variance", o.min_variance},
          {"coarse_levels", o.coarse_levels},
          {"iterations", o.iterations},
          {"fine_iterations", o.fine_iterations},
          {"geometric_iterations", o.geometric_iterations},
          {"geometric_weight", o.geometric_weight},
          {"geometric_max_error", o.geometric_max_error},
          {"perturbation", o.perturbation},
          {"seed", o.seed},
          {"max_cost", o.max_cost},
          {"max_reprojection_error", o.max_reprojection_error},
          {"max_relative_depth_error", o.max_relative_depth_error},
          {"min_consistent_sources", o.min_consistent_sources}};
}

nlohmann::json agreement_json(const DepthAgreement& a) {
  return {{"pixels", a.pixels},
          {"confident", a.confident},
          {"with_reference", a.with_reference},
          {"within_1pct", a.within_1pct},
          {"within_2pct", a.within_2pct},
          {"fraction_within_1pct", a.fraction_1pct()},
          {"fraction_within_2pct", a.fraction_2pct()},
          {"mask_pixels", a.mask_pixels},
          {"mask_covered", a.mask_covered},
          {"coverage", a.coverage()}};
}

std::string percent(double fraction) { return fixed_or_na(100.0 * fraction, 1) + "%"; }

// The images and maps of one view.
void write_view_maps(const fs::path& dir, const std::string& stem, const MvsViewResult& r,
                     double near, double far) {
  write_png((dir / "depth" / (stem + ".png")).string(), depth_preview(r.depth, near, far));
  write_png((dir / "depth_raw" / (stem + ".png")).string(), depth_preview(r.raw_depth, near, far));
  write_png((dir / "normal" / (stem + ".png")).string(), normal_preview(r.normal));
  write_png((dir / "confidence" / (stem + ".png")).string(), r.confidence);
  write_depth_npy((dir / "maps" / (stem + ".depth.npy")).string(), r.depth);
  write_depth_npy((dir / "maps" / (stem + ".raw_depth.npy")).string(), r.raw_depth);
  write_depth_npy((dir / "maps" / (stem + ".confidence.npy")).string(), r.confidence);
  write_pfm((dir / "maps" / (stem + ".normal.pfm")).string(), r.normal);
}

std::string report_markdown(const nlohmann::json& report) {
  std::ostringstream md;
  md << "# glimpse mvs\n\n";
  md << "- views: " << report["views"].size() << ", threads " << report["threads"].get<int>()
     << "\n";
  md << "- depth bounds: " << report["near"].get<double>() << " .. " << report["far"].get<double>()
     << "\n";
  md << "- MVS time: " << fixed_or_na(report["mvs_seconds"].get<double>(), 1) << " s ("
     << fixed_or_na(report["seconds_per_view"].get<double>(), 1) << " s per view, fusion "
     << fixed_or_na(report["fusion_seconds"].get<double>(), 2) << " s)\n";
  md << "- fused points: " << report["fused_points"].get<int64_t>() << " (fused.ply)\n";
  md << "- depth images: " << report["depth_scale"]["description"].get<std::string>() << "\n";
  md << "- cache key: " << report["cache_key"].get<std::string>() << "\n\n";
  md << "| view | sources | seconds | matched | confident | mean confidence |\n";
  md << "|---|---|---:|---:|---:|---:|\n";
  for (const auto& v : report["views"]) {
    std::string sources;
    for (const auto& s : v["sources"])
      sources.append(sources.empty() ? "" : " ").append(s.get<std::string>());
    md << "| " << v["name"].get<std::string>() << " | " << sources << " | "
       << fixed_or_na(v["seconds"].get<double>(), 1) << " | "
       << percent(v["matched_fraction"].get<double>()) << " | "
       << percent(v["confident_fraction"].get<double>()) << " | "
       << fixed_or_na(v["mean_confidence"].get<double>(), 3) << " |\n";
  }
  if (report.contains("evaluation")) {
    const auto& e = report["evaluation"];
    md << "\n## Accuracy against the all-view reference\n\n";
    md << "Reference: the same MVS on all " << e["dataset_views"].get<int>()
       << " views (depth maps for " << e["reference_views"].get<int>()
       << " of them: the evaluated views and their sources, "
       << fixed_or_na(e["reference_seconds"].get<double>(), 0) << " s), kept where at least "
       << e["reference_min_consistent"].get<int>()
       << " sources agree. Coverage: confident pixels over "
       << (e["masked"].get<bool>() ? "the object mask" : "the whole image") << ".\n\n";
    md << "| view | confident | with reference | within 1% | within 2% | coverage |\n";
    md << "|---|---:|---:|---:|---:|---:|\n";
    auto row = [&](const std::string& name, const nlohmann::json& a) {
      md << "| " << name << " | " << a["confident"].get<int64_t>() << " | "
         << a["with_reference"].get<int64_t>() << " | "
         << percent(a["fraction_within_1pct"].get<double>()) << " | "
         << percent(a["fraction_within_2pct"].get<double>()) << " | "
         << percent(a["coverage"].get<double>()) << " |\n";
    };
    for (size_t i = 0; i < e["views"].size(); ++i)
      row(e["views"][i]["name"].get<std::string>(), e["views"][i]);
    row("**all**", e["total"]);
  }
  return md.str();
}

void write_reports(const fs::path& dir, const nlohmann::json& report) {
  write_text(dir / "report.json", report.dump(2) + "\n");
  write_text(dir / "report.md", report_markdown(report));
}

// Loads a complete cache (cache.json names `key`), or returns false.
bool load_cache(const fs::path& dir, const std::string& key, const std::vector<View>& views,
                MvsStageResult& out) {
  const fs::path record = dir / "cache.json";
  if (!fs::is_regular_file(record)) return false;
  try {
    std::ifstream in(record);
    const nlohmann::json j = nlohmann::json::parse(in);
    if (j.value("key", std::string()) != key) {
      GLIMPSE_LOG(Info) << "mvs: the cache in " << dir.string()
                        << " is for other views or settings; recomputing";
      return false;
    }
    const std::vector<std::string> stems = map_stems(views);
    MvsStageResult r;
    for (size_t i = 0; i < views.size(); ++i) {
      const fs::path maps = dir / "maps";
      Image<float> depth = read_depth_npy((maps / (stems[i] + ".depth.npy")).string());
      Image<float> conf = read_depth_npy((maps / (stems[i] + ".confidence.npy")).string());
      Image<float> normal = read_pfm((maps / (stems[i] + ".normal.pfm")).string());
      const int w = views[i].camera.width, h = views[i].camera.height;
      GLIMPSE_CHECK(depth.width() == w && depth.height() == h && conf.width() == w &&
                    conf.height() == h && normal.width() == w && normal.height() == h &&
                    normal.channels() == 3)
          << "cached maps of " << views[i].name << " have the wrong size";
      r.depths.push_back(std::move(depth));
      r.confidences.push_back(std::move(conf));
      r.normals.push_back(std::move(normal));
    }
    r.cloud = read_point_cloud_ply((dir / "fused.ply").string());
    r.mvs_seconds = j.value("mvs_seconds", 0.0);
    out = std::move(r);
    return true;
  } catch (const std::exception& e) {
    GLIMPSE_LOG(Warning) << "mvs: cannot reuse the cache in " << dir.string() << " ("
                         << error_message_without_location(e.what()) << "); recomputing";
    return false;
  }
}

void check_bounds(double near, double far, const std::string& what) {
  GLIMPSE_CHECK(std::isfinite(near) && std::isfinite(far) && near > 0.0 && far > near)
      << what << ": the depth bounds must be finite with 0 < near < far, got near " << near
      << ", far " << far;
}

// The views that get depth maps: the split's training views (as `glimpse train` picks them).
std::vector<int> reference_ids(const MvsCommandOptions& o, const Dataset& dataset,
                               std::string& split) {
  const int n = static_cast<int>(dataset.views.size());
  std::vector<int> ids;
  if (o.reference == MvsReferenceViews::All) {
    for (int i = 0; i < n; ++i) ids.push_back(i);
    split = "all " + std::to_string(n) + " views";
    return ids;
  }
  if (o.protocol == EvalProtocol::None) {
    ids = dataset.train_ids;
    split = ids.empty() ? "no split: all views" : "the dataset's split (training views)";
    if (ids.empty())
      for (int i = 0; i < n; ++i) ids.push_back(i);
    return ids;
  }
  const Suite suite = o.protocol == EvalProtocol::Llff ? Suite::Llff : Suite::Dtu;
  ProtocolSpec spec;
  try {
    spec = make_protocol(suite, o.views, n);
  } catch (const Error& e) {
    GLIMPSE_FAIL() << "mvs: dataset " << o.dataset_dir << " (" << n << " views) does not fit the "
                   << suite_name(suite)
                   << " protocol: " << error_message_without_location(e.what());
  }
  split = describe_protocol(spec);
  return spec.train_ids;
}

}  // namespace

// [SECTION] the stage -------------------------------------------------------------------------

std::string mvs_cache_key(const std::vector<View>& views, double near, double far,
                          const MvsOptions& options) {
  Fnv64 h;
  // The salt names the MVS output's version: change it when run_mvs or the cache's files
  // change what a run reads back, so that caches of the old version are not reused.
  h.str("glimpse-mvs-2");
  h.num(static_cast<int>(views.size()));
  for (const View& v : views) {
    const Camera& c = v.camera;
    h.str(v.name);
    h.num(v.image.width());
    h.num(v.image.height());
    h.bytes(v.image.data(), v.image.size() * sizeof(float));  // an image edited in place
    h.num(c.width);
    h.num(c.height);
    for (double x : {c.fx, c.fy, c.cx, c.cy}) h.num(x);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) h.num(c.rotation.m[i][j]);
      h.num(c.translation[i]);
    }
  }
  h.num(near);
  h.num(far);
  h.str(options.key());
  return h.hex();
}

MvsStageResult run_mvs_stage(const std::vector<View>& views, double near, double far,
                             const MvsOptions& options, const std::string& cache_dir, int threads) {
  const Timer timer;
  options.check();
  check_bounds(near, far, "mvs");
  GLIMPSE_CHECK(views.size() >= 2) << "mvs: needs at least 2 views, got " << views.size();
  const fs::path dir(cache_dir);
  const std::string key = mvs_cache_key(views, near, far, options);
  MvsStageResult out;
  if (!cache_dir.empty() && load_cache(dir, key, views, out)) {
    out.from_cache = true;
    out.cache_key = key;
    out.seconds = timer.seconds();
    GLIMPSE_LOG(Info) << "mvs: reused the cache in " << dir.string() << " (" << views.size()
                      << " views, " << out.cloud.size() << " fused points)";
    return out;
  }

  const MvsResult r = run_mvs(
      views, near, far, options, threads, {}, [](int done, int total, const std::string& what) {
        GLIMPSE_LOG(Info) << "mvs: [" << done << "/" << total << "] " << what;
        report_stage_progress(total > 0 ? static_cast<double>(done) / total : 0.0,
                              "multi-view stereo: " + what);
      });
  out.cache_key = key;
  out.mvs_seconds = r.seconds;
  out.cloud = r.cloud;
  // The cache keeps 8-bit colours (fused.ply): a fresh run starts from the same cloud as every
  // later run that reads it, so a result never depends on whether the cache existed.
  quantize_point_colors(out.cloud);
  for (const MvsViewResult& v : r.views) {
    out.depths.push_back(v.depth);
    out.confidences.push_back(v.confidence);
    out.normals.push_back(v.normal);
  }
  double view_seconds = 0;
  for (const MvsViewResult& v : r.views) view_seconds += v.seconds;
  GLIMPSE_LOG(Info) << "mvs: " << views.size() << " views in " << std::fixed << std::setprecision(1)
                    << r.seconds << " s (" << view_seconds / static_cast<double>(views.size())
                    << " s per view at " << r.threads << " threads), " << r.cloud.size()
                    << " fused points";

  if (!cache_dir.empty()) {
    make_folder(dir, "mvs");
    for (const char* sub : {"depth", "depth_raw", "normal", "confidence", "maps"})
      make_folder(dir / sub, "mvs");
    // An old record goes first, so that a crash below never leaves it naming new files.
    std::error_code ec;
    fs::remove(dir / "cache.json", ec);
    const std::vector<std::string> stems = map_stems(views);
    nlohmann::json report;
    report["near"] = near;
    report["far"] = far;
    report["threads"] = r.threads;
    report["mvs_seconds"] = r.seconds;
    report["fusion_seconds"] = r.fusion_seconds;
    report["seconds_per_view"] = view_seconds / static_cast<double>(views.size());
    report["fused_points"] = static_cast<int64_t>(r.cloud.size());
    report["cache_key"] = key;
    report["options"] = options_json(options);
    std::ostringstream scale;
    scale << "TURBO colour map of inverse depth, blue = near bound " << near << ", red = far bound "
          << far << ", black = no confident depth";
    report["depth_scale"] = {{"kind", "inverse_depth"},
                             {"colormap", "turbo"},
                             {"blue", near},
                             {"red", far},
                             {"description", scale.str()}};
    report["views"] = nlohmann::json::array();
    for (size_t i = 0; i < r.views.size(); ++i) {
      const MvsViewResult& v = r.views[i];
      write_view_maps(dir, stems[i], v, near, far);
      int64_t matched = 0, confident = 0;
      double conf_sum = 0;
      for (size_t p = 0; p < v.depth.num_pixels(); ++p) {
        matched += v.raw_depth.data()[p] > 0.0f ? 1 : 0;
        confident += v.depth.data()[p] > 0.0f ? 1 : 0;
        conf_sum += v.confidence.data()[p];
      }
      const double pixels = static_cast<double>(v.depth.num_pixels());
      nlohmann::json sources = nlohmann::json::array();
      for (int s : v.sources) sources.push_back(views[s].name);
      report["views"].push_back({{"name", views[i].name},
                                 {"sources", sources},
                                 {"seconds", v.seconds},
                                 {"matched_fraction", matched / pixels},
                                 {"confident_fraction", confident / pixels},
                                 {"mean_confidence", confident > 0 ? conf_sum / confident : 0.0}});
    }
    write_point_cloud_ply((dir / "fused.ply").string(), r.cloud);
    write_reports(dir, report);
    nlohmann::json record = {{"key", key}, {"mvs_seconds", r.seconds}, {"views", views.size()}};
    write_text(dir / "cache.json", record.dump(2) + "\n");
  }
  out.seconds = timer.seconds();
  return out;
}

// [SECTION] evaluation ----------------------------------------------------------------------

nlohmann::json MvsEvaluation::to_json() const {
  nlohmann::json j;
  j["views"] = nlohmann::json::array();
  for (size_t i = 0; i < per_view.size(); ++i) {
    nlohmann::json v = agreement_json(per_view[i]);
    v["name"] = names[i];
    j["views"].push_back(v);
  }
  j["total"] = agreement_json(total);
  j["masked"] = masked;
  j["reference_views"] = reference_views;
  j["reference_seconds"] = reference_seconds;
  return j;
}

MvsEvaluation evaluate_mvs_against_all(const Dataset& dataset, const std::vector<int>& train_ids,
                                       const std::vector<Image<float>>& depths,
                                       const MvsOptions& options, int reference_min_consistent,
                                       int threads, const std::string& out_dir) {
  GLIMPSE_CHECK_EQ(train_ids.size(), depths.size()) << "mvs evaluation: one depth map per view";
  const std::vector<View>& views = dataset.views;
  std::vector<Camera> cameras;
  for (const View& v : views) cameras.push_back(v.camera);
  const std::vector<std::vector<int>> sources =
      select_source_views(cameras, dataset.near_depth, dataset.far_depth, options.max_sources);
  // The evaluated views first, then their sources (each once).
  std::vector<int> refs = train_ids;
  for (int t : train_ids)
    for (int s : sources[t])
      if (std::find(refs.begin(), refs.end(), s) == refs.end()) refs.push_back(s);
  MvsOptions ref_options = options;
  ref_options.min_consistent_sources = std::min(reference_min_consistent, options.max_sources);
  GLIMPSE_LOG(Info) << "mvs: reference from all " << views.size() << " views: depth maps for "
                    << refs.size() << " views (the evaluated ones and their sources)";
  const MvsResult reference =
      run_mvs(views, dataset.near_depth, dataset.far_depth, ref_options, threads, refs,
              [](int done, int total, const std::string& what) {
                GLIMPSE_LOG(Info) << "mvs: reference [" << done << "/" << total << "] " << what;
              });

  MvsEvaluation e;
  e.reference_views = static_cast<int>(refs.size());
  e.reference_seconds = reference.seconds;
  e.masked = true;
  for (int t : train_ids) e.masked = e.masked && !views[t].mask.empty();
  std::vector<View> evaluated;
  for (int t : train_ids) evaluated.push_back(views[t]);
  const std::vector<std::string> stems = map_stems(evaluated);
  if (!out_dir.empty()) {
    make_folder(fs::path(out_dir) / "reference", "mvs");
    make_folder(fs::path(out_dir) / "reference" / "depth", "mvs");
    make_folder(fs::path(out_dir) / "reference" / "maps", "mvs");
  }
  for (size_t i = 0; i < train_ids.size(); ++i) {
    const View& v = views[train_ids[i]];
    const Image<float>& ref_depth = reference.views[i].depth;
    const DepthAgreement a =
        compare_depth(depths[i], ref_depth, e.masked ? v.mask : Image<float>());
    e.names.push_back(v.name);
    e.per_view.push_back(a);
    e.total.add(a);
    if (!out_dir.empty()) {
      const fs::path dir = fs::path(out_dir) / "reference";
      write_png((dir / "depth" / (stems[i] + ".png")).string(),
                depth_preview(ref_depth, dataset.near_depth, dataset.far_depth));
      write_depth_npy((dir / "maps" / (stems[i] + ".depth.npy")).string(), ref_depth);
    }
  }
  return e;
}

// [SECTION] the command -----------------------------------------------------------------------

void MvsCommandOptions::check() const {
  GLIMPSE_CHECK(!dataset_dir.empty()) << "mvs: no dataset folder given";
  GLIMPSE_CHECK(!output_dir.empty()) << "mvs: no output folder given (-o)";
  GLIMPSE_CHECK(factor >= 1) << "mvs: --factor must be >= 1, got " << factor;
  GLIMPSE_CHECK(downscale >= 1) << "mvs: --downscale must be >= 1, got " << downscale;
  GLIMPSE_CHECK(views >= 1) << "mvs: --views must be >= 1, got " << views;
  GLIMPSE_CHECK(threads >= 0) << "mvs: --threads must be >= 0, got " << threads;
  GLIMPSE_CHECK(reference_min_consistent >= 1)
      << "mvs: the reference needs at least 1 consistent source, got " << reference_min_consistent;
  mvs.check();
}

MvsCommandResult run_mvs_command(const MvsCommandOptions& options) {
  const Timer wall;
  options.check();
  GLIMPSE_CHECK(fs::is_directory(options.dataset_dir))
      << "mvs: dataset folder " << options.dataset_dir << " does not exist or is not a folder";
  DatasetReadOptions read;
  read.format = dataset_format_from_name(options.format);
  read.llff_factor = options.factor;
  read.downscale = options.downscale;
  const Dataset dataset = read_dataset(options.dataset_dir, read);
  check_bounds(dataset.near_depth, dataset.far_depth, "mvs: dataset " + options.dataset_dir);
  MvsCommandResult result;
  result.dataset_root = dataset.root.empty() ? options.dataset_dir : dataset.root;
  result.dataset_format = dataset.format;
  const std::vector<int> ids = reference_ids(options, dataset, result.split);
  GLIMPSE_CHECK(ids.size() >= 2) << "mvs: dataset " << options.dataset_dir << " gives "
                                 << ids.size() << " view(s) (" << result.split
                                 << "); multi-view stereo needs at least 2";
  std::vector<View> views;
  for (int id : ids) {
    views.push_back(dataset.views[id]);
    result.view_names.push_back(dataset.views[id].name);
  }
  // Images of the wrong size are reported with their file before anything is written.
  for (const View& v : views)
    GLIMPSE_CHECK(v.image.width() == v.camera.width && v.image.height() == v.camera.height &&
                  v.image.channels() == 3)
        << "mvs: image " << v.image_path << " is " << v.image.width() << "x" << v.image.height()
        << "x" << v.image.channels() << ", its camera expects " << v.camera.width << "x"
        << v.camera.height << " RGB";
  GLIMPSE_CHECK(!options.evaluate_against_all || dataset.views.size() > ids.size())
      << "mvs: --evaluate-against-all needs more dataset views than the " << ids.size()
      << " evaluated ones";
  GLIMPSE_LOG(Info) << "mvs: " << views.size() << " reference views (" << result.split
                    << "), depth " << dataset.near_depth << " .. " << dataset.far_depth;

  result.stage = run_mvs_stage(views, dataset.near_depth, dataset.far_depth, options.mvs,
                               options.output_dir, options.threads);
  const fs::path out(options.output_dir);
  std::ifstream in(out / "report.json");
  nlohmann::json report = nlohmann::json::parse(in);
  in.close();
  report["dataset"] = result.dataset_root;
  report["format"] = result.dataset_format;
  report["split"] = result.split;
  report["from_cache"] = result.stage.from_cache;
  report.erase("evaluation");  // a cached report may hold an earlier run's
  if (options.evaluate_against_all) {
    result.evaluation =
        evaluate_mvs_against_all(dataset, ids, result.stage.depths, options.mvs,
                                 options.reference_min_consistent, options.threads, out.string());
    result.evaluated = true;
    nlohmann::json e = result.evaluation.to_json();
    e["dataset_views"] = static_cast<int>(dataset.views.size());
    e["reference_min_consistent"] = options.reference_min_consistent;
    report["evaluation"] = e;
  }
  result.wall_seconds = wall.seconds();
  report["wall_seconds"] = result.wall_seconds;
  write_reports(out, report);
  return result;
}

// [SECTION] command line ------------------------------------------------------------------------

MvsCli add_mvs_subcommand(CLI::App& app) {
  MvsCli cli;
  cli.options = std::make_shared<MvsCommandOptions>();
  cli.protocol = std::make_shared<std::string>("none");
  cli.reference = std::make_shared<std::string>("train");
  MvsCommandOptions& o = *cli.options;
  CLI::App* cmd = app.add_subcommand(
      "mvs",
      "Multi-view stereo (PatchMatch, CPU) on the training views: depth, normal and confidence "
      "maps, a fused point cloud (fused.ply) and report.json/md; --evaluate-against-all measures "
      "it against the same MVS on all views");
  cli.command = cmd;
  cmd->add_option("dataset_dir", o.dataset_dir,
                  "Dataset folder: LLFF, COLMAP (sparse/0), DTU or transforms.json")
      ->required();
  cmd->add_option("-o,--output", o.output_dir, "Output folder (created if missing)")->required();
  cmd->add_option("--format", o.format,
                  "Dataset layout: auto (detected), llff, colmap, dtu or transforms")
      ->capture_default_str();
  cmd->add_option("--factor", o.factor, "LLFF downsampling factor (images_<f>/)")
      ->capture_default_str();
  cmd->add_option("--downscale", o.downscale,
                  "COLMAP and transforms.json: divide the image size by this")
      ->capture_default_str();
  cmd->add_option("--protocol", *cli.protocol,
                  "Training views: none (the dataset's split, else all), llff or dtu")
      ->check(CLI::IsMember({"none", "llff", "dtu"}))
      ->capture_default_str();
  cmd->add_option("--views", o.views, "Protocol training views: 3, 6 or 9")->capture_default_str();
  cmd->add_option("--reference", *cli.reference,
                  "Views that get depth maps: train (the split's training views) or all")
      ->check(CLI::IsMember({"train", "all"}))
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads (0: all hardware threads)")
      ->capture_default_str();
  cmd->add_flag("--evaluate-against-all", o.evaluate_against_all,
                "Also run the MVS on all of the dataset's views and report the share of "
                "confident pixels within 1% and 2% of that reference, and the mask coverage");
  cmd->add_option("--reference-min-consistent", o.reference_min_consistent,
                  "Evaluation: sources a reference pixel must agree with")
      ->capture_default_str();
  cmd->add_option("--max-sources", o.mvs.max_sources, "Source views per reference view")
      ->capture_default_str();
  cmd->add_option("--iterations", o.mvs.iterations,
                  "Photometric PatchMatch iterations at the coarsest level")
      ->capture_default_str();
  cmd->add_option("--coarse-levels", o.mvs.coarse_levels,
                  "Coarse-to-fine levels (each halves the resolution; 0: full resolution only)")
      ->capture_default_str();
  cmd->add_option("--fine-iterations", o.mvs.fine_iterations,
                  "Photometric iterations at each finer level")
      ->capture_default_str();
  cmd->add_option("--geometric-iterations", o.mvs.geometric_iterations,
                  "Geometric-consistency PatchMatch iterations")
      ->capture_default_str();
  cmd->add_option("--max-cost", o.mvs.max_cost, "Filter: largest photometric cost (1 - NCC)")
      ->capture_default_str();
  cmd->add_option("--max-reprojection-error", o.mvs.max_reprojection_error,
                  "Filter and fusion: forward-backward reprojection error, pixels")
      ->capture_default_str();
  cmd->add_option("--max-relative-depth-error", o.mvs.max_relative_depth_error,
                  "Filter and fusion: relative depth difference")
      ->capture_default_str();
  cmd->add_option("--sigma-color", o.mvs.sigma_color,
                  "Bilateral NCC weight: intensity std dev (grey in [0, 1])")
      ->capture_default_str();
  cmd->add_option("--min-consistent", o.mvs.min_consistent_sources,
                  "Filter and fusion: source views a pixel must agree with")
      ->capture_default_str();
  cmd->add_option("--seed", o.mvs.seed, "Random seed")->capture_default_str();
  return cli;
}

int run_mvs_cli(const MvsCli& cli) {
  MvsCommandOptions o = *cli.options;
  o.protocol = *cli.protocol == "llff"  ? EvalProtocol::Llff
               : *cli.protocol == "dtu" ? EvalProtocol::Dtu
                                        : EvalProtocol::None;
  o.reference = *cli.reference == "all" ? MvsReferenceViews::All : MvsReferenceViews::Train;
  const MvsCommandResult r = run_mvs_command(o);
  double view_seconds = 0;
  std::ifstream in(fs::path(o.output_dir) / "report.json");
  const nlohmann::json report = nlohmann::json::parse(in);
  view_seconds = report.value("seconds_per_view", 0.0);
  std::cout << std::fixed << std::setprecision(1) << "mvs: " << r.view_names.size() << " views ("
            << r.split << "), " << r.stage.cloud.size() << " fused points, "
            << (r.stage.from_cache ? "from the cache, " : "") << r.stage.mvs_seconds << " s ("
            << view_seconds << " s per view)\n";
  if (r.evaluated) {
    const DepthAgreement& t = r.evaluation.total;
    std::cout << "against the all-view reference: " << percent(t.fraction_1pct())
              << " of confident pixels within 1%, " << percent(t.fraction_2pct())
              << " within 2%, coverage " << percent(t.coverage())
              << (r.evaluation.masked ? " of the object masks" : " of the images") << "\n";
  }
  std::cout << "outputs in " << o.output_dir
            << ": depth/ depth_raw/ normal/ confidence/ maps/ fused.ply report.json report.md"
            << (r.evaluated ? " reference/" : "") << "\n";
  return 0;
}

}  // namespace glimpse
