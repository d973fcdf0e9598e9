// Device-side projection of Gaussians to screen-space splats, calling the shared kernels.
#pragma once

#include "renderer/kernels/blend.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/projection.h"
#include "renderer/kernels/sh.h"

#include <cstdint>

namespace glimpse {

// One thread per Gaussian: writes mean2d [N, 2], conic [N, 3], opacity [N] (0 when culled),
// colour [N, 3] and depth [N].
__global__ void project_gaussians_kernel(int n, const float* means,     // [N, 3] world
                                         const float* log_scales,       // [N, 3]
                                         const float* quats,            // [N, 4] w, x, y, z
                                         const float* opacity_logits,   // [N]
                                         const float* sh,               // [N, K, 3]
                                         int sh_degree, int sh_stride,  // degree used, 3 K
                                         CameraT<float> camera, float near_plane, float blur,
                                         bool antialiased,
                                         float* mean2d,   // [N, 2] out
                                         float* conic,    // [N, 3] out
                                         float* opacity,  // [N] out
                                         float* color,    // [N, 3] out
                                         float* depth) {  // [N] out
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  opacity[i] = 0.f;
  const Vec3<float> mean{means[3 * i], means[3 * i + 1], means[3 * i + 2]};
  const Vec3<float> p = transform_point(camera.rotation, camera.translation, mean);
  if (p.z < near_plane) return;
  const Quat<float> q{quats[4 * i], quats[4 * i + 1], quats[4 * i + 2], quats[4 * i + 3]};
  const Vec3<float> ls{log_scales[3 * i], log_scales[3 * i + 1], log_scales[3 * i + 2]};
  const Mat3<float> cov_cam = rotate_covariance(camera.rotation, covariance_from_params(q, ls));
  Vec2<float> m2;
  Vec3<float> cov2d, cov2d_blur, con;
  project_gaussian(intrinsics_of(camera), p, cov_cam, m2, cov2d);
  const float comp = add_blur(cov2d, blur, antialiased, cov2d_blur);
  if (!inverse_sym2(cov2d_blur, con)) return;
  const Vec3<float> c = sh_to_color(sh_degree, sh + i * sh_stride, mean - camera.center());
  mean2d[2 * i] = m2.x, mean2d[2 * i + 1] = m2.y;
  conic[3 * i] = con.x, conic[3 * i + 1] = con.y, conic[3 * i + 2] = con.z;
  opacity[i] = sigmoid(opacity_logits[i]) * comp;
  color[3 * i] = c.x, color[3 * i + 1] = c.y, color[3 * i + 2] = c.z;
  depth[i] = p.z;
}

}  // namespace glimpse
