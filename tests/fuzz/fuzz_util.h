// Helpers shared by the fuzz targets of tests/fuzz/: the input as a string or stream, a per-process
// scratch folder for readers that only take a path, and quiet logging.
#pragma once

#include "core/check.h"
#include "core/log.h"
#include "renderer/gaussians.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace glimpse::fuzz {

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A folder under $TMPDIR (or /tmp), made once per process with mkdtemp and removed at exit, so that
// parallel fuzzers and ctest runs never share files.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern = std::string(tmp && tmp[0] ? tmp : "/tmp") + "/glimpse-fuzz-XXXXXX";
      if (mkdtemp(pattern.data()) == nullptr) std::abort();
      path = pattern;
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// Writes `size` bytes to `path` (replacing it). Aborts on failure: a harness problem, not a
// finding.
inline void write_file(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();
}

// The body of the splat-file targets: `read(stream, what)` on the input; glimpse::Error is the
// expected answer to bad input, and whatever it returns must be a valid model (an Error from that
// check escapes: a finding).
template <typename Read>
int read_gaussians(const uint8_t* data, size_t size, Read read) {
  std::istringstream in(as_string(data, size));
  Gaussians g;
  try {
    g = read(in, "fuzz");
  } catch (const Error&) {
    return 0;
  }
  g.check("fuzz");
  return 0;
}

// Parsers may warn about odd but valid input; the fuzzer runs millions of inputs.
inline void quiet_logs() { set_log_level(LogLevel::Off); }

}  // namespace glimpse::fuzz
