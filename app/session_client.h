// What every front end (the CLI, the viewer, the HTTP link) sees of a reconstruction session:
// its status, curves, log, scene, throttled snapshots of the Gaussians, renders of any camera and
// the commands it accepts. A local session (app/session.h) and a remote one over the HTTP link
// (app/http_link.h) implement the same interface, so the viewer cannot tell them apart and never
// reaches into the trainer (ARCHITECTURE.md, convention 8).
#pragma once

#include "core/camera.h"
#include "core/image.h"
#include "core/log.h"
#include "renderer/gaussians.h"

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace glimpse {

// Where a session is. Loading reads the dataset (and runs COLMAP on a folder of photographs);
// Ready waits for start (the views and settings may still change); Initialising builds the first
// Gaussians (MVS, COLMAP triangulation, visual hull); DepthPriors makes the depth maps; Training
// steps (SessionStatus::paused says whether it waits); Evaluating renders the test views; Finished,
// Stopped and Failed are final.
enum class SessionPhase {
  Idle,
  Loading,
  Ready,
  Initialising,
  DepthPriors,
  Training,
  Evaluating,
  Exporting,
  Finished,
  Stopped,
  Failed
};
const char* session_phase_name(SessionPhase phase);             // "idle", "loading", ...
SessionPhase session_phase_from_name(const std::string& name);  // throws glimpse::Error
bool session_phase_is_final(SessionPhase phase);                // Finished, Stopped, Failed

inline constexpr double kSessionNaN = std::numeric_limits<double>::quiet_NaN();

struct SessionStatus {
  SessionPhase phase = SessionPhase::Idle;
  std::string phase_detail;    // e.g. "multi-view stereo, view 2 of 3"
  double phase_fraction = -1;  // progress of the phase in [0, 1]; -1 when unknown
  bool paused = false;         // Training: waiting for resume or a single step
  int iteration = 0;           // last completed step
  int total_iterations = 0;    // the run's final iteration
  int64_t num_gaussians = 0;
  double its_per_second = 0;  // moving average
  double loss = 0;            // moving average of the training loss
  double psnr = 0;            // moving average of the training-view PSNR (dB, unmasked)
  double eta_seconds = 0;
  double step_ms = 0;                // mean step time over the recent steps
  std::array<double, 9> phase_ms{};  // the same by phase (StepPhases::kNames order)
  double test_psnr = kSessionNaN;    // the last test evaluation (periodic or final)
  std::string error;                 // Failed: what went wrong
  std::string dataset;               // the dataset folder
  std::string output;                // the run folder
  std::string device;                // "cpu" or "cuda"
  uint64_t snapshot_version = 0;     // increases with every published snapshot
  uint64_t log_sequence = 0;         // sequence number of the newest log entry (0: none)
};

// One training step, for the curves.
struct SessionCurvePoint {
  int iteration = 0;
  double loss = 0;
  double psnr = 0;  // training view, unmasked
  int64_t num_gaussians = 0;
  double step_ms = 0;
};

// One evaluation of the test views.
struct SessionTestPoint {
  int iteration = 0;
  double psnr = 0;
  double ssim = 0;
};

struct SessionLogEntry {
  uint64_t sequence = 0;  // 1, 2, ... in the order logged
  LogLevel level = LogLevel::Info;
  std::string message;
};

struct SessionView {
  int index = 0;     // into the dataset's views
  std::string name;  // image file name
  Camera camera;     // intrinsics at the loaded size, cam_from_world
  bool train = false;
  bool test = false;
};

// What was loaded: empty views before Loading ends.
struct SessionScene {
  std::string root;
  std::string format;  // "llff", "dtu", "colmap", ...
  std::vector<SessionView> views;
  double near_depth = 0, far_depth = 0;  // 0 when unknown
};

// The Gaussians at one iteration. Local snapshots carry the full model; remote ones what the
// link's compact encoding keeps (app/http_link.h says what).
struct SplatSnapshot {
  uint64_t version = 0;
  int iteration = 0;
  Gaussians gaussians;
};

// The rasterizer's own images for a camera: render and depth always, ground truth and error when
// the camera is a dataset view with its image.
struct ViewRender {
  int view_index = -1;  // the dataset view rendered, -1 for a free camera
  int iteration = 0;    // of the Gaussians rendered
  Image<float> render;  // RGB [0, 1]
  Image<float> depth;   // expected depth, 1 channel (0 where nothing was drawn)
  Image<float> truth;   // RGB, empty for a free camera
  Image<float> error;   // |render - truth| averaged over channels, 1 channel; empty without truth
  double psnr = kSessionNaN;  // against truth
};

enum class SessionCommand { Start, Pause, Resume, Step, Stop, Save };
const char* session_command_name(SessionCommand command);           // "start", "pause", ...
SessionCommand session_command_from_name(const std::string& name);  // throws glimpse::Error

// An export of the current Gaussians.
struct SessionExport {
  std::string output;  // the file to write
  std::string format;  // ply, splat, spz, compressed-ply, mesh; empty: from the output's name
  // Keep only the Gaussians whose centre lies inside [min, max] (splats and mesh).
  std::optional<std::array<double, 6>> crop;  // min x, y, z, max x, y, z (world)
};

// Every call may throw glimpse::Error: a command that the phase does not allow, a view index out
// of range, a lost connection (remote), a refused token. Calls are thread-safe.
class SessionClient {
 public:
  virtual ~SessionClient() = default;

  virtual SessionStatus status() = 0;
  // Curve points with iteration > after_iteration (the whole curve for -1). Bounded: a long run
  // keeps every point, but one call returns at most 100,000.
  virtual std::vector<SessionCurvePoint> curve(int after_iteration) = 0;
  virtual std::vector<SessionTestPoint> tests() = 0;
  // Log entries with sequence > after_sequence (the last 1,000 at most are kept).
  virtual std::vector<SessionLogEntry> log(uint64_t after_sequence) = 0;
  virtual SessionScene scene() = 0;
  // A view's image reduced to fit max_side x max_side, RGB 8-bit; throws for a bad index.
  virtual Image<uint8_t> thumbnail(int view_index, int max_side) = 0;
  // The newest snapshot when its version is greater than `newer_than`, else null. Asking is what
  // makes a running session publish: an unwatched run copies nothing.
  virtual std::shared_ptr<const SplatSnapshot> snapshot(uint64_t newer_than) = 0;
  virtual void command(SessionCommand command) = 0;
  // Renders the current Gaussians from `camera`; with view_index >= 0 the camera is that view's
  // and ground truth and error come too.
  virtual ViewRender render(const Camera& camera, int view_index) = 0;
  // Writes the current Gaussians (blocking until written; the run pauses meanwhile).
  virtual void export_model(const SessionExport& request) = 0;
  // A description for the UI: "local: <dataset>" or "remote: http://127.0.0.1:7007".
  virtual std::string describe() = 0;
};

}  // namespace glimpse
