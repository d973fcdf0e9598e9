// Kernel launchers of the CUDA rasterizer (private to renderer/cuda). Every launcher takes raw
// device pointers with their shape in a comment and a stream; none synchronises. N: Gaussians,
// V: visible Gaussians, M: (Gaussian, tile) instances, P = tiles * 256: pixels in tile order
// (tile-major, then row-major inside the 16x16 tile), B: bucket slots of 32 instances.
#pragma once

#include "core/camera.h"
#include "renderer/kernels/constants.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace glimpse::gpu {

// Instances per backward bucket: one warp, one lane per splat (Taming 3DGS).
inline constexpr int kBucketSize = 32;

// Screen-space splats indexed by Gaussian id [N]; valid where visible[i] != 0.
struct SplatArrays {
  float4* xy_opacity_z;  // mean2d x, y (pixels), opacity (times the AA compensation), camera z
  float4* conic_smax;    // conic a, b, c of the blurred 2D covariance, support sigma_max
  float4* rgb;           // colour r, g, b; w unused
  int4* box;             // inclusive pixel box x0, y0, x1, y1, clipped to the image
};

struct PreprocessParams {
  int n = 0;
  int sh_degree = 0;  // degree used (min of the model's and the options')
  int sh_stride = 0;  // 3 * coefficients per Gaussian of the model
  CameraT<float> camera;
  float near_plane = 0, far_plane = 0, blur = 0;
  bool antialiased = false, opacity_aware = false;
};

// [SECTION] preprocess.cu
// Per Gaussian: cull, project, colour, screen support.
void launch_preprocess_forward(const PreprocessParams& p,
                               const float* means,           // [N, 3] world
                               const float* log_scales,      // [N, 3]
                               const float* quats,           // [N, 4] w, x, y, z (raw)
                               const float* opacity_logits,  // [N]
                               const float* sh,              // [N, K, 3]
                               SplatArrays splats,           // [N] out
                               int32_t* radii,               // [N] out, 0 = culled
                               uint8_t* visible,             // [N] out, 1 = passed culling
                               uint32_t* ids,                // [N] out, ids[i] = i
                               cudaStream_t stream);

// Per visible Gaussian: chain the 2D gradients to the parameters and the pose. Writes (adds into
// zeroed arrays) v_means [N, 3], v_log_scales [N, 3], v_quats [N, 4], v_opacity_logits [N],
// v_sh [N, K, 3]; copies v_means2d [N, 2]; per-block pose partial sums [blocks, 12] (rotation
// row-major, then translation).
struct GaussianGradPointers {
  float *means, *log_scales, *quats, *opacity_logits, *sh, *means2d;
};
int preprocess_backward_blocks(int n);
void launch_preprocess_backward(const PreprocessParams& p, const float* means,
                                const float* log_scales, const float* quats,
                                const float* opacity_logits, const float* sh,
                                const int32_t* radii,  // [N] 0 = not visible
                                const float* v2d,      // [N, 10] screen-space gradients
                                GaussianGradPointers out,
                                float* pose_partials,  // [blocks, 12]
                                cudaStream_t stream);
// Sums the pose partials in a fixed order (deterministic): pose [12].
void launch_reduce_pose(const float* pose_partials, int blocks, float* pose, cudaStream_t stream);

// [SECTION] binning.cu
// keys[k] = float bits of the camera depth of ids[k] (positive floats sort like their bits).
void launch_gather_depth_keys(int v, const uint32_t* ids, const float4* xy_opacity_z,
                              uint32_t* keys, cudaStream_t stream);
// counts[k] = tiles touched by Gaussian ids[k]: per band of 16 pixel rows, the tiles spanned by a
// conservative column range of its support (splat_band_columns), far fewer than its box's tiles
// for thin, tilted splats.
void launch_gather_counts(int v, const uint32_t* ids, SplatArrays splats, int64_t* counts,
                          cudaStream_t stream);
// total[0] = offsets[v - 1] + counts[v - 1] (v > 0).
void launch_total(int v, const int64_t* offsets, const int64_t* counts, int64_t* total,
                  cudaStream_t stream);
// For depth-sorted ids, writes (tile id, Gaussian id) for every tile each touches, at
// [offsets[k], offsets[k] + counts[k]) (slots it cannot fill get the key `tiles`: never, since
// counting and emission call the same non-inlined function; the guard keeps memory safe).
void launch_emit_instances(int v, const uint32_t* ids, const int64_t* offsets,
                           const int64_t* counts, SplatArrays splats, int tiles_x, int tiles,
                           uint32_t* tile_keys, uint32_t* values, cudaStream_t stream);
// ranges[t] = [start, end) of tile t in the tile-sorted keys (ranges zeroed first by the caller;
// keys >= tiles are ignored).
void launch_tile_ranges(int m, int tiles, const uint32_t* tile_keys, int2* ranges,
                        cudaStream_t stream);
// bucket_counts[t] = ceil(size of ranges[t] / 32).
void launch_bucket_counts(int tiles, const int2* ranges, int32_t* bucket_counts,
                          cudaStream_t stream);
// bucket_tile[bucket_offsets[t] + k] = t for k < bucket_counts[t] (the rest stays -1).
void launch_bucket_tiles(int tiles, const int32_t* bucket_offsets, const int32_t* bucket_counts,
                         int32_t* bucket_tile, cudaStream_t stream);

// [SECTION] blend.cu
struct ForwardBlendParams {
  int width = 0, height = 0, tiles_x = 0, tiles_y = 0;
  float3 background{0.f, 0.f, 0.f};
};
// One 256-thread block per tile: front-to-back blending over shared-memory batches of 256 splats.
void launch_blend_forward(const ForwardBlendParams& p,
                          const int2* ranges,               // [tiles]
                          const int32_t* bucket_offsets,    // [tiles]
                          const uint32_t* instance_ids,     // [M] Gaussian ids, tile-sorted
                          SplatArrays splats,               // [N]
                          float* out_image,                 // [6, H, W]: rgb (HxWx3), alpha,
                                                            //   depth, median depth
                          float4* pix_color_depth,          // [P] out: sum w c (rgb), sum w z
                          float* pix_final_t,               // [P] out: final transmittance
                          int32_t* pix_last,                // [P] out: 1 + last blended index
                          int32_t* pix_median,              // [P] out: median index, -1 none
                          float4* ckpt_color_depth,         // [B, 256] out: per bucket start
                          float* ckpt_t,                    // [B, 256] out
                          int32_t* tile_max_last,           // [tiles] out
                          unsigned long long* evaluations,  // [1] accumulated
                          cudaStream_t stream);

// Per pixel: the upstream gradients folded into what the per-splat backward needs.
void launch_pixel_gradients(const ForwardBlendParams& p,
                            const float* v_rgb,     // [H, W, 3] or null
                            const float* v_alpha,   // [H, W] or null
                            const float* v_depth,   // [H, W] or null
                            const float* v_median,  // [H, W] or null
                            const float4* pix_color_depth, const float* pix_final_t,
                            const int32_t* pix_last, const int32_t* pix_median,
                            float4* pix_v,  // [P] out: v_r, v_g, v_b, v_S (depth-sum gradient)
                            float4* pix_k,  // [P] out: K, v_median, last bits, median bits
                            cudaStream_t stream);

// One warp per bucket of 32 instances (Taming 3DGS): lanes own splats, pixels flow through the
// warp with shfl_up, one atomicAdd per parameter per splat per bucket into v2d [N, 10]
// (mean2d 2, conic 3, opacity 1, colour 3, depth 1).
void launch_blend_backward(int bucket_slots, int tiles_x,
                           const int32_t* bucket_tile,     // [B] tile of each bucket, -1: unused
                           const int32_t* bucket_offsets,  // [tiles]
                           const int2* ranges,             // [tiles]
                           const int32_t* tile_max_last,   // [tiles]
                           const uint32_t* instance_ids,   // [M]
                           SplatArrays splats, const float4* pix_v, const float4* pix_k,
                           const float4* ckpt_color_depth, const float* ckpt_t, float* v2d,
                           cudaStream_t stream);

}  // namespace glimpse::gpu
