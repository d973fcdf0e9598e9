// The viewer's window, panels, navigation and scripted modes (see viewer_app.h).
#include "app/viewer/viewer_app.h"

#include "app/session.h"
#include "app/train_config.h"
#include "app/viewer/gl.h"
#include "app/viewer/session_pump.h"
#include "app/viewer/session_source.h"
#include "app/viewer/splat_display.h"
#include "app/viewer/ui_state.h"
#include "core/check.h"
#include "core/timer.h"
#include "io/image_io.h"
#include "optim/trainer.h"
#include "renderer/kernels/sh.h"

#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <imgui_stdlib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <future>
#include <iostream>
#include <limits>
#include <map>
#include <random>

namespace glimpse::viewer {

namespace {

// [SECTION] helpers -----------------------------------------------------------------------------

constexpr float kPi = 3.14159265358979f;

const std::array<float, 4> kTrainColour{0.25f, 0.85f, 0.35f, 1.f};
const std::array<float, 4> kTestColour{0.95f, 0.55f, 0.15f, 1.f};
const std::array<float, 4> kOtherColour{0.6f, 0.6f, 0.6f, 0.8f};
const std::array<float, 4> kSelectedColour{1.f, 1.f, 0.2f, 1.f};
const std::array<float, 4> kCropColour{0.3f, 0.7f, 1.f, 1.f};
const ImVec4 kErrorText{1.f, 0.35f, 0.35f, 1.f};
const ImVec4 kWarningText{1.f, 0.8f, 0.3f, 1.f};
const ImVec4 kDimText{0.65f, 0.65f, 0.65f, 1.f};

ImTextureID texture_id(const Texture& t) {
  return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.id()));
}

// An RGB (or grey) float image in [0, 1], as 8 bits.
void upload_float(Texture& texture, const Image<float>& image) {
  if (image.empty()) return;
  const Image<uint8_t> bytes = glimpse::to_bytes(image);
  texture.upload(bytes.data(), image.width(), image.height(), image.channels());
}

// Expected depth coloured between its 2nd and 98th percentiles (invalid pixels black).
Image<float> colour_depth(const Image<float>& depth) {
  std::vector<float> valid;
  for (float d : depth.vector())
    if (d > 0 && std::isfinite(d)) valid.push_back(d);
  if (valid.size() < 2) return Image<float>(depth.width(), depth.height(), 3);
  std::sort(valid.begin(), valid.end());
  const float lo = valid[valid.size() / 50], hi = valid[valid.size() - 1 - valid.size() / 50];
  return colorize_depth(depth, lo, hi > lo ? hi : lo * 1.01f + 1e-6f);
}

// Error (1 channel, |render - truth| averaged) scaled by 4 for visibility, grey.
Image<float> amplify(const Image<float>& error) {
  Image<float> out = error;
  for (float& v : out.vector()) v = std::min(1.f, 4.f * v);
  return out;
}

std::string format_seconds(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "-";
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(s) / 60,
                  static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%d h %02d min", static_cast<int>(s) / 3600,
                  static_cast<int>(s) / 60 % 60);
  return buf;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A synthetic cloud for the benchmark: N Gaussians in a unit ball, random colours, opacities and
// rotations, sized so that their quads cover the ball's silhouette about 8 times over whatever N
// (N 36 sigma^2 / pi = 8 seen from 3 units: the fill stays the same, the vertex work grows).
Gaussians synthetic_cloud(int64_t n) {
  Gaussians g;
  g.resize(static_cast<size_t>(n));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f), u01(0.f, 1.f);
  const float log_scale =
      0.5f * std::log(kPi * 8.f / (36.f * static_cast<float>(std::max<int64_t>(n, 1))));
  for (int64_t i = 0; i < n; ++i) {
    float x, y, z;
    do {
      x = u(rng), y = u(rng), z = u(rng);
    } while (x * x + y * y + z * z > 1.f);
    g.means[3 * i] = x, g.means[3 * i + 1] = y, g.means[3 * i + 2] = z;
    for (int a = 0; a < 3; ++a) g.log_scales[3 * i + a] = log_scale + 0.5f * u(rng);
    for (int a = 0; a < 4; ++a) g.quats[4 * i + a] = u(rng);
    g.opacity_logits[i] = 3.f * u(rng);
    for (int c = 0; c < 3; ++c) g.sh[3 * i + c] = static_cast<float>((u01(rng) - 0.5) / kShC0);
  }
  return g;
}

// Half the median distance from each camera to its nearest neighbour (0.05 x the scene scale
// when that is smaller or there is one camera): frustums that do not cover each other.
double frustum_depth_for(const std::vector<Camera>& cameras, double scene_scale) {
  std::vector<double> nearest;
  for (size_t i = 0; i < cameras.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < cameras.size(); ++j)
      if (i != j) best = std::min(best, norm(cameras[i].center() - cameras[j].center()));
    if (std::isfinite(best) && best > 0) nearest.push_back(best);
  }
  const double cap = 0.05 * scene_scale;
  if (nearest.empty()) return cap;
  std::nth_element(nearest.begin(), nearest.begin() + nearest.size() / 2, nearest.end());
  return std::min(cap, 0.5 * nearest[nearest.size() / 2]);
}

bool same_camera(const Camera& a, const Camera& b) {
  if (a.width != b.width || a.height != b.height || a.fx != b.fx || a.fy != b.fy || a.cx != b.cx ||
      a.cy != b.cy)
    return false;
  for (int r = 0; r < 3; ++r) {
    if (a.translation[r] != b.translation[r]) return false;
    for (int c = 0; c < 3; ++c)
      if (a.rotation[r][c] != b.rotation[r][c]) return false;
  }
  return true;
}

bool same_settings(const SplatDrawSettings& a, const SplatDrawSettings& b) {
  return a.scale == b.scale && a.crop == b.crop && a.near == b.near &&
         (!a.crop || (a.crop_min == b.crop_min && a.crop_max == b.crop_max));
}

void glfw_error(int code, const char* description) {
  std::fprintf(stderr, "glimpse-viewer: GLFW error %d: %s\n", code, description);
}

// [SECTION] the application ---------------------------------------------------------------------

enum class DisplayMode { Splats, Rasterizer };
enum class NavMode { Orbit, Fly };

// The scripted screenshot run's steps.
enum class Script { None, WaitScene, WaitPaused, ShootStart, WaitFinished, ShootEnd, Done };

class ViewerApp {
 public:
  explicit ViewerApp(const ViewerOptions& options) : options_(options) {}
  ~ViewerApp();
  int run();

 private:
  // Window and frame.
  void create_window();
  void frame();
  // `overlays`: frustums, thumbnails, crop box and target (not in plain screenshots).
  void draw_scene(int width, int height, bool overlays);
  void draw_splat_layer(const Camera& camera);
  void handle_input(int width, int height);
  bool save_screenshot(const std::string& path, int width, int height);

  // Sessions.
  void open_path(const std::string& path);
  void connect(const std::string& url, const std::string& token);
  void finish_open();
  void adopt(OpenedSession opened);
  void apply_updates();
  void post(const std::string& what, SessionPump::Job job, const std::string& key = "");
  void command(SessionCommand c);
  void start_run();
  void frame_scene();
  void snap_to_view(int index);
  void request_compare(int index);
  void request_raster(const Camera& camera);

  // Panels.
  void panel_session();
  void panel_before_start();
  void panel_view();
  void panel_training();
  void panel_compare();
  void panel_export();
  void panel_log();

  // Scripts.
  int bench();
  void script_step();
  bool script_failed(const std::string& why);
  bool view_is_current();

  ViewerOptions options_;
  GLFWwindow* window_ = nullptr;
  bool imgui_ready_ = false;
  std::unique_ptr<SplatDisplay> splats_;
  std::unique_ptr<LineBatch> lines_;
  std::unique_ptr<ImageQuads> quads_;

  // The session and what is known of it.
  OpenedSession session_;
  std::unique_ptr<SessionPump> pump_;
  std::future<OpenedSession> opening_;
  std::string opening_what_;
  std::string description_;
  std::optional<SessionStatus> status_;
  SessionScene scene_;
  std::shared_ptr<const SplatSnapshot> snapshot_;
  std::vector<SessionTestPoint> tests_;
  std::string connection_;
  CurveBuffers curves_;
  LogBuffer log_;
  bool scroll_log_ = false;
  bool log_problems_only_ = false;
  std::map<int, Texture> thumbnails_;
  bool framed_ = false;  // the camera was placed for this session's scene

  // Before start (local sessions).
  ViewSelection selection_;
  std::optional<TrainConfig> config_;  // the local session's, once read
  int priors_preset_ = 0;
  int backend_ = 0;  // auto, cpu, cuda
  int init_ = 0;     // index in kInitNames
  int masks_ = 0;    // index in kTrainingMasksNames

  // Navigation and display.
  NavCamera nav_;
  NavMode nav_mode_ = NavMode::Orbit;
  DisplayMode display_mode_ = DisplayMode::Splats;
  float fly_speed_ = 1.f;  // scene scales per second
  double scene_scale_ = 1;
  SplatDrawSettings draw_;
  std::array<float, 3> background_{0.f, 0.f, 0.f};
  bool show_frustums_ = true, show_thumbnails_ = true, show_target_ = false;
  float frustum_size_ = 1.f;    // multiplies frustum_depth_
  double frustum_depth_ = 0.1;  // half the median spacing of the cameras (capped by the scale)
  int selected_view_ = -1;
  // The offscreen splat layer (see draw_splat_layer).
  RenderTarget layer_;
  std::optional<Camera> layer_camera_;
  SplatDrawSettings layer_settings_;
  std::array<float, 3> layer_background_{};
  double layer_scale_ = 1;
  float render_scale_ = 1;  // of the layer while things change
  bool auto_scale_ = true;
  double splat_ms_ = 0;  // the last layer draw, finished
  double last_change_ = 0;

  // Rasterizer image mode.
  Texture raster_texture_;
  std::optional<Camera> raster_camera_;  // the last camera asked for
  std::optional<Camera> raster_shown_;   // the camera of the image in raster_texture_
  uint64_t raster_version_ = 0;
  bool raster_pending_ = false;
  float raster_resolution_ = 0.5f;

  // Comparison panel.
  int compare_view_ = -1;
  bool compare_pending_ = false, compare_auto_ = true;
  int compare_iteration_ = -1;
  double compare_time_ = 0;
  double compare_psnr_ = kSessionNaN;
  Texture compare_truth_, compare_render_, compare_depth_, compare_error_;

  // Export panel.
  int export_format_ = 0;
  std::string export_file_ = "export.ply";
  CropBox crop_;
  int64_t crop_inside_ = -1;

  // Open panel.
  std::string open_text_;
  std::string connect_url_ = "http://127.0.0.1:7007", connect_token_;

  // Scripted runs.
  Script script_ = Script::None;
  int script_frames_ = 0;
  double script_deadline_ = 0;
  int exit_code_ = 0;
  bool quit_ = false;
};

const char* const kFormatNames[] = {"ply", "splat", "spz", "compressed-ply", "mesh"};
const char* const kFormatExtensions[] = {".ply", ".splat", ".spz", ".compressed.ply", ".ply"};
const char* const kBackendNames[] = {"auto", "cpu", "cuda"};
const char* const kInitNames[] = {"auto", "mvs", "colmap", "hull", "depth", "random"};
const char* const kTrainingMasksNames[] = {"auto", "dataset", "heuristic", "none"};

ViewerApp::~ViewerApp() {
  pump_.reset();
  session_ = {};
  if (opening_.valid()) opening_.wait();
  splats_.reset();
  lines_.reset();
  quads_.reset();
  raster_texture_ = Texture();
  for (Texture* t : {&compare_truth_, &compare_render_, &compare_depth_, &compare_error_})
    *t = Texture();
  thumbnails_.clear();
  if (imgui_ready_) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  if (window_ != nullptr) glfwDestroyWindow(window_);
  glfwTerminate();
}

void ViewerApp::create_window() {
  glfwSetErrorCallback(glfw_error);
  GLIMPSE_CHECK(glfwInit() == GLFW_TRUE)
      << "cannot initialise GLFW: is there a display? (DISPLAY is "
      << (std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "unset")
      << "; headless: xvfb-run -a glimpse-viewer ...)";
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  window_ = glfwCreateWindow(options_.width, options_.height, "Glimpse", nullptr, nullptr);
  GLIMPSE_CHECK(window_ != nullptr) << "cannot open a window with an OpenGL 3.3 core context";
  glfwMakeContextCurrent(window_);
  glfwSwapInterval(options_.vsync ? 1 : 0);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini left in the working folder
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window_, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  imgui_ready_ = true;

  splats_ = std::make_unique<SplatDisplay>();
  lines_ = std::make_unique<LineBatch>();
  quads_ = std::make_unique<ImageQuads>();
  log_.add_local(LogLevel::Info, std::string("OpenGL: ") +
                                     reinterpret_cast<const char*>(glGetString(GL_RENDERER)) +
                                     ", " + reinterpret_cast<const char*>(glGetString(GL_VERSION)));
}

// [SECTION] sessions ----------------------------------------------------------------------------

TrainConfig base_config(const ViewerOptions& o) {
  TrainConfig config = o.config.empty() ? TrainConfig{} : load_train_config(o.config);
  nlohmann::json overrides = nlohmann::json::object();
  if (!o.device.empty()) overrides["device"] = o.device;
  if (!o.init.empty()) overrides["init"] = o.init;
  if (!overrides.empty()) config.update_from_json(overrides, "the command line");
  if (!o.output.empty()) config.output = o.output;
  if (o.iterations > 0) config.trainer.iterations = o.iterations;
  if (o.train_steps > 0) config.trainer.iterations = o.train_steps;
  config.threads = o.threads;
  return config;
}

void ViewerApp::open_path(const std::string& path) {
  if (opening_.valid()) {
    log_.add_local(LogLevel::Warning, "still opening " + opening_what_ + "; wait for it first");
    return;
  }
  TrainConfig config;
  try {
    config = base_config(options_);
  } catch (const Error& e) {
    log_.add_local(LogLevel::Error, error_message_without_location(e.what()));
    return;
  }
  opening_what_ = path;
  log_.add_local(LogLevel::Info, "opening " + path);
  const int threads = options_.threads;
  opening_ = std::async(std::launch::async, [path, config, threads] {
    return viewer::open_path(path, config, threads);
  });
}

void ViewerApp::connect(const std::string& url, const std::string& token) {
  if (opening_.valid()) {
    log_.add_local(LogLevel::Warning, "still opening " + opening_what_ + "; wait for it first");
    return;
  }
  opening_what_ = url;
  log_.add_local(LogLevel::Info, "connecting to " + url);
  opening_ = std::async(std::launch::async, [url, token] { return connect_remote(url, token); });
}

void ViewerApp::finish_open() {
  if (!opening_.valid() || opening_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return;
  try {
    adopt(opening_.get());
  } catch (const std::exception& e) {
    log_.add_local(LogLevel::Error, "cannot open " + opening_what_ + ": " +
                                        error_message_without_location(e.what()));
    if (script_ != Script::None) script_failed("cannot open " + opening_what_);
  }
  opening_ = {};
}

void ViewerApp::adopt(OpenedSession opened) {
  pump_.reset();  // joins the old session's thread before the session goes
  session_ = std::move(opened);
  SessionPumpOptions po;
  pump_ = std::make_unique<SessionPump>(session_.client, po);
  description_.clear();
  status_.reset();
  scene_ = {};
  snapshot_.reset();
  tests_.clear();
  curves_.clear();
  log_.restart_sequence();
  thumbnails_.clear();
  selection_ = {};
  config_.reset();
  framed_ = false;
  selected_view_ = compare_view_ = -1;
  raster_camera_.reset();
  raster_shown_.reset();
  raster_pending_ = compare_pending_ = false;
  crop_inside_ = -1;
  if (session_.local != nullptr) {
    Session* local = session_.local;
    post("read the configuration", [this, local](SessionClient&) -> SessionPump::Done {
      TrainConfig config = local->config();
      return [this, config] {
        config_ = config;
        const std::string device = train_device_name(config.device);
        for (int i = 0; i < 3; ++i)
          if (device == kBackendNames[i]) backend_ = i;
        const std::string init = init_method_name(config.init);
        for (int i = 0; i < 6; ++i)
          if (init == kInitNames[i]) init_ = i;
        const std::string masks = training_masks_name(config.training_masks);
        for (int i = 0; i < 4; ++i)
          if (masks == kTrainingMasksNames[i]) masks_ = i;
      };
    });
  }
}

void ViewerApp::post(const std::string& what, SessionPump::Job job, const std::string& key) {
  if (!pump_) {
    log_.add_local(LogLevel::Warning, what + ": nothing is open");
    return;
  }
  pump_->post(what, std::move(job), key);
}

void ViewerApp::command(SessionCommand c) {
  post(session_command_name(c), [c](SessionClient& client) -> SessionPump::Done {
    client.command(c);
    return {};
  });
}

void ViewerApp::start_run() {
  if (session_.local == nullptr || !config_) {
    command(SessionCommand::Start);
    return;
  }
  TrainConfig config = *config_;
  config.device =
      backend_ == 0 ? TrainDevice::Auto : (backend_ == 1 ? TrainDevice::Cpu : TrainDevice::Cuda);
  try {
    config.update_from_json(
        {{"init", kInitNames[init_]}, {"training_masks", kTrainingMasksNames[masks_]}},
        "the viewer");
    apply_priors_preset(priors_preset_, config);
  } catch (const Error& e) {
    log_.add_local(LogLevel::Error, error_message_without_location(e.what()));
    return;
  }
  const std::vector<int> views = selection_.views();
  Session* local = session_.local;
  post("start", [local, views, config](SessionClient&) -> SessionPump::Done {
    local->set_config(config);
    local->set_train_views(views);
    local->command(SessionCommand::Start);
    return {};
  });
  pump_->refresh_scene();
}

void ViewerApp::apply_updates() {
  finish_open();
  if (!pump_) return;
  SessionPump::Update u = pump_->take();
  if (u.description) description_ = *u.description;
  for (const std::string& e : u.errors) log_.add_local(LogLevel::Error, e);
  for (const std::string& n : u.notes) log_.add_local(LogLevel::Info, n);
  if (!u.log.empty() || !u.errors.empty()) scroll_log_ = true;
  log_.append(u.log);
  connection_ = u.connection;
  if (u.curve_reset) curves_.clear();
  curves_.append(u.curve);
  if (u.tests) tests_ = std::move(*u.tests);
  if (u.status) status_ = std::move(u.status);
  if (u.scene) {
    const bool views_changed = u.scene->views.size() != scene_.views.size();
    scene_ = std::move(*u.scene);
    if (views_changed) {
      selection_.reset(scene_);
      thumbnails_.clear();
      std::vector<Camera> cameras;
      for (const SessionView& v : scene_.views) {
        cameras.push_back(v.camera);
        const int index = v.index;
        post(
            "thumbnail",
            [this, index](SessionClient& c) -> SessionPump::Done {
              auto image = std::make_shared<Image<uint8_t>>(c.thumbnail(index, 192));
              return [this, index, image] {
                thumbnails_[index].upload(image->data(), image->width(), image->height(),
                                          image->channels());
              };
            },
            "thumbnail " + std::to_string(index));
      }
      nav_.set_up(up_from_cameras(cameras));
      if (scene_.far_depth > 0) scene_scale_ = 0.5 * (scene_.near_depth + scene_.far_depth);
      frustum_depth_ = frustum_depth_for(cameras, scene_scale_);
    } else if (status_ && status_->phase == SessionPhase::Ready) {
      // The session's own split may have changed (set_train_views): keep the user's choice.
    }
  }
  if (u.snapshot) {
    snapshot_ = u.snapshot;
    try {
      splats_->set_gaussians(snapshot_->gaussians);
    } catch (const Error& e) {
      log_.add_local(LogLevel::Error, error_message_without_location(e.what()));
    }
    crop_inside_ = -1;
  }
  for (SessionPump::Done& done : u.done) {
    try {
      done();
    } catch (const std::exception& e) {
      log_.add_local(LogLevel::Error, error_message_without_location(e.what()));
    }
  }
  if (!framed_ && (!scene_.views.empty() || snapshot_)) frame_scene();
}

// Places the camera: at the first training view when the scene has views, else around the
// Gaussians.
void ViewerApp::frame_scene() {
  const std::vector<float>* means = snapshot_ ? &snapshot_->gaussians.means : nullptr;
  if (!scene_.views.empty()) {
    int first = 0;
    for (size_t i = 0; i < scene_.views.size(); ++i)
      if (scene_.views[i].train) {
        first = static_cast<int>(i);
        break;
      }
    snap_to_view(first);
    framed_ = true;
    return;
  }
  if (means == nullptr || means->empty()) return;
  const PointsFrame f = frame_points(*means);
  scene_scale_ = f.radius;
  nav_.reset_lens();
  nav_.look_at(f.center + Vec3<double>{0, -0.3, -2.2} * f.radius, f.center);
  framed_ = true;
}

void ViewerApp::snap_to_view(int index) {
  if (index < 0 || index >= static_cast<int>(scene_.views.size())) return;
  const Camera& c = scene_.views[static_cast<size_t>(index)].camera;
  double distance = scene_scale_;
  if (snapshot_)
    distance = median_depth(c, snapshot_->gaussians.means, distance);
  else if (scene_.far_depth > 0)
    distance = 0.5 * (scene_.near_depth + scene_.far_depth);
  scene_scale_ = distance;
  nav_.snap_to(c, distance);
  selected_view_ = index;
}

void ViewerApp::request_compare(int index) {
  if (index < 0 || index >= static_cast<int>(scene_.views.size()) || compare_pending_) return;
  compare_pending_ = true;
  compare_time_ = now_seconds();
  const Camera camera = scene_.views[static_cast<size_t>(index)].camera;
  post("render view " + std::to_string(index), [this, camera, index](SessionClient& c) {
    auto r = std::make_shared<ViewRender>(c.render(camera, index));
    return SessionPump::Done([this, r] {
      compare_pending_ = false;
      compare_iteration_ = r->iteration;
      compare_psnr_ = r->psnr;
      upload_float(compare_render_, r->render);
      if (!r->truth.empty()) upload_float(compare_truth_, r->truth);
      if (!r->depth.empty()) upload_float(compare_depth_, colour_depth(r->depth));
      if (!r->error.empty()) upload_float(compare_error_, amplify(r->error));
    });
  });
  // A failed render must not leave the panel waiting forever.
  post("",
       [this](SessionClient&) { return SessionPump::Done([this] { compare_pending_ = false; }); });
}

void ViewerApp::request_raster(const Camera& full) {
  const uint64_t version = snapshot_ ? snapshot_->version : 0;
  const int w = std::max(16, static_cast<int>(std::lround(full.width * raster_resolution_)));
  const int h = std::max(16, static_cast<int>(std::lround(full.height * raster_resolution_)));
  const Camera camera = scaled_camera(full, static_cast<double>(w) / full.width,
                                      static_cast<double>(h) / full.height, w, h);
  if (raster_pending_) return;
  if (raster_camera_ && version == raster_version_ && same_camera(*raster_camera_, camera)) return;
  raster_camera_ = camera;
  raster_version_ = version;
  raster_pending_ = true;
  post("render", [this, camera](SessionClient& c) {
    auto r = std::make_shared<ViewRender>(c.render(camera, -1));
    return SessionPump::Done([this, r, camera] {
      upload_float(raster_texture_, r->render);
      raster_shown_ = camera;
    });
  });
  post("",
       [this](SessionClient&) { return SessionPump::Done([this] { raster_pending_ = false; }); });
}

// [SECTION] frame -------------------------------------------------------------------------------

void ViewerApp::handle_input(int width, int height) {
  ImGuiIO& io = ImGui::GetIO();
  int window_w = 1, window_h = 1;
  glfwGetWindowSize(window_, &window_w, &window_h);
  const double pixel_scale = static_cast<double>(width) / std::max(window_w, 1);
  const Camera cam = nav_.camera(width, height);
  const double dt = std::min<double>(io.DeltaTime, 0.1);
  if (!io.WantCaptureMouse) {
    const ImVec2 d = io.MouseDelta;
    const double rad_per_pixel = 0.005;
    if (nav_mode_ == NavMode::Orbit) {
      if (ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.f) && !io.KeyShift)
        nav_.orbit(-d.x * rad_per_pixel, d.y * rad_per_pixel);
      else if (ImGui::IsMouseDragging(ImGuiMouseButton_Right, 0.f) ||
               ImGui::IsMouseDragging(ImGuiMouseButton_Middle, 0.f) ||
               (ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.f) && io.KeyShift))
        nav_.pan(d.x * pixel_scale, d.y * pixel_scale, cam.fy);
      if (io.MouseWheel != 0) nav_.dolly(std::pow(0.85, io.MouseWheel));
    } else {
      if (ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.f) ||
          ImGui::IsMouseDragging(ImGuiMouseButton_Right, 0.f))
        nav_.look(-d.x * rad_per_pixel, -d.y * rad_per_pixel);
      if (io.MouseWheel != 0)
        fly_speed_ =
            std::clamp(fly_speed_ * static_cast<float>(std::pow(1.2, io.MouseWheel)), 0.01f, 100.f);
    }
  }
  if (!io.WantCaptureKeyboard) {
    auto key = [&](int k) { return glfwGetKey(window_, k) == GLFW_PRESS; };
    Vec3<double> m{};
    if (key(GLFW_KEY_W) || key(GLFW_KEY_UP)) m.z += 1;
    if (key(GLFW_KEY_S) || key(GLFW_KEY_DOWN)) m.z -= 1;
    if (key(GLFW_KEY_D) || key(GLFW_KEY_RIGHT)) m.x += 1;
    if (key(GLFW_KEY_A) || key(GLFW_KEY_LEFT)) m.x -= 1;
    if (key(GLFW_KEY_E)) m.y -= 1;  // up: camera y points down
    if (key(GLFW_KEY_Q)) m.y += 1;
    const double speed = fly_speed_ * scene_scale_ * (io.KeyShift ? 4.0 : 1.0);
    if (m.x != 0 || m.y != 0 || m.z != 0) nav_.move(m * (speed * dt));
    if (ImGui::IsKeyPressed(GLFW_KEY_F, false)) frame_scene();
    if (ImGui::IsKeyPressed(GLFW_KEY_TAB, false))
      nav_mode_ = nav_mode_ == NavMode::Orbit ? NavMode::Fly : NavMode::Orbit;
  }
}

// The splats are drawn into an offscreen layer only when something they show changed (the
// camera, the Gaussians, the order, the settings); other frames copy the layer. While things
// change the layer's resolution adapts to keep the frame time low (llvmpipe), and once they stop
// it is drawn once more at full resolution.
void ViewerApp::draw_splat_layer(const Camera& camera) {
  draw_.crop = crop_.enabled;
  for (int a = 0; a < 3; ++a) {
    draw_.crop_min[a] = static_cast<float>(crop_.min[a]);
    draw_.crop_max[a] = static_cast<float>(crop_.max[a]);
  }
  draw_.near = static_cast<float>(std::max(1e-4, 1e-3 * scene_scale_));
  const bool scripted = script_ != Script::None;
  const bool moved = !layer_camera_ || !same_camera(*layer_camera_, camera) ||
                     !same_settings(layer_settings_, draw_) || layer_background_ != background_;
  const bool content = splats_->prepare(camera);
  const double now = now_seconds();
  if (moved || content) last_change_ = now;
  double scale = scripted ? 1.0 : render_scale_;
  bool redraw = moved || content || layer_.width() == 0;
  const bool sharpen = !redraw && layer_scale_ < 1 && now - last_change_ > 0.3 &&
                       splat_ms_ / (layer_scale_ * layer_scale_) < 1500;
  if (sharpen) {
    scale = 1;
    redraw = true;
  }
  if (redraw) {
    const int w = std::max(1, static_cast<int>(std::lround(camera.width * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(camera.height * scale)));
    layer_.bind(w, h);
    glClearColor(background_[0], background_[1], background_[2], 1.f);
    glClear(GL_COLOR_BUFFER_BIT);
    const Timer timer;
    splats_->draw(scaled_camera(camera, static_cast<double>(w) / camera.width,
                                static_cast<double>(h) / camera.height, w, h),
                  draw_);
    glFinish();  // the draw's real cost (a software renderer works until here)
    splat_ms_ = timer.milliseconds();
    // New snapshots cost a redraw each: keep that under a quarter of the time, so a software
    // renderer sharing the CPU with a local training run does not halve its speed.
    if (pump_) pump_->set_snapshot_interval(4e-3 * splat_ms_ / (scale * scale));
    if (auto_scale_ && !sharpen && !scripted) {
      if (splat_ms_ > 40) render_scale_ = std::max(0.25f, render_scale_ * 0.8f);
      if (splat_ms_ < 15) render_scale_ = std::min(1.f, render_scale_ * 1.15f);
    }
    layer_camera_ = camera;
    layer_settings_ = draw_;
    layer_background_ = background_;
    layer_scale_ = scale;
  }
  layer_.blit_to_window(camera.width, camera.height);
}

void ViewerApp::draw_scene(int width, int height, bool overlays) {
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glViewport(0, 0, width, height);
  glClearColor(background_[0], background_[1], background_[2], 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  const Camera camera = nav_.camera(width, height);
  if (display_mode_ == DisplayMode::Splats) {
    draw_splat_layer(camera);
  } else if (pump_) {
    request_raster(camera);
    // The rasterizer's last image on the image plane of the camera it was rendered for, so that
    // it stays in place while the next one renders.
    if (raster_shown_ && !raster_texture_.empty()) {
      const Camera& shown = *raster_shown_;
      quads_->draw(camera, shown, 1.0, raster_texture_, 1.f);
    }
  }

  if (!overlays) return;
  lines_->clear();
  const double frustum_depth = frustum_size_ * frustum_depth_;
  // The view the camera sits at would cover the whole window with its own image plane.
  auto at_viewer = [&](const SessionView& v) {
    return norm(v.camera.center() - nav_.position()) < 1e-6 * std::max(scene_scale_, 1e-9);
  };
  if (show_frustums_)
    for (const SessionView& v : scene_.views) {
      if (at_viewer(v)) continue;
      const bool picked =
          status_ && status_->phase == SessionPhase::Ready ? selection_.selected(v.index) : v.train;
      const std::array<float, 4>& colour =
          v.index == selected_view_
              ? kSelectedColour
              : (picked ? kTrainColour : (v.test ? kTestColour : kOtherColour));
      lines_->add_frustum(v.camera, frustum_depth, colour);
    }
  if (crop_.enabled) {
    const std::vector<Vec3<double>> e = crop_.edges();
    for (size_t i = 0; i + 1 < e.size(); i += 2) lines_->add(e[i], e[i + 1], kCropColour);
  }
  if (show_target_) {
    const Vec3<double> t = nav_.target();
    const double s = 0.05 * nav_.distance();
    lines_->add(t - Vec3<double>{s, 0, 0}, t + Vec3<double>{s, 0, 0}, {1, 0.3f, 0.3f, 1});
    lines_->add(t - Vec3<double>{0, s, 0}, t + Vec3<double>{0, s, 0}, {0.3f, 1, 0.3f, 1});
    lines_->add(t - Vec3<double>{0, 0, s}, t + Vec3<double>{0, 0, s}, {0.3f, 0.5f, 1, 1});
  }
  if (show_frustums_ && show_thumbnails_)
    for (const SessionView& v : scene_.views) {
      if (at_viewer(v)) continue;
      const auto it = thumbnails_.find(v.index);
      if (it != thumbnails_.end()) quads_->draw(camera, v.camera, frustum_depth, it->second, 0.7f);
    }
  lines_->draw(camera);
}

bool ViewerApp::save_screenshot(const std::string& path, int width, int height) {
  std::vector<unsigned char> pixels(static_cast<size_t>(width) * height * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  Image<float> image(width, height, 3);
  for (int y = 0; y < height; ++y)  // OpenGL rows run bottom-up
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.at(x, y, c) =
            pixels[(static_cast<size_t>(height - 1 - y) * width + x) * 3 + c] / 255.f;
  try {
    write_png(path, image);
  } catch (const Error& e) {
    std::cerr << "glimpse-viewer: " << error_message_without_location(e.what()) << "\n";
    return false;
  }
  std::cerr << "glimpse-viewer: wrote " << path << " (" << width << "x" << height << ")\n";
  return true;
}

void ViewerApp::frame() {
  apply_updates();
  int width = 0, height = 0;
  glfwGetFramebufferSize(window_, &width, &height);
  if (width <= 0 || height <= 0) return;  // minimised

  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  handle_input(width, height);
  panel_session();
  panel_view();
  panel_training();
  panel_compare();
  panel_export();
  panel_log();
  ImGui::Render();

  const bool shooting = script_ == Script::ShootStart || script_ == Script::ShootEnd;
  const bool draw_ui = !shooting || options_.screenshot_ui;
  draw_scene(width, height, draw_ui);
  if (draw_ui) ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (shooting && script_frames_ == 0) {
    if (script_ == Script::ShootStart) {
      if (!save_screenshot(options_.screenshot_start, width, height))
        script_failed("cannot write " + options_.screenshot_start);
      else {
        command(SessionCommand::Resume);
        script_ = Script::WaitFinished;
      }
    } else {
      if (!save_screenshot(options_.screenshot, width, height))
        script_failed("cannot write " + options_.screenshot);
      script_ = Script::Done;
      quit_ = true;
    }
  }
  glfwSwapBuffers(window_);
}

// [SECTION] panels ------------------------------------------------------------------------------

void ViewerApp::panel_session() {
  ImGui::SetNextWindowPos(ImVec2(10, 10), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(390, 420), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Session")) {
    ImGui::End();
    return;
  }
  // Open.
  ImGui::SetNextItemWidth(-70);
  const bool enter = ImGui::InputTextWithHint("##open", "dataset folder, photos or splat file",
                                              &open_text_, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if ((ImGui::Button("Open", ImVec2(-1, 0)) || enter) && !open_text_.empty()) open_path(open_text_);
  if (ImGui::TreeNode("Connect to a running session")) {
    ImGui::InputText("URL", &connect_url_);
    ImGui::InputText("Token", &connect_token_, ImGuiInputTextFlags_Password);
    if (ImGui::Button("Connect")) connect(connect_url_, connect_token_);
    ImGui::TreePop();
  }
  if (opening_.valid()) ImGui::TextColored(kWarningText, "opening %s ...", opening_what_.c_str());
  ImGui::Separator();
  if (!pump_) {
    ImGui::TextWrapped(
        "Open a dataset folder (LLFF, COLMAP, DTU, transforms.json), a folder of "
        "photos, a run folder or a splat file (.ply, .splat, .spz).");
    ImGui::End();
    return;
  }
  ImGui::TextUnformatted(description_.empty() ? "..." : description_.c_str());
  if (!connection_.empty()) ImGui::TextColored(kErrorText, "%s", connection_.c_str());
  if (!status_) {
    ImGui::End();
    return;
  }
  const SessionStatus& s = *status_;
  // Phase and progress.
  double fraction = s.phase_fraction;
  if (s.phase == SessionPhase::Training && s.total_iterations > 0)
    fraction = static_cast<double>(s.iteration) / s.total_iterations;
  std::string label = session_phase_name(s.phase);
  if (s.phase == SessionPhase::Training && s.paused) label += " (paused)";
  if (!s.phase_detail.empty()) label += ": " + s.phase_detail;
  if (fraction >= 0)
    ImGui::ProgressBar(static_cast<float>(fraction), ImVec2(-1, 0), label.c_str());
  else
    ImGui::TextUnformatted(label.c_str());
  if (s.phase == SessionPhase::Failed) ImGui::TextColored(kErrorText, "%s", s.error.c_str());

  // Commands (none for a read-only model).
  const bool local_ready = s.phase == SessionPhase::Ready;
  const bool training = s.phase == SessionPhase::Training;
  if (session_.kind != "model") {
    ImGui::BeginDisabled(!local_ready ||
                         (session_.local != nullptr && !selection_.problem().empty()));
    if (ImGui::Button("Start")) start_run();
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!training);
    if (s.paused ? ImGui::Button("Resume") : ImGui::Button("Pause"))
      command(s.paused ? SessionCommand::Resume : SessionCommand::Pause);
    ImGui::SameLine();
    ImGui::BeginDisabled(!s.paused);
    if (ImGui::Button("Step")) command(SessionCommand::Step);
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Save")) command(SessionCommand::Save);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(session_phase_is_final(s.phase) || s.phase == SessionPhase::Idle);
    if (ImGui::Button("Stop")) command(SessionCommand::Stop);
    ImGui::EndDisabled();
  }

  // Figures.
  if (ImGui::BeginTable("status", 2)) {
    ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthFixed, 100);
    ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
    auto row = [](const char* name, const std::string& value) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextColored(kDimText, "%s", name);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(value.c_str());
    };
    char buf[128];
    if (s.total_iterations > 0) {
      std::snprintf(buf, sizeof buf, "%d / %d", s.iteration, s.total_iterations);
      row("iteration", buf);
    }
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(s.num_gaussians));
    row("Gaussians", buf);
    if (training || s.iteration > 0) {
      std::snprintf(buf, sizeof buf, "%.2f it/s, %.1f ms/step", s.its_per_second, s.step_ms);
      row("speed", buf);
      row("remaining", format_seconds(s.eta_seconds));
      std::snprintf(buf, sizeof buf, "%.4f", s.loss);
      row("loss", buf);
      std::snprintf(buf, sizeof buf, "%.2f dB", s.psnr);
      row("train PSNR", buf);
    }
    if (!std::isnan(s.test_psnr)) {
      std::snprintf(buf, sizeof buf, "%.2f dB", s.test_psnr);
      row("test PSNR", buf);
    }
    if (!s.device.empty()) row("device", s.device);
    if (!s.output.empty()) row("output", s.output);
    ImGui::EndTable();
  }
  ImGui::End();
  if (local_ready && session_.local != nullptr) panel_before_start();
}

void ViewerApp::panel_before_start() {
  ImGui::SetNextWindowPos(ImVec2(410, 40), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(430, 560), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Before start")) {
    ImGui::End();
    return;
  }
  const std::vector<std::string>& presets = priors_preset_names();
  if (ImGui::BeginCombo("priors", presets[static_cast<size_t>(priors_preset_)].c_str())) {
    for (int i = 0; i < static_cast<int>(presets.size()); ++i)
      if (ImGui::Selectable(presets[static_cast<size_t>(i)].c_str(), i == priors_preset_))
        priors_preset_ = i;
    ImGui::EndCombo();
  }
  ImGui::Combo("backend", &backend_, kBackendNames, 3);
  ImGui::Combo("initialiser", &init_, kInitNames, 6);
  ImGui::Combo("training masks", &masks_, kTrainingMasksNames, 4);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(
        "auto: found in the images on the DTU protocol, else the dataset's object masks");
  if (config_) {
    int iterations = config_->trainer.iterations;
    if (ImGui::InputInt("iterations", &iterations, 100, 1000))
      config_->trainer.iterations = std::max(1, iterations);
    ImGui::InputText("output", &config_->output);
  }
  const std::string problem = selection_.problem();
  ImGui::Text("Training views: %d picked (%d to %d)", static_cast<int>(selection_.views().size()),
              kMinTrainViews, kMaxTrainViews);
  if (!problem.empty()) ImGui::TextColored(kWarningText, "%s", problem.c_str());
  // Thumbnails: click to pick or drop.
  const float side = 110.f;
  const int columns = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().x / (side + 8)));
  int column = 0;
  for (const SessionView& v : scene_.views) {
    ImGui::PushID(v.index);
    const bool picked = selection_.selected(v.index);
    ImGui::BeginGroup();
    const auto it = thumbnails_.find(v.index);
    const ImVec4 tint = picked ? ImVec4(1, 1, 1, 1) : ImVec4(0.55f, 0.55f, 0.55f, 1);
    const ImVec4 border = picked ? ImVec4(kTrainColour[0], kTrainColour[1], kTrainColour[2], 1)
                                 : ImVec4(0.3f, 0.3f, 0.3f, 1);
    bool clicked = false;
    if (it != thumbnails_.end() && it->second.width() > 0) {
      const float h = side * it->second.height() / it->second.width();
      ImGui::PushStyleColor(ImGuiCol_Button, border);
      clicked = ImGui::ImageButton(texture_id(it->second), ImVec2(side, h), ImVec2(0, 0),
                                   ImVec2(1, 1), 3, ImVec4(0, 0, 0, 0), tint);
      ImGui::PopStyleColor();
    } else {
      clicked = ImGui::Button(v.name.c_str(), ImVec2(side, side * 0.75f));
    }
    if (clicked) {
      const std::string why = selection_.toggle(v.index);
      if (!why.empty()) log_.add_local(LogLevel::Warning, why);
    }
    ImGui::TextColored(
        picked ? ImVec4(kTrainColour[0], kTrainColour[1], kTrainColour[2], 1) : kDimText, "%s%s",
        v.name.c_str(), v.test ? " (test)" : "");
    ImGui::EndGroup();
    ImGui::PopID();
    if (++column < columns)
      ImGui::SameLine();
    else
      column = 0;
  }
  if (column != 0) ImGui::NewLine();
  ImGui::BeginDisabled(!selection_.problem().empty());
  if (ImGui::Button("Start training", ImVec2(-1, 0))) start_run();
  ImGui::EndDisabled();
  ImGui::End();
}

void ViewerApp::panel_view() {
  ImGui::SetNextWindowPos(ImVec2(10, 440), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(390, 440), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("View")) {
    ImGui::End();
    return;
  }
  int mode = static_cast<int>(display_mode_);
  ImGui::RadioButton("splats (OpenGL)", &mode, 0);
  ImGui::SameLine();
  ImGui::RadioButton("rasterizer image", &mode, 1);
  display_mode_ = static_cast<DisplayMode>(mode);
  if (display_mode_ == DisplayMode::Rasterizer) {
    ImGui::SliderFloat("resolution", &raster_resolution_, 0.1f, 1.f, "%.2f");
    if (raster_pending_) ImGui::TextColored(kDimText, "rendering ...");
  } else {
    ImGui::SliderFloat("splat scale", &draw_.scale, 0.05f, 2.f, "%.2f");
    ImGui::Checkbox("adaptive resolution", &auto_scale_);
    if (!auto_scale_) render_scale_ = 1;
    ImGui::Text("%zu Gaussians, sort %.1f ms, draw %.1f ms at %.0f%%", splats_->size(),
                splats_->last_sort_ms(), splat_ms_, 100 * layer_scale_);
  }
  int nav = static_cast<int>(nav_mode_);
  ImGui::RadioButton("orbit", &nav, 0);
  ImGui::SameLine();
  ImGui::RadioButton("fly (WASD, Q/E)", &nav, 1);
  nav_mode_ = static_cast<NavMode>(nav);
  if (nav_mode_ == NavMode::Fly) ImGui::SliderFloat("speed", &fly_speed_, 0.01f, 10.f, "%.2f");
  float fov = static_cast<float>(nav_.fov_y_degrees());
  if (ImGui::SliderFloat("field of view", &fov, 10.f, 120.f, "%.0f deg")) {
    nav_.set_fov_y_degrees(fov);
    nav_.reset_lens();
  }
  ImGui::ColorEdit3("background", background_.data());
  ImGui::Checkbox("frustums", &show_frustums_);
  ImGui::SameLine();
  ImGui::Checkbox("thumbnails", &show_thumbnails_);
  ImGui::SameLine();
  ImGui::Checkbox("target", &show_target_);
  ImGui::SliderFloat("frustum size", &frustum_size_, 0.1f, 10.f, "%.1f",
                     ImGuiSliderFlags_Logarithmic);
  if (ImGui::Button("Frame (F)")) frame_scene();
  ImGui::TextColored(kDimText, "orbit: drag; pan: right drag or shift+drag; zoom: wheel; Tab: fly");
  if (!scene_.views.empty() && ImGui::BeginListBox("cameras", ImVec2(-1, 120))) {
    for (const SessionView& v : scene_.views) {
      const std::string label = v.name + (v.train ? "  [train]" : "") + (v.test ? "  [test]" : "");
      ImGui::PushID(v.index);
      if (ImGui::Selectable(label.c_str(), v.index == selected_view_)) {
        snap_to_view(v.index);
        compare_view_ = v.index;
      }
      ImGui::PopID();
    }
    ImGui::EndListBox();
  }
  ImGui::End();
}

void ViewerApp::panel_training() {
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(display.x - 430, 10), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(420, 470), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Training")) {
    ImGui::End();
    return;
  }
  const float width = ImGui::GetContentRegionAvail().x;
  const size_t points = static_cast<size_t>(std::max(width, 50.f));
  auto plot = [&](const char* label, const std::vector<float>& values, const char* format) {
    const std::vector<float> shown = downsample_mean(values, points);
    char overlay[64] = "";
    if (!values.empty()) std::snprintf(overlay, sizeof overlay, format, values.back());
    ImGui::PlotLines(label, shown.data(), static_cast<int>(shown.size()), 0, overlay, FLT_MAX,
                     FLT_MAX, ImVec2(width, 70));
  };
  if (curves_.size() == 0) {
    ImGui::TextColored(kDimText, "no training steps yet");
  } else {
    ImGui::Text("iterations %d to %d", curves_.iterations().front(), curves_.iterations().back());
    plot("##loss", curves_.loss(), "loss %.4f");
    plot("##psnr", curves_.psnr(), "train PSNR %.2f dB");
    plot("##gaussians", curves_.gaussians(), "%.0f Gaussians");
    plot("##step", curves_.step_ms(), "step %.1f ms");
  }
  if (!tests_.empty() && ImGui::TreeNode("Test evaluations")) {
    for (const SessionTestPoint& t : tests_)
      ImGui::Text("iteration %d: PSNR %.2f dB, SSIM %.3f", t.iteration, t.psnr, t.ssim);
    ImGui::TreePop();
  }
  if (status_ && status_->step_ms > 0 && ImGui::BeginTable("phases", 3)) {
    ImGui::TableSetupColumn("phase");
    ImGui::TableSetupColumn("ms", ImGuiTableColumnFlags_WidthFixed, 60);
    ImGui::TableSetupColumn("share");
    ImGui::TableHeadersRow();
    double total = 0;
    for (double v : status_->phase_ms) total += v;
    for (size_t i = 0; i < StepPhases::kNames.size(); ++i) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(StepPhases::kNames[i]);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f", status_->phase_ms[i]);
      ImGui::TableNextColumn();
      ImGui::ProgressBar(total > 0 ? static_cast<float>(status_->phase_ms[i] / total) : 0.f,
                         ImVec2(-1, 0), "");
    }
    ImGui::EndTable();
  }
  ImGui::End();
}

void ViewerApp::panel_compare() {
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(display.x - 430, 490), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(420, 400), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowCollapsed(true, ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Compare")) {
    ImGui::End();
    return;
  }
  if (scene_.views.empty()) {
    ImGui::TextColored(kDimText, "no dataset views (a model file, or still loading)");
    ImGui::End();
    return;
  }
  if (compare_view_ < 0) compare_view_ = 0;
  const SessionView& view = scene_.views[static_cast<size_t>(
      std::min<int>(compare_view_, static_cast<int>(scene_.views.size()) - 1))];
  if (ImGui::BeginCombo("view", view.name.c_str())) {
    for (const SessionView& v : scene_.views)
      if (ImGui::Selectable(
              (v.name + (v.train ? " [train]" : "") + (v.test ? " [test]" : "")).c_str(),
              v.index == compare_view_))
        compare_view_ = v.index;
    ImGui::EndCombo();
  }
  if (ImGui::Button("Render")) request_compare(compare_view_);
  ImGui::SameLine();
  ImGui::Checkbox("follow training", &compare_auto_);
  if (compare_auto_ && status_ && status_->iteration != compare_iteration_ && snapshot_ &&
      now_seconds() - compare_time_ > 2.0)
    request_compare(compare_view_);
  if (!std::isnan(compare_psnr_))
    ImGui::Text("iteration %d, PSNR %.2f dB", compare_iteration_, compare_psnr_);
  const float w = 0.5f * (ImGui::GetContentRegionAvail().x - 8);
  auto image = [&](const char* title, const Texture& t) {
    ImGui::BeginGroup();
    ImGui::TextUnformatted(title);
    if (!t.empty() && t.width() > 0)
      ImGui::Image(texture_id(t), ImVec2(w, w * t.height() / t.width()));
    else
      ImGui::Dummy(ImVec2(w, w * 0.75f));
    ImGui::EndGroup();
  };
  image("ground truth", compare_truth_);
  ImGui::SameLine();
  image("render", compare_render_);
  image("depth", compare_depth_);
  ImGui::SameLine();
  image("error (x4)", compare_error_);
  ImGui::End();
}

void ViewerApp::panel_export() {
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(410, 10), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(360, 240), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowCollapsed(true, ImGuiCond_FirstUseEver);
  (void)display;
  if (!ImGui::Begin("Export")) {
    ImGui::End();
    return;
  }
  if (ImGui::Combo("format", &export_format_, kFormatNames, 5)) {
    // Follow the format in the file name's extension.
    const std::string ext = kFormatExtensions[export_format_];
    for (const char* e : {".compressed.ply", ".ply", ".splat", ".spz"}) {
      const std::string old = e;
      if (export_file_.size() > old.size() &&
          export_file_.compare(export_file_.size() - old.size(), old.size(), old) == 0) {
        export_file_ = export_file_.substr(0, export_file_.size() - old.size()) + ext;
        break;
      }
    }
  }
  ImGui::InputText("file", &export_file_);
  if (session_.kind == "remote")
    ImGui::TextColored(kDimText, "a remote run writes it into its own exports/ folder");
  if (ImGui::Checkbox("crop box", &crop_.enabled) && crop_.enabled && snapshot_ &&
      crop_.min == std::array<double, 3>{-1, -1, -1} && crop_.max == std::array<double, 3>{1, 1, 1})
    crop_.fit(snapshot_->gaussians.means);
  if (crop_.enabled) {
    const float speed = static_cast<float>(0.005 * std::max(scene_scale_, 1e-3));
    bool changed = false;
    for (int a = 0; a < 3; ++a) {
      const char* axis[3] = {"x", "y", "z"};
      float range[2] = {static_cast<float>(crop_.min[a]), static_cast<float>(crop_.max[a])};
      if (ImGui::DragFloat2(axis[a], range, speed, 0, 0, "%.3f")) {
        crop_.min[a] = range[0];
        crop_.max[a] = range[1];
        changed = true;
      }
    }
    if (changed) {
      crop_.sanitize();
      crop_inside_ = -1;
    }
    if (ImGui::Button("Fit to the Gaussians") && snapshot_) {
      crop_.fit(snapshot_->gaussians.means);
      crop_inside_ = -1;
    }
    if (snapshot_ && crop_inside_ < 0)
      crop_inside_ = crop_.count_inside(snapshot_->gaussians.means);
    if (snapshot_)
      ImGui::Text("%lld of %zu Gaussians inside", static_cast<long long>(crop_inside_),
                  snapshot_->gaussians.size());
  }
  ImGui::BeginDisabled(!pump_ || export_file_.empty());
  if (ImGui::Button("Export")) {
    SessionExport request;
    request.output = export_file_;
    request.format = kFormatNames[export_format_];
    request.crop = crop_.export_crop();
    log_.add_local(LogLevel::Info, "exporting " + request.output + " ...");
    post("export", [request](SessionClient& c) -> SessionPump::Done {
      c.export_model(request);
      return {};
    });
  }
  ImGui::EndDisabled();
  ImGui::End();
}

void ViewerApp::panel_log() {
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(410, display.y - 190), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(std::max(300.f, display.x - 850), 180), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Log")) {
    ImGui::End();
    return;
  }
  ImGui::Checkbox("warnings and errors only", &log_problems_only_);
  if (log_.num_errors() > 0) {
    ImGui::SameLine();
    ImGui::TextColored(kErrorText, "%zu errors", log_.num_errors());
  }
  ImGui::BeginChild("entries", ImVec2(0, 0), false);
  ImGui::PushTextWrapPos(0.f);
  for (const SessionLogEntry& e : log_.entries()) {
    if (log_problems_only_ && e.level < LogLevel::Warning) continue;
    if (e.level == LogLevel::Error)
      ImGui::TextColored(kErrorText, "%s", e.message.c_str());
    else if (e.level == LogLevel::Warning)
      ImGui::TextColored(kWarningText, "%s", e.message.c_str());
    else if (e.level == LogLevel::Debug)
      ImGui::TextColored(kDimText, "%s", e.message.c_str());
    else
      ImGui::TextUnformatted(e.message.c_str());
  }
  if (scroll_log_ && ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 40) ImGui::SetScrollHereY(1.f);
  scroll_log_ = false;
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
  ImGui::End();
}

// [SECTION] scripted runs -----------------------------------------------------------------------

// Whether the view shows the newest Gaussians: their sorted splats, or the rasterizer's image of
// them for the current camera.
bool ViewerApp::view_is_current() {
  if (!snapshot_) return false;
  if (display_mode_ == DisplayMode::Splats) return splats_->size() > 0;
  return raster_shown_ && !raster_pending_ && raster_camera_ &&
         same_camera(*raster_shown_, *raster_camera_) && raster_version_ == snapshot_->version;
}

bool ViewerApp::script_failed(const std::string& why) {
  std::cerr << "glimpse-viewer: " << why << "\n";
  for (const SessionLogEntry& e : log_.entries())
    if (e.level >= LogLevel::Warning) std::cerr << "  log: " << e.message << "\n";
  exit_code_ = 1;
  quit_ = true;
  script_ = Script::Done;
  return false;
}

void ViewerApp::script_step() {
  if (script_ == Script::None || script_ == Script::Done) return;
  if (now_seconds() > script_deadline_) {
    script_failed("scripted run timed out");
    return;
  }
  if (status_ && status_->phase == SessionPhase::Failed) {
    script_failed("the session failed: " + status_->error);
    return;
  }
  const bool training = options_.train_steps > 0;
  switch (script_) {
    case Script::WaitScene:
      if (!training) {
        // A model shows its Gaussians; a dataset that waits for Start its views.
        const bool ready = status_ && status_->phase == SessionPhase::Ready &&
                           !scene_.views.empty() && thumbnails_.size() == scene_.views.size();
        if (view_is_current() || ready) {
          splats_->finish_sort();
          script_frames_ = options_.frames;
          script_ = Script::ShootEnd;
        }
        return;
      }
      if (session_.local == nullptr) {
        if (status_) script_failed("--train-steps needs a dataset folder (a local session)");
        return;
      }
      if (status_ && status_->phase == SessionPhase::Ready && config_ && !scene_.views.empty()) {
        if (!selection_.problem().empty()) {
          script_failed("cannot train: " + selection_.problem());
          return;
        }
        start_run();
        script_ = Script::WaitPaused;
      }
      return;
    case Script::WaitPaused:
      // Pause at the first training step, so the start screenshot shows the first Gaussians.
      if (status_ && status_->phase == SessionPhase::Training && !status_->paused) {
        if (options_.screenshot_start.empty()) {
          script_ = Script::WaitFinished;
          return;
        }
        command(SessionCommand::Pause);
        script_ = Script::ShootStart;
        script_frames_ = -1;  // not yet: wait for the pause and its snapshot
      } else if (status_ && session_phase_is_final(status_->phase)) {
        script_failed("the run ended before it could be paused");
      }
      return;
    case Script::ShootStart:
      if (script_frames_ < 0) {
        if (status_ && status_->paused && snapshot_ &&
            snapshot_->version >= status_->snapshot_version && view_is_current()) {
          splats_->finish_sort();
          script_frames_ = options_.frames;
        }
        return;
      }
      --script_frames_;
      if (script_frames_ == 0) splats_->finish_sort();
      return;
    case Script::WaitFinished:
      if (status_ && session_phase_is_final(status_->phase) && snapshot_ &&
          snapshot_->version >= status_->snapshot_version && snapshot_->iteration > 0 &&
          view_is_current()) {
        if (status_->phase != SessionPhase::Finished) {
          script_failed(std::string("the run ended ") + session_phase_name(status_->phase));
          return;
        }
        splats_->finish_sort();
        script_frames_ = options_.frames;
        script_ = Script::ShootEnd;
      }
      return;
    case Script::ShootEnd:
      --script_frames_;
      if (script_frames_ == 0) splats_->finish_sort();
      return;
    default:
      return;
  }
}

int ViewerApp::bench() {
  const int64_t n = options_.bench_splats;
  const int frames = std::max(options_.frames, 1);
  std::cerr << "glimpse-viewer: making " << n << " synthetic Gaussians\n";
  const Gaussians g = synthetic_cloud(n);
  Timer upload;
  splats_->set_gaussians(g);
  glFinish();
  const double upload_ms = upload.milliseconds();
  int width = 0, height = 0;
  glfwGetFramebufferSize(window_, &width, &height);
  nav_.look_at({0, -0.5, -3.0}, {0, 0, 0});
  // Warm-up: the first sorted order.
  splats_->draw(nav_.camera(width, height), draw_);
  splats_->finish_sort();
  glFinish();
  std::vector<double> frame_ms, sort_ms;
  for (int f = 0; f < frames && !glfwWindowShouldClose(window_); ++f) {
    glfwPollEvents();
    nav_.orbit(2.0 * kPi / 360.0, 0.0);  // one degree per frame: a new order every frame
    const Timer timer;
    glViewport(0, 0, width, height);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    splats_->draw(nav_.camera(width, height), draw_);
    glFinish();
    frame_ms.push_back(timer.milliseconds());
    sort_ms.push_back(splats_->last_sort_ms());
    glfwSwapBuffers(window_);
  }
  const FrameTimeSummary s = summarize_frame_times(frame_ms);
  const FrameTimeSummary so = summarize_frame_times(sort_ms);
  std::printf(
      "bench-splats: %lld Gaussians, %dx%d, %zu frames on %s\n"
      "  frame (draw + glFinish): mean %.2f ms, median %.2f ms, p95 %.2f ms, min %.2f ms "
      "(%.1f fps at the median)\n"
      "  depth sort (sorter thread, off the frame): mean %.2f ms, median %.2f ms\n"
      "  upload: %.1f ms\n",
      static_cast<long long>(n), width, height, s.frames,
      reinterpret_cast<const char*>(glGetString(GL_RENDERER)), s.mean_ms, s.median_ms, s.p95_ms,
      s.min_ms, s.median_ms > 0 ? 1000.0 / s.median_ms : 0.0, so.mean_ms, so.median_ms, upload_ms);
  return 0;
}

int ViewerApp::run() {
  create_window();
  if (options_.raster_display) {
    display_mode_ = DisplayMode::Rasterizer;
    raster_resolution_ = 1;
  }
  if (options_.bench_splats > 0) return bench();
  if (!options_.screenshot.empty()) {
    script_ = Script::WaitScene;
    script_deadline_ = now_seconds() + options_.timeout_seconds;
    options_.frames = std::max(options_.frames, 1);
  }
  if (!options_.connect_url.empty())
    connect(options_.connect_url, options_.token);
  else if (!options_.path.empty())
    open_path(options_.path);
  open_text_ = options_.path;
  while (!quit_ && !glfwWindowShouldClose(window_)) {
    // Wake for input, else at 20 Hz (scripted runs: 50 Hz) to show the session's news; never
    // spin, so a software renderer leaves the CPU to a local training run.
    glfwWaitEventsTimeout(script_ == Script::None ? 0.05 : 0.02);
    frame();
    script_step();
  }
  return exit_code_;
}

}  // namespace

int run_viewer(const ViewerOptions& options) {
  ViewerApp app(options);
  return app.run();
}

}  // namespace glimpse::viewer
