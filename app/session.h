// The local session: one reconstruction (dataset, view selection, priors, trainer, evaluation,
// exports) run by a worker thread that drains commands between training steps and publishes its
// status, curves, log and throttled snapshots of the Gaussians (ARCHITECTURE.md, convention 8).
// `glimpse train`, `glimpse bench`, the viewer and the HTTP link are its clients.
#pragma once

#include "app/session_client.h"
#include "app/train_command.h"
#include "app/train_config.h"

#include <memory>
#include <vector>

namespace glimpse {

struct SessionOptions {
  TrainConfig config;
  TrainRunOptions run;  // resume, progress display, hooks (as for run_train)
  // Start training as soon as the dataset is loaded (the CLI); false waits for
  // SessionCommand::Start in the Ready phase (the viewer, to choose views and settings first).
  bool start = true;
  // Least seconds between two snapshots of the Gaussians while someone asks for them.
  double snapshot_interval = 0.25;
  // Curve points kept (every step up to this many; then every other one is dropped).
  int max_curve_points = 200000;
};

class Session final : public SessionClient {
 public:
  // Starts the worker, which loads the dataset at once.
  explicit Session(SessionOptions options);
  // Stops the run as SessionCommand::Stop does (a run that had begun training saves its splats)
  // and joins the worker; a stage in progress (loading, MVS) ends first.
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // In the Ready phase only: the training views (TrainConfig::train_views rules) and settings
  // that do not change what was loaded. Throw glimpse::Error and keep the old ones when invalid.
  void set_train_views(const std::vector<int>& ids);
  void set_config(const TrainConfig& config);
  TrainConfig config();

  // Blocks until the run has ended (Finished, Stopped or Failed; a session that waits for Start
  // waits too). Returns the result of a finished run; rethrows the error of a failed one; throws
  // glimpse::Error for a stopped one.
  TrainResult wait();

  SessionStatus status() override;
  std::vector<SessionCurvePoint> curve(int after_iteration) override;
  std::vector<SessionTestPoint> tests() override;
  std::vector<SessionLogEntry> log(uint64_t after_sequence) override;
  SessionScene scene() override;
  Image<uint8_t> thumbnail(int view_index, int max_side) override;
  std::shared_ptr<const SplatSnapshot> snapshot(uint64_t newer_than) override;
  // Start (Ready), Pause, Resume and Step (Training), Stop (before the final evaluation: saves
  // the splats and checkpoint when training had begun), Save (Training: the splat PLY and the
  // checkpoint of the current iteration). Throws when the phase does not allow the command.
  void command(SessionCommand command) override;
  ViewRender render(const Camera& camera, int view_index) override;
  void export_model(const SessionExport& request) override;
  std::string describe() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glimpse
