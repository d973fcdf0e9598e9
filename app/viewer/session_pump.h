// The viewer's link to its session: a thread that polls the SessionClient (status, log, curves,
// tests, scene, snapshots) and runs the UI's jobs (commands, renders, exports, thumbnails), so a
// slow render or a lost remote connection never stalls a frame. Failed jobs become error
// messages; failed polls are retried with backoff ("connection lost, retrying in 4 s").
#pragma once

#include "app/session_client.h"
#include "app/viewer/ui_state.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace glimpse::viewer {

struct SessionPumpOptions {
  double poll_seconds = 0.1;       // status, log, curves
  double snapshot_seconds = 0.25;  // how often a new snapshot is asked for
  double retry_first_seconds = 1;  // backoff after a failed poll, doubling
  double retry_max_seconds = 30;
};

class SessionPump {
 public:
  // Asks for snapshots at most this often (at least options.snapshot_seconds): a display that
  // draws slowly (a software renderer sharing the CPU with training) asks less often.
  void set_snapshot_interval(double seconds);
  using Done = std::function<void()>;               // runs on the UI thread (in take's caller)
  using Job = std::function<Done(SessionClient&)>;  // runs on the pump's thread

  // What changed since the last take().
  struct Update {
    std::optional<SessionStatus> status;            // the newest status polled
    std::optional<SessionScene> scene;              // when it was (re)read
    std::optional<std::string> description;         // describe(), once it succeeded
    std::shared_ptr<const SplatSnapshot> snapshot;  // the newest new snapshot
    std::vector<SessionLogEntry> log;               // the session's new log entries
    bool curve_reset = false;                       // a new run: clear the curves before `curve`
    std::vector<SessionCurvePoint> curve;           // new curve points
    std::optional<std::vector<SessionTestPoint>> tests;
    std::vector<Done> done;           // completions of finished jobs, in order
    std::vector<std::string> errors;  // failed jobs and polls ("start: <message>")
    std::vector<std::string> notes;   // news that are not errors ("connection restored")
    std::string connection;           // "" or "connection lost, retrying in N s"
  };

  SessionPump(std::shared_ptr<SessionClient> client, SessionPumpOptions options = {});
  ~SessionPump();  // finishes the running job, drops the queued ones, joins
  SessionPump(const SessionPump&) = delete;
  SessionPump& operator=(const SessionPump&) = delete;

  Update take();
  // Queues `job`; `what` names it in error messages. A queued job with the same non-empty `key`
  // is replaced (the newest render request wins).
  void post(std::string what, Job job, std::string key = "");
  // Reads the scene again at the next poll (after the training views changed).
  void refresh_scene();
  // Jobs queued or running (0 when idle).
  int pending_jobs();
  const std::shared_ptr<SessionClient>& client() const { return client_; }

 private:
  struct Queued {
    std::string what, key;
    Job job;
  };
  void loop();
  void poll(double now);

  std::shared_ptr<SessionClient> client_;
  SessionPumpOptions options_;
  std::atomic<double> snapshot_seconds_;  // options_.snapshot_seconds or longer
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Queued> jobs_;
  int running_ = 0;
  Update update_;  // accumulated under mutex_
  bool scene_dirty_ = true;
  // Poll state (pump thread only).
  RetryBackoff backoff_;
  bool have_description_ = false;
  int curve_last_ = -1;
  uint64_t log_last_ = 0;
  uint64_t snapshot_version_ = 0;
  double next_snapshot_ = 0;
  std::optional<SessionPhase> phase_;
  double test_psnr_ = kSessionNaN;
  std::thread thread_;
};

}  // namespace glimpse::viewer
