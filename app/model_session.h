// A read-only session over a splat file (reference PLY, .splat, SPZ, compressed PLY): front ends
// open a trained model like any session (phase Finished, the model as its one snapshot, renders
// by the CPU rasterizer, exports through io/splat_formats.h); training commands are refused.
#pragma once

#include "app/session_client.h"
#include "renderer/rasterizer.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace glimpse {

class ModelSession : public SessionClient {
 public:
  // Reads `path` with read_splat_file; throws glimpse::Error naming the file when it does not
  // load or holds no Gaussians. `render_threads`: CPU rasterizer threads (0: all).
  explicit ModelSession(const std::string& path, int render_threads = 0);
  // Gaussians already in memory, called `name` in the log and describe().
  ModelSession(Gaussians gaussians, std::string name, int render_threads = 0);

  // The cameras of a run's cameras.json (io/cameras_json.h) as the scene's views, so front ends
  // draw their frustums and snap to them; renders of a view use its camera (no ground truth: a
  // model has no images). A file that does not read is logged as a warning and changes nothing.
  void load_cameras(const std::string& cameras_json);

  SessionStatus status() override;
  std::vector<SessionCurvePoint> curve(int after_iteration) override;
  std::vector<SessionTestPoint> tests() override;
  std::vector<SessionLogEntry> log(uint64_t after_sequence) override;
  SessionScene scene() override;
  // A view of load_cameras: the model rendered from its camera (a model has no photographs);
  // throws for any other index.
  Image<uint8_t> thumbnail(int view_index, int max_side) override;
  std::shared_ptr<const SplatSnapshot> snapshot(uint64_t newer_than) override;
  // Throws for every command, saying the model is read-only.
  void command(SessionCommand command) override;
  // view_index: -1 (the camera given) or a view of load_cameras (its camera); renders with the
  // model's SH degree on black.
  ViewRender render(const Camera& camera, int view_index) override;
  // Splat formats only (a mesh needs the cameras of a run: `glimpse export --cameras`).
  void export_model(const SessionExport& request) override;
  std::string describe() override;

 private:
  void add_log(LogLevel level, const std::string& message);

  std::string name_;
  std::shared_ptr<const SplatSnapshot> snapshot_;
  std::mutex mutex_;  // guards log_ and the rasterizer (one render at a time)
  std::vector<SessionLogEntry> log_;
  std::vector<SessionView> views_;  // from load_cameras (under mutex_)
  std::unique_ptr<Rasterizer> rasterizer_;
};

}  // namespace glimpse
