// transforms.json reader: OpenGL -> OpenCV pose conversion on hand-made Blender and instant-ngp
// files, intrinsics (camera_angle_x, fl_x.., distortion), RGBA flattening, the Blender train/test
// split, every error path and, with GLIMPSE_DATA_DIR, the real instant-ngp fox scene.
#include "io/transforms_json.h"

#include "io/dataset_reader.h"
#include "io/image_io.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::vector<TransformsFrame> parse(const std::string& text, const std::string& what = "t.json") {
  std::istringstream in(text);
  return parse_transforms_json(in, what);
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Blender: a camera at (0, 0, 4) with the identity camera-to-world rotation looks down -z (OpenGL),
// i.e. at the origin; a camera at (4, 0, 0) looks at the origin with world +z up.
const char* kBlender = R"({
  "camera_angle_x": 0.6911112070083618,
  "frames": [
    {"file_path": "./train/r_0", "rotation": 0.012,
     "transform_matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 4], [0, 0, 0, 1]]},
    {"file_path": "./train/r_1",
     "transform_matrix": [[0, 0, 1, 4], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]}
  ]
})";

TEST(TransformsJson, BlenderPosesBecomeOpenCvCameras) {
  const std::vector<TransformsFrame> frames = parse(kBlender);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].file_path, "./train/r_0");

  // Identity OpenGL camera-to-world -> OpenCV cam_from_world diag(1, -1, -1), t = (0, 0, 4).
  Camera c0;
  c0.rotation = frames[0].rotation;
  c0.translation = frames[0].translation;
  const double expected[3][3] = {{1, 0, 0}, {0, -1, 0}, {0, 0, -1}};
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) EXPECT_EQ(c0.rotation.m[r][k], expected[r][k]) << r << k;
  EXPECT_EQ(c0.translation.x, 0.0);
  EXPECT_EQ(c0.translation.y, 0.0);
  EXPECT_EQ(c0.translation.z, 4.0);
  const Vec3<double> centre = c0.center();
  EXPECT_EQ(centre.z, 4.0);
  // The origin is in front (z > 0), on the optical axis; world +y (up in OpenGL) is image-up,
  // i.e. negative y in the OpenCV frame.
  const Vec3<double> origin = c0.cam_from_world({0, 0, 0});
  EXPECT_EQ(origin.x, 0.0);
  EXPECT_EQ(origin.y, 0.0);
  EXPECT_EQ(origin.z, 4.0);
  EXPECT_LT(c0.cam_from_world({0, 1, 0}).y, 0.0);
  EXPECT_GT(c0.cam_from_world({1, 0, 0}).x, 0.0);

  Camera c1;
  c1.rotation = frames[1].rotation;
  c1.translation = frames[1].translation;
  EXPECT_NO_THROW(check_camera(
      [&] {
        Camera c = c1;
        c.width = c.height = 1;
        return c;
      }(),
      "frame 1"));
  const Vec3<double> centre1 = c1.center();
  EXPECT_NEAR(centre1.x, 4.0, 1e-15);
  EXPECT_NEAR(centre1.y, 0.0, 1e-15);
  EXPECT_NEAR(centre1.z, 0.0, 1e-15);
  const Vec3<double> o1 = c1.cam_from_world({0, 0, 0});
  EXPECT_NEAR(o1.x, 0.0, 1e-15);
  EXPECT_NEAR(o1.y, 0.0, 1e-15);
  EXPECT_NEAR(o1.z, 4.0, 1e-15);
  EXPECT_LT(c1.cam_from_world({0, 0, 1}).y, 0.0);  // world up is image up

  // camera_angle_x: fx = fy = 0.5 w / tan(0.5 angle_x), principal point at the centre.
  const ColmapCamera k = transforms_camera(frames[0].intrinsics, 800, 800, "frame 0");
  EXPECT_EQ(k.model, ColmapCameraModel::kPinhole);
  const double f = 400 / std::tan(0.5 * 0.6911112070083618);
  EXPECT_NEAR(f, 1111.111, 1e-3);
  EXPECT_EQ(k.params, (std::vector<double>{f, f, 400, 400}));
}

const char* kInstantNgp = R"({
  "camera_angle_x": 0.7,
  "fl_x": 1375.5, "fl_y": 1374.5, "cx": 554.5, "cy": 965.25, "w": 1080.0, "h": 1920.0,
  "k1": 0.05, "k2": -0.08, "p1": -0.001, "p2": 0.0002,
  "aabb_scale": 4,
  "frames": [
    {"file_path": "images/0001.jpg", "sharpness": 31.7,
     "transform_matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 4], [0, 0, 0, 1]]},
    {"file_path": "images/0002.jpg", "fl_x": 1000, "k1": 0, "k2": 0, "p1": 0, "p2": 0,
     "transform_matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 4]]}
  ]
})";

TEST(TransformsJson, InstantNgpIntrinsicsDistortionAndPerFrameOverrides) {
  const std::vector<TransformsFrame> frames = parse(kInstantNgp);
  ASSERT_EQ(frames.size(), 2u);
  // fl_x wins over camera_angle_x; OPENCV with k1 k2 p1 p2.
  const ColmapCamera a = transforms_camera(frames[0].intrinsics, 1080, 1920, "f0");
  EXPECT_EQ(a.model, ColmapCameraModel::kOpenCV);
  EXPECT_EQ(a.width, 1080);
  EXPECT_EQ(a.params,
            (std::vector<double>{1375.5, 1374.5, 554.5, 965.25, 0.05, -0.08, -0.001, 0.0002}));
  // A half-size image scales the intrinsics, not the distortion.
  const ColmapCamera half = transforms_camera(frames[0].intrinsics, 540, 960, "f0");
  EXPECT_EQ(half.params,
            (std::vector<double>{687.75, 687.25, 277.25, 482.625, 0.05, -0.08, -0.001, 0.0002}));
  // Frame 1 overrides fl_x and the distortion (fl_y stays shared); 3x4 matrices are accepted.
  const ColmapCamera b = transforms_camera(frames[1].intrinsics, 1080, 1920, "f1");
  EXPECT_EQ(b.model, ColmapCameraModel::kPinhole);
  EXPECT_EQ(b.params, (std::vector<double>{1000, 1374.5, 554.5, 965.25}));
  EXPECT_EQ(frames[1].translation.z, 4.0);

  TransformsIntrinsics fisheye = frames[0].intrinsics;
  fisheye.p1 = fisheye.p2 = 0;
  fisheye.k3 = 0.01;
  fisheye.fisheye = true;
  const ColmapCamera f = transforms_camera(fisheye, 1080, 1920, "f");
  EXPECT_EQ(f.model, ColmapCameraModel::kOpenCVFisheye);
  EXPECT_EQ(f.params, (std::vector<double>{1375.5, 1374.5, 554.5, 965.25, 0.05, -0.08, 0.01, 0}));
  TransformsIntrinsics full = frames[0].intrinsics;
  full.k3 = 0.01;
  const ColmapCamera g = transforms_camera(full, 1080, 1920, "g");
  EXPECT_EQ(g.model, ColmapCameraModel::kFullOpenCV);
  EXPECT_EQ(g.params, (std::vector<double>{1375.5, 1374.5, 554.5, 965.25, 0.05, -0.08, -0.001,
                                           0.0002, 0.01, 0, 0, 0}));
  // Without fl_y, camera_angle_y gives fy; without both, fy = fx.
  TransformsIntrinsics angles;
  angles.camera_angle_x = 2 * std::atan(0.5);
  angles.camera_angle_y = 2 * std::atan(0.25);
  const ColmapCamera h = transforms_camera(angles, 100, 50, "h");
  EXPECT_NEAR(h.params[0], 100, 1e-12);
  EXPECT_NEAR(h.params[1], 100, 1e-12);
  const std::vector<TransformsFrame> fisheye_frames =
      parse(R"({"camera_model": "OPENCV_FISHEYE", "fl_x": 10, "frames": [
                {"file_path": "a", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]}]})");
  EXPECT_TRUE(fisheye_frames[0].intrinsics.fisheye);
}

TEST(TransformsJson, ErrorsNameTheFileAndFrame) {
  const std::string identity = R"([[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]])";
  EXPECT_ERROR_CONTAINS(parse("{\"frames\": [", "scene/transforms.json"),
                        "scene/transforms.json: invalid JSON");
  EXPECT_ERROR_CONTAINS(parse("{}"), "t.json: \"frames\" is missing or not a list");
  EXPECT_ERROR_CONTAINS(parse(R"({"frames": []})"), "t.json: \"frames\" is empty");
  EXPECT_ERROR_CONTAINS(parse(R"({"frames": [{"file_path": "a", "transform_matrix": )" + identity +
                              R"(}, {"file_path": "b"}]})"),
                        "t.json frame 1 (\"b\"): \"transform_matrix\" is missing or not a list");
  EXPECT_ERROR_CONTAINS(parse(R"({"frames": [{"transform_matrix": )" + identity + "}]}"),
                        "t.json frame 0: \"file_path\" is missing or not a string");
  EXPECT_ERROR_CONTAINS(
      parse(R"({"frames": [{"file_path": "a", "transform_matrix": [[1,0,0,0],[0,1,0,0]]}]})"),
      "t.json frame 0 (\"a\"): \"transform_matrix\" must have 4 (or 3) rows, has 2");
  EXPECT_ERROR_CONTAINS(
      parse(
          R"({"frames": [{"file_path": "a", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,"x"]]}]})"),
      "\"transform_matrix\"[2][3] is not a number");
  EXPECT_ERROR_CONTAINS(
      parse(
          R"({"frames": [{"file_path": "a", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,1,1]]}]})"),
      "the last row of \"transform_matrix\" must be 0 0 0 1");
  EXPECT_ERROR_CONTAINS(
      parse(R"({"fl_x": "500", "frames": [{"file_path": "a", "transform_matrix": )" + identity +
            "}]}"),
      "t.json: \"fl_x\" must be a number");
  EXPECT_ERROR_CONTAINS(parse(R"({"camera_model": "EQUIRECTANGULAR", "frames": [{"file_path": "a",
              "transform_matrix": )" +
                              identity + "}]}"),
                        "unsupported \"camera_model\": \"EQUIRECTANGULAR\"");

  const TransformsIntrinsics none;
  EXPECT_ERROR_CONTAINS(transforms_camera(none, 10, 10, "t.json frame 2"),
                        "t.json frame 2: no focal length");
  TransformsIntrinsics sized;
  sized.fl_x = 10;
  sized.w = 100;
  sized.h = 50;
  EXPECT_ERROR_CONTAINS(transforms_camera(sized, 100, 100, "t.json frame 3"),
                        "t.json frame 3: image is 100x100 but the file says w x h = 100x50");
  TransformsIntrinsics wide;
  wide.camera_angle_x = 4.0;
  EXPECT_ERROR_CONTAINS(transforms_camera(wide, 10, 10, "f"), "must be a field of view in (0, pi)");
  TransformsOptions bad;
  bad.downscale = 0;
  EXPECT_ERROR_CONTAINS(bad.check(), "downscale must be >= 1");
}

// An RGBA PNG (cv::imwrite takes BGRA): left half opaque (r, g, b), right half transparent.
void write_rgba(const fs::path& path, int w, int h, uchar r, uchar g, uchar b) {
  fs::create_directories(path.parent_path());
  cv::Mat m(h, w, CV_8UC4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec4b>(y, x) = {b, g, r, uchar(x < w / 2 ? 255 : 0)};
  ASSERT_TRUE(cv::imwrite(path.string(), m)) << path;
}

std::string blender_json(const std::vector<std::string>& paths) {
  std::string s = R"({"camera_angle_x": 0.9272952180016122, "frames": [)";
  for (size_t i = 0; i < paths.size(); ++i) {
    s += std::string(i ? "," : "") + R"({"file_path": ")" + paths[i] +
         R"(", "transform_matrix": [[1,0,0,0],[0,1,0,0],[0,0,1,)" + std::to_string(3 + i) +
         "],[0,0,0,1]]}";
  }
  return s + "]}";
}

TEST(TransformsJson, BlenderFolderReadsTrainAndTestSplits) {
  TempDir dir;
  write_rgba(dir.path() / "train" / "r_0.png", 8, 6, 255, 0, 0);
  write_rgba(dir.path() / "train" / "r_1.png", 8, 6, 0, 255, 0);
  write_rgba(dir.path() / "test" / "r_0.png", 8, 6, 0, 0, 255);
  write_text(dir.path() / "transforms_train.json", blender_json({"./train/r_0", "./train/r_1"}));
  write_text(dir.path() / "transforms_test.json", blender_json({"./test/r_0"}));
  write_text(dir.path() / "transforms_val.json", "not read");

  const Dataset d = read_transforms_json(dir.path().string());
  EXPECT_EQ(d.format, "blender");
  EXPECT_EQ(d.root, dir.path().string());
  ASSERT_EQ(d.views.size(), 3u);
  EXPECT_EQ(d.train_ids, (std::vector<int>{0, 1}));
  EXPECT_EQ(d.test_ids, (std::vector<int>{2}));
  EXPECT_EQ(d.views[0].name, "train/r_0.png");
  EXPECT_EQ(d.views[2].name, "test/r_0.png");
  EXPECT_EQ(d.views[2].image_path, (dir.path() / "./test/r_0.png").string());
  EXPECT_EQ(d.views[0].camera.translation.z, 3.0);
  EXPECT_EQ(d.views[1].camera.translation.z, 4.0);
  // camera_angle_x = 2 atan(0.5): fx = 0.5 * 8 / 0.5.
  EXPECT_NEAR(d.views[0].camera.fx, 8.0, 1e-12);
  EXPECT_NEAR(d.views[0].camera.fy, 8.0, 1e-12);
  EXPECT_EQ(d.views[0].camera.cx, 4.0);
  EXPECT_EQ(d.views[0].camera.cy, 3.0);
  EXPECT_EQ(d.near_depth, 0.0);
  // Opaque pixels keep their colour, transparent ones become white; no mask (already flattened).
  const View& v = d.views[0];
  ASSERT_EQ(v.image.width(), 8);
  EXPECT_TRUE(v.mask.empty());
  EXPECT_EQ(v.image.at(1, 1, 0), 1.f);
  EXPECT_EQ(v.image.at(1, 1, 1), 0.f);
  EXPECT_EQ(v.image.at(6, 1, 1), 1.f);
  EXPECT_EQ(d.views[2].image.at(1, 1, 2), 1.f);
  EXPECT_EQ(d.views[2].image.at(1, 1, 0), 0.f);

  TransformsOptions black;
  black.background = AlphaBackground::kBlack;
  black.downscale = 2;
  const Dataset b = read_transforms_json(dir.path().string(), black);
  EXPECT_EQ(b.views[0].image.width(), 4);
  EXPECT_EQ(b.views[0].image.height(), 3);
  EXPECT_TRUE(b.views[0].mask.empty());
  EXPECT_NEAR(b.views[0].camera.fx, 4.0, 1e-12);
  EXPECT_EQ(b.views[0].camera.cx, 2.0);
  EXPECT_EQ(b.views[0].image.at(3, 1, 1), 0.f);  // transparent on black
  EXPECT_EQ(b.views[0].image.at(0, 1, 0), 1.f);  // opaque red stays red

  // kMask: the stored colour (green here, also under alpha 0) and the alpha as the mask.
  TransformsOptions mask;
  mask.background = AlphaBackground::kMask;
  const Dataset k = read_transforms_json(dir.path().string(), mask);
  const View& g = k.views[1];
  ASSERT_EQ(g.mask.width(), 8);
  EXPECT_EQ(g.mask.at(1, 1), 1.f);
  EXPECT_EQ(g.mask.at(6, 1), 0.f);
  EXPECT_EQ(g.image.at(6, 1, 1), 1.f);
  EXPECT_EQ(g.image.at(6, 1, 0), 0.f);

  // A single split file is read on its own, without a split.
  const Dataset t = read_transforms_json((dir.path() / "transforms_test.json").string());
  ASSERT_EQ(t.views.size(), 1u);
  EXPECT_TRUE(t.train_ids.empty());
}

TEST(TransformsJson, DistortedImagesAreUndistortedToPinhole) {
  TempDir dir;
  fs::create_directories(dir.path() / "images");
  write_png(dir.file("images/0001.png"), Image<float>(40, 30, 3, 0.6f));
  write_text(dir.path() / "transforms.json", R"({
    "fl_x": 30, "fl_y": 31, "cx": 20, "cy": 15, "w": 40, "h": 30, "k1": -0.2, "p2": 0.001,
    "frames": [{"file_path": "images/0001.png",
                "transform_matrix": [[1,0,0,1],[0,1,0,2],[0,0,1,3],[0,0,0,1]]}]})");
  const Dataset d = read_transforms_json(dir.path().string());
  EXPECT_EQ(d.format, "transforms");
  ASSERT_EQ(d.views.size(), 1u);
  const View& v = d.views[0];
  EXPECT_EQ(v.name, "images/0001.png");
  EXPECT_EQ(v.camera.fx, 30.0);
  EXPECT_EQ(v.camera.fy, 31.0);
  EXPECT_EQ(v.camera.cx, 20.0);
  EXPECT_EQ(v.camera.cy, 15.0);
  EXPECT_TRUE(v.mask.empty());  // no alpha channel
  EXPECT_NEAR(v.image.at(20, 15, 0), 153.f / 255.f, 1e-6);
  // The same pinhole camera without loading images (w and h size it).
  TransformsOptions o;
  o.load_images = false;
  const Dataset n = read_transforms_json((dir.path() / "transforms.json").string(), o);
  EXPECT_TRUE(n.views[0].image.empty());
  EXPECT_EQ(n.views[0].camera.width, 40);
  EXPECT_EQ(n.views[0].camera.fx, 30.0);
  const Vec3<double> centre = n.views[0].camera.center();
  EXPECT_NEAR(centre.x, 1.0, 1e-15);
  EXPECT_NEAR(centre.y, 2.0, 1e-15);
  EXPECT_NEAR(centre.z, 3.0, 1e-15);
}

TEST(TransformsJson, DistortionThatMapsTheImageOutsideItselfIsRefused) {
  TempDir dir;
  fs::create_directories(dir.path() / "images");
  write_png(dir.file("images/0001.png"), Image<float>(40, 30, 3, 0.6f));
  const std::string frames = R"("frames": [{"file_path": "images/0001.png",
      "transform_matrix": [[1,0,0,1],[0,1,0,2],[0,0,1,3],[0,0,0,1]]}]})";
  // "k1": 1e6 made every image black while the run "reached" 47 dB with exit 0.
  write_text(
      dir.path() / "transforms.json",
      R"({"fl_x": 30, "fl_y": 30, "cx": 20, "cy": 15, "w": 40, "h": 30, "k1": 1e6, )" + frames);
  for (const bool load : {true, false}) {
    TransformsOptions o;
    o.load_images = load;
    const std::string msg =
        testing::error_message([&] { read_transforms_json(dir.path().string(), o); });
    EXPECT_NE(msg.find(dir.file("transforms.json") + " frame 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("of the image outside itself"), std::string::npos) << msg;
    EXPECT_NE(msg.find("OPENCV (30, 30, 20, 15, 1e+06, 0, 0, 0)"), std::string::npos) << msg;
  }
  // Strong barrel distortion whose polynomial turns back inside the frame: a fold.
  write_text(
      dir.path() / "transforms.json",
      R"({"fl_x": 30, "fl_y": 30, "cx": 20, "cy": 15, "w": 40, "h": 30, "k1": -0.9, )" + frames);
  EXPECT_ERROR_CONTAINS(read_transforms_json(dir.path().string()),
                        "folds the image back on itself");
  // Ordinary distortion passes.
  write_text(
      dir.path() / "transforms.json",
      R"({"fl_x": 30, "fl_y": 30, "cx": 20, "cy": 15, "w": 40, "h": 30, "k1": -0.1, )" + frames);
  EXPECT_NO_THROW(read_transforms_json(dir.path().string()));
}

TEST(TransformsJson, MissingFilesAreErrors) {
  TempDir dir;
  write_text(dir.path() / "transforms.json", blender_json({"./train/r_0", "./train/r_9"}));
  write_rgba(dir.path() / "train" / "r_0.png", 4, 4, 1, 2, 3);
  EXPECT_ERROR_CONTAINS(
      read_transforms_json(dir.path().string()),
      (dir.path() / "transforms.json").string() +
          " frame 1 (\"./train/r_9\"): image not found: " + (dir.path() / "./train/r_9").string() +
          " does not exist, with or without a .png/.jpg/.jpeg extension");
  EXPECT_ERROR_CONTAINS(read_transforms_json(dir.file("missing.json")),
                        "missing.json: file does not exist");
  TempDir empty;
  EXPECT_ERROR_CONTAINS(read_transforms_json(empty.path().string()),
                        "holds neither transforms.json nor transforms_train.json");
}

// [SECTION] real data (GLIMPSE_DATA_DIR)
// ---------------------------------------------------------------

TEST(TransformsJsonReal, FoxCamerasLookAtTheFox) {
  if (testing::data_dir().empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set";
  const fs::path fox = testing::data_dir() / "nerf_fox" / "fox";
  TransformsOptions cameras_only;
  cameras_only.load_images = false;
  const Dataset d = read_transforms_json(fox.string(), cameras_only);
  EXPECT_EQ(d.format, "transforms");
  ASSERT_EQ(d.views.size(), 67u);
  EXPECT_EQ(d.views[0].name, "images/0001.jpg");
  for (const View& v : d.views) {
    EXPECT_NO_THROW(check_camera(v.camera, v.name));
    EXPECT_EQ(v.camera.width, 1080) << v.name;
    EXPECT_EQ(v.camera.height, 1920) << v.name;
    EXPECT_EQ(v.camera.fx, 1375.52);
    EXPECT_EQ(v.camera.cx, 554.558);
    EXPECT_TRUE(fs::is_regular_file(v.image_path)) << v.image_path;
  }
  // The cameras circle the fox: the point nearest to all optical axes lies in front of every
  // camera (it would be behind all of them without the OpenGL -> OpenCV flip) and projects into
  // nearly every image.
  Vec3<double> target;
  ASSERT_TRUE(optical_axes_center(d.views, target));
  size_t inside = 0;
  for (const View& v : d.views) {
    const Vec3<double> p = v.camera.cam_from_world(target);
    EXPECT_GT(p.z, 0.0) << v.name;
    // The estimated bounds hold the point the cameras look at.
    EXPECT_GT(p.z, d.near_depth) << v.name;
    EXPECT_LT(p.z, d.far_depth) << v.name;
    const double x = v.camera.fx * p.x / p.z + v.camera.cx;
    const double y = v.camera.fy * p.y / p.z + v.camera.cy;
    if (x >= 0 && x <= v.camera.width && y >= 0 && y <= v.camera.height) ++inside;
  }
  EXPECT_GE(inside, d.views.size() * 9 / 10);

  // Images: loaded, undistorted (OPENCV k1 k2 p1 p2) and downscaled by 4 (through the dataset
  // entry point `glimpse train --downscale` uses).
  DatasetReadOptions quarter;
  quarter.downscale = 4;
  const Dataset q = read_dataset(fox.string(), quarter);
  ASSERT_EQ(q.views.size(), 67u);
  for (size_t i = 0; i < q.views.size(); ++i) {
    const View& v = q.views[i];
    ASSERT_EQ(v.image.width(), 270) << v.name;
    ASSERT_EQ(v.image.height(), 480) << v.name;
    EXPECT_EQ(v.camera.width, 270);
    EXPECT_NEAR(v.camera.fx, 1375.52 / 4, 1e-9);
    EXPECT_EQ(v.camera.rotation.m[0][0], d.views[i].camera.rotation.m[0][0]);
    double mean = 0;
    for (const float value : v.image.vector()) mean += value;
    mean /= static_cast<double>(v.image.size());
    EXPECT_GT(mean, 0.05) << v.name;  // a real photo, not the black of a failed remap
  }
}

}  // namespace
}  // namespace glimpse
