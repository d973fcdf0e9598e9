// eval metrics: PSNR and masked PSNR hand-worked, SSIM_sk / SSIM_gs against scikit-image and a
// numpy 3DGS SSIM (tests/data/eval/make_ssim_fixture.py), compositing and the average error.
// LPIPS: tests/eval/lpips_test.cpp.
#include "eval/metrics.h"

#include "io/image_io.h"
#include "optim/losses.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>

namespace glimpse {
namespace {

using testing::source_dir;

std::filesystem::path fixture_dir() { return source_dir() / "tests" / "data" / "eval"; }

nlohmann::json read_fixture_json() {
  const auto path = fixture_dir() / "ssim_fixture.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  nlohmann::json j;
  if (in.good()) in >> j;
  return j;
}

Image<float> constant_image(int w, int h, int c, float v) { return Image<float>(w, h, c, v); }

Image<float> random_image(int w, int h, int c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Image<float> img(w, h, c);
  for (float& v : img.vector()) v = u(rng);
  return img;
}

// [SECTION] PSNR ---------------------------------------------------------------------------------

TEST(Psnr, HandWorkedValues) {
  // Difference 0.25 everywhere (exact in float): MSE 1/16, PSNR 10 log10(16) = 12.0412 dB.
  EXPECT_NEAR(psnr(constant_image(5, 4, 3, 0.5f), constant_image(5, 4, 3, 0.25f)),
              10.0 * std::log10(16.0), 1e-12);
  // Difference 0.1 everywhere: MSE 0.01, 20 dB (float rounding of 0.1 and 0.3: ~1e-6 dB).
  EXPECT_NEAR(psnr(constant_image(8, 6, 3, 0.4f), constant_image(8, 6, 3, 0.3f)), 20.0, 1e-5);
  // Half the values differ by 0.5, the other half not at all: MSE 0.125, 9.0309 dB.
  Image<float> a(2, 1, 1, 0.0f), b(2, 1, 1, 0.0f);
  a.at(0, 0) = 0.5f;
  EXPECT_NEAR(psnr(a, b), -10.0 * std::log10(0.125), 1e-12);
  EXPECT_NEAR(psnr(a, b), 9.030899869919435, 1e-12);
}

TEST(Psnr, IdenticalImagesGiveInfinity) {
  const Image<float> x = random_image(6, 5, 3, 1);
  const double p = psnr(x, x);
  EXPECT_TRUE(std::isinf(p) && p > 0) << p;
}

TEST(Psnr, RejectsShapeMismatchAndEmptyImages) {
  EXPECT_ERROR_CONTAINS(psnr(Image<float>(4, 4, 3), Image<float>(4, 5, 3)),
                        "images differ in shape (4x4x3 vs 4x5x3)");
  EXPECT_ERROR_CONTAINS(psnr(Image<float>(4, 4, 3), Image<float>(4, 4, 1)), "differ in shape");
  EXPECT_ERROR_CONTAINS(psnr(Image<float>(), Image<float>()), "empty");
}

TEST(PsnrMasked, UsesOnlyMaskPixelsAndAllTheirChannels) {
  // 3x1 RGB. Pixel 0: every channel off by 0.125; pixel 1: channel 0 off by 0.25; pixel 2 (outside
  // the mask) off by 1. Masked sum = 3 / 64 + 1 / 16 = 7 / 64 over 2 pixels x 3 channels:
  // MSE = 7 / 384, PSNR = 10 log10(384 / 7) = 17.3925 dB.
  Image<float> a(3, 1, 3, 0.5f), b(3, 1, 3, 0.5f), mask(3, 1, 1, 0.0f);
  for (int c = 0; c < 3; ++c) b.at(0, 0, c) = 0.625f;
  b.at(1, 0, 0) = 0.25f;
  for (int c = 0; c < 3; ++c) b.at(2, 0, c) = 1.5f;
  mask.at(0, 0) = 1.0f;
  mask.at(1, 0) = 0.51f;  // > 0.5: inside
  mask.at(2, 0) = 0.5f;   // not > 0.5: outside
  EXPECT_NEAR(psnr_masked(a, b, mask), 10.0 * std::log10(384.0 / 7.0), 1e-10);
  // The full-image PSNR includes pixel 2 and is lower.
  EXPECT_LT(psnr(a, b), psnr_masked(a, b, mask) - 5.0);
  // A full mask gives the plain PSNR.
  EXPECT_NEAR(psnr_masked(a, b, Image<float>(3, 1, 1, 1.0f)), psnr(a, b), 1e-12);
  // Identical on the mask, different outside: +inf.
  Image<float> c = a;
  c.at(2, 0, 1) = 0.0f;
  Image<float> only_first(3, 1, 1, 0.0f);
  only_first.at(0, 0) = 1.0f;
  EXPECT_TRUE(std::isinf(psnr_masked(a, c, only_first)));
}

TEST(PsnrMasked, RejectsBadMasks) {
  const Image<float> a(4, 3, 3, 0.2f), b(4, 3, 3, 0.3f);
  EXPECT_ERROR_CONTAINS(psnr_masked(a, b, Image<float>(4, 3, 1, 0.0f)), "selects no pixel");
  EXPECT_ERROR_CONTAINS(psnr_masked(a, b, Image<float>(4, 3, 3, 1.0f)), "1 channel, it has 3");
  EXPECT_ERROR_CONTAINS(psnr_masked(a, b, Image<float>(3, 4, 1, 1.0f)),
                        "mask is 3x4, image is 4x3");
}

// [SECTION] SSIM against scikit-image / numpy ----------------------------------------------------

TEST(Ssim, MatchesScikitImageAndNumpyReferenceValues) {
  const nlohmann::json j = read_fixture_json();
  ASSERT_TRUE(j.contains("pairs"));
  ASSERT_EQ(j["pairs"].size(), 2u);
  for (const auto& pair : j["pairs"]) {
    SCOPED_TRACE(pair["a"].get<std::string>());
    const Image<float> a = read_image_rgb((fixture_dir() / pair["a"].get<std::string>()).string());
    const Image<float> b = read_image_rgb((fixture_dir() / pair["b"].get<std::string>()).string());
    ASSERT_EQ(a.width(), 40);
    ASSERT_EQ(a.height(), 30);
    ASSERT_EQ(a.channels(), 3);
    EXPECT_NEAR(ssim_skimage(a, b), pair["ssim_sk"].get<double>(), 1e-6);
    EXPECT_NEAR(ssim_skimage(a, b, {.data_range = 2.0}), pair["ssim_sk_range2"].get<double>(),
                1e-6);
    EXPECT_NEAR(ssim_3dgs(a, b), pair["ssim_gs"].get<double>(), 1e-6);
    EXPECT_NEAR(psnr(a, b), pair["psnr"].get<double>(), 1e-5);
    // The variants really differ on these images, so the comparison above tells them apart.
    EXPECT_GT(std::abs(pair["ssim_sk"].get<double>() - pair["ssim_gs"].get<double>()), 1e-3);
  }
}

TEST(Ssim, IdenticalImagesGiveOne) {
  const Image<float> x = random_image(12, 9, 3, 3);
  EXPECT_NEAR(ssim_skimage(x, x), 1.0, 1e-12);
  EXPECT_NEAR(ssim_3dgs(x, x), 1.0, 1e-12);
}

TEST(Ssim, ThreeDgsVariantIsTheTrainingLossSsim) {
  const Image<float> a = random_image(23, 17, 3, 4), b = random_image(23, 17, 3, 5);
  EXPECT_NEAR(ssim_3dgs(a, b), ssim(a, b), 1e-5);  // float training path vs double eval path
}

TEST(Ssim, SkimageVariantChecksItsInputs) {
  const Image<float> a = random_image(7, 7, 1, 6), b = random_image(7, 7, 1, 7);
  EXPECT_TRUE(std::isfinite(ssim_skimage(a, b)));  // 7x7: the smallest size, one window
  EXPECT_ERROR_CONTAINS(ssim_skimage(Image<float>(6, 9, 3), Image<float>(6, 9, 3)),
                        "exceeds the 6x9 image");
  EXPECT_ERROR_CONTAINS(ssim_skimage(a, b, {.data_range = 0.0}), "data_range");
  EXPECT_ERROR_CONTAINS(ssim_skimage(a, Image<float>(7, 7, 3)), "differ in shape");
}

TEST(Ssim, SkimageSingleWindowHandWorked) {
  // A 7x7 one-channel image has one window: SSIM = ((2 mx my + C1)(2 sxy + C2)) /
  // ((mx^2 + my^2 + C1)(sx + sy + C2)) with sample (1/48) moments. a = 0/1 checkerboard (25 ones),
  // b = 0.5 everywhere: mx = 25/49, my = 0.5, sy = sxy = 0, sx = (25 - 49 mx^2) / 48.
  Image<float> a(7, 7, 1), b(7, 7, 1, 0.5f);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 7; ++x) a.at(x, y) = (x + y) % 2 == 0 ? 1.0f : 0.0f;
  const double mx = 25.0 / 49.0, my = 0.5, sx = (25.0 - 49.0 * mx * mx) / 48.0;
  const double c1 = 1e-4, c2 = 9e-4;
  const double expected = ((2 * mx * my + c1) * c2) / ((mx * mx + my * my + c1) * (sx + c2));
  EXPECT_NEAR(ssim_skimage(a, b), expected, 1e-12);
}

// [SECTION] Compositing and the average error ---------------------------------------------------

TEST(CompositeBackground, WhiteOutsideTheMaskAndBlendsFractions) {
  Image<float> img(3, 1, 3), mask(3, 1, 1);
  for (int x = 0; x < 3; ++x)
    for (int c = 0; c < 3; ++c) img.at(x, 0, c) = 0.1f * (c + 1);
  mask.at(0, 0) = 1.0f;
  mask.at(1, 0) = 0.0f;
  mask.at(2, 0) = 0.25f;
  const Image<float> white = composite_background(img, mask);
  ASSERT_EQ(white.channels(), 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(white.at(0, 0, c), 0.1f * (c + 1));                         // inside: kept
    EXPECT_FLOAT_EQ(white.at(1, 0, c), 1.0f);                                   // outside: white
    EXPECT_FLOAT_EQ(white.at(2, 0, c), 0.25f * 0.1f * (c + 1) + 0.75f * 1.0f);  // blended
  }
  const Image<float> coloured = composite_background(img, mask, Vec3<float>(0.0f, 0.5f, 1.0f));
  EXPECT_FLOAT_EQ(coloured.at(1, 0, 0), 0.0f);
  EXPECT_FLOAT_EQ(coloured.at(1, 0, 1), 0.5f);
  EXPECT_FLOAT_EQ(coloured.at(1, 0, 2), 1.0f);
  EXPECT_FLOAT_EQ(coloured.at(0, 0, 1), 0.2f);
  EXPECT_ERROR_CONTAINS(composite_background(Image<float>(3, 1, 1), mask), "RGB");
  EXPECT_ERROR_CONTAINS(composite_background(img, Image<float>(2, 1, 1)), "mask is 2x1");
}

TEST(AverageError, HandWorkedGeometricMean) {
  // PSNR 20 -> MSE 0.01; SSIM 0.84 -> sqrt(0.16) = 0.4; LPIPS 0.25: (0.01 * 0.4 * 0.25)^(1/3)
  // = 0.001^(1/3) = 0.1.
  EXPECT_NEAR(average_error(20.0, 0.84, 0.25), 0.1, 1e-12);
  // PSNR 30 -> 0.001; SSIM 0.91 -> 0.3; LPIPS 0.1: (3e-5)^(1/3).
  EXPECT_NEAR(average_error(30.0, 0.91, 0.1), std::cbrt(3e-5), 1e-12);
  EXPECT_EQ(average_error(std::numeric_limits<double>::infinity(), 0.9, 0.1), 0.0);
  EXPECT_EQ(average_error(20.0, 1.0 + 1e-9, 0.1), 0.0);  // 1 - SSIM clamped at 0
  EXPECT_ERROR_CONTAINS(average_error(20.0, 0.8, std::nan("")), "NaN");
  EXPECT_ERROR_CONTAINS(average_error(20.0, 0.8, -0.1), "LPIPS must be >= 0");
}

}  // namespace
}  // namespace glimpse
