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
  static double sum(V v) { return v; }
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
  // Fixed summation order: results do not depend on anything but the inputs.
  static float sum(V v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  }
};
#endif

}  // namespace glimpse
