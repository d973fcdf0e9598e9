// The viewer's logic without a window or OpenGL: the choice of training views, the navigation
// camera (orbit and fly, snapping to a dataset camera), the export crop box, the curve and log
// buffers, the connection-retry backoff and the priors presets. Tested in
// tests/app/viewer/ui_state_test.cpp.
#pragma once

#include "app/session_client.h"
#include "app/train_config.h"
#include "core/camera.h"

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace glimpse::viewer {

// [SECTION] training views ----------------------------------------------------------------------

// A sparse-view run trains on 3 to 9 photographs.
inline constexpr int kMinTrainViews = 3;
inline constexpr int kMaxTrainViews = 9;

class ViewSelection {
 public:
  // The scene's own training views (its train flags), at most kMaxTrainViews of them.
  void reset(const SessionScene& scene);
  // Picks or drops `view`. Returns "" when done, else why not (out of range, already 9 picked).
  std::string toggle(int view);
  bool selected(int view) const;
  const std::vector<int>& views() const { return views_; }  // ascending
  int num_views() const { return num_views_; }
  // "" when a run may start with this choice, else what is missing ("pick 2 more views").
  std::string problem() const;

 private:
  int num_views_ = 0;
  std::vector<int> views_;
};

// [SECTION] navigation camera -------------------------------------------------------------------

// The world's up direction seen by the cameras: minus the mean of their y axes (OpenCV cameras
// look down +z with y down). (0, -1, 0) when there are none or they cancel out.
Vec3<double> up_from_cameras(const std::vector<Camera>& cameras);

// The viewer's camera. Its pose is the state (world_from_cam rotation and position) and every
// motion is a rotation or translation of it, so snapping to a dataset camera is exact and the
// roll of a snapped camera survives orbiting. The orbit target lies `distance` ahead.
class NavCamera {
 public:
  // Level camera at `eye` looking at `target` (roll 0 about `up`).
  void look_at(const Vec3<double>& eye, const Vec3<double>& target);
  // The pose of `camera` exactly (camera(w, h) returns its rotation and translation bit for bit
  // until the next motion) and its lens: the field of view follows the camera from now on.
  // `orbit_distance`: how far ahead the orbit target lies.
  void snap_to(const Camera& camera, double orbit_distance);

  // Orbit about the target: `yaw` radians about the world up through the target, then `pitch`
  // about the camera's right axis (positive: the camera rises and looks down more). The
  // elevation stops kMaxElevation short of the poles.
  void orbit(double yaw, double pitch);
  // Fly look: turns the camera in place (positive pitch looks up); the target moves along.
  void look(double yaw, double pitch);
  // Moves by `in_cam` (x right, y down, z forward, world units); the target moves along.
  void move(const Vec3<double>& in_cam);
  // Drags the scene by (dx, dy) pixels at the target's depth, for a lens of `focal` pixels.
  void pan(double dx, double dy, double focal);
  // Multiplies the distance to the target by `factor` (> 0), moving the camera along its axis.
  void dolly(double factor);

  void set_up(const Vec3<double>& up);  // normalised; ignored when zero
  const Vec3<double>& up() const { return up_; }
  void set_fov_y_degrees(double fov);  // the lens when not snapped; clamped to [10, 120]
  double fov_y_degrees() const { return fov_y_degrees_; }
  // Forgets the snapped camera's lens (back to fov_y_degrees).
  void reset_lens() { lens_.reset(); }

  const Mat3<double>& world_from_cam() const { return world_from_cam_; }
  const Vec3<double>& position() const { return position_; }
  double distance() const { return distance_; }
  Vec3<double> forward() const;  // the camera's +z in the world
  Vec3<double> right() const;    // +x
  Vec3<double> target() const { return position_ + forward() * distance_; }
  // Angle of the viewing direction above the horizon, radians.
  double elevation() const;
  // Whether the pose is still exactly that of the last snap_to.
  bool at_snapped_pose() const { return exact_translation_.has_value(); }

  // The camera for a width x height viewport: the pose, and the snapped camera's lens scaled to
  // fit the viewport (its whole image visible, centred), or a vertical field of view.
  Camera camera(int width, int height) const;

  static constexpr double kMaxElevation = 1.5533430342749532;  // 89 degrees

 private:
  void rotate_about(const Vec3<double>& axis, double angle, const Vec3<double>& pivot);
  void moved() { exact_translation_.reset(); }

  Mat3<double> world_from_cam_ = Mat3<double>::identity();
  Vec3<double> position_{0, 0, -3};
  double distance_ = 3;
  Vec3<double> up_{0, -1, 0};
  double fov_y_degrees_ = 50;
  std::optional<Camera> lens_;                     // the snapped camera's intrinsics and size
  std::optional<Vec3<double>> exact_translation_;  // its cam_from_world translation
};

// Rotation by `angle` radians about the unit `axis` (Rodrigues).
Mat3<double> axis_angle_rotation(const Vec3<double>& axis, double angle);

// A robust frame of a point cloud ([N, 3]): the centre of the 2nd..98th percentile box and the
// half diagonal of that box (1 when empty).
struct PointsFrame {
  Vec3<double> center;
  double radius = 1;
};
PointsFrame frame_points(const std::vector<float>& means);

// Median depth along the camera's axis of the points in front of it (`fallback` when none).
double median_depth(const Camera& camera, const std::vector<float>& means, double fallback);

// [SECTION] crop box ----------------------------------------------------------------------------

struct CropBox {
  bool enabled = false;
  std::array<double, 3> min{-1, -1, -1};
  std::array<double, 3> max{1, 1, 1};

  // Around the points' 1st..99th percentiles, padded by 5% of the size (a unit box when empty).
  void fit(const std::vector<float>& means);
  bool contains(double x, double y, double z) const;
  // After an edit: where min passed max on an axis, both become their mean +- a tiny margin.
  void sanitize();
  int64_t count_inside(const std::vector<float>& means) const;
  // SessionExport::crop: nullopt when disabled.
  std::optional<std::array<double, 6>> export_crop() const;
  // The 12 edges as 24 points (for drawing).
  std::vector<Vec3<double>> edges() const;
};

// [SECTION] curves ------------------------------------------------------------------------------

// The training curves accumulated from SessionClient::curve, as floats for ImGui::PlotLines.
class CurveBuffers {
 public:
  // Appends the points newer than last_iteration(); a point at or below it starts a new run
  // (the buffers are cleared first).
  void append(const std::vector<SessionCurvePoint>& points);
  void clear();
  int last_iteration() const { return iterations_.empty() ? -1 : iterations_.back(); }
  size_t size() const { return iterations_.size(); }
  const std::vector<int>& iterations() const { return iterations_; }
  const std::vector<float>& loss() const { return loss_; }
  const std::vector<float>& psnr() const { return psnr_; }
  const std::vector<float>& gaussians() const { return gaussians_; }
  const std::vector<float>& step_ms() const { return step_ms_; }

 private:
  std::vector<int> iterations_;
  std::vector<float> loss_, psnr_, gaussians_, step_ms_;
};

// At most `max_points` values, each the mean of its bucket (a curve of 100k steps plots in
// ImGui at the window's width).
std::vector<float> downsample_mean(const std::vector<float>& values, size_t max_points);

// [SECTION] log ---------------------------------------------------------------------------------

// The log panel's entries: the session's (by sequence) and the viewer's own (failed commands,
// files that do not open), in arrival order, the last `capacity` kept.
class LogBuffer {
 public:
  explicit LogBuffer(size_t capacity = 2000) : capacity_(capacity) {}
  // Session entries with a sequence above the last seen; a sequence below it means a new session
  // (its numbering restarts), so last_sequence() follows it.
  void append(const std::vector<SessionLogEntry>& entries);
  void add_local(LogLevel level, const std::string& message);
  // A new session: its sequence numbers start over (the entries stay).
  void restart_sequence() { last_sequence_ = 0; }
  uint64_t last_sequence() const { return last_sequence_; }
  const std::deque<SessionLogEntry>& entries() const { return entries_; }
  size_t num_errors() const { return num_errors_; }

 private:
  void push(SessionLogEntry entry);
  size_t capacity_;
  uint64_t last_sequence_ = 0;
  size_t num_errors_ = 0;
  std::deque<SessionLogEntry> entries_;
};

// [SECTION] connection retry --------------------------------------------------------------------

// Exponential backoff for a lost connection: first retry after `first` seconds, doubling up to
// `max`. Times are seconds on any monotonic clock.
class RetryBackoff {
 public:
  explicit RetryBackoff(double first = 1.0, double max = 30.0) : first_(first), max_(max) {}
  void failed(double now);
  void succeeded();
  bool connected() const { return failures_ == 0; }
  int failures() const { return failures_; }
  // Whether a try is due (always when connected).
  bool due(double now) const { return failures_ == 0 || now >= next_try_; }
  double seconds_left(double now) const;
  double delay() const { return delay_; }  // the wait after the last failure
  // "" when connected, else "connection lost, retrying in N s" (or "retrying now").
  std::string message(double now) const;

 private:
  double first_, max_;
  int failures_ = 0;
  double delay_ = 0;
  double next_try_ = 0;
};

// [SECTION] settings before a run ---------------------------------------------------------------

// The priors presets offered before start (names in menu order).
const std::vector<std::string>& priors_preset_names();
// Sets config.priors to preset `index` (throws glimpse::Error for an unknown index).
void apply_priors_preset(int index, TrainConfig& config);

// [SECTION] statistics --------------------------------------------------------------------------

struct FrameTimeSummary {
  double mean_ms = 0, median_ms = 0, p95_ms = 0, min_ms = 0, max_ms = 0;
  size_t frames = 0;
};
FrameTimeSummary summarize_frame_times(std::vector<double> ms);

// Population variance of all samples of an 8-bit image (0 for an empty one): a blank screenshot
// has (almost) none.
double pixel_variance(const Image<uint8_t>& image);
// Mean absolute difference of two images of the same shape (throws otherwise).
double mean_abs_difference(const Image<uint8_t>& a, const Image<uint8_t>& b);

}  // namespace glimpse::viewer
