// Float8: eight floats that the shared kernels take as their scalar T, so the per-Gaussian chain
// (renderer/kernels/gaussian_chain.h: covariance, projection, spherical harmonics and their VJPs)
// runs on 8 Gaussians at once with the same source as the double path and the GPU. The kernels
// spell comparisons, branches and library calls as select_value, mask_and, mask_or, min_value,
// max_value, clamp_value, sqrt_value and exp_value (core/math.h); the overloads here are found
// by argument-dependent lookup. exp is fast_math.h's polynomial (relative error < 2e-7).
#pragma once

#include "core/math.h"
#include "renderer/cpu/lanes.h"
#include "renderer/kernels/fast_math.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#if GLIMPSE_HAS_LANES
namespace glimpse {

struct Mask8 {
  i32x8 m;  // all bits set where true
};

struct Float8 {
  f32x8 v{};
  Float8() = default;
  Float8(float s) : v(lane_const<f32x8>(s)) {}  // NOLINT: constants broadcast implicitly
  explicit Float8(f32x8 x) : v(x) {}
  float operator[](int lane) const { return v[lane]; }
  static Float8 load(const float* p) { return Float8(LaneTraits<float>::load(p)); }
  void store(float* p) const { LaneTraits<float>::store(p, v); }
};

inline Float8 operator+(Float8 a, Float8 b) { return Float8(a.v + b.v); }
inline Float8 operator-(Float8 a, Float8 b) { return Float8(a.v - b.v); }
inline Float8 operator*(Float8 a, Float8 b) { return Float8(a.v * b.v); }
inline Float8 operator/(Float8 a, Float8 b) { return Float8(a.v / b.v); }
inline Float8 operator-(Float8 a) { return Float8(-a.v); }
inline Float8& operator+=(Float8& a, Float8 b) {
  a.v += b.v;
  return a;
}
inline Float8& operator-=(Float8& a, Float8 b) {
  a.v -= b.v;
  return a;
}
inline Float8& operator*=(Float8& a, Float8 b) {
  a.v *= b.v;
  return a;
}
inline Mask8 operator<(Float8 a, Float8 b) { return {a.v < b.v}; }
inline Mask8 operator<=(Float8 a, Float8 b) { return {a.v <= b.v}; }
inline Mask8 operator>(Float8 a, Float8 b) { return {a.v > b.v}; }
inline Mask8 operator>=(Float8 a, Float8 b) { return {a.v >= b.v}; }
inline Mask8 operator!(Mask8 a) { return {~a.m}; }
inline Mask8 mask_and(Mask8 a, Mask8 b) { return {a.m & b.m}; }
inline Mask8 mask_or(Mask8 a, Mask8 b) { return {a.m | b.m}; }

inline Float8 select_value(Mask8 c, Float8 a, Float8 b) { return Float8(c.m ? a.v : b.v); }
// The scalar templates' semantics: a < b ? a : b, a > b ? a : b (one instruction each on AVX).
inline Float8 min_value(Float8 a, Float8 b) { return Float8(lane_min(a.v, b.v)); }
inline Float8 max_value(Float8 a, Float8 b) { return Float8(lane_max(a.v, b.v)); }
inline Float8 clamp_value(Float8 x, Float8 lo, Float8 hi) {
  return select_value(x < lo, lo, select_value(x > hi, hi, x));
}
inline Float8 sqrt_value(Float8 x) {
#if defined(__AVX__)
  return Float8(__builtin_ia32_sqrtps256(x.v));
#else
  for (int k = 0; k < 8; ++k) x.v[k] = std::sqrt(x.v[k]);
  return x;
#endif
}
inline Float8 exp_value(Float8 x) { return Float8(exp_blend(x.v)); }

// In place 8x8 transpose: r[i][j] becomes r[j][i] (24 shuffles).
inline void transpose8x8(f32x8* r) {
  auto lo = [](f32x8 a, f32x8 b) { return GLIMPSE_SHUFFLE8(a, b, 0, 8, 1, 9, 4, 12, 5, 13); };
  auto hi = [](f32x8 a, f32x8 b) { return GLIMPSE_SHUFFLE8(a, b, 2, 10, 3, 11, 6, 14, 7, 15); };
  auto even = [](f32x8 a, f32x8 b) { return GLIMPSE_SHUFFLE8(a, b, 0, 1, 8, 9, 4, 5, 12, 13); };
  auto odd = [](f32x8 a, f32x8 b) { return GLIMPSE_SHUFFLE8(a, b, 2, 3, 10, 11, 6, 7, 14, 15); };
  // t: pairs of rows interleaved; s: quads (columns c and c + 4 of four rows).
  const f32x8 t0 = lo(r[0], r[1]), t1 = hi(r[0], r[1]), t2 = lo(r[2], r[3]), t3 = hi(r[2], r[3]);
  const f32x8 t4 = lo(r[4], r[5]), t5 = hi(r[4], r[5]), t6 = lo(r[6], r[7]), t7 = hi(r[6], r[7]);
  const f32x8 s0 = even(t0, t2), s1 = odd(t0, t2), s2 = even(t1, t3), s3 = odd(t1, t3);
  const f32x8 s4 = even(t4, t6), s5 = odd(t4, t6), s6 = even(t5, t7), s7 = odd(t5, t7);
  auto first = [](f32x8 a, f32x8 b) { return GLIMPSE_SHUFFLE8(a, b, 0, 1, 2, 3, 8, 9, 10, 11); };
  auto second = [](f32x8 a, f32x8 b) { return GLIMPSE_SHUFFLE8(a, b, 4, 5, 6, 7, 12, 13, 14, 15); };
  r[0] = first(s0, s4), r[4] = second(s0, s4);
  r[1] = first(s1, s5), r[5] = second(s1, s5);
  r[2] = first(s2, s6), r[6] = second(s2, s6);
  r[3] = first(s3, s7), r[7] = second(s3, s7);
}

// rows[k] = the k-th of `count` consecutive values at src[index[l]] in lane l (8 Gaussians'
// records into lane rows): 8x8 transposes of whole blocks, the rest one value at a time.
inline void gather_lane_rows(const float* src, const size_t* index, int count, Float8* rows) {
  int k = 0;
  for (; k + 8 <= count; k += 8) {
    f32x8 block[8];
    for (int l = 0; l < 8; ++l) std::memcpy(&block[l], src + index[l] + k, sizeof(f32x8));
    transpose8x8(block);
    for (int j = 0; j < 8; ++j) rows[k + j] = Float8(block[j]);
  }
  for (; k < count; ++k)
    for (int l = 0; l < 8; ++l) rows[k].v[l] = src[index[l] + k];
}

}  // namespace glimpse
#endif
