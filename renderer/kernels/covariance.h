// 3D covariance of a Gaussian from its rotation quaternion and log-scales, Sigma = R S S^T R^T
// (3D Gaussian Splatting, Kerbl et al. 2023, eq. 6), with the activations (quaternion
// normalisation, exp of the log-scale) and each step's vector-Jacobian product beside it.
#pragma once

#include "core/math.h"

namespace glimpse {

// q / |q|.
template <typename T>
GLIMPSE_INLINE Quat<T> normalize_quat(const Quat<T>& q) {
  const T inv = T(1) / sqrt_value(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  return {q.w * inv, q.x * inv, q.y * inv, q.z * inv};
}
// d(q/|q|) = (I - n n^T) dq / |q|, from n = q/|q| and inv = 1/|q|.
template <typename T>
GLIMPSE_INLINE void normalize_quat_vjp_from(const Quat<T>& n, T inv, const Quat<T>& v_n,
                                            Quat<T>& v_q) {
  const T d = n.w * v_n.w + n.x * v_n.x + n.y * v_n.y + n.z * v_n.z;
  v_q.w += (v_n.w - n.w * d) * inv;
  v_q.x += (v_n.x - n.x * d) * inv;
  v_q.y += (v_n.y - n.y * d) * inv;
  v_q.z += (v_n.z - n.z * d) * inv;
}
template <typename T>
GLIMPSE_INLINE void normalize_quat_vjp(const Quat<T>& q, const Quat<T>& v_n, Quat<T>& v_q) {
  const T inv = T(1) / sqrt_value(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  normalize_quat_vjp_from(Quat<T>{q.w * inv, q.x * inv, q.y * inv, q.z * inv}, inv, v_n, v_q);
}

// quat_to_rotmat (core/math.h) is the forward; this is its VJP for a unit quaternion: each entry
// of R is a quadratic form in (w, x, y, z), differentiated entry by entry.
template <typename T>
GLIMPSE_INLINE void quat_to_rotmat_vjp(const Quat<T>& q, const Mat3<T>& g, Quat<T>& v_q) {
  const T w = q.w, x = q.x, y = q.y, z = q.z;
  v_q.w +=
      T(2) * (-z * g[0][1] + y * g[0][2] + z * g[1][0] - x * g[1][2] - y * g[2][0] + x * g[2][1]);
  v_q.x += T(2) * (y * g[0][1] + z * g[0][2] + y * g[1][0] - T(2) * x * g[1][1] - w * g[1][2] +
                   z * g[2][0] + w * g[2][1] - T(2) * x * g[2][2]);
  v_q.y += T(2) * (-T(2) * y * g[0][0] + x * g[0][1] + w * g[0][2] + x * g[1][0] + z * g[1][2] -
                   w * g[2][0] + z * g[2][1] - T(2) * y * g[2][2]);
  v_q.z += T(2) * (-T(2) * z * g[0][0] - w * g[0][1] + x * g[0][2] + w * g[1][0] -
                   T(2) * z * g[1][1] + y * g[1][2] + x * g[2][0] + y * g[2][1]);
}

// Sigma = M M^T with M = R diag(s).
template <typename T>
GLIMPSE_INLINE Mat3<T> covariance_from_rotation_scale(const Mat3<T>& r, const Vec3<T>& s) {
  Mat3<T> m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = r[i][j] * s[j];
  return m * m.transposed();
}
// v_M = (v_Sigma + v_Sigma^T) M; v_R_ij = v_M_ij s_j; v_s_j = sum_i v_M_ij R_ij.
template <typename T>
GLIMPSE_INLINE void covariance_from_rotation_scale_vjp(const Mat3<T>& r, const Vec3<T>& s,
                                                       const Mat3<T>& v_cov, Mat3<T>& v_r,
                                                       Vec3<T>& v_s) {
  Mat3<T> m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = r[i][j] * s[j];
  const Mat3<T> v_m = (v_cov + v_cov.transposed()) * m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      v_r[i][j] += v_m[i][j] * s[j];
      v_s[j] += v_m[i][j] * r[i][j];
    }
}

// The fused parameter-to-covariance map used by the rasterizers: raw (unnormalised) quaternion
// w,x,y,z and log-scales in, world-space covariance out. CovarianceParts keeps the intermediate
// values, so a backward pass that recomputes the forward pays for the square root and the three
// exponentials once.
template <typename T>
struct CovarianceParts {
  Quat<T> q;    // q_raw / |q_raw|
  T inv_norm;   // 1 / |q_raw|
  Mat3<T> r;    // rotation of q
  Vec3<T> s;    // exp(log_scale)
  Mat3<T> cov;  // R S S^T R^T
};
template <typename T>
GLIMPSE_INLINE CovarianceParts<T> covariance_parts(const Quat<T>& q_raw, const Vec3<T>& log_scale) {
  CovarianceParts<T> p;
  p.inv_norm = T(1) / sqrt_value(q_raw.w * q_raw.w + q_raw.x * q_raw.x + q_raw.y * q_raw.y +
                                 q_raw.z * q_raw.z);
  p.q = {q_raw.w * p.inv_norm, q_raw.x * p.inv_norm, q_raw.y * p.inv_norm, q_raw.z * p.inv_norm};
  p.r = quat_to_rotmat(p.q);
  p.s = {exp_value(log_scale.x), exp_value(log_scale.y), exp_value(log_scale.z)};
  p.cov = covariance_from_rotation_scale(p.r, p.s);
  return p;
}
// Chains the three VJPs above; d exp(l) / dl = exp(l).
template <typename T>
GLIMPSE_INLINE void covariance_parts_vjp(const CovarianceParts<T>& p, const Mat3<T>& v_cov,
                                         Quat<T>& v_q_raw, Vec3<T>& v_log_scale) {
  Mat3<T> v_r;
  Vec3<T> v_s;
  covariance_from_rotation_scale_vjp(p.r, p.s, v_cov, v_r, v_s);
  Quat<T> v_q{T(0), T(0), T(0), T(0)};
  quat_to_rotmat_vjp(p.q, v_r, v_q);
  normalize_quat_vjp_from(p.q, p.inv_norm, v_q, v_q_raw);
  v_log_scale += Vec3<T>{v_s.x * p.s.x, v_s.y * p.s.y, v_s.z * p.s.z};
}
template <typename T>
GLIMPSE_INLINE Mat3<T> covariance_from_params(const Quat<T>& q_raw, const Vec3<T>& log_scale) {
  return covariance_parts(q_raw, log_scale).cov;
}
template <typename T>
GLIMPSE_INLINE void covariance_from_params_vjp(const Quat<T>& q_raw, const Vec3<T>& log_scale,
                                               const Mat3<T>& v_cov, Quat<T>& v_q_raw,
                                               Vec3<T>& v_log_scale) {
  covariance_parts_vjp(covariance_parts(q_raw, log_scale), v_cov, v_q_raw, v_log_scale);
}

// Logistic sigmoid (opacity activation) and its VJP.
template <typename T>
GLIMPSE_INLINE T sigmoid(T x) {
  return T(1) / (T(1) + exp_value(-x));
}
// From the output y = sigmoid(x).
template <typename T>
GLIMPSE_INLINE T sigmoid_vjp_from_output(T y, T v_y) {
  return v_y * y * (T(1) - y);
}
template <typename T>
GLIMPSE_INLINE T sigmoid_vjp(T x, T v_y) {
  return sigmoid_vjp_from_output(sigmoid(x), v_y);
}

}  // namespace glimpse
