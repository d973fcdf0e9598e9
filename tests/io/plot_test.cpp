// Figure helpers of io/plot.h: "nice" tick steps and captions on preview panels.
#include "io/plot.h"

#include "core/check.h"
#include "tests/support/errors.h"

#include <gtest/gtest.h>

#include <cmath>

namespace glimpse {
namespace {

using testing::error_of;

TEST(Plot, NiceTicksCoverTheRangeInRoundSteps) {
  const std::vector<double> t = nice_ticks(0.13, 0.87, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_LE(t.front(), 0.13);
  EXPECT_GE(t.back(), 0.87);
  // Even steps of 1, 2 or 5 x 10^k, about the number asked for.
  const double step = t[1] - t[0];
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
              std::abs(mantissa - 5) < 1e-9)
      << step;
  for (size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], step, 1e-12);
  EXPECT_GE(t.size(), 4u);
  EXPECT_LE(t.size(), 11u);
}

TEST(Plot, CaptionIsWhiteOnBlackInTheTopLeftCorner) {
  Image<float> image(120, 40, 3, 0.5f);
  caption_image(image, "clay, turned +25 deg");
  // The box is black where there is no glyph, the glyphs white; the rest is untouched.
  int white = 0, black = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 60; ++x) {
      white += image.at(x, y, 0) > 0.9f && image.at(x, y, 1) > 0.9f && image.at(x, y, 2) > 0.9f;
      black += image.at(x, y, 0) == 0.f;
    }
  EXPECT_GT(white, 20);
  EXPECT_GT(black, 300);
  EXPECT_EQ(image.at(119, 39, 0), 0.5f);
  EXPECT_EQ(image.at(60, 35, 1), 0.5f);
  // Longer than the image: cut at the edge, nothing written outside.
  Image<float> narrow(30, 12, 3, 0.5f);
  caption_image(narrow, "a caption far wider than thirty pixels");
  EXPECT_EQ(narrow.at(0, 0, 0), 0.f);
  // Not RGB: refused.
  Image<float> grey(30, 12, 1, 0.5f);
  EXPECT_HAS(error_of([&] { caption_image(grey, "x"); }), "needs an RGB image");
}

}  // namespace
}  // namespace glimpse
