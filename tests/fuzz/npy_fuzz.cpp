// Fuzz target: NumPy .npy arrays (io/npy.h read_npy) from an in-memory stream.
#include "io/npy.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(glimpse::fuzz::as_string(data, size));
  try {
    const glimpse::NpyArray a = glimpse::read_npy(in, "fuzz.npy");
    size_t count = 1;
    for (size_t d : a.shape) count *= d;
    if (count != a.size()) __builtin_trap();  // the reader promises product(shape) values
  } catch (const glimpse::Error&) {
  }
  return 0;
}
