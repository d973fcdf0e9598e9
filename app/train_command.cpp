// `glimpse train` (see train_command.h): validation, initialisation, the training loop with its
// outputs, checkpoints and divergence handling, and the final evaluation.
#include "app/train_command.h"

#include "app/colmap_stage.h"
#include "app/depth_stage.h"
#include "app/http_link.h"
#include "app/info.h"
#include "app/init_stage.h"
#include "app/progress.h"
#include "app/render_pipeline.h"
#include "app/report_values.h"
#include "app/session.h"
#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "eval/lpips.h"
#include "eval/metrics.h"
#include "eval/protocols.h"
#include "io/atomic_file.h"
#include "io/cameras_json.h"
#include "io/dataset_reader.h"
#include "io/image_io.h"
#include "io/llff.h"
#include "io/plot.h"
#include "io/splat_ply.h"
#include "optim/losses.h"
#include "priors/background_mask.h"
#include "priors/init_from_depth.h"
#include "priors/point_init.h"
#include "renderer/kernels/sh.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>

namespace glimpse {
namespace fs = std::filesystem;

namespace {

std::string format_number(float v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

constexpr float kErrorMapMax = 0.25f;  // error heat maps: mean |error| 0 (blue) .. 0.25 (red)
constexpr int kMaxCurvePoints = 200;   // loss curve: at most this many points, each the mean of
constexpr int kMinCurveBucket = 10;    // at least this many iterations (one view each: smooths the
                                       // view-to-view jumps of the per-step values)

// "assets/demo/" -> "demo".
std::string scene_name(const std::string& root) {
  fs::path p = fs::path(root);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// The rasterizer the configuration asks for, and the device name it runs on.
std::unique_ptr<Rasterizer> make_rasterizer(const TrainConfig& config, std::string& device) {
  switch (config.device) {
    case TrainDevice::Cpu:
      device = "cpu";
      return make_cpu_rasterizer(config.threads);
    case TrainDevice::Cuda: {
      GLIMPSE_CHECK(cuda_backend_available())
          << "train: --device cuda, but no CUDA device is available to this build (see `glimpse "
             "info`); use --device cpu or auto";
      try {
        std::unique_ptr<Rasterizer> r = make_cuda_rasterizer();
        device = "cuda";
        return r;
      } catch (const Error& e) {
        throw Error("train: --device cuda: " + error_message_without_location(e.what()));
      }
    }
    case TrainDevice::Auto:
      if (cuda_backend_available()) {
        try {
          std::unique_ptr<Rasterizer> r = make_cuda_rasterizer();
          device = "cuda";
          GLIMPSE_LOG(Info) << "train: device auto -> cuda";
          return r;
        } catch (const Error& e) {
          GLIMPSE_LOG(Warning) << "train: a CUDA device is present but cannot be used ("
                               << error_message_without_location(e.what())
                               << "); training on the CPU";
        }
      } else {
        GLIMPSE_LOG(Info) << "train: device auto -> cpu (no CUDA device available)";
      }
      device = "cpu";
      return make_cpu_rasterizer(config.threads);
  }
  GLIMPSE_FAIL() << "train: unknown device";
  return nullptr;
}

// Creates the output folder and proves it writable with a probe file.
void prepare_output_folder(const fs::path& out) {
  std::error_code ec;
  GLIMPSE_CHECK(!fs::exists(out, ec) || fs::is_directory(out, ec))
      << "train: output path " << out.string() << " exists and is not a folder";
  fs::create_directories(out, ec);
  GLIMPSE_CHECK(!ec && fs::is_directory(out))
      << "train: cannot create output folder " << out.string() << ": " << ec.message();
  const fs::path probe = out / ".glimpse_write_probe";
  try {
    write_file_atomically(probe.string(), [](std::ostream& s) { s << "probe\n"; });
  } catch (const Error& e) {
    GLIMPSE_FAIL() << "train: output folder " << out.string()
                   << " is not writable: " << error_message_without_location(e.what());
  }
  fs::remove(probe, ec);
}

// Gives the training views the masks config.training_masks asks for (the dataset's kept, the
// background heuristic's made from the images, or none), writes the masks used to
// <out>/training_masks/ and returns what was done, for the report.
std::string apply_training_masks(const TrainConfig& config, std::vector<View>& views,
                                 const fs::path& out) {
  const TrainingMasks masks = resolve_training_masks(config.training_masks, config.protocol);
  size_t masked = 0, pixels = 0, with_mask = 0;
  for (View& v : views) {
    if (masks == TrainingMasks::Heuristic)
      v.mask = background_heuristic_mask(v.image, config.background_heuristic);
    else if (masks == TrainingMasks::None)
      v.mask = Image<float>();
    // Dataset: kept as loaded.
    if (v.mask.empty()) continue;
    ++with_mask;
    pixels += v.mask.num_pixels();
    for (float m : v.mask.vector()) masked += m < 0.5f;
  }
  std::ostringstream what;
  what << training_masks_name(masks);
  if (config.training_masks == TrainingMasks::Auto) what << " (auto)";
  if (masks == TrainingMasks::Heuristic) {
    const BackgroundHeuristicOptions& b = config.background_heuristic;
    what << ": background from the images, dark (max RGB < " << format_number(b.dark_threshold)
         << ") over " << b.dark_run << " pixels up a column";
    if (b.bright_threshold < 1.f)
      what << ", bright (min RGB > " << format_number(b.bright_threshold) << ") over "
           << b.bright_run << " pixels down a column"
           << (b.bright_below_dark > 0 ? " or from within " + std::to_string(b.bright_below_dark) +
                                             " rows below dark background"
                                       : std::string());
  } else if (masks == TrainingMasks::Dataset) {
    what << ": the dataset's object masks"
         << (config.protocol == EvalProtocol::Dtu
                 ? " (extra supervision: not the DTU protocol, figures not comparable)"
                 : "");
  }
  if (with_mask == 0) {
    what << (masks == TrainingMasks::None ? "" : "; no training view has one");
    return what.str();
  }
  what << "; " << with_mask << " of " << views.size() << " training views, " << std::fixed
       << std::setprecision(1) << 100.0 * static_cast<double>(masked) / static_cast<double>(pixels)
       << " % of their pixels background";
  const fs::path dir = out / "training_masks";
  std::error_code ec;
  fs::create_directories(dir, ec);
  GLIMPSE_CHECK(!ec) << "train: cannot create " << dir.string() << ": " << ec.message();
  for (const View& v : views)
    if (!v.mask.empty())
      write_png((dir / fs::path(v.name).replace_extension(".png")).string(), v.mask);
  return what.str();
}

// Mean absolute RGB error per pixel as a turbo heat map (0 blue .. kErrorMapMax red).
Image<float> error_map(const Image<float>& render, const Image<float>& truth) {
  Image<float> err(render.width(), render.height(), 1);
  for (size_t p = 0; p < err.num_pixels(); ++p) {
    float sum = 0.0f;
    for (int c = 0; c < 3; ++c)
      sum += std::abs(std::clamp(render.data()[3 * p + c], 0.0f, 1.0f) - truth.data()[3 * p + c]);
    // colorize_depth paints values <= 0 black (invalid); an exact pixel is the blue end.
    err.data()[p] = std::max(sum / 3.0f, 1e-6f);
  }
  return colorize_depth(err, 0.0f, kErrorMapMax);
}

Image<float> clamped(const Image<float>& image) {
  Image<float> out = image;
  for (float& v : out.vector()) v = std::clamp(v, 0.0f, 1.0f);
  return out;
}

struct EvalContext {
  const Dataset* dataset;
  Rasterizer* rasterizer;
  RenderOptions render;
  bool masked = false;     // DTU protocol metrics (views carry binary masks)
  Lpips* lpips = nullptr;  // null: LPIPS unavailable
};

// Renders the views, writes <dir>/{renders,gt,depth,error}/<stem>.png (when dir is not empty)
// and measures PSNR, both SSIMs and, with a network, LPIPS and the average error. Masked: the
// ground truth and error images are the white-composited ones the metrics compare, and
// renders_masked/ holds the render composited the same way, beside the raw one in renders/.
SplitMetrics evaluate(const EvalContext& ctx, const Gaussians& g, const std::vector<int>& ids,
                      const fs::path& dir) {
  SplitMetrics metrics;
  if (!dir.empty() && !ids.empty()) {
    for (const char* sub : {"renders", "gt", "depth", "error", "renders_masked"}) {
      if (std::string(sub) == "renders_masked" && !ctx.masked) continue;
      std::error_code ec;
      fs::create_directories(dir / sub, ec);
      GLIMPSE_CHECK(!ec) << "train: cannot create folder " << (dir / sub).string() << ": "
                         << ec.message();
    }
  }
  RenderOutput out;
  std::vector<double> psnrs, ssims, ssims_sk, lpipss, avg_errors;
  for (int id : ids) {
    const View& view = ctx.dataset->views[id];
    ctx.rasterizer->forward(g, view.camera, ctx.render, out);
    ViewMetrics m;
    m.index = id;
    m.name = view.name;
    const Image<float> render = clamped(out.rgb);
    Image<float> render_cmp = render, truth_cmp = view.image;
    if (ctx.masked) {
      m.psnr = psnr_masked(render, view.image, view.mask);
      render_cmp = composite_background(render, view.mask);
      truth_cmp = composite_background(view.image, view.mask);
    } else {
      m.psnr = psnr(render, view.image);
    }
    m.ssim = ssim_3dgs(render_cmp, truth_cmp);
    m.ssim_sk = ssim_skimage(render_cmp, truth_cmp);
    if (ctx.lpips != nullptr) {
      m.lpips = ctx.lpips->distance(render_cmp, truth_cmp);
      m.avg_error = average_error(m.psnr, m.ssim, m.lpips);
    }
    if (!dir.empty()) {
      const std::string name = evaluation_image_name(view.name);
      write_png((dir / "renders" / name).string(), render);
      write_png((dir / "gt" / name).string(), truth_cmp);
      write_png((dir / "depth" / name).string(),
                depth_preview(out.depth, ctx.dataset->near_depth, ctx.dataset->far_depth));
      if (ctx.masked)  // the render as the metric sees it, beside the raw one
        write_png((dir / "renders_masked" / name).string(), render_cmp);
      write_png((dir / "error" / name).string(), error_map(render_cmp, truth_cmp));
    }
    psnrs.push_back(m.psnr);
    ssims.push_back(m.ssim);
    ssims_sk.push_back(m.ssim_sk);
    lpipss.push_back(m.lpips);
    avg_errors.push_back(m.avg_error);
    metrics.views.push_back(m);
  }
  metrics.mean_psnr = finite_mean(psnrs);
  metrics.mean_ssim = finite_mean(ssims);
  metrics.mean_ssim_sk = finite_mean(ssims_sk);
  metrics.mean_lpips = finite_mean(lpipss);
  metrics.mean_avg_error = finite_mean(avg_errors);
  return metrics;
}

nlohmann::json split_json(const SplitMetrics& s) {
  nlohmann::json views = nlohmann::json::array();
  for (const ViewMetrics& v : s.views)
    views.push_back({{"index", v.index},
                     {"name", v.name},
                     {"psnr", finite_or_null(v.psnr)},
                     {"ssim", finite_or_null(v.ssim)},
                     {"ssim_sk", finite_or_null(v.ssim_sk)},
                     {"lpips", finite_or_null(v.lpips)},
                     {"avg_error", finite_or_null(v.avg_error)}});
  return {{"views", views},
          {"mean",
           {{"psnr", finite_or_null(s.mean_psnr)},
            {"ssim", finite_or_null(s.mean_ssim)},
            {"ssim_sk", finite_or_null(s.mean_ssim_sk)},
            {"lpips", finite_or_null(s.mean_lpips)},
            {"avg_error", finite_or_null(s.mean_avg_error)}}}};
}

// The training and test views: the protocol's (config.protocol), else the dataset's split, else
// every view trains and none is tested. Fills result.protocol and result.masked_metrics.
void select_base_split(const TrainConfig& config, const Dataset& dataset, TrainResult& result,
                       std::vector<int>& train_ids, std::vector<int>& test_ids) {
  const int n = static_cast<int>(dataset.views.size());
  if (config.protocol == EvalProtocol::None && config.holdout > 0) {
    train_ids.clear();
    test_ids.clear();
    for (int i = 0; i < n; ++i) (i % config.holdout == 0 ? test_ids : train_ids).push_back(i);
    GLIMPSE_CHECK(!train_ids.empty())
        << "train: holdout " << config.holdout << " leaves no training view of " << n;
    result.protocol = "holdout " + std::to_string(config.holdout) + ": views i with i % " +
                      std::to_string(config.holdout) + " == 0 tested, " +
                      std::to_string(train_ids.size()) + " training views";
    return;
  }
  if (config.protocol == EvalProtocol::None) {
    const bool dataset_split = !train_ids.empty();
    if (train_ids.empty())
      for (int i = 0; i < n; ++i) train_ids.push_back(i);
    if (!dataset_split)
      result.protocol =
          "no held-out views: the dataset has no split, every view trains and none "
          "is tested (--holdout N or --protocol hold views out)";
    else
      result.protocol = "the dataset's split (" + dataset.format +
                        "): " + std::to_string(train_ids.size()) + " training, " +
                        std::to_string(test_ids.size()) + " test views" +
                        (test_ids.empty() ? " (no held-out views)" : "");
    return;
  }
  const Suite suite = config.protocol == EvalProtocol::Llff ? Suite::Llff : Suite::Dtu;
  ProtocolSpec spec;
  try {
    spec = make_protocol(suite, config.views, n);
  } catch (const Error& e) {
    GLIMPSE_FAIL() << "train: dataset " << config.dataset << " (" << n
                   << " views) does not fit the " << suite_name(suite)
                   << " protocol: " << error_message_without_location(e.what());
  }
  train_ids = spec.train_ids;
  test_ids = spec.test_ids;
  result.protocol = describe_protocol(spec);
  result.masked_metrics = spec.masked;
  const Camera& cam = dataset.views.front().camera;
  if (cam.width != spec.image_width || cam.height != spec.image_height) {
    GLIMPSE_LOG(Warning) << "train: the " << suite_name(suite) << " protocol evaluates at "
                         << spec.image_width << "x" << spec.image_height << ", the images are "
                         << cam.width << "x" << cam.height
                         << ": the figures are not comparable with published ones";
  }
  if (spec.masked)
    for (int id : test_ids) {
      const View& v = dataset.views[id];
      GLIMPSE_CHECK(v.mask.width() == v.camera.width && v.mask.height() == v.camera.height &&
                    v.mask.channels() == 1)
          << "train: the " << suite_name(suite) << " protocol needs an object mask for test view "
          << v.name << " (" << v.image_path << "), and the dataset has none";
    }
}

// The split of select_base_split, with config.train_views (when given) as the training views:
// a protocol's test views stay and cannot be chosen; a split's test views lose the chosen ones;
// without held-out views every view not chosen is tested.
void select_split(const TrainConfig& config, const Dataset& dataset, TrainResult& result,
                  std::vector<int>& train_ids, std::vector<int>& test_ids) {
  select_base_split(config, dataset, result, train_ids, test_ids);
  if (config.train_views.empty()) return;
  const int n = static_cast<int>(dataset.views.size());
  std::string list;
  for (int id : config.train_views) {
    GLIMPSE_CHECK(id >= 0 && id < n) << "train: train_views: view " << id
                                     << " does not exist (the dataset has " << n << " views)";
    const bool is_test = std::find(test_ids.begin(), test_ids.end(), id) != test_ids.end();
    GLIMPSE_CHECK(!is_test || config.protocol == EvalProtocol::None)
        << "train: train_views: view " << id << " (" << dataset.views[id].name
        << ") is a test view of the " << eval_protocol_name(config.protocol) << " protocol";
    list += (list.empty() ? "" : ", ") + std::to_string(id);
  }
  train_ids = config.train_views;
  std::vector<int> tests;
  if (test_ids.empty()) {
    for (int i = 0; i < n; ++i) tests.push_back(i);
  } else {
    tests = test_ids;
  }
  test_ids.clear();
  for (int id : tests)
    if (std::find(train_ids.begin(), train_ids.end(), id) == train_ids.end())
      test_ids.push_back(id);
  result.protocol +=
      "; training views chosen: " + list + " (" + std::to_string(test_ids.size()) + " test views)";
}

// LPIPS-VGG on [0, 1] inputs (the protocols' convention) from the weights found for the
// configured model (--lpips-model, GLIMPSE_LPIPS_DIR, user cache), or nullopt with `status` saying
// why it is unavailable (nothing found, "none", images smaller than the network accepts). A model
// that is named but missing or corrupt throws, before anything is written.
std::optional<Lpips> load_lpips(const TrainConfig& config, int width, int height,
                                std::string& status) {
  LpipsOptions options;
  options.threads = config.threads;
  std::optional<Lpips> lpips = find_and_load_lpips(config.lpips_model, options, status);
  if (lpips && (width < lpips->min_size() || height < lpips->min_size())) {
    status = "unavailable: the " + std::to_string(width) + "x" + std::to_string(height) +
             " images are smaller than LPIPS-VGG accepts (" + std::to_string(lpips->min_size()) +
             " px a side)";
    lpips.reset();
  }
  if (!lpips && config.lpips_model != kLpipsModelNone) {
    GLIMPSE_LOG(Warning) << "train: LPIPS " << status;
  }
  return lpips;
}

// Per-iteration values averaged over consecutive buckets of at least kMinCurveBucket iterations
// (at most kMaxCurvePoints points).
PlotSeries bucketed(const std::string& name, int first_iteration, const std::vector<double>& v,
                    bool right_axis) {
  PlotSeries s;
  s.name = name;
  s.right_axis = right_axis;
  const size_t bucket = std::max<size_t>({1, (v.size() + kMaxCurvePoints - 1) / kMaxCurvePoints,
                                          std::min<size_t>(v.size() / 4, kMinCurveBucket)});
  for (size_t begin = 0; begin < v.size(); begin += bucket) {
    const size_t end = std::min(v.size(), begin + bucket);
    double sum = 0.0;
    size_t count = 0;
    for (size_t i = begin; i < end; ++i)
      if (std::isfinite(v[i])) sum += v[i], ++count;
    if (count == 0) continue;
    s.x.push_back(first_iteration + 0.5 * static_cast<double>(begin + end + 1));
    s.y.push_back(sum / static_cast<double>(count));
  }
  return s;
}

// [SECTION] the run's history in checkpoints ---------------------------------------------------
// A checkpoint's metadata is {"config": <the configuration>, "history": <what the run measured
// up to the checkpoint>}, so that a resumed run reports the whole run (curves, times, phases);
// checkpoints written before the history was added hold the bare configuration.

nlohmann::json doubles_json(const std::vector<double>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (double x : v) out.push_back(finite_or_null(x));
  return out;
}

// A value doubles_json or pairs_json wrote: null (a non-finite value) reads as NaN.
double double_or_nan(const nlohmann::json& x) {
  return x.is_null() ? std::nan("") : x.get<double>();
}

std::vector<double> doubles_from(const nlohmann::json& j) {
  std::vector<double> out;
  for (const auto& x : j) out.push_back(double_or_nan(x));
  return out;
}

nlohmann::json pairs_json(const std::vector<std::pair<int, double>>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [it, x] : v) out.push_back({it, finite_or_null(x)});
  return out;
}

std::vector<std::pair<int, double>> pairs_from(const nlohmann::json& j) {
  std::vector<std::pair<int, double>> out;
  for (const auto& p : j) out.emplace_back(p.at(0).get<int>(), double_or_nan(p.at(1)));
  return out;
}

}  // namespace

SavedRunMetadata parse_checkpoint_metadata(const std::string& metadata, const std::string& what) {
  nlohmann::json saved;
  try {
    saved = nlohmann::json::parse(metadata);
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << what << " carries no readable configuration (" << e.what() << ")";
  }
  GLIMPSE_CHECK(saved.is_object()) << what << " carries no readable configuration";
  SavedRunMetadata out;
  if (saved.contains("config") && saved.contains("history")) {
    out.config = saved["config"];
    out.history = saved["history"];
  } else {
    out.config = saved;  // written before the history was kept
  }
  return out;
}

bool checkpoint_has_history(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.good()) << "cannot open " << path;
  return !parse_checkpoint_metadata(read_checkpoint_header(in, path).metadata, path)
              .history.is_null();
}

nlohmann::json TrainResult::to_json() const {
  nlohmann::json phases_json = {{"loop_overhead", loop_overhead * 1e3}};
  const auto values = step_phases.values();
  for (size_t k = 0; k < values.size(); ++k) phases_json[StepPhases::kNames[k]] = values[k] * 1e3;
  nlohmann::json history = nlohmann::json::array();
  for (size_t i = 0; i < test_psnr_history.size(); ++i) {
    nlohmann::json entry = {{"iteration", test_psnr_history[i].first},
                            {"psnr", finite_or_null(test_psnr_history[i].second)}};
    if (i < test_seconds_history.size()) entry["seconds"] = test_seconds_history[i];
    history.push_back(entry);
  }
  return {{"command", "train"},
          {"build", build_info_json()},
          {"device", device},
          {"rasterizer", rasterizer},
          {"dataset",
           {{"root", dataset_root},
            {"format", dataset_format},
            {"num_views", num_dataset_views},
            {"width", image_width},
            {"height", image_height}}},
          {"protocol", protocol},
          {"training_masks", training_masks},
          {"metrics",
           {{"masked", masked_metrics},
            {"ssim", kSsim3dgsName},
            {"ssim_sk", kSsimSkimageName},
            {"lpips", lpips}}},
          {"iterations", final_iteration},
          {"start_iteration", start_iteration},
          {"initial_gaussians", num_initial_gaussians},
          {"scene_extent", scene_extent},
          {"position_lr", position_lr},
          {"init",
           {{"requested", init_method_name(config.init)},
            {"method", init_method},
            {"points", init_points},
            {"seconds", init_seconds},
            {"notes", init_notes}}},
          {"priors",
           {{"depth_source", depth_source},
            {"depth_prior_views", depth_prior_views},
            {"depth_seconds", depth_seconds},
            {"notes", depth_notes},
            {"terms", prior_terms}}},
          {"num_gaussians", num_gaussians},
          {"train_seconds", train_seconds},
          {"wall_seconds", wall_seconds},
          {"iterations_per_second", finite_or_null(its_per_second)},
          {"step_phases_ms", phases_json},
          // Without held-out views there are no test figures: "test" is null, not a copy of the
          // training views' figures.
          {"held_out_views", test.views.size()},
          {"test", test.views.empty() ? nlohmann::json() : split_json(test)},
          {"train", split_json(train)},
          {"test_psnr_history", history},
          {"point_cloud", ply_path},
          {"config", config.to_json()}};
}

std::string TrainResult::to_markdown() const {
  std::ostringstream md;
  md << std::fixed;
  md << "# glimpse train report\n\n";
  md << "- dataset: `" << dataset_root << "` (" << dataset_format << ", " << num_dataset_views
     << " views, " << image_width << "x" << image_height << ")\n";
  md << "- split: " << protocol << "\n";
  md << "- training masks: " << training_masks << "\n";
  if (test.views.empty())
    md << "- **no held-out views**: the figures below are on the training views, not test "
          "figures\n";
  md << "- metrics: " << (masked_metrics ? "masked (DTU protocol)" : "full image")
     << "; SSIM = SSIM_gs, SSIM_sk = scikit-image; LPIPS " << lpips << "\n";
  md << "- initialisation: " << init_method << " (requested " << init_method_name(config.init)
     << "), " << init_points << " points, " << num_initial_gaussians << " Gaussians, "
     << std::setprecision(1) << init_seconds << " s\n";
  for (const std::string& note : init_notes) md << "  - " << note << "\n";
  md << "- priors: depth " << depth_source << " (" << depth_prior_views << " views)";
  for (const std::string& t : prior_terms) md << ", " << t;
  md << "\n";
  for (const std::string& note : depth_notes) md << "  - " << note << "\n";
  md << "- training: iterations " << start_iteration << " to " << final_iteration << " on "
     << rasterizer << ", strategy " << densify_strategy_name(config.trainer.strategy) << ", "
     << std::setprecision(1) << train_seconds << " s (" << std::setprecision(2) << its_per_second
     << " it/s)\n";
  md << "- final model: " << num_gaussians << " Gaussians, SH degree " << config.trainer.sh_degree
     << ", `" << ply_path << "`\n";
  md << "- wall time: " << std::setprecision(1) << wall_seconds << " s\n\n";
  // "n/a" for values that are unavailable (LPIPS without a model).
  auto cell = [](double v, int precision) {
    std::ostringstream c;
    if (std::isnan(v))
      c << "n/a";
    else
      c << std::fixed << std::setprecision(precision) << v;
    return c.str();
  };
  md << "| split | view | PSNR (dB) | SSIM | SSIM_sk | LPIPS | avg error |\n"
     << "|---|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [label, split] :
       {std::pair<const char*, const SplitMetrics*>{"test", &test},
        std::pair<const char*, const SplitMetrics*>{"train", &train}}) {
    for (const ViewMetrics& v : split->views)
      md << "| " << label << " | " << v.name << " | " << cell(v.psnr, 2) << " | " << cell(v.ssim, 4)
         << " | " << cell(v.ssim_sk, 4) << " | " << cell(v.lpips, 4) << " | "
         << cell(v.avg_error, 4) << " |\n";
    if (!split->views.empty())
      md << "| " << label << " | **mean** | " << cell(split->mean_psnr, 2) << " | "
         << cell(split->mean_ssim, 4) << " | " << cell(split->mean_ssim_sk, 4) << " | "
         << cell(split->mean_lpips, 4) << " | " << cell(split->mean_avg_error, 4) << " |\n";
  }
  md << "\n";
  return md.str();
}

// Everything a run holds between its stages (what run_train kept in locals).
struct TrainRun::State {
  TrainConfig config;
  TrainRunOptions run;
  Timer wall;
  TrainResult result;
  fs::path out, checkpoint_path;
  std::unique_ptr<Rasterizer> rasterizer;  // until the trainer owns it
  Dataset dataset;
  PointCloud sfm_points;
  std::vector<int> train_ids, test_ids;
  std::optional<Lpips> lpips;
  std::unique_ptr<Trainer> trainer;
  int last_checkpoint = -1;
  std::optional<EvalContext> eval;
  std::unique_ptr<TrainProgress> progress;
  // What the run measured, from its first iteration (the history of a resumed checkpoint
  // included): the per-step curves, optimisation time, the step phases' sums.
  std::vector<double> losses, train_psnrs;
  int first_iteration = 0;
  double train_seconds = 0.0;
  StepPhases phase_sums;
  double loop_overhead_sum = 0.0;
  double periodic_eval_seconds = 0.0;  // the periodic test evaluations' own time
  double elapsed_before = 0.0;  // seconds the run had run (less periodic tests) before resuming

  // Seconds since the run started, periodic tests excluded (earlier processes included).
  double elapsed() const { return elapsed_before + wall.seconds() - periodic_eval_seconds; }

  std::string checkpoint_metadata() const {
    const nlohmann::json history = {
        {"first_iteration", first_iteration},
        {"train_seconds", train_seconds},
        {"elapsed_seconds", elapsed()},
        {"step_phases_seconds", phase_sums.values()},
        {"loop_overhead_seconds", loop_overhead_sum},
        {"losses", doubles_json(losses)},
        {"train_psnrs", doubles_json(train_psnrs)},
        {"test_psnr_history", pairs_json(result.test_psnr_history)},
        {"test_ssim_history", pairs_json(result.test_ssim_history)},
        {"test_seconds_history", doubles_json(result.test_seconds_history)}};
    return nlohmann::json{{"config", config.to_json()}, {"history", history}}.dump();
  }

  // Takes up the history of a checkpoint at `iteration`; false (and nothing changed) when it does
  // not fit (curves of another length), so the report covers the resumed part only.
  bool restore_history(const nlohmann::json& h, int iteration) {
    try {
      const int first = h.at("first_iteration").get<int>();
      std::vector<double> l = doubles_from(h.at("losses")), p = doubles_from(h.at("train_psnrs"));
      const auto phases = h.at("step_phases_seconds").get<std::array<double, 8>>();
      const size_t steps = static_cast<size_t>(iteration - first);
      auto psnrs = pairs_from(h.at("test_psnr_history"));
      auto ssims = pairs_from(h.at("test_ssim_history"));
      std::vector<double> seconds = doubles_from(h.at("test_seconds_history"));
      const double trained = h.at("train_seconds").get<double>();
      const double elapsed_seconds = h.at("elapsed_seconds").get<double>();
      const double overhead = h.at("loop_overhead_seconds").get<double>();
      if (first < 0 || first > iteration || l.size() != steps || p.size() != steps ||
          ssims.size() != psnrs.size() || seconds.size() != psnrs.size())
        return false;
      first_iteration = first;
      losses = std::move(l);
      train_psnrs = std::move(p);
      train_seconds = trained;
      elapsed_before = elapsed_seconds;
      phase_sums.set_values(phases);
      loop_overhead_sum = overhead;
      result.test_psnr_history = std::move(psnrs);
      result.test_ssim_history = std::move(ssims);
      result.test_seconds_history = std::move(seconds);
      return true;
    } catch (const nlohmann::json::exception&) {
      return false;
    }
  }
  bool loaded = false, prepared = false, finished = false;

  void phase(SessionPhase p, const std::string& detail) const {
    if (run.on_phase) run.on_phase(p, detail);
  }
  void save_checkpoint() {
    write_file_atomically(checkpoint_path.string(), [&](std::ostream& s) {
      trainer->save_checkpoint(s, checkpoint_metadata());
    });
    last_checkpoint = trainer->iteration();
  }
  void save_ply() {
    const fs::path dir =
        out / "point_cloud" / ("iteration_" + std::to_string(trainer->iteration()));
    std::error_code ec;
    fs::create_directories(dir, ec);
    GLIMPSE_CHECK(!ec) << "train: cannot create folder " << dir.string() << ": " << ec.message();
    result.ply_path = (dir / "point_cloud.ply").string();
    write_splat_ply(result.ply_path, trainer->gaussians());
  }
};

TrainRun::TrainRun(const TrainConfig& config, TrainRunOptions run) : s_(std::make_unique<State>()) {
  s_->config = config;
  s_->run = std::move(run);
}

TrainRun::~TrainRun() {
  if (s_ && s_->progress) s_->progress->finish();
}

void TrainRun::load() {
  State& s = *s_;
  GLIMPSE_CHECK(!s.loaded) << "internal error: TrainRun::load called twice";
  const TrainConfig& config = s.config;
  s.phase(SessionPhase::Loading, "reading " + config.dataset);
  config.check();
  s.result.config = config;
  s.out = fs::path(config.output);
  s.checkpoint_path = s.out / "checkpoint.bin";

  // [SECTION] validation: nothing is written until every input has been checked ---------------
  std::string device;
  s.rasterizer = make_rasterizer(config, device);
  s.result.device = device;
  s.result.rasterizer = s.rasterizer->name();
  GLIMPSE_CHECK(fs::exists(config.dataset))
      << "train: dataset folder " << config.dataset << " does not exist";
  GLIMPSE_CHECK(fs::is_directory(config.dataset))
      << "train: dataset path " << config.dataset << " is not a folder";
  GLIMPSE_CHECK(!s.run.resume || fs::is_regular_file(s.checkpoint_path))
      << "train: --resume, but there is no checkpoint " << s.checkpoint_path.string()
      << " (train without --resume first)";

  DatasetReadOptions read_options;
  read_options.format = dataset_format_from_name(config.format);
  read_options.llff_factor = config.factor;
  read_options.llff_bd_factor = config.llff_bd_factor;
  read_options.downscale = config.downscale;
  // A folder of photographs without poses: structure from motion (app/colmap_stage.h) in
  // <out>/colmap/, reused on resume; its points are in sfm_points.
  if (read_options.format == DatasetFormat::Images ||
      (read_options.format == DatasetFormat::Auto &&
       detect_dataset_format(config.dataset) == DatasetFormat::Images)) {
    s.phase(SessionPhase::Loading, "COLMAP structure from motion on " + config.dataset);
    ColmapOptions colmap;
    colmap.executable = config.colmap_path;
    ColmapSfmOptions sfm;
    sfm.downscale = config.downscale;
    s.dataset = colmap_structure_from_motion(config.dataset, (s.out / "colmap").string(), colmap,
                                             sfm, &s.sfm_points);
  } else {
    s.dataset = read_dataset(config.dataset, read_options);
  }
  check_dataset_for_rendering(s.dataset, config.dataset, "train");
  s.result.dataset_root = s.dataset.root.empty() ? config.dataset : s.dataset.root;
  s.result.dataset_format = s.dataset.format;
  s.result.num_dataset_views = static_cast<int>(s.dataset.views.size());
  s.result.image_width = s.dataset.views.front().camera.width;
  s.result.image_height = s.dataset.views.front().camera.height;
  s.loaded = true;
  choose_split();
}

void TrainRun::choose_split() {
  State& s = *s_;
  s.train_ids = s.dataset.train_ids;
  s.test_ids = s.dataset.test_ids;
  s.result.protocol.clear();
  s.result.masked_metrics = false;
  select_split(s.config, s.dataset, s.result, s.train_ids, s.test_ids);
}

void TrainRun::set_train_views(const std::vector<int>& ids) {
  State& s = *s_;
  GLIMPSE_CHECK(s.loaded && !s.prepared)
      << "the training views can only change after loading and before training starts";
  TrainConfig changed = s.config;
  changed.train_views = ids;
  changed.check();
  const TrainConfig kept = s.config;
  s.config = changed;
  try {
    choose_split();
  } catch (...) {
    s.config = kept;
    choose_split();
    throw;
  }
  s.result.config = s.config;
}

void TrainRun::set_config(const TrainConfig& config) {
  State& s = *s_;
  GLIMPSE_CHECK(s.loaded && !s.prepared)
      << "the settings can only change after loading and before training starts";
  const nlohmann::json wanted = config.to_json(), loaded = s.config.to_json();
  for (const char* key : {"dataset", "format", "factor", "llff_bd_factor", "downscale"})
    GLIMPSE_CHECK(wanted[key] == loaded[key])
        << "the setting '" << key
        << "' decides what is loaded: open the dataset again to change it";
  config.check();
  const TrainConfig kept = s.config;
  s.config = config;
  try {
    choose_split();
    std::string device;
    s.rasterizer = make_rasterizer(s.config, device);
    s.result.device = device;
    s.result.rasterizer = s.rasterizer->name();
  } catch (...) {
    s.config = kept;
    choose_split();
    throw;
  }
  s.result.config = s.config;
}

void TrainRun::prepare() {
  State& s = *s_;
  GLIMPSE_CHECK(s.loaded && !s.prepared) << "internal error: TrainRun::prepare out of order";
  const TrainConfig& config = s.config;
  TrainResult& result = s.result;
  const fs::path& out = s.out;
  s.lpips = load_lpips(config, result.image_width, result.image_height, result.lpips);
  std::vector<View> train_views;
  for (int id : s.train_ids) train_views.push_back(s.dataset.views[id]);

  prepare_output_folder(out);
  result.training_masks = apply_training_masks(config, train_views, out);
  GLIMPSE_LOG(Info) << "train: training masks: " << result.training_masks;

  // [SECTION] initialisation ------------------------------------------------------------------
  // A resumed run redoes it (the MVS and COLMAP stages reuse their caches): the checkpoint
  // replaces the Gaussians, but the scene scale is measured on the initial ones.
  s.phase(SessionPhase::Initialising,
          "initial Gaussians (" + std::string(init_method_name(config.init)) + ")");
  InitStageResult stage =
      run_init_stage(config, s.dataset, train_views, out.string(), s.sfm_points);
  Gaussians init = std::move(stage.gaussians);
  result.init_method = init_method_name(stage.method);
  result.init_points = stage.points;
  result.init_seconds = stage.seconds;
  result.init_notes = stage.notes;
  result.num_initial_gaussians = static_cast<int64_t>(init.size());
  TrainerOptions trainer_options = config.trainer;
  if (init_guesses_geometry(stage.method)) {
    trainer_options.lr.means_initial *= config.guessed_geometry_lr_factor;
    trainer_options.lr.means_final *= config.guessed_geometry_lr_factor;
  }
  const float camera_extent = scene_extent_of(train_views);
  const float scene_depth = scene_depth_of(train_views, init);
  if (config.scene_scale == SceneScale::Depth && scene_depth > 0.f)
    trainer_options.scene_extent = scene_depth;
  result.position_lr = trainer_options.lr.means_initial;
  result.scene_extent =
      trainer_options.scene_extent > 0.f ? trainer_options.scene_extent : camera_extent;
  GLIMPSE_LOG(Info) << "train: position lr " << trainer_options.lr.means_initial << " -> "
                    << trainer_options.lr.means_final << " over "
                    << (trainer_options.lr.means_max_steps > 0 ? trainer_options.lr.means_max_steps
                                                               : trainer_options.iterations)
                    << " steps, x scene scale " << result.scene_extent << " ("
                    << scene_scale_name(config.scene_scale) << "; camera spread " << camera_extent
                    << ", median depth of the initial Gaussians " << scene_depth << ")";
  // [SECTION] depth priors and the prior terms ------------------------------------------------
  s.phase(SessionPhase::DepthPriors,
          "depth priors (" + std::string(depth_source_name(config.priors.depth_source)) + ")");
  const DepthStageResult depth =
      run_depth_stage(config, s.dataset, train_views,
                      mvs_stage_folder(config, s.dataset, train_views, out.string()), out.string());
  result.depth_source = depth_source_name(depth.source);
  result.depth_prior_views = depth.views_with_prior;
  result.depth_seconds = depth.seconds;
  result.depth_notes = depth.notes;
  const PriorsConfig& pc = config.priors;
  std::vector<std::unique_ptr<LossTerm>> terms;
  if (depth.views_with_prior > 0 && pc.uses_depth()) {
    if (pc.depth.ranking_weight > 0.f)
      result.prior_terms.push_back("ranking " + format_number(pc.depth.ranking_weight));
    if (pc.depth.pearson_weight > 0.f)
      result.prior_terms.push_back("pearson " + format_number(pc.depth.pearson_weight));
    if (pc.depth.patch_pearson_weight > 0.f)
      result.prior_terms.push_back("patch pearson " + format_number(pc.depth.patch_pearson_weight));
    if (pc.depth.depth_l1_weight > 0.f)
      result.prior_terms.push_back("depth l1 " + format_number(pc.depth.depth_l1_weight));
    if (pc.depth.prune_until > 0)
      result.prior_terms.push_back("floater pruning to " + std::to_string(pc.depth.prune_until));
    terms.push_back(std::make_unique<DepthPriorLoss>(depth.priors, pc.depth));
  }
  if (pc.warp.weight > 0.f && train_views.size() > 1) {
    result.prior_terms.push_back("warp " + format_number(pc.warp.weight));
    terms.push_back(std::make_unique<WarpConsistencyLoss>(train_views, depth.priors, pc.warp));
  }
  if (pc.self_consistency.weight > 0.f) {
    result.prior_terms.push_back("self-consistency " + format_number(pc.self_consistency.weight));
    std::string second_device;
    terms.push_back(std::make_unique<SelfConsistencyLoss>(make_rasterizer(config, second_device),
                                                          pc.self_consistency));
  }
  if (pc.co_regularization.weight > 0.f || pc.co_regularization.prune_every > 0) {
    result.prior_terms.push_back("co-regularisation " + format_number(pc.co_regularization.weight) +
                                 (pc.co_regularization.prune_every > 0 ? " with co-pruning" : ""));
    std::string partner_device, pseudo_device, follower_device;
    terms.push_back(std::make_unique<CoRegularizationLoss>(
        train_views, init, trainer_options, make_rasterizer(config, partner_device),
        make_rasterizer(config, pseudo_device), make_rasterizer(config, follower_device),
        pc.co_regularization));
  }
  if (trainer_options.dropout_rate > 0.f)
    result.prior_terms.push_back("dropout " + format_number(trainer_options.dropout_rate));
  if (trainer_options.opacity_decay < 1.f)
    result.prior_terms.push_back("opacity decay " + format_number(trainer_options.opacity_decay));
  if (trainer_options.opacity_reg > 0.f)
    result.prior_terms.push_back("opacity regulariser " +
                                 format_number(trainer_options.opacity_reg));
  if (trainer_options.scale_reg > 0.f)
    result.prior_terms.push_back("scale regulariser " + format_number(trainer_options.scale_reg));
  if (trainer_options.needle_reg > 0.f)
    result.prior_terms.push_back("needle regulariser " + format_number(trainer_options.needle_reg));
  if (trainer_options.random_background) result.prior_terms.push_back("random background");
  {
    std::string list;
    for (const std::string& t : result.prior_terms) list += (list.empty() ? "" : ", ") + t;
    GLIMPSE_LOG(Info) << "train: priors: " << (list.empty() ? std::string("none") : list);
  }
  s.trainer = std::make_unique<Trainer>(std::move(train_views), std::move(init), trainer_options,
                                        std::move(s.rasterizer));
  Trainer& trainer = *s.trainer;
  for (auto& term : terms) trainer.add_loss_term(std::move(term));

  bool history_restored = false;
  if (s.run.resume) {
    std::ifstream in(s.checkpoint_path, std::ios::binary);
    GLIMPSE_CHECK(in.good()) << "train: cannot open " << s.checkpoint_path.string();
    const SavedRunMetadata saved =
        parse_checkpoint_metadata(trainer.load_checkpoint(in, s.checkpoint_path.string()),
                                  "train: " + s.checkpoint_path.string());
    TrainConfig saved_config;
    saved_config.update_from_json(saved.config,
                                  s.checkpoint_path.string() + " (its configuration)");
    const std::string differences =
        describe_config_differences(saved_config.resume_key(), config.resume_key());
    GLIMPSE_CHECK(differences.empty())
        << "train: cannot resume from " << s.checkpoint_path.string()
        << ": it was written with a different configuration (checkpoint vs now: " << differences
        << "); resume with --config " << (out / "config.json").string()
        << " or train without --resume";
    GLIMPSE_LOG(Info) << "train: resumed from " << s.checkpoint_path.string() << " at iteration "
                      << trainer.iteration() << " (" << trainer.gaussians().size() << " Gaussians)";
    history_restored =
        !saved.history.is_null() && s.restore_history(saved.history, trainer.iteration());
    if (!history_restored) {
      GLIMPSE_LOG(Warning) << "train: " << s.checkpoint_path.string()
                           << (saved.history.is_null() ? " predates the run history"
                                                       : " holds a run history that does not fit")
                           << ": the times, curves and step phases reported cover iterations "
                           << trainer.iteration() << " onwards only";
    }
  }
  result.start_iteration = trainer.iteration();
  if (s.run.prepare) s.run.prepare(trainer);

  // [SECTION] outputs before training ---------------------------------------------------------
  save_train_config((out / "config.json").string(), config);
  write_cameras_json((out / "cameras.json").string(), s.dataset.views);

  s.last_checkpoint = s.run.resume ? trainer.iteration() : -1;
  s.eval = EvalContext{&s.dataset, &trainer.rasterizer(), config.trainer.render,
                       result.masked_metrics, s.lpips ? &*s.lpips : nullptr};
  s.eval->render.sh_degree = config.trainer.sh_degree;
  s.eval->render.background = config.trainer.background;

  ProgressOptions progress_options;
  progress_options.interactive = s.run.progress == ProgressMode::Interactive ||
                                 (s.run.progress == ProgressMode::Auto && stderr_is_terminal());
  progress_options.label = s.run.progress_label;
  progress_options.context = s.run.progress_context;
  if (s.run.progress == ProgressMode::Silent) progress_options.log_fraction = 2.0;
  GLIMPSE_LOG(Info) << "train: iterations " << trainer.iteration() << " -> "
                    << config.trainer.iterations << " on " << result.rasterizer << ", "
                    << s.train_ids.size() << " training and " << s.test_ids.size()
                    << " test view(s), strategy " << densify_strategy_name(config.trainer.strategy)
                    << ", outputs in " << out.string();
  s.progress = std::make_unique<TrainProgress>(trainer.iteration(), config.trainer.iterations,
                                               progress_options, std::cerr);
  if (!history_restored) s.first_iteration = trainer.iteration();
  s.prepared = true;
  s.phase(SessionPhase::Training, "");
}

bool TrainRun::done() const {
  return s_->prepared && s_->trainer->iteration() >= s_->config.trainer.iterations;
}

StepStats TrainRun::step() {
  State& s = *s_;
  GLIMPSE_CHECK(s.prepared && !s.finished) << "internal error: TrainRun::step out of order";
  Trainer& trainer = *s.trainer;
  const TrainConfig& config = s.config;
  const int total = config.trainer.iterations;
  try {
    const Timer step_timer;
    const StepStats stats = trainer.step();
    s.losses.push_back(stats.loss);
    s.train_psnrs.push_back(stats.psnr);
    s.progress->update(stats);
    const double step_seconds = step_timer.seconds();
    s.train_seconds += step_seconds;
    s.phase_sums += stats.phases;
    s.loop_overhead_sum += step_seconds - stats.seconds;
    const int it = stats.iteration;
    if (it == total) return stats;
    if (config.test_every > 0 && it % config.test_every == 0 && !s.test_ids.empty()) {
      const Timer eval_clock;
      s.eval->render.sh_degree = trainer.active_sh_degree();
      EvalContext periodic = *s.eval;
      periodic.lpips = nullptr;  // PSNR/SSIM only here: LPIPS-VGG costs ~2 s a view
      const SplitMetrics m = evaluate(periodic, trainer.gaussians(), s.test_ids, {});
      s.result.test_psnr_history.emplace_back(it, m.mean_psnr);
      s.result.test_ssim_history.emplace_back(it, m.mean_ssim);
      s.result.test_seconds_history.push_back(s.elapsed());
      s.periodic_eval_seconds += eval_clock.seconds();
      std::ostringstream line;
      line << "train: iteration " << it << ": test PSNR " << std::fixed << std::setprecision(2)
           << m.mean_psnr << " dB, SSIM " << std::setprecision(4) << m.mean_ssim;
      s.progress->log(LogLevel::Info, line.str());
    }
    // After the periodic test, so that the checkpoint's history holds it.
    if (config.save_every > 0 && it % config.save_every == 0) s.save_ply();
    if (config.checkpoint_every > 0 && it % config.checkpoint_every == 0) s.save_checkpoint();
    return stats;
  } catch (const DivergenceError& e) {
    s.progress->finish();
    GLIMPSE_LOG(Error) << "train: diverged at iteration " << e.iteration()
                       << " in parameter group '" << e.group() << "'";
    std::ostringstream kept;
    if (s.last_checkpoint >= 0)
      kept << "; the last checkpoint " << s.checkpoint_path.string() << " (iteration "
           << s.last_checkpoint << ") is kept";
    else
      kept << "; no checkpoint had been written";
    throw DivergenceError(error_message_without_location(e.what()) + kept.str(), e.iteration(),
                          e.group());
  }
}

void TrainRun::save() {
  State& s = *s_;
  GLIMPSE_CHECK(s.prepared) << "nothing to save before training starts";
  s.save_ply();
  if (s.config.checkpoint_every > 0 && s.last_checkpoint != s.trainer->iteration())
    s.save_checkpoint();
  GLIMPSE_LOG(Info) << "train: saved iteration " << s.trainer->iteration() << " to "
                    << s.result.ply_path;
}

TrainResult TrainRun::finish() {
  State& s = *s_;
  GLIMPSE_CHECK(s.prepared && !s.finished) << "internal error: TrainRun::finish out of order";
  const TrainConfig& config = s.config;
  TrainResult& result = s.result;
  Trainer& trainer = *s.trainer;
  const fs::path& out = s.out;
  s.progress->finish();
  result.final_train_wall_seconds = s.elapsed();
  const int first_iteration = s.first_iteration;
  result.final_iteration = trainer.iteration();
  result.train_seconds = s.train_seconds;
  result.step_phases = s.phase_sums;
  result.loop_overhead = s.loop_overhead_sum;
  if (const int steps = result.final_iteration - first_iteration; steps > 0) {
    result.step_phases /= steps;
    result.loop_overhead /= steps;
  }
  result.its_per_second =
      s.train_seconds > 0 ? (result.final_iteration - first_iteration) / s.train_seconds : 0.0;
  if (result.final_iteration == result.start_iteration) {
    GLIMPSE_LOG(Info) << "train: the checkpoint is already at iteration " << result.start_iteration
                      << " (configured: " << config.trainer.iterations << "); nothing to train";
  }
  s.save_ply();
  if (config.checkpoint_every > 0 && s.last_checkpoint != trainer.iteration()) s.save_checkpoint();

  // [SECTION] evaluation and reports ----------------------------------------------------------
  s.phase(SessionPhase::Evaluating, std::to_string(s.test_ids.size()) + " test and " +
                                        std::to_string(s.train_ids.size()) + " training views");
  result.num_gaussians = static_cast<int64_t>(trainer.gaussians().size());
  s.eval->render.sh_degree = config.trainer.sh_degree;
  result.test = evaluate(*s.eval, trainer.gaussians(), s.test_ids, out / "test");
  result.train = evaluate(*s.eval, trainer.gaussians(), s.train_ids, out / "train");
  if (!result.test.views.empty()) {
    GLIMPSE_LOG(Info) << "train: test PSNR " << std::fixed << std::setprecision(2)
                      << result.test.mean_psnr << " dB, SSIM " << std::setprecision(4)
                      << result.test.mean_ssim << " over " << result.test.views.size()
                      << " view(s)";
  }

  if (!s.losses.empty()) {
    std::vector<PlotSeries> series = {
        bucketed("training loss", first_iteration, s.losses, false),
        bucketed("training-view PSNR (dB)", first_iteration, s.train_psnrs, true)};
    if (!result.test_psnr_history.empty() || !result.test.views.empty()) {
      PlotSeries test;
      test.name = "test PSNR (dB)";
      test.right_axis = true;
      test.markers = true;
      for (const auto& [it, value] : result.test_psnr_history) {
        test.x.push_back(it);
        test.y.push_back(value);
      }
      test.x.push_back(result.final_iteration);
      test.y.push_back(result.test.mean_psnr);
      series.push_back(test);
    }
    PlotOptions plot;
    plot.left_label = "loss";
    plot.right_label = "PSNR (dB)";
    write_line_plot_png((out / "loss_curve.png").string(), series,
                        "glimpse train: " + scene_name(result.dataset_root), "iteration", plot);
  }
  // Test PSNR against time (with --test-every): how long the run took to reach each quality.
  if (!result.test_seconds_history.empty() && !result.test.views.empty()) {
    PlotSeries curve;
    curve.name = "test PSNR (dB)";
    curve.markers = true;
    for (size_t i = 0; i < result.test_seconds_history.size(); ++i) {
      curve.x.push_back(result.test_seconds_history[i]);
      curve.y.push_back(result.test_psnr_history[i].second);
    }
    curve.x.push_back(result.final_train_wall_seconds);
    curve.y.push_back(result.test.mean_psnr);
    PlotOptions plot;
    plot.left_label = "test PSNR (dB)";
    write_line_plot_png((out / "test_psnr_time.png").string(), {curve},
                        "glimpse train: " + scene_name(result.dataset_root) +
                            ", test PSNR against time since the start",
                        "seconds (initialisation included, periodic tests excluded)", plot);
  }
  result.wall_seconds = s.wall.seconds();
  const std::string md = result.to_markdown();
  write_file_atomically((out / "metrics.md").string(), [&](std::ostream& f) { f << md; });
  const std::string json = result.to_json().dump(2) + "\n";
  write_file_atomically((out / "metrics.json").string(), [&](std::ostream& f) { f << json; });
  s.finished = true;
  return result;
}

const TrainConfig& TrainRun::config() const { return s_->config; }
const Dataset& TrainRun::dataset() const { return s_->dataset; }
const std::vector<int>& TrainRun::train_ids() const { return s_->train_ids; }
const std::vector<int>& TrainRun::test_ids() const { return s_->test_ids; }
const TrainResult& TrainRun::result() const { return s_->result; }
bool TrainRun::prepared() const { return s_->prepared; }
const ProgressFigures* TrainRun::progress() const {
  return s_->progress ? &s_->progress->figures() : nullptr;
}

const Trainer& TrainRun::trainer() const {
  GLIMPSE_CHECK(s_->prepared) << "no Gaussians before training starts";
  return *s_->trainer;
}

RenderOutput TrainRun::render(const Camera& camera) {
  State& s = *s_;
  GLIMPSE_CHECK(s.prepared) << "no Gaussians to render before training starts";
  RenderOptions options = s.eval->render;
  options.sh_degree = s.trainer->active_sh_degree();
  RenderOutput output;
  s.trainer->rasterizer().forward(s.trainer->gaussians(), camera, options, output);
  return output;
}

TrainResult run_train(const TrainConfig& config, const TrainRunOptions& run) {
  SessionOptions options;
  options.config = config;
  options.run = run;
  options.start = true;
  Session session(std::move(options));
  std::unique_ptr<HttpLinkServer> server;
  if (!run.serve.empty()) {
    const HostPort address = parse_host_port(run.serve);
    HttpLinkOptions link;
    link.host = address.host;
    link.port = address.port;
    link.allow_remote = run.serve_remote;
    link.token = run.serve_token;
    server = std::make_unique<HttpLinkServer>(session, link);
    // The token is printed once by whoever made it (here, or a suite serving its runs).
    GLIMPSE_LOG(Info) << "train: serving the run on " << server->url() << "; watch it with "
                      << "glimpse-viewer --connect " << server->url() << " --token "
                      << (run.serve_token.empty() ? server->token() : "<the suite's token>");
  }
  return session.wait();
}

}  // namespace glimpse
