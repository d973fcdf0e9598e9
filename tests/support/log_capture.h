// Records log messages of level Error and above (and, separately, warnings) instead of failing the
// running test (see
// tests/support/test_main.cpp), for tests of code that reports errors and carries on; restores
// the failing behaviour when it goes out of scope.
#pragma once

#include "core/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace glimpse::testing {

class LogCapture {
 public:
  LogCapture() {
    set_log_sink([this](LogLevel level, const std::string& message) {
      if (level >= LogLevel::Error)
        errors.push_back(message);
      else if (level == LogLevel::Warning)
        warnings.push_back(message);
    });
  }
  ~LogCapture() {
    set_log_sink([](LogLevel level, const std::string& message) {
      std::fprintf(stderr, "[%s] %s\n", log_level_name(level), message.c_str());
      if (level >= LogLevel::Error) ADD_FAILURE() << "error logged: " << message;
    });
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

}  // namespace glimpse::testing
