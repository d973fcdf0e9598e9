// A uniquely named temporary folder for a test, removed with its contents when it goes out of
// scope. The name carries the test's suite and name (to find what a crashed test left behind),
// the process id (ctest runs test binaries in parallel) and a counter (several folders per test).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace glimpse::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "glimpse_";  // built with += (GCC 12 -Wrestrict false positive on "a" + s)
    if (info != nullptr) {
      name += info->test_suite_name();
      name += "_";
      name += info->name();
      name += "_";
    }
    name += std::to_string(static_cast<long long>(getpid()));
    name += "_";
    name += std::to_string(counter++);
    for (char& c : name)  // parameterised tests are named "Prefix/Suite.Test/0"
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
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
  // The path of `name` inside the folder, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace glimpse::testing
