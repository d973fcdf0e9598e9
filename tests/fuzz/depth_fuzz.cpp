// Fuzz target: depth map files (io/depth_io.h): every input is read as a PFM and as a .npy depth
// map, from in-memory streams.
#include "io/depth_io.h"
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
    glimpse::read_pfm(in, "fuzz.pfm");
  } catch (const glimpse::Error&) {
  }
  try {
    std::istringstream in(bytes);
    glimpse::read_depth_npy(in, "fuzz.npy");
  } catch (const glimpse::Error&) {
  }
  return 0;
}
