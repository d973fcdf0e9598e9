// A scripted, thread-safe SessionClient for the tests of its front ends (the HTTP link, the
// viewer): state set in code, every command, render and export it receives recorded.
#pragma once

#include "app/session_client.h"
#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace glimpse::testing {

// n Gaussians with varied parameters, the same for the same seed: positions in [-2, 2]^3, log
// scales in [-5, 0], random unit rotations (either sign of w), opacity logits in [-6, 6], DC
// colours inside [0, 1] and small higher bands when sh_degree > 0.
inline Gaussians make_fake_gaussians(size_t n, int sh_degree = 1, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Gaussians g;
  g.sh_degree = sh_degree;
  g.resize(n);
  const size_t k = static_cast<size_t>(g.sh_coeffs());
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      g.means[3 * i + c] = 2.f * u(rng);
      g.log_scales[3 * i + c] = -2.5f + 2.5f * u(rng);
    }
    float q[4], norm2 = 0;
    for (float& v : q) v = u(rng), norm2 += v * v;
    if (norm2 < 1e-4f) q[0] = 1, norm2 = 1;
    for (int c = 0; c < 4; ++c) g.quats[4 * i + c] = q[c] / std::sqrt(norm2);
    g.opacity_logits[i] = 6.f * u(rng);
    for (size_t j = 0; j < k; ++j)
      for (int c = 0; c < 3; ++c)
        g.sh[(i * k + j) * 3 + c] =
            j == 0 ? static_cast<float>(0.45 * u(rng) / kShC0) : 0.1f * u(rng);
  }
  return g;
}

// A scene of `num_views` views on a circle looking at the origin, with unround intrinsics and
// poses (so that exact round trips mean something); the last view is a test view.
inline SessionScene make_fake_scene(int num_views = 3) {
  SessionScene scene;
  scene.root = "/data/fake scene";
  scene.format = "llff";
  scene.near_depth = 0.3712;
  scene.far_depth = 12.25;
  for (int i = 0; i < num_views; ++i) {
    SessionView v;
    v.index = i;
    v.name = "view_" + std::to_string(i) + ".png";
    v.train = i + 1 < num_views;
    v.test = !v.train;
    Camera& c = v.camera;
    c.width = 40 + 8 * i;
    c.height = 30 + 2 * i;
    c.fx = 41.123456789 + i / 3.0;
    c.fy = 40.987654321 + i / 7.0;
    c.cx = c.width / 2.0 + 0.1;
    c.cy = c.height / 2.0 - 0.2;
    // Rotation about y by angle a: the camera at (4 sin a, 0, -4 cos a) looking at the origin.
    const double a = 0.4 * i + 0.123;
    c.rotation = Mat3<double>::identity();
    c.rotation.m[0][0] = std::cos(a), c.rotation.m[0][2] = -std::sin(a);
    c.rotation.m[2][0] = std::sin(a), c.rotation.m[2][2] = std::cos(a);
    c.translation = {0.01 * i, -0.02, 4.0 + 1.0 / 3.0};
    scene.views.push_back(v);
  }
  return scene;
}

// The fake's deterministic images: thumbnails and renders (see FakeSessionClient).
inline uint8_t fake_thumbnail_value(int view, int x, int y, int c) {
  return static_cast<uint8_t>((7 * x + 3 * y + 50 * c + 11 * view) % 256);
}
inline float fake_render_value(int x, int y, int c, int width, int height) {
  return static_cast<float>((x + 0.5) / width * (c == 0) + (y + 0.5) / height * (c == 1) +
                            0.25 * (c == 2));
}
inline float fake_depth_value(int x, int y) { return 2.0f + 0.01f * x + 0.003f * y; }
inline float fake_truth_value(int x, int y, int c) {
  return static_cast<float>(((x * 13 + y * 5 + c * 3) % 17) / 16.0);
}

class FakeSessionClient : public SessionClient {
 public:
  struct RenderCall {
    Camera camera;
    int view_index = -1;
  };

  // Training at iteration 120 of 1000 with a scene of 3 views, a snapshot of 50 Gaussians
  // (version 3), 10 curve points (iterations 10, 20, ..., 100), 2 test points and 5 log entries.
  FakeSessionClient() {
    status_.phase = SessionPhase::Training;
    status_.phase_detail = "step";
    status_.phase_fraction = 0.12;
    status_.iteration = 120;
    status_.total_iterations = 1000;
    status_.its_per_second = 87.5;
    status_.loss = 0.0456789;
    status_.psnr = 24.125;
    status_.eta_seconds = 10.0571;
    status_.step_ms = 11.42857142857;
    for (size_t i = 0; i < status_.phase_ms.size(); ++i) status_.phase_ms[i] = 0.5 * i + 0.01;
    status_.dataset = "/data/fake scene";
    status_.device = "cpu";
    scene_ = make_fake_scene(3);
    for (int i = 1; i <= 10; ++i)
      curve_.push_back({10 * i, 0.1 / i, 15.0 + i * 0.7, 1000 + 37 * i, 10.0 + 1.0 / i});
    tests_ = {{50, 18.5, 0.61}, {100, 20.25, 0.7}};
    const LogLevel levels[] = {LogLevel::Info, LogLevel::Warning, LogLevel::Info, LogLevel::Error,
                               LogLevel::Debug};
    for (uint64_t s = 1; s <= 5; ++s)
      log_.push_back({s, levels[s - 1], "message " + std::to_string(s) + " \"quoted\" ünïcode"});
    status_.log_sequence = 5;
    auto snapshot = std::make_shared<SplatSnapshot>();
    snapshot->version = 3;
    snapshot->iteration = 120;
    snapshot->gaussians = make_fake_gaussians(50);
    set_snapshot(snapshot);
  }

  // ---- scripting (thread-safe)
  void set_status(const SessionStatus& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status;
  }
  void set_curve(std::vector<SessionCurvePoint> curve) {
    std::lock_guard<std::mutex> lock(mutex_);
    curve_ = std::move(curve);
  }
  void set_tests(std::vector<SessionTestPoint> tests) {
    std::lock_guard<std::mutex> lock(mutex_);
    tests_ = std::move(tests);
  }
  void set_log(std::vector<SessionLogEntry> log) {
    std::lock_guard<std::mutex> lock(mutex_);
    log_ = std::move(log);
    status_.log_sequence = log_.empty() ? 0 : log_.back().sequence;
  }
  void set_scene(SessionScene scene) {
    std::lock_guard<std::mutex> lock(mutex_);
    scene_ = std::move(scene);
  }
  // Also sets the status' snapshot_version, iteration and num_gaussians.
  void set_snapshot(std::shared_ptr<const SplatSnapshot> snapshot) {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot_ = std::move(snapshot);
    if (snapshot_ != nullptr) {
      status_.snapshot_version = snapshot_->version;
      status_.num_gaussians = static_cast<int64_t>(snapshot_->gaussians.size());
    }
  }
  // While non-empty, command, render and export_model throw glimpse::Error with this message
  // (what a session does for a command the phase does not allow).
  void set_refusal(std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    refusal_ = std::move(message);
  }
  // Whether export_model writes a small file at the requested path (default true).
  void set_write_exports(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    write_exports_ = on;
  }

  // ---- what it received
  std::vector<SessionCommand> commands() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return commands_;
  }
  std::vector<RenderCall> renders() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return renders_;
  }
  std::vector<SessionExport> exports() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return exports_;
  }
  int snapshot_requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return snapshot_requests_;
  }

  // ---- SessionClient
  SessionStatus status() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }
  std::vector<SessionCurvePoint> curve(int after_iteration) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<SessionCurvePoint> out;
    for (const SessionCurvePoint& p : curve_)
      if (p.iteration > after_iteration && out.size() < 100000) out.push_back(p);
    return out;
  }
  std::vector<SessionTestPoint> tests() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return tests_;
  }
  std::vector<SessionLogEntry> log(uint64_t after_sequence) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<SessionLogEntry> out;
    for (const SessionLogEntry& e : log_)
      if (e.sequence > after_sequence) out.push_back(e);
    return out;
  }
  SessionScene scene() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return scene_;
  }
  // The view's aspect ratio fitted into max_side, pixels fake_thumbnail_value.
  Image<uint8_t> thumbnail(int view_index, int max_side) override {
    std::lock_guard<std::mutex> lock(mutex_);
    check_view(view_index);
    const Camera& c = scene_.views[view_index].camera;
    const double s = std::min(1.0, double(max_side) / std::max(c.width, c.height));
    Image<uint8_t> image(std::max(1, int(c.width * s)), std::max(1, int(c.height * s)), 3);
    for (int y = 0; y < image.height(); ++y)
      for (int x = 0; x < image.width(); ++x)
        for (int ch = 0; ch < 3; ++ch)
          image.at(x, y, ch) = fake_thumbnail_value(view_index, x, y, ch);
    return image;
  }
  std::shared_ptr<const SplatSnapshot> snapshot(uint64_t newer_than) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++snapshot_requests_;
    if (snapshot_ == nullptr || snapshot_->version <= newer_than) return nullptr;
    return snapshot_;
  }
  // Pause/Resume set status.paused, Stop makes the phase Stopped; all are recorded.
  void command(SessionCommand command) override {
    std::lock_guard<std::mutex> lock(mutex_);
    GLIMPSE_CHECK(refusal_.empty()) << refusal_;
    commands_.push_back(command);
    if (command == SessionCommand::Pause) status_.paused = true;
    if (command == SessionCommand::Resume) status_.paused = false;
    if (command == SessionCommand::Stop) status_.phase = SessionPhase::Stopped;
  }
  // render and depth at the camera's size (fake_render_value, fake_depth_value); for a view also
  // truth (fake_truth_value), error |render - truth| averaged and psnr 31.5.
  ViewRender render(const Camera& camera, int view_index) override {
    std::lock_guard<std::mutex> lock(mutex_);
    GLIMPSE_CHECK(refusal_.empty()) << refusal_;
    if (view_index >= 0) check_view(view_index);
    renders_.push_back({camera, view_index});
    ViewRender r;
    r.view_index = view_index;
    r.iteration = status_.iteration;
    const int w = camera.width, h = camera.height;
    r.render = Image<float>(w, h, 3);
    r.depth = Image<float>(w, h, 1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c) r.render.at(x, y, c) = fake_render_value(x, y, c, w, h);
        r.depth.at(x, y) = fake_depth_value(x, y);
      }
    if (view_index >= 0) {
      r.truth = Image<float>(w, h, 3);
      r.error = Image<float>(w, h, 1);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          float e = 0;
          for (int c = 0; c < 3; ++c) {
            r.truth.at(x, y, c) = fake_truth_value(x, y, c);
            e += std::abs(r.render.at(x, y, c) - r.truth.at(x, y, c)) / 3.f;
          }
          r.error.at(x, y) = e;
        }
      r.psnr = 31.5;
    }
    return r;
  }
  void export_model(const SessionExport& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    GLIMPSE_CHECK(refusal_.empty()) << refusal_;
    exports_.push_back(request);
    if (write_exports_) {
      std::ofstream out(request.output);
      GLIMPSE_CHECK(out.good()) << "cannot write " << request.output;
      out << "fake export\n";
    }
  }
  std::string describe() override { return "fake"; }

 private:
  void check_view(int view_index) const {
    GLIMPSE_CHECK(view_index >= 0 && view_index < static_cast<int>(scene_.views.size()))
        << "view " << view_index << " is out of range";
  }

  mutable std::mutex mutex_;
  SessionStatus status_;
  SessionScene scene_;
  std::vector<SessionCurvePoint> curve_;
  std::vector<SessionTestPoint> tests_;
  std::vector<SessionLogEntry> log_;
  std::shared_ptr<const SplatSnapshot> snapshot_;
  std::string refusal_;
  bool write_exports_ = true;
  std::vector<SessionCommand> commands_;
  std::vector<RenderCall> renders_;
  std::vector<SessionExport> exports_;
  int snapshot_requests_ = 0;
};

}  // namespace glimpse::testing
