// Locating committed test fixtures: a missing fixture fails the test, it never skips it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace glimpse::testing {

// Repository root, from GLIMPSE_SOURCE_DIR (set by ctest) or the compile-time path.
inline std::filesystem::path source_dir() {
  if (const char* env = std::getenv("GLIMPSE_SOURCE_DIR")) return env;
  return GLIMPSE_TEST_SOURCE_DIR;
}

// Real data folder (../shared/data) from GLIMPSE_DATA_DIR, or empty when unset.
inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("GLIMPSE_DATA_DIR")) return env;
  return {};
}

}  // namespace glimpse::testing
