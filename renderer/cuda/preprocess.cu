// Per-Gaussian stages of the CUDA rasterizer: the forward preprocess (cull, EWA projection, SH
// colour, screen support, tile count) and its backward chain to the 3D parameters and the camera
// pose. One thread per Gaussian; every formula is a renderer/kernels call shared with the CPU
// backend (renderer/cpu/cpu_rasterizer.cpp, preprocess() and backward() step 2).
#include "renderer/cuda/cuda_check.cuh"
#include "renderer/cuda/launchers.cuh"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/gaussian_chain.h"
#include "renderer/kernels/projection.h"
#include "renderer/kernels/sh.h"
#include "renderer/kernels/splat_support.h"

#include <algorithm>

namespace glimpse::gpu {
namespace {

constexpr int kThreads = 256;

__device__ inline Vec3<float> load3(const float* v, int i) {
  return {v[3 * i], v[3 * i + 1], v[3 * i + 2]};
}
__device__ inline Quat<float> load_quat(const float* v, int i) {
  return {v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]};
}

__global__ void __launch_bounds__(kThreads)
    preprocess_forward_kernel(PreprocessParams p, const float* __restrict__ means,
                              const float* __restrict__ log_scales, const float* __restrict__ quats,
                              const float* __restrict__ opacity_logits,
                              const float* __restrict__ sh, SplatArrays splats, int32_t* radii,
                              uint8_t* visible, uint32_t* ids) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.n) return;
  ids[i] = static_cast<uint32_t>(i);
  radii[i] = 0;
  visible[i] = 0;
  const CameraT<float>& cam = p.camera;
  const Vec3<float> mean = load3(means, i);
  const Vec3<float> pc = transform_point(cam.rotation, cam.translation, mean);
  if (!(pc.z >= p.near_plane && pc.z <= p.far_plane)) return;
  const Mat3<float> cov = covariance_from_params(load_quat(quats, i), load3(log_scales, i));
  const Mat3<float> cov_cam = rotate_covariance(cam.rotation, cov);
  Vec2<float> mean2d;
  Vec3<float> cov2d, cov2d_blur, conic;
  project_gaussian(intrinsics_of(cam), pc, cov_cam, mean2d, cov2d);
  const float compensation = add_blur(cov2d, p.blur, p.antialiased, cov2d_blur);
  if (!inverse_sym2(cov2d_blur, conic)) return;
  const float opacity = sigmoid(opacity_logits[i]) * compensation;
  if (!(opacity >= kAlphaMin)) return;
  const float sigmas = extent_sigmas(opacity, p.opacity_aware);
  const float rx = sigmas * std::sqrt(cov2d_blur.x), ry = sigmas * std::sqrt(cov2d_blur.z);
  int32_t x0, x1, y0, y1;
  if (!splat_pixel_range(mean2d.x, rx, cam.width, x0, x1)) return;
  if (!splat_pixel_range(mean2d.y, ry, cam.height, y0, y1)) return;
  const Vec3<float> color =
      sh_to_color(p.sh_degree, sh + static_cast<size_t>(i) * p.sh_stride, mean - cam.center());
  const float4 xy = make_float4(mean2d.x, mean2d.y, opacity, pc.z);
  const float4 q = make_float4(conic.x, conic.y, conic.z, 0.5f * sigmas * sigmas);
  const int4 box = make_int4(x0, y0, x1, y1);
  splats.xy_opacity_z[i] = xy;
  splats.conic_smax[i] = q;
  splats.rgb[i] = make_float4(color.x, color.y, color.z, 0.f);
  splats.box[i] = box;
  radii[i] = max(1, static_cast<int32_t>(std::ceil(max_value(rx, ry))));
  visible[i] = 1;
}

// Sums 12 per-thread values over the block into out[12] (thread 0 writes), fixed order.
__device__ inline void block_sum12(float (&v)[12], float* out) {
  __shared__ float partial[kThreads / 32][12];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int q = 0; q < 12; ++q) {
    float s = v[q];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) partial[warp][q] = s;
  }
  __syncthreads();
  if (threadIdx.x < 12) {
    float s = 0.f;
    for (int w = 0; w < kThreads / 32; ++w) s += partial[w][threadIdx.x];
    out[threadIdx.x] = s;
  }
}

__global__ void __launch_bounds__(kThreads) preprocess_backward_kernel(
    PreprocessParams p, const float* __restrict__ means, const float* __restrict__ log_scales,
    const float* __restrict__ quats, const float* __restrict__ opacity_logits,
    const float* __restrict__ sh, const int32_t* __restrict__ radii, const float* __restrict__ v2d,
    GaussianGradPointers out, float* pose_partials) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  Mat3<float> v_rot;
  Vec3<float> v_trans{0.f, 0.f, 0.f};
  if (i < p.n && radii[i] > 0) {
    const float* g2 = v2d + kSlotSize * static_cast<size_t>(i);
    const size_t sh_off = static_cast<size_t>(i) * p.sh_stride;
    GaussianParamGrads<float> pg;
    gaussian_chain_vjp(p.camera, load3(means, i), load_quat(quats, i), load3(log_scales, i),
                       opacity_logits[i], sh + sh_off, p.sh_degree, p.blur, p.antialiased, g2, pg,
                       out.sh + sh_off, v_rot, v_trans);
    store_param_grads(pg, static_cast<size_t>(i), out.means, out.log_scales, out.quats,
                      out.opacity_logits, out.means2d);
  }
  float pose[12];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) pose[3 * r + c] = v_rot[r][c];
  for (int c = 0; c < 3; ++c) pose[9 + c] = v_trans[c];
  block_sum12(pose, pose_partials + 12 * blockIdx.x);
}

// One block of 12 warps: warp q sums column q of the partials with a fixed lane stride and a
// fixed shuffle tree, so the result does not depend on scheduling.
__global__ void reduce_pose_kernel(const float* __restrict__ partials, int blocks, float* pose) {
  const int q = threadIdx.x >> 5, lane = threadIdx.x & 31;
  float s = 0.f;
  for (int b = lane; b < blocks; b += 32) s += partials[12 * b + q];
  for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
  if (lane == 0) pose[q] = s;
}

int grid_for(int n) { return (n + kThreads - 1) / kThreads; }

}  // namespace

void launch_preprocess_forward(const PreprocessParams& p, const float* means,
                               const float* log_scales, const float* quats,
                               const float* opacity_logits, const float* sh, SplatArrays splats,
                               int32_t* radii, uint8_t* visible, uint32_t* ids,
                               cudaStream_t stream) {
  if (p.n == 0) return;
  preprocess_forward_kernel<<<grid_for(p.n), kThreads, 0, stream>>>(
      p, means, log_scales, quats, opacity_logits, sh, splats, radii, visible, ids);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

int preprocess_backward_blocks(int n) { return std::max(1, grid_for(n)); }

void launch_preprocess_backward(const PreprocessParams& p, const float* means,
                                const float* log_scales, const float* quats,
                                const float* opacity_logits, const float* sh, const int32_t* radii,
                                const float* v2d, GaussianGradPointers out, float* pose_partials,
                                cudaStream_t stream) {
  preprocess_backward_kernel<<<preprocess_backward_blocks(p.n), kThreads, 0, stream>>>(
      p, means, log_scales, quats, opacity_logits, sh, radii, v2d, out, pose_partials);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_reduce_pose(const float* pose_partials, int blocks, float* pose, cudaStream_t stream) {
  reduce_pose_kernel<<<1, 12 * 32, 0, stream>>>(pose_partials, blocks, pose);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

}  // namespace glimpse::gpu
