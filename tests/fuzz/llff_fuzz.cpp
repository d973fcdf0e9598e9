// Fuzz target: LLFF scenes (io/llff.h read_llff): each input is the scene's poses_bounds.npy, in a
// per-process scratch folder where images/ holds 1 empty image file and images_<k>/ holds k
// (k = 2..8); the factor is picked so that the image count matches the array's row count when it
// has 1 to 8 rows (cameras only: no image is decoded).
#include "io/llff.h"
#include "io/npy.h"
#include "tests/fuzz/fuzz_util.h"

#include <cstdio>
#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int kMaxRows = 8;
  static const std::filesystem::path root = [] {
    const std::filesystem::path dir = glimpse::fuzz::scratch_dir() / "llff";
    for (int k = 1; k <= kMaxRows; ++k) {
      const std::filesystem::path images =
          dir / (k == 1 ? "images" : "images_" + std::to_string(k));
      std::filesystem::create_directories(images);
      for (int i = 0; i < k; ++i) {
        char name[16];
        std::snprintf(name, sizeof(name), "%03d.png", i);
        glimpse::fuzz::write_file(images / name, nullptr, 0);
      }
    }
    return dir;
  }();
  glimpse::LlffOptions options;
  options.load_images = false;
  options.factor = 1;
  options.bd_factor = size % 2 == 0 ? 0.75 : 0.0;
  try {  // the harness's own look at the row count; read_llff parses the file again
    std::istringstream in(glimpse::fuzz::as_string(data, size));
    const glimpse::NpyArray a = glimpse::read_npy(in, "peek");
    if (a.ndim() == 2 && a.shape[0] >= 1 && a.shape[0] <= kMaxRows) {
      options.factor = static_cast<int>(a.shape[0]);
    }
  } catch (const glimpse::Error&) {
  }
  glimpse::fuzz::write_file(root / "poses_bounds.npy", data, size);
  try {
    glimpse::read_llff(root.string(), options);
  } catch (const glimpse::Error&) {
  }
  return 0;
}
