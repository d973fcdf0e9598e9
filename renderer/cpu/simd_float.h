// Float8: eight floats that the shared kernels take as their scalar T, so the per-Gaussian chain
// (renderer/kernels/gaussian_chain.h: covariance, projection, spherical harmonics and their VJPs)
// runs on 8 Gaussians at once with the same source as the double path and the GPU. The kernels
// spell comparisons, branches and library calls as select_value, mask_and, mask_or, min_value,
// max_value, clamp_value, sqrt_value and exp_value (core/math.h); the overloads here are found
// by argument-dependent lookup. exp is fast_math.h's polynomial (relative error < 2e-7).
#pragma once

#include "core/math.h"
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
  static Float8 load(const float* p) {
    Float8 r;
    std::memcpy(&r.v, p, sizeof(r.v));
    return r;
  }
  void store(float* p) const { std::memcpy(p, &v, sizeof(v)); }
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

// Sum of the lanes in a fixed order (LaneTraits<float>::sum's).
inline float lane_sum(Float8 x) {
  return ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
}

}  // namespace glimpse
#endif
