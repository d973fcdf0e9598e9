// Per-tile blending of the CUDA rasterizer. Forward: one 256-thread block per 16x16 tile, one
// thread per pixel, splats front to back in shared-memory batches of 256 (3D Gaussian Splatting,
// Kerbl et al. 2023), writing the transmittance and accumulated colour at the start of every
// bucket of 32 instances (Taming 3DGS, Mallick et al. 2024). Backward: per splat, one warp per
// bucket; pixels flow through the warp's lanes with shfl_up (a diagonal wavefront), starting from
// the bucket's checkpoint, and each lane accumulates its splat's gradient in registers. The pixel
// math is renderer/kernels/blend.h; the support test is the CPU's per-row ellipse span.
#include "renderer/cuda/cuda_check.cuh"
#include "renderer/cuda/launchers.cuh"
#include "renderer/kernels/blend.h"
#include "renderer/kernels/gaussian_chain.h"  // kSlotSize
#include "renderer/kernels/splat_support.h"

namespace glimpse::gpu {
namespace {

constexpr int kBatch = kTilePixels;  // splats per shared-memory batch: one per thread
constexpr int kBackwardWarps = 4;    // buckets per backward block
constexpr uint32_t kFullMask = 0xffffffffu;
constexpr uint32_t kEmptySpans = 0xF0F0F0F0u;  // four rows with lo 15 > hi 0

static_assert(kTileSize == 16 && kTilePixels == 256, "span bytes hold 4-bit tile columns");

// The splat's pixels in each of the tile's 16 rows, one byte per row: (lo << 4) | hi of the
// tile-local columns (splat_row_span clipped to the splat's box; the per-pixel sigma test decides,
// as on the CPU, which visits whole box rows), 0xF0 when empty. Adds the number of pixels to
// `pixels`.
__device__ inline uint4 tile_spans(const float4 xy, const float4 q, const int4 box, int px0,
                                   int py0, int& pixels) {
  const int lx0 = max(box.x - px0, 0), lx1 = min(box.z - px0, kTileSize - 1);
  const int ly0 = max(box.y - py0, 0), ly1 = min(box.w - py0, kTileSize - 1);
  uint32_t words[4] = {kEmptySpans, kEmptySpans, kEmptySpans, kEmptySpans};
#pragma unroll
  for (int ly = 0; ly < kTileSize; ++ly) {
    int lo, hi;
    if (ly >= ly0 && ly <= ly1 &&
        splat_row_span(xy.x, xy.y, q.x, q.y, q.z, q.w, py0 + ly, px0, lx0, lx1, lo, hi)) {
      pixels += hi - lo + 1;
      const int shift = 8 * (ly & 3);
      const uint32_t byte = (static_cast<uint32_t>(lo) << 4) | static_cast<uint32_t>(hi);
      words[ly >> 2] = (words[ly >> 2] & ~(0xFFu << shift)) | (byte << shift);
    }
  }
  return make_uint4(words[0], words[1], words[2], words[3]);
}

__device__ inline bool in_span(uint32_t word, int ly, int lx) {
  const uint32_t span = (word >> (8 * (ly & 3))) & 0xFFu;
  return lx >= static_cast<int>(span >> 4) && lx <= static_cast<int>(span & 15u);
}

__global__ void __launch_bounds__(kTilePixels)
    blend_forward_kernel(ForwardBlendParams p, const int2* __restrict__ ranges,
                         const int32_t* __restrict__ bucket_offsets,
                         const uint32_t* __restrict__ ids, SplatArrays splats,
                         float* __restrict__ out_image, float4* __restrict__ pix_cd,
                         float* __restrict__ pix_t, int32_t* __restrict__ pix_last,
                         int32_t* __restrict__ pix_median, float4* __restrict__ ckpt_cd,
                         float* __restrict__ ckpt_t, int32_t* __restrict__ tile_max_last,
                         unsigned long long* evaluations) {
  __shared__ float4 s_xy[kBatch], s_conic[kBatch], s_rgb[kBatch];
  __shared__ uint32_t s_span[kBatch][4];
  __shared__ int s_max_last;
  __shared__ unsigned long long s_evals;

  const int tile = blockIdx.x;
  const int px0 = (tile % p.tiles_x) * kTileSize, py0 = (tile / p.tiles_x) * kTileSize;
  const int t = threadIdx.x, lx = t & (kTileSize - 1), ly = t / kTileSize;
  const int x = px0 + lx, y = py0 + ly;
  const bool inside = x < p.width && y < p.height;
  if (t == 0) {
    s_max_last = 0;
    s_evals = 0;
  }
  __syncthreads();
  const int2 range = ranges[tile];
  const int bucket0 = bucket_offsets[tile];
  // Offsets as the CPU forms them: dx = lx + ((px0 + 0.5) - mx), dy = (y + 0.5) - my.
  const float dx0 = static_cast<float>(px0) + 0.5f;
  const float yc = static_cast<float>(y) + 0.5f;
  const int span_word = ly >> 2;

  float tr = 1.f, cr = 0.f, cg = 0.f, cb = 0.f, ds = 0.f, med = 0.f;
  int last = 0, med_idx = -1;
  bool done = !inside;
  unsigned long long evals = 0;

  for (int batch = range.x; batch < range.y; batch += kBatch) {
    // Also the barrier before the batch's shared memory is overwritten.
    if (__syncthreads_count(done) == kTilePixels) break;
    const int j = batch + t;
    if (j < range.y) {
      const uint32_t id = ids[j];
      const float4 xy = splats.xy_opacity_z[id];
      const float4 q = splats.conic_smax[id];
      int pixels = 0;
      const uint4 sp = tile_spans(xy, q, splats.box[id], px0, py0, pixels);
      evals += static_cast<unsigned long long>(pixels);
      s_xy[t] = xy;
      s_conic[t] = q;
      s_rgb[t] = splats.rgb[id];
      s_span[t][0] = sp.x, s_span[t][1] = sp.y, s_span[t][2] = sp.z, s_span[t][3] = sp.w;
    }
    __syncthreads();
    const int count = min(kBatch, range.y - batch);
    for (int k = 0; k < count; ++k) {
      const int jj = batch + k;
      if (((jj - range.x) & (kBucketSize - 1)) == 0) {  // a bucket starts: checkpoint the pixel
        const size_t c =
            static_cast<size_t>(bucket0 + (jj - range.x) / kBucketSize) * kTilePixels + t;
        ckpt_t[c] = tr;
        ckpt_cd[c] = make_float4(cr, cg, cb, ds);
      }
      if (done || !in_span(s_span[k][span_word], ly, lx)) continue;
      const float4 xy = s_xy[k];
      const float4 q = s_conic[k];
      const float dx = static_cast<float>(lx) + (dx0 - xy.x);
      const float dy = yc - xy.y;
      const float a = splat_alpha(xy.z, q.x, q.y, q.z, dx, dy, q.w);
      if (!(a > 0.f)) continue;  // skipped fragment (alpha < 1/255 or indefinite)
      const float t_next = tr * (1.f - a);
      if (t_next < kTransmittanceMin) {  // stop before the fragment that would cross 1e-4
        done = true;
        continue;
      }
      const float w = a * tr;
      const float4 c = s_rgb[k];
      cr += w * c.x;
      cg += w * c.y;
      cb += w * c.z;
      ds += w * xy.w;
      if (tr > 0.5f && t_next <= 0.5f) {  // transmittance crosses 0.5: the median fragment
        med = xy.w;
        med_idx = jj;
      }
      tr = t_next;
      last = jj + 1;
    }
  }

  const size_t pix = static_cast<size_t>(tile) * kTilePixels + t;
  pix_cd[pix] = make_float4(cr, cg, cb, ds);
  pix_t[pix] = tr;
  pix_last[pix] = last;
  pix_median[pix] = med_idx;
  if (inside) {
    const size_t hw = static_cast<size_t>(p.width) * p.height;
    const size_t img = static_cast<size_t>(y) * p.width + x;
    out_image[3 * img + 0] = cr + tr * p.background.x;
    out_image[3 * img + 1] = cg + tr * p.background.y;
    out_image[3 * img + 2] = cb + tr * p.background.z;
    const float alpha = 1.f - tr;
    out_image[3 * hw + img] = alpha;
    out_image[4 * hw + img] = alpha > kDepthAlphaMin ? ds / alpha : 0.f;
    out_image[5 * hw + img] = med;
  }
  atomicMax(&s_max_last, last);
  if (evals > 0) atomicAdd(&s_evals, evals);
  __syncthreads();
  if (t == 0) {
    tile_max_last[tile] = s_max_last;
    if (s_evals > 0) atomicAdd(evaluations, s_evals);
  }
}

// Folds the upstream gradients of pixel (tile, t) into what every fragment's alpha gradient needs
// (renderer/cpu/cpu_rasterizer.cpp backward, step 1): with S = sum w z the depth sum and A the
// alpha, D = S / A gives v_S = v_D / A and v_A -= v_D S / A^2. Then for fragment i with
// Q_i = sum_{j <= i} w_j (c_j . v_C + z_j v_S) and P = Q_last:
//   dL/da_i = T_i (c_i . v_C + z_i v_S) + (K + Q_i) / (1 - a_i),  K = T_N (v_A - bg . v_C) - P,
// the CPU's back-to-front B recurrence written front to back (T_i B_i = (P - Q_i) / (1 - a_i)).
__global__ void __launch_bounds__(kTilePixels)
    pixel_gradients_kernel(ForwardBlendParams p, const float* __restrict__ v_rgb,
                           const float* __restrict__ v_alpha, const float* __restrict__ v_depth,
                           const float* __restrict__ v_median, const float4* __restrict__ pix_cd,
                           const float* __restrict__ pix_t, const int32_t* __restrict__ pix_last,
                           const int32_t* __restrict__ pix_median, float4* __restrict__ pix_v,
                           float4* __restrict__ pix_k) {
  const int tile = blockIdx.x, t = threadIdx.x;
  const int x = (tile % p.tiles_x) * kTileSize + (t & (kTileSize - 1));
  const int y = (tile / p.tiles_x) * kTileSize + t / kTileSize;
  const size_t pix = static_cast<size_t>(tile) * kTilePixels + t;
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  float4 k = make_float4(0.f, 0.f, __int_as_float(0), __int_as_float(-1));
  if (x < p.width && y < p.height) {
    const size_t img = static_cast<size_t>(y) * p.width + x;
    if (v_rgb != nullptr)
      v = make_float4(v_rgb[3 * img], v_rgb[3 * img + 1], v_rgb[3 * img + 2], 0.f);
    float va = v_alpha != nullptr ? v_alpha[img] : 0.f;
    const float vd = v_depth != nullptr ? v_depth[img] : 0.f;
    const float tr = pix_t[pix];
    const float4 cd = pix_cd[pix];
    const float alpha = 1.f - tr;
    if (alpha > kDepthAlphaMin) {
      v.w = vd / alpha;
      va -= vd * cd.w / (alpha * alpha);
    }
    const float k_alpha =
        (va - (p.background.x * v.x + p.background.y * v.y + p.background.z * v.z)) * tr;
    const float total = cd.x * v.x + cd.y * v.y + cd.z * v.z + cd.w * v.w;
    k = make_float4(k_alpha - total, v_median != nullptr ? v_median[img] : 0.f,
                    __int_as_float(pix_last[pix]), __int_as_float(pix_median[pix]));
  }
  pix_v[pix] = v;
  pix_k[pix] = k;
}

// Warp w of the block takes bucket b: lane l owns instance first + l of the bucket's tile. At step
// s lane l handles pixel s - l: lane 0 starts each pixel from the bucket's checkpoint (T and Q at
// the bucket's first instance) and every lane hands (T, Q) after its fragment to the next lane.
__global__ void __launch_bounds__(32 * kBackwardWarps) blend_backward_kernel(
    int slots, int tiles_x, const int32_t* __restrict__ bucket_tile,
    const int32_t* __restrict__ bucket_offsets, const int2* __restrict__ ranges,
    const int32_t* __restrict__ tile_max_last, const uint32_t* __restrict__ ids, SplatArrays splats,
    const float4* __restrict__ pix_v, const float4* __restrict__ pix_k,
    const float4* __restrict__ ckpt_cd, const float* __restrict__ ckpt_t, float* __restrict__ v2d) {
  const int bucket = blockIdx.x * kBackwardWarps + static_cast<int>(threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (bucket >= slots) return;  // warp-uniform exits only: the loop below shuffles
  const int tile = bucket_tile[bucket];
  if (tile < 0) return;
  const int2 range = ranges[tile];
  const int first = range.x + (bucket - bucket_offsets[tile]) * kBucketSize;
  const int max_last = tile_max_last[tile];
  if (first >= max_last) return;  // no pixel of the tile blended anything this far back
  const int px0 = (tile % tiles_x) * kTileSize, py0 = (tile / tiles_x) * kTileSize;
  const int j = first + lane;
  const bool active = j < min(range.y, max_last);

  uint32_t id = 0;
  float4 xy = make_float4(0.f, 0.f, 0.f, 0.f), q = xy, c = xy;
  uint4 sp = make_uint4(kEmptySpans, kEmptySpans, kEmptySpans, kEmptySpans);
  if (active) {
    id = ids[j];
    xy = splats.xy_opacity_z[id];
    q = splats.conic_smax[id];
    c = splats.rgb[id];
    int pixels = 0;
    sp = tile_spans(xy, q, splats.box[id], px0, py0, pixels);
  }
  const float dx0 = static_cast<float>(px0) + 0.5f;
  const float4* tile_v = pix_v + static_cast<size_t>(tile) * kTilePixels;
  const float4* tile_k = pix_k + static_cast<size_t>(tile) * kTilePixels;
  const float4* start_cd = ckpt_cd + static_cast<size_t>(bucket) * kTilePixels;
  const float* start_t = ckpt_t + static_cast<size_t>(bucket) * kTilePixels;

  // mean2d (2), conic (3), opacity, colour (3), depth
  float acc[kSlotSize] = {};
  float tr = 0.f, qa = 0.f;  // transmittance and Q before this lane's fragment
  for (int s = 0; s < kTilePixels + kBucketSize - 1; ++s) {
    tr = __shfl_up_sync(kFullMask, tr, 1);
    qa = __shfl_up_sync(kFullMask, qa, 1);
    const int pixel = s - lane;
    if (pixel < 0 || pixel >= kTilePixels) continue;
    float4 v;
    bool have_v = false;
    if (lane == 0) {
      const float4 cd = start_cd[pixel];
      v = tile_v[pixel];
      have_v = true;
      tr = start_t[pixel];
      qa = cd.x * v.x + cd.y * v.y + cd.z * v.z + cd.w * v.w;
    }
    if (!active) continue;
    const int ly = pixel / kTileSize, lx = pixel & (kTileSize - 1);
    const uint32_t word = ly < 8 ? (ly < 4 ? sp.x : sp.y) : (ly < 12 ? sp.z : sp.w);
    if (!in_span(word, ly, lx)) continue;
    const float4 k = tile_k[pixel];
    if (j >= __float_as_int(k.z)) continue;  // at or behind the pixel's stop
    const float dx = static_cast<float>(lx) + (dx0 - xy.x);
    const float dy = static_cast<float>(py0 + ly) + 0.5f - xy.y;
    const float a = splat_alpha(xy.z, q.x, q.y, q.z, dx, dy, q.w);
    if (!(a > 0.f)) continue;
    if (!have_v) v = tile_v[pixel];
    const float t_i = tr;
    const float w = a * t_i;
    const float cv = c.x * v.x + c.y * v.y + c.z * v.z + xy.w * v.w;
    qa += w * cv;
    const float v_a = t_i * cv + (k.x + qa) / (1.f - a);  // a <= 0.99: finite
    float v_opacity = 0.f;
    Vec3<float> v_conic{0.f, 0.f, 0.f};
    Vec2<float> v_mean{0.f, 0.f};
    splat_alpha_vjp(xy.z, q.x, q.y, q.z, dx, dy, q.w, v_a, v_opacity, v_conic, v_mean);
    acc[0] += v_mean.x;
    acc[1] += v_mean.y;
    acc[2] += v_conic.x;
    acc[3] += v_conic.y;
    acc[4] += v_conic.z;
    acc[5] += v_opacity;
    acc[6] += w * v.x;
    acc[7] += w * v.y;
    acc[8] += w * v.z;
    acc[9] += w * v.w + (j == __float_as_int(k.w) ? k.y : 0.f);  // median depth fragment
    tr = t_i * (1.f - a);
  }
  if (!active) return;
  float* out = v2d + kSlotSize * static_cast<size_t>(id);
#pragma unroll
  for (int r = 0; r < kSlotSize; ++r)
    if (acc[r] != 0.f) atomicAdd(out + r, acc[r]);
}

}  // namespace

void launch_blend_forward(const ForwardBlendParams& p, const int2* ranges,
                          const int32_t* bucket_offsets, const uint32_t* instance_ids,
                          SplatArrays splats, float* out_image, float4* pix_color_depth,
                          float* pix_final_t, int32_t* pix_last, int32_t* pix_median,
                          float4* ckpt_color_depth, float* ckpt_t, int32_t* tile_max_last,
                          unsigned long long* evaluations, cudaStream_t stream) {
  const int tiles = p.tiles_x * p.tiles_y;
  if (tiles == 0) return;
  blend_forward_kernel<<<tiles, kTilePixels, 0, stream>>>(
      p, ranges, bucket_offsets, instance_ids, splats, out_image, pix_color_depth, pix_final_t,
      pix_last, pix_median, ckpt_color_depth, ckpt_t, tile_max_last, evaluations);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_pixel_gradients(const ForwardBlendParams& p, const float* v_rgb, const float* v_alpha,
                            const float* v_depth, const float* v_median,
                            const float4* pix_color_depth, const float* pix_final_t,
                            const int32_t* pix_last, const int32_t* pix_median, float4* pix_v,
                            float4* pix_k, cudaStream_t stream) {
  const int tiles = p.tiles_x * p.tiles_y;
  if (tiles == 0) return;
  pixel_gradients_kernel<<<tiles, kTilePixels, 0, stream>>>(p, v_rgb, v_alpha, v_depth, v_median,
                                                            pix_color_depth, pix_final_t, pix_last,
                                                            pix_median, pix_v, pix_k);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

void launch_blend_backward(int bucket_slots, int tiles_x, const int32_t* bucket_tile,
                           const int32_t* bucket_offsets, const int2* ranges,
                           const int32_t* tile_max_last, const uint32_t* instance_ids,
                           SplatArrays splats, const float4* pix_v, const float4* pix_k,
                           const float4* ckpt_color_depth, const float* ckpt_t, float* v2d,
                           cudaStream_t stream) {
  if (bucket_slots == 0) return;
  const int blocks = (bucket_slots + kBackwardWarps - 1) / kBackwardWarps;
  blend_backward_kernel<<<blocks, 32 * kBackwardWarps, 0, stream>>>(
      bucket_slots, tiles_x, bucket_tile, bucket_offsets, ranges, tile_max_last, instance_ids,
      splats, pix_v, pix_k, ckpt_color_depth, ckpt_t, v2d);
  GLIMPSE_CUDA_CHECK_LAUNCH();
}

}  // namespace glimpse::gpu
