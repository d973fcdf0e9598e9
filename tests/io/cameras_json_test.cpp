// cameras.json writer and reader: the reference schema checked on hand-computed poses (key order,
// camera-to-world rotation, camera centre), round trips of random poses, a file in the exact
// INRIA form (no cx/cy) and the validation messages.
#include "io/cameras_json.h"

#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {

using testing::TempDir;

View make_view(const std::string& name, const Mat3<double>& rotation,
               const Vec3<double>& translation) {
  View v;
  v.name = name;
  v.camera.width = 640;
  v.camera.height = 480;
  v.camera.fx = 500.5;
  v.camera.fy = 499.25;
  v.camera.cx = 321.0;
  v.camera.cy = 238.5;
  v.camera.rotation = rotation;
  v.camera.translation = translation;
  return v;
}

nlohmann::ordered_json write_and_parse(const std::vector<View>& views) {
  std::ostringstream out;
  write_cameras_json(out, views);
  return nlohmann::ordered_json::parse(out.str());
}

std::vector<CamerasJsonEntry> parse_entries(const std::string& text,
                                            const std::string& what = "cameras.json") {
  std::istringstream in(text);
  return read_cameras_json_entries(in, what);
}

TEST(CamerasJson, IdentityRotationGivesMinusTranslationAsPosition) {
  const auto j =
      write_and_parse({make_view("image000.png", Mat3<double>::identity(), {1.0, 2.0, -3.0})});
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  const auto& e = j[0];
  // Keys in the reference order, then ours under "glimpse" (not top-level "cx"/"cy", which
  // schema readers could misread).
  std::vector<std::string> keys;
  for (const auto& [key, value] : e.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "img_name", "width", "height", "position",
                                            "rotation", "fy", "fx", "glimpse"}));
  EXPECT_EQ(e["id"], 0);
  EXPECT_EQ(e["img_name"], "image000");
  EXPECT_EQ(e["width"], 640);
  EXPECT_EQ(e["height"], 480);
  EXPECT_EQ(e["position"], (std::vector<double>{-1.0, -2.0, 3.0}));
  EXPECT_EQ(e["rotation"], (std::vector<std::vector<double>>{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}));
  EXPECT_EQ(e["fx"], 500.5);
  EXPECT_EQ(e["fy"], 499.25);
  EXPECT_EQ(e["glimpse"]["cx"], 321.0);
  EXPECT_EQ(e["glimpse"]["cy"], 238.5);
  // Files of earlier Glimpse versions (top-level cx, cy) still read.
  std::istringstream old_style(R"([{"id": 0, "img_name": "a", "width": 640, "height": 480,
    "position": [0, 0, 0], "rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "fy": 500, "fx": 500,
    "cx": 300.5, "cy": 200.25}])");
  const Camera c = read_cameras_json(old_style, "old.json").at(0);
  EXPECT_EQ(c.cx, 300.5);
  EXPECT_EQ(c.cy, 200.25);
}

TEST(CamerasJson, RotationIsCameraToWorldRowMajor) {
  // cam_from_world: 90 degrees about z (world x -> camera y), translation (1, 0, 0).
  Mat3<double> r;
  r.m[0][1] = -1;
  r.m[1][0] = 1;
  r.m[2][2] = 1;
  const auto j = write_and_parse({make_view("a/b/frame_07.JPG", r, {1.0, 0.0, 0.0})});
  const auto& e = j[0];
  EXPECT_EQ(e["img_name"], "frame_07");
  // rotation = R^T (camera-to-world), rows as nested arrays.
  EXPECT_EQ(e["rotation"], (std::vector<std::vector<double>>{{0, 1, 0}, {-1, 0, 0}, {0, 0, 1}}));
  // position = -R^T t = -(0, -1, 0).
  EXPECT_EQ(e["position"], (std::vector<double>{0.0, 1.0, 0.0}));
  // The camera's +z axis in world coordinates is the third column of camera-to-world.
  EXPECT_EQ(e["rotation"][2][2], 1.0);
}

TEST(CamerasJson, RoundTripsRandomPoses) {
  std::mt19937 rng(5);
  std::normal_distribution<double> n01;
  std::vector<View> views;
  for (int i = 0; i < 6; ++i) {
    Quat<double> q(n01(rng), n01(rng), n01(rng), n01(rng));
    const double norm = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
    q = Quat<double>(q.w / norm, q.x / norm, q.y / norm, q.z / norm);
    views.push_back(make_view("view" + std::to_string(i) + ".png", quat_to_rotmat(q),
                              {n01(rng), n01(rng), 5.0 * n01(rng)}));
    views.back().camera.cx += i;
  }
  TempDir dir;
  const std::string path = dir.file("cameras.json");
  write_cameras_json(path, views);
  const std::vector<CamerasJsonEntry> entries = read_cameras_json_entries(path);
  const std::vector<Camera> cameras = read_cameras_json(path);
  ASSERT_EQ(entries.size(), views.size());
  ASSERT_EQ(cameras.size(), views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    const Camera& a = views[i].camera;
    const Camera& b = cameras[i];
    EXPECT_EQ(entries[i].id, static_cast<int>(i));
    EXPECT_EQ(entries[i].img_name, "view" + std::to_string(i));
    EXPECT_EQ(b.width, a.width);
    EXPECT_EQ(b.height, a.height);
    EXPECT_EQ(b.fx, a.fx);
    EXPECT_EQ(b.fy, a.fy);
    EXPECT_EQ(b.cx, a.cx);
    EXPECT_EQ(b.cy, a.cy);
    for (int r = 0; r < 3; ++r) {
      EXPECT_NEAR(b.translation[r], a.translation[r], 1e-12) << "view " << i;
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(b.rotation.m[r][c], a.rotation.m[r][c]) << "view " << i;  // transposed twice
    }
  }
  // Empty list.
  write_cameras_json(path, {});
  EXPECT_TRUE(read_cameras_json(path).empty());
}

TEST(CamerasJson, ReadsTheReferenceFormWithoutPrincipalPoint) {
  // As INRIA's train.py writes it (json.dump of camera_to_JSON): no cx, cy; floats for fx, fy.
  const std::string text =
      R"([{"id": 3, "img_name": "DSC00001", "width": 800, "height": 600, )"
      R"("position": [0.0, 0.0, -4.0], "rotation": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], )"
      R"([0.0, 0.0, 1.0]], "fy": 700.0000000000001, "fx": 699.9999999999999}])";
  const auto entries = parse_entries(text);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, 3);
  EXPECT_EQ(entries[0].img_name, "DSC00001");
  const Camera& c = entries[0].camera;
  EXPECT_EQ(c.cx, 400.0);
  EXPECT_EQ(c.cy, 300.0);
  EXPECT_EQ(c.fx, 699.9999999999999);
  EXPECT_EQ(c.fy, 700.0000000000001);
  // Camera at z = -4 looking down +z: p_in_cam = p + (0, 0, 4).
  EXPECT_EQ(c.translation.z, 4.0);
  EXPECT_EQ(c.center().z, -4.0);
}

TEST(CamerasJson, InvalidFilesNameTheEntryAndProblem) {
  const std::string entry0 =
      R"({"id": 0, "img_name": "a", "width": 4, "height": 3, "position": [0, 0, 0], )"
      R"("rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "fy": 2, "fx": 2})";
  auto with = [&](const std::string& from, const std::string& to) {
    std::string e = entry0;
    const size_t at = e.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    e.replace(at, from.size(), to);
    e[e.find("\"a\"") + 1] = 'b';
    return "[" + entry0 + ", " + e + "]";
  };
  EXPECT_EQ(parse_entries("[" + entry0 + "]").size(), 1u);
  EXPECT_ERROR_CONTAINS(parse_entries(with(", \"fx\": 2", ""), "c.json"),
                        "c.json: entry 1 ('b'): missing key \"fx\"");
  EXPECT_ERROR_CONTAINS(parse_entries(with("\"width\": 4", "\"width\": \"4\""), "c.json"),
                        "entry 1 ('b'): \"width\" must be an integer");
  EXPECT_ERROR_CONTAINS(parse_entries(with("\"width\": 4", "\"width\": 0"), "c.json"),
                        "entry 1 ('b'): image size must be positive");
  EXPECT_ERROR_CONTAINS(
      parse_entries(with("\"position\": [0, 0, 0]", "\"position\": [0, 0]"), "c.json"),
      "entry 1 ('b'): \"position\" must be an array of 3 numbers");
  EXPECT_ERROR_CONTAINS(parse_entries(with("[0, 1, 0]", "[0, 2, 0]"), "c.json"),
                        "entry 1 ('b'): rotation is not orthonormal");
  EXPECT_ERROR_CONTAINS(parse_entries(with("[0, 0, 1]]", "[0, 0, -1]]"), "c.json"),
                        "entry 1 ('b'): rotation has determinant");
  EXPECT_ERROR_CONTAINS(parse_entries(with("\"fy\": 2", "\"fy\": -2"), "c.json"),
                        "focal lengths must be positive");
  EXPECT_ERROR_CONTAINS(parse_entries(with("[[1, 0, 0], ", "["), "c.json"),
                        "\"rotation\" must be 3 rows of 3 numbers");
  EXPECT_ERROR_CONTAINS(parse_entries("[1, 2]", "c.json"), "c.json: entry 0 must be an object");
  EXPECT_ERROR_CONTAINS(parse_entries(entry0, "c.json"),
                        "c.json: expected a JSON array of cameras");
  EXPECT_ERROR_CONTAINS(parse_entries("[{", "c.json"), "c.json: invalid JSON");

  TempDir dir;
  EXPECT_ERROR_CONTAINS(read_cameras_json(dir.file("none.json")), "none.json: file does not exist");
}

TEST(CamerasJson, WriterRejectsBadCamerasAndLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.file("cameras.json");
  std::vector<View> views = {make_view("ok.png", Mat3<double>::identity(), {0, 0, 0}),
                             make_view("bad.png", Mat3<double>::identity(), {0, 0, 0})};
  views[1].camera.fx = std::nan("");
  EXPECT_ERROR_CONTAINS(write_cameras_json(path, views),
                        "cameras.json: view 1 ('bad.png'): focal lengths must be positive");
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace glimpse
