// Tests of the DTU reader: exact projection decompositions, tiny IDR and Rectified scans built
// here (npz written by a stored-zip writer in this file), error cases, and the real scans 24/37
// (mask centroids against the projected object centre).
#include "io/dtu.h"

#include "io/dataset_reader.h"
#include "io/image_io.h"
#include "io/npy.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;

// --- scene construction ---
Mat3<double> rotation_from_axis_angle(Vec3<double> axis, double angle) {
  axis = axis * (1.0 / norm(axis));
  const double c = std::cos(angle), s = std::sin(angle);
  Mat3<double> r;
  const double x = axis.x, y = axis.y, z = axis.z;
  r.m[0][0] = c + x * x * (1 - c), r.m[0][1] = x * y * (1 - c) - z * s,
  r.m[0][2] = x * z * (1 - c) + y * s;
  r.m[1][0] = y * x * (1 - c) + z * s, r.m[1][1] = c + y * y * (1 - c),
  r.m[1][2] = y * z * (1 - c) - x * s;
  r.m[2][0] = z * x * (1 - c) - y * s, r.m[2][1] = z * y * (1 - c) + x * s,
  r.m[2][2] = c + z * z * (1 - c);
  return r;
}

// A camera at `center` looking at `target` (y roughly down), as cam_from_world.
struct Pose {
  Mat3<double> r;
  Vec3<double> t;
};
Pose look_at(const Vec3<double>& center, const Vec3<double>& target) {
  Vec3<double> z = target - center;
  z = z * (1.0 / norm(z));
  Vec3<double> x = cross(Vec3<double>(0, 1, 0), z);  // any right-handed frame with this z
  x = x * (1.0 / norm(x));
  const Vec3<double> y = cross(z, x);
  Pose p;
  for (int j = 0; j < 3; ++j) p.r.m[0][j] = x[j], p.r.m[1][j] = y[j], p.r.m[2][j] = z[j];
  p.t = -(p.r * center);
  return p;
}

// DTU-like full-resolution intrinsics (cal18 values).
constexpr double kFx = 2892.33, kFy = 2883.18, kCx = 823.205, kCy = 619.071;

// P = s K [R | t], row-major 3x4.
std::vector<double> projection(const Pose& pose, double s = 1.0) {
  const double k[3][3] = {{kFx, 0, kCx}, {0, kFy, kCy}, {0, 0, 1}};
  std::vector<double> p(12);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) {
      double v = 0;
      for (int j = 0; j < 3; ++j) v += k[r][j] * (c < 3 ? pose.r.m[j][c] : pose.t[j]);
      p[r * 4 + c] = s * v;
    }
  }
  return p;
}

void expect_pose(const Camera& camera, const Pose& pose, double tol) {
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(camera.rotation.m[i][j], pose.r.m[i][j], tol);
    EXPECT_NEAR(camera.translation[i], pose.t[i], tol * 1000);  // t is in mm, ~1e3
  }
}

// --- a stored-only zip writer (the npz reader has its own tests) ---
uint32_t crc32_bitwise(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put16(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

// Writes an .npz of 4x4 float64 arrays (stored members, like numpy.savez).
void write_npz(const std::string& path, const std::map<std::string, std::vector<double>>& arrays) {
  std::string zip, central;
  for (const auto& [key, values] : arrays) {
    std::ostringstream npy;
    write_npy(npy, {4, 4}, values);
    const std::string data = npy.str(), name = key + ".npy";
    const uint32_t offset = static_cast<uint32_t>(zip.size()), crc = crc32_bitwise(data);
    for (std::string* s : {&zip, &central}) {
      const bool c = s == &central;
      put32(*s, c ? 0x02014b50 : 0x04034b50);
      if (c) put16(*s, 20);
      for (uint32_t v : {20u, 0u, 0u, 0u, 0u}) put16(*s, v);  // version, flags, method, time, date
      put32(*s, crc);
      put32(*s, static_cast<uint32_t>(data.size()));
      put32(*s, static_cast<uint32_t>(data.size()));
      put16(*s, static_cast<uint32_t>(name.size()));
      put16(*s, 0);
      if (c) {
        for (uint32_t v : {0u, 0u, 0u}) put16(*s, v);  // comment, disk, internal attributes
        put32(*s, 0);
        put32(*s, offset);
      }
      *s += name;
      if (!c) zip += data;
    }
  }
  const uint32_t central_offset = static_cast<uint32_t>(zip.size());
  zip += central;
  put32(zip, 0x06054b50);
  put32(zip, 0);
  put16(zip, static_cast<uint32_t>(arrays.size()));
  put16(zip, static_cast<uint32_t>(arrays.size()));
  put32(zip, static_cast<uint32_t>(central.size()));
  put32(zip, central_offset);
  put16(zip, 0);
  std::ofstream(path, std::ios::binary) << zip;
}

std::vector<double> to_4x4(const std::vector<double>& p) {
  std::vector<double> m(p);
  m.insert(m.end(), {0, 0, 0, 1});
  return m;
}

void write_image(const fs::path& path, int width, int height, int channels, float value) {
  fs::create_directories(path.parent_path());
  Image<float> image(width, height, channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) image.at(x, y, c) = value * (x < width / 2 ? 1.f : 0.5f);
  write_png(path.string(), image);
}

// A mask whose left half is 1 and right half holds `right` (anti-aliased grey values).
void write_mask(const fs::path& path, int width, int height, float right) {
  fs::create_directories(path.parent_path());
  Image<float> mask(width, height, 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) mask.at(x, y, c) = x < width / 2 ? 1.f : right;
  write_png(path.string(), mask);
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

const Vec3<double> kObject(-28.0, -13.0, 641.0);  // like scan24's sphere centre (mm)
const double kRadius = 231.0;
const Vec3<double> kCenters[2] = {Vec3<double>(190.8, -1.2, 24.3),
                                  Vec3<double>(-150.0, 60.0, 40.0)};

// --- exact decompositions ---
TEST(DtuTest, ProjectionDecomposesToKnownCamera) {
  const Pose pose{rotation_from_axis_angle({0.3, -1.0, 0.2}, 0.4), Vec3<double>(-191.0, 3.3, 22.5)};
  for (double s : {1.0, 0.001, -2.5}) {  // P is defined up to a (signed) scale
    SCOPED_TRACE("scale " + std::to_string(s));
    const std::vector<double> p = projection(pose, s);
    const Camera c = camera_from_projection(p.data(), 1600, 1200, 400, 300, false, "test");
    EXPECT_EQ(c.width, 400);
    EXPECT_EQ(c.height, 300);
    EXPECT_NEAR(c.fx, kFx / 4, 1e-9);
    EXPECT_NEAR(c.fy, kFy / 4, 1e-9);
    EXPECT_NEAR(c.cx, kCx / 4, 1e-9);
    EXPECT_NEAR(c.cy, kCy / 4, 1e-9);
    expect_pose(c, pose, 1e-12);
    const Camera full = camera_from_projection(p.data(), 1600, 1200, 1600, 1200, false, "test");
    EXPECT_NEAR(full.fx, kFx, 1e-9);
    EXPECT_NEAR(full.cx, kCx, 1e-9);
    // Pixel centres at integers: (cx + 0.5) / 4.
    const Camera centred = camera_from_projection(p.data(), 1600, 1200, 400, 300, true, "test");
    EXPECT_NEAR(centred.cx, (kCx + 0.5) / 4, 1e-9);
    EXPECT_NEAR(centred.cy, (kCy + 0.5) / 4, 1e-9);
  }
}

TEST(DtuTest, ProjectionReprojectsLikeP) {
  const Pose pose = look_at(kCenters[1], kObject);
  const std::vector<double> p = projection(pose);
  const Camera c = camera_from_projection(p.data(), 1600, 1200, 400, 300, false, "test");
  for (const Vec3<double>& x : {kObject, kObject + Vec3<double>(50, -80, 30)}) {
    const double u = p[0] * x.x + p[1] * x.y + p[2] * x.z + p[3];
    const double v = p[4] * x.x + p[5] * x.y + p[6] * x.z + p[7];
    const double w = p[8] * x.x + p[9] * x.y + p[10] * x.z + p[11];
    const Vec3<double> q = c.cam_from_world(x);
    EXPECT_NEAR(c.fx * q.x / q.z + c.cx, u / w / 4, 1e-9);
    EXPECT_NEAR(c.fy * q.y / q.z + c.cy, v / w / 4, 1e-9);
  }
}

TEST(DtuTest, ProjectionErrors) {
  std::vector<double> singular(12, 0.0);
  EXPECT_ERROR_CONTAINS(camera_from_projection(singular.data(), 1600, 1200, 400, 300, false, "P0"),
                        "P0: the left 3x3 block of the projection matrix is singular");
  // MVSNet's Cameras/train/ intrinsics are for 160x128 crops: the principal point gives it away.
  MvsnetCam cam;
  const Pose pose = look_at(kCenters[0], kObject);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) cam.extrinsic[i * 4 + j] = pose.r.m[i][j];
    cam.extrinsic[i * 4 + 3] = pose.t[i];
  }
  cam.extrinsic[15] = 1;
  cam.intrinsic = {361.54125, 0, 82.900625, 0, 360.3975, 66.383875, 0, 0, 1};
  EXPECT_ERROR_CONTAINS(camera_from_mvsnet(cam, 1600, 1200, 400, 300, false, "train_cam.txt"),
                        "train_cam.txt: principal point (82.9006, 66.3839) is far from the middle");
  cam.intrinsic = {kFx, 5.0, kCx, 0, kFy, kCy, 0, 0, 1};
  EXPECT_ERROR_CONTAINS(camera_from_mvsnet(cam, 1600, 1200, 400, 300, false, "skew.txt"),
                        "skew.txt: intrinsics have skew 5");
}

TEST(DtuTest, ReadsMvsnetCamText) {
  std::istringstream in(
      "extrinsic\n"
      "0.970263 0.00747983 0.241939 -191.02\n"
      "-0.0147429 0.999493 0.0282234 3.28832\n"
      "-0.241605 -0.030951 0.969881 22.5401\n"
      "0.0 0.0 0.0 1.0\n"
      "\n"
      "intrinsic\n"
      "2892.33 0 823.205\n"
      "0 2883.18 619.071\n"
      "0 0 1\n"
      "\n"
      "425.0 2.5\n");
  const MvsnetCam cam = read_mvsnet_cam(in, "00000000_cam.txt");
  EXPECT_EQ(cam.extrinsic[3], -191.02);
  EXPECT_EQ(cam.extrinsic[10], 0.969881);
  EXPECT_EQ(cam.intrinsic[0], 2892.33);
  EXPECT_EQ(cam.intrinsic[5], 619.071);
  EXPECT_EQ(cam.depth_min, 425.0);
  EXPECT_EQ(cam.depth_interval, 2.5);
  const Camera c = camera_from_mvsnet(cam, 1600, 1200, 400, 300, false, "00000000_cam.txt");
  // The 6-digit rotation is not exactly orthonormal: decomposing P = K [R | t] keeps P and moves
  // the rounding into K and a proper R, about 1e-6 relative.
  EXPECT_NEAR(c.fx, 2892.33 / 4, 1e-3);
  EXPECT_NEAR(c.fy, 2883.18 / 4, 1e-3);
  EXPECT_NEAR(c.cx, 823.205 / 4, 1e-3);
  EXPECT_NEAR(c.cy, 619.071 / 4, 1e-3);
  EXPECT_NEAR(c.rotation.m[0][2], 0.241939, 1e-5);
  EXPECT_NEAR(c.translation[0], -191.02, 1e-2);

  std::istringstream bad("extrinsic\n1 0 0 0\n0 1 0 0\n0 0 1\n");
  EXPECT_ERROR_CONTAINS(read_mvsnet_cam(bad, "bad_cam.txt"),
                        "bad_cam.txt: expected 16 numbers in the extrinsic 4x4, found 11");
  std::istringstream word("intrinsic\n");
  EXPECT_ERROR_CONTAINS(read_mvsnet_cam(word, "w_cam.txt"),
                        "w_cam.txt: expected 'extrinsic', found 'intrinsic'");
  std::istringstream pos("1 2 3 4 5 6 7 8 9 10 11 nan");
  EXPECT_ERROR_CONTAINS(read_projection_txt(pos, "pos_001.txt"), "pos_001.txt: ");
}

// --- tiny IDR scan ---
struct TinyIdr {
  testing::TempDir dir;
  Pose poses[2];
  fs::path scan;
  TinyIdr() {
    scan = dir.path() / "scan7";
    std::map<std::string, std::vector<double>> arrays;
    const std::vector<double> scale = {kRadius, 0, 0,       kObject.x, 0, kRadius, 0, kObject.y,
                                       0,       0, kRadius, kObject.z, 0, 0,       0, 1};
    for (int i = 0; i < 2; ++i) {
      poses[i] = look_at(kCenters[i], kObject);
      arrays["world_mat_" + std::to_string(i)] = to_4x4(projection(poses[i]));
      arrays["scale_mat_" + std::to_string(i)] = scale;
      write_image(scan / "image" / ("00000" + std::to_string(i) + ".png"), 80, 60, 3, 0.8f);
      write_mask(scan / "mask" / ("00" + std::to_string(i) + ".png"), 80, 60, 0.4f);
    }
    fs::create_directories(scan);
    write_npz((scan / "cameras_sphere.npz").string(), arrays);
  }
};

TEST(DtuTest, IdrLayoutTinyScan) {
  TinyIdr t;
  DtuOptions options;
  options.scan = "scan7";
  options.width = 40;
  options.height = 30;
  const DtuScene scene = read_dtu_scene(t.dir.path().string(), options);
  EXPECT_EQ(scene.layout, DtuLayout::kIdr);
  const Dataset& d = scene.dataset;
  EXPECT_EQ(d.format, "dtu");
  ASSERT_EQ(d.views.size(), 2u);
  EXPECT_EQ(scene.view_ids, (std::vector<int>{0, 1}));
  EXPECT_EQ(d.views[1].name, "000001.png");
  for (int i = 0; i < 2; ++i) {
    const View& v = d.views[i];
    EXPECT_NEAR(v.camera.fx, kFx * 40 / 1600, 1e-9);
    EXPECT_NEAR(v.camera.fy, kFy * 30 / 1200, 1e-9);
    EXPECT_NEAR(v.camera.cx, kCx * 40 / 1600, 1e-9);
    EXPECT_NEAR(v.camera.cy, kCy * 30 / 1200, 1e-9);
    expect_pose(v.camera, t.poses[i], 1e-12);
    // Images 80x60 -> 40x30 by 2x2 box filter: left half 0.8, right half 0.4.
    ASSERT_EQ(v.image.width(), 40);
    ASSERT_EQ(v.image.height(), 30);
    EXPECT_NEAR(v.image.at(3, 3, 1), 0.8f, 1.f / 255);
    EXPECT_NEAR(v.image.at(35, 3, 1), 0.4f, 1.f / 255);
    // Masks: RGB, the right half 0.4 -> 0 after the 0.5 threshold.
    ASSERT_EQ(v.mask.width(), 40);
    ASSERT_EQ(v.mask.channels(), 1);
    EXPECT_EQ(v.mask.at(3, 3), 1.f);
    EXPECT_EQ(v.mask.at(35, 3), 0.f);
    // The object centre projects near the image centre (the cameras look at it).
    const Vec3<double> q = v.camera.cam_from_world(kObject);
    EXPECT_NEAR(v.camera.fx * q.x / q.z + v.camera.cx, kCx * 40 / 1600, 1e-6);
  }
  EXPECT_TRUE(scene.has_scale_mat);
  EXPECT_EQ(scene.radius, kRadius);
  EXPECT_EQ(scene.center.z, kObject.z);
  EXPECT_EQ(scene.scale_mat[3], kObject.x);
  const double d0 = norm(kCenters[0] - kObject), d1 = norm(kCenters[1] - kObject);
  EXPECT_NEAR(d.near_depth, std::min(d0, d1) - kRadius, 1e-6);
  EXPECT_NEAR(d.far_depth, std::max(d0, d1) + kRadius, 1e-6);

  // Soft masks on request; no masks on request.
  options.mask_threshold = -1;
  EXPECT_NEAR(read_dtu(t.dir.path().string(), options).views[0].mask.at(35, 3), 0.4f, 1.f / 255);
  options.masks = DtuMasks::kNone;
  options.load_images = false;
  const Dataset bare = read_dtu(t.dir.path().string(), options);
  EXPECT_TRUE(bare.views[0].image.empty());
  EXPECT_TRUE(bare.views[0].mask.empty());
  EXPECT_EQ(bare.views[0].camera.width, 40);

  // The scan folder itself as root, stored size kept.
  DtuOptions native;
  native.width = native.height = 0;
  const Dataset full = read_dtu(t.scan.string(), native);
  EXPECT_EQ(full.views[0].camera.width, 80);
  EXPECT_NEAR(full.views[0].camera.fx, kFx / 20, 1e-9);
}

TEST(DtuTest, NormalizedFrameMatchesScaleMat) {
  TinyIdr t;
  DtuOptions options;
  options.scan = "scan7";
  options.load_images = false;
  const DtuScene scene = read_dtu_scene(t.dir.path().string(), options);
  const Camera n =
      camera_in_normalized_frame(scene.dataset.views[0].camera, scene.center, scene.radius);
  const Vec3<double> c = n.center();
  const Vec3<double> expected = (kCenters[0] - kObject) * (1.0 / kRadius);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(c[i], expected[i], 1e-12);
  // A world point and its normalised image project to the same pixel.
  const Vec3<double> x = kObject + Vec3<double>(40, 10, -20);
  const Vec3<double> a = scene.dataset.views[0].camera.cam_from_world(x);
  const Vec3<double> b = n.cam_from_world((x - kObject) * (1.0 / kRadius));
  EXPECT_NEAR(a.x / a.z, b.x / b.z, 1e-12);
  EXPECT_NEAR(a.y / a.z, b.y / b.z, 1e-12);
}

TEST(DtuTest, IdrErrors) {
  TinyIdr t;
  DtuOptions options;
  options.scan = "scan7";
  // A third image without a world_mat_2.
  write_image(t.scan / "image" / "000002.png", 80, 60, 3, 0.5f);
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options), "no 'world_mat_2'");
  fs::remove(t.scan / "image" / "000002.png");
  // kRequired with a missing mask names the view.
  fs::remove(t.scan / "mask" / "001.png");
  options.masks = DtuMasks::kRequired;
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options), "no mask for view 1");
  options.masks = DtuMasks::kIfPresent;
  const Dataset d = read_dtu(t.dir.path().string(), options);
  EXPECT_FALSE(d.views[0].mask.empty());
  EXPECT_TRUE(d.views[1].mask.empty());
  // Cropped images (not 4:3) are refused.
  write_image(t.scan / "image" / "000000.png", 80, 64, 3, 0.5f);
  write_image(t.scan / "image" / "000001.png", 80, 64, 3, 0.5f);
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options), "cropped images?");
  // Missing folder / calibration.
  EXPECT_ERROR_CONTAINS(read_dtu((t.dir.path() / "nope").string(), options), "does not exist");
  DtuOptions no_scan;
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), no_scan), "no cameras_sphere.npz");
  DtuOptions bad;
  bad.width = 0;
  EXPECT_ERROR_CONTAINS(bad.check(), "DTU image size must be positive");
}

TEST(DtuTest, IdrMissingImagesAndResizedMasksAreReported) {
  TinyIdr t;
  DtuOptions options;
  options.scan = "scan7";
  options.width = 40;
  options.height = 30;
  {
    testing::LogCapture log;
    read_dtu(t.dir.path().string(), options);
    EXPECT_TRUE(log.warnings.empty()) << log.warnings.front();  // masks at the images' size
  }
  // A view whose image is gone: the camera remains in the npz, the warning names the file.
  fs::remove(t.scan / "image" / "000001.png");
  {
    testing::LogCapture log;
    EXPECT_EQ(read_dtu(t.dir.path().string(), options).views.size(), 1u);
    ASSERT_EQ(log.warnings.size(), 1u);
    const std::string expected = "has cameras for 2 views but 1 image(s) are missing: " +
                                 (t.scan / "image" / "000001.png").string();
    EXPECT_NE(log.warnings[0].find(expected), std::string::npos) << log.warnings[0];
  }
  // A mask of another size than its image (same aspect) is resampled, and said so.
  write_mask(t.scan / "mask" / "000.png", 160, 120, 0.4f);
  {
    testing::LogCapture log;
    const Dataset d = read_dtu(t.dir.path().string(), options);
    EXPECT_EQ(d.views[0].mask.width(), 40);
    ASSERT_EQ(log.warnings.size(), 2u);
    EXPECT_NE(log.warnings[1].find("1 mask(s) differ in size from the 80x60 images"),
              std::string::npos)
        << log.warnings[1];
    EXPECT_NE(log.warnings[1].find((t.scan / "mask" / "000.png").string() + " (160x120)"),
              std::string::npos)
        << log.warnings[1];
  }
}

// --- tiny Rectified scan ---
std::string cam_txt(const Pose& p) {
  std::ostringstream s;
  s.precision(17);
  s << "extrinsic\n";
  for (int i = 0; i < 3; ++i)
    s << p.r.m[i][0] << " " << p.r.m[i][1] << " " << p.r.m[i][2] << " " << p.t[i] << "\n";
  s << "0 0 0 1\n\nintrinsic\n"
    << kFx << " 0 " << kCx << "\n0 " << kFy << " " << kCy << "\n0 0 1\n\n425 2.5\n";
  return s.str();
}

struct TinyRectified {
  testing::TempDir dir;
  Pose poses[2];
  TinyRectified(bool mvsnet_cams, bool nested_masks) {
    const fs::path root = dir.path();
    for (int i = 0; i < 2; ++i) {
      poses[i] = look_at(kCenters[i], kObject);
      // View 1 uses the _r7000 name of DTU's 64-view scans.
      const std::string name = "rect_00" + std::to_string(i + 1) + (i ? "_3_r7000" : "_3_r5000");
      write_image(root / "Rectified" / "scan9" / (name + ".png"), 32, 24, 3, 0.6f);
      if (mvsnet_cams) {
        write_text(root / "Cameras" / ("0000000" + std::to_string(i) + "_cam.txt"),
                   cam_txt(poses[i]));
      } else {
        std::ostringstream s;
        s.precision(17);
        const std::vector<double> p = projection(poses[i], 0.37);
        for (int k = 0; k < 12; ++k) s << p[k] << (k % 4 == 3 ? "\n" : " ");
        write_text(root / "Calibration" / "cal18" / ("pos_00" + std::to_string(i + 1) + ".txt"),
                   s.str());
      }
    }
    // Another lighting and a stray file are not views.
    write_image(root / "Rectified" / "scan9" / "rect_001_max.png", 32, 24, 3, 0.1f);
    write_image(root / "Rectified" / "scan9" / "rect_003_2_r5000.png", 32, 24, 3, 0.1f);
    write_image(root / "Rectified" / "scan9" / "rect_004_3_r5000_copy.png", 32, 24, 3, 0.1f);
    // Only view 1 has a mask (RegNeRF's idrmasks cover test views).
    const fs::path masks = root / "idrmasks" / "scan9" / (nested_masks ? "mask" : "");
    write_mask(masks / "001.png", 32, 24, 0.6f);
  }
};

TEST(DtuTest, RectifiedLayoutTinyScan) {
  for (bool mvsnet : {true, false}) {
    SCOPED_TRACE(mvsnet ? "Cameras/*_cam.txt" : "Calibration/cal18/pos_*.txt");
    TinyRectified t(mvsnet, mvsnet);
    DtuOptions options;
    options.scan = "scan9";
    options.width = 16;
    options.height = 12;
    const DtuScene scene = read_dtu_scene(t.dir.path().string(), options);
    EXPECT_EQ(scene.layout, DtuLayout::kRectified);
    const Dataset& d = scene.dataset;
    ASSERT_EQ(d.views.size(), 2u);
    EXPECT_EQ(scene.view_ids, (std::vector<int>{0, 1}));
    EXPECT_EQ(d.views[0].name, "rect_001_3_r5000.png");
    EXPECT_EQ(d.views[1].name, "rect_002_3_r7000.png");
    for (int i = 0; i < 2; ++i) {
      const Camera& c = d.views[i].camera;
      EXPECT_NEAR(c.fx, kFx / 100, 1e-9);
      EXPECT_NEAR(c.cy, kCy / 100, 1e-9);
      expect_pose(c, t.poses[i], 1e-12);
      EXPECT_EQ(d.views[i].image.width(), 16);
      EXPECT_NEAR(d.views[i].image.at(2, 2, 0), 0.6f, 1.f / 255);
    }
    EXPECT_TRUE(d.views[0].mask.empty());
    ASSERT_EQ(d.views[1].mask.width(), 16);
    EXPECT_EQ(d.views[1].mask.at(12, 5), 1.f);  // 0.6 > 0.5
    // No scale_mat: the centre is where the optical axes meet, radius the DTU default.
    EXPECT_FALSE(scene.has_scale_mat);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(scene.center[k], kObject[k], 1e-6);
    EXPECT_EQ(scene.radius, kDtuDefaultRadiusMm);
    const double d0 = norm(kCenters[0] - kObject), d1 = norm(kCenters[1] - kObject);
    EXPECT_NEAR(d.near_depth, std::min(d0, d1) - 1.5 * kDtuDefaultRadiusMm, 1e-6);
    EXPECT_NEAR(d.far_depth, std::max(d0, d1) + 1.5 * kDtuDefaultRadiusMm, 1e-6);

    options.masks = DtuMasks::kRequired;
    EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options), "no mask for view 0");
  }
}

// The dataset entry point (glimpse train's path argument) finds the scan of a Rectified layout.
TEST(DtuTest, ReadDatasetTakesARectifiedScanFolder) {
  TinyRectified t(true, true);
  const fs::path root = t.dir.path();
  const fs::path scan = root / "Rectified" / "scan9";
  EXPECT_EQ(detect_dataset_format(scan.string()), DatasetFormat::Dtu);
  for (const fs::path& path : {scan, root}) {
    SCOPED_TRACE(path.string());
    const Dataset d = read_dataset(path.string());
    EXPECT_EQ(d.format, "dtu");
    ASSERT_EQ(d.views.size(), 2u);
    EXPECT_EQ(d.views[1].name, "rect_002_3_r7000.png");
    EXPECT_EQ(d.views[1].camera.width, 400);
    EXPECT_EQ(d.views[1].mask.width(), 400);  // idrmasks found from the DTU root
  }
  // Two scans: the root alone is ambiguous.
  write_image(root / "Rectified" / "scan10" / "rect_001_3_r5000.png", 32, 24, 3, 0.6f);
  EXPECT_ERROR_CONTAINS(read_dataset(root.string()), "several scans (scan10, scan9)");
  EXPECT_EQ(read_dataset(scan.string()).views.size(), 2u);
}

TEST(DtuTest, RectifiedErrors) {
  TinyRectified t(true, false);
  DtuOptions options;
  options.scan = "scan9";
  fs::remove(t.dir.path() / "Cameras" / "00000001_cam.txt");
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options),
                        "00000001_cam.txt is missing (the camera of");
  fs::remove_all(t.dir.path() / "Cameras");
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options), "no calibration");
  options.scan = "scan10";
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options),
                        "Rectified/scan10 does not exist");
  options.scan = "scan9";
  options.light = 5;
  EXPECT_ERROR_CONTAINS(read_dtu(t.dir.path().string(), options), "no rect_XXX_5_r5000.png images");
}

// --- real scans ---
// Silhouette consistency (the visual hull test of multi-view calibration): carve a grid^3 voxel
// grid over the object sphere with every view's mask dilated by `slack` pixels, then splat the
// surviving voxels back into each view. With consistent cameras the hull's projection covers each
// mask; a camera off by more than the slack carves the hull and loses coverage in its view.
std::vector<double> silhouette_coverage(const std::vector<View>& views, const Vec3<double>& center,
                                        double radius, int grid, int slack) {
  const int w = views[0].camera.width, h = views[0].camera.height;
  auto at = [w](int x, int y) { return static_cast<size_t>(y) * w + x; };
  std::vector<std::vector<uint8_t>> dilated(views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    std::vector<uint8_t> rows(static_cast<size_t>(w) * h, 0), out(rows.size(), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (views[i].mask.at(x, y) > 0.5f)
          for (int k = std::max(0, x - slack); k <= std::min(w - 1, x + slack); ++k)
            rows[at(k, y)] = 1;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (rows[at(x, y)])
          for (int k = std::max(0, y - slack); k <= std::min(h - 1, y + slack); ++k)
            out[at(x, k)] = 1;
    dilated[i] = std::move(out);
  }
  // Projects p; returns its depth (<= 0 when behind the camera).
  auto project = [](const Camera& c, const Vec3<double>& p, double& u, double& v) {
    const Vec3<double> q = c.cam_from_world(p);
    if (q.z <= 0) return 0.0;
    u = c.fx * q.x / q.z + c.cx;
    v = c.fy * q.y / q.z + c.cy;
    return q.z;
  };
  const double voxel = 2 * radius / grid;
  std::vector<Vec3<double>> hull;
  for (int k = 0; k < grid; ++k)
    for (int j = 0; j < grid; ++j)
      for (int i = 0; i < grid; ++i) {
        const Vec3<double> p =
            center + Vec3<double>((i + 0.5) * voxel - radius, (j + 0.5) * voxel - radius,
                                  (k + 0.5) * voxel - radius);
        // Outside a view's frame says nothing (the object may leave the image): only a
        // projection inside the frame and outside the dilated mask carves.
        bool keep = true;
        for (size_t n = 0; n < views.size() && keep; ++n) {
          double u = 0, v = 0;
          if (project(views[n].camera, p, u, v) <= 0) keep = false;
          if (keep && u >= 0 && v >= 0 && u < w && v < h)
            keep = dilated[n][at(static_cast<int>(u), static_cast<int>(v))] != 0;
        }
        if (keep) hull.push_back(p);
      }
  std::vector<double> coverage;
  for (const View& view : views) {
    std::vector<uint8_t> painted(static_cast<size_t>(w) * h, 0);
    for (const Vec3<double>& p : hull) {
      double u = 0, v = 0;
      const double z = project(view.camera, p, u, v);
      // Half the projected voxel diagonal.
      const int r = static_cast<int>(std::lround(view.camera.fx * voxel * 0.5 / z));
      const int x0 = static_cast<int>(u), y0 = static_cast<int>(v);
      for (int y = std::max(0, y0 - r); y <= std::min(h - 1, y0 + r); ++y)
        for (int x = std::max(0, x0 - r); x <= std::min(w - 1, x0 + r); ++x) painted[at(x, y)] = 1;
    }
    double mask = 0, covered = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (view.mask.at(x, y) > 0.5f) mask += 1, covered += painted[at(x, y)];
    coverage.push_back(covered / mask);
  }
  return coverage;
}

void check_real_scan(const std::string& scan, bool check_sensitivity) {
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set (real DTU scans)";
  const fs::path root = data / "dtu";
  ASSERT_TRUE(fs::exists(root / scan / "cameras_sphere.npz")) << (root / scan) << " is missing";
  DtuOptions options;
  options.scan = scan;
  options.masks = DtuMasks::kRequired;
  const DtuScene scene = read_dtu_scene(root.string(), options);
  const Dataset& d = scene.dataset;
  ASSERT_EQ(d.views.size(), 49u);
  EXPECT_EQ(d.format, "dtu");
  EXPECT_TRUE(scene.has_scale_mat);
  EXPECT_GT(scene.radius, 150.0);
  EXPECT_LT(scene.radius, 350.0);
  EXPECT_GT(d.near_depth, 100.0);
  EXPECT_LT(d.far_depth, 1500.0);
  double worst = 0, sum = 0;
  for (size_t i = 0; i < d.views.size(); ++i) {
    const View& v = d.views[i];
    SCOPED_TRACE(v.image_path);
    EXPECT_EQ(scene.view_ids[i], static_cast<int>(i));
    check_camera(v.camera, v.image_path);
    ASSERT_EQ(v.image.width(), 400);
    ASSERT_EQ(v.image.height(), 300);
    ASSERT_EQ(v.mask.width(), 400);
    ASSERT_EQ(v.mask.height(), 300);
    // The object centre (scale_mat's) projects near the centroid of the object mask.
    double sx = 0, sy = 0, n = 0;
    for (int y = 0; y < 300; ++y)
      for (int x = 0; x < 400; ++x)
        if (v.mask.at(x, y) > 0.5f) sx += x + 0.5, sy += y + 0.5, n += 1;
    ASSERT_GT(n, 400 * 300 * 0.02) << "the mask is nearly empty";
    const Vec3<double> q = v.camera.cam_from_world(scene.center);
    ASSERT_GT(q.z, 0);
    const double u = v.camera.fx * q.x / q.z + v.camera.cx;
    const double w = v.camera.fy * q.y / q.z + v.camera.cy;
    const double dist = std::hypot(u - sx / n, w - sy / n);
    // The sphere centre is not the silhouette's centroid: measured mean 27 / 20 px, worst 49 / 48
    // px (scan24 / scan37), so 60 px; a wrong intrinsics scale or pose convention is far off.
    EXPECT_LT(dist, 60.0) << "projected centre (" << u << ", " << w << "), mask centroid ("
                          << sx / n << ", " << sy / n << ")";
    worst = std::max(worst, dist);
    sum += dist;
    // The whole sphere lies within [near, far] for every camera.
    const double depth = norm(v.camera.center() - scene.center);
    EXPECT_GE(depth - scene.radius, d.near_depth - 1e-9);
    EXPECT_LE(depth + scene.radius, d.far_depth + 1e-9);
  }
  // The strong check: all 49 cameras agree on one visual hull (measured min coverage 0.9999 on
  // scan24 and 0.9995 on scan37; one camera's cx off by 8 px drops it to 0.989 / 0.982).
  const std::vector<double> coverage =
      silhouette_coverage(d.views, scene.center, scene.radius, 128, 1);
  const double min_coverage = *std::min_element(coverage.begin(), coverage.end());
  for (size_t i = 0; i < coverage.size(); ++i) {
    EXPECT_GE(coverage[i], 0.995) << d.views[i].image_path << ": the visual hull of all views "
                                  << "covers only " << coverage[i] << " of its mask";
  }
  if (check_sensitivity) {
    std::vector<View> shifted = d.views;
    shifted[10].camera.cx += 12;  // 3% of the width
    const std::vector<double> bad =
        silhouette_coverage(shifted, scene.center, scene.radius, 128, 1);
    EXPECT_LT(*std::min_element(bad.begin(), bad.end()), 0.995)
        << "the silhouette check does not notice a camera 12 px off";
  }
  std::printf(
      "%s: mask centroid vs projected sphere centre: mean %.1f px, worst %.1f px; visual hull "
      "covers >= %.4f of every mask; near %.1f far %.1f radius %.1f\n",
      scan.c_str(), sum / 49, worst, min_coverage, d.near_depth, d.far_depth, scene.radius);
}

TEST(DtuTest, RealScan24) { check_real_scan("scan24", true); }
TEST(DtuTest, RealScan37) { check_real_scan("scan37", false); }

}  // namespace
}  // namespace glimpse
