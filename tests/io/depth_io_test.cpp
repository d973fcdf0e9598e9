// Tests of depth map I/O: exact PFM bytes (both byte orders, bottom-up rows), PFM/NPY/PNG16/EXR
// round trips, truncated and malformed files, and mask thresholding.
#include "io/depth_io.h"

#include "io/npy.h"
#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;

std::string float_bytes(float v, bool little) {
  unsigned char b[4];
  std::memcpy(b, &v, 4);  // the test host is little-endian (x86-64 / arm64)
  std::string s(reinterpret_cast<char*>(b), 4);
  if (!little) std::swap(s[0], s[3]), std::swap(s[1], s[2]);
  return s;
}

// A 3x2 depth map with distinct values, a NaN, an inf and a negative.
Image<float> sample_depth() {
  Image<float> d(3, 2, 1);
  const float values[] = {0.5f,
                          1.25f,
                          -2.0f,
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity(),
                          1e-20f};
  std::copy(values, values + 6, d.data());
  return d;
}

void expect_same_bits(const Image<float>& a, const Image<float>& b) {
  ASSERT_EQ(a.width(), b.width());
  ASSERT_EQ(a.height(), b.height());
  ASSERT_EQ(a.channels(), b.channels());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// --- PFM ---
TEST(DepthIoTest, PfmExactBytesBothByteOrders) {
  for (bool little : {true, false}) {
    SCOPED_TRACE(little ? "little-endian" : "big-endian");
    // 2x2: the file's first row is the image's BOTTOM row.
    std::string bytes = std::string("Pf\n2 2\n") + (little ? "-1.0" : "1.0") + "\n";
    for (float v : {1.f, 2.f, 3.f, 4.f}) bytes += float_bytes(v, little);
    std::istringstream in(bytes);
    const Image<float> d = read_pfm(in, "x.pfm");
    ASSERT_EQ(d.width(), 2);
    ASSERT_EQ(d.height(), 2);
    ASSERT_EQ(d.channels(), 1);
    EXPECT_EQ(d.at(0, 0), 3.f);
    EXPECT_EQ(d.at(1, 0), 4.f);
    EXPECT_EQ(d.at(0, 1), 1.f);
    EXPECT_EQ(d.at(1, 1), 2.f);
  }
  // Any whitespace between the header tokens; the scale's magnitude is ignored.
  std::string spaced = "Pf 1\t1   -0.003\n" + float_bytes(7.5f, true);
  std::istringstream in(spaced);
  EXPECT_EQ(read_pfm(in, "s.pfm").at(0, 0), 7.5f);
}

TEST(DepthIoTest, PfmRoundTrip) {
  const Image<float> d = sample_depth();
  std::ostringstream out;
  write_pfm(out, d);
  EXPECT_EQ(out.str().substr(0, 10), "Pf\n3 2\n-1\n");
  EXPECT_EQ(out.str().size(), 10u + 6 * 4);
  // Bottom row first: the first stored value is pixel (0, 1) = NaN's row start.
  EXPECT_EQ(out.str().substr(10, 4), float_bytes(d.at(0, 1), true));
  std::istringstream in(out.str());
  expect_same_bits(read_pfm(in, "round.pfm"), d);

  testing::TempDir dir;
  const std::string path = dir.file("depth.pfm");
  write_pfm(path, d);
  expect_same_bits(read_pfm(path), d);
  expect_same_bits(read_depth(path), d);

  // 3 channels ('PF'): read_pfm keeps them; read_depth accepts equal channels only.
  Image<float> rgb(2, 1, 3);
  for (int x = 0; x < 2; ++x)
    for (int c = 0; c < 3; ++c) rgb.at(x, 0, c) = 2.f + x;
  write_pfm(dir.file("rgb.pfm"), rgb);
  expect_same_bits(read_pfm(dir.file("rgb.pfm")), rgb);
  const Image<float> gray = read_depth(dir.file("rgb.pfm"));
  EXPECT_EQ(gray.channels(), 1);
  EXPECT_EQ(gray.at(1, 0), 3.f);
  rgb.at(1, 0, 2) = 9.f;
  write_pfm(dir.file("colour.pfm"), rgb);
  EXPECT_ERROR_CONTAINS(read_depth(dir.file("colour.pfm")), "channels differ at pixel (1, 0)");
}

TEST(DepthIoTest, PfmErrors) {
  testing::TempDir dir;
  std::ostringstream out;
  write_pfm(out, sample_depth());
  const std::string good = out.str();
  write_bytes(dir.file("cut.pfm"), good.substr(0, good.size() - 3));
  EXPECT_ERROR_CONTAINS(
      read_pfm(dir.file("cut.pfm")),
      "cut.pfm: truncated PFM data: expected 24 bytes of float32 for 3x2x1, got 21");
  write_bytes(dir.file("header.pfm"), "Pf\n3 2");
  EXPECT_ERROR_CONTAINS(read_pfm(dir.file("header.pfm")),
                        "header.pfm: truncated PFM header: the file ends before the height");
  write_bytes(dir.file("magic.pfm"), "P6\n3 2\n255\n");
  EXPECT_ERROR_CONTAINS(read_pfm(dir.file("magic.pfm")), "magic.pfm: not a PFM file");
  write_bytes(dir.file("width.pfm"), "Pf\n-3 2\n-1\n");
  EXPECT_ERROR_CONTAINS(read_pfm(dir.file("width.pfm")), "width '-3' is not an integer");
  write_bytes(dir.file("scale.pfm"), "Pf\n3 2\n0\n");
  EXPECT_ERROR_CONTAINS(read_pfm(dir.file("scale.pfm")), "scale '0' must be a non-zero number");
  EXPECT_ERROR_CONTAINS(read_pfm(dir.file("missing.pfm")), "missing.pfm: file does not exist");
}

// --- NPY ---
TEST(DepthIoTest, NpyRoundTripAndShapes) {
  testing::TempDir dir;
  const Image<float> d = sample_depth();
  const std::string path = dir.file("depth.npy");
  write_depth_npy(path, d);
  const NpyArray raw = read_npy(path);  // a float32 H x W array, as numpy.save writes it
  EXPECT_EQ(raw.dtype, "<f4");
  EXPECT_EQ(raw.shape, (std::vector<size_t>{2, 3}));
  expect_same_bits(read_depth_npy(path), d);
  expect_same_bits(read_depth(path), d);

  // float64 in the three accepted shapes.
  const std::vector<double> values = {1, 2, 3, 4, 5, 6};
  for (const std::vector<size_t>& shape :
       {std::vector<size_t>{2, 3}, std::vector<size_t>{2, 3, 1}, std::vector<size_t>{1, 2, 3}}) {
    std::stringstream s;
    write_npy(s, shape, values);
    const Image<float> f = read_depth_npy(s, "f8.npy");
    EXPECT_EQ(f.width(), 3);
    EXPECT_EQ(f.height(), 2);
    EXPECT_EQ(f.at(2, 1), 6.f);
    EXPECT_EQ(f.at(0, 1), 4.f);
  }
  std::stringstream s;
  write_npy(s, {2, 3, 2}, std::vector<double>(12, 1.0));
  EXPECT_ERROR_CONTAINS(read_depth_npy(s, "rgb.npy"),
                        "rgb.npy: a depth map must be H x W, H x W x 1 or 1 x H x W, got shape (2, "
                        "3, 2)");
  const std::string bytes = [&] {
    std::ostringstream o;
    write_depth_npy(o, d);
    return o.str();
  }();
  std::istringstream cut(bytes.substr(0, bytes.size() - 2));
  EXPECT_ERROR_CONTAINS(read_depth_npy(cut, "cut.npy"), "cut.npy: truncated data");
}

// --- PNG16 ---
TEST(DepthIoTest, Png16RoundTrip) {
  testing::TempDir dir;
  Image<float> d(4, 3, 1);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) d.at(x, y) = 0.25f + 1.5f * x + 10.f * y;  // up to 24.75 m
  d.at(0, 0) = 0.f;                                                        // invalid
  d.at(1, 0) = std::numeric_limits<float>::quiet_NaN();                    // invalid -> 0
  const std::string path = dir.file("depth.png");
  write_depth_png16(path, d, 1000.0);
  const cv::Mat stored = cv::imread(path, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(stored.type(), CV_16UC1);
  EXPECT_EQ(stored.at<uint16_t>(2, 3), 24750);
  const Image<float> back = read_depth(path);  // default png_scale 1000
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x)
      EXPECT_NEAR(back.at(x, y), (x < 2 && y == 0) ? 0.f : d.at(x, y), 0.5f / 1000);
  DepthReadOptions raw;
  raw.png_scale = 1.0;
  EXPECT_EQ(read_depth(path, raw).at(3, 2), 24750.f);
  EXPECT_EQ(read_depth_png16(path, 4.0).at(3, 2), 24750.f / 4);

  EXPECT_ERROR_CONTAINS(write_depth_png16(dir.file("big.png"), d, 10000.0),
                        "depth 24.75 times scale 10000 exceeds 65535");
  EXPECT_FALSE(fs::exists(dir.file("big.png")));
  cv::Mat colour(3, 4, CV_16UC3, cv::Scalar(1, 2, 3));
  cv::imwrite(dir.file("colour.png"), colour);
  EXPECT_ERROR_CONTAINS(read_depth(dir.file("colour.png")), "colour.png: 3 channels");
  raw.png_scale = 0;
  EXPECT_ERROR_CONTAINS(read_depth(path, raw), "png_scale must be positive");
}

// --- EXR and dispatch ---
TEST(DepthIoTest, ExrThroughOpenCv) {
  testing::TempDir dir;
  const std::string path = dir.file("depth.exr");
  // OpenCV's EXR codec needs this before it first touches EXR (read_depth_exr sets it too).
  ::setenv("OPENCV_IO_ENABLE_OPENEXR", "1", 0);
  cv::Mat m(2, 3, CV_32FC1);
  for (int i = 0; i < 6; ++i) m.at<float>(i / 3, i % 3) = 0.5f + 1.25f * i;
  ASSERT_TRUE(cv::imwrite(path, m)) << "this OpenCV cannot write EXR";
  const Image<float> d = read_depth(path);
  ASSERT_EQ(d.width(), 3);
  ASSERT_EQ(d.height(), 2);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(d.at(i % 3, i / 3), 0.5f + 1.25f * i);
  write_bytes(dir.file("bad.exr"), "not an exr file at all");
  EXPECT_ERROR_CONTAINS(read_depth(dir.file("bad.exr")),
                        "cannot read depth " + dir.file("bad.exr"));
}

TEST(DepthIoTest, DispatchErrors) {
  testing::TempDir dir;
  write_bytes(dir.file("depth.tiff"), "x");
  EXPECT_ERROR_CONTAINS(read_depth(dir.file("depth.tiff")), "unknown extension '.tiff'");
  EXPECT_ERROR_CONTAINS(read_depth(dir.file("none.png")), "none.png: file does not exist");
  DepthReadOptions pfm;
  pfm.format = DepthFormat::kPfm;  // the format overrides the extension
  std::ostringstream out;
  write_pfm(out, sample_depth());
  write_bytes(dir.file("depth.bin"), out.str());
  expect_same_bits(read_depth(dir.file("depth.bin"), pfm), sample_depth());
}

// --- masks ---
TEST(DepthIoTest, ThresholdMask) {
  Image<float> m(4, 1, 1);
  const float values[] = {0.f, 0.5f, 0.51f, std::numeric_limits<float>::quiet_NaN()};
  std::copy(values, values + 4, m.data());
  const Image<float> t = threshold_mask(m, 0.5f);
  EXPECT_EQ(t.at(0, 0), 0.f);
  EXPECT_EQ(t.at(1, 0), 0.f);
  EXPECT_EQ(t.at(2, 0), 1.f);
  EXPECT_EQ(t.at(3, 0), 0.f);
  EXPECT_ERROR_CONTAINS(threshold_mask(Image<float>(2, 2, 3), 0.5f), "expected a 1-channel mask");
}

}  // namespace
}  // namespace glimpse
