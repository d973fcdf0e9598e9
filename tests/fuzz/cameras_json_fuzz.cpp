// Fuzz target: cameras.json in the reference 3DGS schema (io/cameras_json.h), from a stream.
#include "io/cameras_json.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(glimpse::fuzz::as_string(data, size));
  try {
    glimpse::read_cameras_json_entries(in, "cameras.json");
  } catch (const glimpse::Error&) {
  }
  return 0;
}
