// COLMAP reader: exact text and hand-written binary models, truncation and every error path, each
// camera model's parameter count and projection (against OpenCV where it has the model),
// undistortion, the 3DGS scene layout and, with GLIMPSE_DATA_DIR, the real test_colmap scene.
#include "io/colmap.h"

#include "io/image_io.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#if defined(GLIMPSE_TEST_HAVE_CALIB3D)
#include <opencv2/calib3d.hpp>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

static_assert(std::endian::native == std::endian::little, "the byte writer below is little-endian");

// [SECTION] a tiny model, as text and as hand-written binary
// -------------------------------------------------

constexpr double kHalfSqrt2 = 0.7071067811865476;  // cos(45 deg) = sin(45 deg)

// Two cameras, two images (image 1: 90 degrees about +y; image 2: identity, no keypoints), two
// points (one with a two-element track, one with none).
const char* kCamerasTxt =
    "# Camera list with one line of data per camera:\n"
    "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
    "# Number of cameras: 2\n"
    "1 PINHOLE 640 480 500 510 320.5 240.25\n"
    "2 SIMPLE_RADIAL 800 600 700 400 300 0.01\n";

const char* kImagesTxt =
    "# Image list with two lines of data per image:\n"
    "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
    "#   POINTS2D[] as (X, Y, POINT3D_ID)\n"
    "1 0.7071067811865476 0 0.7071067811865476 0 1 2 3 1 b.png\n"
    "10.5 20.25 -1 30 40 7\n"
    "2 1 0 0 0 -1 0 2 2 a.png\n"
    "\n";

const char* kPointsTxt =
    "# 3D point list with one line of data per point:\n"
    "7 0.5 0.25 4 255 128 0 0.3 1 1 2 0\n"
    "9 -1 2 8 10 20 30 1.5\n";

// Little-endian byte writer in COLMAP's binary layout.
struct Bytes {
  std::string s;
  template <typename T>
  Bytes& put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    s.append(b, sizeof(T));
    return *this;
  }
  Bytes& name(const std::string& n) {
    s += n;
    s.push_back('\0');
    return *this;
  }
};

// cameras.bin: uint64 count; per camera uint32 id, int32 model, uint64 width, height, doubles.
std::string cameras_bin() {
  Bytes b;
  b.put<uint64_t>(2);
  b.put<uint32_t>(1).put<int32_t>(1).put<uint64_t>(640).put<uint64_t>(480);
  for (double p : {500.0, 510.0, 320.5, 240.25}) b.put(p);
  b.put<uint32_t>(2).put<int32_t>(2).put<uint64_t>(800).put<uint64_t>(600);
  for (double p : {700.0, 400.0, 300.0, 0.01}) b.put(p);
  return b.s;
}

// images.bin: uint64 count; per image uint32 id, 4 doubles q (w x y z), 3 doubles t, uint32
// camera id, NUL-terminated name, uint64 n, n x (double x, double y, uint64 point3D id).
std::string images_bin() {
  Bytes b;
  b.put<uint64_t>(2);
  b.put<uint32_t>(1);
  for (double v : {kHalfSqrt2, 0.0, kHalfSqrt2, 0.0, 1.0, 2.0, 3.0}) b.put(v);
  b.put<uint32_t>(1).name("b.png").put<uint64_t>(2);
  b.put(10.5).put(20.25).put<uint64_t>(std::numeric_limits<uint64_t>::max());  // no 3D point
  b.put(30.0).put(40.0).put<uint64_t>(7);
  b.put<uint32_t>(2);
  for (double v : {1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 2.0}) b.put(v);
  b.put<uint32_t>(2).name("a.png").put<uint64_t>(0);
  return b.s;
}

// points3D.bin: uint64 count; per point uint64 id, 3 doubles, 3 uint8 rgb, double error, uint64
// track length, length x (uint32 image id, uint32 point2D index).
std::string points3D_bin() {
  Bytes b;
  b.put<uint64_t>(2);
  b.put<uint64_t>(7).put(0.5).put(0.25).put(4.0).put<uint8_t>(255).put<uint8_t>(128).put<uint8_t>(
      0);
  b.put(0.3).put<uint64_t>(2).put<uint32_t>(1).put<uint32_t>(1).put<uint32_t>(2).put<uint32_t>(0);
  b.put<uint64_t>(9).put(-1.0).put(2.0).put(8.0).put<uint8_t>(10).put<uint8_t>(20).put<uint8_t>(30);
  b.put(1.5).put<uint64_t>(0);
  return b.s;
}

ColmapModel model_from_text() {
  std::istringstream c(kCamerasTxt), i(kImagesTxt), p(kPointsTxt);
  ColmapModel m;
  m.cameras = read_colmap_cameras_text(c, "cameras.txt");
  m.images = read_colmap_images_text(i, "images.txt");
  m.points3D = read_colmap_points3D_text(p, "points3D.txt");
  return m;
}

ColmapModel model_from_binary() {
  std::istringstream c(cameras_bin()), i(images_bin()), p(points3D_bin());
  ColmapModel m;
  m.cameras = read_colmap_cameras_binary(c, "cameras.bin");
  m.images = read_colmap_images_binary(i, "images.bin");
  m.points3D = read_colmap_points3D_binary(p, "points3D.bin");
  return m;
}

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

// [SECTION] text and binary parsing
// ------------------------------------------------------------------

TEST(ColmapText, TwoCamerasTwoImagesExact) {
  const ColmapModel m = model_from_text();
  ASSERT_EQ(m.cameras.size(), 2u);
  const ColmapCamera& c1 = m.cameras.at(1);
  EXPECT_EQ(c1.id, 1u);
  EXPECT_EQ(c1.model, ColmapCameraModel::kPinhole);
  EXPECT_EQ(c1.width, 640);
  EXPECT_EQ(c1.height, 480);
  EXPECT_EQ(c1.params, (std::vector<double>{500, 510, 320.5, 240.25}));
  const ColmapCamera& c2 = m.cameras.at(2);
  EXPECT_EQ(c2.model, ColmapCameraModel::kSimpleRadial);
  EXPECT_EQ(c2.params, (std::vector<double>{700, 400, 300, 0.01}));

  // Pinhole intrinsics: SIMPLE_RADIAL's single f is both focal lengths; pixel convention as ours.
  const Camera p1 = colmap_pinhole_camera(c1);
  EXPECT_EQ(p1.fx, 500.0);
  EXPECT_EQ(p1.fy, 510.0);
  EXPECT_EQ(p1.cx, 320.5);
  EXPECT_EQ(p1.cy, 240.25);
  const Camera p2 = colmap_pinhole_camera(c2);
  EXPECT_EQ(p2.fx, 700.0);
  EXPECT_EQ(p2.fy, 700.0);
  EXPECT_EQ(p2.cx, 400.0);
  EXPECT_EQ(p2.cy, 300.0);
  EXPECT_TRUE(colmap_is_pinhole(c1));
  EXPECT_FALSE(colmap_is_pinhole(c2));

  ASSERT_EQ(m.images.size(), 2u);
  const ColmapImage& i1 = m.images.at(1);
  EXPECT_EQ(i1.name, "b.png");
  EXPECT_EQ(i1.camera_id, 1u);
  EXPECT_EQ(i1.cam_from_world_rotation.w, kHalfSqrt2);
  EXPECT_EQ(i1.cam_from_world_rotation.x, 0.0);
  EXPECT_EQ(i1.cam_from_world_rotation.y, kHalfSqrt2);
  EXPECT_EQ(i1.cam_from_world_rotation.z, 0.0);
  EXPECT_EQ(i1.cam_from_world_translation.x, 1.0);
  EXPECT_EQ(i1.cam_from_world_translation.y, 2.0);
  EXPECT_EQ(i1.cam_from_world_translation.z, 3.0);
  ASSERT_EQ(i1.points2D.size(), 2u);
  EXPECT_EQ(i1.points2D[0].x, 10.5);
  EXPECT_EQ(i1.points2D[0].y, 20.25);
  EXPECT_EQ(i1.points2D[1].x, 30.0);
  EXPECT_EQ(i1.points2D[1].y, 40.0);
  EXPECT_EQ(i1.point3D_ids, (std::vector<int64_t>{-1, 7}));
  const ColmapImage& i2 = m.images.at(2);
  EXPECT_EQ(i2.name, "a.png");
  EXPECT_TRUE(i2.points2D.empty());
  EXPECT_TRUE(i2.point3D_ids.empty());

  ASSERT_EQ(m.points3D.size(), 2u);
  const ColmapPoint3D& p = m.points3D[0];
  EXPECT_EQ(p.id, 7u);
  EXPECT_EQ(p.xyz.x, 0.5);
  EXPECT_EQ(p.xyz.y, 0.25);
  EXPECT_EQ(p.xyz.z, 4.0);
  EXPECT_EQ(p.rgb, (std::array<uint8_t, 3>{255, 128, 0}));
  EXPECT_EQ(p.error, 0.3);
  ASSERT_EQ(p.track.size(), 2u);
  EXPECT_EQ(p.track[0].image_id, 1u);
  EXPECT_EQ(p.track[0].point2D_idx, 1u);
  EXPECT_EQ(p.track[1].image_id, 2u);
  EXPECT_EQ(p.track[1].point2D_idx, 0u);
  EXPECT_EQ(m.points3D[1].id, 9u);
  EXPECT_TRUE(m.points3D[1].track.empty());
}

TEST(ColmapText, QuaternionIsCamFromWorldRotation) {
  const ColmapModel m = model_from_text();
  const ColmapImage& i1 = m.images.at(1);
  const Camera c = colmap_view_camera(i1, m.cameras.at(1), "b.png");
  // q = (cos 45, 0, sin 45, 0): 90 degrees about +y, R = [[0, 0, 1], [0, 1, 0], [-1, 0, 0]].
  const double expected[3][3] = {{0, 0, 1}, {0, 1, 0}, {-1, 0, 0}};
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(c.rotation.m[r][k], expected[r][k], 1e-15) << r << k;
  EXPECT_EQ(c.translation.x, 1.0);
  EXPECT_EQ(c.translation.y, 2.0);
  EXPECT_EQ(c.translation.z, 3.0);
  EXPECT_EQ(c.fx, 500.0);
  EXPECT_EQ(c.width, 640);
  // Centre -R^T t = (3, -2, -1); the camera looks along world -x (third row of R).
  const Vec3<double> centre = c.center();
  EXPECT_NEAR(centre.x, 3.0, 1e-15);
  EXPECT_NEAR(centre.y, -2.0, 1e-15);
  EXPECT_NEAR(centre.z, -1.0, 1e-15);
  const Vec3<double> p = c.cam_from_world({-2, -2, -1});  // 5 units in front of the centre
  EXPECT_NEAR(p.x, 0.0, 1e-15);
  EXPECT_NEAR(p.y, 0.0, 1e-15);
  EXPECT_NEAR(p.z, 5.0, 1e-15);
}

void expect_same_model(const ColmapModel& a, const ColmapModel& b) {
  ASSERT_EQ(a.cameras.size(), b.cameras.size());
  for (const auto& [id, c] : a.cameras) {
    const ColmapCamera& d = b.cameras.at(id);
    EXPECT_EQ(c.id, d.id);
    EXPECT_EQ(c.model, d.model);
    EXPECT_EQ(c.width, d.width);
    EXPECT_EQ(c.height, d.height);
    EXPECT_EQ(c.params, d.params);
  }
  ASSERT_EQ(a.images.size(), b.images.size());
  for (const auto& [id, i] : a.images) {
    const ColmapImage& j = b.images.at(id);
    EXPECT_EQ(i.id, j.id);
    EXPECT_EQ(i.name, j.name);
    EXPECT_EQ(i.camera_id, j.camera_id);
    EXPECT_EQ(i.cam_from_world_rotation.w, j.cam_from_world_rotation.w);
    EXPECT_EQ(i.cam_from_world_rotation.x, j.cam_from_world_rotation.x);
    EXPECT_EQ(i.cam_from_world_rotation.y, j.cam_from_world_rotation.y);
    EXPECT_EQ(i.cam_from_world_rotation.z, j.cam_from_world_rotation.z);
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(i.cam_from_world_translation[k], j.cam_from_world_translation[k]);
    ASSERT_EQ(i.points2D.size(), j.points2D.size());
    for (size_t k = 0; k < i.points2D.size(); ++k) {
      EXPECT_EQ(i.points2D[k].x, j.points2D[k].x);
      EXPECT_EQ(i.points2D[k].y, j.points2D[k].y);
    }
    EXPECT_EQ(i.point3D_ids, j.point3D_ids);
  }
  ASSERT_EQ(a.points3D.size(), b.points3D.size());
  for (size_t k = 0; k < a.points3D.size(); ++k) {
    const ColmapPoint3D& p = a.points3D[k];
    const ColmapPoint3D& q = b.points3D[k];
    EXPECT_EQ(p.id, q.id);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(p.xyz[c], q.xyz[c]);
    EXPECT_EQ(p.rgb, q.rgb);
    EXPECT_EQ(p.error, q.error);
    ASSERT_EQ(p.track.size(), q.track.size());
    for (size_t e = 0; e < p.track.size(); ++e) {
      EXPECT_EQ(p.track[e].image_id, q.track[e].image_id);
      EXPECT_EQ(p.track[e].point2D_idx, q.track[e].point2D_idx);
    }
  }
}

TEST(ColmapBinary, HandWrittenBytesParseLikeTheText) {
  expect_same_model(model_from_text(), model_from_binary());
}

TEST(ColmapBinary, EveryTruncationIsAnErrorNamingTheFile) {
  const std::pair<const char*, std::string> files[] = {{"cameras.bin", cameras_bin()},
                                                       {"images.bin", images_bin()},
                                                       {"points3D.bin", points3D_bin()}};
  for (const auto& [name, bytes] : files) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      std::istringstream in(bytes.substr(0, n));
      const std::string what = name;
      const std::string message = testing::error_message([&] {
        if (what == "cameras.bin") read_colmap_cameras_binary(in, what);
        if (what == "images.bin") read_colmap_images_binary(in, what);
        if (what == "points3D.bin") read_colmap_points3D_binary(in, what);
      });
      EXPECT_NE(message.find(what + ": "), std::string::npos) << message;
      EXPECT_NE(message.find("truncated"), std::string::npos) << n << " bytes: " << message;
    }
  }
}

// A stream that cannot seek, so the reader does not know the file size in advance.
class NoSeekBuffer : public std::streambuf {
 public:
  explicit NoSeekBuffer(std::string bytes) : bytes_(std::move(bytes)) {
    setg(bytes_.data(), bytes_.data(), bytes_.data() + bytes_.size());
  }

 private:
  std::string bytes_;
};

TEST(ColmapBinary, TruncationMessageSaysWhatWasBeingRead) {
  // Cut inside camera 2's parameters (8 + 56 + 24 + 12 bytes: into its 2nd parameter).
  std::istringstream cameras(cameras_bin().substr(0, 8 + 56 + 24 + 12));
  EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(cameras, "sparse/cameras.bin"),
                        "sparse/cameras.bin: file is truncated: reading params (camera 2 of 2) "
                        "needs 8 bytes at byte 96, but the file ends at byte 100");
  // Cut inside the second image's name (image 1 takes 126 bytes).
  std::istringstream images(images_bin().substr(0, 8 + 126 + 4 + 56 + 4 + 2));
  EXPECT_ERROR_CONTAINS(read_colmap_images_binary(images, "images.bin"),
                        "reading the image name (a NUL-terminated string) (image 2 of 2)");
  // A track cut short: with a known size the count check fires first, without it the read.
  const std::string points = points3D_bin().substr(0, 8 + 8 + 24 + 3 + 8 + 8 + 10);
  std::istringstream seekable(points);
  EXPECT_ERROR_CONTAINS(read_colmap_points3D_binary(seekable, "points3D.bin"),
                        "points3D.bin: truncated or corrupt file: the number of points is 2");
  NoSeekBuffer buffer(points);
  std::istream stream(&buffer);
  EXPECT_ERROR_CONTAINS(read_colmap_points3D_binary(stream, "points3D.bin"),
                        "points3D.bin: file is truncated: reading track (image_id, point2D_idx) "
                        "(point 1 of 2)");
  // Without a known size, trailing bytes are still found.
  NoSeekBuffer longer(cameras_bin() + "x");
  std::istream longer_stream(&longer);
  EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(longer_stream, "cameras.bin"),
                        "cameras.bin: unexpected bytes after the last record");
  NoSeekBuffer exact(images_bin());
  std::istream exact_stream(&exact);
  EXPECT_EQ(read_colmap_images_binary(exact_stream, "images.bin").size(), 2u);
}

TEST(ColmapBinary, TrailingBytesAndCorruptCountsAreErrors) {
  std::istringstream cameras(cameras_bin() + std::string(3, '\0'));
  EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(cameras, "cameras.bin"),
                        "cameras.bin: 3 unexpected bytes after the last record");
  // A count far beyond the file's size fails before allocating.
  std::string images = images_bin();
  const uint64_t huge = uint64_t(1) << 60;
  std::memcpy(images.data(), &huge, 8);
  std::istringstream in(images);
  EXPECT_ERROR_CONTAINS(read_colmap_images_binary(in, "images.bin"),
                        "images.bin: truncated or corrupt file: the number of images is");
  EXPECT_ERROR_CONTAINS(
      {
        std::istringstream empty("");
        read_colmap_points3D_binary(empty, "points3D.bin");
      },
      "points3D.bin: file is truncated: reading the number of points");
}

TEST(ColmapBinary, UnknownModelIdAndBadSizeAreErrors) {
  Bytes b;
  b.put<uint64_t>(1).put<uint32_t>(3).put<int32_t>(99).put<uint64_t>(10).put<uint64_t>(10);
  std::istringstream in(b.s);
  EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(in, "cameras.bin"),
                        "cameras.bin: camera 3: unknown COLMAP camera model id 99");
  Bytes z;
  z.put<uint64_t>(1).put<uint32_t>(3).put<int32_t>(0).put<uint64_t>(0).put<uint64_t>(10);
  for (int k = 0; k < 3; ++k) z.put(1.0);
  std::istringstream zin(z.s);
  EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(zin, "cameras.bin"),
                        "camera 3 has width 0 (must be a positive image size)");
}

// [SECTION] camera models
// ----------------------------------------------------------------------------

TEST(ColmapModels, TableMatchesColmap) {
  struct Expected {
    int id;
    const char* name;
    int num_params;
  };
  const Expected expected[] = {{0, "SIMPLE_PINHOLE", 3},
                               {1, "PINHOLE", 4},
                               {2, "SIMPLE_RADIAL", 4},
                               {3, "RADIAL", 5},
                               {4, "OPENCV", 8},
                               {5, "OPENCV_FISHEYE", 8},
                               {6, "FULL_OPENCV", 12},
                               {7, "FOV", 5},
                               {8, "SIMPLE_RADIAL_FISHEYE", 4},
                               {9, "RADIAL_FISHEYE", 5},
                               {10, "THIN_PRISM_FISHEYE", 12},
                               {11, "RAD_TAN_THIN_PRISM_FISHEYE", 16},
                               {12, "SIMPLE_DIVISION", 4},
                               {13, "DIVISION", 5},
                               {14, "SIMPLE_FISHEYE", 3},
                               {15, "FISHEYE", 4},
                               {16, "EUCM", 6},
                               {17, "EQUIRECTANGULAR", 2}};
  ASSERT_EQ(colmap_camera_models().size(), std::size(expected));
  for (const Expected& e : expected) {
    const ColmapCameraModel m = colmap_model_from_id(e.id, "test");
    EXPECT_EQ(static_cast<int>(m), e.id);
    EXPECT_STREQ(colmap_model_name(m), e.name);
    EXPECT_EQ(colmap_model_num_params(m), e.num_params) << e.name;
    EXPECT_EQ(colmap_model_from_name(e.name, "test"), m);
    // The parameter description lists as many names as there are parameters.
    const std::string info = colmap_model_params_info(m);
    EXPECT_EQ(std::count(info.begin(), info.end(), ',') + 1, e.num_params) << info;
  }
  EXPECT_ERROR_CONTAINS(colmap_model_from_id(18, "cameras.bin"),
                        "cameras.bin: unknown COLMAP camera model id 18");
  EXPECT_ERROR_CONTAINS(colmap_model_from_id(-1, "cameras.bin"), "unknown COLMAP camera model id");
  EXPECT_ERROR_CONTAINS(colmap_model_from_name("OPENCV5", "cameras.txt line 4"),
                        "cameras.txt line 4: unknown COLMAP camera model 'OPENCV5'");
}

// A cameras.txt line for `model` with `count` parameters (plausible values).
std::string camera_line(ColmapCameraModel model, int count) {
  std::ostringstream s;
  s << "4 " << colmap_model_name(model) << " 64 48";
  for (int k = 0; k < count; ++k) s << " " << (k < 2 ? 50 : k < 4 ? 30 : 0.001 * k);
  return s.str() + "\n";
}

TEST(ColmapModels, EveryModelsParameterCountIsCheckedInText) {
  for (const ColmapCameraModel m : colmap_camera_models()) {
    const int n = colmap_model_num_params(m);
    std::istringstream good(camera_line(m, n));
    const auto cameras = read_colmap_cameras_text(good, "cameras.txt");
    ASSERT_EQ(cameras.size(), 1u) << colmap_model_name(m);
    EXPECT_EQ(cameras.at(4).model, m);
    EXPECT_EQ(static_cast<int>(cameras.at(4).params.size()), n);
    for (const int wrong : {n - 1, n + 1}) {
      std::istringstream bad(camera_line(m, wrong));
      EXPECT_ERROR_CONTAINS(read_colmap_cameras_text(bad, "cameras.txt"),
                            "cameras.txt line 1: camera 4 has model " +
                                std::string(colmap_model_name(m)) + ", which takes " +
                                std::to_string(n) + " parameters");
    }
  }
}

TEST(ColmapModels, EveryModelsParameterCountFollowsFromTheIdInBinary) {
  for (const ColmapCameraModel m : colmap_camera_models()) {
    const int n = colmap_model_num_params(m);
    for (const int count : {n - 1, n, n + 1}) {
      Bytes b;
      b.put<uint64_t>(1).put<uint32_t>(4).put<int32_t>(static_cast<int32_t>(m));
      b.put<uint64_t>(64).put<uint64_t>(48);
      for (int k = 0; k < count; ++k) b.put(40.0 + k);
      std::istringstream in(b.s);
      if (count == n) {
        EXPECT_EQ(read_colmap_cameras_binary(in, "cameras.bin").at(4).params.size(),
                  static_cast<size_t>(n));
      } else if (count < n) {
        EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(in, "cameras.bin"),
                              "file is truncated: reading params (camera 1 of 1)");
      } else {
        EXPECT_ERROR_CONTAINS(read_colmap_cameras_binary(in, "cameras.bin"),
                              "8 unexpected bytes after the last record");
      }
    }
  }
}

ColmapCamera make_camera(ColmapCameraModel model, std::vector<double> params, int w = 64,
                         int h = 48) {
  ColmapCamera c;
  c.id = 1;
  c.model = model;
  c.width = w;
  c.height = h;
  c.params = std::move(params);
  return c;
}

TEST(ColmapModels, ZeroDistortionReducesToPinholeOrEquidistant) {
  const double f = 50, cx = 31.5, cy = 24.25;
  const Vec3<double> p(0.3, -0.2, 1.5);
  const double u = p.x / p.z, v = p.y / p.z, r = std::sqrt(u * u + v * v);
  for (const ColmapCameraModel m : colmap_camera_models()) {
    if (m == ColmapCameraModel::kEquirectangular) continue;
    const int n = colmap_model_num_params(m);
    const bool single = std::string(colmap_model_params_info(m)).rfind("f,", 0) == 0;
    std::vector<double> params =
        single ? std::vector<double>{f, cx, cy} : std::vector<double>{f, f, cx, cy};
    params.resize(static_cast<size_t>(n), 0.0);
    if (m == ColmapCameraModel::kEucm) params[5] = 1.0;  // beta
    const ColmapCamera camera = make_camera(m, params);
    Vec2<double> px;
    ASSERT_TRUE(colmap_img_from_cam(camera, p, &px)) << colmap_model_name(m);
    const std::string name = colmap_model_name(m);
    const bool fisheye = name.find("FISHEYE") != std::string::npos;
    // Fisheye models with zero coefficients are equidistant: radius f * atan(r).
    const double s = fisheye ? std::atan(r) / r : 1.0;
    EXPECT_NEAR(px.x, f * u * s + cx, 1e-12) << name;
    EXPECT_NEAR(px.y, f * v * s + cy, 1e-12) << name;
    EXPECT_EQ(colmap_is_pinhole(camera), !fisheye) << name;
    // Behind the camera: no projection.
    EXPECT_FALSE(colmap_img_from_cam(camera, {0.1, 0.1, -1.0}, &px)) << name;
  }
}

TEST(ColmapModels, HandComputedDistortions) {
  const Vec3<double> p(0.2, 0.1, 1.0);  // u = 0.2, v = 0.1, r2 = 0.05
  Vec2<double> px;
  // SIMPLE_RADIAL k = 0.1: (1 + 0.005) * (u, v).
  ASSERT_TRUE(colmap_img_from_cam(make_camera(ColmapCameraModel::kSimpleRadial, {100, 30, 20, 0.1}),
                                  p, &px));
  EXPECT_NEAR(px.x, 100 * 0.2 * 1.005 + 30, 1e-12);
  EXPECT_NEAR(px.y, 100 * 0.1 * 1.005 + 20, 1e-12);
  // RADIAL k1 = 0.1, k2 = 0.2: 1 + 0.1 * 0.05 + 0.2 * 0.0025 = 1.0055.
  ASSERT_TRUE(colmap_img_from_cam(make_camera(ColmapCameraModel::kRadial, {100, 30, 20, 0.1, 0.2}),
                                  p, &px));
  EXPECT_NEAR(px.x, 100 * 0.2 * 1.0055 + 30, 1e-12);
  // OPENCV tangential only (p1 = 0.01, p2 = 0.02): du = 2 p1 u v + p2 (r2 + 2 u^2).
  ASSERT_TRUE(colmap_img_from_cam(
      make_camera(ColmapCameraModel::kOpenCV, {100, 200, 30, 20, 0, 0, 0.01, 0.02}), p, &px));
  EXPECT_NEAR(px.x, 100 * (0.2 + 2 * 0.01 * 0.02 + 0.02 * (0.05 + 0.08)) + 30, 1e-12);
  EXPECT_NEAR(px.y, 200 * (0.1 + 2 * 0.02 * 0.02 + 0.01 * (0.05 + 0.02)) + 20, 1e-12);
  // SIMPLE_DIVISION k: x_d = 2 x / (1 + sqrt(1 - 4 k r2)), here k = 0.5: 2 / (1 + sqrt(0.9)).
  ASSERT_TRUE(colmap_img_from_cam(
      make_camera(ColmapCameraModel::kSimpleDivision, {100, 30, 20, 0.5}), p, &px));
  EXPECT_NEAR(px.x, 100 * 0.2 * 2 / (1 + std::sqrt(0.9)) + 30, 1e-12);
  // FOV omega: r_d = atan(2 r tan(omega / 2)) / omega.
  const double omega = 0.8, r = std::sqrt(0.05);
  ASSERT_TRUE(
      colmap_img_from_cam(make_camera(ColmapCameraModel::kFov, {100, 100, 30, 20, omega}), p, &px));
  EXPECT_NEAR(px.x, 100 * 0.2 * std::atan(2 * r * std::tan(omega / 2)) / (r * omega) + 30, 1e-12);
  // EQUIRECTANGULAR: straight ahead is the image centre, +x is a quarter turn to the right.
  const ColmapCamera eq = make_camera(ColmapCameraModel::kEquirectangular, {400, 200}, 400, 200);
  ASSERT_TRUE(colmap_img_from_cam(eq, {0, 0, 1}, &px));
  EXPECT_NEAR(px.x, 200, 1e-12);
  EXPECT_NEAR(px.y, 100, 1e-12);
  ASSERT_TRUE(colmap_img_from_cam(eq, {1, 0, 0}, &px));
  EXPECT_NEAR(px.x, 300, 1e-12);
  EXPECT_ERROR_CONTAINS(colmap_pinhole_camera(eq), "spherical model with no pinhole equivalent");
}

TEST(ColmapModels, ScaledCameraFollowsColmapRescale) {
  const ColmapCamera c = make_camera(ColmapCameraModel::kSimpleRadial, {100, 32, 24, 0.1}, 64, 48);
  const ColmapCamera s = scaled_colmap_camera(c, 32, 25);  // sx = 0.5, sy = 25 / 48
  EXPECT_EQ(s.width, 32);
  EXPECT_EQ(s.height, 25);
  EXPECT_DOUBLE_EQ(s.params[0], 100 * 0.5 * (0.5 + 25.0 / 48));  // single focal: mean factor
  EXPECT_DOUBLE_EQ(s.params[1], 16);
  EXPECT_DOUBLE_EQ(s.params[2], 12.5);
  EXPECT_EQ(s.params[3], 0.1);  // distortion is resolution independent
  const ColmapCamera o =
      make_camera(ColmapCameraModel::kOpenCV, {100, 90, 32, 24, 0.1, 0.2, 0.01, 0.02}, 64, 48);
  const ColmapCamera t = scaled_colmap_camera(o, 16, 12);
  EXPECT_EQ(t.params, (std::vector<double>{25, 22.5, 8, 6, 0.1, 0.2, 0.01, 0.02}));
}

#if defined(GLIMPSE_TEST_HAVE_CALIB3D)

// OpenCV puts pixel centres on integers: its principal point is ours minus 0.5.
cv::Matx33d opencv_k(double fx, double fy, double cx, double cy) {
  return {fx, 0, cx - 0.5, 0, fy, cy - 0.5, 0, 0, 1};
}

std::vector<cv::Point3d> test_points() {
  std::vector<cv::Point3d> pts;
  for (double x = -0.6; x <= 0.61; x += 0.3)
    for (double y = -0.45; y <= 0.46; y += 0.15) pts.emplace_back(x, y, 1.2 + 0.3 * x);
  return pts;
}

TEST(ColmapModels, OpenCvModelsProjectLikeOpenCv) {
  const double fx = 52, fy = 49, cx = 33.5, cy = 23.25;
  const std::vector<cv::Point3d> pts = test_points();
  const cv::Vec3d zero(0, 0, 0);
  struct Case {
    ColmapCameraModel model;
    std::vector<double> dist;  // COLMAP's order = OpenCV's for these two models
  };
  for (const Case& c : {Case{ColmapCameraModel::kOpenCV, {-0.21, 0.05, 0.003, -0.002}},
                        Case{ColmapCameraModel::kFullOpenCV,
                             {-0.21, 0.05, 0.003, -0.002, 0.01, 0.02, -0.01, 0.005}}}) {
    std::vector<double> params = {fx, fy, cx, cy};
    params.insert(params.end(), c.dist.begin(), c.dist.end());
    const ColmapCamera camera = make_camera(c.model, params);
    std::vector<cv::Point2d> expected;
    cv::projectPoints(pts, zero, zero, opencv_k(fx, fy, cx, cy), c.dist, expected);
    for (size_t k = 0; k < pts.size(); ++k) {
      Vec2<double> px;
      ASSERT_TRUE(colmap_img_from_cam(camera, {pts[k].x, pts[k].y, pts[k].z}, &px));
      EXPECT_NEAR(px.x - 0.5, expected[k].x, 1e-9) << colmap_model_name(c.model) << " " << k;
      EXPECT_NEAR(px.y - 0.5, expected[k].y, 1e-9) << colmap_model_name(c.model) << " " << k;
    }
  }
  // OPENCV_FISHEYE = cv::fisheye (equidistant theta with k1..k4).
  const std::vector<double> k4 = {0.05, -0.01, 0.003, -0.001};
  const ColmapCamera fisheye =
      make_camera(ColmapCameraModel::kOpenCVFisheye, {fx, fy, cx, cy, k4[0], k4[1], k4[2], k4[3]});
  std::vector<cv::Point2d> expected;
  cv::fisheye::projectPoints(pts, expected, zero, zero, opencv_k(fx, fy, cx, cy), k4);
  for (size_t k = 0; k < pts.size(); ++k) {
    Vec2<double> px;
    ASSERT_TRUE(colmap_img_from_cam(fisheye, {pts[k].x, pts[k].y, pts[k].z}, &px));
    EXPECT_NEAR(px.x - 0.5, expected[k].x, 1e-9) << k;
    EXPECT_NEAR(px.y - 0.5, expected[k].y, 1e-9) << k;
  }
}

#endif  // GLIMPSE_TEST_HAVE_CALIB3D

// [SECTION] undistortion
// -----------------------------------------------------------------------------

// A smooth RGB pattern over continuous pixel coordinates.
float pattern(double x, double y, int c) {
  return static_cast<float>(0.5 + 0.4 * std::sin(0.11 * x + 0.7 * c) * std::cos(0.13 * y - c));
}

Image<float> pattern_image(int w, int h) {
  Image<float> im(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) im.at(x, y, c) = pattern(x + 0.5, y + 0.5, c);
  return im;
}

TEST(ColmapUndistort, SamplesTheDistortedImageAlongEachPinholeRay) {
  const int w = 80, h = 60;
  const Image<float> distorted = pattern_image(w, h);
  for (const ColmapCamera& camera :
       {make_camera(ColmapCameraModel::kOpenCV, {60, 58, 40.5, 29.5, -0.15, 0.02, 0.002, -0.001}, w,
                    h),
        make_camera(ColmapCameraModel::kRadialFisheye, {45, 40.5, 29.5, 0.02, -0.003}, w, h),
        make_camera(ColmapCameraModel::kFov, {60, 60, 40, 30, 0.5}, w, h)}) {
    const Image<float> out = undistort_colmap_image(distorted, camera);
    const Camera pin = colmap_pinhole_camera(camera);
    ASSERT_EQ(out.width(), w);
    ASSERT_EQ(out.height(), h);
    int inside = 0;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        Vec2<double> src;
        const bool ok = colmap_img_from_cam(
            camera, {(x + 0.5 - pin.cx) / pin.fx, (y + 0.5 - pin.cy) / pin.fy, 1.0}, &src);
        if (ok && src.x >= 1 && src.x <= w - 1 && src.y >= 1 && src.y <= h - 1) {
          ++inside;
          for (int c = 0; c < 3; ++c)  // bilinear interpolation of a smooth pattern
            EXPECT_NEAR(out.at(x, y, c), pattern(src.x, src.y, c), 4e-3)
                << colmap_model_name(camera.model) << " " << x << "," << y;
        } else if (!ok || src.x < 0 || src.x > w || src.y < 0 || src.y > h) {
          EXPECT_EQ(out.at(x, y, 0), 0.f) << colmap_model_name(camera.model);
        }
      }
    }
    EXPECT_GT(inside, w * h / 2) << colmap_model_name(camera.model);
    // The principal point is a fixed point of every distortion.
    const int px = static_cast<int>(pin.cx), py = static_cast<int>(pin.cy);
    if (pin.cx == px + 0.5 && pin.cy == py + 0.5) {
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(out.at(px, py, c), distorted.at(px, py, c), 1e-5);
    }
  }
  // A pinhole camera returns the image unchanged.
  const Image<float> same = undistort_colmap_image(
      distorted, make_camera(ColmapCameraModel::kPinhole, {60, 60, 40, 30}, w, h));
  EXPECT_EQ(same.vector(), distorted.vector());
  EXPECT_ERROR_CONTAINS(
      undistort_colmap_image(distorted, make_camera(ColmapCameraModel::kOpenCV,
                                                    {60, 60, 40, 30, 0.1, 0, 0, 0}, w + 1, h)),
      "rescale it with scaled_colmap_camera first");
}

#if defined(GLIMPSE_TEST_HAVE_CALIB3D)

// Mean |a - b| over pixels at least `margin` pixels inside the image and non-zero in `a`.
double mean_abs_diff(const Image<float>& a, const cv::Mat& b, int margin) {
  double sum = 0;
  int n = 0;
  for (int y = margin; y < a.height() - margin; ++y)
    for (int x = margin; x < a.width() - margin; ++x) {
      if (a.at(x, y, 0) == 0.f) continue;
      for (int c = 0; c < 3; ++c) sum += std::abs(a.at(x, y, c) - b.at<cv::Vec3f>(y, x)[c]);
      ++n;
    }
  return n > 0 ? sum / (3.0 * n) : 1e9;
}

TEST(ColmapUndistort, MatchesOpenCvUndistort) {
  const int w = 96, h = 72;
  const Image<float> distorted = pattern_image(w, h);
  const cv::Mat src(h, w, CV_32FC3, const_cast<float*>(distorted.data()));
  const double fx = 70, fy = 68, cx = 48.5, cy = 35.5;

  const std::vector<double> dist = {-0.18, 0.03, 0.002, -0.0015};
  const Image<float> ours = undistort_colmap_image(
      distorted, make_camera(ColmapCameraModel::kOpenCV,
                             {fx, fy, cx, cy, dist[0], dist[1], dist[2], dist[3]}, w, h));
  cv::Mat theirs;
  cv::undistort(src, theirs, opencv_k(fx, fy, cx, cy), dist, opencv_k(fx, fy, cx, cy));
  EXPECT_LT(mean_abs_diff(ours, theirs, 4), 2e-3);

  const std::vector<double> k4 = {0.04, -0.01, 0.002, -0.0005};
  const Image<float> ours_fisheye = undistort_colmap_image(
      distorted, make_camera(ColmapCameraModel::kOpenCVFisheye,
                             {fx, fy, cx, cy, k4[0], k4[1], k4[2], k4[3]}, w, h));
  cv::Mat theirs_fisheye;
  cv::fisheye::undistortImage(src, theirs_fisheye, opencv_k(fx, fy, cx, cy), k4,
                              opencv_k(fx, fy, cx, cy), src.size());
  EXPECT_LT(mean_abs_diff(ours_fisheye, theirs_fisheye, 4), 2e-3);
}

#endif  // GLIMPSE_TEST_HAVE_CALIB3D

// [SECTION] model folders and the 3DGS layout
// -----------------------------------------------------------

TEST(ColmapModelFolder, DetectsBinaryOrTextAndIgnoresRigsAndFrames) {
  TempDir dir;
  write_file(dir.path() / "bin" / "cameras.bin", cameras_bin());
  write_file(dir.path() / "bin" / "images.bin", images_bin());
  write_file(dir.path() / "bin" / "points3D.bin", points3D_bin());
  write_file(dir.path() / "bin" / "rigs.bin", "not parsed");
  write_file(dir.path() / "bin" / "frames.bin", "not parsed");
  write_file(dir.path() / "txt" / "cameras.txt", kCamerasTxt);
  write_file(dir.path() / "txt" / "images.txt", kImagesTxt);
  write_file(dir.path() / "txt" / "points3D.txt", kPointsTxt);
  write_file(dir.path() / "txt" / "rigs.txt", "# not parsed\n1 1 CAMERA 1\n");
  write_file(dir.path() / "txt" / "frames.txt", "# not parsed\n");
  const ColmapModel bin = read_colmap_model((dir.path() / "bin").string());
  const ColmapModel txt = read_colmap_model((dir.path() / "txt").string());
  expect_same_model(bin, txt);
  expect_same_model(bin, model_from_text());

  fs::remove(dir.path() / "txt" / "points3D.txt");
  EXPECT_ERROR_CONTAINS(read_colmap_model((dir.path() / "txt").string()),
                        (dir.path() / "txt" / "points3D.txt").string() + ": file does not exist");
  EXPECT_ERROR_CONTAINS(read_colmap_model((dir.path() / "none").string()),
                        "COLMAP sparse model folder");
  fs::create_directories(dir.path() / "empty");
  EXPECT_ERROR_CONTAINS(read_colmap_model((dir.path() / "empty").string()),
                        "neither cameras.bin nor cameras.txt exists");
}

TEST(ColmapModelFolder, MissingCameraIdIsAnError) {
  TempDir dir;
  write_file(dir.path() / "cameras.txt", "1 PINHOLE 640 480 500 500 320 240\n");
  write_file(dir.path() / "images.txt", "3 1 0 0 0 0 0 0 5 x.png\n\n");
  write_file(dir.path() / "points3D.txt", "");
  EXPECT_ERROR_CONTAINS(read_colmap_model(dir.path().string()),
                        "images.txt: image 3 ('x.png') uses camera id 5, which ");
}

TEST(ColmapText, MalformedLinesNameFileAndLine) {
  {
    std::istringstream in("# c\n1 PINHOLE 640 480 500 500 320 abc\n");
    EXPECT_ERROR_CONTAINS(read_colmap_cameras_text(in, "cameras.txt"),
                          "cameras.txt line 2: PARAMS 'abc' is not a number");
  }
  {
    std::istringstream in("1 PINHOLE 640 -480 500 500 320 240\n");
    EXPECT_ERROR_CONTAINS(read_colmap_cameras_text(in, "cameras.txt"),
                          "cameras.txt line 1: HEIGHT '-480' is not an integer in range");
  }
  {
    std::istringstream in("1 PINHOLE 640 480 500 500 320 240\n1 PINHOLE 64 48 50 50 32 24\n");
    EXPECT_ERROR_CONTAINS(read_colmap_cameras_text(in, "cameras.txt"),
                          "cameras.txt line 2: camera id 1 appears twice");
  }
  {
    std::istringstream in("1 1 0 0 0 0 0 0 1 x.png\n10 20\n");
    EXPECT_ERROR_CONTAINS(read_colmap_images_text(in, "images.txt"),
                          "images.txt line 2: the POINTS2D line of image 1 ('x.png') must hold X "
                          "Y POINT3D_ID triples, but has 2 values");
  }
  {
    std::istringstream in("1 1 0 0 0 0 0 0\n");
    EXPECT_ERROR_CONTAINS(read_colmap_images_text(in, "images.txt"),
                          "images.txt line 1: expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID");
  }
  {
    std::istringstream in("7 0 0 0 1 2 3 0.5 1\n");
    EXPECT_ERROR_CONTAINS(read_colmap_points3D_text(in, "points3D.txt"),
                          "points3D.txt line 1: expected POINT3D_ID X Y Z R G B ERROR");
  }
  {
    std::istringstream in("7 0 0 0 1 256 3 0.5\n");
    EXPECT_ERROR_CONTAINS(read_colmap_points3D_text(in, "points3D.txt"),
                          "points3D.txt line 1: colour value 256 is not in 0..255");
  }
  {
    // Windows line endings and names with spaces survive.
    std::istringstream in("1 1 0 0 0 0 0 0 1 my image.png\r\n\r\n");
    const auto images = read_colmap_images_text(in, "images.txt");
    EXPECT_EQ(images.at(1).name, "my image.png");
  }
}

// A scene in the 3DGS layout: images/{a,b,c}.png (8x6), sparse/0 in text. Camera 1 is a pinhole
// shared by a.png and b.png; camera 2 (c.png) is OPENCV with barrel distortion. Point depths in
// a.png's camera (identity pose) are 2, 3 and 10.
class SyntheticScene {
 public:
  SyntheticScene() {
    fs::create_directories(dir_.path() / "images");
    write_png(dir_.file("images/b.png"), Image<float>(8, 6, 3, 0.8f));
    write_png(dir_.file("images/a.png"), Image<float>(8, 6, 3, 0.2f));
    write_png(dir_.file("images/c.png"), Image<float>(8, 6, 3, 0.6f));
    cameras_ = "1 PINHOLE 8 6 10 11 4 3\n2 OPENCV 8 6 10 10 4 3 -0.3 0 0 0\n";
    images_ =
        "5 1 0 0 0 0 0 0 1 b.png\n1 1 11\n"
        "6 1 0 0 0 0 0 0 1 a.png\n1 1 10 2 2 11 3 3 12\n"
        "7 1 0 0 0 0 0 -1 2 c.png\n\n";
    points_ =
        "10 0 0 2 255 0 0 0.1 6 0\n11 0.5 0 3 0 255 0 0.1 6 1 5 0\n12 0 1 10 0 0 255 0.2 6 2\n";
    write();
  }
  void write() const {
    write_file(dir_.path() / "sparse" / "0" / "cameras.txt", cameras_);
    write_file(dir_.path() / "sparse" / "0" / "images.txt", images_);
    write_file(dir_.path() / "sparse" / "0" / "points3D.txt", points_);
  }
  std::string root() const { return dir_.path().string(); }
  const TempDir& dir() const { return dir_; }
  std::string& images() { return images_; }
  std::string& cameras() { return cameras_; }

 private:
  TempDir dir_;
  std::string cameras_, images_, points_;
};

TEST(ColmapDataset, ReadsTheThreeDgsLayout) {
  SyntheticScene scene;
  ColmapPoints points;
  const Dataset d = read_colmap_dataset(scene.root(), {}, &points);
  EXPECT_EQ(d.format, "colmap");
  EXPECT_EQ(d.root, scene.root());
  ASSERT_EQ(d.views.size(), 3u);
  EXPECT_EQ(d.views[0].name, "a.png");  // sorted by name, not by id
  EXPECT_EQ(d.views[1].name, "b.png");
  EXPECT_EQ(d.views[2].name, "c.png");
  EXPECT_EQ(d.views[0].image_path, scene.dir().file("images/a.png"));
  EXPECT_NEAR(d.views[0].image.at(3, 2, 1), 51.f / 255.f, 1e-6);
  EXPECT_NEAR(d.views[1].image.at(3, 2, 1), 204.f / 255.f, 1e-6);
  const Camera& a = d.views[0].camera;
  EXPECT_EQ(a.fx, 10.0);
  EXPECT_EQ(a.fy, 11.0);
  EXPECT_EQ(a.cx, 4.0);
  EXPECT_EQ(a.cy, 3.0);
  EXPECT_EQ(a.width, 8);
  EXPECT_EQ(a.height, 6);
  // Depths 2, 3, 10 seen from a.png: the 1st and 99th percentiles are the extremes.
  EXPECT_DOUBLE_EQ(d.near_depth, 2.0);
  EXPECT_DOUBLE_EQ(d.far_depth, 10.0);
  EXPECT_TRUE(d.train_ids.empty());

  // c.png: OPENCV undistorted to the pinhole with the same intrinsics; pixels near the principal
  // point sample the (constant) source image.
  const View& c = d.views[2];
  EXPECT_EQ(c.camera.fx, 10.0);
  EXPECT_EQ(c.camera.fy, 10.0);
  EXPECT_EQ(c.camera.translation.z, -1.0);
  EXPECT_NEAR(c.image.at(3, 2, 0), 153.f / 255.f, 1e-6);
  EXPECT_NEAR(c.image.at(4, 3, 0), 153.f / 255.f, 1e-6);

  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points.xyz, (std::vector<float>{0, 0, 2, 0.5f, 0, 3, 0, 1, 10}));
  EXPECT_EQ(points.rgb[0], 1.f);
  EXPECT_EQ(points.rgb[4], 1.f);
  EXPECT_EQ(points.rgb[8], 1.f);
}

TEST(ColmapDataset, DownsampledFolderResolutionScaleAndCamerasOnly) {
  SyntheticScene scene;
  fs::create_directories(scene.dir().path() / "images_2");
  for (const char* name : {"a.png", "b.png", "c.png"})
    write_png(scene.dir().file(std::string("images_2/") + name), Image<float>(4, 3, 3, 0.5f));
  ColmapDatasetOptions o;
  o.images_factor = 2;
  const Dataset d = read_colmap_dataset(scene.root(), o);
  ASSERT_EQ(d.views.size(), 3u);
  EXPECT_EQ(d.views[0].image_path, scene.dir().file("images_2/a.png"));
  EXPECT_EQ(d.views[0].camera.width, 4);
  EXPECT_EQ(d.views[0].camera.fx, 5.0);
  EXPECT_EQ(d.views[0].camera.fy, 5.5);
  EXPECT_EQ(d.views[0].camera.cx, 2.0);
  EXPECT_EQ(d.views[0].camera.cy, 1.5);

  ColmapDatasetOptions half;
  half.resolution_scale = 0.5;
  const Dataset h = read_colmap_dataset(scene.root(), half);
  EXPECT_EQ(h.views[1].image.width(), 4);
  EXPECT_EQ(h.views[1].image.height(), 3);
  EXPECT_EQ(h.views[1].camera.fx, 5.0);
  EXPECT_EQ(h.views[1].camera.cx, 2.0);
  EXPECT_NEAR(h.views[1].image.at(1, 1, 0), 204.f / 255.f, 1e-6);

  ColmapDatasetOptions cameras_only;
  cameras_only.load_images = false;
  cameras_only.images_factor = 2;
  const Dataset n = read_colmap_dataset(scene.root(), cameras_only);
  EXPECT_TRUE(n.views[0].image.empty());
  EXPECT_EQ(n.views[0].camera.width, 4);
  EXPECT_EQ(n.views[0].camera.fx, 5.0);
  EXPECT_DOUBLE_EQ(n.near_depth, 2.0);
}

TEST(ColmapDataset, ErrorsNameTheProblem) {
  {
    SyntheticScene scene;
    fs::remove(scene.dir().path() / "images" / "b.png");
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(scene.root()),
                          "image 'b.png' is listed in " + scene.dir().file("sparse/0/images.txt") +
                              " but " + scene.dir().file("images/b.png") + " does not exist");
  }
  {
    SyntheticScene scene;
    fs::remove_all(scene.dir().path() / "images");
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(scene.root()),
                          "COLMAP image folder " + scene.dir().file("images") + " does not exist");
    ColmapDatasetOptions o;
    o.images_factor = 4;
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(scene.root(), o), "images_factor 4 reads images_4/");
  }
  {
    SyntheticScene scene;
    scene.images() = "5 nan 0 0 0 0 0 0 1 b.png\n\n";
    scene.write();
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(scene.root()),
                          "images.txt: image 5 ('b.png'): pose is not finite");
  }
  {
    SyntheticScene scene;
    scene.images() = "5 0.5 0 0 0 0 0 0 1 b.png\n\n";
    scene.write();
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(scene.root()), "has norm 0.5");
  }
  {
    SyntheticScene scene;
    write_png(scene.dir().file("images/a.png"), Image<float>(8, 8, 3, 0.2f));
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(scene.root()),
                          "a.png: image is 8x8 but camera 1 in ");
  }
  // Focal lengths that are not a camera of this image: a huge one (every Gaussian at infinity),
  // a denormal one, and half a pixel for this 8-pixel image (166 degrees; 2 px on a 504-px image
  // made 179 degrees and 13 s per iteration).
  for (const char* focal : {"1e300", "4e-310", "0.5"}) {
    SyntheticScene scene;
    scene.cameras() = std::string("1 PINHOLE 8 6 ") + focal + " " + focal +
                      " 4 3\n2 OPENCV 8 6 10 10 4 3 -0.3 0 0 0\n";
    scene.write();
    const std::string msg = testing::error_message([&] { read_colmap_dataset(scene.root()); });
    EXPECT_NE(msg.find(scene.dir().file("sparse/0/images.txt") + ": image "), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("field of view"), std::string::npos) << focal << ": " << msg;
  }
  {
    TempDir empty;
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(empty.path().string()),
                          "no COLMAP sparse model found");
    EXPECT_ERROR_CONTAINS(read_colmap_dataset(empty.file("nope")), "does not exist");
  }
  ColmapDatasetOptions bad;
  bad.resolution_scale = 2;
  EXPECT_ERROR_CONTAINS(bad.check(), "resolution_scale must be in (0, 1]");
}

TEST(ColmapDataset, SparseFolderWithoutZeroAndExplicitSparseDir) {
  SyntheticScene scene;
  fs::rename(scene.dir().path() / "sparse" / "0", scene.dir().path() / "model");
  ColmapDatasetOptions o;
  o.sparse_dir = "model";
  EXPECT_EQ(read_colmap_dataset(scene.root(), o).views.size(), 3u);
  fs::remove_all(scene.dir().path() / "sparse");
  fs::rename(scene.dir().path() / "model", scene.dir().path() / "sparse");
  EXPECT_EQ(find_colmap_sparse_dir(scene.root()), scene.dir().file("sparse"));
  EXPECT_EQ(read_colmap_dataset(scene.root()).views.size(), 3u);
}

// [SECTION] real data (GLIMPSE_DATA_DIR)
// ---------------------------------------------------------------

fs::path test_colmap_root() { return testing::data_dir() / "colmap" / "test_colmap"; }

TEST(ColmapReal, TestColmapModelIsConsistentAndReprojects) {
  if (testing::data_dir().empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set";
  const ColmapModel m = read_colmap_model((test_colmap_root() / "sparse" / "0").string());
  ASSERT_EQ(m.cameras.size(), 23u);
  ASSERT_EQ(m.images.size(), 23u);
  ASSERT_GT(m.points3D.size(), 1000u);
  for (const auto& [id, c] : m.cameras) {
    EXPECT_EQ(c.model, ColmapCameraModel::kPinhole) << id;
    EXPECT_EQ(c.width, 1000) << id;
    EXPECT_GE(c.height, 656) << id;
    EXPECT_LE(c.height, 662) << id;
  }
  // Every track element points back at its point, and reprojects onto its keypoint.
  std::vector<double> errors, ratios;
  for (const ColmapPoint3D& p : m.points3D) {
    ASSERT_GE(p.track.size(), 2u) << p.id;
    double sum = 0;
    for (const ColmapTrackElement& e : p.track) {
      const ColmapImage& image = m.images.at(e.image_id);
      ASSERT_LT(e.point2D_idx, image.points2D.size());
      EXPECT_EQ(image.point3D_ids[e.point2D_idx], static_cast<int64_t>(p.id));
      const ColmapCamera& camera = m.cameras.at(image.camera_id);
      const Camera c = colmap_view_camera(image, camera, image.name);
      Vec2<double> px;
      ASSERT_TRUE(colmap_img_from_cam(camera, c.cam_from_world(p.xyz), &px));
      const Vec2<double>& kp = image.points2D[e.point2D_idx];
      const double err = std::hypot(px.x - kp.x, px.y - kp.y);
      errors.push_back(err);
      sum += err;
    }
    const double mean = sum / static_cast<double>(p.track.size());
    if (mean > 0.05) ratios.push_back(p.error / mean);
  }
  std::sort(errors.begin(), errors.end());
  EXPECT_LT(errors[errors.size() / 2], 0.5) << "median reprojection error (pixels)";
  EXPECT_LT(errors[errors.size() * 95 / 100], 1.5) << "95th percentile reprojection error";
  // The stored error is each point's mean reprojection error in the pixels of the original
  // photos: image_undistorter (max_image_size) rescaled the model to 1000 pixels wide but kept
  // the errors, so they are a constant multiple (about 3) of ours.
  std::vector<double> sorted = ratios;
  std::sort(sorted.begin(), sorted.end());
  const double scale = sorted[sorted.size() / 2];
  EXPECT_GT(scale, 2.5);
  EXPECT_LT(scale, 3.5);
  const auto close = std::count_if(ratios.begin(), ratios.end(),
                                   [&](double r) { return std::abs(r / scale - 1) < 0.1; });
  EXPECT_GT(static_cast<size_t>(close), ratios.size() * 9 / 10);
}

TEST(ColmapReal, TestColmapDataset) {
  if (testing::data_dir().empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set";
  ColmapPoints points;
  const Dataset d = read_colmap_dataset(test_colmap_root().string(), {}, &points);
  const ColmapModel m = read_colmap_model((test_colmap_root() / "sparse" / "0").string());
  ASSERT_EQ(d.views.size(), 23u);
  EXPECT_EQ(points.size(), m.points3D.size());
  EXPECT_GT(d.near_depth, 0.0);
  EXPECT_LT(d.near_depth, d.far_depth);
  std::map<std::string, const ColmapImage*> by_name;
  for (const auto& [id, image] : m.images) by_name[image.name] = &image;
  for (size_t i = 0; i < d.views.size(); ++i) {
    const View& v = d.views[i];
    char expected[32];
    std::snprintf(expected, sizeof(expected), "DSC_%04zu.jpg", 5283 + i);
    EXPECT_EQ(v.name, expected);
    EXPECT_NO_THROW(check_camera(v.camera, v.name));
    EXPECT_EQ(v.image.width(), v.camera.width) << v.name;
    EXPECT_EQ(v.image.height(), v.camera.height) << v.name;
    EXPECT_EQ(v.camera.width, 1000) << v.name;
    // The points this view observes lie in front of it and project inside it.
    const ColmapImage& image = *by_name.at(v.name);
    std::vector<double> depths;
    size_t inside = 0;
    for (const ColmapPoint3D& p : m.points3D) {
      bool observed = false;
      for (const ColmapTrackElement& e : p.track) observed = observed || e.image_id == image.id;
      if (!observed) continue;
      const Vec3<double> q = v.camera.cam_from_world(p.xyz);
      depths.push_back(q.z);
      const double x = v.camera.fx * q.x / q.z + v.camera.cx;
      const double y = v.camera.fy * q.y / q.z + v.camera.cy;
      if (q.z > 0 && x >= 0 && x <= v.camera.width && y >= 0 && y <= v.camera.height) ++inside;
    }
    ASSERT_GT(depths.size(), 20u) << v.name;
    std::nth_element(depths.begin(), depths.begin() + depths.size() / 2, depths.end());
    EXPECT_GT(depths[depths.size() / 2], 0.0) << v.name;
    EXPECT_GE(inside, depths.size() * 99 / 100) << v.name;
  }

  // Cameras only, and half resolution: the same poses, scaled intrinsics.
  ColmapDatasetOptions o;
  o.load_images = false;
  o.resolution_scale = 0.5;
  const Dataset h = read_colmap_dataset(test_colmap_root().string(), o);
  ASSERT_EQ(h.views.size(), d.views.size());
  for (size_t i = 0; i < d.views.size(); ++i) {
    EXPECT_EQ(h.views[i].camera.width, 500);
    EXPECT_NEAR(h.views[i].camera.fx, 0.5 * d.views[i].camera.fx, 1e-9);
    EXPECT_NEAR(h.views[i].camera.cx, 0.5 * d.views[i].camera.cx, 1e-9);
    for (int r = 0; r < 3; ++r) {
      EXPECT_EQ(h.views[i].camera.translation[r], d.views[i].camera.translation[r]);
      for (int k = 0; k < 3; ++k)
        EXPECT_EQ(h.views[i].camera.rotation.m[r][k], d.views[i].camera.rotation.m[r][k]);
    }
  }
}

}  // namespace
}  // namespace glimpse
