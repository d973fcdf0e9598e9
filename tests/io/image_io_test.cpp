// Image files: PNG round trips made in code, 16-bit/RGBA/gray/JPEG inputs, atomic writes, error
// messages naming the path, depth colourisation and area resampling.
#include "io/image_io.h"

#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ImageIo, RgbRoundTripIsExactFor8BitValues) {
  TempDir dir;
  Image<float> image(5, 3, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x)
      for (int c = 0; c < 3; ++c)
        image.at(x, y, c) = float((x * 40 + y * 70 + c * 25) % 256) / 255.f;
  const std::string path = dir.file("rgb.png");
  write_png(path, image);
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"rgb.png"});  // no temporary left

  const Image<float> back = read_image_rgb(path);
  ASSERT_EQ(back.width(), 5);
  ASSERT_EQ(back.height(), 3);
  ASSERT_EQ(back.channels(), 3);
  for (size_t i = 0; i < image.size(); ++i) EXPECT_NEAR(back.vector()[i], image.vector()[i], 1e-6);

  // Channel order on disk is what every other tool expects: red first in RGB terms.
  const cv::Mat raw = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(raw.type(), CV_8UC3);
  EXPECT_EQ(raw.at<cv::Vec3b>(0, 1)[2], 40);  // BGR in OpenCV: index 2 is red = 40 at x=1
}

TEST(ImageIo, WriteClampsAndRounds) {
  TempDir dir;
  Image<float> image(5, 1, 1);
  image.at(0, 0) = -0.5f;
  image.at(1, 0) = 1.7f;
  image.at(2, 0) = std::numeric_limits<float>::quiet_NaN();
  image.at(3, 0) = 0.5f;   // 127.5 -> 128
  image.at(4, 0) = 0.25f;  // 63.75 -> 64
  const std::string path = dir.file("gray.png");
  write_png(path, image);
  const cv::Mat raw = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(raw.type(), CV_8UC1);
  EXPECT_EQ(raw.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(raw.at<uint8_t>(0, 1), 255);
  EXPECT_EQ(raw.at<uint8_t>(0, 2), 0);
  EXPECT_EQ(raw.at<uint8_t>(0, 3), 128);
  EXPECT_EQ(raw.at<uint8_t>(0, 4), 64);

  // Gray reads as replicated RGB, and as a 1-channel mask.
  const Image<float> rgb = read_image_rgb(path);
  ASSERT_EQ(rgb.channels(), 3);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(rgb.at(3, 0, c), 128.f / 255.f);
  const Image<float> mask = read_mask(path);
  ASSERT_EQ(mask.channels(), 1);
  EXPECT_FLOAT_EQ(mask.at(1, 0), 1.0f);
  EXPECT_FLOAT_EQ(mask.at(4, 0), 64.f / 255.f);
}

TEST(ImageIo, Reads16BitPng) {
  TempDir dir;
  cv::Mat m(2, 2, CV_16UC3, cv::Scalar(0, 0, 0));
  m.at<cv::Vec3w>(0, 0) = cv::Vec3w(0, 32768, 65535);  // BGR
  const std::string path = dir.file("deep.png");
  ASSERT_TRUE(cv::imwrite(path, m));
  const Image<float> rgb = read_image_rgb(path);
  EXPECT_FLOAT_EQ(rgb.at(0, 0, 0), 1.0f);  // red
  EXPECT_FLOAT_EQ(rgb.at(0, 0, 1), 32768.f / 65535.f);
  EXPECT_FLOAT_EQ(rgb.at(0, 0, 2), 0.0f);
}

TEST(ImageIo, RgbaDropsAlphaAndMaskReadsAlpha) {
  TempDir dir;
  cv::Mat m(1, 2, CV_8UC4);
  m.at<cv::Vec4b>(0, 0) = cv::Vec4b(10, 20, 30, 255);  // BGRA
  m.at<cv::Vec4b>(0, 1) = cv::Vec4b(10, 20, 30, 0);
  const std::string path = dir.file("rgba.png");
  ASSERT_TRUE(cv::imwrite(path, m));
  const Image<float> rgb = read_image_rgb(path);
  ASSERT_EQ(rgb.channels(), 3);
  EXPECT_FLOAT_EQ(rgb.at(1, 0, 0), 30.f / 255.f);  // not composited: colour kept at alpha 0
  EXPECT_FLOAT_EQ(rgb.at(1, 0, 2), 10.f / 255.f);
  const Image<float> mask = read_mask(path);
  ASSERT_EQ(mask.channels(), 1);
  EXPECT_FLOAT_EQ(mask.at(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(mask.at(1, 0), 0.0f);
}

TEST(ImageIo, RgbMaskIsChannelMean) {
  TempDir dir;
  cv::Mat m(1, 1, CV_8UC3, cv::Scalar(0, 255, 255));  // BGR
  const std::string path = dir.file("mask.png");
  ASSERT_TRUE(cv::imwrite(path, m));
  EXPECT_NEAR(read_mask(path).at(0, 0), 2.0f / 3.0f, 1e-6);
}

TEST(ImageIo, ReadsJpeg) {
  TempDir dir;
  cv::Mat m(8, 8, CV_8UC3, cv::Scalar(50, 100, 200));  // BGR
  const std::string path = dir.file("photo.JPG");
  ASSERT_TRUE(cv::imwrite(path, m));
  const Image<float> rgb = read_image_rgb(path);
  ASSERT_EQ(rgb.width(), 8);
  EXPECT_NEAR(rgb.at(4, 4, 0), 200.f / 255.f, 3.f / 255.f);
  EXPECT_NEAR(rgb.at(4, 4, 2), 50.f / 255.f, 3.f / 255.f);
}

TEST(ImageIo, MissingFileErrorNamesPath) {
  TempDir dir;
  const std::string path = dir.file("nope.png");
  const std::string msg = testing::error_message([&] { read_image_rgb(path); });
  EXPECT_NE(msg.find("cannot read image " + path), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_ERROR_CONTAINS(read_mask(path), path);
  EXPECT_ERROR_CONTAINS(read_image_rgb(dir.path().string()), "not a regular file");
}

TEST(ImageIo, CorruptFileErrorNamesPath) {
  TempDir dir;
  const std::string path = dir.file("corrupt.png");
  {
    std::ofstream out(path, std::ios::binary);
    out << "\x89PNG\r\n\x1a\n this is not really a png";
  }
  const std::string msg = testing::error_message([&] { read_image_rgb(path); });
  EXPECT_NE(msg.find("cannot read image " + path), std::string::npos) << msg;
  EXPECT_NE(msg.find("no valid type"), std::string::npos) << msg;

  const std::string text = dir.file("notes.png");
  { std::ofstream(text) << "hello"; }
  EXPECT_ERROR_CONTAINS(read_mask(text), "not a decodable image");
}

// A photograph-like 8-bit image (gradients and noise, so that JPEG has entropy-coded data to cut).
cv::Mat textured(int width, int height) {
  cv::Mat m(height, width, CV_8UC3);
  cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) m.at<cv::Vec3b>(y, x)[0] = static_cast<uint8_t>((x + y) % 256);
  return m;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(ImageIo, TruncatedOrDamagedPngAndJpegAreRefusedNamingTheFile) {
  TempDir dir;
  const cv::Mat m = textured(96, 64);
  struct Case {
    const char* name;
    std::vector<int> params;
  };
  const Case cases[] = {{"baseline.jpg", {}},
                        {"progressive.jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
                        {"restarts.jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 2}},
                        {"image.png", {}},
                        {"sixteen.png", {}}};
  for (const Case& c : cases) {
    const std::string path = dir.file(c.name);
    cv::Mat written = m;
    if (std::string(c.name) == "sixteen.png") m.convertTo(written, CV_16UC3, 257.0);
    ASSERT_TRUE(cv::imwrite(path, written, c.params));
    const std::string whole = bytes_of(path);
    EXPECT_EQ(read_image_rgb(path).width(), 96) << c.name;
    // Bytes after the end are allowed (some cameras append data after EOI).
    write_bytes(path, whole + std::string(16, '\0'));
    EXPECT_EQ(read_image_rgb(path).width(), 96) << c.name;
    // Cut at several points, including the middle of the data and just before the end marker.
    for (const size_t keep : {whole.size() / 3, whole.size() / 2, whole.size() - 2, size_t{40}}) {
      write_bytes(path, whole.substr(0, keep));
      const std::string msg = testing::error_message([&] { read_image_rgb(path); });
      EXPECT_NE(msg.find("cannot read image " + path), std::string::npos) << msg;
      EXPECT_NE(msg.find("truncated"), std::string::npos)
          << c.name << " cut at " << keep << ": " << msg;
      EXPECT_ERROR_CONTAINS(read_mask(path), path);
    }
  }
  // One flipped byte inside a PNG's image data: its chunk CRC catches it.
  const std::string path = dir.file("flipped.png");
  ASSERT_TRUE(cv::imwrite(path, m));
  std::string flipped = bytes_of(path);
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x04);
  write_bytes(path, flipped);
  const std::string msg = testing::error_message([&] { read_image_rgb(path); });
  EXPECT_NE(msg.find(path + ": the PNG's IDAT chunk"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fails its CRC-32 check"), std::string::npos) << msg;
  // A JPEG cut to 3 kB (the case seen decoding to flat grey with exit 0).
  const std::string big = dir.file("big.jpg");
  ASSERT_TRUE(cv::imwrite(big, textured(504, 378)));
  const std::string whole = bytes_of(big);
  ASSERT_GT(whole.size(), 3000u);
  write_bytes(big, whole.substr(0, 3000));
  EXPECT_ERROR_CONTAINS(read_image_rgb(big), "before the JPEG's end-of-image marker: truncated");
}

TEST(ImageIo, WritePngOverwritesAtomically) {
  TempDir dir;
  const std::string path = dir.file("out.png");
  write_png(path, Image<float>(2, 2, 3, 0.0f));
  write_png(path, Image<float>(3, 2, 3, 1.0f));
  const Image<float> back = read_image_rgb(path);
  EXPECT_EQ(back.width(), 3);
  EXPECT_FLOAT_EQ(back.at(2, 1, 1), 1.0f);
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"out.png"});
}

TEST(ImageIo, WritePngFailuresNamePathAndLeaveNothing) {
  TempDir dir;
  const std::string missing_folder = dir.file("no/such/folder/out.png");
  const std::string msg =
      testing::error_message([&] { write_png(missing_folder, Image<float>(2, 2, 3)); });
  EXPECT_NE(msg.find(missing_folder), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;

  // The final rename fails when the target is a non-empty folder: the temporary must be removed.
  const std::string blocked = dir.file("blocked.png");
  fs::create_directories(fs::path(blocked) / "inside");
  EXPECT_ERROR_CONTAINS(write_png(blocked, Image<float>(2, 2, 3)), blocked);
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"blocked.png"});

  EXPECT_ERROR_CONTAINS(write_png(dir.file("two.png"), Image<float>(2, 2, 2)), "1 or 3 channels");
  EXPECT_ERROR_CONTAINS(write_png(dir.file("empty.png"), Image<float>()), "empty.png");
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"blocked.png"});
}

TEST(ImageIo, ColorizeDepthUsesTurboAndBlackForInvalid) {
  Image<float> depth(5, 1, 1);
  depth.at(0, 0) = 1.0f;   // near -> turbo(0)
  depth.at(1, 0) = 3.0f;   // far -> turbo(255)
  depth.at(2, 0) = 0.0f;   // invalid
  depth.at(3, 0) = -2.0f;  // invalid
  depth.at(4, 0) = std::numeric_limits<float>::quiet_NaN();
  const Image<float> rgb = colorize_depth(depth, 1.0f, 3.0f);
  ASSERT_EQ(rgb.channels(), 3);
  ASSERT_EQ(rgb.width(), 5);

  cv::Mat lut(1, 2, CV_8UC1);
  lut.at<uint8_t>(0, 0) = 0;
  lut.at<uint8_t>(0, 1) = 255;
  cv::Mat turbo;
  cv::applyColorMap(lut, turbo, cv::COLORMAP_TURBO);
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 3; ++c)
      EXPECT_FLOAT_EQ(rgb.at(i, 0, c), turbo.at<cv::Vec3b>(0, i)[2 - c] / 255.f) << i << " " << c;
  EXPECT_GT(rgb.at(0, 0, 2), rgb.at(0, 0, 0));  // near is blue
  EXPECT_GT(rgb.at(1, 0, 0), rgb.at(1, 0, 2));  // far is red
  for (int i = 2; i < 5; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(rgb.at(i, 0, c), 0.0f);

  EXPECT_ERROR_CONTAINS(colorize_depth(depth, 3.0f, 1.0f), "near < far");
  EXPECT_ERROR_CONTAINS(colorize_depth(Image<float>(2, 2, 3), 0.f, 1.f), "1-channel");
}

TEST(ImageIo, DepthPreviewIsLinearInInverseDepthAndCarriesItsScale) {
  // A forward-facing range: near 1, far 100. Depths 1, 2 (the middle of 1/d between the bounds
  // is 1 / 0.505 = 1.98), 100, and an invalid pixel.
  Image<float> depth(4, 1, 1);
  depth.at(0, 0) = 1.f;
  depth.at(1, 0) = static_cast<float>(1.0 / 0.505);
  depth.at(2, 0) = 100.f;
  depth.at(3, 0) = 0.f;
  const Image<float> bare = depth_preview(depth, 1.0, 100.0, false);
  ASSERT_EQ(bare.width(), 4);
  Image<float> positions(3, 1, 1);
  positions.at(0, 0) = 1.f;
  positions.at(1, 0) = 1.5f;
  positions.at(2, 0) = 2.f;
  const Image<float> expected = colorize_depth(positions, 1.f, 2.f);
  for (int x = 0; x < 3; ++x)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(bare.at(x, 0, c), expected.at(x, 0, c)) << x;
  for (int c = 0; c < 3; ++c) EXPECT_EQ(bare.at(3, 0, c), 0.f);
  // With the scale: the same pixels on the left, a colour bar and labels to the right.
  Image<float> big(200, 150, 1, 2.f);
  const Image<float> scaled = depth_preview(big, 1.0, 100.0);
  ASSERT_GT(scaled.width(), 200);
  ASSERT_EQ(scaled.height(), 150);
  const Image<float> plain = depth_preview(big, 1.0, 100.0, false);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(scaled.at(10, 10, c), plain.at(10, 10, c));
  // The bar's top is the near colour (blue end), its bottom the far one (red end).
  const int bar_x = 200 + 4 + 5;
  EXPECT_GT(scaled.at(bar_x, 0, 2), scaled.at(bar_x, 0, 0));      // blue > red at the top
  EXPECT_GT(scaled.at(bar_x, 149, 0), scaled.at(bar_x, 149, 2));  // red > blue at the bottom
  // Label text: white pixels right of the bar.
  float brightest = 0.f;
  for (int y = 0; y < 150; ++y)
    for (int x = bar_x + 10; x < scaled.width(); ++x)
      brightest = std::max(brightest, scaled.at(x, y, 1));
  EXPECT_GT(brightest, 0.9f);
  EXPECT_ERROR_CONTAINS(depth_preview(big, 0.0, 1.0), "need 0 < near < far");
}

TEST(ImageIo, ResizeAreaAveragesBlocks) {
  Image<float> image(4, 2, 3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) image.at(x, y, c) = float(x + 4 * y + 10 * c);
  const Image<float> half = resize_image_area(image, 2, 1);
  ASSERT_EQ(half.width(), 2);
  ASSERT_EQ(half.height(), 1);
  ASSERT_EQ(half.channels(), 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(half.at(0, 0, c), (0 + 1 + 4 + 5) / 4.0f + 10 * c);
    EXPECT_FLOAT_EQ(half.at(1, 0, c), (2 + 3 + 6 + 7) / 4.0f + 10 * c);
  }
  EXPECT_ERROR_CONTAINS(resize_image_area(image, 0, 1), "positive");
  EXPECT_ERROR_CONTAINS(resize_image_area(Image<float>(), 2, 2), "empty");
}

}  // namespace
}  // namespace glimpse
