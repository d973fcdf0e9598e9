// Fuzz target: point-cloud PLY files (io/point_cloud_ply.h read_point_cloud_ply). The reader takes
// a path only, so each input is written to a file in a per-process scratch folder.
#include "io/point_cloud_ply.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = (glimpse::fuzz::scratch_dir() / "points.ply").string();
  glimpse::fuzz::write_file(path, data, size);
  try {
    glimpse::read_point_cloud_ply(path);
  } catch (const glimpse::Error&) {
  }
  return 0;
}
