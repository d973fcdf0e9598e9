// Fuzz target: .splat files (io/splat_formats.h read_dot_splat) from an in-memory stream; what the
// reader returns must be a valid model.
#include "io/splat_formats.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(glimpse::fuzz::as_string(data, size));
  glimpse::Gaussians g;
  try {
    g = glimpse::read_dot_splat(in, "fuzz");
  } catch (const glimpse::Error&) {
    return 0;
  }
  g.check("fuzz");  // an Error here is a finding
  return 0;
}
