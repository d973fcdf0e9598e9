#include "priors/background_mask.h"

#include "core/check.h"

#include <vector>

namespace glimpse {

void BackgroundHeuristicOptions::check() const {
  GLIMPSE_CHECK(dark_threshold > 0.f && dark_threshold <= 1.f)
      << "background heuristic: dark_threshold must be in (0, 1], got " << dark_threshold;
  GLIMPSE_CHECK(bright_threshold > 0.f && bright_threshold <= 1.f)
      << "background heuristic: bright_threshold must be in (0, 1], got " << bright_threshold;
  GLIMPSE_CHECK(dark_run >= 1) << "background heuristic: dark_run must be at least 1, got "
                               << dark_run;
  GLIMPSE_CHECK(bright_run >= 1) << "background heuristic: bright_run must be at least 1, got "
                                 << bright_run;
  GLIMPSE_CHECK(bright_below_dark >= 0)
      << "background heuristic: bright_below_dark must be >= 0 (0: off), got " << bright_below_dark;
  GLIMPSE_CHECK(gap >= 0) << "background heuristic: gap must be >= 0 (0: off), got " << gap;
}

namespace {

// The bright rules (below dark, then the bright run) on top of the dark rule's mask.
void add_bright_rules(const Image<float>& rgb, const BackgroundHeuristicOptions& options,
                      Image<float>& mask) {
  const int w = rgb.width(), h = rgb.height();
  auto pixel = [&](int x, int y) { return &rgb.data()[(static_cast<size_t>(y) * w + x) * 3]; };
  std::vector<int> run(static_cast<size_t>(w), 0);
  auto bright = [&](int x, int y) {
    const float* p = pixel(x, y);
    const float t = options.bright_threshold;
    return p[0] > t && p[1] > t && p[2] > t;
  };
  // Bright segments that begin just below dark background, whole (before the bright run marks
  // more: this reads the dark rule's result).
  if (options.bright_below_dark > 0) {
    for (int x = 0; x < w; ++x) {
      int last_dark = -1 - options.bright_below_dark;  // row of the last dark background pixel
      for (int y = 0; y < h;) {
        if (!bright(x, y)) {
          if (mask.at(x, y) == 0.f) last_dark = y;
          ++y;
          continue;
        }
        const int top = y;
        while (y < h && bright(x, y)) ++y;
        if (top - last_dark <= options.bright_below_dark)
          for (int k = top; k < y; ++k) mask.at(x, k) = 0.f;
      }
    }
  }
  std::fill(run.begin(), run.end(), 0);
  for (int y = h - 1; y >= 0; --y)
    for (int x = 0; x < w; ++x) {
      int& r = run[static_cast<size_t>(x)];
      r = bright(x, y) ? r + 1 : 0;
      if (r >= options.bright_run || r == h - y) mask.at(x, y) = 0.f;
    }
}

// Kept runs of at most `gap` rows between background above and below become background.
void close_gaps(int gap, Image<float>& mask) {
  const int w = mask.width(), h = mask.height();
  for (int x = 0; x < w; ++x)
    for (int y = 1; y < h;) {
      if (mask.at(x, y) == 0.f || mask.at(x, y - 1) != 0.f) {
        ++y;
        continue;
      }
      const int top = y;  // a kept run starts below background
      while (y < h && mask.at(x, y) != 0.f) ++y;
      if (y < h && y - top <= gap)  // and ends on background within the gap
        for (int k = top; k < y; ++k) mask.at(x, k) = 0.f;
    }
}

}  // namespace

Image<float> background_heuristic_mask(const Image<float>& rgb,
                                       const BackgroundHeuristicOptions& options) {
  options.check();
  GLIMPSE_CHECK(rgb.channels() == 3)
      << "background heuristic: the image must have 3 channels, it has " << rgb.channels();
  const int w = rgb.width(), h = rgb.height();
  Image<float> mask(w, h, 1, 1.f);
  auto pixel = [&](int x, int y) { return &rgb.data()[(static_cast<size_t>(y) * w + x) * 3]; };
  // Consecutive qualifying pixels in each column, ending at the current row, walking down (dark
  // from the top) and up (bright from the bottom). Near the starting edge a column that
  // qualifies all the way to it counts (DNGaussian's shifted products do the same).
  std::vector<int> run(static_cast<size_t>(w), 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float* p = pixel(x, y);
      const float t = options.dark_threshold;
      int& r = run[static_cast<size_t>(x)];
      r = (p[0] < t && p[1] < t && p[2] < t) ? r + 1 : 0;
      if (r >= options.dark_run || r == y + 1) mask.at(x, y) = 0.f;
    }
  if (options.bright_threshold < 1.f) add_bright_rules(rgb, options, mask);
  if (options.gap > 0) close_gaps(options.gap, mask);
  return mask;
}

}  // namespace glimpse
