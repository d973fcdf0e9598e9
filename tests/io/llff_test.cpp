// LLFF reader: exact pose conversion on a synthetic scene made in code, every error path, the
// bundled demo scene (assets/demo) and, with GLIMPSE_DATA_DIR, the real fern and flower scenes.
#include "io/llff.h"

#include "io/image_io.h"
#include "io/npy.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// One poses_bounds row from an OpenCV camera-to-world rotation (columns x right, y down, z
// forward), a centre, the full-resolution (height, width, focal) and the bounds.
std::vector<double> llff_row(const Mat3<double>& c2w, const Vec3<double>& centre, double h,
                             double w, double f, double near, double far) {
  std::vector<double> row(17);
  for (int r = 0; r < 3; ++r) {
    row[r * 5 + 0] = c2w.m[r][1];   // down = y
    row[r * 5 + 1] = c2w.m[r][0];   // right = x
    row[r * 5 + 2] = -c2w.m[r][2];  // back = -z
    row[r * 5 + 3] = centre[r];
  }
  row[4] = h;
  row[9] = w;
  row[14] = f;
  row[15] = near;
  row[16] = far;
  return row;
}

Mat3<double> rotation_xyz(double ax, double ay, double az) {
  Mat3<double> rx = Mat3<double>::identity(), ry = rx, rz = rx;
  rx.m[1][1] = std::cos(ax), rx.m[1][2] = -std::sin(ax), rx.m[2][1] = std::sin(ax),
  rx.m[2][2] = std::cos(ax);
  ry.m[0][0] = std::cos(ay), ry.m[0][2] = std::sin(ay), ry.m[2][0] = -std::sin(ay),
  ry.m[2][2] = std::cos(ay);
  rz.m[0][0] = std::cos(az), rz.m[0][1] = -std::sin(az), rz.m[1][0] = std::sin(az),
  rz.m[1][1] = std::cos(az);
  return rz * ry * rx;
}

// A tiny LLFF scene: full resolution 12x8 (w x h), focal 20, images_2/ holds two 6x4 PNGs.
// Row 0 is the identity camera at (1, 2, 3); row 1 a general rotation.
class SyntheticLlff {
 public:
  SyntheticLlff() {
    rotation1_ = rotation_xyz(0.3, -0.2, 0.7);
    rows_ = llff_row(Mat3<double>::identity(), {1, 2, 3}, 8, 12, 20, 1.5, 10);
    const std::vector<double> row1 = llff_row(rotation1_, {-0.5, 0.25, 4}, 8, 12, 20, 2.0, 12);
    rows_.insert(rows_.end(), row1.begin(), row1.end());
    write_poses();
    fs::create_directories(dir_.path() / "images_2");
    // Created in reverse order: the reader must sort by name.
    write_image("images_2/img_b.png", 6, 4, 0.8f);
    write_image("images_2/img_a.png", 6, 4, 0.2f);
  }

  std::string root() const { return dir_.path().string(); }
  std::string poses_path() const { return dir_.file("poses_bounds.npy"); }
  std::vector<double>& rows() { return rows_; }
  const Mat3<double>& rotation1() const { return rotation1_; }

  void write_poses() { write_npy(poses_path(), {rows_.size() / 17, 17}, rows_); }
  void write_image(const std::string& name, int w, int h, float value) const {
    write_png(dir_.file(name), Image<float>(w, h, 3, value));
  }
  void write_text(const std::string& name, const std::string& text) const {
    std::ofstream(dir_.file(name)) << text;
  }

 private:
  TempDir dir_;
  std::vector<double> rows_;
  Mat3<double> rotation1_;
};

LlffOptions factor(int f, bool load_images = true) {
  LlffOptions o;
  o.factor = f;
  o.load_images = load_images;
  return o;
}

TEST(Llff, ConvertsPosesToOpenCvExactly) {
  SyntheticLlff scene;
  const Dataset d = read_llff(scene.root(), factor(2));
  EXPECT_EQ(d.format, "llff");
  EXPECT_EQ(d.root, scene.root());
  ASSERT_EQ(d.views.size(), 2u);
  EXPECT_EQ(d.views[0].name, "img_a.png");
  EXPECT_EQ(d.views[1].name, "img_b.png");
  EXPECT_EQ(d.views[0].image_path, (fs::path(scene.root()) / "images_2" / "img_a.png").string());
  EXPECT_DOUBLE_EQ(d.near_depth, 1.5);
  EXPECT_DOUBLE_EQ(d.far_depth, 12.0);
  EXPECT_TRUE(d.train_ids.empty());
  EXPECT_TRUE(d.test_ids.empty());

  // Row 0: columns down=(0,1,0), right=(1,0,0), back=(0,0,-1) are the identity in OpenCV.
  const Camera& c0 = d.views[0].camera;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(c0.rotation.m[i][j], i == j ? 1.0 : 0.0) << i << j;
  EXPECT_EQ(c0.translation.x, -1.0);
  EXPECT_EQ(c0.translation.y, -2.0);
  EXPECT_EQ(c0.translation.z, -3.0);
  EXPECT_EQ(c0.width, 6);
  EXPECT_EQ(c0.height, 4);
  EXPECT_DOUBLE_EQ(c0.fx, 10.0);  // focal 20 at width 12, image width 6
  EXPECT_DOUBLE_EQ(c0.fy, 10.0);
  EXPECT_DOUBLE_EQ(c0.cx, 3.0);
  EXPECT_DOUBLE_EQ(c0.cy, 2.0);

  // Row 1: cam_from_world = R^T, -R^T c.
  const Camera& c1 = d.views[1].camera;
  const Mat3<double> rt = scene.rotation1().transposed();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(c1.rotation.m[i][j], rt.m[i][j], 1e-15);
  const Vec3<double> centre = c1.center();
  EXPECT_NEAR(centre.x, -0.5, 1e-14);
  EXPECT_NEAR(centre.y, 0.25, 1e-14);
  EXPECT_NEAR(centre.z, 4.0, 1e-14);
  // A point 5 units along the camera's forward axis projects to the principal point at depth 5.
  const Vec3<double> forward(scene.rotation1().m[0][2], scene.rotation1().m[1][2],
                             scene.rotation1().m[2][2]);
  const Vec3<double> p = c1.cam_from_world(centre + forward * 5.0);
  EXPECT_NEAR(p.x, 0.0, 1e-13);
  EXPECT_NEAR(p.y, 0.0, 1e-13);
  EXPECT_NEAR(p.z, 5.0, 1e-13);

  // Images are loaded in name order.
  ASSERT_EQ(d.views[0].image.width(), 6);
  EXPECT_NEAR(d.views[0].image.at(0, 0, 0), 51.f / 255.f, 1e-6);   // 0.2 -> 51
  EXPECT_NEAR(d.views[1].image.at(5, 3, 2), 204.f / 255.f, 1e-6);  // 0.8 -> 204
}

TEST(Llff, CameraFromRowMapsLlffAxes) {
  // Camera-to-world columns: down = +z world, right = +x world, back = +y world.
  const double row[15] = {0, 1, 0, 7, 30,  //
                          0, 0, 1, 8, 40,  //
                          1, 0, 0, 9, 50};
  const Camera c = camera_from_llff_row(row, 20, 15);
  // Camera x (right) = world +x, y (down) = world +z, z (forward) = world -y.
  const Vec3<double> x = mul_transposed(c.rotation, Vec3<double>(1, 0, 0));
  const Vec3<double> y = mul_transposed(c.rotation, Vec3<double>(0, 1, 0));
  const Vec3<double> z = mul_transposed(c.rotation, Vec3<double>(0, 0, 1));
  EXPECT_EQ(x.x, 1.0);
  EXPECT_EQ(y.z, 1.0);
  EXPECT_EQ(z.y, -1.0);
  EXPECT_DOUBLE_EQ(c.center().x, 7.0);
  EXPECT_DOUBLE_EQ(c.center().y, 8.0);
  EXPECT_DOUBLE_EQ(c.center().z, 9.0);
  EXPECT_DOUBLE_EQ(c.fx, 50.0 * 20.0 / 40.0);
  EXPECT_DOUBLE_EQ(c.cx, 10.0);
  EXPECT_DOUBLE_EQ(c.cy, 7.5);
  EXPECT_NO_THROW(check_camera(c, "row"));
}

TEST(Llff, WithoutImagesUsesFullSizeOverFactor) {
  SyntheticLlff scene;
  const Dataset d = read_llff(scene.root(), factor(2, false));
  ASSERT_EQ(d.views.size(), 2u);
  EXPECT_TRUE(d.views[0].image.empty());
  EXPECT_EQ(d.views[1].camera.width, 6);
  EXPECT_EQ(d.views[1].camera.height, 4);
  EXPECT_DOUBLE_EQ(d.views[1].camera.fx, 10.0);
}

TEST(Llff, FactorOneReadsImagesFolder) {
  SyntheticLlff scene;
  fs::create_directories(fs::path(scene.root()) / "images");
  scene.write_image("images/IMG_1.JPG", 12, 8, 0.5f);  // case-insensitive extension
  scene.write_image("images/IMG_2.png", 12, 8, 0.5f);
  scene.write_text("images/notes.txt", "ignored");
  scene.write_text("images/.hidden.png", "ignored");
  const Dataset d = read_llff(scene.root(), factor(1));
  ASSERT_EQ(d.views.size(), 2u);
  EXPECT_EQ(d.views[0].name, "IMG_1.JPG");
  EXPECT_DOUBLE_EQ(d.views[0].camera.fx, 20.0);
  EXPECT_DOUBLE_EQ(d.views[0].camera.cx, 6.0);
}

TEST(Llff, CountMismatchNamesBothCountsAndFolder) {
  SyntheticLlff scene;
  scene.write_image("images_2/img_c.png", 6, 4, 0.5f);
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find("holds 3 images"), std::string::npos) << msg;
  EXPECT_NE(msg.find("has 2 rows"), std::string::npos) << msg;
  EXPECT_NE(msg.find((fs::path(scene.root()) / "images_2").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(scene.poses_path()), std::string::npos) << msg;
}

TEST(Llff, NanPoseNamesRow) {
  SyntheticLlff scene;
  scene.rows()[17 + 3] = std::numeric_limits<double>::quiet_NaN();
  scene.write_poses();
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(scene.poses_path() + " row 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("finite"), std::string::npos) << msg;
}

TEST(Llff, NonOrthonormalPoseNamesRow) {
  SyntheticLlff scene;
  for (int r = 0; r < 3; ++r) scene.rows()[r * 5 + 1] *= 1.1;  // stretch the "right" column
  scene.write_poses();
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(scene.poses_path() + " row 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("orthonormal"), std::string::npos) << msg;
}

TEST(Llff, ReflectionIsRejected) {
  SyntheticLlff scene;
  for (int r = 0; r < 3; ++r) scene.rows()[17 + r * 5 + 2] *= -1.0;  // flip "back" of row 1
  scene.write_poses();
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(scene.poses_path() + " row 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("determinant"), std::string::npos) << msg;
}

TEST(Llff, BadBoundsNameRow) {
  SyntheticLlff scene;
  scene.rows()[17 + 15] = 0.0;
  scene.write_poses();
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), scene.poses_path() + " row 1");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "0 < near < far");
}

TEST(Llff, NearBoundThatIsNotADepthIsRefused) {
  SyntheticLlff scene;
  scene.rows()[17 + 15] = 1e-300;  // set the world scale to 1e300: no Gaussian survived
  scene.write_poses();
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)),
                        scene.poses_path() +
                            " row 1 (img_b.png): depth bounds near=1e-300 far=12 "
                            "span more than 1e+06 times");
}

TEST(Llff, IntegerPosesNameTheirType) {
  SyntheticLlff scene;
  // poses_bounds.npy written as int64: numpy's header by hand, then the values truncated.
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 17), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::ofstream out(scene.poses_path(), std::ios::binary);
  out << "\x93NUMPY" << '\x01' << '\x00' << static_cast<char>(header.size() & 0xff)
      << static_cast<char>(header.size() >> 8) << header;
  for (double v : scene.rows()) {
    const int64_t i = static_cast<int64_t>(v);
    out.write(reinterpret_cast<const char*>(&i), sizeof(i));
  }
  out.close();
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(scene.poses_path() + ": the array's type is <i8, not floating point"),
            std::string::npos)
      << msg;
}

TEST(Llff, WrongArrayShape) {
  SyntheticLlff scene;
  write_npy(scene.poses_path(), {2, 15}, std::vector<double>(30, 1.0));
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "N x 17");
}

TEST(Llff, MissingPiecesAreNamed) {
  TempDir dir;
  const std::string missing = dir.file("no_scene");
  EXPECT_ERROR_CONTAINS(read_llff(missing), missing);
  EXPECT_ERROR_CONTAINS(read_llff(missing), "does not exist");

  // A folder without poses_bounds.npy.
  EXPECT_ERROR_CONTAINS(read_llff(dir.path().string()), dir.file("poses_bounds.npy"));

  // poses_bounds.npy but no images_8/.
  SyntheticLlff scene;
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(8)); });
  EXPECT_NE(msg.find((fs::path(scene.root()) / "images_8").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;

  // A corrupt poses file: the npy reader's message names it.
  scene.write_text("poses_bounds.npy", "garbage");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), scene.poses_path());

  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(0)), "factor");
}

TEST(Llff, ImagesOfDifferentSizesNameTheOddOne) {
  SyntheticLlff scene;
  scene.write_image("images_2/img_b.png", 5, 4, 0.5f);
  const std::string odd = (fs::path(scene.root()) / "images_2" / "img_b.png").string();
  const std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(odd + ": image is 5x4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("same size"), std::string::npos) << msg;
}

TEST(Llff, RotatedImagesAreRejected) {
  SyntheticLlff scene;
  scene.write_image("images_2/img_a.png", 4, 6, 0.5f);
  scene.write_image("images_2/img_b.png", 4, 6, 0.5f);
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "does not match the full-resolution");
}

TEST(Llff, UnreadableImageIsNamed) {
  SyntheticLlff scene;
  scene.write_text("images_2/img_b.png", "not a png");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "img_b.png: not a decodable image");
}

TEST(Llff, ReadsSplitJson) {
  SyntheticLlff scene;
  scene.write_text("split.json", R"({"train": ["img_b.png"], "test": ["img_a.png"]})");
  const Dataset d = read_llff(scene.root(), factor(2));
  EXPECT_EQ(d.train_ids, std::vector<int>{1});
  EXPECT_EQ(d.test_ids, std::vector<int>{0});
}

TEST(Llff, SplitJsonErrorsNameTheFile) {
  SyntheticLlff scene;
  const std::string split = scene.root() + "/split.json";
  scene.write_text("split.json", R"({"train": ["img_b.png", "img_z.png"], "test": []})");
  std::string msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(split), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown image name 'img_z.png'"), std::string::npos) << msg;

  scene.write_text("split.json", R"({"train": ["img_b.png"]})");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "\"test\" is missing");

  scene.write_text("split.json", R"({"train": ["img_b.png"], "test": [3]})");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "must list image file names");

  scene.write_text("split.json", R"({"train": ["img_b.png", "img_b.png"], "test": ["img_a.png"]})");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "listed twice");

  // Empty lists and overlap are errors (an empty "train" used to train on every view, test views
  // included, with exit 0).
  scene.write_text("split.json", R"({"train": [], "test": ["img_a.png"]})");
  msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(split), std::string::npos) << msg;
  EXPECT_NE(msg.find("the \"train\" list is empty"), std::string::npos) << msg;
  scene.write_text("split.json", R"({"train": ["img_a.png"], "test": []})");
  EXPECT_ERROR_CONTAINS(read_llff(scene.root(), factor(2)), "the \"test\" list is empty");
  scene.write_text("split.json", R"({"train": ["img_a.png", "img_b.png"], "test": ["img_b.png"]})");
  msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(split), std::string::npos) << msg;
  EXPECT_NE(msg.find("image 'img_b.png' is listed in both \"train\" and \"test\""),
            std::string::npos)
      << msg;

  scene.write_text("split.json", "{\"train\": [");
  msg = testing::error_message([&] { read_llff(scene.root(), factor(2)); });
  EXPECT_NE(msg.find(split), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
}

// [SECTION] the bundled demo scene ----------------------------------------------------------------

const std::vector<std::string> kDemoNames = {"image000.png", "image001.png", "image008.png",
                                             "image010.png", "image016.png", "image019.png"};
const std::vector<int> kDemoFernRows = {0, 1, 8, 10, 16, 19};

fs::path demo_dir() { return testing::source_dir() / "assets" / "demo"; }

TEST(LlffDemo, BoundRescalingMatchesTheReferenceLoader) {
  LlffOptions metric;
  metric.load_images = false;
  LlffOptions rescaled = metric;
  rescaled.bd_factor = 0.75;
  const Dataset a = read_llff(demo_dir().string(), metric);
  const Dataset b = read_llff(demo_dir().string(), rescaled);
  // sc = 1 / (min near * 0.75): the nearest bound becomes 1 / 0.75.
  const double sc = 1.0 / (a.near_depth * 0.75);
  EXPECT_NEAR(b.near_depth, 1.0 / 0.75, 1e-12);
  EXPECT_NEAR(b.far_depth, a.far_depth * sc, 1e-9);
  for (size_t i = 0; i < a.views.size(); ++i) {
    const Vec3<double> ca = a.views[i].camera.center(), cb = b.views[i].camera.center();
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(cb[c], ca[c] * sc, 1e-9);
    EXPECT_EQ(a.views[i].camera.rotation.m[0][0], b.views[i].camera.rotation.m[0][0]);
    EXPECT_EQ(a.views[i].camera.fx, b.views[i].camera.fx);
  }
  LlffOptions bad;
  bad.bd_factor = -1;
  EXPECT_THROW(bad.check(), Error);
}

TEST(LlffDemo, BundledSceneLoads) {
  const Dataset d = read_llff(demo_dir().string());
  ASSERT_EQ(d.views.size(), 6u);
  for (size_t i = 0; i < d.views.size(); ++i) {
    const View& v = d.views[i];
    EXPECT_EQ(v.name, kDemoNames[i]);
    EXPECT_EQ(v.camera.width, 504);
    EXPECT_EQ(v.camera.height, 378);
    EXPECT_EQ(v.image.width(), 504);
    EXPECT_EQ(v.image.height(), 378);
    EXPECT_EQ(v.image.channels(), 3);
    EXPECT_NO_THROW(check_camera(v.camera, v.name));
    EXPECT_DOUBLE_EQ(v.camera.cx, 252.0);
    EXPECT_DOUBLE_EQ(v.camera.cy, 189.0);
  }
  // Train: image001, image010, image019; test: every 8th image (000, 008, 016).
  EXPECT_EQ(d.train_ids, (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(d.test_ids, (std::vector<int>{0, 2, 4}));

  const NpyArray poses = read_npy((demo_dir() / "poses_bounds.npy").string());
  ASSERT_EQ(poses.shape, (std::vector<size_t>{6, 17}));
  for (size_t i = 0; i < 6; ++i) {
    const double* row = poses.data.data() + i * 17;
    EXPECT_DOUBLE_EQ(d.views[i].camera.fx, row[14] * 504.0 / row[9]);
  }
  EXPECT_NEAR(d.views[0].camera.fx, 3260.5263328805895 / 8.0, 1e-9);  // 407.566
  EXPECT_GT(d.near_depth, 0.0);
  EXPECT_LT(d.near_depth, d.far_depth);
}

// [SECTION] real LLFF scenes (GLIMPSE_DATA_DIR)
// ----------------------------------------------------

void check_real_scene(const fs::path& root, size_t expected_views) {
  const Dataset d = read_llff(root.string());
  ASSERT_EQ(d.views.size(), expected_views) << root;
  EXPECT_GT(d.near_depth, 0.0);
  EXPECT_LT(d.near_depth, d.far_depth);
  // Forward-facing capture: every camera looks roughly the same way as the first.
  const Vec3<double> z0 = mul_transposed(d.views[0].camera.rotation, Vec3<double>(0, 0, 1));
  for (const View& v : d.views) {
    EXPECT_NO_THROW(check_camera(v.camera, v.image_path));
    EXPECT_EQ(v.image.width(), 504) << v.image_path;
    EXPECT_EQ(v.image.height(), 378) << v.image_path;
    EXPECT_EQ(v.camera.width, 504);
    EXPECT_EQ(v.camera.height, 378);
    const Vec3<double> z = mul_transposed(v.camera.rotation, Vec3<double>(0, 0, 1));
    EXPECT_GT(dot(z, z0), 0.9) << v.image_path;
  }
}

TEST(LlffReal, Fern) {
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set (real LLFF scenes)";
  check_real_scene(data / "llff" / "fern", 20);
}

TEST(LlffReal, Flower) {
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set (real LLFF scenes)";
  check_real_scene(data / "llff" / "flower", 34);
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(LlffReal, DemoIsASubsetOfFern) {
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set (real LLFF scenes)";
  const fs::path fern = data / "llff" / "fern";
  const NpyArray all = read_npy((fern / "poses_bounds.npy").string());
  const NpyArray demo = read_npy((demo_dir() / "poses_bounds.npy").string());
  ASSERT_EQ(all.shape, (std::vector<size_t>{20, 17}));
  ASSERT_EQ(demo.shape, (std::vector<size_t>{6, 17}));
  for (size_t i = 0; i < 6; ++i) {
    for (size_t k = 0; k < 17; ++k) {
      EXPECT_EQ(demo.data[i * 17 + k], all.data[kDemoFernRows[i] * 17 + k]) << i << " " << k;
    }
    EXPECT_TRUE(file_bytes(demo_dir() / "images_8" / kDemoNames[i]) ==
                file_bytes(fern / "images_8" / kDemoNames[i]))
        << kDemoNames[i] << " differs from the fern original";
  }
}

}  // namespace
}  // namespace glimpse
