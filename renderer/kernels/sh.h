// View-dependent colour from real spherical harmonics up to degree 3, with the basis and sign
// conventions of 3D Gaussian Splatting (Kerbl et al. 2023; the constants of its sh_utils). The
// colour is sum_k Y_k(d) c_k + 0.5, clamped at 0, with d the unit direction from the camera
// centre to the Gaussian. Coefficients are [K, 3]: coefficient-major, RGB innermost.
#pragma once

#include "core/math.h"

namespace glimpse {

inline constexpr int kMaxShDegree = 3;
inline constexpr int kMaxShCoeffs = 16;
// Y_0^0: a DC-only colour is kShC0 * dc + 0.5, so an RGB colour c has dc = (c - 0.5) / kShC0.
inline constexpr double kShC0 = 0.28209479177387814;
GLIMPSE_INLINE constexpr int sh_coeffs_for_degree(int degree) {
  return (degree + 1) * (degree + 1);
}

// Basis values Y[0..K) at the unit direction (x, y, z) and, if dy is not null, their gradients
// with respect to (x, y, z) treated as independent variables.
template <typename T>
GLIMPSE_INLINE void sh_basis(int degree, const Vec3<T>& d, T* y, Vec3<T>* dy) {
  const T c0 = T(0.28209479177387814), c1 = T(0.4886025119029199);
  const T c20 = T(1.0925484305920792), c21 = T(-1.0925484305920792), c22 = T(0.31539156525252005),
          c23 = T(-1.0925484305920792), c24 = T(0.5462742152960396);
  const T c30 = T(-0.5900435899266435), c31 = T(2.890611442640554), c32 = T(-0.4570457994644658),
          c33 = T(0.3731763325901154), c34 = T(-0.4570457994644658), c35 = T(1.445305721320277),
          c36 = T(-0.5900435899266435);
  const T x = d.x, yy_ = d.y, z = d.z;  // yy_: the y coordinate (y is the output array)
  y[0] = c0;
  if (dy) dy[0] = {T(0), T(0), T(0)};
  if (degree < 1) return;
  y[1] = -c1 * yy_;
  y[2] = c1 * z;
  y[3] = -c1 * x;
  if (dy) {
    dy[1] = {T(0), -c1, T(0)};
    dy[2] = {T(0), T(0), c1};
    dy[3] = {-c1, T(0), T(0)};
  }
  if (degree < 2) return;
  const T xx = x * x, yy = yy_ * yy_, zz = z * z, xy = x * yy_, yz = yy_ * z, xz = x * z;
  y[4] = c20 * xy;
  y[5] = c21 * yz;
  y[6] = c22 * (T(2) * zz - xx - yy);
  y[7] = c23 * xz;
  y[8] = c24 * (xx - yy);
  if (dy) {
    dy[4] = {c20 * yy_, c20 * x, T(0)};
    dy[5] = {T(0), c21 * z, c21 * yy_};
    dy[6] = {-T(2) * c22 * x, -T(2) * c22 * yy_, T(4) * c22 * z};
    dy[7] = {c23 * z, T(0), c23 * x};
    dy[8] = {T(2) * c24 * x, -T(2) * c24 * yy_, T(0)};
  }
  if (degree < 3) return;
  y[9] = c30 * yy_ * (T(3) * xx - yy);
  y[10] = c31 * xy * z;
  y[11] = c32 * yy_ * (T(4) * zz - xx - yy);
  y[12] = c33 * z * (T(2) * zz - T(3) * xx - T(3) * yy);
  y[13] = c34 * x * (T(4) * zz - xx - yy);
  y[14] = c35 * z * (xx - yy);
  y[15] = c36 * x * (xx - T(3) * yy);
  if (dy) {
    dy[9] = {T(6) * c30 * xy, c30 * (T(3) * xx - T(3) * yy), T(0)};
    dy[10] = {c31 * yz, c31 * xz, c31 * xy};
    dy[11] = {-T(2) * c32 * xy, c32 * (T(4) * zz - xx - T(3) * yy), T(8) * c32 * yz};
    dy[12] = {-T(6) * c33 * xz, -T(6) * c33 * yz, c33 * (T(6) * zz - T(3) * xx - T(3) * yy)};
    dy[13] = {c34 * (T(4) * zz - T(3) * xx - yy), -T(2) * c34 * xy, T(8) * c34 * xz};
    dy[14] = {T(2) * c35 * xz, -T(2) * c35 * yz, c35 * (xx - yy)};
    dy[15] = {c36 * (T(3) * xx - T(3) * yy), -T(6) * c36 * xy, T(0)};
  }
}

// RGB of a Gaussian seen along `dir` (any length, from the camera centre to the mean).
// coeffs: [K, 3] with K = sh_coeffs_for_degree(degree).
template <typename T>
GLIMPSE_INLINE Vec3<T> sh_to_color(int degree, const T* coeffs, const Vec3<T>& dir) {
  T y[kMaxShCoeffs];
  const T len = norm(dir);
  const auto has_dir = len > T(0);  // else the direction (0, 0, 1)
  const T inv_len = select_value(has_dir, T(1) / len, T(0));
  const Vec3<T> d{dir.x * inv_len, dir.y * inv_len, select_value(has_dir, dir.z * inv_len, T(1))};
  sh_basis<T>(degree, d, y, nullptr);
  Vec3<T> c{T(0.5), T(0.5), T(0.5)};
  const int k_count = sh_coeffs_for_degree(degree);
  for (int k = 0; k < k_count; ++k) {
    c.x += y[k] * coeffs[3 * k + 0];
    c.y += y[k] * coeffs[3 * k + 1];
    c.z += y[k] * coeffs[3 * k + 2];
  }
  return {max_value(c.x, T(0)), max_value(c.y, T(0)), max_value(c.z, T(0))};
}
// v_coeffs[k] += Y_k v_c (channels not clamped; with Assign, = instead of +=, so the caller need
// not zero them first); v_dir through the basis gradient and the normalisation
// d = dir / |dir|: v_dir = (v_d - d (d . v_d)) / |dir|.
template <typename T, bool Assign = false>
GLIMPSE_INLINE void sh_to_color_vjp(int degree, const T* coeffs, const Vec3<T>& dir,
                                    const Vec3<T>& v_color, T* v_coeffs, Vec3<T>& v_dir) {
  T y[kMaxShCoeffs];
  Vec3<T> dy[kMaxShCoeffs];
  // A zero direction gets zero gradients (selects, not a branch: this also runs on 8 Gaussians
  // at once on the CPU).
  const T len = norm(dir);
  const auto has_dir = len > T(0);
  const T inv_len = select_value(has_dir, T(1) / len, T(0));
  const Vec3<T> d = dir * inv_len;
  sh_basis<T>(degree, d, y, dy);
  const int k_count = sh_coeffs_for_degree(degree);
  // Recompute the unclamped colour to find the clamped channels.
  Vec3<T> c{T(0.5), T(0.5), T(0.5)};
  for (int k = 0; k < k_count; ++k) {
    c.x += y[k] * coeffs[3 * k + 0];
    c.y += y[k] * coeffs[3 * k + 1];
    c.z += y[k] * coeffs[3 * k + 2];
  }
  const Vec3<T> g{select_value(mask_or(c.x < T(0), !has_dir), T(0), v_color.x),
                  select_value(mask_or(c.y < T(0), !has_dir), T(0), v_color.y),
                  select_value(mask_or(c.z < T(0), !has_dir), T(0), v_color.z)};
  Vec3<T> v_d{T(0), T(0), T(0)};
  for (int k = 0; k < k_count; ++k) {
    if (Assign) {
      v_coeffs[3 * k + 0] = y[k] * g.x;
      v_coeffs[3 * k + 1] = y[k] * g.y;
      v_coeffs[3 * k + 2] = y[k] * g.z;
    } else {
      v_coeffs[3 * k + 0] += y[k] * g.x;
      v_coeffs[3 * k + 1] += y[k] * g.y;
      v_coeffs[3 * k + 2] += y[k] * g.z;
    }
    const T s = coeffs[3 * k + 0] * g.x + coeffs[3 * k + 1] * g.y + coeffs[3 * k + 2] * g.z;
    v_d += dy[k] * s;
  }
  v_dir += (v_d - d * dot(d, v_d)) * inv_len;
}

}  // namespace glimpse
