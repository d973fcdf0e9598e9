// exp() for the blending loops and the CPU's SIMD lane types. On the CPU, exp_blend on 8-float
// lanes is a branch-free polynomial (relative error < 2e-7 over [-87, 0]); in double,
// on scalars and on the GPU it is the library exp. lane_const<V>(x) broadcasts a constant to a
// lane type, so the per-pixel kernels run unchanged on scalars (float, double) and on lanes.
#pragma once

#include "core/hd.h"

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace glimpse {

#if !GLIMPSE_DEVICE_COMPILE && (defined(__GNUC__) || defined(__clang__))
#define GLIMPSE_HAS_LANES 1
// Eight float or int32 lanes (GCC/Clang vector extensions: AVX2 registers where available, pairs
// of SSE/NEON registers elsewhere).
typedef float f32x8 __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
// Lanes of the concatenation of two 8-lane vectors a and b (indices 0-7: a, 8-15: b).
// __builtin_shufflevector needs GCC 12 or Clang; older GCC (the host compiler of many CUDA
// images) has __builtin_shuffle with a mask vector.
#if defined(__clang__) || __GNUC__ >= 12
#define GLIMPSE_SHUFFLE8(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define GLIMPSE_SHUFFLE8(a, b, ...) __builtin_shuffle(a, b, i32x8{__VA_ARGS__})
#endif
#else
#define GLIMPSE_HAS_LANES 0
#endif

// Element type of a scalar or lane type.
template <typename V>
struct LaneElement {
  using type = V;
};
#if GLIMPSE_HAS_LANES
template <>
struct LaneElement<f32x8> {
  using type = float;
};
template <>
struct LaneElement<i32x8> {
  using type = int32_t;
};
#endif

template <typename V, typename S>
GLIMPSE_INLINE V lane_const(S s) {
  return V{} + static_cast<typename LaneElement<V>::type>(s);
}

template <typename T>
GLIMPSE_INLINE T exp_blend(T x) {
  return std::exp(x);
}

#if GLIMPSE_HAS_LANES
// min and max of 8 lanes with the semantics of `a < b ? a : b` and `a > b ? a : b` (the second
// operand where either is NaN): one instruction on AVX, where GCC emits a compare and a blend
// for the conditional.
inline f32x8 lane_min(f32x8 a, f32x8 b) {
#if defined(__AVX__)
  return __builtin_ia32_minps256(a, b);
#else
  return a < b ? a : b;
#endif
}
inline f32x8 lane_max(f32x8 a, f32x8 b) {
#if defined(__AVX__)
  return __builtin_ia32_maxps256(a, b);
#else
  return a > b ? a : b;
#endif
}

inline f32x8 exp_blend(f32x8 x) {
  x = lane_max(lane_const<f32x8>(-87.0f), x);  // -87 > x ? -87 : x (NaN stays NaN)
  x = lane_min(lane_const<f32x8>(88.0f), x);
  // n = round(x / ln2) by the 1.5 * 2^23 trick: adding it rounds to nearest, and the low
  // mantissa bits then hold n (two adds and a subtract, a shorter chain than converting).
  const f32x8 magic = lane_const<f32x8>(12582912.0f);
  const f32x8 t = x * 1.44269504088896341f + magic;
  const f32x8 n = t - magic;
  i32x8 ni;
  __builtin_memcpy(&ni, &t, sizeof(ni));
  ni -= 0x4B400000;
  // x - n ln2 in two parts (Cody-Waite).
  f32x8 r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  // exp(r) on |r| <= ln2/2 as 1 + r + r^2 P(r), P of degree 3 fitted for the least maximum
  // relative error (1.05e-7; Lawson's iteration in 40-digit arithmetic).
  f32x8 p = lane_const<f32x8>(8.3125250495e-3f);
  p = p * r + 4.18901134316e-2f;
  p = p * r + 1.66671144642e-1f;
  p = p * r + 4.99992317889e-1f;
  p = p * r * r + r + 1.0f;
  const i32x8 e = (ni + 127) << 23;  // 2^n as float bits
  f32x8 scale;
  __builtin_memcpy(&scale, &e, sizeof(scale));
  return p * scale;
}
#endif

}  // namespace glimpse
