// Fuzz target: DTU camera text files (io/dtu.h): every input is read as an MVSNet cam.txt and as a
// Calibration/cal18 pos_XXX.txt projection, and what parses is decomposed into a camera.
#include "io/dtu.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using glimpse::kDtuCalibrationHeight;
  using glimpse::kDtuCalibrationWidth;
  const std::string bytes = glimpse::fuzz::as_string(data, size);
  try {
    std::istringstream in(bytes);
    const glimpse::MvsnetCam cam = glimpse::read_mvsnet_cam(in, "00000000_cam.txt");
    glimpse::camera_from_mvsnet(cam, kDtuCalibrationWidth, kDtuCalibrationHeight, 400, 300, false,
                                "00000000_cam.txt");
  } catch (const glimpse::Error&) {
  }
  try {
    std::istringstream in(bytes);
    const std::array<double, 12> p = glimpse::read_projection_txt(in, "pos_001.txt");
    glimpse::camera_from_projection(p.data(), kDtuCalibrationWidth, kDtuCalibrationHeight, 400, 300,
                                    true, "pos_001.txt");
  } catch (const glimpse::Error&) {
  }
  return 0;
}
