// Lane types of the CPU tile loops: a 16-pixel tile row is processed as 16/W groups of W lanes.
// float uses 8-lane vectors (fast_math.h), double (the gradient checks) runs the same code one
// lane at a time. Only loads, stores, masks and horizontal sums differ; the math is the kernels'.
#pragma once

#include "renderer/kernels/fast_math.h"

#include <cstdint>
#include <cstring>

namespace glimpse {

template <typename T>
struct LaneTraits;

template <>
struct LaneTraits<double> {
  using V = double;   // values
  using I = int32_t;  // integers
  using M = bool;     // masks
  static constexpr int kWidth = 1;
  static V iota() { return 0.0; }
  static V load(const double* p) { return *p; }
  static void store(double* p, V v) { *p = v; }
  static I load(const int32_t* p) { return *p; }
  static void store(int32_t* p, I v) { *p = v; }
  static M and_not(M a, M b) { return a && !b; }
  static V min(V a, V b) { return a < b ? a : b; }
  static bool any(M m) { return m; }
  static double sum(V v) { return v; }
  static void sum8(const V* v, double* out) {
    for (int k = 0; k < 8; ++k) out[k] = v[k];
  }
};

#if GLIMPSE_HAS_LANES
template <>
struct LaneTraits<float> {
  using V = f32x8;
  using I = i32x8;
  using M = i32x8;  // all bits set where true
  static constexpr int kWidth = 8;
  static V iota() { return V{0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f}; }
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof(v)); }
  static I load(const int32_t* p) {
    I v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void store(int32_t* p, I v) { std::memcpy(p, &v, sizeof(v)); }
  static M and_not(M a, M b) { return a & ~b; }
  static V min(V a, V b) { return lane_min(a, b); }  // a < b ? a : b
  static bool any(M m) {
    int32_t bits = 0;
    for (int k = 0; k < 8; ++k) bits |= m[k];
    return bits != 0;
  }
  // Fixed summation order: results do not depend on anything but the inputs.
  static float sum(V v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  }
  // out[k] = sum(v[k]) for 8 vectors at once (a transpose by shuffles: 21 vector operations
  // instead of 8 horizontal sums), adding in sum()'s order, so the results are bit-identical.
  static void sum8(const V* v, float* out) {
    auto pairs = [](V a, V b) {  // [a0+a1, b0+b1, a2+a3, b2+b3, ...]
      return GLIMPSE_SHUFFLE8(a, b, 0, 8, 2, 10, 4, 12, 6, 14) +
             GLIMPSE_SHUFFLE8(a, b, 1, 9, 3, 11, 5, 13, 7, 15);
    };
    const V t01 = pairs(v[0], v[1]), t23 = pairs(v[2], v[3]);
    const V t45 = pairs(v[4], v[5]), t67 = pairs(v[6], v[7]);
    // [s0(0..3), s1(0..3), s2(0..3), s3(0..3), s0(4..7), s1(4..7), s2(4..7), s3(4..7)]
    const V u0 = GLIMPSE_SHUFFLE8(t01, t23, 0, 1, 8, 9, 4, 5, 12, 13) +
                 GLIMPSE_SHUFFLE8(t01, t23, 2, 3, 10, 11, 6, 7, 14, 15);
    const V u1 = GLIMPSE_SHUFFLE8(t45, t67, 0, 1, 8, 9, 4, 5, 12, 13) +
                 GLIMPSE_SHUFFLE8(t45, t67, 2, 3, 10, 11, 6, 7, 14, 15);
    const V w = GLIMPSE_SHUFFLE8(u0, u1, 0, 1, 2, 3, 8, 9, 10, 11) +
                GLIMPSE_SHUFFLE8(u0, u1, 4, 5, 6, 7, 12, 13, 14, 15);
    std::memcpy(out, &w, sizeof(w));
  }
};
#endif

}  // namespace glimpse
