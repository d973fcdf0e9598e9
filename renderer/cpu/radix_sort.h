// Stable LSD radix sort of (uint32 key, uint32 value) pairs, 8 bits per pass; passes whose digit is
// the same for every key are skipped. Used for the per-view depth sort of the CPU backend.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace glimpse {

// keys_tmp, values_tmp: scratch, resized here (kept by the caller so repeated sorts reuse pages).
inline void radix_sort_pairs(std::vector<uint32_t>& keys, std::vector<uint32_t>& values,
                             std::vector<uint32_t>& keys_tmp, std::vector<uint32_t>& values_tmp) {
  const size_t n = keys.size();
  keys_tmp.resize(n);
  values_tmp.resize(n);
  for (int shift = 0; shift < 32; shift += 8) {
    std::array<size_t, 257> count{};
    for (size_t i = 0; i < n; ++i) ++count[((keys[i] >> shift) & 0xFFu) + 1];
    bool trivial = false;
    for (int d = 1; d <= 256; ++d)
      if (count[d] == n) trivial = true;
    if (trivial) continue;
    for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (size_t i = 0; i < n; ++i) {
      const size_t dst = count[(keys[i] >> shift) & 0xFFu]++;
      keys_tmp[dst] = keys[i];
      values_tmp[dst] = values[i];
    }
    keys.swap(keys_tmp);
    values.swap(values_tmp);
  }
}

}  // namespace glimpse
