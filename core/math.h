// Small host/device linear algebra templated on the scalar (float in the renderers, double in the
// gradient checks): Vec2/3/4, Mat2/Mat3 (row-major), Quat (stored w, x, y, z).
#pragma once

#include "core/hd.h"

#include <cmath>

namespace glimpse {

// [SECTION] scalar helpers ----------------------------------------------------------------------
template <typename T>
GLIMPSE_INLINE T clamp_value(T v, T lo, T hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}
template <typename T>
GLIMPSE_INLINE T min_value(T a, T b) {
  return a < b ? a : b;
}
template <typename T>
GLIMPSE_INLINE T max_value(T a, T b) {
  return a > b ? a : b;
}
// Spelled as functions so that the kernels also run on the CPU's 8-lane scalar (renderer/cpu/
// simd_float.h), whose overloads are found by argument-dependent lookup: a mask is a bool here.
template <typename T>
GLIMPSE_INLINE T select_value(bool c, T a, T b) {
  return c ? a : b;
}
GLIMPSE_INLINE bool mask_and(bool a, bool b) { return a && b; }
GLIMPSE_INLINE bool mask_or(bool a, bool b) { return a || b; }
template <typename T>
GLIMPSE_INLINE T sqrt_value(T x) {
  return std::sqrt(x);
}
template <typename T>
GLIMPSE_INLINE T exp_value(T x) {
  return std::exp(x);
}

// [SECTION] vectors -----------------------------------------------------------------------------
template <typename T>
struct Vec2 {
  T x{}, y{};
  GLIMPSE_HD Vec2() = default;
  GLIMPSE_HD Vec2(T x_, T y_) : x(x_), y(y_) {}
  GLIMPSE_HD T& operator[](int i) { return i == 0 ? x : y; }
  GLIMPSE_HD T operator[](int i) const { return i == 0 ? x : y; }
};

template <typename T>
struct Vec3 {
  T x{}, y{}, z{};
  GLIMPSE_HD Vec3() = default;
  GLIMPSE_HD Vec3(T x_, T y_, T z_) : x(x_), y(y_), z(z_) {}
  GLIMPSE_HD T& operator[](int i) { return i == 0 ? x : (i == 1 ? y : z); }
  GLIMPSE_HD T operator[](int i) const { return i == 0 ? x : (i == 1 ? y : z); }
};

template <typename T>
struct Vec4 {
  T x{}, y{}, z{}, w{};
  GLIMPSE_HD Vec4() = default;
  GLIMPSE_HD Vec4(T x_, T y_, T z_, T w_) : x(x_), y(y_), z(z_), w(w_) {}
};

#define GLIMPSE_VEC_OPS(V, ...)                                 \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T> operator+(const V<T>& a, const V<T>& b) { \
    V<T> r;                                                     \
    for (int i = 0; i < (__VA_ARGS__); ++i) r[i] = a[i] + b[i]; \
    return r;                                                   \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T> operator-(const V<T>& a, const V<T>& b) { \
    V<T> r;                                                     \
    for (int i = 0; i < (__VA_ARGS__); ++i) r[i] = a[i] - b[i]; \
    return r;                                                   \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T> operator-(const V<T>& a) {                \
    V<T> r;                                                     \
    for (int i = 0; i < (__VA_ARGS__); ++i) r[i] = -a[i];       \
    return r;                                                   \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T> operator*(const V<T>& a, T s) {           \
    V<T> r;                                                     \
    for (int i = 0; i < (__VA_ARGS__); ++i) r[i] = a[i] * s;    \
    return r;                                                   \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T> operator*(T s, const V<T>& a) {           \
    return a * s;                                               \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T>& operator+=(V<T>& a, const V<T>& b) {     \
    for (int i = 0; i < (__VA_ARGS__); ++i) a[i] += b[i];       \
    return a;                                                   \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE V<T>& operator-=(V<T>& a, const V<T>& b) {     \
    for (int i = 0; i < (__VA_ARGS__); ++i) a[i] -= b[i];       \
    return a;                                                   \
  }                                                             \
  template <typename T>                                         \
  GLIMPSE_INLINE T dot(const V<T>& a, const V<T>& b) {          \
    T s = T(0);                                                 \
    for (int i = 0; i < (__VA_ARGS__); ++i) s += a[i] * b[i];   \
    return s;                                                   \
  }

GLIMPSE_VEC_OPS(Vec2, 2)
GLIMPSE_VEC_OPS(Vec3, 3)
#undef GLIMPSE_VEC_OPS

template <typename T>
GLIMPSE_INLINE Vec3<T> cross(const Vec3<T>& a, const Vec3<T>& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
template <typename T>
GLIMPSE_INLINE T norm(const Vec3<T>& a) {
  return sqrt_value(dot(a, a));
}

// [SECTION] matrices (row-major, m[row][col]) ----------------------------------------------------
template <typename T>
struct Mat2 {
  T m[2][2]{};
  GLIMPSE_HD T* operator[](int r) { return m[r]; }
  GLIMPSE_HD const T* operator[](int r) const { return m[r]; }
  GLIMPSE_HD T det() const { return m[0][0] * m[1][1] - m[0][1] * m[1][0]; }
};

template <typename T>
struct Mat3 {
  T m[3][3]{};
  GLIMPSE_HD T* operator[](int r) { return m[r]; }
  GLIMPSE_HD const T* operator[](int r) const { return m[r]; }
  static GLIMPSE_HD Mat3 identity() {
    Mat3 r;
    r.m[0][0] = r.m[1][1] = r.m[2][2] = T(1);
    return r;
  }
  GLIMPSE_HD Mat3 transposed() const {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) r.m[i][j] = m[j][i];
    return r;
  }
  GLIMPSE_HD T det() const {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  }
};

template <typename T>
GLIMPSE_INLINE Mat3<T> operator*(const Mat3<T>& a, const Mat3<T>& b) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      T s = T(0);
      for (int k = 0; k < 3; ++k) s += a.m[i][k] * b.m[k][j];
      r.m[i][j] = s;
    }
  return r;
}
template <typename T>
GLIMPSE_INLINE Mat3<T> operator+(const Mat3<T>& a, const Mat3<T>& b) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = a.m[i][j] + b.m[i][j];
  return r;
}
template <typename T>
GLIMPSE_INLINE Vec3<T> operator*(const Mat3<T>& a, const Vec3<T>& v) {
  return {a.m[0][0] * v.x + a.m[0][1] * v.y + a.m[0][2] * v.z,
          a.m[1][0] * v.x + a.m[1][1] * v.y + a.m[1][2] * v.z,
          a.m[2][0] * v.x + a.m[2][1] * v.y + a.m[2][2] * v.z};
}
// a^T v without forming the transpose.
template <typename T>
GLIMPSE_INLINE Vec3<T> mul_transposed(const Mat3<T>& a, const Vec3<T>& v) {
  return {a.m[0][0] * v.x + a.m[1][0] * v.y + a.m[2][0] * v.z,
          a.m[0][1] * v.x + a.m[1][1] * v.y + a.m[2][1] * v.z,
          a.m[0][2] * v.x + a.m[1][2] * v.y + a.m[2][2] * v.z};
}
// Outer product a b^T.
template <typename T>
GLIMPSE_INLINE Mat3<T> outer(const Vec3<T>& a, const Vec3<T>& b) {
  Mat3<T> r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i][j] = a[i] * b[j];
  return r;
}

// [SECTION] quaternions ---------------------------------------------------------------------------
// Unit quaternion for rotations, stored w, x, y, z (Hamilton convention). File orders (COLMAP
// qw qx qy qz, Eigen x y z w) are converted in io/ only.
template <typename T>
struct Quat {
  T w{1}, x{}, y{}, z{};
  GLIMPSE_HD Quat() = default;
  GLIMPSE_HD Quat(T w_, T x_, T y_, T z_) : w(w_), x(x_), y(y_), z(z_) {}
};

// Rotation matrix of a unit quaternion.
template <typename T>
GLIMPSE_INLINE Mat3<T> quat_to_rotmat(const Quat<T>& q) {
  const T w = q.w, x = q.x, y = q.y, z = q.z;
  Mat3<T> r;
  r.m[0][0] = T(1) - T(2) * (y * y + z * z);
  r.m[0][1] = T(2) * (x * y - w * z);
  r.m[0][2] = T(2) * (x * z + w * y);
  r.m[1][0] = T(2) * (x * y + w * z);
  r.m[1][1] = T(1) - T(2) * (x * x + z * z);
  r.m[1][2] = T(2) * (y * z - w * x);
  r.m[2][0] = T(2) * (x * z - w * y);
  r.m[2][1] = T(2) * (y * z + w * x);
  r.m[2][2] = T(1) - T(2) * (x * x + y * y);
  return r;
}

// Quaternion (w, x, y, z) of a rotation matrix (Shepperd's method, numerically stable).
template <typename T>
GLIMPSE_INLINE Quat<T> rotmat_to_quat(const Mat3<T>& r) {
  const T tr = r.m[0][0] + r.m[1][1] + r.m[2][2];
  Quat<T> q;
  if (tr > T(0)) {
    const T s = std::sqrt(tr + T(1)) * T(2);
    q = {T(0.25) * s, (r.m[2][1] - r.m[1][2]) / s, (r.m[0][2] - r.m[2][0]) / s,
         (r.m[1][0] - r.m[0][1]) / s};
  } else if (r.m[0][0] > r.m[1][1] && r.m[0][0] > r.m[2][2]) {
    const T s = std::sqrt(T(1) + r.m[0][0] - r.m[1][1] - r.m[2][2]) * T(2);
    q = {(r.m[2][1] - r.m[1][2]) / s, T(0.25) * s, (r.m[0][1] + r.m[1][0]) / s,
         (r.m[0][2] + r.m[2][0]) / s};
  } else if (r.m[1][1] > r.m[2][2]) {
    const T s = std::sqrt(T(1) + r.m[1][1] - r.m[0][0] - r.m[2][2]) * T(2);
    q = {(r.m[0][2] - r.m[2][0]) / s, (r.m[0][1] + r.m[1][0]) / s, T(0.25) * s,
         (r.m[1][2] + r.m[2][1]) / s};
  } else {
    const T s = std::sqrt(T(1) + r.m[2][2] - r.m[0][0] - r.m[1][1]) * T(2);
    q = {(r.m[1][0] - r.m[0][1]) / s, (r.m[0][2] + r.m[2][0]) / s, (r.m[1][2] + r.m[2][1]) / s,
         T(0.25) * s};
  }
  if (q.w < T(0)) q = {-q.w, -q.x, -q.y, -q.z};
  return q;
}

}  // namespace glimpse
