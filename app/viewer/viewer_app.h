// `glimpse-viewer`: the Dear ImGui desktop viewer. Opens a dataset folder, a folder of photos, a
// run folder or a splat file, or connects to a running session; picks the training views and
// settings, drives the run (start, pause, step, stop, save), shows the Gaussians live (OpenGL
// splats or the rasterizer's own image), the curves, timings, log, per-view comparisons, and
// exports. Scripted modes take screenshots (tests) and time the splat display (benchmarks).
#pragma once

#include <cstdint>
#include <string>

namespace glimpse::viewer {

struct ViewerOptions {
  std::string path;         // dataset folder, folder of photos, run folder or splat file
  std::string connect_url;  // a running session (`glimpse serve`): http://host:port
  std::string token;        // its access token
  // Local runs: the training configuration (JSON, as `glimpse train --config`) and overrides.
  std::string config;
  std::string output;  // run folder (default: a new folder under the temporary directory)
  std::string device;  // auto, cpu or cuda (default: the configuration's)
  std::string init;    // initialiser name (default: the configuration's)
  int iterations = 0;  // > 0: the run's iterations
  int threads = 0;     // CPU threads for the rasterizer (0: all)
  int width = 1600, height = 900;  // window size
  bool vsync = true;

  // Scripted runs. --screenshot FILE: save the 3D view to FILE (PNG) after `frames` frames of the
  // loaded scene, then exit. With train_steps > 0 a local dataset is trained for that many
  // iterations first (on the scene's training views) and `screenshot_start` is taken once the
  // first Gaussians show (training paused meanwhile).
  std::string screenshot;
  std::string screenshot_start;
  bool screenshot_ui = false;   // include the panels in screenshots
  bool raster_display = false;  // start in the rasterizer-image mode (else OpenGL splats)
  int frames = 10;
  int train_steps = 0;
  // --bench-splats N: draw a synthetic cloud of N Gaussians for `frames` frames while orbiting,
  // print the frame-time figures and exit.
  int64_t bench_splats = 0;
  double timeout_seconds = 900;  // scripted runs fail after this long
};

// Runs the viewer until its window closes (or a scripted run ends). Returns the exit code:
// 0, or 1 when a scripted run failed (the reason on stderr). Throws glimpse::Error when no
// window can be created.
int run_viewer(const ViewerOptions& options);

}  // namespace glimpse::viewer
