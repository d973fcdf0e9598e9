// `glimpse bench-train`: training iterations per second of the CPU backend on a synthetic scene
// with trained-model statistics (renderer/synthetic_scene.h), and the process's peak memory.
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
  void check() const;     // throws glimpse::Error naming the bad option
};

struct BenchTrainResult {
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
