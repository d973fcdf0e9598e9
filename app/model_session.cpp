// The read-only session over a splat file (see model_session.h).
#include "app/model_session.h"

#include "app/export_command.h"
#include "core/check.h"
#include "io/cameras_json.h"
#include "io/image_io.h"
#include "io/splat_formats.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <utility>

namespace glimpse {

namespace fs = std::filesystem;

ModelSession::ModelSession(const std::string& path, int render_threads)
    : ModelSession(read_splat_file(path), path, render_threads) {}

ModelSession::ModelSession(Gaussians gaussians, std::string name, int render_threads)
    : name_(std::move(name)), rasterizer_(make_cpu_rasterizer(render_threads)) {
  GLIMPSE_CHECK(gaussians.size() > 0) << name_ << " holds no Gaussians";
  gaussians.check(name_);
  auto snapshot = std::make_shared<SplatSnapshot>();
  snapshot->version = 1;
  snapshot->gaussians = std::move(gaussians);
  std::ostringstream s;
  s << "opened " << name_ << ": " << snapshot->gaussians.size() << " Gaussians, SH degree "
    << snapshot->gaussians.sh_degree << " (read-only model)";
  snapshot_ = std::move(snapshot);
  add_log(LogLevel::Info, s.str());
}

void ModelSession::add_log(LogLevel level, const std::string& message) {
  const std::lock_guard lock(mutex_);
  log_.push_back({log_.size() + 1, level, message});
}

SessionStatus ModelSession::status() {
  SessionStatus s;
  s.phase = SessionPhase::Finished;
  s.phase_detail = "model file (read-only)";
  s.phase_fraction = 1;
  s.num_gaussians = static_cast<int64_t>(snapshot_->gaussians.size());
  s.output = name_;
  s.device = "cpu";
  s.snapshot_version = snapshot_->version;
  const std::lock_guard lock(mutex_);
  s.log_sequence = log_.size();
  return s;
}

std::vector<SessionCurvePoint> ModelSession::curve(int) { return {}; }

std::vector<SessionTestPoint> ModelSession::tests() { return {}; }

std::vector<SessionLogEntry> ModelSession::log(uint64_t after_sequence) {
  const std::lock_guard lock(mutex_);
  std::vector<SessionLogEntry> out;
  for (const SessionLogEntry& e : log_)
    if (e.sequence > after_sequence) out.push_back(e);
  return out;
}

void ModelSession::load_cameras(const std::string& cameras_json) {
  std::vector<SessionView> views;
  try {
    const std::vector<CamerasJsonEntry> entries = read_cameras_json_entries(cameras_json);
    for (size_t i = 0; i < entries.size(); ++i) {
      SessionView v;
      v.index = static_cast<int>(i);
      v.name = entries[i].img_name;
      v.camera = entries[i].camera;
      views.push_back(std::move(v));
    }
  } catch (const Error& e) {
    add_log(LogLevel::Warning, "no cameras: " + error_message_without_location(e.what()));
    return;
  }
  add_log(LogLevel::Info,
          "cameras: " + std::to_string(views.size()) + " views from " + cameras_json);
  const std::lock_guard lock(mutex_);
  views_ = std::move(views);
}

SessionScene ModelSession::scene() {
  SessionScene scene;
  {
    const std::lock_guard lock(mutex_);
    scene.views = views_;
  }
  scene.root = name_;
  const std::optional<SplatFormat> format = splat_format_from_path(name_);
  scene.format = format ? splat_format_name(*format) : "model";
  return scene;
}

Image<uint8_t> ModelSession::thumbnail(int view_index, int max_side) {
  GLIMPSE_CHECK(max_side >= 1) << "thumbnail size must be at least 1 pixel, got " << max_side;
  Camera camera;
  {
    const std::lock_guard lock(mutex_);
    GLIMPSE_CHECK(view_index >= 0 && view_index < static_cast<int>(views_.size()))
        << "view " << view_index << " does not exist: " << name_ << " has " << views_.size()
        << " cameras";
    camera = views_[view_index].camera;
  }
  // A model has no photographs: the thumbnail is the model seen from the view's camera.
  const double s =
      std::min(1.0, static_cast<double>(max_side) / std::max(camera.width, camera.height));
  const int w = std::max(1, static_cast<int>(std::lround(camera.width * s)));
  const int h = std::max(1, static_cast<int>(std::lround(camera.height * s)));
  const ViewRender r = render(scaled_camera(camera, static_cast<double>(w) / camera.width,
                                            static_cast<double>(h) / camera.height, w, h),
                              -1);
  return to_bytes(r.render);
}

std::shared_ptr<const SplatSnapshot> ModelSession::snapshot(uint64_t newer_than) {
  return snapshot_->version > newer_than ? snapshot_ : nullptr;
}

void ModelSession::command(SessionCommand command) {
  GLIMPSE_FAIL() << "cannot " << session_command_name(command) << ": " << name_
                 << " is a model file, opened read-only (open a dataset folder to train)";
}

ViewRender ModelSession::render(const Camera& camera, int view_index) {
  RenderOptions options;
  options.sh_degree = snapshot_->gaussians.sh_degree;
  RenderOutput out;
  {
    const std::lock_guard lock(mutex_);
    GLIMPSE_CHECK(view_index >= -1 && view_index < static_cast<int>(views_.size()))
        << "view " << view_index << " does not exist: " << name_ << " has " << views_.size()
        << " cameras";
    const Camera& cam = view_index >= 0 ? views_[view_index].camera : camera;
    rasterizer_->forward(snapshot_->gaussians, cam, options, out);
  }
  ViewRender r;
  r.view_index = view_index;
  r.render = std::move(out.rgb);
  r.depth = std::move(out.depth);
  return r;
}

void ModelSession::export_model(const SessionExport& request) {
  GLIMPSE_CHECK(!request.output.empty()) << "export: no output file given";
  GLIMPSE_CHECK(request.format != "mesh")
      << "export: " << name_
      << " is a model without cameras, and a mesh is fused from the training views: use "
         "`glimpse export "
      << name_ << " -o mesh.ply --cameras cameras.json`";
  SplatFormat format;
  if (request.format.empty()) {
    const std::optional<SplatFormat> named = splat_format_from_path(request.output);
    GLIMPSE_CHECK(named.has_value()) << "export: cannot tell the format from " << request.output
                                     << " (.ply, .splat, .spz or .compressed.ply)";
    format = *named;
  } else {
    format = splat_format_from_name(request.format);
  }
  const Gaussians& all = snapshot_->gaussians;
  if (!request.crop) {
    write_splat_file(request.output, all, format);
  } else {
    const std::array<double, 6>& b = *request.crop;
    for (int a = 0; a < 3; ++a)
      GLIMPSE_CHECK(b[a] < b[a + 3]) << "export: the crop box needs min < max on every axis";
    const Gaussians cropped = crop_gaussians(all, WorldBox{{b[0], b[1], b[2]}, {b[3], b[4], b[5]}});
    GLIMPSE_CHECK(cropped.size() > 0)
        << "export: the crop box keeps none of the " << all.size() << " Gaussians of " << name_;
    write_splat_file(request.output, cropped, format);
  }
  add_log(LogLevel::Info,
          "exported " + std::string(splat_format_name(format)) + " to " + request.output);
}

std::string ModelSession::describe() { return "model: " + fs::path(name_).filename().string(); }

}  // namespace glimpse
