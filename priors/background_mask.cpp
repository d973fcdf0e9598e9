#include "priors/background_mask.h"

#include "core/check.h"

#include <vector>

namespace glimpse {

void DarkBackgroundOptions::check() const {
  GLIMPSE_CHECK(threshold > 0.f && threshold <= 1.f)
      << "dark background: threshold must be in (0, 1], got " << threshold;
  GLIMPSE_CHECK(run >= 1) << "dark background: run must be at least 1, got " << run;
}

Image<float> dark_background_mask(const Image<float>& rgb, const DarkBackgroundOptions& options) {
  options.check();
  GLIMPSE_CHECK(rgb.channels() == 3)
      << "dark background: the image must have 3 channels, it has " << rgb.channels();
  const int w = rgb.width(), h = rgb.height();
  Image<float> mask(w, h, 1);
  // dark_above[x]: consecutive dark pixels in column x ending at the current row.
  std::vector<int> dark_above(static_cast<size_t>(w), 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float* p = &rgb.data()[(static_cast<size_t>(y) * w + x) * 3];
      const bool dark =
          p[0] < options.threshold && p[1] < options.threshold && p[2] < options.threshold;
      int& run = dark_above[static_cast<size_t>(x)];
      run = dark ? run + 1 : 0;
      // Near the top edge a column dark all the way up counts (DNGaussian's shifted products).
      const bool background = run >= options.run || run == y + 1;
      mask.data()[static_cast<size_t>(y) * w + x] = background ? 0.f : 1.f;
    }
  }
  return mask;
}

}  // namespace glimpse
