// Helpers shared by the io tests: a self-deleting temporary folder and a check that a call throws
// glimpse::Error whose message contains given text.
#pragma once

#include "core/check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

namespace glimpse::testing {

// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("glimpse_io_test_" + std::to_string(rd()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The message of the glimpse::Error thrown by f(), or "" (and a test failure) when none is thrown.
template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const glimpse::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected glimpse::Error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected glimpse::Error, nothing was thrown";
  return {};
}

}  // namespace glimpse::testing

// EXPECT_ERROR_CONTAINS(statement, "text"): statement throws glimpse::Error mentioning "text".
#define EXPECT_ERROR_CONTAINS(statement, text)                                                  \
  do {                                                                                          \
    const std::string glimpse_message_ = ::glimpse::testing::error_message([&] { statement; }); \
    EXPECT_NE(glimpse_message_.find(text), std::string::npos)                                   \
        << "message \"" << glimpse_message_ << "\" does not contain \"" << (text) << "\"";      \
  } while (0)
