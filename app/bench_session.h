// `glimpse bench-session`: what the session (app/session.h) costs training. The same run is
// trained interleaved as a bare TrainRun loop, as a session watched like the viewer watches it
// (status, curve, log and snapshots polled at 30 Hz), and as a session served over the HTTP link
// with a RemoteSession watching; the training loop's wall time gives each one's it/s.
#pragma once

#include "app/train_config.h"

#include <string>
#include <vector>

namespace glimpse {

struct BenchSessionOptions {
  std::string dataset = "assets/demo";
  int iterations = 300;  // steps per run
  int repeats = 2;       // rounds of (bare, watched, remote), interleaved
  int threads = 0;       // CPU threads (0: all)
  double poll_hz = 30;   // the watcher's polling rate
  std::string output;    // scratch folder (default: a temporary one, removed)
  void check() const;
};

struct BenchSessionRow {
  std::string mode;                    // "bare", "watched", "remote"
  std::vector<double> its_per_second;  // one per repeat
  double best = 0;                     // the fastest repeat
  int64_t snapshots = 0;               // snapshots the watcher received (all repeats)
};

std::vector<BenchSessionRow> run_bench_session(const BenchSessionOptions& options);
// The table, with each mode's overhead against the bare loop (best against best).
std::string format_bench_session(const std::vector<BenchSessionRow>& rows);

}  // namespace glimpse
