// Test entry point: library warnings are shown, errors fail the running test.
#include "core/log.h"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  glimpse::set_log_sink([](glimpse::LogLevel level, const std::string& message) {
    std::fprintf(stderr, "[%s] %s\n", glimpse::log_level_name(level), message.c_str());
    if (level >= glimpse::LogLevel::Error) ADD_FAILURE() << "error logged: " << message;
  });
  return RUN_ALL_TESTS();
}
