// Line plots as PNG files (training curves: loss and PSNR against iteration), drawn with OpenCV
// imgproc on a white canvas with axes, "nice" ticks, a second y axis and a legend; captions on
// figure panels.
#pragma once

#include "core/image.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

// One curve: points (x[i], y[i]); non-finite points are skipped (the line breaks there).
struct PlotSeries {
  std::string name;                     // legend entry
  std::vector<double> x, y;             // same length
  std::array<uint8_t, 3> rgb{0, 0, 0};  // line colour; all zero picks the next palette colour
  bool right_axis = false;              // scaled against the right y axis instead of the left one
  bool markers = false;                 // draw a dot at every point (sparse series, e.g. test PSNR)
};

struct PlotOptions {
  int width = 960;  // canvas size in pixels
  int height = 540;
  std::string left_label;   // caption above the left y axis (e.g. "loss")
  std::string right_label;  // caption above the right y axis (e.g. "PSNR (dB)")

  // Throws glimpse::Error for a canvas smaller than 200 x 150 or larger than 8192 x 8192.
  void check() const;
};

// Draws the series on one chart and writes it as an 8-bit RGB PNG, atomically (temporary
// sibling, then rename). The left axis spans the series with right_axis == false, the right
// axis (drawn only when such series exist) the others; x spans all series. Ranges are widened
// to "nice" tick steps (1, 2, 5 x 10^k). Throws glimpse::Error naming `path` when a series'
// x and y differ in length, no series has a finite point, or the file cannot be written.
void write_line_plot_png(const std::string& path, const std::vector<PlotSeries>& series,
                         const std::string& title, const std::string& x_label,
                         const PlotOptions& options = {});

// Tick positions covering [lo, hi] with about `target` steps of 1, 2 or 5 x 10^k (exposed for
// tests). Returns at least two ticks; the first <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// Writes `text` in white on a black box into the top-left corner of an RGB image in [0, 1] (the
// panels of a preview sheet). Text longer than the image is cut at its edge. Throws
// glimpse::Error for an image that is not 3-channel.
void caption_image(Image<float>& image, const std::string& text);

}  // namespace glimpse
