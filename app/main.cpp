// Entry point of the `glimpse` program: spdlog as the log sink, the one catch site of the main
// thread ("glimpse: error: <message>", exit code 1).
#include "app/cli.h"
#include "core/check.h"
#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>
#include <memory>

namespace {

spdlog::level::level_enum to_spdlog(glimpse::LogLevel level) {
  switch (level) {
    case glimpse::LogLevel::Debug:
      return spdlog::level::debug;
    case glimpse::LogLevel::Info:
      return spdlog::level::info;
    case glimpse::LogLevel::Warning:
      return spdlog::level::warn;
    case glimpse::LogLevel::Error:
      return spdlog::level::err;
    case glimpse::LogLevel::Off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr so that stdout carries only results (tables, summaries).
  std::shared_ptr<spdlog::logger> logger = spdlog::stderr_color_mt("glimpse");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  logger->set_level(spdlog::level::trace);  // glimpse's own level does the filtering
  glimpse::set_log_sink([logger](glimpse::LogLevel level, const std::string& message) {
    logger->log(to_spdlog(level), message);
  });

  int code = 1;
  try {
    code = glimpse::run_cli(argc, argv);
  } catch (const glimpse::Error& e) {
    GLIMPSE_LOG(Debug) << e.what();  // with file:line
    std::cerr << "glimpse: error: " << glimpse::user_error_message(e.what()) << "\n";
    code = 1;
  } catch (const std::exception& e) {
    std::cerr << "glimpse: error: " << e.what() << "\n";
    code = 1;
  }
  glimpse::set_log_sink({});
  return code;
}
