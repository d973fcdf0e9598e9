// FNV-1a 64: a small, stable hash for cache keys (views, cameras, settings, model files). Not
// cryptographic; the same bytes give the same key on every platform of one endianness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace glimpse {

struct Fnv64 {
  uint64_t h = 0xcbf29ce484222325ull;
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ull;
    }
  }
  void str(const std::string& s) {
    const uint64_t n = s.size();
    bytes(&n, sizeof(n));
    bytes(s.data(), s.size());
  }
  void num(double v) { bytes(&v, sizeof(v)); }
  void num(int v) { bytes(&v, sizeof(v)); }
  // 16 lowercase hex digits.
  std::string hex() const {
    char buffer[17];
    std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(h));
    return buffer;
  }
};

// A seed of its own for a (seed, iteration, salt) triple (SplitMix64's finaliser): per-step random
// streams that are deterministic for the run's seed and so survive a resume.
inline uint64_t mix_seed(uint64_t seed, uint64_t iteration, uint64_t salt) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + iteration * 0xBF58476D1CE4E5B9ull + salt;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace glimpse
