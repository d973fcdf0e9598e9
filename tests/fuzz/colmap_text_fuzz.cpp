// Fuzz target: COLMAP text sparse-model files (io/colmap.h read_colmap_*_text). Every input is
// read as cameras.txt, images.txt and points3D.txt; what parses goes through the camera math.
#include "io/colmap.h"
#include "tests/fuzz/colmap_common.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = glimpse::fuzz::as_string(data, size);
  try {
    std::istringstream in(bytes);
    glimpse::fuzz::use_colmap_cameras(glimpse::read_colmap_cameras_text(in, "cameras"));
  } catch (const glimpse::Error&) {
  }
  try {
    std::istringstream in(bytes);
    glimpse::fuzz::use_colmap_images(glimpse::read_colmap_images_text(in, "images"));
  } catch (const glimpse::Error&) {
  }
  try {
    std::istringstream in(bytes);
    glimpse::ColmapModel model;
    model.points3D = glimpse::read_colmap_points3D_text(in, "points3D");
    glimpse::colmap_points(model);
  } catch (const glimpse::Error&) {
  }
  return 0;
}
