// `glimpse train`: reconstructs an LLFF capture with 3D Gaussian Splatting (Kerbl et al. 2023)
// from depth back-projected or random Gaussians, with progress display, checkpoints and resume,
// splat PLY output in the reference layout, and test-view evaluation (PSNR, SSIM, images, plot).
#pragma once

#include "app/progress.h"
#include "app/session_client.h"
#include "app/train_config.h"
#include "optim/trainer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace glimpse {

// How progress is shown while training.
enum class ProgressMode {
  Auto,         // a line redrawn in place when stderr is a terminal, else log lines
  Interactive,  // always the in-place line
  Logged,       // always log lines (every 10% of the run, at most one per 2 s)
  Silent,       // log lines only at the start and the end (a session whose client shows it)
};

// What a run does besides its configuration (not saved in config.json).
struct TrainRunOptions {
  bool resume = false;  // continue from <output>/checkpoint.bin (its configuration must match)
  ProgressMode progress = ProgressMode::Auto;
  std::string progress_label = "train";  // the progress lines' prefix
  // Appended to each progress line when set (see ProgressOptions::context).
  std::function<std::string(const ProgressFigures&)> progress_context;
  // Called once the trainer exists (after a resumed checkpoint is loaded, before the first
  // step), e.g. to add loss terms.
  std::function<void(Trainer&)> prepare;
  // Called as each stage begins (loading, initialising, depth priors, training, evaluating), on
  // the thread running the stage.
  std::function<void(SessionPhase, const std::string& detail)> on_phase;
  // "host:port": serve the run over the HTTP link (app/http_link.h) for remote viewers; a token
  // is made and logged. A host that is not loopback needs serve_remote.
  std::string serve;
  bool serve_remote = false;
  std::string serve_token;  // the token to require (empty: a new random one)
};

// Quality of one rendered view against its image. Renders are clamped to [0, 1]. Under the DTU
// protocol (masked) PSNR is over the object mask's pixels and the SSIMs and LPIPS compare render
// and ground truth composited onto white outside the mask (eval/metrics.h).
struct ViewMetrics {
  int index = 0;            // index into the dataset's views
  std::string name;         // image file name
  double psnr = 0;          // dB (+inf when exact)
  double ssim = 0;          // SSIM_gs: 3DGS's 11x11 Gaussian window (eval ssim_3dgs)
  double ssim_sk = 0;       // SSIM_sk: scikit-image's 7x7 box window, data_range 1
  double lpips = kNaN;      // LPIPS-VGG on [0, 1] inputs; NaN when unavailable
  double avg_error = kNaN;  // RegNeRF's average error (needs LPIPS); NaN when unavailable
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
};

struct SplitMetrics {
  std::vector<ViewMetrics> views;
  // Means over the finite values (NaN when there are none, e.g. LPIPS without a model).
  double mean_psnr = 0;
  double mean_ssim = 0;
  double mean_ssim_sk = 0;
  double mean_lpips = ViewMetrics::kNaN;
  double mean_avg_error = ViewMetrics::kNaN;
};

struct TrainResult {
  TrainConfig config;      // resolved configuration
  std::string device;      // "cpu" or "cuda": where the rasterizer ran
  std::string rasterizer;  // the backend's name
  std::string dataset_root;
  std::string dataset_format;  // "llff", "dtu", ...
  int num_dataset_views = 0;
  int image_width = 0, image_height = 0;  // of the first view (the evaluation resolution)
  std::string protocol;         // describe_protocol() of the split, or how the split was chosen
  bool masked_metrics = false;  // DTU protocol: metrics on the object masks
  std::string training_masks;   // the masks the training views carried, and how many pixels
  std::string lpips;  // "LPIPS-VGG v0.1, inputs [0,1], weights <file>" or "unavailable: <why>"
  int64_t num_initial_gaussians = 0;
  double scene_extent = 0;  // the scale the position lr and densification were relative to
  double position_lr = 0;   // the initial position lr used, relative to scene_extent
  std::string init_method;  // the initialiser used (config.init, or what auto picked)
  int64_t init_points = 0;  // points it produced
  double init_seconds = 0;  // the initialisation stage, fallbacks included
  std::vector<std::string> init_notes;   // initialisers skipped or failed, and why
  std::string depth_source = "none";     // the depth prior used (DepthSource name)
  int depth_prior_views = 0;             // training views with a depth prior
  double depth_seconds = 0;              // the depth-prior stage
  std::vector<std::string> depth_notes;  // priors that could not be made, and why
  std::vector<std::string> prior_terms;  // loss terms and regularisers on in this run
  int start_iteration = 0;               // 0, or the iteration of the resumed checkpoint
  int final_iteration = 0;
  int64_t num_gaussians = 0;  // after training
  // Optimisation steps only, of the whole run: a run resumed from a checkpoint that kept its
  // history (timings, curves) adds the earlier processes' steps; from an older one, its own.
  double train_seconds = 0;
  double wall_seconds = 0;    // the whole command (this process)
  double its_per_second = 0;  // steps / train_seconds, over the same steps
  // Mean seconds per step by phase (optim/trainer.h StepPhases), and the loop's own time per step
  // outside Trainer::step (progress, loss-curve bookkeeping; periodic saves and tests excluded).
  StepPhases step_phases;
  double loop_overhead = 0;
  SplitMetrics test, train;
  std::vector<std::pair<int, double>> test_psnr_history;  // (iteration, mean test PSNR)
  std::vector<std::pair<int, double>> test_ssim_history;  // (iteration, mean test SSIM_gs)
  // Seconds since the run started (a resumed run's earlier processes included) at each entry of
  // test_psnr_history, without the periodic evaluations' own time (what a run without them would
  // have taken to get there).
  std::vector<double> test_seconds_history;
  double final_train_wall_seconds = 0;  // the same clock when the last step ended
  std::string ply_path;                 // the final point cloud

  nlohmann::json to_json() const;
  std::string to_markdown() const;
};

// Runs the command as the client of a session (app/session.h) that starts at once. Validates the
// configuration, device, dataset, output folder and (with resume) the checkpoint before writing
// anything; then writes, under config.output:
//   config.json, cameras.json                    before the first step
//   point_cloud/iteration_<N>/point_cloud.ply    every save_every iterations and at the end
//   checkpoint.bin                               every checkpoint_every iterations and at the end
//   test/ and train/ {renders,gt,depth,error}/<stem>.png, loss_curve.png, metrics.md,
//   metrics.json (last)                          after the final step
// Every file is written atomically. A DivergenceError is rethrown after logging, with the state
// of the last checkpoint in its message; nothing is written after it.
TrainResult run_train(const TrainConfig& config, const TrainRunOptions& run = {});

// A checkpoint's metadata: the configuration it was written with and the run's history up to
// it (null for checkpoints written before the history was kept). Throws glimpse::Error naming
// `what` when it is not JSON.
struct SavedRunMetadata {
  nlohmann::json config;
  nlohmann::json history;
};
SavedRunMetadata parse_checkpoint_metadata(const std::string& metadata, const std::string& what);
// Whether the checkpoint at `path` keeps the run's history, so that resuming it (to evaluate
// again, say) reports the whole run's times and curves. Throws glimpse::Error on a corrupt file.
bool checkpoint_has_history(const std::string& path);

// run_train in stages, for a session (app/session.h) that steps it, pauses between steps,
// renders and saves on request. Not thread-safe: one thread calls everything.
class TrainRun {
 public:
  TrainRun(const TrainConfig& config, TrainRunOptions run = {});
  ~TrainRun();
  TrainRun(const TrainRun&) = delete;
  TrainRun& operator=(const TrainRun&) = delete;

  // Checks the configuration, device, dataset and checkpoint, reads the dataset (COLMAP structure
  // from motion for a folder of photographs) and chooses the split. Writes nothing (but COLMAP's
  // workspace).
  void load();
  // Between load and prepare: other training views (config.train_views rules), or other
  // settings that do not change what was loaded. Both throw and keep the old ones when invalid.
  void set_train_views(const std::vector<int>& ids);
  void set_config(const TrainConfig& config);
  // The output folder, the initial Gaussians, the depth priors, the trainer (and the resumed
  // checkpoint), config.json and cameras.json.
  void prepare();
  bool done() const;  // every iteration trained
  // One step with the run's periodic saves, checkpoints and test evaluations.
  StepStats step();
  // The splat PLY of the current iteration (and the checkpoint when checkpoints are on).
  void save();
  // The final save, the evaluation, metrics.json/.md and loss_curve.png.
  TrainResult finish();
  // The current Gaussians seen from `camera` (training's render options, active SH degree).
  RenderOutput render(const Camera& camera);

  const TrainConfig& config() const;
  const Dataset& dataset() const;  // after load
  const std::vector<int>& train_ids() const;
  const std::vector<int>& test_ids() const;
  const TrainResult& result() const;  // filled as the stages run
  bool prepared() const;
  const Trainer& trainer() const;           // after prepare
  const ProgressFigures* progress() const;  // smoothed figures; null before prepare

 private:
  void choose_split();
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace glimpse
