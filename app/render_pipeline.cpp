// `glimpse render`: LLFF in, depth-initialised Gaussians rendered on the CPU, images and a report
// out (see render_pipeline.h).
#include "app/render_pipeline.h"

#include "app/info.h"
#include "app/report_values.h"
#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "eval/metrics.h"
#include "io/atomic_file.h"
#include "io/image_io.h"
#include "io/llff.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <ostream>
#include <sstream>

namespace glimpse {
namespace fs = std::filesystem;

namespace {

// "image000.png" -> "image000.png" output names keep the stem and use .png.
// ground truth | render, side by side (both RGB, same size; write_png clamps to [0, 1]).
Image<float> side_by_side(const Image<float>& left, const Image<float>& right) {
  Image<float> out(2 * left.width(), left.height(), 3);
  paste_image(out, left, 0, 0);
  paste_image(out, right, left.width(), 0);
  return out;
}

const char* antialiasing_name(AntiAliasing a) {
  return a == AntiAliasing::MipSplatting ? "mip-splatting" : "off";
}
const char* extent_name(ExtentMode e) {
  return e == ExtentMode::OpacityAware ? "opacity-aware" : "3-sigma";
}

}  // namespace

const char* view_selection_name(ViewSelection selection) {
  switch (selection) {
    case ViewSelection::All:
      return "all";
    case ViewSelection::Train:
      return "train";
    case ViewSelection::Test:
      return "test";
  }
  return "?";
}

void RenderPipelineOptions::check() const {
  GLIMPSE_CHECK(!dataset_dir.empty()) << "render: no dataset folder given";
  GLIMPSE_CHECK(fs::exists(dataset_dir))
      << "render: dataset folder " << dataset_dir << " does not exist";
  GLIMPSE_CHECK(fs::is_directory(dataset_dir))
      << "render: dataset path " << dataset_dir << " is not a folder";
  GLIMPSE_CHECK(!output_dir.empty()) << "render: no output folder given";
  GLIMPSE_CHECK(!fs::exists(output_dir) || fs::is_directory(output_dir))
      << "render: output path " << output_dir << " exists and is not a folder";
  GLIMPSE_CHECK(llff_factor >= 1) << "render: LLFF factor must be >= 1, got " << llff_factor;
  GLIMPSE_CHECK(threads >= 0) << "render: threads must be >= 0 (0 = all hardware threads), got "
                              << threads;
  init.check();
}

nlohmann::json RenderPipelineOptions::to_json() const {
  return {{"dataset_dir", dataset_dir},          {"output_dir", output_dir},
          {"llff_factor", llff_factor},          {"threads", threads},
          {"views", view_selection_name(views)}, {"stride", init.stride},
          {"init_opacity", init.opacity},        {"init_scale_factor", init.scale_factor},
          {"antialiased", antialiased}};
}

double psnr_clamped(const Image<float>& image, const Image<float>& reference) {
  auto clamped = [](const Image<float>& in) {
    Image<float> out = in;
    for (float& v : out.vector()) v = std::clamp(v, 0.0f, 1.0f);
    return out;
  };
  return psnr(clamped(image), clamped(reference));
}

nlohmann::json RenderReport::to_json() const {
  nlohmann::json views_json = nlohmann::json::array();
  std::vector<double> all, train, test;
  for (const ViewReport& v : views) {
    views_json.push_back({{"index", v.index},
                          {"name", v.name},
                          {"split", v.split},
                          {"psnr", finite_or_null(v.psnr)},
                          {"render_ms", v.render_ms},
                          {"num_visible", v.num_visible},
                          {"num_evaluations", v.num_evaluations}});
    all.push_back(v.psnr);
    if (v.split == "train") train.push_back(v.psnr);
    if (v.split == "test") test.push_back(v.psnr);
  }
  nlohmann::json resolved = options.to_json();
  resolved["threads_resolved"] = threads;
  resolved["init"] = {{"method", "constant-depth back-projection"},
                      {"depth", init_depth},
                      {"stride", options.init.stride},
                      {"opacity", options.init.opacity},
                      {"scale_factor", options.init.scale_factor},
                      {"view_ids", init_view_ids}};
  resolved["render"] = {
      {"backend", "cpu"},
      {"sh_degree", render.sh_degree},
      {"background", {render.background.x, render.background.y, render.background.z}},
      {"near_plane", render.near_plane},
      {"far_plane", render.far_plane},
      {"extent", extent_name(render.extent)},
      {"antialiasing", antialiasing_name(render.antialiasing)},
      {"blur", render.blur}};
  return {
      {"command", "render"},
      {"build", build_info_json()},
      {"dataset", {{"root", dataset_root}, {"format", "llff"}, {"num_views", num_dataset_views}}},
      {"options", resolved},
      {"num_gaussians", num_gaussians},
      {"mean_psnr",
       {{"all", finite_or_null(finite_mean(all))},
        {"train", finite_or_null(finite_mean(train))},
        {"test", finite_or_null(finite_mean(test))}}},
      {"total_ms", total_ms},
      {"views", views_json}};
}

std::string RenderReport::to_markdown() const {
  std::ostringstream md;
  md << std::fixed;
  md << "# glimpse render report\n\n";
  md << "- dataset: `" << dataset_root << "` (LLFF, " << num_dataset_views << " views, factor "
     << options.llff_factor << ")\n";
  md << "- initialisation: " << num_gaussians << " Gaussians back-projected from "
     << init_view_ids.size() << " view(s) at constant depth " << std::setprecision(3) << init_depth
     << " (harmonic mean of the near/far bounds), stride " << options.init.stride << "\n";
  md << "- renderer: CPU, " << threads << " thread(s), anti-aliasing "
     << antialiasing_name(render.antialiasing) << "\n";
  md << "- views rendered: " << view_selection_name(options.views) << " (" << views.size() << ")\n";
  md << "- total time: " << std::setprecision(0) << total_ms << " ms\n\n";
  md << "| view | split | PSNR (dB) | render (ms) | visible Gaussians |\n";
  md << "|---|---|---:|---:|---:|\n";
  std::vector<double> all;
  for (const ViewReport& v : views) {
    md << "| " << v.name << " | " << v.split << " | " << std::setprecision(2) << v.psnr << " | "
       << std::setprecision(1) << v.render_ms << " | " << v.num_visible << " |\n";
    all.push_back(v.psnr);
  }
  md << "\nMean PSNR: " << std::setprecision(2) << finite_mean(all) << " dB.\n";
  return md.str();
}

RenderReport run_render_pipeline(const RenderPipelineOptions& options,
                                 const RenderProgress& progress) {
  const Timer total;
  options.check();
  RenderReport report;
  report.options = options;

  // Read and validate everything before writing anything.
  LlffOptions llff;
  llff.factor = options.llff_factor;
  llff.load_images = true;
  const Dataset dataset = read_llff(options.dataset_dir, llff);
  const int n = static_cast<int>(dataset.views.size());
  check_dataset_for_rendering(dataset, options.dataset_dir, "render");

  std::vector<std::string> split(n, "none");
  for (int id : dataset.train_ids) split[id] = "train";
  for (int id : dataset.test_ids) split[id] = "test";
  std::vector<int> all_ids(n);
  for (int i = 0; i < n; ++i) all_ids[i] = i;
  report.init_view_ids = dataset.train_ids.empty() ? all_ids : dataset.train_ids;

  std::vector<int> render_ids;
  switch (options.views) {
    case ViewSelection::All:
      render_ids = all_ids;
      break;
    case ViewSelection::Train:
      render_ids = report.init_view_ids;
      break;
    case ViewSelection::Test:
      GLIMPSE_CHECK(!dataset.test_ids.empty())
          << "render: --views test, but dataset " << options.dataset_dir
          << " has no test split (split.json)";
      render_ids = dataset.test_ids;
      break;
  }

  // Initial Gaussians: the training views back-projected at one plausible depth.
  report.init_depth = 2.0 / (1.0 / dataset.near_depth + 1.0 / dataset.far_depth);
  std::vector<View> init_views;
  std::vector<Image<float>> depths;
  for (int id : report.init_view_ids) {
    init_views.push_back(dataset.views[id]);
    const Camera& c = dataset.views[id].camera;
    depths.push_back(constant_depth(c.width, c.height, static_cast<float>(report.init_depth)));
  }
  const Gaussians gaussians = init_from_depth(init_views, depths, options.init, 0);
  init_views.clear();
  report.num_gaussians = static_cast<int64_t>(gaussians.size());
  GLIMPSE_CHECK(report.num_gaussians > 0) << "render: the initialisation produced no Gaussians";

  report.render.antialiasing = options.antialiased ? AntiAliasing::MipSplatting : AntiAliasing::Off;
  report.render.check();
  report.threads = options.threads > 0 ? options.threads : hardware_threads();
  report.dataset_root = dataset.root.empty() ? options.dataset_dir : dataset.root;
  report.num_dataset_views = n;
  std::unique_ptr<Rasterizer> rasterizer = make_cpu_rasterizer(options.threads);
  GLIMPSE_LOG(Info) << "render: " << n << " views, " << report.num_gaussians << " Gaussians from "
                    << report.init_view_ids.size() << " view(s) at depth " << report.init_depth
                    << ", rendering " << render_ids.size() << " view(s) on " << report.threads
                    << " thread(s)";

  const fs::path out(options.output_dir);
  for (const char* sub : {"renders", "depth", "alpha", "compare"}) {
    std::error_code ec;
    fs::create_directories(out / sub, ec);
    GLIMPSE_CHECK(!ec) << "render: cannot create folder " << (out / sub).string() << ": "
                       << ec.message();
  }

  RenderOutput rendered;
  for (size_t k = 0; k < render_ids.size(); ++k) {
    const int id = render_ids[k];
    const View& view = dataset.views[id];
    const Timer timer;
    rasterizer->forward(gaussians, view.camera, report.render, rendered);
    ViewReport v;
    v.render_ms = timer.milliseconds();
    v.index = id;
    v.name = view.name;
    v.split = split[id];
    v.psnr = psnr_clamped(rendered.rgb, view.image);
    v.num_visible = rendered.num_visible;
    v.num_evaluations = rendered.num_evaluations;

    const std::string name = evaluation_image_name(view.name);
    write_png((out / "renders" / name).string(), rendered.rgb);
    write_png((out / "depth" / name).string(),
              depth_preview(rendered.depth, dataset.near_depth, dataset.far_depth));
    write_png((out / "alpha" / name).string(), rendered.alpha);
    write_png((out / "compare" / name).string(), side_by_side(view.image, rendered.rgb));
    report.views.push_back(v);
    if (progress) {
      progress(static_cast<int>(k), static_cast<int>(render_ids.size()), v);
    } else {
      GLIMPSE_LOG(Info) << "view " << k + 1 << "/" << render_ids.size() << " " << v.name << " ("
                        << v.split << "): " << std::fixed << std::setprecision(1) << v.render_ms
                        << " ms, PSNR " << std::setprecision(2) << v.psnr << " dB";
    }
  }

  std::vector<double> all;
  for (const ViewReport& v : report.views) all.push_back(v.psnr);
  report.mean_psnr = finite_mean(all);
  report.total_ms = total.milliseconds();
  const nlohmann::json json = report.to_json();
  write_file_atomically((out / "report.json").string(),
                        [&](std::ostream& s) { s << json.dump(2) << "\n"; });
  const std::string md = report.to_markdown();
  write_file_atomically((out / "report.md").string(), [&](std::ostream& s) { s << md; });
  return report;
}

}  // namespace glimpse
