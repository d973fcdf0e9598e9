// Published sparse-view results (PSNR / SSIM / LPIPS on LLFF and masked DTU at 3/6/9 views) as
// the reference notes give them (sparse_view_methods.md section 3), with their sources, for the
// benchmark report to compare against.
#pragma once

#include "eval/protocols.h"

#include <span>
#include <string_view>
#include <vector>

namespace glimpse {

struct PublishedResult {
  std::string_view method;  // as the notes name it, e.g. "3DGS, MVS init, 10k iterations"
  Suite suite;              // LLFF at 1/8 resolution; DTU at 1/4 resolution with masks
  int n_views;              // 3, 6 or 9
  double psnr;              // dB
  double ssim;              // the paper's SSIM (SSIM_gs for most 3DGS papers; see the notes)
  double lpips;             // VGG, [0, 1] inputs
  // Where the figure comes from, in the notes' words: "[C] CoR-GS (ECCV'24) Tables 1, 3", ...
  std::string_view source;
  // "(secondary)": quoted by a later paper or third-party notes, not the original paper;
  // "(unverified)": not confirmed against a primary source. Empty when neither.
  std::string_view marker;
  std::string_view note;  // e.g. "arXiv v1 numbers", or empty
};

// Every row, LLFF first, in the notes' order.
std::span<const PublishedResult> published_results();

// The rows of one suite and view count, in the notes' order.
std::vector<PublishedResult> published_results(Suite suite, int n_views);

}  // namespace glimpse
