// Entry point of `glimpse-viewer`: the command line and the one catch site of the main thread
// ("glimpse-viewer: error: <message>", exit code 1).
#include "app/viewer/viewer_app.h"
#include "core/check.h"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  glimpse::viewer::ViewerOptions o;
  CLI::App app{
      "glimpse-viewer: open a dataset folder, a folder of photos, a run folder or a splat file "
      "(.ply, .splat, .spz, .compressed.ply), or connect to a running session; pick 3 to 9 "
      "training views, train and watch the Gaussians live."};
  app.add_option("path", o.path, "Dataset folder, folder of photos, run folder or splat file");
  app.add_option("--connect", o.connect_url, "A running session's URL (http://host:port)");
  app.add_option("--token", o.token, "The running session's access token");
  app.add_option("--config", o.config, "Training configuration (JSON, as glimpse train --config)");
  app.add_option("-o,--output", o.output, "Run folder (default: a new folder in the temp dir)");
  app.add_option("--device", o.device, "Training backend: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--init", o.init, "Initialiser: auto, mvs, colmap, hull, depth, random, ...");
  app.add_option("--iterations", o.iterations, "Training iterations")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "CPU rasterizer threads (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--width", o.width, "Window width")->check(CLI::Range(64, 16384));
  app.add_option("--height", o.height, "Window height")->check(CLI::Range(64, 16384));
  app.add_flag("!--no-vsync", o.vsync, "Do not wait for the display's refresh");
  app.add_option("--screenshot", o.screenshot,
                 "Scripted: save the 3D view as PNG after --frames frames of the loaded scene "
                 "(after training with --train-steps), then exit");
  app.add_option("--screenshot-start", o.screenshot_start,
                 "Scripted, with --train-steps: also save the first Gaussians before training");
  app.add_flag("--screenshot-ui", o.screenshot_ui, "Include the panels in screenshots");
  app.add_flag("--raster", o.raster_display,
               "Show the rasterizer's own image (SessionClient::render) instead of the OpenGL "
               "splats");
  app.add_option("--frames", o.frames, "Frames drawn before a screenshot, or benchmarked")
      ->check(CLI::PositiveNumber);
  app.add_option("--train-steps", o.train_steps,
                 "Scripted: train a dataset this many iterations on its own training views")
      ->check(CLI::PositiveNumber);
  app.add_option("--bench-splats", o.bench_splats,
                 "Benchmark: draw N synthetic Gaussians for --frames frames while orbiting and "
                 "print the frame times")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", o.timeout_seconds, "Scripted runs fail after this many seconds");
  CLI11_PARSE(app, argc, argv);
  if (!o.screenshot_start.empty() && (o.train_steps <= 0 || o.screenshot.empty())) {
    std::cerr << "glimpse-viewer: error: --screenshot-start needs --train-steps and --screenshot\n";
    return 1;
  }
  if (o.train_steps > 0 && o.screenshot.empty()) {
    std::cerr << "glimpse-viewer: error: --train-steps is a scripted run: give --screenshot\n";
    return 1;
  }

  try {
    return glimpse::viewer::run_viewer(o);
  } catch (const glimpse::Error& e) {
    std::cerr << "glimpse-viewer: error: " << glimpse::error_message_without_location(e.what())
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "glimpse-viewer: error: " << e.what() << "\n";
  }
  return 1;
}
