// Fuzz target: splat PLY files in the reference 3DGS layout (io/splat_ply.h read_splat_ply), ascii
// and binary, from an in-memory stream;
// what the reader returns must be a valid model.
#include "io/splat_ply.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return glimpse::fuzz::read_gaussians(data, size, [](std::istream& in, const std::string& what) {
    return glimpse::read_splat_ply(in, what);
  });
}
