// Tile binning kernels of the CUDA rasterizer (the radix sorts and scans are cub calls made by
// cuda_rasterizer.cu): depth keys of the visible Gaussians, per-Gaussian instance counts in depth
// order, instance emission in depth order (so a stable tile-key sort keeps depth order inside each
// tile, as in LichtFeld's fastgs / Splatshop), tile ranges and per-tile bucket bookkeeping.
#include "renderer/cuda/cuda_check.cuh"
#include "renderer/cuda/launchers.cuh"
#include "renderer/kernels/splat_support.h"

namespace glimpse::gpu {
namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) { return static_cast<int>((n + kThreads - 1) / kThreads); }

__global__ void gather_depth_keys_kernel(int v, const uint32_t* __restrict__ ids,
                                         const float4* __restrict__ xy_opacity_z, uint32_t* keys) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k < v) keys[k] = __float_as_uint(xy_opacity_z[ids[k]].w);
}

// Tile columns [tx_lo, tx_hi] of tile row ty touched by the splat's support; false if none. Not
// inlined, so counting and emission run the very same instructions and always agree.
__device__ __noinline__ bool band_tiles(const float4 xy, const float4 q, const int4 box, int ty,
                                        int& tx_lo, int& tx_hi) {
  const int row_lo = max(box.y, ty * kTileSize), row_hi = min(box.w, ty * kTileSize + 15);
  int col_lo, col_hi;
  if (!splat_band_columns(xy.x, xy.y, q.x, q.y, q.z, q.w, box.x, box.z, row_lo, row_hi, col_lo,
                          col_hi))
    return false;
  tx_lo = col_lo / kTileSize;
  tx_hi = col_hi / kTileSize;
  return true;
}

__global__ void gather_counts_kernel(int v, const uint32_t* __restrict__ ids, SplatArrays splats,
                                     int64_t* counts) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= v) return;
  const uint32_t id = ids[k];
  const float4 xy = splats.xy_opacity_z[id];
  const float4 q = splats.conic_smax[id];
  const int4 box = splats.box[id];
  int64_t count = 0;
  for (int ty = box.y / kTileSize; ty <= box.w / kTileSize; ++ty) {
    int tx_lo, tx_hi;
    if (band_tiles(xy, q, box, ty, tx_lo, tx_hi)) count += tx_hi - tx_lo + 1;
  }
  counts[k] = count;
}

__global__ void total_kernel(int v, const int64_t* offsets, const int64_t* counts, int64_t* total) {
  total[0] = offsets[v - 1] + counts[v - 1];
}

// One thread per visible Gaussian, in depth order; tiles row-major, as counted in preprocess.
// One thread per visible Gaussian, in depth order; tiles row-major, as counted. Large splats make
// long serial loops here (TODO: a warp per large splat, as fastgs' create_instances).
__global__ void emit_instances_kernel(int v, const uint32_t* __restrict__ ids,
                                      const int64_t* __restrict__ offsets,
                                      const int64_t* __restrict__ counts, SplatArrays splats,
                                      int tiles_x, int tiles, uint32_t* tile_keys,
                                      uint32_t* values) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= v) return;
  const uint32_t id = ids[k];
  const float4 xy = splats.xy_opacity_z[id];
  const float4 q = splats.conic_smax[id];
  const int4 box = splats.box[id];
  int64_t out = offsets[k];
  const int64_t end = out + counts[k];
  for (int ty = box.y / kTileSize; ty <= box.w / kTileSize && out < end; ++ty) {
    int tx_lo, tx_hi;
    if (!band_tiles(xy, q, box, ty, tx_lo, tx_hi)) continue;
    for (int tx = tx_lo; tx <= tx_hi && out < end; ++tx, ++out) {
      tile_keys[out] = static_cast<uint32_t>(ty * tiles_x + tx);
      values[out] = id;
    }
  }
  for (; out < end; ++out) {  // unreachable (see launchers.cuh); keeps the sort input defined
    tile_keys[out] = static_cast<uint32_t>(tiles);
    values[out] = id;
  }
}

__global__ void tile_ranges_kernel(int m, int tiles, const uint32_t* __restrict__ keys,
                                   int2* ranges) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= m) return;
  const uint32_t tile = keys[i];
  if (tile >= static_cast<uint32_t>(tiles)) return;
  if (i == 0 || keys[i - 1] != tile) ranges[tile].x = i;
  if (i == m - 1 || keys[i + 1] != tile) ranges[tile].y = i + 1;
}

__global__ void bucket_counts_kernel(int tiles, const int2* __restrict__ ranges,
                                     int32_t* bucket_counts) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= tiles) return;
  const int2 r = ranges[t];
  bucket_counts[t] = (r.y - r.x + kBucketSize - 1) / kBucketSize;
}

__global__ void bucket_tiles_kernel(int tiles, const int32_t* __restrict__ bucket_offsets,
                                    const int32_t* __restrict__ bucket_counts,
                                    int32_t* bucket_tile) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= tiles) return;
  const int32_t first = bucket_offsets[t];
  for (int32_t k = 0; k < bucket_counts[t]; ++k) bucket_tile[first + k] = t;
}

}  // namespace

void launch_gather_depth_keys(int v, const uint32_t* ids, const float4* xy_opacity_z,
                              uint32_t* keys, cudaStream_t stream) {
  if (v == 0) return;
  gather_depth_keys_kernel<<<grid_for(v), kThreads, 0, stream>>>(v, ids, xy_opacity_z, keys);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_gather_counts(int v, const uint32_t* ids, SplatArrays splats, int64_t* counts,
                          cudaStream_t stream) {
  if (v == 0) return;
  gather_counts_kernel<<<grid_for(v), kThreads, 0, stream>>>(v, ids, splats, counts);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_total(int v, const int64_t* offsets, const int64_t* counts, int64_t* total,
                  cudaStream_t stream) {
  if (v == 0) return;
  total_kernel<<<1, 1, 0, stream>>>(v, offsets, counts, total);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_emit_instances(int v, const uint32_t* ids, const int64_t* offsets,
                           const int64_t* counts, SplatArrays splats, int tiles_x, int tiles,
                           uint32_t* tile_keys, uint32_t* values, cudaStream_t stream) {
  if (v == 0) return;
  emit_instances_kernel<<<grid_for(v), kThreads, 0, stream>>>(v, ids, offsets, counts, splats,
                                                              tiles_x, tiles, tile_keys, values);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_tile_ranges(int m, int tiles, const uint32_t* tile_keys, int2* ranges,
                        cudaStream_t stream) {
  if (m == 0) return;
  tile_ranges_kernel<<<grid_for(m), kThreads, 0, stream>>>(m, tiles, tile_keys, ranges);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_bucket_counts(int tiles, const int2* ranges, int32_t* bucket_counts,
                          cudaStream_t stream) {
  if (tiles == 0) return;
  bucket_counts_kernel<<<grid_for(tiles), kThreads, 0, stream>>>(tiles, ranges, bucket_counts);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_bucket_tiles(int tiles, const int32_t* bucket_offsets, const int32_t* bucket_counts,
                         int32_t* bucket_tile, cudaStream_t stream) {
  if (tiles == 0) return;
  bucket_tiles_kernel<<<grid_for(tiles), kThreads, 0, stream>>>(tiles, bucket_offsets,
                                                                bucket_counts, bucket_tile);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

}  // namespace glimpse::gpu
