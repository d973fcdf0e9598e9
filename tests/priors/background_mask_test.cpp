// Dark-background training masks (DNGaussian's DTU heuristic): a pixel is background when it and
// the run - 1 pixels above it are dark, or its column is dark all the way to the top; bright or
// coloured pixels, and short dark runs under bright ones, stay foreground.
#include "priors/background_mask.h"

#include "core/check.h"

#include <gtest/gtest.h>

namespace glimpse {
namespace {

Image<float> filled(int w, int h, float r, float g, float b) {
  Image<float> im(w, h, 3);
  for (size_t p = 0; p < im.num_pixels(); ++p) {
    im.data()[3 * p] = r, im.data()[3 * p + 1] = g, im.data()[3 * p + 2] = b;
  }
  return im;
}

void paint(Image<float>& im, int x, int y, float v) {
  for (int c = 0; c < 3; ++c) im.data()[(static_cast<size_t>(y) * im.width() + x) * 3 + c] = v;
}

TEST(DarkBackground, DarkColumnsFromTheTopAndLongDarkRunsAreBackground) {
  // 4 columns, 12 rows, run 5.
  //  column 0: dark everywhere -> all background;
  //  column 1: bright row 0, dark below -> background from row 5 (rows 1..5 are five dark);
  //  column 2: bright row 3, dark elsewhere -> rows 0..2 background (dark to the top), rows 4..7
  //            foreground (fewer than 5 dark since the bright pixel), rows 8.. background;
  //  column 3: a colour with one bright channel: never dark.
  Image<float> im = filled(4, 12, 0.05f, 0.05f, 0.05f);
  paint(im, 1, 0, 0.9f);
  paint(im, 2, 3, 0.9f);
  for (int y = 0; y < 12; ++y) im.data()[(static_cast<size_t>(y) * 4 + 3) * 3 + 0] = 0.5f;
  DarkBackgroundOptions options;
  options.threshold = 0.1f;
  options.run = 5;
  const Image<float> mask = dark_background_mask(im, options);
  ASSERT_EQ(mask.width(), 4);
  ASSERT_EQ(mask.height(), 12);
  ASSERT_EQ(mask.channels(), 1);
  for (int y = 0; y < 12; ++y) {
    EXPECT_EQ(mask.at(0, y), 0.f) << "row " << y;
    EXPECT_EQ(mask.at(1, y), y >= 5 ? 0.f : 1.f) << "row " << y;
    EXPECT_EQ(mask.at(2, y), (y <= 2 || y >= 8) ? 0.f : 1.f) << "row " << y;
    EXPECT_EQ(mask.at(3, y), 1.f) << "row " << y;
  }
}

TEST(DarkBackground, TheThresholdIsStrict) {
  DarkBackgroundOptions options;  // 30/255, run 50
  const float just_below = options.threshold * 0.999f;
  EXPECT_EQ(
      dark_background_mask(filled(2, 60, just_below, just_below, just_below), options).at(1, 59),
      0.f);
  EXPECT_EQ(dark_background_mask(filled(2, 60, options.threshold, 0.f, 0.f), options).at(1, 59),
            1.f);
}

TEST(DarkBackground, BadOptionsAndImagesAreRefused) {
  DarkBackgroundOptions options;
  options.run = 0;
  EXPECT_THROW(dark_background_mask(filled(2, 2, 0, 0, 0), options), Error);
  options = {};
  options.threshold = 0.f;
  EXPECT_THROW(dark_background_mask(filled(2, 2, 0, 0, 0), options), Error);
  EXPECT_THROW(dark_background_mask(Image<float>(2, 2, 1), DarkBackgroundOptions{}), Error);
}

}  // namespace
}  // namespace glimpse
