// The per-Gaussian backward chain shared by the CPU and CUDA backends: from the gradients of one
// Gaussian's screen-space quantities (2D mean, conic, effective opacity, colour, depth; the
// rasterizers' per-Gaussian "slot") back to its parameters and to the camera pose, recomputing
// the projection (3D Gaussian Splatting, Kerbl et al. 2023, with each step's VJP from
// covariance.h, projection.h and sh.h).
#pragma once

#include "core/camera.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/projection.h"
#include "renderer/kernels/sh.h"

namespace glimpse {

// Layout of the screen-space gradient slot: mean2d (2), conic (3), opacity (1), colour (3),
// depth (1).
inline constexpr int kSlotSize = 10;

template <typename T>
struct GaussianParamGrads {
  Vec3<T> v_mean{T(0), T(0), T(0)};
  Quat<T> v_quat{T(0), T(0), T(0), T(0)};
  Vec3<T> v_log_scale{T(0), T(0), T(0)};
  T v_opacity_logit = T(0);
  Vec2<T> v_mean2d{T(0), T(0)};  // the slot's 2D mean gradient (densification statistics)
};

// Writes one Gaussian's gradients at index i of the structure-of-arrays gradient buffers (means
// [N, 3], log-scales [N, 3], quaternions [N, 4] w x y z, opacity logits [N], 2D means [N, 2]).
template <typename T>
GLIMPSE_INLINE void store_param_grads(const GaussianParamGrads<T>& pg, size_t i, T* means,
                                      T* log_scales, T* quats, T* opacity_logits, T* means2d) {
  for (int c = 0; c < 3; ++c) {
    means[3 * i + c] = pg.v_mean[c];
    log_scales[3 * i + c] = pg.v_log_scale[c];
  }
  quats[4 * i + 0] = pg.v_quat.w;
  quats[4 * i + 1] = pg.v_quat.x;
  quats[4 * i + 2] = pg.v_quat.y;
  quats[4 * i + 3] = pg.v_quat.z;
  opacity_logits[i] = pg.v_opacity_logit;
  means2d[2 * i + 0] = pg.v_mean2d.x;
  means2d[2 * i + 1] = pg.v_mean2d.y;
}

// slot: [kSlotSize] as above. sh: the Gaussian's [K, 3] coefficients; v_sh: same shape, its first
// 3 K(sh_degree) values written (not accumulated: no zeroing needed), the rest left alone.
// v_rotation, v_translation: the camera pose gradient (+=).
template <typename T>
GLIMPSE_INLINE void gaussian_chain_vjp(const CameraT<T>& camera, const Vec3<T>& mean,
                                       const Quat<T>& quat, const Vec3<T>& log_scale, T logit,
                                       const T* sh, int sh_degree, T blur, bool antialiased,
                                       const T* slot, GaussianParamGrads<T>& out, T* v_sh,
                                       Mat3<T>& v_rotation, Vec3<T>& v_translation) {
  // Recompute the forward quantities the VJPs need.
  const Intrinsics<T> k = intrinsics_of(camera);
  const Vec3<T> p = transform_point(camera.rotation, camera.translation, mean);
  const CovarianceParts<T> parts = covariance_parts(quat, log_scale);
  const Mat3<T> cov_cam = rotate_covariance(camera.rotation, parts.cov);
  Vec2<T> mean2d;
  Vec3<T> cov2d, cov2d_blur, conic;
  project_gaussian(k, p, cov_cam, mean2d, cov2d);
  const T compensation = add_blur(cov2d, blur, antialiased, cov2d_blur);
  inverse_sym2(cov2d_blur, conic);
  const T base_opacity = sigmoid(logit);

  const Vec2<T> v_mean2d{slot[0], slot[1]};
  const Vec3<T> v_conic{slot[2], slot[3], slot[4]};
  const T v_opacity = slot[5];
  const Vec3<T> v_color{slot[6], slot[7], slot[8]};
  out.v_mean2d = v_mean2d;
  // Effective opacity = sigmoid(logit) * compensation.
  out.v_opacity_logit = sigmoid_vjp_from_output(base_opacity, v_opacity * compensation);
  Vec3<T> v_cov2d{T(0), T(0), T(0)};
  if (antialiased) add_blur_vjp(cov2d, blur, v_opacity * base_opacity, v_cov2d);
  inverse_sym2_vjp(conic, v_conic, v_cov2d);  // the blur is additive: same gradient
  Vec3<T> v_p{T(0), T(0), slot[9]};
  Mat3<T> v_cov_cam;
  project_gaussian_vjp(k, p, cov_cam, v_mean2d, v_cov2d, v_p, v_cov_cam);
  Mat3<T> v_cov;
  rotate_covariance_vjp_symmetric(camera.rotation, parts.cov, v_cov_cam, v_cov, v_rotation);
  covariance_parts_vjp(parts, v_cov, out.v_quat, out.v_log_scale);
  transform_point_vjp(camera.rotation, mean, v_p, out.v_mean, v_rotation, v_translation);
  // Colour: the direction from the camera centre, campos = -R^T t, so the pose gets
  // v_R -= t v_campos^T and v_t -= R v_campos.
  Vec3<T> v_dir{T(0), T(0), T(0)};
  sh_to_color_vjp<T, true>(sh_degree, sh, mean - camera.center(), v_color, v_sh, v_dir);
  out.v_mean += v_dir;
  const Vec3<T> v_campos = -v_dir;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) v_rotation[r][c] -= camera.translation[r] * v_campos[c];
  v_translation -= camera.rotation * v_campos;
}

}  // namespace glimpse
