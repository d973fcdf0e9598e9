// Fuzz target: splat PLY files in the reference 3DGS layout (io/splat_ply.h read_splat_ply), ascii
// and binary, from an in-memory stream.
#include "io/splat_ply.h"
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
    g = glimpse::read_splat_ply(in, "fuzz.ply");
  } catch (const glimpse::Error&) {
    return 0;
  }
  g.check("fuzz.ply");  // what the reader returns is a valid model: an Error here is a finding
  return 0;
}
