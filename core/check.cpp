// Helpers for glimpse::Error messages.
#include "core/check.h"

namespace glimpse {

std::string error_message_without_location(const std::string& what) {
  // "path/file.cpp:123: message" -> "message"
  const auto colon = what.find(": ");
  if (colon == std::string::npos) return what;
  const std::string head = what.substr(0, colon);
  const auto line_sep = head.rfind(':');
  if (line_sep == std::string::npos) return what;
  for (size_t i = line_sep + 1; i < head.size(); ++i)
    if (head[i] < '0' || head[i] > '9') return what;
  return what.substr(colon + 2);
}

}  // namespace glimpse
