// Fuzz target: transforms.json scenes (io/transforms_json.h). Every input is parsed from a stream;
// when every frame gives its image size ("w", "h"), the whole reader runs on it too (cameras only,
// from a file in a per-process scratch folder holding the seeds' image names as empty files: they
// must exist, but no image is ever decoded).
#include "io/transforms_json.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(glimpse::fuzz::as_string(data, size));
  std::vector<glimpse::TransformsFrame> frames;
  try {
    frames = glimpse::parse_transforms_json(in, "fuzz.json");
  } catch (const glimpse::Error&) {
    return 0;
  }
  for (const glimpse::TransformsFrame& f : frames) {
    if (!f.intrinsics.w || !f.intrinsics.h) return 0;
  }
  static const std::string path = [] {
    const std::filesystem::path dir = glimpse::fuzz::scratch_dir() / "transforms";
    std::filesystem::create_directories(dir / "train");
    std::filesystem::create_directories(dir / "images");
    for (const char* name : {"a.png", "b.png", "train/r_0.png", "train/r_1.png", "images/0001.jpg",
                             "images/0002.jpg"}) {
      glimpse::fuzz::write_file(dir / name, nullptr, 0);
    }
    return (dir / "transforms.json").string();
  }();
  glimpse::fuzz::write_file(path, data, size);
  glimpse::TransformsOptions options;
  options.load_images = false;
  options.downscale = 2;
  try {
    glimpse::read_transforms_json(path, options);
  } catch (const glimpse::Error&) {
  }
  return 0;
}
