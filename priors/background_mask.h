// Training masks made from the images themselves, for captures whose background is known to be
// uniform, without reading any object mask (the DTU protocol's masks are for evaluation only).
// Two column rules:
//  - dark from the top (DNGaussian, Li et al. CVPR 2024, on DTU; CoR-GS and Binocular3DGS reuse
//    it): a pixel is background when it and the dark_run - 1 pixels above it (or all of them,
//    near the top edge) are darker than dark_threshold in every channel;
//  - bright from the bottom (Glimpse's counterpart for DTU's over-exposed white table, which the
//    published methods handle by resetting the opacity of near-white Gaussians): a pixel is
//    background when it and the bright_run - 1 pixels below it (or all of them, near the bottom
//    edge) are brighter than bright_threshold in every channel. Whole bright segments (a run
//    anywhere in the column) were measured worse: they also take long specular highlights of
//    the object (DTU scan37: 15.25 against 15.78 dB);
//  - bright below dark (Glimpse's, with the bright rule): a bright segment of a column that
//    begins at most bright_below_dark rows below dark background is background as a whole: the
//    table seen up to the backdrop, down to the object standing on it (the part the bright run
//    cannot reach, within bright_run rows of the object). A highlight on the object does not
//    begin at the backdrop.
//  - gaps (Glimpse's): a run of at most `gap` kept pixels in a column with background right above
//    and below it is background too: the grey transition rows between DTU's dark backdrop and
//    its white table, which neither rule takes and which the model otherwise draws as long thin
//    Gaussians across the scene.
// A run keeps a small dark or bright part of the object from being taken for background.
#pragma once

#include "core/image.h"

namespace glimpse {

struct BackgroundHeuristicOptions {
  float dark_threshold = 30.f / 255.f;  // max over RGB below this is dark (DNGaussian: 30/255)
  int dark_run = 50;                    // dark pixels up a column, this one included (50)
  // min over RGB above this is bright; 1 (no value is above it) turns the rule off.
  float bright_threshold = 1.f;
  int bright_run = 50;  // bright pixels down a column, this one included
  // Rows between dark background and a bright segment below it for the whole segment to be
  // background (the transition from backdrop to table); 0: off. Needs the bright rule.
  int bright_below_dark = 0;
  // Kept runs of at most this many rows between background above and below become background;
  // 0: off.
  int gap = 0;
  void check() const;  // thresholds in (0, 1], runs >= 1, bright_below_dark and gap >= 0
};

// The mask of `rgb` (3 channels, values in [0, 1]): 1 where the pixel is kept (foreground or
// unknown), 0 where it is background by either rule. Single channel, the image's size.
Image<float> background_heuristic_mask(const Image<float>& rgb,
                                       const BackgroundHeuristicOptions& options);

}  // namespace glimpse
