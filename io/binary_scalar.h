// Decoding little-endian scalars from raw bytes on any host, for the binary readers (.npy, PLY).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace glimpse {

// Little-endian load of a trivially copyable value.
template <typename T>
T load_le(const char* p) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(T));
  T v;
  std::memcpy(&v, bytes, sizeof(T));
  return v;
}

enum class ScalarKind { Float, Int, UInt, Bool };

// A stored scalar type: floats of 4 or 8 bytes, integers of 1, 2, 4 or 8, bool of 1.
struct ScalarFormat {
  ScalarKind kind = ScalarKind::Float;
  size_t size = 4;
};

inline double load_scalar(const char* p, const ScalarFormat& t) {
  switch (t.kind) {
    case ScalarKind::Float:
      return t.size == 8 ? load_le<double>(p) : static_cast<double>(load_le<float>(p));
    case ScalarKind::Int:
      switch (t.size) {
        case 8:
          return static_cast<double>(load_le<int64_t>(p));
        case 4:
          return static_cast<double>(load_le<int32_t>(p));
        case 2:
          return static_cast<double>(load_le<int16_t>(p));
        default:
          return static_cast<double>(load_le<int8_t>(p));
      }
    case ScalarKind::UInt:
      switch (t.size) {
        case 8:
          return static_cast<double>(load_le<uint64_t>(p));
        case 4:
          return static_cast<double>(load_le<uint32_t>(p));
        case 2:
          return static_cast<double>(load_le<uint16_t>(p));
        default:
          return static_cast<double>(load_le<uint8_t>(p));
      }
    case ScalarKind::Bool:
      return *p != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

}  // namespace glimpse
