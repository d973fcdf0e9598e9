// EWA splatting projection (Zwicker et al. 2001, as used by 3D Gaussian Splatting): world to
// camera, the perspective Jacobian clamped near the frustum, the 2D covariance J W Sigma W^T J^T,
// the low-pass filter (classic dilation or Mip-Splatting's opacity-compensated 2D filter), the
// conic and the splat's screen extent. Symmetric 2x2 matrices are Vec3 (a, b, c) = [[a, b], [b,
// c]]; their gradients are with respect to those three numbers (b counts both off-diagonals).
#pragma once

#include "core/camera.h"
#include "core/math.h"
#include "renderer/kernels/constants.h"

namespace glimpse {

// [SECTION] world to camera ----------------------------------------------------------------------
// p_in_cam = R p + t.
template <typename T>
GLIMPSE_INLINE Vec3<T> transform_point(const Mat3<T>& r, const Vec3<T>& t, const Vec3<T>& p) {
  return r * p + t;
}
// v_p = R^T v; v_R += v p^T; v_t += v.
template <typename T>
GLIMPSE_INLINE void transform_point_vjp(const Mat3<T>& r, const Vec3<T>& p, const Vec3<T>& v_out,
                                        Vec3<T>& v_p, Mat3<T>& v_r, Vec3<T>& v_t) {
  v_p += mul_transposed(r, v_out);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) v_r[i][j] += v_out[i] * p[j];
    v_t[i] += v_out[i];
  }
}

// Sigma_cam = R Sigma R^T.
template <typename T>
GLIMPSE_INLINE Mat3<T> rotate_covariance(const Mat3<T>& r, const Mat3<T>& cov) {
  return r * cov * r.transposed();
}
// v_Sigma = R^T v R; v_R += v R Sigma^T + v^T R Sigma.
template <typename T>
GLIMPSE_INLINE void rotate_covariance_vjp(const Mat3<T>& r, const Mat3<T>& cov,
                                          const Mat3<T>& v_out, Mat3<T>& v_cov, Mat3<T>& v_r) {
  const Mat3<T> rt = r.transposed();
  v_cov = v_cov + rt * v_out * r;
  v_r = v_r + v_out * r * cov.transposed() + v_out.transposed() * r * cov;
}

// The same for symmetric Sigma and v (a covariance and the gradient of one, as in the
// rasterizers' backward chain): v_Sigma += R^T v R (symmetric: 6 entries), v_R += 2 v R Sigma;
// 72 multiply-adds instead of 162.
template <typename T>
GLIMPSE_INLINE void rotate_covariance_vjp_symmetric(const Mat3<T>& r, const Mat3<T>& cov,
                                                    const Mat3<T>& v_out, Mat3<T>& v_cov,
                                                    Mat3<T>& v_r) {
  const Mat3<T> w = v_out * r;  // v R
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b) {
      const T s = r[0][a] * w[0][b] + r[1][a] * w[1][b] + r[2][a] * w[2][b];  // (R^T v R)_ab
      v_cov[a][b] += s;
      if (b != a) v_cov[b][a] += s;
    }
  const Mat3<T> wc = w * cov;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) v_r[a][b] += T(2) * wc[a][b];
}

// [SECTION] perspective projection
// ----------------------------------------------------------------- Intrinsics and image size of
// the camera in the renderer's scalar.
template <typename T>
struct Intrinsics {
  T fx, fy, cx, cy;
  int width, height;
};

template <typename T>
GLIMPSE_INLINE Intrinsics<T> intrinsics_of(const CameraT<T>& c) {
  return {c.fx, c.fy, c.cx, c.cy, c.width, c.height};
}

// Pixel position of a camera-space point (pixel-corner origin): u = fx x/z + cx, v = fy y/z + cy.
// And the 2D covariance J Sigma_cam J^T with the Jacobian evaluated at the point clamped to
// kFrustumClampMargin outside the image, so splats far outside the view stay bounded.
template <typename T>
GLIMPSE_INLINE void project_gaussian(const Intrinsics<T>& k, const Vec3<T>& p,
                                     const Mat3<T>& cov_cam, Vec2<T>& mean2d, Vec3<T>& cov2d) {
  const T rz = T(1) / p.z;
  mean2d = {k.fx * p.x * rz + k.cx, k.fy * p.y * rz + k.cy};
  const T tan_x = T(0.5) * T(k.width) / k.fx, tan_y = T(0.5) * T(k.height) / k.fy;
  const T lim_xp = (T(k.width) - k.cx) / k.fx + T(kFrustumClampMargin) * tan_x;
  const T lim_xn = k.cx / k.fx + T(kFrustumClampMargin) * tan_x;
  const T lim_yp = (T(k.height) - k.cy) / k.fy + T(kFrustumClampMargin) * tan_y;
  const T lim_yn = k.cy / k.fy + T(kFrustumClampMargin) * tan_y;
  const T tx = p.z * clamp_value(p.x * rz, -lim_xn, lim_xp);
  const T ty = p.z * clamp_value(p.y * rz, -lim_yn, lim_yp);
  // J = [[fx/z, 0, -fx tx/z^2], [0, fy/z, -fy ty/z^2]]
  const T j00 = k.fx * rz, j02 = -k.fx * tx * rz * rz;
  const T j11 = k.fy * rz, j12 = -k.fy * ty * rz * rz;
  // rows of J Sigma
  const T a0 = j00 * cov_cam[0][0] + j02 * cov_cam[2][0];
  const T a1 = j00 * cov_cam[0][1] + j02 * cov_cam[2][1];
  const T a2 = j00 * cov_cam[0][2] + j02 * cov_cam[2][2];
  const T b1 = j11 * cov_cam[1][1] + j12 * cov_cam[2][1];
  const T b2 = j11 * cov_cam[1][2] + j12 * cov_cam[2][2];
  cov2d = {a0 * j00 + a2 * j02, a1 * j11 + a2 * j12, b1 * j11 + b2 * j12};
}
// v_Sigma_cam = J^T G J with G the symmetric gradient; v_J = 2 G J Sigma (Sigma symmetric);
// v_p from the mean through d(u, v)/dp and from J, whose x (y) column drops out when clamped.
template <typename T>
GLIMPSE_INLINE void project_gaussian_vjp(const Intrinsics<T>& k, const Vec3<T>& p,
                                         const Mat3<T>& cov_cam, const Vec2<T>& v_mean2d,
                                         const Vec3<T>& v_cov2d, Vec3<T>& v_p, Mat3<T>& v_cov_cam) {
  const T rz = T(1) / p.z, rz2 = rz * rz, rz3 = rz2 * rz;
  const T tan_x = T(0.5) * T(k.width) / k.fx, tan_y = T(0.5) * T(k.height) / k.fy;
  const T lim_xp = (T(k.width) - k.cx) / k.fx + T(kFrustumClampMargin) * tan_x;
  const T lim_xn = k.cx / k.fx + T(kFrustumClampMargin) * tan_x;
  const T lim_yp = (T(k.height) - k.cy) / k.fy + T(kFrustumClampMargin) * tan_y;
  const T lim_yn = k.cy / k.fy + T(kFrustumClampMargin) * tan_y;
  const T x_ratio = p.x * rz, y_ratio = p.y * rz;
  const auto x_clamped = mask_or(x_ratio<-lim_xn, x_ratio> lim_xp);
  const auto y_clamped = mask_or(y_ratio<-lim_yn, y_ratio> lim_yp);
  const T tx = p.z * clamp_value(x_ratio, -lim_xn, lim_xp);
  const T ty = p.z * clamp_value(y_ratio, -lim_yn, lim_yp);
  T j[2][3] = {{k.fx * rz, T(0), -k.fx * tx * rz2}, {T(0), k.fy * rz, -k.fy * ty * rz2}};
  // Symmetric gradient as a full matrix.
  const T g[2][2] = {{v_cov2d.x, T(0.5) * v_cov2d.y}, {T(0.5) * v_cov2d.y, v_cov2d.z}};
  // v_Sigma_cam = J^T G J
  T gj[2][3];
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) gj[r][c] = g[r][0] * j[0][c] + g[r][1] * j[1][c];
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) v_cov_cam[a][b] += j[0][a] * gj[0][b] + j[1][a] * gj[1][b];
  // v_J = 2 G J Sigma
  T v_j[2][3];
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) {
      T s = T(0);
      for (int m = 0; m < 3; ++m) s += gj[r][m] * cov_cam[m][c];
      v_j[r][c] = T(2) * s;
    }
  // Mean: u = fx x/z + cx, v = fy y/z + cy.
  v_p.x += k.fx * rz * v_mean2d.x;
  v_p.y += k.fy * rz * v_mean2d.y;
  v_p.z -= (k.fx * p.x * v_mean2d.x + k.fy * p.y * v_mean2d.y) * rz2;
  // Jacobian entries: j00 = fx/z, j11 = fy/z.
  v_p.z -= (k.fx * v_j[0][0] + k.fy * v_j[1][1]) * rz2;
  // j02 = -fx tx / z^2: unclamped tx = x gives (d/dx, d/dz) = (-fx/z^2, 2 fx x/z^3); clamped
  // tx = z c gives j02 = -fx c / z, so d/dz = fx c / z^2 = fx tx / z^3. (Selects, not branches:
  // the chain also runs on 8 Gaussians at once.)
  v_p.x -= select_value(x_clamped, T(0), k.fx * rz2 * v_j[0][2]);
  v_p.z += select_value(x_clamped, T(1), T(2)) * k.fx * tx * rz3 * v_j[0][2];
  v_p.y -= select_value(y_clamped, T(0), k.fy * rz2 * v_j[1][2]);
  v_p.z += select_value(y_clamped, T(1), T(2)) * k.fy * ty * rz3 * v_j[1][2];
}

// [SECTION] low-pass filter and conic ------------------------------------------------------------
// Adds `blur` to the diagonal. With compensation (Mip-Splatting's 2D filter) also returns
// sqrt(det(cov) / det(cov + blur I)), the factor that keeps the splat's integral unchanged;
// without it returns 1 (the classic 3DGS dilation).
template <typename T>
GLIMPSE_INLINE T add_blur(const Vec3<T>& cov2d, T blur, bool compensate, Vec3<T>& cov2d_blur) {
  cov2d_blur = {cov2d.x + blur, cov2d.y, cov2d.z + blur};
  if (!compensate) return T(1);
  const T det = cov2d.x * cov2d.z - cov2d.y * cov2d.y;
  const T det_blur = cov2d_blur.x * cov2d_blur.z - cov2d_blur.y * cov2d_blur.y;
  return sqrt_value(max_value(T(0), det / det_blur));
}
// Gradient of the compensation factor c = sqrt(det / det_b) with respect to (a, b, c):
// d det = (c, -2b, a) . d(a, b, c); dc = c/2 (d det / det - d det_b / det_b).
template <typename T>
GLIMPSE_INLINE void add_blur_vjp(const Vec3<T>& cov2d, T blur, T v_compensation, Vec3<T>& v_cov2d) {
  const Vec3<T> cb{cov2d.x + blur, cov2d.y, cov2d.z + blur};
  const T det = cov2d.x * cov2d.z - cov2d.y * cov2d.y;
  const T det_blur = cb.x * cb.z - cb.y * cb.y;
  // No gradient where a determinant is not positive (selects, not a branch: this also runs on
  // the CPU's 8-lane scalar; the unused lanes may hold inf).
  const auto ok = mask_and(det > T(0), det_blur > T(0));
  const T comp = sqrt_value(max_value(T(0), det / det_blur));
  const T s = T(0.5) * comp * v_compensation;
  v_cov2d.x += select_value(ok, s * (cov2d.z / det - cb.z / det_blur), T(0));
  v_cov2d.y += select_value(ok, s * (-T(2) * cov2d.y / det + T(2) * cb.y / det_blur), T(0));
  v_cov2d.z += select_value(ok, s * (cov2d.x / det - cb.x / det_blur), T(0));
}

// Inverse of a symmetric 2x2 (the conic). Returns false (a false mask) where not positive
// definite; inv is written either way.
template <typename T>
GLIMPSE_INLINE auto inverse_sym2(const Vec3<T>& m, Vec3<T>& inv) {
  const T det = m.x * m.z - m.y * m.y;
  const T r = T(1) / det;
  inv = {m.z * r, -m.y * r, m.x * r};
  return det > T(0);
}
// d(M^-1) = -M^-1 dM M^-1, with the symmetric-parameter bookkeeping of the header comment.
template <typename T>
GLIMPSE_INLINE void inverse_sym2_vjp(const Vec3<T>& inv, const Vec3<T>& v_inv, Vec3<T>& v_m) {
  const T ia = inv.x, ib = inv.y, ic = inv.z;
  const T ga = v_inv.x, gb = T(0.5) * v_inv.y, gc = v_inv.z;
  // P = Inv G Inv (all symmetric)
  const T p00 = ia * (ga * ia + gb * ib) + ib * (gb * ia + gc * ib);
  const T p01 = ia * (ga * ib + gb * ic) + ib * (gb * ib + gc * ic);
  const T p11 = ib * (ga * ib + gb * ic) + ic * (gb * ib + gc * ic);
  v_m.x -= p00;
  v_m.y -= T(2) * p01;
  v_m.z -= p11;
}

// [SECTION] extent
// --------------------------------------------------------------------------------- Half extents
// (pixels) of the region where a splat can contribute: k sqrt(Sigma_xx), k sqrt(Sigma_yy) bound the
// ellipse d^T Sigma^-1 d <= k^2 exactly. k is 3 (classic) or, opacity aware, sqrt(2 ln(255 o)):
// beyond it o exp(-d^2/2) < 1/255 and the fragment would be skipped.
template <typename T>
GLIMPSE_INLINE T extent_sigmas(T opacity, bool opacity_aware) {
  if (!opacity_aware) return T(kExtentSigma);
  const T v = T(2) * std::log(opacity / T(kAlphaMin));
  return v > T(0) ? std::sqrt(v) : T(0);
}

}  // namespace glimpse
