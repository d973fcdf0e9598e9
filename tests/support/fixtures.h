// Locating committed test fixtures (a missing fixture fails the test, it never skips it), and
// reading the files a command wrote.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// The whole file as text ("" when it cannot be read: the test's expectations then fail).
inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The file parsed as JSON; a test failure and null when it is missing or not JSON.
inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  const nlohmann::json j = nlohmann::json::parse(read_text_file(path), nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << path << " is missing or not JSON";
    return nullptr;
  }
  return j;
}

}  // namespace glimpse::testing
