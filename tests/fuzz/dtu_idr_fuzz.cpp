// Fuzz target: DTU scans in the IDR/NeuS layout (io/dtu.h read_dtu_scene): each input is the
// scan's cameras_sphere.npz, in a per-process scratch scan folder whose image/ holds three empty
// 000..002.png files (cameras only: no image is decoded).
#include "io/dtu.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path scan = [] {
    const std::filesystem::path dir = glimpse::fuzz::scratch_dir() / "scan24";
    std::filesystem::create_directories(dir / "image");
    for (const char* name : {"000.png", "001.png", "002.png"}) {
      glimpse::fuzz::write_file(dir / "image" / name, nullptr, 0);
    }
    return dir;
  }();
  glimpse::fuzz::write_file(scan / "cameras_sphere.npz", data, size);
  glimpse::DtuOptions options;
  options.layout = glimpse::DtuLayout::kIdr;
  options.load_images = false;
  options.masks = glimpse::DtuMasks::kNone;
  try {
    const glimpse::DtuScene scene = glimpse::read_dtu_scene(scan.string(), options);
    if (scene.radius > 0) {
      for (const glimpse::View& v : scene.dataset.views) {
        glimpse::camera_in_normalized_frame(v.camera, scene.center, scene.radius);
      }
    }
  } catch (const glimpse::Error&) {
  }
  return 0;
}
