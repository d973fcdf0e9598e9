// CLI11 bindings of `glimpse` (see cli.h). Flags write straight into the Options structs, whose
// check() is the single place where values are validated.
#include "app/cli.h"

#include "app/bench_ablation.h"
#include "app/bench_render.h"
#include "app/bench_session.h"
#include "app/bench_suite.h"
#include "app/bench_train.h"
#include "app/export_command.h"
#include "app/info.h"
#include "app/metrics_command.h"
#include "app/mvs_command.h"
#include "app/render_pipeline.h"
#include "app/train_command.h"
#include "app/train_config.h"
#include "core/check.h"
#include "core/log.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {

namespace {

// "0,8,16" -> {0, 8, 16}; throws naming the flag for anything but comma-separated integers.
std::vector<int> parse_index_list(const std::string& text, const char* flag) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int value = -1;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    GLIMPSE_CHECK(used > 0 && used == item.size() && value >= 0)
        << flag << ": '" << item << "' is not a view index (expected e.g. 0,8,16)";
    out.push_back(value);
  }
  GLIMPSE_CHECK(!out.empty()) << flag << ": no view index given (expected e.g. 0,8,16)";
  return out;
}

}  // namespace

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

  // train: flags override the --config file, which overrides the defaults of TrainConfig.
  const TrainConfig train_defaults;  // shown in --help
  TrainConfig train_flags;
  std::string train_config_path, train_device, train_strategy, train_init, train_protocol;
  std::string train_scene_scale, train_masks;
  bool train_resume = false, train_dump_config = false, train_profile = false;
  CLI::App* train_cmd = app.add_subcommand(
      "train",
      "Reconstruct an LLFF capture with 3D Gaussian Splatting: depth or random initialisation, "
      "training with progress, checkpoints, splat PLY output and test-view PSNR/SSIM");
  train_cmd->add_option("dataset", train_flags.dataset,
                        "Dataset folder: LLFF, COLMAP (sparse/0), DTU or transforms.json");
  train_cmd->add_option("-o,--output", train_flags.output, "Output folder (created if missing)");
  train_cmd->add_option("--config", train_config_path,
                        "JSON configuration (e.g. a run's config.json); flags override it");
  train_cmd->add_option("--device", train_device, "Rasterizer device: cpu, cuda or auto")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->default_str(train_device_name(train_defaults.device));
  train_cmd->add_option("--iterations", train_flags.trainer.iterations, "Optimisation steps")
      ->default_str(std::to_string(train_defaults.trainer.iterations));
  train_cmd->add_option("--threads", train_flags.threads, "CPU threads (0: all hardware threads)")
      ->default_str(std::to_string(train_defaults.threads));
  train_cmd
      ->add_option("--strategy", train_strategy,
                   "Densification: adc (3DGS clone/split/prune), mcmc (3DGS-MCMC) or none")
      ->check(CLI::IsMember({"adc", "mcmc", "none"}))
      ->default_str(densify_strategy_name(train_defaults.trainer.strategy));
  train_cmd->add_option("--seed", train_flags.trainer.seed, "Random seed")
      ->default_str(std::to_string(train_defaults.trainer.seed));
  train_cmd
      ->add_option("--init", train_init,
                   "Initial Gaussians: auto (the best that works here), mvs (multi-view stereo), "
                   "colmap (COLMAP triangulation), hull (visual hull of the masks), depth "
                   "(training views back-projected at the mean depth), random, or points (a PLY)")
      ->check(CLI::IsMember({"auto", "mvs", "colmap", "hull", "depth", "random", "points", "ply"}))
      ->default_str(init_method_name(train_defaults.init));
  train_cmd
      ->add_option("--scene-scale", train_scene_scale,
                   "What the position learning rate is relative to: depth (median depth of the "
                   "initial Gaussians) or cameras (the camera spread, as the reference 3DGS)")
      ->check(CLI::IsMember({"depth", "cameras"}))
      ->default_str(scene_scale_name(train_defaults.scene_scale));
  train_cmd
      ->add_option("--training-masks", train_masks,
                   "Masks of the training views (transparent outside): auto (heuristic on the DTU "
                   "protocol, else dataset), dataset (its object masks; on DTU not the protocol), "
                   "heuristic (dark background from the images, DNGaussian's DTU rule, see "
                   "background_heuristic in --dump-config) or none")
      ->check(CLI::IsMember({"auto", "dataset", "heuristic", "none"}))
      ->default_str(training_masks_name(train_defaults.training_masks));
  train_cmd->add_option("--cache-dir", train_flags.cache_dir,
                        "Cache for multi-view stereo results, shared by runs on the same views "
                        "(default: the output folder)");
  train_cmd->add_option("--init-points", train_flags.init_points,
                        "Point-cloud PLY for --init points (x y z, colours optional)");
  train_cmd->add_option("--init-ply", train_flags.init_ply,
                        "Start from the Gaussians of a splat file (PLY of any 3DGS writer, .splat, "
                        "SPZ, compressed PLY); implies --init ply");
  train_cmd->add_option("--colmap", train_flags.colmap_path,
                        "The COLMAP program for --init colmap and folders of unposed photographs "
                        "(default: colmap on PATH)");
  train_cmd
      ->add_option("--init-stride", train_flags.init_stride,
                   "Depth init: one Gaussian per stride x stride pixel block")
      ->default_str(std::to_string(train_defaults.init_stride));
  train_cmd->add_option("--factor", train_flags.factor, "LLFF downsampling factor (images_<f>/)")
      ->default_str(std::to_string(train_defaults.factor));
  train_cmd
      ->add_option("--downscale", train_flags.downscale,
                   "COLMAP and transforms.json: divide the image size by this (area filter)")
      ->default_str(std::to_string(train_defaults.downscale));
  train_cmd
      ->add_option("--format", train_flags.format,
                   "Dataset layout: auto (detected), llff, colmap, dtu, transforms or images "
                   "(a folder of unposed photographs: COLMAP structure from motion)")
      ->default_str(train_defaults.format);
  train_cmd
      ->add_option("--protocol", train_protocol,
                   "Split and metrics: none (the dataset's split.json, if any), llff (every 8th "
                   "image tested, --views by linspace) or dtu (pixelNeRF ids, masked metrics)")
      ->check(CLI::IsMember({"none", "llff", "dtu"}))
      ->default_str(eval_protocol_name(train_defaults.protocol));
  train_cmd
      ->add_option("--holdout", train_flags.holdout,
                   "Without a protocol: test on every Nth view and train on the rest (3DGS "
                   "--eval uses 8); 0 keeps the dataset's split")
      ->default_str(std::to_string(train_defaults.holdout));
  train_cmd->add_option("--views", train_flags.views, "Protocol training views: 3, 6 or 9")
      ->default_str(std::to_string(train_defaults.views));
  train_cmd->add_option("--lpips-model", train_flags.lpips_model,
                        "LPIPS-VGG weights (lpips_vgg.npz or a folder holding it; default: "
                        "$GLIMPSE_LPIPS_DIR, then the user cache that tools/get_lpips_weights.sh "
                        "fills; none: off); without weights LPIPS is reported unavailable");
  train_cmd->add_option("--sh-degree", train_flags.trainer.sh_degree, "Final SH degree (0-3)")
      ->default_str(std::to_string(train_defaults.trainer.sh_degree));
  train_cmd->add_flag("--resume", train_resume,
                      "Continue from <output>/checkpoint.bin to the configured iterations");
  train_cmd
      ->add_option("--save-every", train_flags.save_every,
                   "Write point_cloud/iteration_N every N iterations (0: only the final one)")
      ->default_str(std::to_string(train_defaults.save_every));
  train_cmd
      ->add_option("--checkpoint-every", train_flags.checkpoint_every,
                   "Write checkpoint.bin every N iterations and at the end (0: never)")
      ->default_str(std::to_string(train_defaults.checkpoint_every));
  train_cmd
      ->add_option("--test-every", train_flags.test_every,
                   "Log the test-view PSNR every N iterations (0: only at the end)")
      ->default_str(std::to_string(train_defaults.test_every));
  // The sparse-view priors (app/train_config.h PriorsConfig); `--dump-config` shows all of them.
  std::string train_depth_source, train_depth_kind;
  train_cmd
      ->add_option("--depth-source", train_depth_source,
                   "Depth prior: auto (files with --depth-dir, the network with --depth-model, "
                   "else multi-view stereo), mvs, files, model or none (depth losses off)")
      ->check(CLI::IsMember({"auto", "mvs", "files", "model", "none"}))
      ->default_str(depth_source_name(train_defaults.priors.depth_source));
  train_cmd->add_option("--depth-dir", train_flags.priors.depth_dir,
                        "Depth maps to import, one per training view: <stem>.npy|.pfm|.exr|.png "
                        "(+ optional <stem>.confidence.npy); scale and shift may be unknown");
  train_cmd
      ->add_option("--depth-kind", train_depth_kind,
                   "What --depth-dir holds: depth (larger is farther) or inverse (disparity)")
      ->check(CLI::IsMember({"depth", "inverse"}))
      ->default_str("depth");
  train_cmd->add_option("--depth-model", train_flags.priors.depth_model,
                        "Monocular depth network (ONNX) run on each training view");
  train_cmd
      ->add_option("--depth-model-convention", train_flags.priors.depth_model_convention,
                   "Input convention of --depth-model: midas, dpt or depth-anything")
      ->default_str(train_defaults.priors.depth_model_convention);
  train_cmd->add_flag("--depth-required", train_flags.priors.depth_required,
                      "Stop with an error when a depth prior cannot be made (default: continue "
                      "without it and say so)");
  train_cmd
      ->add_option("--ranking-weight", train_flags.priors.depth.ranking_weight,
                   "Depth ranking loss weight (SparseNeRF; 0: off)")
      ->default_str(std::to_string(train_defaults.priors.depth.ranking_weight));
  train_cmd
      ->add_option("--pearson-weight", train_flags.priors.depth.pearson_weight,
                   "Global Pearson depth correlation weight (FSGS; 0: off)")
      ->default_str(std::to_string(train_defaults.priors.depth.pearson_weight));
  train_cmd
      ->add_option("--patch-pearson-weight", train_flags.priors.depth.patch_pearson_weight,
                   "Patch-local Pearson depth correlation weight (0: off)")
      ->default_str(std::to_string(train_defaults.priors.depth.patch_pearson_weight));
  train_cmd
      ->add_option("--depth-l1-weight", train_flags.priors.depth.depth_l1_weight,
                   "Relative depth error against a metric prior (MVS) weight (0: off)")
      ->default_str(std::to_string(train_defaults.priors.depth.depth_l1_weight));
  train_cmd
      ->add_option("--warp-weight", train_flags.priors.warp.weight,
                   "Multi-view warp consistency weight (0: off)")
      ->default_str(std::to_string(train_defaults.priors.warp.weight));
  train_cmd
      ->add_option("--self-consistency-weight", train_flags.priors.self_consistency.weight,
                   "Binocular3DGS self-consistency weight: a render from a sideways-shifted "
                   "camera warped back through the rendered depth (0: off; a second render)")
      ->default_str(std::to_string(train_defaults.priors.self_consistency.weight));
  train_cmd
      ->add_option("--co-reg-weight", train_flags.priors.co_regularization.weight,
                   "CoR-GS co-regularisation weight: a second field trained beside the run's, "
                   "each pulled to the other's render at pseudo views between the training "
                   "views (0: off; about 2.5x the training time)")
      ->default_str(std::to_string(train_defaults.priors.co_regularization.weight));
  train_cmd
      ->add_option("--co-prune-every", train_flags.priors.co_regularization.prune_every,
                   "CoR-GS co-pruning: every N steps, remove the Gaussians of either field with "
                   "no Gaussian of the other nearby (0: off)")
      ->default_str(std::to_string(train_defaults.priors.co_regularization.prune_every));
  train_cmd
      ->add_option("--prune-floaters", train_flags.priors.depth.prune_until,
                   "Prune Gaussians in front of the confident depth prior until this iteration "
                   "(0: off)")
      ->default_str(std::to_string(train_defaults.priors.depth.prune_until));
  train_cmd
      ->add_option("--dropout", train_flags.trainer.dropout_rate,
                   "DropGaussian: final dropout rate of Gaussians in training renders (0: off)")
      ->default_str(std::to_string(train_defaults.trainer.dropout_rate));
  train_cmd
      ->add_option("--opacity-decay", train_flags.trainer.opacity_decay,
                   "Multiply every opacity by this after each step (Binocular3DGS; 1: off)")
      ->default_str(std::to_string(train_defaults.trainer.opacity_decay));
  train_cmd
      ->add_option("--opacity-reg", train_flags.trainer.opacity_reg,
                   "Opacity regulariser: this times the mean opacity joins the loss (0: off)")
      ->default_str(std::to_string(train_defaults.trainer.opacity_reg));
  train_cmd
      ->add_option("--scale-reg", train_flags.trainer.scale_reg,
                   "Scale regulariser: this times the mean scale over the scene extent joins the "
                   "loss (0: off)")
      ->default_str(std::to_string(train_defaults.trainer.scale_reg));
  train_cmd
      ->add_option("--needle-reg", train_flags.trainer.needle_reg,
                   "Needle regulariser weight: a hinge on how much longer than wide each "
                   "Gaussian is, above trainer.needle_ratio (0: off)")
      ->default_str(std::to_string(train_defaults.trainer.needle_reg));
  train_cmd->add_flag("--random-background,!--no-random-background",
                      train_flags.trainer.random_background,
                      "A random background colour each training step");
  std::string train_views_list, train_serve;
  bool train_serve_remote = false;
  train_cmd->add_option("--train-views", train_views_list,
                        "The training views by index, e.g. 0,8,16 (default: the protocol's or "
                        "the split's); the split's test views not chosen stay test views");
  train_cmd->add_option("--serve", train_serve,
                        "Serve the run for remote viewers on HOST:PORT (e.g. 127.0.0.1:7007); a "
                        "token is printed: glimpse-viewer --connect URL --token TOKEN");
  train_cmd->add_flag("--serve-remote", train_serve_remote,
                      "Allow --serve on an address other than loopback (anyone who can reach it "
                      "and has the token can pause, stop and export the run)");
  train_cmd->add_flag("--profile", train_profile,
                      "Print where the training steps' time went, by phase (also in metrics.json "
                      "step_phases_ms)");
  train_cmd->add_flag("--dump-config", train_dump_config,
                      "Print the resolved configuration as JSON and exit");

  // bench-session
  BenchSessionOptions bench_session;
  CLI::App* bench_session_cmd = app.add_subcommand(
      "bench-session",
      "What the session costs training: a bare training loop, a session watched like the viewer "
      "watches it, and one served over the HTTP link, interleaved; it/s and overhead");
  bench_session_cmd->add_option("dataset", bench_session.dataset, "Dataset folder")
      ->capture_default_str();
  bench_session_cmd->add_option("--iterations", bench_session.iterations, "Steps per run")
      ->capture_default_str();
  bench_session_cmd->add_option("--repeats", bench_session.repeats, "Rounds of the three modes")
      ->capture_default_str();
  bench_session_cmd->add_option("--threads", bench_session.threads, "CPU threads (0: all)")
      ->capture_default_str();
  bench_session_cmd->add_option("--poll-hz", bench_session.poll_hz, "The watcher's polling rate")
      ->capture_default_str();

  // bench-train
  BenchTrainOptions bench_train;
  CLI::App* bench_train_cmd = app.add_subcommand(
      "bench-train",
      "Time full training steps (render, L1 + D-SSIM, plug-in terms, backward, Adam) of the CPU "
      "backend on a synthetic scene, or on a real capture as glimpse train sets it up (--data): "
      "iterations per second, the time of each phase of the step, and peak memory");
  CLI::Option* bt_gaussians =
      bench_train_cmd->add_option("--gaussians", bench_train.gaussians, "Number of Gaussians")
          ->capture_default_str();
  CLI::Option* bt_width = bench_train_cmd->add_option("--width", bench_train.width, "Image width")
                              ->capture_default_str();
  CLI::Option* bt_height =
      bench_train_cmd->add_option("--height", bench_train.height, "Image height")
          ->capture_default_str();
  bench_train_cmd
      ->add_option("--views", bench_train.views,
                   "Training views (with --data and a protocol: the protocol's 3, 6 or 9)")
      ->capture_default_str();
  CLI::Option* bt_data = bench_train_cmd->add_option(
      "--data", bench_train.data,
      "A real capture instead of the synthetic scene: its folder (LLFF, DTU, ...), trained as "
      "glimpse train would (split, initialisation, depth priors); nothing is saved");
  bench_train_cmd
      ->add_option("--protocol", bench_train.protocol,
                   "With --data: the evaluation protocol that chooses the split (none, llff, dtu)")
      ->check(CLI::IsMember({"none", "llff", "dtu"}))
      ->needs(bt_data);
  bench_train_cmd
      ->add_option("--config", bench_train.config_path,
                   "With --data: a training configuration (JSON, as glimpse train --config)")
      ->needs(bt_data);
  bench_train_cmd
      ->add_option("--cache-dir", bench_train.cache_dir,
                   "With --data: the multi-view stereo cache (as glimpse train --cache-dir)")
      ->needs(bt_data);
  bench_train_cmd->add_option("--iterations", bench_train.iterations, "Timed training steps")
      ->capture_default_str();
  bench_train_cmd->add_option("--warmup", bench_train.warmup, "Untimed steps first")
      ->capture_default_str();
  bench_train_cmd->add_option("--threads", bench_train.threads, "CPU threads (0: all)")
      ->capture_default_str();
  CLI::Option* bt_seed =
      bench_train_cmd->add_option("--seed", bench_train.seed, "Synthetic scene seed")
          ->capture_default_str();
  for (CLI::Option* synthetic_only : {bt_gaussians, bt_width, bt_height, bt_seed})
    bt_data->excludes(synthetic_only);
  bench_train_cmd->add_option("--json", bench_train.json_path, "Also write the result as JSON");

  // bench: the sparse-view suites
  BenchSuiteOptions suite;
  std::string suite_name_flag, suite_config_path, suite_device;
  CLI::App* suite_cmd = app.add_subcommand(
      "bench",
      "Run a sparse-view benchmark suite (LLFF or DTU, 3/6/9 views) with the papers' protocol: "
      "train every scene headless, evaluate the test views, write results.json/.csv/.md (beside "
      "published figures) and report.html; finished scenes are skipped when run again");
  suite_cmd->add_option("--suite", suite_name_flag, "llff or dtu")
      ->check(CLI::IsMember({"llff", "dtu"}))
      ->required();
  suite_cmd->add_option("--views", suite.views, "Training views: 3, 6 or 9")->capture_default_str();
  suite_cmd
      ->add_option("--data", suite.data_dir,
                   "Folder holding the scenes (<data>/<scene> or <data>/<suite>/<scene>)")
      ->required();
  suite_cmd->add_option("-o,--output", suite.output_dir, "Output folder (created if missing)")
      ->required();
  suite_cmd
      ->add_option("--scenes", suite.scenes,
                   "Scene names (comma-separated; default: the protocol's scenes found, else "
                   "every scene folder found)")
      ->delimiter(',');
  suite_cmd->add_option("--seeds", suite.seeds, "Runs per scene, seeds seed..seed+K-1")
      ->capture_default_str();
  suite_cmd->add_option("--seed", suite.train.trainer.seed, "First seed")->capture_default_str();
  suite_cmd->add_option("--iterations", suite.train.trainer.iterations, "Iterations per run")
      ->capture_default_str();
  suite_cmd->add_option("--device", suite_device, "Rasterizer device: cpu, cuda or auto")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->default_str("auto");
  suite_cmd->add_option("--threads", suite.train.threads, "CPU threads (0: all)")
      ->capture_default_str();
  suite_cmd->add_option("--serve", suite.serve,
                        "Serve each run for remote viewers on HOST:PORT, one token for the "
                        "suite (printed): a viewer follows the batch from run to run");
  suite_cmd->add_flag("--serve-remote", suite.serve_remote,
                      "Allow --serve on an address other than loopback");
  suite_cmd->add_option("--config", suite_config_path,
                        "Train configuration JSON for every run (flags override it)");
  std::string suite_variants_path;
  std::vector<std::string> suite_inits;
  suite_cmd->add_option("--variants", suite_variants_path,
                        "Ablation: a JSON array of {\"name\", \"config\"} variants, each run as "
                        "a whole suite in <out>/<name>/ with one table across them "
                        "(ablation.md)");
  suite_cmd
      ->add_option("--inits", suite_inits,
                   "Ablation over initialisers: one variant per name (e.g. "
                   "mvs,colmap,hull,depth,random), as --variants")
      ->delimiter(',')
      ->check(CLI::IsMember({"auto", "mvs", "colmap", "hull", "depth", "random"}))
      ->excludes("--variants");
  std::string suite_sheet_view;
  suite_cmd->add_option("--sheet-view", suite_sheet_view,
                        "Ablation (with --variants or --inits): the test view of ablation.png's "
                        "rows, by file name (e.g. image008.png); default: each scene's first "
                        "test view");
  suite_cmd->add_option("--lpips-model", suite.train.lpips_model,
                        "LPIPS-VGG weights (as for train: .npz, folder, or none); default "
                        "$GLIMPSE_LPIPS_DIR, then the user cache");

  // mvs: multi-view stereo (flags bound in app/mvs_command.cpp)
  const MvsCli mvs_cli = add_mvs_subcommand(app);
  // metrics: image metrics between two images or folders (flags in app/metrics_command.cpp)
  const MetricsCli metrics_cli = add_metrics_subcommand(app);

  // export: splat formats and meshes (flags in app/export_command.cpp)
  const ExportCli export_cli = add_export_subcommand(app);
  const MeshCompareCli mesh_compare_cli = add_mesh_compare_subcommand(app);

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
  if (train_cmd->parsed()) {
    TrainConfig config;
    if (!train_config_path.empty()) config = load_train_config(train_config_path);
    // The flags given, as a JSON patch: the configuration's own reader applies them (enum names,
    // range checks), so the command line and config files cannot disagree.
    auto given = [&](const char* name) { return train_cmd->get_option(name)->count() > 0; };
    nlohmann::json flags = nlohmann::json::object();
    if (given("dataset")) flags["dataset"] = train_flags.dataset;
    if (given("--output")) flags["output"] = train_flags.output;
    if (given("--device")) flags["device"] = train_device;
    if (given("--threads")) flags["threads"] = train_flags.threads;
    if (given("--factor")) flags["factor"] = train_flags.factor;
    if (given("--format")) flags["format"] = train_flags.format;
    if (given("--downscale")) flags["downscale"] = train_flags.downscale;
    if (given("--init")) flags["init"] = train_init;
    if (given("--protocol")) flags["protocol"] = train_protocol;
    if (given("--views")) flags["views"] = train_flags.views;
    if (given("--holdout")) flags["holdout"] = train_flags.holdout;
    if (given("--train-views"))
      flags["train_views"] = parse_index_list(train_views_list, "--train-views");
    if (given("--lpips-model")) flags["lpips_model"] = train_flags.lpips_model;
    if (given("--init-stride")) flags["init_stride"] = train_flags.init_stride;
    if (given("--init-points")) flags["init_points"] = train_flags.init_points;
    if (given("--init-ply")) {
      flags["init_ply"] = train_flags.init_ply;
      if (!given("--init")) flags["init"] = "ply";
    }
    if (given("--scene-scale")) flags["scene_scale"] = train_scene_scale;
    if (given("--training-masks")) flags["training_masks"] = train_masks;
    if (given("--cache-dir")) flags["cache_dir"] = train_flags.cache_dir;
    if (given("--colmap")) flags["colmap_path"] = train_flags.colmap_path;
    if (given("--save-every")) flags["save_every"] = train_flags.save_every;
    if (given("--checkpoint-every")) flags["checkpoint_every"] = train_flags.checkpoint_every;
    if (given("--test-every")) flags["test_every"] = train_flags.test_every;
    if (given("--iterations")) flags["trainer"]["iterations"] = train_flags.trainer.iterations;
    if (given("--strategy")) flags["trainer"]["strategy"] = train_strategy;
    if (given("--seed")) flags["trainer"]["seed"] = train_flags.trainer.seed;
    if (given("--sh-degree")) flags["trainer"]["sh_degree"] = train_flags.trainer.sh_degree;
    if (given("--dropout")) flags["trainer"]["dropout_rate"] = train_flags.trainer.dropout_rate;
    if (given("--opacity-decay"))
      flags["trainer"]["opacity_decay"] = train_flags.trainer.opacity_decay;
    if (given("--opacity-reg")) flags["trainer"]["opacity_reg"] = train_flags.trainer.opacity_reg;
    if (given("--scale-reg")) flags["trainer"]["scale_reg"] = train_flags.trainer.scale_reg;
    if (given("--needle-reg")) flags["trainer"]["needle_reg"] = train_flags.trainer.needle_reg;
    if (given("--random-background"))
      flags["trainer"]["random_background"] = train_flags.trainer.random_background;
    const PriorsConfig& pf = train_flags.priors;
    if (given("--depth-source")) flags["priors"]["depth_source"] = train_depth_source;
    if (given("--depth-dir")) flags["priors"]["depth_dir"] = pf.depth_dir;
    if (given("--depth-kind")) flags["priors"]["depth_kind"] = train_depth_kind;
    if (given("--depth-model")) flags["priors"]["depth_model"] = pf.depth_model;
    if (given("--depth-model-convention"))
      flags["priors"]["depth_model_convention"] = pf.depth_model_convention;
    if (given("--depth-required")) flags["priors"]["depth_required"] = pf.depth_required;
    if (given("--ranking-weight"))
      flags["priors"]["depth"]["ranking_weight"] = pf.depth.ranking_weight;
    if (given("--pearson-weight"))
      flags["priors"]["depth"]["pearson_weight"] = pf.depth.pearson_weight;
    if (given("--patch-pearson-weight"))
      flags["priors"]["depth"]["patch_pearson_weight"] = pf.depth.patch_pearson_weight;
    if (given("--depth-l1-weight"))
      flags["priors"]["depth"]["depth_l1_weight"] = pf.depth.depth_l1_weight;
    if (given("--prune-floaters")) flags["priors"]["depth"]["prune_until"] = pf.depth.prune_until;
    if (given("--warp-weight")) flags["priors"]["warp"]["weight"] = pf.warp.weight;
    if (given("--self-consistency-weight"))
      flags["priors"]["self_consistency"]["weight"] = pf.self_consistency.weight;
    if (given("--co-reg-weight"))
      flags["priors"]["co_regularization"]["weight"] = pf.co_regularization.weight;
    if (given("--co-prune-every"))
      flags["priors"]["co_regularization"]["prune_every"] = pf.co_regularization.prune_every;
    config.update_from_json(flags, "command line");
    if (train_dump_config) {
      std::cout << config.to_json().dump(2) << "\n";
      return 0;
    }
    TrainRunOptions run;
    run.resume = train_resume;
    run.serve = train_serve;
    run.serve_remote = train_serve_remote;
    const TrainResult result = run_train(config, run);
    std::cout << std::fixed << "trained " << result.final_iteration << " iterations ("
              << std::setprecision(1) << result.train_seconds << " s, " << result.its_per_second
              << " it/s on " << result.device << "), " << result.num_gaussians << " Gaussians\n";
    if (!result.test.views.empty()) {
      std::cout << "test PSNR " << std::setprecision(2) << result.test.mean_psnr << " dB, SSIM "
                << std::setprecision(4) << result.test.mean_ssim << " (" << result.test.views.size()
                << " views); train PSNR " << std::setprecision(2) << result.train.mean_psnr
                << " dB\n";
    } else {
      std::cout << "no test figures: " << result.protocol << "; training-view PSNR "
                << std::setprecision(2) << result.train.mean_psnr << " dB\n";
    }
    if (train_profile) {
      std::cout << "time per step by phase (mean over "
                << result.final_iteration - result.start_iteration
                << " steps; loop overhead outside the step " << std::setprecision(2)
                << result.loop_overhead * 1e3 << " ms):\n"
                << format_step_phases(result.step_phases);
    }
    std::cout << "outputs in " << config.output << ": point_cloud/iteration_"
              << result.final_iteration << "/point_cloud.ply test/ train/ metrics.json metrics.md"
              << " loss_curve.png config.json cameras.json"
              << (config.checkpoint_every > 0 ? " checkpoint.bin" : "") << "\n";
    return 0;
  }
  if (bench_session_cmd->parsed()) {
    std::cout << format_bench_session(run_bench_session(bench_session));
    return 0;
  }
  if (bench_train_cmd->parsed()) {
    const BenchTrainResult result = run_bench_train(bench_train);
    std::cout << format_bench_train(bench_train, result);
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
  if (suite_cmd->parsed()) {
    BenchSuiteOptions options = suite;
    if (!suite_config_path.empty()) {
      options.train = load_train_config(suite_config_path);
      auto given = [&](const char* name) { return suite_cmd->get_option(name)->count() > 0; };
      nlohmann::json flags = nlohmann::json::object();
      if (given("--seed")) flags["trainer"]["seed"] = suite.train.trainer.seed;
      if (given("--iterations")) flags["trainer"]["iterations"] = suite.train.trainer.iterations;
      if (given("--threads")) flags["threads"] = suite.train.threads;
      if (given("--lpips-model")) flags["lpips_model"] = suite.train.lpips_model;
      options.train.update_from_json(flags, "command line");
    }
    if (!suite_device.empty()) {
      nlohmann::json device = {{"device", suite_device}};
      options.train.update_from_json(device, "command line");
    }
    options.suite = suite_from_name(suite_name_flag);
    GLIMPSE_CHECK(suite_sheet_view.empty() || !suite_variants_path.empty() || !suite_inits.empty())
        << "bench: --sheet-view names the view of the ablation sheet: it needs --variants or "
           "--inits";
    if (!suite_variants_path.empty() || !suite_inits.empty()) {
      const std::vector<BenchVariant> variants =
          suite_variants_path.empty() ? init_variants(suite_inits, options.train)
                                      : load_bench_variants(suite_variants_path, options.train);
      const BenchAblationResult result = run_bench_ablation(options, variants, suite_sheet_view);
      std::cout << result.to_markdown(options) << "\noutputs in " << options.output_dir
                << ": ablation.md ablation.csv ablation.json ablation.png, one suite folder per "
                   "variant\n";
      if (result.num_failed > 0) {
        std::cerr << "glimpse bench: " << result.num_failed << " run(s) failed (see ablation.md)\n";
        return 1;
      }
      return 0;
    }
    const BenchSuiteResult result = run_bench_suite(options);
    std::cout << result.to_markdown(options) << "\noutputs in " << options.output_dir
              << ": results.json results.csv results.md report.html, one folder per scene\n";
    if (result.num_failed > 0) {
      std::cerr << "glimpse bench: " << result.num_failed << " of " << result.scenes.size()
                << " scene(s) failed (see results.md)\n";
      return 1;
    }
    return 0;
  }
  if (mvs_cli.command->parsed()) return run_mvs_cli(mvs_cli);
  if (export_cli.command->parsed()) return run_export_cli(export_cli);
  if (mesh_compare_cli.command->parsed()) return run_mesh_compare_cli(mesh_compare_cli);
  if (mesh_compare_cli.command->parsed()) return run_mesh_compare_cli(mesh_compare_cli);
  if (metrics_cli.command->parsed()) return run_metrics_cli(metrics_cli);
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
