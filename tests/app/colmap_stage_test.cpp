// app/colmap_stage.h and the COLMAP text writers of io/colmap.h: writer round trips through the
// readers, triangulation with known poses on the bundled demo (LLFF fern, 3 training views) with
// the real `colmap` program and the workspace reused on a second call, structure from motion on
// an unposed folder, bad input (too few images, mixed sizes), and the fallback errors of a
// missing or failing COLMAP. The real program is installed by tools/install_deps.sh; a missing
// one fails the tests that need it.
#include "app/colmap_stage.h"

#include "io/dataset_reader.h"
#include "io/image_io.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

bool have_colmap() {
  try {
    find_colmap_executable();
    return true;
  } catch (const ColmapError& e) {
    ADD_FAILURE() << "the real COLMAP program is needed by this test (tools/install_deps.sh "
                     "installs it): "
                  << e.what();
    return false;
  }
}

fs::path demo_dir() { return testing::source_dir() / "assets" / "demo"; }

// The demo's training views (image001, image010, image019 at 504x378) with loaded images.
std::vector<View> demo_train_views() {
  const Dataset demo = read_dataset(demo_dir().string());
  std::vector<View> views;
  for (const int id : demo.train_ids) views.push_back(demo.views[static_cast<size_t>(id)]);
  return views;
}

void write_fake_colmap(const fs::path& path, const std::string& action) {
  {
    std::ofstream out(path);
    out << "#!/bin/sh\n"
        << "if [ \"$1\" = help ]; then echo 'COLMAP 0.0 -- fake'; exit 0; fi\n"
        << "if [ \"$2\" = -h ]; then echo '  --database_path arg'; exit 0; fi\n"
        << action;
  }
  fs::permissions(path, fs::perms::owner_all);
}

// [SECTION] text writers ------------------------------------------------------------------------

ColmapModel small_model() {
  ColmapModel m;
  ColmapCamera a;
  a.id = 1;
  a.model = ColmapCameraModel::kPinhole;
  a.width = 640, a.height = 480;
  a.params = {500.125, 501.0000000000001, 320.5, 239.75};
  ColmapCamera b;
  b.id = 7;
  b.model = ColmapCameraModel::kOpenCV;
  b.width = 100, b.height = 80;
  b.params = {90, 91, 50, 40, -0.1, 0.01, 1e-300, -2.5e-7};
  m.cameras = {{1, a}, {7, b}};
  ColmapImage i1;
  i1.id = 3;
  i1.name = "sub dir/im 1.png";
  i1.camera_id = 7;
  i1.cam_from_world_rotation = {0.5, 0.5, -0.5, 0.5};
  i1.cam_from_world_translation = {0.1, -2.0 / 3.0, 1e10};
  i1.points2D = {{1.5, 2.25}, {99.0, 0.125}};
  i1.point3D_ids = {-1, 12};
  ColmapImage i2;
  i2.id = 4;
  i2.name = "b.jpg";
  i2.camera_id = 1;
  m.images = {{3, i1}, {4, i2}};
  ColmapPoint3D p;
  p.id = 12;
  p.xyz = {1.0 / 3.0, -5e-20, 7};
  p.rgb = {0, 128, 255};
  p.error = 0.4375;
  p.track = {{3, 1}, {4, 0}};
  m.points3D = {p};
  return m;
}

void expect_same_model(const ColmapModel& a, const ColmapModel& b) {
  ASSERT_EQ(a.cameras.size(), b.cameras.size());
  for (const auto& [id, c] : a.cameras) {
    const ColmapCamera& d = b.cameras.at(id);
    EXPECT_EQ(c.model, d.model);
    EXPECT_EQ(c.width, d.width);
    EXPECT_EQ(c.height, d.height);
    EXPECT_EQ(c.params, d.params);  // exact: shortest round-trip formatting
  }
  ASSERT_EQ(a.images.size(), b.images.size());
  for (const auto& [id, im] : a.images) {
    const ColmapImage& jm = b.images.at(id);
    EXPECT_EQ(im.name, jm.name);
    EXPECT_EQ(im.camera_id, jm.camera_id);
    EXPECT_EQ(im.cam_from_world_rotation.w, jm.cam_from_world_rotation.w);
    EXPECT_EQ(im.cam_from_world_rotation.z, jm.cam_from_world_rotation.z);
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(im.cam_from_world_translation[k], jm.cam_from_world_translation[k]);
    ASSERT_EQ(im.points2D.size(), jm.points2D.size());
    for (size_t k = 0; k < im.points2D.size(); ++k) {
      EXPECT_EQ(im.points2D[k].x, jm.points2D[k].x);
      EXPECT_EQ(im.points2D[k].y, jm.points2D[k].y);
    }
    EXPECT_EQ(im.point3D_ids, jm.point3D_ids);
  }
  ASSERT_EQ(a.points3D.size(), b.points3D.size());
  for (size_t k = 0; k < a.points3D.size(); ++k) {
    const ColmapPoint3D &p = a.points3D[k], &q = b.points3D[k];
    EXPECT_EQ(p.id, q.id);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(p.xyz[i], q.xyz[i]);
    EXPECT_EQ(p.rgb, q.rgb);
    EXPECT_EQ(p.error, q.error);
    ASSERT_EQ(p.track.size(), q.track.size());
    for (size_t t = 0; t < p.track.size(); ++t) {
      EXPECT_EQ(p.track[t].image_id, q.track[t].image_id);
      EXPECT_EQ(p.track[t].point2D_idx, q.track[t].point2D_idx);
    }
  }
}

TEST(ColmapWriter, TextFilesRoundTripThroughTheReaders) {
  const ColmapModel m = small_model();
  std::stringstream cameras, images, points;
  write_colmap_cameras_text(cameras, m.cameras, "cameras.txt");
  write_colmap_images_text(images, m.images, "images.txt");
  write_colmap_points3D_text(points, m.points3D, "points3D.txt");
  ColmapModel back;
  back.cameras = read_colmap_cameras_text(cameras, "cameras.txt");
  back.images = read_colmap_images_text(images, "images.txt");
  back.points3D = read_colmap_points3D_text(points, "points3D.txt");
  expect_same_model(m, back);
  // An image without keypoints has an empty POINTS2D line, as COLMAP writes it.
  EXPECT_NE(images.str().find("b.jpg\n\n"), std::string::npos) << images.str();
}

TEST(ColmapWriter, ModelFolderRoundTrip) {
  TempDir dir;
  const ColmapModel m = small_model();
  write_colmap_model_text((dir.path() / "sparse" / "0").string(), m);
  expect_same_model(m, read_colmap_model((dir.path() / "sparse" / "0").string()));
}

TEST(ColmapWriter, RejectsWhatTheFormatCannotHold) {
  ColmapModel m = small_model();
  std::stringstream out;
  m.images.at(4).name = "two\nlines.png";
  EXPECT_THROW(write_colmap_images_text(out, m.images, "images.txt"), Error);
  m.images.at(4).name = " padded.png";
  EXPECT_THROW(write_colmap_images_text(out, m.images, "images.txt"), Error);
  m = small_model();
  m.images.at(3).point3D_ids.pop_back();
  EXPECT_THROW(write_colmap_images_text(out, m.images, "images.txt"), Error);
  m = small_model();
  m.cameras.at(1).params.pop_back();
  try {
    write_colmap_cameras_text(out, m.cameras, "x/cameras.txt");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x/cameras.txt: camera 1"), std::string::npos) << e.what();
  }
  m = small_model();
  m.points3D[0].xyz.x = NAN;
  EXPECT_THROW(write_colmap_points3D_text(out, m.points3D, "points3D.txt"), Error);
}

TEST(ColmapWriter, ModelFromViewsKeepsCamerasAndPoses) {
  const std::vector<View> views = demo_train_views();
  ASSERT_EQ(views.size(), 3u);
  const ColmapModel m = colmap_model_from_views(views, {"a.png", "b.png", "c.png"});
  ASSERT_EQ(m.images.size(), 3u);
  for (size_t k = 0; k < views.size(); ++k) {
    const ColmapImage& im = m.images.at(static_cast<uint32_t>(k + 1));
    const Camera c = colmap_view_camera(im, m.cameras.at(im.camera_id), "test");
    const Camera& v = views[k].camera;
    EXPECT_EQ(c.fx, v.fx);
    EXPECT_EQ(c.cy, v.cy);
    EXPECT_EQ(c.width, v.width);
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(c.translation[i], v.translation[i], 1e-12);
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(c.rotation.m[i][j], v.rotation.m[i][j], 1e-12);
    }
  }
  EXPECT_THROW(colmap_model_from_views(views, {"a.png", "a.png", "c.png"}), Error);
  EXPECT_THROW(colmap_model_from_views(views, {"a.png"}), Error);
}

// [SECTION] dataset detection ---------------------------------------------------------------------

TEST(ImageFolder, DetectedAsImagesAndNotReadAsADataset) {
  TempDir dir;
  const Image<float> im(8, 6, 3, 0.5f);
  write_png((dir.path() / "a.png").string(), im);
  write_png((dir.path() / "b.png").string(), im);
  std::ofstream(dir.path() / ".DS_Store") << "x";
  fs::create_directories(dir.path() / "out");
  EXPECT_EQ(detect_dataset_format(dir.path().string()), DatasetFormat::Images);
  EXPECT_EQ(dataset_format_from_name("images"), DatasetFormat::Images);
  try {
    read_dataset(dir.path().string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(dir.path().string()), std::string::npos) << m;
    EXPECT_NE(m.find("structure from motion"), std::string::npos) << m;
  }
  std::ofstream(dir.path() / "notes.txt") << "x";  // not only images: no layout
  EXPECT_THROW(detect_dataset_format(dir.path().string()), Error);
}

// [SECTION] bad input ---------------------------------------------------------------------------

TEST(Sfm, TooFewImagesNamesTheFolder) {
  TempDir dir;
  write_png((dir.path() / "a.png").string(), Image<float>(8, 6, 3, 0.5f));
  write_png((dir.path() / "b.png").string(), Image<float>(8, 6, 3, 0.5f));
  try {
    colmap_structure_from_motion(dir.path().string(), (dir.path() / "ws").string(), {});
    FAIL() << "expected an error";
  } catch (const ColmapError& e) {
    FAIL() << "bad input must not look like a COLMAP failure: " << e.what();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(dir.path().string()), std::string::npos) << m;
    EXPECT_NE(m.find("holds 2 image"), std::string::npos) << m;
    EXPECT_NE(m.find("at least 3"), std::string::npos) << m;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "ws"));  // nothing written for bad input
}

TEST(Sfm, MixedSizesNameTheOddFile) {
  TempDir dir;
  write_png((dir.path() / "a.png").string(), Image<float>(8, 6, 3, 0.5f));
  write_png((dir.path() / "b.png").string(), Image<float>(8, 6, 3, 0.5f));
  write_png((dir.path() / "c.png").string(), Image<float>(6, 8, 3, 0.5f));
  try {
    sfm_image_files(dir.path().string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find((dir.path() / "c.png").string()), std::string::npos) << m;
    EXPECT_NE(m.find("6x8"), std::string::npos) << m;
  }
  std::ofstream(dir.path() / "c.png") << "not a png";
  EXPECT_THROW(sfm_image_files(dir.path().string()), Error);
}

TEST(KnownPoses, NeedsLoadedImagesAndTwoViews) {
  TempDir dir;
  std::vector<View> views = demo_train_views();
  views[1].image = Image<float>();
  EXPECT_THROW(colmap_triangulate_known_poses(views, dir.path().string(), {}), Error);
  views.resize(1);
  EXPECT_THROW(colmap_triangulate_known_poses(views, dir.path().string(), {}), Error);
}

// [SECTION] fallbacks ---------------------------------------------------------------------------

TEST(KnownPoses, MissingColmapGivesTheFallbackError) {
  TempDir dir;
  ColmapOptions o;
  o.executable = (dir.path() / "no" / "colmap").string();
  try {
    colmap_triangulate_known_poses(demo_train_views(), (dir.path() / "ws").string(), o);
    FAIL() << "expected ColmapError";
  } catch (const ColmapError& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST(KnownPoses, FailingColmapGivesTheFallbackErrorWithTheLog) {
  TempDir dir;
  const fs::path fake = dir.path() / "colmap";
  write_fake_colmap(fake, "echo 'F0101 sift.cc:123] Check failed: boom'\nexit 1\n");
  ColmapOptions o;
  o.executable = fake.string();
  try {
    colmap_triangulate_known_poses(demo_train_views(), (dir.path() / "ws").string(), o);
    FAIL() << "expected ColmapError";
  } catch (const ColmapError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("feature extraction"), std::string::npos) << m;
    EXPECT_NE(m.find("exit status 1"), std::string::npos) << m;
    EXPECT_NE(m.find("Check failed: boom"), std::string::npos) << m;
    EXPECT_NE(m.find("colmap.log"), std::string::npos) << m;
  }
  // A fake that "succeeds" without writing anything: no model, still the fallback error.
  write_fake_colmap(fake, "exit 0\n");
  EXPECT_THROW(colmap_triangulate_known_poses(demo_train_views(), (dir.path() / "ws2").string(), o),
               ColmapError);
}

// [SECTION] the real COLMAP ---------------------------------------------------------------------

TEST(KnownPoses, DemoThreeViewsTriangulateAndResume) {
  if (!have_colmap()) return;
  TempDir dir;
  const std::vector<View> views = demo_train_views();
  const std::string ws = (dir.path() / "colmap").string();
  ColmapReport report;
  const PointCloud cloud = colmap_triangulate_known_poses(views, ws, {}, &report);
  EXPECT_EQ(report.num_images, 3);
  EXPECT_EQ(report.num_registered, 3);
  EXPECT_GT(cloud.size(), 300u);  // measured: see the test's log line
  EXPECT_EQ(cloud.size(), report.num_points);
  EXPECT_LT(report.mean_reprojection_error, 2.0);
  EXPECT_GE(report.mean_track_length, 2.0);
  ASSERT_EQ(cloud.support.size(), cloud.size());
  EXPECT_NO_THROW(cloud.check("triangulated cloud"));
  // Every point is in front of every camera (fern: 1.2 .. 100 depth units) and, in the view
  // whose track it is in, projects inside the image; most project inside all three.
  size_t inside_all = 0;
  for (size_t i = 0; i < cloud.size(); ++i) {
    EXPECT_GE(cloud.support[i], 2.f);
    const Vec3<double> p(cloud.positions[3 * i], cloud.positions[3 * i + 1],
                         cloud.positions[3 * i + 2]);
    bool all = true;
    for (const View& v : views) {
      const Vec3<double> q = v.camera.cam_from_world(p);
      if (q.z <= 0) {
        all = false;
        continue;
      }
      const double x = v.camera.fx * q.x / q.z + v.camera.cx;
      const double y = v.camera.fy * q.y / q.z + v.camera.cy;
      all = all && x >= 0 && y >= 0 && x <= v.camera.width && y <= v.camera.height;
    }
    inside_all += all ? 1 : 0;
  }
  EXPECT_GT(static_cast<double>(inside_all), 0.8 * static_cast<double>(cloud.size()));
  EXPECT_TRUE(fs::is_regular_file(fs::path(ws) / "colmap.log"));
  EXPECT_TRUE(fs::is_regular_file(fs::path(ws) / "known_poses" / "images.txt"));

  // Resume: every stage is reused and the same points come back.
  ColmapReport again;
  const PointCloud cloud2 = colmap_triangulate_known_poses(views, ws, {}, &again);
  EXPECT_EQ(again.stages_run, 0);
  EXPECT_GE(again.stages_reused, 4);
  EXPECT_EQ(cloud2.positions, cloud.positions);
  // A changed setting redoes the stages it feeds.
  ColmapOptions o;
  o.max_num_features = 4000;
  ColmapReport changed;
  colmap_triangulate_known_poses(views, ws, o, &changed);
  EXPECT_EQ(changed.stages_run, 3);
}

// Four fern photographs and one of noise, which cannot register and is named.
TEST(Sfm, UnposedDemoPhotographsRegister) {
  if (!have_colmap()) return;
  TempDir dir;
  const fs::path photos = dir.path() / "photos";
  fs::create_directories(photos);
  for (const char* name : {"image000.png", "image001.png", "image008.png", "image010.png"})
    fs::copy_file(demo_dir() / "images_8" / name, photos / name);
  Image<float> noise(504, 378, 3);
  uint32_t state = 12345;
  for (size_t i = 0; i < noise.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    noise.data()[i] = static_cast<float>(state >> 8) / 16777216.f;
  }
  write_png((photos / "noise.png").string(), noise);
  PointCloud points;
  ColmapReport report;
  const Dataset d = colmap_structure_from_motion(photos.string(), (dir.path() / "colmap").string(),
                                                 {}, {}, &points, &report);
  EXPECT_EQ(report.num_images, 5);
  EXPECT_GE(report.num_registered, 3);
  EXPECT_EQ(report.unregistered, std::vector<std::string>{"noise.png"});
  EXPECT_EQ(static_cast<int>(d.views.size()), report.num_registered);
  EXPECT_EQ(d.format, "images");
  EXPECT_EQ(d.root, photos.string());
  EXPECT_GT(points.size(), 100u);
  EXPECT_GT(d.near_depth, 0.0);
  EXPECT_GT(d.far_depth, d.near_depth);
  for (const View& v : d.views) {
    EXPECT_EQ(v.image.width(), 504);
    EXPECT_EQ(v.camera.width, 504);
    EXPECT_NO_THROW(check_camera(v.camera, v.name));
  }
  EXPECT_NO_THROW(check_dataset_for_rendering(d, photos.string(), "test"));
}

// With GLIMPSE_DATA_DIR: DTU scan24's protocol views 25, 22, 28 (400x300, object on a table).
TEST(KnownPoses, DtuScan24ThreeViews) {
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set (real DTU scan)";
  if (!have_colmap()) return;
  TempDir dir;
  const Dataset scan = read_dataset((data / "dtu" / "scan24").string());
  std::vector<View> views;
  for (const int id : {25, 22, 28}) views.push_back(scan.views[static_cast<size_t>(id)]);
  ColmapReport report;
  const PointCloud cloud =
      colmap_triangulate_known_poses(views, (dir.path() / "colmap").string(), {}, &report);
  // Few matches at 400x300 across these baselines (measured: 103-119 points).
  EXPECT_GT(cloud.size(), 60u);
  EXPECT_EQ(report.num_registered, 3);
  EXPECT_LT(report.mean_reprojection_error, 2.0);
}

}  // namespace
}  // namespace glimpse
