// `glimpse metrics A B`: the sparse-view papers' image metrics (PSNR, masked PSNR, SSIM_gs,
// SSIM_sk, LPIPS, RegNeRF's average error) between two images or two folders paired by file name,
// with the same code as `glimpse train`'s evaluation, so renders made by other tools are scored
// exactly like Glimpse's own.
#pragma once

#include "eval/lpips.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace glimpse {

struct MetricsCommandOptions {
  std::string a;  // an image, or a folder of images (renders)
  std::string b;  // the same for the other side (ground truth), paired with `a` by file name
  // Optional object mask: an image for a pair of images, or a folder holding one mask per image
  // (same file stem, any image extension). Pixels > 0.5 are the object (DTU's idrmasks are 0/255).
  // With a mask, as the DTU protocol: PSNR over the object's pixels, SSIM and LPIPS on both images
  // composited onto white outside it.
  std::string mask;
  LpipsOptions lpips;       // network and input convention ("[0,1]" is the papers')
  std::string lpips_model;  // weights: as TrainConfig::lpips_model (file, folder, "none", empty)
  int threads = 0;          // LPIPS threads (0: OpenCV's default, all cores)

  // Throws glimpse::Error on empty paths or invalid LPIPS options.
  void check() const;
};

struct PairMetrics {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string name;  // the file name (folders) or "a vs b" (two images)
  int width = 0, height = 0;
  double psnr = kNaN;  // masked with a mask; +inf for identical images
  double ssim = kNaN;  // SSIM_gs
  double ssim_sk = kNaN;
  double lpips = kNaN;      // NaN when LPIPS is unavailable
  double avg_error = kNaN;  // needs LPIPS
};

struct MetricsCommandResult {
  std::vector<PairMetrics> pairs;
  PairMetrics mean;  // means over the finite values of each column (+inf PSNRs are skipped)
  bool masked = false;
  std::string lpips;  // "LPIPS-VGG v0.1, inputs [0,1], weights <file>" or "unavailable: <why>"

  nlohmann::json to_json() const;
  std::string to_text() const;  // one line per pair and the mean, a header naming the variants
};

// Reads and scores the pairs. Throws glimpse::Error naming the file: a path that does not exist,
// an image and a folder, a file in `a` with no partner in `b`, a missing mask, images of
// different sizes, images too small for SSIM_sk (7 px) or LPIPS (16 px VGG, 31 px AlexNet).
MetricsCommandResult run_metrics_command(const MetricsCommandOptions& options);

struct MetricsCli {
  CLI::App* command = nullptr;
  std::shared_ptr<MetricsCommandOptions> options;
  std::shared_ptr<std::string> net, inputs;
  std::shared_ptr<bool> json;
};
MetricsCli add_metrics_subcommand(CLI::App& app);
int run_metrics_cli(const MetricsCli& cli);

}  // namespace glimpse
