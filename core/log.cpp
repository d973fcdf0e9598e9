// Logging sink and level, shared by every module.
#include "core/log.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>
#include <vector>

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
std::vector<std::pair<int, LogSink>>& listeners() {
  static std::vector<std::pair<int, LogSink>> l;
  return l;
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

int add_log_listener(LogSink listener) {
  static int next_id = 0;
  std::lock_guard<std::mutex> lock(sink_mutex());
  listeners().emplace_back(++next_id, std::move(listener));
  return next_id;
}

void remove_log_listener(int id) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  auto& l = listeners();
  l.erase(std::remove_if(l.begin(), l.end(), [id](const auto& e) { return e.first == id; }),
          l.end());
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
  for (const auto& [id, listener] : listeners()) listener(level, message);
}

}  // namespace glimpse
