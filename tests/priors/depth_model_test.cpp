// priors/depth_model.h: the references' input sizes (values from their Resize.get_size), tiny
// ONNX networks (tools/make_depth_model_fixture.py -> tests/data/depth_model/, a missing file
// FAILS) recomputed by hand per convention, the resampling to the image, and refused files.
#include "priors/depth_model.h"

#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// The fixture networks' constants (tools/make_depth_model_fixture.py).
constexpr double kWeights[3] = {0.5, -0.25, 0.125};
constexpr double kBias = 0.0625;
constexpr double kConstant = -0.125;
// Absolute, on outputs of magnitude <= 2: float32 normalisation and a 3-term float32 dot
// product against the same computation in double (a few ulp of 2, ~1e-6).
constexpr double kTolerance = 1e-5;

// The references' normalisation constants, written out here rather than taken from the library.
constexpr double kImagenetMean[3] = {0.485, 0.456, 0.406};
constexpr double kImagenetStd[3] = {0.229, 0.224, 0.225};
constexpr double kHalf[3] = {0.5, 0.5, 0.5};

std::string fixture(const std::string& name) {
  const fs::path path = testing::source_dir() / "tests" / "data" / "depth_model" / name;
  EXPECT_TRUE(fs::is_regular_file(path))
      << "missing fixture " << path << " (python3 tools/make_depth_model_fixture.py "
      << "tests/data/depth_model)";
  return path.string();
}

// The 1x1 convolution of the fixtures on one normalised pixel.
double conv(const float* rgb, const double* mean, const double* std) {
  double sum = kBias;
  for (int c = 0; c < 3; ++c) sum += kWeights[c] * ((rgb[c] - mean[c]) / std[c]);
  return sum;
}
double tiny_depth(const float* rgb, const double* mean, const double* std) {
  return std::max(conv(rgb, mean, std), 0.0) + kConstant;
}

Image<float> random_image(int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Image<float> img(w, h, 3);
  for (float& v : img.vector()) v = u(rng);
  return img;
}

DepthModelOptions options_for(const std::string& file, DepthModelConvention convention) {
  DepthModelOptions o;
  o.path = fixture(file);
  o.convention = convention;
  return o;
}

// The network at exactly the image's size (no resize on either side): every pixel by hand.
void expect_hand_computed(DepthModelConvention convention, int w, int h, const double* mean,
                          const double* std) {
  DepthModelOptions o = options_for("tiny_depth.onnx", convention);
  o.input_width = w;
  o.input_height = h;
  o.keep_aspect_ratio = false;
  ASSERT_EQ(depth_model_input_size(o, w, h).width, w);
  ASSERT_EQ(depth_model_input_size(o, w, h).height, h);
  const MonocularDepthModel model(o);
  const Image<float> img = random_image(w, h, 7);
  const DepthPrior prior = model.predict(img, "view7");
  ASSERT_EQ(prior.values.width(), w);
  ASSERT_EQ(prior.values.height(), h);
  EXPECT_EQ(prior.kind, DepthPriorKind::InverseDepth);
  EXPECT_FALSE(prior.metric);
  EXPECT_EQ(prior.source, o.path + " on view7");
  int positive = 0, negative = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double expected = tiny_depth(&img.at(x, y), mean, std);
      if (std::abs(expected) < 1e-4) continue;  // too near 0 to call the sign
      if (expected > 0) {
        ++positive;
        EXPECT_NEAR(prior.values.at(x, y), expected, kTolerance) << x << ", " << y;
        EXPECT_EQ(prior.confidence.at(x, y), 1.f) << x << ", " << y;
      } else {  // the network's output is negative: no information there
        ++negative;
        EXPECT_EQ(prior.values.at(x, y), 0.f) << x << ", " << y;
        EXPECT_EQ(prior.confidence.at(x, y), 0.f) << x << ", " << y;
      }
    }
  EXPECT_GT(positive, w * h / 10);
  EXPECT_GT(negative, w * h / 10);
  EXPECT_NO_THROW(check_depth_prior(prior, w, h));
}

TEST(DepthModelConvention, NamesParseBackAndUnknownListsTheChoices) {
  for (DepthModelConvention c : {DepthModelConvention::Midas, DepthModelConvention::Dpt,
                                 DepthModelConvention::DepthAnything})
    EXPECT_EQ(parse_depth_model_convention(depth_model_convention_name(c)), c);
  EXPECT_EQ(parse_depth_model_convention("midas"), DepthModelConvention::Midas);
  EXPECT_EQ(parse_depth_model_convention("dpt"), DepthModelConvention::Dpt);
  EXPECT_EQ(parse_depth_model_convention("depth-anything"), DepthModelConvention::DepthAnything);
  EXPECT_ERROR_CONTAINS(parse_depth_model_convention("zoedepth"), "'zoedepth'");
  EXPECT_ERROR_CONTAINS(parse_depth_model_convention("DPT"), "midas, dpt, depth-anything");
}

TEST(DepthModelConvention, PreprocessingConstantsAreTheReferences) {
  const DepthModelPreprocessing midas = depth_model_preprocessing(DepthModelConvention::Midas);
  const DepthModelPreprocessing dpt = depth_model_preprocessing(DepthModelConvention::Dpt);
  const DepthModelPreprocessing da = depth_model_preprocessing(DepthModelConvention::DepthAnything);
  EXPECT_EQ(midas.width, 384);
  EXPECT_EQ(midas.multiple_of, 32);
  EXPECT_EQ(dpt.width, 384);
  EXPECT_EQ(dpt.multiple_of, 32);
  EXPECT_EQ(da.width, 518);
  EXPECT_EQ(da.multiple_of, 14);
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(midas.mean[c], kImagenetMean[c]);
    EXPECT_FLOAT_EQ(midas.std[c], kImagenetStd[c]);
    EXPECT_FLOAT_EQ(da.mean[c], kImagenetMean[c]);
    EXPECT_FLOAT_EQ(da.std[c], kImagenetStd[c]);
    EXPECT_FLOAT_EQ(dpt.mean[c], 0.5);
    EXPECT_FLOAT_EQ(dpt.std[c], 0.5);
  }
}

// Expected sizes from the references' Resize.get_size (numpy, float64) run on these images.
TEST(DepthModelInputSize, MatchesTheReferenceResize) {
  struct Case {
    DepthModelConvention convention;
    int target, image_w, image_h, want_w, want_h;
    bool keep_aspect_ratio;
  };
  const DepthModelConvention kMidas = DepthModelConvention::Midas, kDpt = DepthModelConvention::Dpt,
                             kDa = DepthModelConvention::DepthAnything;
  const Case cases[] = {
      {kDa, 0, 1008, 756, 686, 518, true},  // short side 518, 690.67 -> 686
      {kDa, 0, 756, 1008, 518, 686, true},
      {kDa, 0, 504, 378, 686, 518, true},      // LLFF at 1/8
      {kDa, 0, 539, 518, 532, 518, true},      // 539 / 14 = 38.5: numpy rounds half to even
      {kMidas, 0, 1008, 756, 384, 288, true},  // long side 384
      {kMidas, 0, 756, 1008, 288, 384, true},
      {kMidas, 256, 1008, 756, 256, 192, true},  // MiDaS v2.1 small
      {kMidas, 0, 1008, 756, 384, 384, false},   // fixed-size export: stretched
      {kDpt, 0, 1008, 756, 512, 384, true},      // scale nearer 1 (the height's)
      {kDpt, 0, 504, 378, 512, 384, true},
      {kDpt, 0, 40, 30, 384, 288, true},
  };
  for (const Case& c : cases) {
    DepthModelOptions o;
    o.path = "unused.onnx";
    o.convention = c.convention;
    o.input_width = o.input_height = c.target;
    o.keep_aspect_ratio = c.keep_aspect_ratio;
    const DepthModelInputSize s = depth_model_input_size(o, c.image_w, c.image_h);
    EXPECT_EQ(s.width, c.want_w) << depth_model_convention_name(c.convention) << " " << c.image_w
                                 << "x" << c.image_h;
    EXPECT_EQ(s.height, c.want_h) << depth_model_convention_name(c.convention) << " " << c.image_w
                                  << "x" << c.image_h;
  }
}

TEST(DepthModelOptions, CheckRefusesBadSizesAndNoPath) {
  DepthModelOptions o;
  EXPECT_ERROR_CONTAINS(o.check(), "path is empty");
  o.path = "model.onnx";
  EXPECT_NO_THROW(o.check());
  o.input_width = 518;
  EXPECT_ERROR_CONTAINS(o.check(), "both");
  o.input_height = 13;
  EXPECT_ERROR_CONTAINS(o.check(), "stride 14");
  o.input_height = 14;
  EXPECT_NO_THROW(o.check());
}

TEST(MonocularDepthModel, DepthAnythingMatchesTheHandComputation) {
  expect_hand_computed(DepthModelConvention::DepthAnything, 28, 14, kImagenetMean, kImagenetStd);
}

TEST(MonocularDepthModel, MidasMatchesTheHandComputation) {
  expect_hand_computed(DepthModelConvention::Midas, 64, 32, kImagenetMean, kImagenetStd);
}

TEST(MonocularDepthModel, DptMatchesTheHandComputation) {
  expect_hand_computed(DepthModelConvention::Dpt, 32, 64, kHalf, kHalf);
}

// Default Depth Anything sizing: a 40x30 view runs at 686x518 and comes back at 40x30; a constant
// colour stays constant through both resizes.
TEST(MonocularDepthModel, ConstantViewAtTheDefaultSizeComesBackAtTheViewSize) {
  const MonocularDepthModel model(
      options_for("tiny_depth.onnx", DepthModelConvention::DepthAnything));
  const float colour[3] = {0.9f, 0.2f, 0.3f};
  Image<float> img(40, 30, 3);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x)
      for (int c = 0; c < 3; ++c) img.at(x, y, c) = colour[c];
  const double expected = tiny_depth(colour, kImagenetMean, kImagenetStd);
  ASSERT_GT(expected, 0.1);
  const DepthPrior prior = model.predict(img, "flat");
  ASSERT_EQ(prior.values.width(), 40);
  ASSERT_EQ(prior.values.height(), 30);
  ASSERT_EQ(prior.confidence.width(), 40);
  ASSERT_EQ(prior.confidence.height(), 30);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) {
      EXPECT_NEAR(prior.values.at(x, y), expected, kTolerance) << x << ", " << y;
      EXPECT_EQ(prior.confidence.at(x, y), 1.f) << x << ", " << y;
    }
  EXPECT_EQ(check_depth_prior(prior, 40, 30), 40u * 30u);
}

// A 56x28 view run at 28x14 (stretch): two flat halves keep their hand values away from the
// edge between them (INTER_CUBIC reaches 2 pixels, bilinear 1), the map is 56x28.
TEST(MonocularDepthModel, OutputIsResampledToTheViewSize) {
  DepthModelOptions o = options_for("tiny_depth.onnx", DepthModelConvention::DepthAnything);
  o.input_width = 28;
  o.input_height = 14;
  o.keep_aspect_ratio = false;
  const MonocularDepthModel model(o);
  const float left[3] = {0.9f, 0.1f, 0.5f}, right[3] = {0.6f, 0.3f, 0.2f};
  Image<float> img(56, 28, 3);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 56; ++x)
      for (int c = 0; c < 3; ++c) img.at(x, y, c) = x < 28 ? left[c] : right[c];
  const double want_left = tiny_depth(left, kImagenetMean, kImagenetStd);
  const double want_right = tiny_depth(right, kImagenetMean, kImagenetStd);
  ASSERT_GT(want_left, want_right + 0.2);
  ASSERT_GT(want_right, 0.1);
  const DepthPrior prior = model.predict(img, "halves");
  ASSERT_EQ(prior.values.width(), 56);
  ASSERT_EQ(prior.values.height(), 28);
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 20; ++x) EXPECT_NEAR(prior.values.at(x, y), want_left, kTolerance);
    for (int x = 36; x < 56; ++x) EXPECT_NEAR(prior.values.at(x, y), want_right, kTolerance);
    EXPECT_GT(prior.values.at(26, y), prior.values.at(30, y));  // the edge, in between
    for (int x = 0; x < 56; ++x) EXPECT_EQ(prior.confidence.at(x, y), 1.f);
  }
}

// sqrt of a negative convolution is NaN: confidence 0 and value 0 there, sqrt elsewhere.
TEST(MonocularDepthModel, NotANumberGetsNoConfidence) {
  DepthModelOptions o = options_for("sqrt_depth.onnx", DepthModelConvention::DepthAnything);
  o.input_width = 28;
  o.input_height = 28;
  o.keep_aspect_ratio = false;
  const MonocularDepthModel model(o);
  const Image<float> img = random_image(28, 28, 11);
  const DepthPrior prior = model.predict(img, "v");
  int nan = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      const double c = conv(&img.at(x, y), kImagenetMean, kImagenetStd);
      if (std::abs(c) < 1e-4) continue;
      if (c > 0) {
        EXPECT_NEAR(prior.values.at(x, y), std::sqrt(c), kTolerance);
        EXPECT_EQ(prior.confidence.at(x, y), 1.f);
      } else {
        ++nan;
        EXPECT_EQ(prior.values.at(x, y), 0.f);
        EXPECT_EQ(prior.confidence.at(x, y), 0.f);
      }
    }
  EXPECT_GT(nan, 28 * 28 / 10);
  EXPECT_NO_THROW(check_depth_prior(prior, 28, 28));
}

TEST(MonocularDepthModel, WrongOutputShapeIsRefusedNamingTheFileAndShape) {
  DepthModelOptions o = options_for("wrong_shape.onnx", DepthModelConvention::DepthAnything);
  o.input_width = 28;
  o.input_height = 14;
  o.keep_aspect_ratio = false;
  const MonocularDepthModel model(o);
  const Image<float> img = random_image(28, 14, 3);
  EXPECT_ERROR_CONTAINS(model.predict(img, "v"), o.path);
  EXPECT_ERROR_CONTAINS(model.predict(img, "v"), "[1, 2, 14, 28]");
}

TEST(MonocularDepthModel, MissingFileIsRefusedNamingIt) {
  TempDir dir;
  DepthModelOptions o;
  o.path = dir.file("no_such_model.onnx");
  EXPECT_ERROR_CONTAINS(MonocularDepthModel{o}, o.path);
  EXPECT_ERROR_CONTAINS(MonocularDepthModel{o}, "no such file");
}

TEST(MonocularDepthModel, GarbageFileIsRefusedNamingItOnOneLine) {
  TempDir dir;
  DepthModelOptions o;
  o.path = dir.file("garbage.onnx");
  {
    std::mt19937 rng(1234);
    std::vector<char> bytes(4096);
    for (char& b : bytes) b = static_cast<char>(rng() & 0xff);
    std::ofstream(o.path, std::ios::binary).write(bytes.data(), bytes.size());
  }
  const std::string message = testing::error_message([&] { MonocularDepthModel model(o); });
  EXPECT_NE(message.find(o.path), std::string::npos) << message;
  EXPECT_NE(message.find("OpenCV"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(MonocularDepthModel, BadImagesAreRefusedNamingTheView) {
  DepthModelOptions o = options_for("tiny_depth.onnx", DepthModelConvention::DepthAnything);
  o.input_width = o.input_height = 14;
  o.keep_aspect_ratio = false;
  const MonocularDepthModel model(o);
  EXPECT_ERROR_CONTAINS(model.predict(Image<float>(14, 14, 1), "grey"), "grey");
  Image<float> img = random_image(14, 14, 5);
  img.at(3, 4, 1) = std::nanf("");
  EXPECT_ERROR_CONTAINS(model.predict(img, "holey"), "pixel 3, 4");
}

}  // namespace
}  // namespace glimpse
