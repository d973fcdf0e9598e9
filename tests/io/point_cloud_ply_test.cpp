// Point-cloud PLY: binary round trip with and without normals and support, ASCII files and float
// colours from other writers, and clear errors for truncated or malformed files.
#include "io/point_cloud_ply.h"

#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>

namespace glimpse {
namespace {

using testing::TempDir;

PointCloud sample_cloud(bool normals, bool support) {
  PointCloud c;
  c.add(0.5f, -1.25f, 3.0f, 1.0f, 0.0f, 0.5f);
  c.add(-2.0f, 4.0f, 1e-3f, 0.2f, 0.4f, 0.6f);
  c.add(7.0f, 8.0f, 9.0f, 0.0f, 1.0f, 1.0f);
  if (normals) c.normals = {0, 0, 1, 1, 0, 0, 0, 0.6f, 0.8f};
  if (support) c.support = {2, 3, 5};
  return c;
}

TEST(PointCloudPly, BinaryRoundTripKeepsPositionsNormalsSupportAndColoursTo8Bits) {
  TempDir dir;
  for (bool normals : {false, true})
    for (bool support : {false, true}) {
      const PointCloud in = sample_cloud(normals, support);
      const std::string path = dir.file("cloud.ply");
      write_point_cloud_ply(path, in);
      const PointCloud out = read_point_cloud_ply(path);
      EXPECT_EQ(out.positions, in.positions);
      EXPECT_EQ(out.normals, in.normals);
      EXPECT_EQ(out.support, in.support);
      ASSERT_EQ(out.colors.size(), in.colors.size());
      for (size_t i = 0; i < in.colors.size(); ++i)
        EXPECT_NEAR(out.colors[i], in.colors[i], 0.5f / 255.0f + 1e-6f);
      // Quantised in memory, the colours are exactly what the file gives back, and a second
      // quantisation changes nothing.
      PointCloud rounded = in;
      quantize_point_colors(rounded);
      EXPECT_EQ(rounded.colors, out.colors);
      EXPECT_NE(rounded.colors, in.colors);  // 0.2, 0.4 and 0.6 are not multiples of 1/255
      PointCloud twice = rounded;
      quantize_point_colors(twice);
      EXPECT_EQ(twice.colors, rounded.colors);
    }
}

TEST(PointCloudPly, ReadsAsciiWithFloatColoursAndNoColours) {
  TempDir dir;
  {
    std::ofstream f(dir.file("a.ply"));
    f << "ply\nformat ascii 1.0\ncomment other writer\nelement vertex 2\nproperty double x\n"
         "property double y\nproperty double z\nproperty float red\nproperty float green\n"
         "property float blue\nend_header\n1 2 3 0.25 0.5 1\n-1 -2 -3 0 0 0\n";
  }
  const PointCloud a = read_point_cloud_ply(dir.file("a.ply"));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.positions[5], -3.0f);
  EXPECT_EQ(a.colors[0], 0.25f);
  EXPECT_EQ(a.colors[2], 1.0f);
  {
    std::ofstream f(dir.file("b.ply"));
    f << "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
         "property float z\nend_header\n1 2 3\n";
  }
  const PointCloud b = read_point_cloud_ply(dir.file("b.ply"));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.colors[1], 0.5f);  // grey when the file has no colours
}

TEST(PointCloudPly, RefusesTruncatedMissingAndMalformedFiles) {
  TempDir dir;
  const std::string path = dir.file("cloud.ply");
  write_point_cloud_ply(path, sample_cloud(true, true));
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  {
    std::ofstream f(dir.file("cut.ply"), std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 7));
  }
  EXPECT_ERROR_CONTAINS(read_point_cloud_ply(dir.file("cut.ply")), "truncated");
  EXPECT_ERROR_CONTAINS(read_point_cloud_ply(dir.file("cut.ply")), "cut.ply");
  EXPECT_ERROR_CONTAINS(read_point_cloud_ply(dir.file("none.ply")), "none.ply");
  {
    std::ofstream f(dir.file("noz.ply"));
    f << "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
         "end_header\n1 2\n";
  }
  EXPECT_ERROR_CONTAINS(read_point_cloud_ply(dir.file("noz.ply")), "'z'");
  {
    std::ofstream f(dir.file("nan.ply"));
    f << "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
         "property float z\nend_header\n1 nan 2\n";
  }
  EXPECT_ERROR_CONTAINS(read_point_cloud_ply(dir.file("nan.ply")), "point 0");
  PointCloud bad = sample_cloud(false, false);
  bad.colors.pop_back();
  EXPECT_ERROR_CONTAINS(write_point_cloud_ply(dir.file("bad.ply"), bad), "colours");
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.ply")));
}

}  // namespace
}  // namespace glimpse
