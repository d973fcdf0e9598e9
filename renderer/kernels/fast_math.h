// exp() for the blending loops. On the CPU a branch-free Cephes-style polynomial that the compiler
// vectorises (libm's expf does not vectorise without -ffast-math); relative error < 2e-7 over
// [-87, 0]. On the GPU and in double it is the library exp.
#pragma once

#include "core/hd.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace glimpse {

template <typename T>
GLIMPSE_INLINE T exp_blend(T x) {
  return std::exp(x);
}

#if !GLIMPSE_ON_DEVICE
template <>
inline float exp_blend<float>(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  // x - n ln2 in two parts (Cody-Waite) for accuracy.
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof(scale));  // 2^n (kernel headers stay C++17: no bit_cast)
  return p * scale;
}
#endif

}  // namespace glimpse
