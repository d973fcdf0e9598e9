// Helpers for tests of error paths: the message of the glimpse::Error a call throws, and a
// substring expectation that prints the whole text when it fails.
#pragma once

#include "core/check.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace glimpse::testing {

// The message (without the file:line prefix) of the glimpse::Error that `f` throws; a test
// failure and "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return error_message_without_location(e.what());
  }
  ADD_FAILURE() << "no glimpse::Error thrown";
  return "";
}

}  // namespace glimpse::testing

// EXPECT that `text` (a std::string or C string) contains `part`.
#define EXPECT_HAS(text, part)                               \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (text) << "' lacks '" << (part) << "'"
