// The local session (see session.h): a worker thread runs TrainRun's stages, and between two
// training steps drains the commands and the tasks other threads queued (renders, exports,
// settings). Everything the clients read is copied under one mutex; the Gaussians are copied only
// when a client has asked for a snapshot since the last one, at most every snapshot_interval.
#include "app/session.h"

#include "app/export_command.h"
#include "app/progress.h"
#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "eval/metrics.h"
#include "io/image_io.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace glimpse {
namespace {

constexpr size_t kMaxLogEntries = 1000;
constexpr size_t kMaxCurveReply = 100000;
constexpr int kThumbnailSide = 256;       // thumbnails kept per view (longest side)
constexpr double kStatusSmoothing = 0.1;  // weight of the newest step in the step-time averages

// 8 bits of an (RGB) image reduced to fit max_side (area filter), never enlarged.
Image<uint8_t> to_thumbnail(const Image<float>& image, int max_side) {
  const int w = image.width(), h = image.height();
  const double s = std::min(1.0, static_cast<double>(max_side) / std::max(w, h));
  const int tw = std::max(1, static_cast<int>(std::lround(w * s)));
  const int th = std::max(1, static_cast<int>(std::lround(h * s)));
  return to_bytes((tw == w && th == h) ? image : resize_image_area(image, tw, th));
}

Image<uint8_t> shrink_thumbnail(const Image<uint8_t>& t, int max_side) {
  if (std::max(t.width(), t.height()) <= max_side) return t;
  Image<float> f(t.width(), t.height(), 3);
  for (size_t i = 0; i < t.vector().size(); ++i) f.vector()[i] = t.vector()[i] / 255.f;
  return to_thumbnail(f, max_side);
}

}  // namespace

struct Session::Impl {
  SessionOptions options;

  std::mutex mutex;
  std::condition_variable wake;   // the worker: a command, a task, or the end
  std::condition_variable ended;  // wait(): the run reached a final phase
  // [SECTION] what clients read (under mutex)
  SessionStatus status;
  std::vector<SessionCurvePoint> curve;
  int curve_stride = 1;  // keep every curve_stride-th step once the curve is full
  std::vector<SessionTestPoint> tests;
  std::deque<SessionLogEntry> log;
  SessionScene scene;
  std::vector<Image<uint8_t>> thumbnails;
  std::shared_ptr<const SplatSnapshot> snapshot;
  bool snapshot_wanted = false;
  Timer since_snapshot;
  // [SECTION] requests (under mutex)
  bool start_requested = false, stop_requested = false, paused = false, save_requested = false;
  int single_steps = 0;
  std::deque<std::function<void()>> tasks;
  bool closing = false;
  // [SECTION] the outcome
  std::exception_ptr failure;
  std::optional<TrainResult> result;
  // [SECTION] the worker's own
  std::unique_ptr<TrainRun> run;             // touched only by the worker thread
  std::atomic<std::thread::id> worker_id{};  // set by the worker first thing, read by others
  int log_listener = 0;
  std::thread worker;

  explicit Impl(SessionOptions o) : options(std::move(o)) {
    status.dataset = options.config.dataset;
    status.output = options.config.output;
    status.total_iterations = options.config.trainer.iterations;
  }

  void set_phase(SessionPhase phase, const std::string& detail) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      status.phase = phase;
      status.phase_detail = detail;
      status.phase_fraction = -1;
    }
    ended.notify_all();
  }

  // Runs `task` on the worker and returns its result (or rethrows its exception).
  template <typename F>
  auto on_worker(F task) -> decltype(task()) {
    using R = decltype(task());
    if (std::this_thread::get_id() == worker_id.load()) return task();
    auto promise = std::make_shared<std::promise<R>>();
    std::future<R> future = promise->get_future();
    {
      std::lock_guard<std::mutex> lock(mutex);
      GLIMPSE_CHECK(!closing) << "the session is closing";
      tasks.push_back([promise, task]() mutable {
        try {
          if constexpr (std::is_void_v<R>) {
            task();
            promise->set_value();
          } else {
            promise->set_value(task());
          }
        } catch (...) {
          promise->set_exception(std::current_exception());
        }
      });
    }
    wake.notify_all();
    return future.get();
  }

  // The queued tasks, run outside the lock (the caller holds `lock`).
  void run_tasks(std::unique_lock<std::mutex>& lock) {
    while (!tasks.empty()) {
      std::function<void()> task = std::move(tasks.front());
      tasks.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  void publish_snapshot_if_wanted(bool force) {
    if (!run || !run->prepared()) return;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!snapshot_wanted) return;
      if (!force && since_snapshot.seconds() < options.snapshot_interval) return;
      // Unchanged since the last one (paused, finished): nothing new to copy.
      if (snapshot && snapshot->iteration == run->trainer().iteration() &&
          snapshot->gaussians.size() == run->trainer().gaussians().size())
        return;
    }
    auto s = std::make_shared<SplatSnapshot>();
    s->iteration = run->trainer().iteration();
    s->gaussians = run->trainer().gaussians();  // the copy, outside the lock
    std::lock_guard<std::mutex> lock(mutex);
    s->version = ++status.snapshot_version;
    snapshot = std::move(s);
    snapshot_wanted = false;
    since_snapshot = Timer();
  }

  void record_step(const StepStats& stats) {
    const ProgressFigures* f = run->progress();
    std::lock_guard<std::mutex> lock(mutex);
    status.iteration = stats.iteration;
    status.num_gaussians = stats.num_gaussians;
    if (status.total_iterations > 0)
      status.phase_fraction = static_cast<double>(stats.iteration) / status.total_iterations;
    if (f) {
      status.its_per_second = f->its_per_second;
      status.loss = f->loss;
      status.psnr = f->psnr;
      status.eta_seconds = f->eta_seconds;
    }
    const double a = status.step_ms == 0 ? 1.0 : kStatusSmoothing;
    status.step_ms += a * (stats.seconds * 1000.0 - status.step_ms);
    const auto phases = stats.phases.values();
    for (size_t i = 0; i < phases.size(); ++i)
      status.phase_ms[i] += a * (phases[i] * 1000.0 - status.phase_ms[i]);
    if (stats.iteration % curve_stride == 0) {
      curve.push_back(
          {stats.iteration, stats.loss, stats.psnr, stats.num_gaussians, stats.seconds * 1000.0});
      if (static_cast<int>(curve.size()) >= options.max_curve_points) {
        // Full: keep every other point and from now on every 2x-th step.
        std::vector<SessionCurvePoint> kept;
        for (size_t i = 1; i < curve.size(); i += 2) kept.push_back(curve[i]);
        curve = std::move(kept);
        curve_stride *= 2;
      }
    }
    const auto& h = run->result().test_psnr_history;
    const auto& hs = run->result().test_ssim_history;
    if (h.size() > tests.size()) {
      tests.push_back({h.back().first, h.back().second, hs.empty() ? 0.0 : hs.back().second});
      status.test_psnr = h.back().second;
    }
  }

  // Waits in the Ready phase for Start or Stop, serving tasks. True: start.
  bool wait_for_start() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      run_tasks(lock);
      if (stop_requested || closing) return false;
      if (start_requested) return true;
      wake.wait(lock);
    }
  }

  // Between steps: tasks, save, stop and pause. True: take another step.
  bool before_step() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      run_tasks(lock);
      if (stop_requested || closing) return false;
      if (save_requested) {
        save_requested = false;
        lock.unlock();
        run->save();
        lock.lock();
        continue;
      }
      if (!paused) return true;
      if (single_steps > 0) {
        --single_steps;
        return true;
      }
      status.paused = true;
      // Paused: publish what a watcher asks for, then sleep until a command or a task.
      lock.unlock();
      publish_snapshot_if_wanted(true);
      lock.lock();
      wake.wait_for(lock, std::chrono::milliseconds(50));
    }
  }

  void main() {
    worker_id = std::this_thread::get_id();
    // Long stages (multi-view stereo) report their progress as the phase's fraction.
    const ScopedStageProgress stage_progress([this](double fraction, const std::string& what) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        status.phase_detail = what;
        status.phase_fraction = fraction;
      }
    });
    try {
      TrainRunOptions run_options = options.run;
      run_options.on_phase = [this, hook = options.run.on_phase](SessionPhase p,
                                                                 const std::string& d) {
        set_phase(p, d);
        if (hook) hook(p, d);
      };
      run = std::make_unique<TrainRun>(options.config, run_options);
      run->load();
      {
        std::lock_guard<std::mutex> lock(mutex);
        status.device = run->result().device;
      }
      publish_scene();
      set_phase(SessionPhase::Ready, "");
      if (!options.start && !wait_for_start()) {
        set_phase(SessionPhase::Stopped, "stopped before training");
      } else {
        run->prepare();
        {
          std::lock_guard<std::mutex> lock(mutex);
          status.iteration = run->trainer().iteration();
          status.num_gaussians = static_cast<int64_t>(run->trainer().gaussians().size());
          status.total_iterations = run->config().trainer.iterations;
        }
        publish_snapshot_if_wanted(true);
        bool stopped = false;
        while (!run->done()) {
          if (!before_step()) {
            stopped = true;
            break;
          }
          {
            std::lock_guard<std::mutex> lock(mutex);
            status.paused = paused && single_steps == 0;
          }
          record_step(run->step());
          publish_snapshot_if_wanted(false);
        }
        {
          std::lock_guard<std::mutex> lock(mutex);
          status.paused = false;
        }
        if (stopped) {
          run->save();
          set_phase(SessionPhase::Stopped,
                    "stopped at iteration " + std::to_string(run->trainer().iteration()));
        } else {
          TrainResult r = run->finish();
          {
            std::lock_guard<std::mutex> lock(mutex);
            if (!r.test.views.empty()) {
              tests.push_back({r.final_iteration, r.test.mean_psnr, r.test.mean_ssim});
              status.test_psnr = r.test.mean_psnr;
            }
            result = std::move(r);
          }
          publish_snapshot_if_wanted(true);
          set_phase(SessionPhase::Finished, "");
        }
      }
    } catch (const std::exception& e) {
      {
        // Into the log panel directly: the client that waits reports the error itself.
        std::lock_guard<std::mutex> lock(mutex);
        log.push_back(
            {++status.log_sequence, LogLevel::Error, error_message_without_location(e.what())});
        failure = std::current_exception();
        status.error = error_message_without_location(e.what());
        status.paused = false;
      }
      set_phase(SessionPhase::Failed, "");
    }
    // Final: serve renders and exports until the session is destroyed.
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      run_tasks(lock);
      if (closing) break;
      wake.wait(lock);
    }
    // Tasks queued after closing was set are refused by on_worker; none remain here.
  }

  void publish_scene() {
    const Dataset& d = run->dataset();
    SessionScene s;
    s.root = d.root.empty() ? options.config.dataset : d.root;
    s.format = d.format;
    s.near_depth = d.near_depth;
    s.far_depth = d.far_depth;
    std::vector<Image<uint8_t>> thumbs;
    for (size_t i = 0; i < d.views.size(); ++i) {
      SessionView v;
      v.index = static_cast<int>(i);
      v.name = d.views[i].name;
      v.camera = d.views[i].camera;
      s.views.push_back(std::move(v));
      thumbs.push_back(d.views[i].image.empty() ? Image<uint8_t>(1, 1, 3)
                                                : to_thumbnail(d.views[i].image, kThumbnailSide));
    }
    mark_split(s);
    std::lock_guard<std::mutex> lock(mutex);
    scene = std::move(s);
    thumbnails = std::move(thumbs);
  }

  // The scene's train/test flags from the run's current split (the caller holds no lock).
  void mark_split(SessionScene& s) const {
    for (SessionView& v : s.views) v.train = v.test = false;
    for (int id : run->train_ids()) s.views[id].train = true;
    for (int id : run->test_ids()) s.views[id].test = true;
  }

  void update_split() {
    SessionScene s;
    {
      std::lock_guard<std::mutex> lock(mutex);
      s = scene;
    }
    mark_split(s);
    std::lock_guard<std::mutex> lock(mutex);
    scene = std::move(s);
  }
};

Session::Session(SessionOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl* impl = impl_.get();
  impl_->log_listener = add_log_listener([impl](LogLevel level, const std::string& message) {
    if (std::this_thread::get_id() != impl->worker_id.load()) return;
    std::lock_guard<std::mutex> lock(impl->mutex);
    impl->log.push_back({++impl->status.log_sequence, level, message});
    if (impl->log.size() > kMaxLogEntries) impl->log.pop_front();
  });
  impl_->worker = std::thread([impl] { impl->main(); });
}

Session::~Session() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->closing = true;
    impl_->stop_requested = true;
  }
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  remove_log_listener(impl_->log_listener);
}

void Session::set_train_views(const std::vector<int>& ids) {
  impl_->on_worker([&] {
    GLIMPSE_CHECK(status().phase == SessionPhase::Ready)
        << "the training views can change only before training starts (the session is "
        << session_phase_name(status().phase) << ")";
    impl_->run->set_train_views(ids);
    impl_->update_split();
    GLIMPSE_LOG(Info) << "session: training views " << ids.size() << ", test views "
                      << impl_->run->test_ids().size();
  });
}

void Session::set_config(const TrainConfig& config) {
  impl_->on_worker([&] {
    GLIMPSE_CHECK(status().phase == SessionPhase::Ready)
        << "the settings can change only before training starts (the session is "
        << session_phase_name(status().phase) << ")";
    impl_->run->set_config(config);
    impl_->update_split();
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->status.total_iterations = config.trainer.iterations;
  });
}

TrainConfig Session::config() {
  return impl_->on_worker(
      [&] { return impl_->run ? impl_->run->config() : impl_->options.config; });
}

TrainResult Session::wait() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->ended.wait(lock, [&] { return session_phase_is_final(impl_->status.phase); });
  if (impl_->failure) std::rethrow_exception(impl_->failure);
  GLIMPSE_CHECK(impl_->result.has_value())
      << "the run was stopped at iteration " << impl_->status.iteration << " before it finished";
  return *impl_->result;
}

SessionStatus Session::status() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->status;
}

std::vector<SessionCurvePoint> Session::curve(int after_iteration) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto& c = impl_->curve;
  auto it = std::upper_bound(c.begin(), c.end(), after_iteration,
                             [](int i, const SessionCurvePoint& p) { return i < p.iteration; });
  std::vector<SessionCurvePoint> out(it, c.end());
  if (out.size() > kMaxCurveReply) out.resize(kMaxCurveReply);
  return out;
}

std::vector<SessionTestPoint> Session::tests() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->tests;
}

std::vector<SessionLogEntry> Session::log(uint64_t after_sequence) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<SessionLogEntry> out;
  for (const SessionLogEntry& e : impl_->log)
    if (e.sequence > after_sequence) out.push_back(e);
  return out;
}

SessionScene Session::scene() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->scene;
}

Image<uint8_t> Session::thumbnail(int view_index, int max_side) {
  GLIMPSE_CHECK(max_side >= 1) << "thumbnail size must be at least 1 pixel, got " << max_side;
  Image<uint8_t> t;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    const int n = static_cast<int>(impl_->thumbnails.size());
    GLIMPSE_CHECK(view_index >= 0 && view_index < n)
        << "view " << view_index << " does not exist (the scene has " << n << " views)";
    t = impl_->thumbnails[view_index];
  }
  return shrink_thumbnail(t, max_side);
}

std::shared_ptr<const SplatSnapshot> Session::snapshot(uint64_t newer_than) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->snapshot && impl_->snapshot->version > newer_than) return impl_->snapshot;
  impl_->snapshot_wanted = true;
  return nullptr;
}

void Session::command(SessionCommand command) {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    const SessionPhase phase = s.status.phase;
    // Pause, resume and step act on the training loop; before it runs they decide how it starts
    // (a run paused in the Ready phase waits at its first step).
    const bool training = phase != SessionPhase::Idle && !session_phase_is_final(phase);
    auto refuse = [&](const char* allowed) {
      GLIMPSE_FAIL() << "cannot " << session_command_name(command) << " now: the session is "
                     << session_phase_name(phase) << " (" << allowed << ")";
    };
    switch (command) {
      case SessionCommand::Start:
        if (phase != SessionPhase::Ready && phase != SessionPhase::Loading)
          refuse("start is for a loaded session waiting to train");
        s.start_requested = true;
        break;
      case SessionCommand::Pause:
        if (!training) refuse("pause is for a training run");
        s.paused = true;
        break;
      case SessionCommand::Resume:
        if (!training) refuse("resume is for a training run");
        s.paused = false;
        s.single_steps = 0;
        break;
      case SessionCommand::Step:
        if (!training) refuse("step is for a training run");
        s.paused = true;
        ++s.single_steps;
        break;
      case SessionCommand::Stop:
        if (session_phase_is_final(phase)) refuse("the run has ended");
        s.stop_requested = true;
        break;
      case SessionCommand::Save:
        if (phase != SessionPhase::Training) refuse("save is for a training run");
        s.save_requested = true;
        break;
    }
  }
  s.wake.notify_all();
  GLIMPSE_LOG(Debug) << "session: " << session_command_name(command);
}

ViewRender Session::render(const Camera& camera, int view_index) {
  return impl_->on_worker([&] {
    Impl& s = *impl_;
    GLIMPSE_CHECK(s.run && s.run->prepared())
        << "nothing to render yet: the session is " << session_phase_name(status().phase);
    ViewRender out;
    out.view_index = view_index;
    out.iteration = s.run->trainer().iteration();
    Camera cam = camera;
    const Dataset& d = s.run->dataset();
    if (view_index >= 0) {
      GLIMPSE_CHECK(view_index < static_cast<int>(d.views.size()))
          << "view " << view_index << " does not exist (the scene has " << d.views.size()
          << " views)";
      cam = d.views[view_index].camera;
    }
    check_camera(cam, "the camera to render");
    RenderOutput r = s.run->render(cam);
    for (float& v : r.rgb.vector()) v = std::clamp(v, 0.f, 1.f);
    out.render = std::move(r.rgb);
    out.depth = std::move(r.depth);
    if (view_index >= 0 && !d.views[view_index].image.empty()) {
      const Image<float>& truth = d.views[view_index].image;
      out.truth = truth;
      out.error = Image<float>(truth.width(), truth.height(), 1);
      for (int y = 0; y < truth.height(); ++y)
        for (int x = 0; x < truth.width(); ++x) {
          float e = 0;
          for (int c = 0; c < 3; ++c) e += std::abs(out.render.at(x, y, c) - truth.at(x, y, c));
          out.error.at(x, y) = e / 3.f;
        }
      out.psnr = psnr(out.render, truth);
    }
    return out;
  });
}

void Session::export_model(const SessionExport& request) {
  impl_->on_worker([&] {
    Impl& s = *impl_;
    GLIMPSE_CHECK(s.run && s.run->prepared())
        << "nothing to export yet: the session is " << session_phase_name(status().phase);
    const SessionPhase was = status().phase;
    s.set_phase(SessionPhase::Exporting, request.output);
    try {
      s.run->save();
      ExportOptions e;
      e.input = s.run->config().output;
      e.iteration = s.run->trainer().iteration();
      e.output = request.output;
      e.format = request.format;
      e.threads = s.run->config().threads;
      if (request.crop) {
        const auto& c = *request.crop;
        e.crop = WorldBox{{c[0], c[1], c[2]}, {c[3], c[4], c[5]}};
      }
      e.check();
      const ExportReport report = run_export(e);
      GLIMPSE_LOG(Info) << "session: exported " << report.exported << " of " << report.gaussians
                        << " Gaussians to " << request.output << " (" << report.format << ")";
    } catch (...) {
      s.set_phase(was, "");
      throw;
    }
    s.set_phase(was, "");
  });
}

std::string Session::describe() { return "local: " + impl_->options.config.dataset; }

}  // namespace glimpse
