// Background masks from the images: dark from the top (DNGaussian's DTU rule: a pixel and the
// run - 1 pixels above it dark, or its column dark all the way to the top) and its mirror for
// bright pixels from the bottom, with bright segments that begin just below the dark backdrop
// taken whole; coloured pixels and short runs stay kept.
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

// Thresholds and runs small enough for images a few pixels wide: dark below 0.1 over 5 rows,
// bright above 0.95 over `bright_run` rows.
BackgroundHeuristicOptions small_image_options(int bright_run) {
  BackgroundHeuristicOptions options;
  options.dark_threshold = 0.1f;
  options.dark_run = 5;
  options.bright_threshold = 0.95f;
  options.bright_run = bright_run;
  return options;
}

TEST(BackgroundHeuristic, DarkColumnsFromTheTopAndLongDarkRunsAreBackground) {
  // 4 columns, 12 rows, run 5.
  //  column 0: dark everywhere -> all background;
  //  column 1: bright row 0, dark below -> background from row 5 (rows 1..5 are five dark);
  //  column 2: bright row 3, dark elsewhere -> rows 0..2 background (dark to the top), rows 4..7
  //            kept (fewer than 5 dark since the bright pixel), rows 8.. background;
  //  column 3: one channel at 0.5: never dark.
  Image<float> im = filled(4, 12, 0.05f, 0.05f, 0.05f);
  paint(im, 1, 0, 0.9f);
  paint(im, 2, 3, 0.9f);
  for (int y = 0; y < 12; ++y) im.data()[(static_cast<size_t>(y) * 4 + 3) * 3 + 0] = 0.5f;
  BackgroundHeuristicOptions options;
  options.dark_threshold = 0.1f;
  options.dark_run = 5;
  const Image<float> mask = background_heuristic_mask(im, options);
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

TEST(BackgroundHeuristic, BrightColumnsFromTheBottomWhenEnabled) {
  // Column 0 of 10: rows 0..1 grey object, row 2 bright, row 3 grey, rows 4..9 bright (down to
  // the bottom edge). Column 1: bright rows 0..7 above grey rows 8..9: only the pixels with
  // bright_run bright pixels from themselves down count.
  Image<float> im = filled(2, 10, 0.99f, 0.99f, 0.99f);
  paint(im, 0, 0, 0.4f);
  paint(im, 0, 1, 0.4f);
  paint(im, 0, 3, 0.4f);
  paint(im, 1, 8, 0.4f);
  paint(im, 1, 9, 0.4f);
  BackgroundHeuristicOptions options;  // bright rule off by default
  const Image<float> off = background_heuristic_mask(im, options);
  for (float v : off.vector()) EXPECT_EQ(v, 1.f);
  options.bright_threshold = 0.95f;
  options.bright_run = 5;
  const Image<float> mask = background_heuristic_mask(im, options);
  for (int y = 0; y < 10; ++y) {
    EXPECT_EQ(mask.at(0, y), y >= 4 ? 0.f : 1.f) << "row " << y;  // row 2 is a run of 1
    EXPECT_EQ(mask.at(1, y), y <= 3 ? 0.f : 1.f) << "row " << y;  // rows 0..3 have 5 below
  }
  options.bright_threshold = 0.995f;  // the table is not brighter than this: nothing
  const Image<float> none = background_heuristic_mask(im, options);
  for (float v : none.vector()) EXPECT_EQ(v, 1.f);
}

TEST(BackgroundHeuristic, BrightSegmentsJustBelowDarkBackgroundAreBackgroundWhole) {
  // 4 columns of 20 rows, dark and bright runs of 5, gap 2. Rows 0..5 dark backdrop (background
  // by the dark rule) in columns 0-2, then:
  //  column 0: bright rows 6..9 (the table, too short for the bright run), grey object 10..19;
  //  column 1: grey row 6, then bright rows 7..9 and the object: within the gap, whole;
  //  column 2: grey rows 6..8, bright rows 9..11, object: 3 rows below the backdrop, kept;
  //  column 3: no backdrop (grey rows 0..5): the same bright rows 6..9 are a highlight, kept.
  Image<float> im = filled(4, 20, 0.4f, 0.4f, 0.4f);
  for (int x = 0; x < 3; ++x)
    for (int y = 0; y <= 5; ++y) paint(im, x, y, 0.02f);
  for (int y = 6; y <= 9; ++y) paint(im, 0, y, 0.99f);
  for (int y = 7; y <= 9; ++y) paint(im, 1, y, 0.99f);
  for (int y = 9; y <= 11; ++y) paint(im, 2, y, 0.99f);
  for (int y = 6; y <= 9; ++y) paint(im, 3, y, 0.99f);
  BackgroundHeuristicOptions options = small_image_options(5);
  const Image<float> before = background_heuristic_mask(im, options);  // the rule off
  options.bright_below_dark = 2;
  const Image<float> mask = background_heuristic_mask(im, options);
  for (int y = 0; y < 20; ++y) {
    const float backdrop = y <= 5 ? 0.f : 1.f;
    EXPECT_EQ(before.at(0, y), backdrop) << "row " << y;
    EXPECT_EQ(mask.at(0, y), y <= 9 ? 0.f : 1.f) << "row " << y;
    EXPECT_EQ(mask.at(1, y), (y <= 5 || (y >= 7 && y <= 9)) ? 0.f : 1.f) << "row " << y;
    EXPECT_EQ(mask.at(2, y), backdrop) << "row " << y;
    EXPECT_EQ(mask.at(3, y), 1.f) << "row " << y;
  }
  options.bright_threshold = 1.f;  // needs the bright rule
  const Image<float> dark_only = background_heuristic_mask(im, options);
  for (int y = 0; y < 20; ++y) EXPECT_EQ(dark_only.at(0, y), y <= 5 ? 0.f : 1.f) << "row " << y;
}

TEST(BackgroundHeuristic, TheThresholdsAreStrict) {
  BackgroundHeuristicOptions options;  // 30/255, run 50
  const float just_below = options.dark_threshold * 0.999f;
  EXPECT_EQ(background_heuristic_mask(filled(2, 60, just_below, just_below, just_below), options)
                .at(1, 59),
            0.f);
  EXPECT_EQ(
      background_heuristic_mask(filled(2, 60, options.dark_threshold, 0.f, 0.f), options).at(1, 59),
      1.f);
}

TEST(BackgroundHeuristic, BadOptionsAndImagesAreRefused) {
  BackgroundHeuristicOptions options;
  options.dark_run = 0;
  EXPECT_THROW(background_heuristic_mask(filled(2, 2, 0, 0, 0), options), Error);
  options = {};
  options.dark_threshold = 0.f;
  EXPECT_THROW(background_heuristic_mask(filled(2, 2, 0, 0, 0), options), Error);
  options = {};
  options.bright_threshold = 1.5f;
  EXPECT_THROW(background_heuristic_mask(filled(2, 2, 0, 0, 0), options), Error);
  options = {};
  options.bright_below_dark = -1;
  EXPECT_THROW(background_heuristic_mask(filled(2, 2, 0, 0, 0), options), Error);
  EXPECT_THROW(background_heuristic_mask(Image<float>(2, 2, 1), BackgroundHeuristicOptions{}),
               Error);
}

TEST(BackgroundHeuristic, ShortKeptRunsBetweenBackgroundAreClosed) {
  // 3 columns of 20 rows: dark backdrop rows 0..7, then the grey transition, then the bright
  // table to the bottom. Column 0: a transition of 2 rows (8..9), column 1: of 4 rows (8..11),
  // column 2: a grey object from row 8 down to row 15 above the table.
  Image<float> im = filled(3, 20, 0.99f, 0.99f, 0.99f);
  for (int x = 0; x < 3; ++x)
    for (int y = 0; y <= 7; ++y) paint(im, x, y, 0.02f);
  for (int y = 8; y <= 9; ++y) paint(im, 0, y, 0.5f);
  for (int y = 8; y <= 11; ++y) paint(im, 1, y, 0.5f);
  for (int y = 8; y <= 15; ++y) paint(im, 2, y, 0.5f);
  BackgroundHeuristicOptions options = small_image_options(3);
  const Image<float> open = background_heuristic_mask(im, options);  // gap off
  EXPECT_EQ(open.at(0, 8), 1.f);
  EXPECT_EQ(open.at(0, 9), 1.f);
  options.gap = 3;
  const Image<float> mask = background_heuristic_mask(im, options);
  for (int y = 0; y < 20; ++y) {
    EXPECT_EQ(mask.at(0, y), 0.f) << "row " << y;  // the 2-row transition is closed
    EXPECT_EQ(mask.at(1, y), (y >= 8 && y <= 11) ? 1.f : 0.f) << "row " << y;  // 4 rows: kept
    EXPECT_EQ(mask.at(2, y), (y >= 8 && y <= 15) ? 1.f : 0.f) << "row " << y;  // the object
  }
  // A kept run at the top or bottom edge has background on one side only: kept.
  Image<float> edge = filled(1, 10, 0.5f, 0.5f, 0.5f);
  for (int y = 2; y < 10; ++y) paint(edge, 0, y, 0.99f);
  const Image<float> edge_mask = background_heuristic_mask(edge, options);
  EXPECT_EQ(edge_mask.at(0, 0), 1.f);
  EXPECT_EQ(edge_mask.at(0, 1), 1.f);
  options.gap = -1;
  EXPECT_THROW(background_heuristic_mask(im, options), Error);
}

}  // namespace
}  // namespace glimpse
