// Dataset layout detection and dispatch (io/dataset_reader.h).
#include "io/dataset_reader.h"

#include "core/check.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace glimpse {
namespace {

namespace fs = std::filesystem;

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

TEST(DatasetReader, DetectsEachLayoutFromItsFiles) {
  testing::TempDir dir;
  const fs::path root = dir.path();
  touch(root / "llff/poses_bounds.npy");
  touch(root / "colmap/sparse/0/cameras.bin");
  touch(root / "colmap_txt/sparse/cameras.txt");
  touch(root / "dtu/cameras_sphere.npz");
  touch(root / "rect/Rectified/scan8/x.png");
  touch(root / "blender/transforms_train.json");
  touch(root / "ngp/transforms.json");
  EXPECT_EQ(detect_dataset_format((root / "llff").string()), DatasetFormat::Llff);
  EXPECT_EQ(detect_dataset_format((root / "colmap").string()), DatasetFormat::Colmap);
  EXPECT_EQ(detect_dataset_format((root / "colmap_txt").string()), DatasetFormat::Colmap);
  EXPECT_EQ(detect_dataset_format((root / "dtu").string()), DatasetFormat::Dtu);
  EXPECT_EQ(detect_dataset_format((root / "rect").string()), DatasetFormat::Dtu);
  EXPECT_EQ(detect_dataset_format((root / "blender").string()), DatasetFormat::Transforms);
  EXPECT_EQ(detect_dataset_format((root / "ngp").string()), DatasetFormat::Transforms);
  fs::create_directories(root / "empty");
  try {
    detect_dataset_format((root / "empty").string());
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("empty"), std::string::npos) << what;
    EXPECT_NE(what.find("poses_bounds.npy"), std::string::npos) << what;
  }
  EXPECT_THROW(detect_dataset_format((root / "missing").string()), Error);
}

TEST(DatasetReader, FormatNamesRoundTripAndBadNamesAreRejected) {
  for (DatasetFormat f : {DatasetFormat::Auto, DatasetFormat::Llff, DatasetFormat::Colmap,
                          DatasetFormat::Dtu, DatasetFormat::Transforms})
    EXPECT_EQ(dataset_format_from_name(dataset_format_name(f)), f);
  EXPECT_THROW(dataset_format_from_name("nerf"), Error);
  DatasetReadOptions o;
  o.llff_factor = 0;
  EXPECT_THROW(o.check(), Error);
}

TEST(DatasetReader, ReadsTheBundledDemoAndRealScenes) {
  const Dataset demo = read_dataset((testing::source_dir() / "assets/demo").string());
  EXPECT_EQ(demo.format, "llff");
  EXPECT_EQ(demo.views.size(), 6u);
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR not set: real scenes not read";
  DatasetReadOptions o;
  const Dataset dtu = read_dataset((data / "dtu/scan24").string(), o);
  EXPECT_EQ(dtu.views.size(), 49u);
  EXPECT_EQ(dtu.views[0].camera.width, 400);
  const Dataset colmap = read_dataset((data / "colmap/test_colmap").string(), o);
  EXPECT_EQ(colmap.views.size(), 23u);
  EXPECT_GT(colmap.far_depth, colmap.near_depth);
}

}  // namespace
}  // namespace glimpse
