// Fuzz target: trainer checkpoints (optim/trainer.h Trainer::load_checkpoint and
// read_checkpoint_header, which bench uses to look at a run's checkpoint). Inputs are
// checkpoints WITHOUT their CRC-32 trailer: the target appends the zlib CRC-32 of the input
// (4 bytes, little-endian) so that every input gets past the checksum to the parser.
#include "optim/trainer.h"
#include "tests/fuzz/checkpoint_setup.h"
#include "tests/fuzz/fuzz_util.h"

#include <sstream>
#include <zlib.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  glimpse::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<glimpse::Trainer> trainer = glimpse::fuzz::make_checkpoint_trainer();
  std::string bytes = glimpse::fuzz::as_string(data, size);
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data), size));
  for (int k = 0; k < 4; ++k) bytes.push_back(static_cast<char>((crc >> (8 * k)) & 0xff));
  std::istringstream in(bytes);
  try {
    trainer->load_checkpoint(in, "fuzz.ckpt");
  } catch (const glimpse::Error&) {
  }
  std::istringstream header_in(bytes);
  try {
    glimpse::read_checkpoint_header(header_in, "fuzz.ckpt");
  } catch (const glimpse::Error&) {
  }
  return 0;
}
