// Training masks made from the images themselves, for captures whose background is known to be
// dark (DTU's black cloth and table edge): the heuristic DNGaussian (Li et al. CVPR 2024) applies
// to DTU and CoR-GS and Binocular3DGS reuse. A pixel is background when it and the `run` - 1
// pixels above it in its column (or all of them, near the top edge) are darker than `threshold`
// in every channel, so a small dark object part under a bright one is not taken for background. No
// object mask is read: the DTU protocol's masks are for evaluation only.
#pragma once

#include "core/image.h"

namespace glimpse {

struct DarkBackgroundOptions {
  float threshold = 30.f / 255.f;  // max over RGB below this is dark (DNGaussian: 30/255)
  int run = 50;                    // dark pixels in a column, this one included (DNGaussian: 50)
  void check() const;              // threshold in (0, 1], run >= 1
};

// The mask of `rgb` (3 channels, values in [0, 1]): 1 where the pixel is kept (foreground or
// unknown), 0 where it is dark background. Single channel, the image's size.
Image<float> dark_background_mask(const Image<float>& rgb, const DarkBackgroundOptions& options);

}  // namespace glimpse
