// Helpers for tests of error paths: the message of the glimpse::Error a call throws (with or
// without its file:line prefix), and substring expectations that print the whole text when they
// fail.
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

// The whole message (file:line prefix included) of the glimpse::Error thrown by f(), or "" (and a
// test failure) when none is thrown or another exception is.
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

// EXPECT that `text` (a std::string or C string) contains `part`.
#define EXPECT_HAS(text, part)                               \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (text) << "' lacks '" << (part) << "'"

// EXPECT_ERROR_CONTAINS(statement, "text"): statement throws glimpse::Error mentioning "text".
#define EXPECT_ERROR_CONTAINS(statement, text)                                                  \
  do {                                                                                          \
    const std::string glimpse_message_ = ::glimpse::testing::error_message([&] { statement; }); \
    EXPECT_NE(glimpse_message_.find(text), std::string::npos)                                   \
        << "message \"" << glimpse_message_ << "\" does not contain \"" << (text) << "\"";      \
  } while (0)
