// `glimpse bench-session` (see bench_session.h).
#include "app/bench_session.h"

#include "app/http_link.h"
#include "app/session.h"
#include "app/train_command.h"
#include "core/check.h"
#include "core/timer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

namespace glimpse {
namespace fs = std::filesystem;

namespace {

// The configuration every mode trains: the dataset's split, a depth initialisation (no MVS: the
// benchmark times the loop, not the stages), no periodic saves or tests, no LPIPS.
TrainConfig bench_config(const BenchSessionOptions& o, const std::string& out) {
  TrainConfig c;
  c.dataset = o.dataset;
  c.output = out;
  c.device = TrainDevice::Cpu;
  c.threads = o.threads;
  c.init = InitMethod::Depth;
  c.lpips_model = "none";
  c.save_every = 0;
  c.checkpoint_every = 0;
  c.test_every = 0;
  c.trainer.iterations = o.iterations;
  return c;
}

// Seconds between the Training and the Evaluating phases (the step loop, with the session's work
// between steps).
struct LoopClock {
  std::atomic<double> start{0}, end{0};
  Timer clock;
  std::function<void(SessionPhase, const std::string&)> hook() {
    return [this](SessionPhase p, const std::string&) {
      if (p == SessionPhase::Training) start = clock.seconds();
      if (p == SessionPhase::Evaluating) end = clock.seconds();
    };
  }
  double its_per_second(int iterations) const {
    const double s = end - start;
    GLIMPSE_CHECK(s > 0) << "bench-session: the run did not reach its evaluation";
    return iterations / s;
  }
};

// Polls a client as the viewer does until `done`; returns the snapshots received.
int64_t watch(SessionClient& client, double hz, const std::atomic<bool>& done) {
  int64_t snapshots = 0;
  uint64_t version = 0, log_sequence = 0;
  int curve_after = -1;
  const auto period = std::chrono::duration<double>(1.0 / hz);
  while (!done) {
    try {
      client.status();
      const auto curve = client.curve(curve_after);
      if (!curve.empty()) curve_after = curve.back().iteration;
      const auto log = client.log(log_sequence);
      if (!log.empty()) log_sequence = log.back().sequence;
      if (auto s = client.snapshot(version)) {
        version = s->version;
        ++snapshots;
      }
    } catch (const Error&) {
      // The run may end between two polls.
    }
    std::this_thread::sleep_for(period);
  }
  return snapshots;
}

}  // namespace

void BenchSessionOptions::check() const {
  GLIMPSE_CHECK(iterations >= 10) << "bench-session: iterations must be >= 10, got " << iterations;
  GLIMPSE_CHECK(repeats >= 1) << "bench-session: repeats must be >= 1, got " << repeats;
  GLIMPSE_CHECK(threads >= 0) << "bench-session: threads must be >= 0, got " << threads;
  GLIMPSE_CHECK(poll_hz > 0 && poll_hz <= 1000)
      << "bench-session: poll rate must be in (0, 1000] Hz, got " << poll_hz;
}

std::vector<BenchSessionRow> run_bench_session(const BenchSessionOptions& options) {
  options.check();
  fs::path scratch = options.output;
  const bool temporary = scratch.empty();
  if (temporary)
    scratch = fs::temp_directory_path() /
              ("glimpse_bench_session_" + std::to_string(std::random_device{}()));
  std::vector<BenchSessionRow> rows(3);
  rows[0].mode = "bare";
  rows[1].mode = "watched";
  rows[2].mode = "remote";
  // Round 0 is an untimed bare run: the first run pays for page faults and cold caches.
  for (int r = -1; r < options.repeats; ++r) {
    for (BenchSessionRow& row : rows) {
      if (r < 0 && row.mode != "bare") continue;
      const std::string out = (scratch / (row.mode + std::to_string(r + 1))).string();
      const TrainConfig config = bench_config(options, out);
      LoopClock clock;
      TrainRunOptions run;
      run.progress = ProgressMode::Silent;
      run.on_phase = clock.hook();
      if (row.mode == "bare") {
        TrainRun train(config, run);
        train.load();
        train.prepare();
        while (!train.done()) train.step();
        train.finish();
      } else {
        SessionOptions so;
        so.config = config;
        so.run = run;
        Session session(so);
        std::unique_ptr<HttpLinkServer> server;
        std::unique_ptr<SessionClient> remote;
        SessionClient* client = &session;
        if (row.mode == "remote") {
          server = std::make_unique<HttpLinkServer>(session);
          remote = std::make_unique<RemoteSession>(server->url(), server->token());
          client = remote.get();
        }
        std::atomic<bool> done{false};
        int64_t snapshots = 0;
        std::thread watcher([&] { snapshots = watch(*client, options.poll_hz, done); });
        try {
          session.wait();
        } catch (...) {
          done = true;
          watcher.join();
          throw;
        }
        done = true;
        watcher.join();
        row.snapshots += snapshots;
      }
      if (r < 0) continue;
      row.its_per_second.push_back(clock.its_per_second(options.iterations));
      std::cerr << "bench-session: " << row.mode << " run " << r + 1 << ": " << std::fixed
                << std::setprecision(2) << row.its_per_second.back() << " it/s\n";
    }
  }
  for (BenchSessionRow& row : rows)
    row.best = *std::max_element(row.its_per_second.begin(), row.its_per_second.end());
  if (temporary) {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  return rows;
}

std::string format_bench_session(const std::vector<BenchSessionRow>& rows) {
  std::ostringstream out;
  out << std::fixed;
  const double bare = rows.front().best;
  out << "mode      best it/s   overhead   snapshots   runs (it/s)\n";
  for (const BenchSessionRow& row : rows) {
    out << std::left << std::setw(10) << row.mode << std::right << std::setw(9)
        << std::setprecision(2) << row.best << "   " << std::setw(7) << std::setprecision(1)
        << 100.0 * (bare / row.best - 1.0) << " %   " << std::setw(9) << row.snapshots << "   ";
    for (double v : row.its_per_second) out << std::setprecision(2) << v << " ";
    out << "\n";
  }
  out << "overhead: extra time per step against the bare TrainRun loop (best run against best "
         "run)\n";
  return out.str();
}

}  // namespace glimpse
