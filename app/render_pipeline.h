// `glimpse render`: the foundation's end-to-end job. Reads an LLFF capture, initialises Gaussians
// by back-projecting the training views at a constant depth, renders every selected view on the
// CPU rasterizer and writes images, per-view PSNR and a report.
#pragma once

#include "core/image.h"
#include "priors/init_from_depth.h"
#include "renderer/rasterizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace glimpse {

// Which views of the dataset are rendered.
enum class ViewSelection {
  All,    // every view
  Train,  // the training split (all views when the dataset has no split)
  Test,   // the test split (an error when the dataset has none)
};

const char* view_selection_name(ViewSelection selection);

struct RenderPipelineOptions {
  std::string dataset_dir;                   // LLFF folder (poses_bounds.npy + images_<factor>/)
  std::string output_dir;                    // created if missing; files in it are replaced
  int llff_factor = 8;                       // reads images_<factor>/ (8: 504x378 for LLFF)
  int threads = 0;                           // CPU rasterizer threads (0: all hardware threads)
  ViewSelection views = ViewSelection::All;  // which views are rendered
  DepthInitOptions init;                     // initialiser: stride, opacity, scale factor
  bool antialiased = false;  // Mip-Splatting 2D filter instead of the 0.3 px dilation

  // Throws glimpse::Error naming the option: empty or missing dataset folder, empty output
  // folder, threads < 0, llff_factor < 1, invalid init options (stride < 1, NaN opacity, ...).
  void check() const;
  nlohmann::json to_json() const;
};

struct ViewReport {
  int index = 0;                // index into the dataset's views
  std::string name;             // image file name
  std::string split;            // "train", "test" or "none" (dataset without a split)
  double psnr = 0.0;            // dB over RGB in [0, 1] (render clamped to [0, 1]); inf if exact
  double render_ms = 0.0;       // forward pass wall time
  int64_t num_visible = 0;      // Gaussians that passed culling
  int64_t num_evaluations = 0;  // Gaussian-pixel evaluations
};

struct RenderReport {
  RenderPipelineOptions options;   // as given
  RenderOptions render;            // resolved rasterizer options
  std::string dataset_root;        // folder the dataset was read from
  int num_dataset_views = 0;       // views in the dataset (rendered or not)
  std::vector<int> init_view_ids;  // views back-projected for the initial Gaussians
  double init_depth = 0.0;         // constant depth: harmonic mean of the near and far bounds
  int64_t num_gaussians = 0;       // Gaussians rendered
  int threads = 0;                 // resolved thread count
  std::vector<ViewReport> views;   // in render order
  double mean_psnr = 0.0;          // over the rendered views (finite values only)
  double total_ms = 0.0;           // whole job, reading included

  nlohmann::json to_json() const;
  std::string to_markdown() const;
};

// Called after each view is rendered and written: (position in the render order, count, report).
using RenderProgress = std::function<void(int, int, const ViewReport&)>;

// Runs the job: validates everything before writing anything, then writes
//   <out>/renders/<stem>.png   the render
//   <out>/depth/<stem>.png     expected depth, colourised between the near and far bounds
//   <out>/alpha/<stem>.png     accumulated opacity
//   <out>/compare/<stem>.png   ground truth | render, side by side
//   <out>/report.json, <out>/report.md  (written last, atomically)
// Every file is written atomically. progress defaults to one log line per view.
RenderReport run_render_pipeline(const RenderPipelineOptions& options,
                                 const RenderProgress& progress = {});

// PSNR in dB (eval/metrics.h psnr) of `image` against `reference` with both clamped to [0, 1]
// first, as the 3DGS evaluation clamps renders (the range of the stored 8-bit images); +inf when
// equal.
double psnr_clamped(const Image<float>& image, const Image<float>& reference);

}  // namespace glimpse
