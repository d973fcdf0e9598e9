// Minimal levelled logging for the libraries (core may use only the standard library). The app
// installs a sink (spdlog, the viewer's log panel); by default messages go to stderr.
#pragma once

#include <functional>
#include <sstream>
#include <string>

namespace glimpse {

enum class LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3, Off = 4 };

using LogSink = std::function<void(LogLevel, const std::string&)>;

// Replaces the sink (thread-safe). An empty function restores the stderr sink.
void set_log_sink(LogSink sink);
void set_log_level(LogLevel level);
// Receivers of every message at or above the level besides the sink (a session's log panel).
// A listener must not log itself. Returns the id for remove_log_listener.
int add_log_listener(LogSink listener);
void remove_log_listener(int id);
LogLevel log_level();
void log_message(LogLevel level, const std::string& message);
const char* log_level_name(LogLevel level);

namespace detail {
class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine() { log_message(level_, stream_.str()); }
  template <typename V>
  LogLine& operator<<(const V& v) {
    stream_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};
}  // namespace detail

}  // namespace glimpse

#define GLIMPSE_LOG(level)                                   \
  if (::glimpse::LogLevel::level < ::glimpse::log_level()) { \
  } else                                                     \
    ::glimpse::detail::LogLine(::glimpse::LogLevel::level)
