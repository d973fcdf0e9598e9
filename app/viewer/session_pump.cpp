// The viewer's session thread (see session_pump.h).
#include "app/viewer/session_pump.h"

#include "core/check.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace glimpse::viewer {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string message_of(const std::exception& e) { return error_message_without_location(e.what()); }

}  // namespace

void SessionPump::set_snapshot_interval(double seconds) {
  snapshot_seconds_ = std::max(options_.snapshot_seconds, seconds);
}

SessionPump::SessionPump(std::shared_ptr<SessionClient> client, SessionPumpOptions options)
    : client_(std::move(client)),
      options_(options),
      snapshot_seconds_(options.snapshot_seconds),
      backoff_(options.retry_first_seconds, options.retry_max_seconds) {
  GLIMPSE_CHECK(client_ != nullptr) << "internal error: no session";
  thread_ = std::thread([this] { loop(); });
}

SessionPump::~SessionPump() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  thread_.join();
}

SessionPump::Update SessionPump::take() {
  const std::lock_guard lock(mutex_);
  Update out = std::move(update_);
  update_ = Update{};
  update_.connection = out.connection;  // a state, not an event: it stays until it changes
  return out;
}

void SessionPump::post(std::string what, Job job, std::string key) {
  {
    const std::lock_guard lock(mutex_);
    bool replaced = false;
    if (!key.empty())
      for (Queued& q : jobs_)
        if (q.key == key) {
          q.what = std::move(what);
          q.job = std::move(job);
          replaced = true;
          break;
        }
    if (!replaced) jobs_.push_back({std::move(what), std::move(key), std::move(job)});
  }
  wake_.notify_all();
}

void SessionPump::refresh_scene() {
  const std::lock_guard lock(mutex_);
  scene_dirty_ = true;
}

int SessionPump::pending_jobs() {
  const std::lock_guard lock(mutex_);
  return static_cast<int>(jobs_.size()) + running_;
}

void SessionPump::loop() {
  double next_poll = 0;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (!jobs_.empty()) {
      Queued q = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
      lock.unlock();
      Done done;
      std::string error;
      try {
        done = q.job(*client_);
      } catch (const std::exception& e) {
        error = q.what + ": " + message_of(e);
      }
      lock.lock();
      --running_;
      if (done) update_.done.push_back(std::move(done));
      if (!error.empty()) update_.errors.push_back(std::move(error));
      continue;
    }
    const double now = now_seconds();
    if (now >= next_poll) {
      lock.unlock();
      if (backoff_.due(now)) poll(now);
      lock.lock();
      update_.connection = backoff_.message(now_seconds());
      next_poll = now_seconds() + options_.poll_seconds;
      continue;
    }
    wake_.wait_for(lock, std::chrono::duration<double>(next_poll - now));
  }
}

void SessionPump::poll(double now) {
  SessionClient& c = *client_;
  try {
    Update u;
    if (!have_description_) {
      u.description = c.describe();
      have_description_ = true;
    }
    const SessionStatus status = c.status();
    // Log: a sequence below the last seen means the session restarted its numbering.
    if (status.log_sequence < log_last_) log_last_ = 0;
    if (status.log_sequence > log_last_) {
      u.log = c.log(log_last_);
      for (const SessionLogEntry& e : u.log) log_last_ = std::max(log_last_, e.sequence);
    }
    // Curves: an iteration below the last point means a new run.
    if (status.iteration < curve_last_) {
      u.curve_reset = true;
      curve_last_ = -1;
    }
    if (status.iteration > curve_last_ || curve_last_ < 0) {
      u.curve = c.curve(curve_last_);
      if (!u.curve.empty()) curve_last_ = u.curve.back().iteration;
    }
    const bool phase_changed = !phase_ || *phase_ != status.phase;
    phase_ = status.phase;
    bool scene_dirty;
    {
      const std::lock_guard lock(mutex_);
      scene_dirty = scene_dirty_;
      scene_dirty_ = false;
    }
    if (phase_changed || scene_dirty) u.scene = c.scene();
    const bool tests_changed = std::isnan(status.test_psnr) != std::isnan(test_psnr_) ||
                               (!std::isnan(status.test_psnr) && status.test_psnr != test_psnr_);
    if (phase_changed || tests_changed) {
      u.tests = c.tests();
      test_psnr_ = status.test_psnr;
    }
    if (now >= next_snapshot_) {
      next_snapshot_ = now + snapshot_seconds_.load();
      u.snapshot = c.snapshot(snapshot_version_);
      if (u.snapshot) snapshot_version_ = u.snapshot->version;
    }
    u.status = status;
    const bool was_lost = !backoff_.connected();
    backoff_.succeeded();

    const std::lock_guard lock(mutex_);
    if (u.description) update_.description = std::move(u.description);
    update_.status = std::move(u.status);
    if (u.scene) update_.scene = std::move(u.scene);
    if (u.snapshot) update_.snapshot = std::move(u.snapshot);
    update_.log.insert(update_.log.end(), u.log.begin(), u.log.end());
    if (u.curve_reset) {
      update_.curve_reset = true;
      update_.curve.clear();
    }
    update_.curve.insert(update_.curve.end(), u.curve.begin(), u.curve.end());
    if (u.tests) update_.tests = std::move(u.tests);
    if (was_lost) update_.notes.push_back("connection restored");
  } catch (const std::exception& e) {
    const bool first = backoff_.connected();
    backoff_.failed(now);
    // Re-read everything once it is back (a restarted run numbers its log and steps anew).
    phase_.reset();
    if (first) {
      const std::lock_guard lock(mutex_);
      update_.errors.push_back(message_of(e));
    }
  }
}

}  // namespace glimpse::viewer
