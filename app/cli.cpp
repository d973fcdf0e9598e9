// CLI11 bindings of `glimpse` (see cli.h). Flags write straight into the Options structs, whose
// check() is the single place where values are validated.
#include "app/cli.h"

#include "app/bench_render.h"
#include "app/info.h"
#include "app/render_pipeline.h"
#include "core/check.h"
#include "core/log.h"

#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>
#include <map>
#include <string>

namespace glimpse {

int run_cli(int argc, const char* const* argv) {
  CLI::App app{"Glimpse: sparse-view Gaussian splatting (3-9 posed photos to 3D Gaussians).",
               "glimpse"};
  app.set_version_flag("--version", std::string("glimpse ") + glimpse_version());
  app.require_subcommand(1);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log debug messages");
  app.add_flag("-q,--quiet", quiet, "Log warnings and errors only");

  // render
  RenderPipelineOptions render;
  CLI::App* render_cmd = app.add_subcommand(
      "render",
      "Initialise Gaussians from the training views of an LLFF capture (back-projected at a "
      "constant depth), render every view on the CPU and report PSNR");
  render_cmd
      ->add_option("dataset_dir", render.dataset_dir,
                   "LLFF folder (poses_bounds.npy, images_<factor>/, optional split.json)")
      ->required();
  render_cmd->add_option("-o,--output", render.output_dir, "Output folder (created if missing)")
      ->required();
  render_cmd->add_option("--threads", render.threads, "CPU threads (0: all hardware threads)")
      ->capture_default_str();
  const std::map<std::string, ViewSelection> views_map = {
      {"all", ViewSelection::All}, {"train", ViewSelection::Train}, {"test", ViewSelection::Test}};
  std::string views_name = view_selection_name(render.views);
  render_cmd->add_option("--views", views_name, "Views to render: all, train or test")
      ->check(CLI::IsMember({"all", "train", "test"}))
      ->capture_default_str();
  render_cmd
      ->add_option("--stride", render.init.stride,
                   "One initial Gaussian per stride x stride pixel block")
      ->capture_default_str();
  render_cmd
      ->add_option("--init-opacity", render.init.opacity,
                   "Opacity of the initial Gaussians, in (0, 1)")
      ->capture_default_str();
  render_cmd
      ->add_option("--init-scale", render.init.scale_factor,
                   "Initial 3D std dev in blocks: scale * stride * depth / f")
      ->capture_default_str();
  render_cmd->add_option("--factor", render.llff_factor, "LLFF downsampling factor (images_<f>/)")
      ->capture_default_str();
  render_cmd->add_flag("--antialiased", render.antialiased,
                       "Mip-Splatting 2D filter instead of the classic 0.3 px dilation");

  // bench-render
  BenchRenderOptions bench;
  BenchScene custom;
  CLI::App* bench_cmd = app.add_subcommand(
      "bench-render",
      "Time the CPU rasterizer (forward, forward+backward) on synthetic scenes. Without "
      "--gaussians/--width/--height it runs 100k Gaussians at 504x378 and 1M at 1920x1080");
  CLI::Option* gaussians_opt =
      bench_cmd->add_option("--gaussians", custom.gaussians, "Number of Gaussians")
          ->default_str("100000");
  CLI::Option* width_opt =
      bench_cmd->add_option("--width", custom.width, "Image width")->default_str("504");
  CLI::Option* height_opt =
      bench_cmd->add_option("--height", custom.height, "Image height")->default_str("378");
  bench_cmd->add_option("--threads", bench.threads, "Comma-separated CPU thread counts (0: all)")
      ->delimiter(',')
      ->default_str("1,2");
  bench_cmd->add_option("--repeats", bench.repeats, "Timed repetitions (median and min reported)")
      ->capture_default_str();
  bench_cmd->add_option("--warmup", bench.warmup, "Untimed forward+backward passes first")
      ->capture_default_str();
  bench_cmd->add_option("--seed", bench.seed, "Synthetic scene seed")->capture_default_str();
  bench_cmd->add_option("--json", bench.json_path, "Also write the results to this JSON file");

  // info
  CLI::App* info_cmd =
      app.add_subcommand("info", "Version, CUDA backend availability, hardware threads");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, version or the error
    return code == 0 ? 0 : 2;
  }
  if (verbose) set_log_level(LogLevel::Debug);
  if (quiet) set_log_level(LogLevel::Warning);

  if (render_cmd->parsed()) {
    render.views = views_map.at(views_name);
    const RenderReport report = run_render_pipeline(render);
    std::cout << "rendered " << report.views.size() << " view(s) with " << report.num_gaussians
              << " Gaussians, mean PSNR " << std::fixed << std::setprecision(2) << report.mean_psnr
              << " dB\n"
              << "outputs in " << render.output_dir
              << ": renders/ depth/ alpha/ compare/ report.json report.md\n";
    return 0;
  }
  if (bench_cmd->parsed()) {
    if (gaussians_opt->count() > 0 || width_opt->count() > 0 || height_opt->count() > 0)
      bench.scenes = {custom};
    const std::vector<BenchRenderResult> results = run_bench_render(bench);
    std::cout << format_bench_table(results);
    if (!bench.json_path.empty()) std::cout << "results written to " << bench.json_path << "\n";
    return 0;
  }
  if (info_cmd->parsed()) {
    std::cout << build_info_text();
    return 0;
  }
  return 2;  // unreachable: require_subcommand(1)
}

std::string user_error_message(const std::string& what) {
  const std::string message = error_message_without_location(what);
  const std::string prefix = "check failed (";
  if (message.rfind(prefix, 0) != 0) return message;
  // Skip the condition: find the parenthesis that closes it, followed by ": ".
  int depth = 1;
  for (size_t i = prefix.size(); i < message.size(); ++i) {
    if (message[i] == '(') ++depth;
    if (message[i] == ')' && --depth == 0) {
      if (message.compare(i + 1, 2, ": ") == 0 && i + 3 < message.size())
        return message.substr(i + 3);
      return message;
    }
  }
  return message;
}

}  // namespace glimpse
