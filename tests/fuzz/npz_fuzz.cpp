// Fuzz target: NumPy .npz archives (io/npz.h read_npz_bytes: zip directory, ZIP64, deflate, CRC).
#include "io/npz.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    glimpse::read_npz_bytes(glimpse::fuzz::as_string(data, size), "fuzz.npz");
  } catch (const glimpse::Error&) {
  }
  return 0;
}
