// `glimpse bench-train`: training iterations per second of the CPU backend, and the process's peak
// memory, on a synthetic scene with trained-model statistics (renderer/synthetic_scene.h) or on a
// real capture as `glimpse train` sets it up (its configuration, initialisation and priors).
#pragma once

#include "optim/trainer.h"

#include <cstdint>
#include <string>

namespace glimpse {

struct BenchTrainOptions {
  int64_t gaussians = 100000;  // Gaussians in the model being trained
  int width = 504;             // training image size (LLFF at factor 8)
  int height = 378;
  int views = 3;          // training views (rendered from a different synthetic scene)
  int iterations = 60;    // timed training steps
  int warmup = 5;         // untimed steps first
  int threads = 0;        // CPU threads (0: all)
  uint64_t seed = 1;      // scene seed
  std::string json_path;  // also write the result here (empty: don't)
  // A real capture instead of the synthetic scene (gaussians, width, height and seed do not
  // apply): the dataset folder, its evaluation protocol (none, llff, dtu) and an optional
  // training configuration file (glimpse train --config); views is the protocol's training views.
  std::string data;
  std::string protocol = "none";
  std::string config_path;
  std::string cache_dir;  // multi-view stereo cache (glimpse train --cache-dir)
  void check() const;     // throws glimpse::Error naming the bad option
};

struct BenchTrainResult {
  std::string scene;                 // "synthetic", or the capture and how it was set up
  int width = 0, height = 0;         // training image size
  int threads = 0;                   // resolved thread count
  double iterations_per_second = 0;  // timed steps / their wall time
  double step_ms_median = 0, step_ms_min = 0;
  int64_t gaussians = 0;       // model size during the timed steps
  double peak_memory_mib = 0;  // peak resident set size of the process
  StepPhases phases;           // mean seconds per timed step, by phase
};

// A table of the phases: ms per step and share of the step, then the render's share.
std::string format_step_phases(const StepPhases& phases);

BenchTrainResult run_bench_train(const BenchTrainOptions& options);
std::string format_bench_train(const BenchTrainOptions& options, const BenchTrainResult& r);

}  // namespace glimpse
