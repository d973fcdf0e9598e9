// A uniquely named temporary folder for one test, removed when the test ends.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace glimpse::testing {

class TempDir {
 public:
  TempDir() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "glimpse_";  // built with += (GCC 12 -Wrestrict false positive on "a" + s)
    if (info != nullptr) {
      name += info->test_suite_name();
      name += "_";
      name += info->name();
    }
    name += "_";
    name += std::to_string(static_cast<long long>(getpid()));
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace glimpse::testing
