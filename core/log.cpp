// Logging sink and level, shared by every module.
#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace glimpse {
namespace {
std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
LogSink& sink_storage() {
  static LogSink sink;
  return sink;
}
std::atomic<int>& level_storage() {
  static std::atomic<int> level{static_cast<int>(LogLevel::Info)};
  return level;
}
}  // namespace

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
    case LogLevel::Off:
      return "off";
  }
  return "?";
}

void set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  sink_storage() = std::move(sink);
}

void set_log_level(LogLevel level) { level_storage() = static_cast<int>(level); }

LogLevel log_level() { return static_cast<LogLevel>(level_storage().load()); }

void log_message(LogLevel level, const std::string& message) {
  if (level < log_level()) return;
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (sink_storage()) {
    sink_storage()(level, message);
  } else {
    std::fprintf(stderr, "[%s] %s\n", log_level_name(level), message.c_str());
  }
}

}  // namespace glimpse
