// CPU tile rasterizer (forward and backward) over the shared kernels. Parallel over Gaussians for
// preprocessing and over tiles for blending; the backward pass writes one gradient slot per
// (Gaussian, tile) and reduces the slots of each Gaussian in a fixed order, so results do not
// depend on scheduling or thread count and no atomics are needed. In float, the per-Gaussian
// work (projection and colour forward, the parameter chain backward) runs on 8 Gaussians at once
// through the same kernels with Float8 lanes (simd_float.h).
#include "renderer/cpu/cpu_rasterizer.h"

#include "renderer/cpu/lanes.h"
#include "renderer/cpu/radix_sort.h"
#include "renderer/cpu/simd_float.h"
#include "renderer/kernels/blend.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/gaussian_chain.h"
#include "renderer/kernels/projection.h"
#include "renderer/kernels/sh.h"
#include "renderer/kernels/splat_support.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace glimpse {
namespace {

constexpr int64_t kGaussianGrain = 1024;  // Gaussians per work item (and per pose partial sum)
constexpr int64_t kPrefetchDistance = 8;  // tile-list entries fetched ahead (measured: 4-16 equal)

// True if any of v[0..n) is NaN or infinite (exponent field all ones).
template <typename T>
[[gnu::always_inline]] inline bool any_non_finite(const T* v, int n) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr U kExponent = static_cast<U>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  U hits = 0;
  for (int k = 0; k < n; ++k) {
    U bits;
    std::memcpy(&bits, v + k, sizeof(bits));
    hits |= ((bits & kExponent) == kExponent) ? U{1} : U{0};
  }
  return hits != 0;
}

#if GLIMPSE_HAS_LANES
// Gaussian i's parameters into lane l of the rows in[0-2] mean, in[3-6] quaternion w x y z,
// in[7-9] log-scale, in[10] opacity logit (the 8-wide paths' gather).
void put_param_lanes(const GaussiansT<float>& g, size_t i, int l, float (*in)[8]) {
  for (int c = 0; c < 3; ++c) {
    in[c][l] = g.means[3 * i + c];
    in[7 + c][l] = g.log_scales[3 * i + c];
  }
  for (int c = 0; c < 4; ++c) in[3 + c][l] = g.quats[4 * i + c];
  in[10][l] = g.opacity_logits[i];
}
#endif

template <typename T>
Vec3<T> load3(const std::vector<T>& v, size_t i) {
  return {v[3 * i], v[3 * i + 1], v[3 * i + 2]};
}

template <typename T>
Quat<T> load_quat(const std::vector<T>& v, size_t i) {
  return {v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]};
}

int sh_degree_used(int model_degree, const RenderOptions& options) {
  return std::min(model_degree, std::max(0, options.sh_degree));
}

// Lane groups covering the columns [lx0, lx1] of a tile row. The support test is per lane, so the
// groups, their masks and their x offsets are the same in every row of a splat: computed once per
// (splat, tile). 8 lanes: one group from lx0 or the two halves of the row; one lane (the double
// path): one group per column.
template <typename T>
struct RowGroups {
  using L = LaneTraits<T>;
  using V = typename L::V;
  using M = typename L::M;
  int lx0, lx1, k0 = 0, k1 = 0, count = 1;
  T dx_origin;  // pixel centre minus mean, x, of tile column 0
  V dx0{}, dx1{};
  M span0{}, span1{};

  RowGroups(int lx0_, int lx1_, T dx_origin_) : lx0(lx0_), lx1(lx1_), dx_origin(dx_origin_) {
    if constexpr (L::kWidth > 1) {
      static_assert(2 * L::kWidth == kTileSize, "two lane groups per tile row");
      // One group starting at lx0 where it fits, else the tile row's two halves (groups that
      // overlap would store and reload the same pixels back to back: a store-forwarding stall).
      k0 = std::min(lx0, kTileSize - L::kWidth);
      count = lx1 > k0 + L::kWidth - 1 ? 2 : 1;
      if (count == 2) k0 = 0;
      const int hi0 = std::min(lx1, k0 + L::kWidth - 1);
      k1 = kTileSize - L::kWidth;
      const V lane0 = L::iota() + T(k0), lane1 = L::iota() + T(k1);
      dx0 = lane0 + dx_origin;
      dx1 = lane1 + dx_origin;
      span0 = (lane0 >= T(lx0)) & (lane0 <= T(hi0));
      span1 = (lane1 > T(hi0)) & (lane1 <= T(lx1));
    }
  }
  // fn(k, dx, in_span) per group: k is the group's first column, dx the lanes' offsets from the
  // mean, in_span the lanes inside [lx0, lx1] (each column is visited by exactly one lane).
  template <typename Fn>
  [[gnu::always_inline]] inline void for_each(Fn&& fn) const {
    if constexpr (L::kWidth == 1) {
      for (int x = lx0; x <= lx1; ++x) fn(x, dx_origin + T(x), M(true));
    } else {
      fn(k0, dx0, span0);
      if (count == 2) fn(k1, dx1, span1);
    }
  }
};

}  // namespace

template <typename T>
CpuRasterizerT<T>::CpuRasterizerT(int num_threads) : pool_(num_threads) {}

// [SECTION] preprocess -------------------------------------------------------------------------
template <typename T>
void CpuRasterizerT<T>::preprocess(const GaussiansT<T>& g, const CameraT<T>& camera,
                                   const RenderOptions& options, RenderOutputT<T>& out) {
  const size_t n = g.size();
  splats_.resize(n);
  tile_count_.assign(n, 0);
  tile_box_.resize(n);
  out.radii.assign(n, 0);
  const Intrinsics<T> k = intrinsics_of(camera);
  const Vec3<T> campos = camera.center();
  const int degree = sh_degree_used(g.sh_degree, options);
  const int stride = 3 * g.sh_coeffs();
  const bool aa = options.antialiasing == AntiAliasing::MipSplatting;
  const bool opacity_aware = options.extent == ExtentMode::OpacityAware;
  const T near = T(options.near_plane), far = T(options.far_plane), blur = T(options.blur);

  std::atomic<bool> invalid{false};
  // Every parameter finite, quaternion non-zero: integer tests of the exponent fields of the
  // values the loops read anyway (vectorised; a float probe sum was a serial chain of 59
  // additions); GaussiansT::check names the culprit.
  auto params_valid = [&](size_t i) {
    const bool bad = any_non_finite(&g.means[3 * i], 3) | any_non_finite(&g.log_scales[3 * i], 3) |
                     any_non_finite(&g.quats[4 * i], 4) | any_non_finite(&g.opacity_logits[i], 1) |
                     any_non_finite(&g.sh[i * stride], stride);
    T q2 = T(0);
    for (int c = 0; c < 4; ++c) q2 += g.quats[4 * i + c] * g.quats[4 * i + c];
    return !bad && q2 > T(0);
  };
  // The rest for one Gaussian from its projection: culling, screen extent, pixel box and the splat
  // record. color() gives its colour (evaluated only for a splat that is kept).
  auto emit = [&](size_t i, T z, const Vec2<T>& mean2d, const Vec3<T>& cov2d_blur,
                  const Vec3<T>& conic, T opacity, auto&& color) {
    if (!(opacity >= T(kAlphaMin))) return;
    const T sigmas = extent_sigmas(opacity, opacity_aware);
    const T rx = sigmas * std::sqrt(cov2d_blur.x), ry = sigmas * std::sqrt(cov2d_blur.z);
    Splat s;
    int32_t x0, x1, y0, y1;
    if (!splat_pixel_range(mean2d.x, rx, width_, x0, x1)) return;
    if (!splat_pixel_range(mean2d.y, ry, height_, y0, y1)) return;
    s.x0 = static_cast<int16_t>(x0), s.x1 = static_cast<int16_t>(x1);
    s.y0 = static_cast<int16_t>(y0), s.y1 = static_cast<int16_t>(y1);
    s.slot = 0;
    const Vec3<T> rgb = color();
    s.mx = mean2d.x, s.my = mean2d.y;
    s.ca = conic.x, s.cb = conic.y, s.cc = conic.z;
    s.opacity = opacity;
    s.r = rgb.x, s.g = rgb.y, s.b = rgb.z;
    s.z = z;
    s.sigma_max = T(0.5) * sigmas * sigmas;
    s.radius = std::max(1, static_cast<int32_t>(std::ceil(max_value(rx, ry))));
    splats_[i] = s;
    out.radii[i] = s.radius;
    const TileBox box{static_cast<uint16_t>(x0 / kTileSize), static_cast<uint16_t>(y0 / kTileSize),
                      static_cast<uint16_t>(x1 / kTileSize), static_cast<uint16_t>(y1 / kTileSize)};
    tile_box_[i] = box;
    tile_count_[i] = (box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1);
  };
#if GLIMPSE_HAS_LANES
  if constexpr (std::is_same_v<T, float>) {
    // float: projection and colour of 8 Gaussians at once (Float8 lanes, the kernels of the
    // double path below), then the per-Gaussian rest.
    const CameraT<Float8> camera8 = camera.template cast<Float8>();
    const Intrinsics<Float8> k8 = intrinsics_of(camera8);
    const Vec3<Float8> campos8{campos.x, campos.y, campos.z};
    const int active_sh = 3 * sh_coeffs_for_degree(degree);
    pool_.parallel_for(static_cast<int64_t>(n), kGaussianGrain, [&](int64_t b, int64_t e, int) {
      bool chunk_invalid = false;
      // Lane rows: 0-2 mean, 3-6 quaternion, 7-9 log-scale, 10 logit.
      alignas(32) float in[11][8];
      size_t sh_at[8];  // first coefficient of each lane's Gaussian
      // 0 depth, 1-2 2D mean, 3-5 blurred 2D covariance, 6-8 conic, 9 opacity, 10-12 colour.
      alignas(32) float res[13][8];
      alignas(32) int32_t keep[8];
      Float8 sh8[3 * kMaxShCoeffs];
      for (int64_t g0 = b; g0 < e; g0 += 8) {
        for (int l = 0; l < 8; ++l) {
          // Lanes past the end repeat the last Gaussian and are never stored; invalid lanes are
          // computed (NaN does not trap) and dropped.
          const size_t i = static_cast<size_t>(std::min(g0 + l, e - 1));
          const bool valid = params_valid(i);
          chunk_invalid |= !valid;
          keep[l] = valid && g0 + l < e;
          put_param_lanes(g, i, l, in);
          sh_at[l] = i * stride;
        }
        auto row = [&](int r) { return Float8::load(in[r]); };
        const Vec3<Float8> mean{row(0), row(1), row(2)};
        const Vec3<Float8> p = transform_point(camera8.rotation, camera8.translation, mean);
        const Mat3<Float8> cov = covariance_from_params(
            Quat<Float8>{row(3), row(4), row(5), row(6)}, Vec3<Float8>{row(7), row(8), row(9)});
        const Mat3<Float8> cov_cam = rotate_covariance(camera8.rotation, cov);
        Vec2<Float8> mean2d;
        Vec3<Float8> cov2d, cov2d_blur, conic;
        project_gaussian(k8, p, cov_cam, mean2d, cov2d);
        const Float8 compensation = add_blur(cov2d, Float8(blur), aa, cov2d_blur);
        const Mask8 invertible = inverse_sym2(cov2d_blur, conic);
        const Float8 opacity = sigmoid(row(10)) * compensation;
        gather_lane_rows(g.sh.data(), sh_at, active_sh, sh8);
        const Vec3<Float8> color = sh_to_color(degree, sh8, mean - campos8);
        const Mask8 in_range = mask_and(p.z >= Float8(near), p.z <= Float8(far));
        const Float8 results[13] = {p.z,          mean2d.x, mean2d.y, cov2d_blur.x, cov2d_blur.y,
                                    cov2d_blur.z, conic.x,  conic.y,  conic.z,      opacity,
                                    color.x,      color.y,  color.z};
        for (int r = 0; r < 13; ++r) results[r].store(res[r]);
        const Mask8 passed = mask_and(in_range, invertible);
        alignas(32) int32_t pass[8];
        std::memcpy(pass, &passed.m, sizeof(pass));
        for (int l = 0; l < 8 && g0 + l < e; ++l) {
          if (!keep[l] || !pass[l]) continue;
          emit(static_cast<size_t>(g0 + l), res[0][l], Vec2<T>{res[1][l], res[2][l]},
               Vec3<T>{res[3][l], res[4][l], res[5][l]}, Vec3<T>{res[6][l], res[7][l], res[8][l]},
               res[9][l], [&] {
                 return Vec3<T>{res[10][l], res[11][l], res[12][l]};
               });
        }
      }
      if (chunk_invalid) invalid.store(true, std::memory_order_relaxed);
    });
  } else
#endif
  {  // double (and builds without lane types): one Gaussian at a time
    pool_.parallel_for(static_cast<int64_t>(n), kGaussianGrain, [&](int64_t b, int64_t e, int) {
      bool chunk_invalid = false;
      for (int64_t gi = b; gi < e; ++gi) {
        const size_t i = static_cast<size_t>(gi);
        if (!params_valid(i)) {
          chunk_invalid = true;
          continue;
        }
        const Vec3<T> mean = load3(g.means, i);
        const Vec3<T> p = transform_point(camera.rotation, camera.translation, mean);
        if (!(p.z >= near && p.z <= far)) continue;
        const Mat3<T> cov = covariance_from_params(load_quat(g.quats, i), load3(g.log_scales, i));
        const Mat3<T> cov_cam = rotate_covariance(camera.rotation, cov);
        Vec2<T> mean2d;
        Vec3<T> cov2d, cov2d_blur, conic;
        project_gaussian(k, p, cov_cam, mean2d, cov2d);
        const T compensation = add_blur(cov2d, blur, aa, cov2d_blur);
        if (!inverse_sym2(cov2d_blur, conic)) continue;
        const T opacity = sigmoid(g.opacity_logits[i]) * compensation;
        emit(i, p.z, mean2d, cov2d_blur, conic, opacity,
             [&] { return sh_to_color(degree, &g.sh[i * stride], mean - campos); });
      }
      if (chunk_invalid) invalid.store(true, std::memory_order_relaxed);
    });
  }
  if (invalid.load()) {
    g.check("gaussians");  // throws, naming the parameter and the Gaussian
    GLIMPSE_FAIL() << "gaussians: a parameter is NaN or infinite";
  }
}

// [SECTION] depth sort and tile binning
// ------------------------------------------------------------
template <typename T>
void CpuRasterizerT<T>::bin_tiles() {
  // Visible Gaussians in index order with their first gradient slots: per-chunk counts, a prefix
  // over chunks, then each chunk writes its part (parallel; the result does not depend on the
  // thread count).
  const int64_t n = static_cast<int64_t>(splats_.size());
  const int64_t gchunks = (n + kGaussianGrain - 1) / kGaussianGrain;
  std::vector<int64_t> chunk_slots(gchunks + 1, 0), chunk_visible(gchunks + 1, 0);
  pool_.parallel_for(gchunks, 1, [&](int64_t cb, int64_t ce, int) {
    for (int64_t c = cb; c < ce; ++c) {
      int64_t slots = 0, visible = 0;
      for (int64_t i = c * kGaussianGrain; i < std::min(n, (c + 1) * kGaussianGrain); ++i) {
        slots += tile_count_[i];
        visible += tile_count_[i] > 0;
      }
      chunk_slots[c + 1] = slots;
      chunk_visible[c + 1] = visible;
    }
  });
  for (int64_t c = 0; c < gchunks; ++c) {
    chunk_slots[c + 1] += chunk_slots[c];
    chunk_visible[c + 1] += chunk_visible[c];
  }
  GLIMPSE_CHECK(chunk_slots[gchunks] < (int64_t{1} << 32))
      << "more than 2^32 (Gaussian, tile) pairs in one view; render at a lower resolution";
  sort_keys_.resize(chunk_visible[gchunks]);
  depth_order_.resize(chunk_visible[gchunks]);
  pool_.parallel_for(gchunks, 1, [&](int64_t cb, int64_t ce, int) {
    for (int64_t c = cb; c < ce; ++c) {
      int64_t slot = chunk_slots[c], v = chunk_visible[c];
      for (int64_t i = c * kGaussianGrain; i < std::min(n, (c + 1) * kGaussianGrain); ++i) {
        if (tile_count_[i] == 0) continue;
        splats_[i].slot = static_cast<uint32_t>(slot);
        slot += tile_count_[i];
        // Positive floats order like their bit patterns; the sort is stable, so equal depths
        // keep index order.
        sort_keys_[v] = std::bit_cast<uint32_t>(static_cast<float>(splats_[i].z));
        depth_order_[v] = static_cast<uint32_t>(i);
        ++v;
      }
    }
  });
  radix_sort_pairs(sort_keys_, depth_order_, sort_keys_tmp_, sort_values_tmp_);
  ordered_box_.resize(depth_order_.size());
  pool_.parallel_for(static_cast<int64_t>(depth_order_.size()), 8192,
                     [&](int64_t b, int64_t e, int) {
                       for (int64_t k = b; k < e; ++k) ordered_box_[k] = tile_box_[depth_order_[k]];
                     });

  // Counting sort into tiles, parallel over chunks of the depth order: each chunk counts its
  // instances per tile, a prefix over (tile, chunk) gives every chunk its write cursors, and the
  // fill keeps depth order inside each tile. The result does not depend on the thread count.
  const int64_t tiles = static_cast<int64_t>(tiles_x_) * tiles_y_;
  const int64_t visible = static_cast<int64_t>(depth_order_.size());
  const int64_t chunks = std::clamp<int64_t>(visible / 8192, 1, 32);
  const int64_t per_chunk = (visible + chunks - 1) / chunks;
  std::vector<int64_t> cursor(static_cast<size_t>(chunks * tiles), 0);
  // k: position in the depth order.
  auto for_tiles_of = [&](int64_t k, auto&& fn) {
    const TileBox b = ordered_box_[k];
    for (int ty = b.y0; ty <= b.y1; ++ty)
      for (int tx = b.x0; tx <= b.x1; ++tx) fn(ty * tiles_x_ + tx);
  };
  pool_.parallel_for(chunks, 1, [&](int64_t cb, int64_t ce, int) {
    for (int64_t c = cb; c < ce; ++c) {
      int64_t* count = &cursor[c * tiles];
      const int64_t end = std::min(visible, (c + 1) * per_chunk);
      for (int64_t k = c * per_chunk; k < end; ++k) for_tiles_of(k, [&](int64_t t) { ++count[t]; });
    }
  });
  tile_offsets_.assign(tiles + 1, 0);
  int64_t total = 0;
  for (int64_t t = 0; t < tiles; ++t) {
    tile_offsets_[t] = total;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t n_ct = cursor[c * tiles + t];
      cursor[c * tiles + t] = total;
      total += n_ct;
    }
  }
  tile_offsets_[tiles] = total;
  tile_list_.resize(total);
  pool_.parallel_for(chunks, 1, [&](int64_t cb, int64_t ce, int) {
    for (int64_t c = cb; c < ce; ++c) {
      int64_t* cur = &cursor[c * tiles];
      const int64_t end = std::min(visible, (c + 1) * per_chunk);
      for (int64_t k = c * per_chunk; k < end; ++k) {
        const uint32_t i = depth_order_[k];
        for_tiles_of(k, [&](int64_t t) { tile_list_[cur[t]++] = i; });
      }
    }
  });
}

// [SECTION] forward blending
// -----------------------------------------------------------------------
template <typename T>
void CpuRasterizerT<T>::rasterize_tiles(const RenderOptions& options, RenderOutputT<T>& out) {
  using L = LaneTraits<T>;
  using V = typename L::V;
  using I = typename L::I;
  using M = typename L::M;
  const int tiles = tiles_x_ * tiles_y_;
  const T bg[3] = {T(options.background.x), T(options.background.y), T(options.background.z)};
  tile_evaluations_.assign(tiles, 0);

  pool_.parallel_for(tiles, 1, [&](int64_t tb, int64_t te, int) {
    // tr: transmittance, negated once the pixel is done (the next fragment would take it below
    // kTransmittanceMin, or the pixel lies outside the image).
    alignas(64) T tr[kTilePixels], cr[kTilePixels], cg[kTilePixels], cbl[kTilePixels];
    alignas(64) T ds[kTilePixels];
    alignas(64) int32_t last[kTilePixels], med_idx[kTilePixels];
    for (int64_t tile = tb; tile < te; ++tile) {
      const int px0 = static_cast<int>(tile % tiles_x_) * kTileSize;
      const int py0 = static_cast<int>(tile / tiles_x_) * kTileSize;
      for (int p = 0; p < kTilePixels; ++p) {
        const int x = px0 + p % kTileSize, y = py0 + p / kTileSize;
        tr[p] = (x < width_ && y < height_) ? T(1) : T(-1);
        cr[p] = cg[p] = cbl[p] = ds[p] = T(0);
        last[p] = 0, med_idx[p] = -1;
      }
      int64_t evaluations = 0;
      const int64_t start = tile_offsets_[tile], end = tile_offsets_[tile + 1];
      for (int64_t j = start; j < end; ++j) {
        // Splats are reached through the tile list in random order: fetch ahead.
        if (j + kPrefetchDistance < end)
          __builtin_prefetch(&splats_[tile_list_[j + kPrefetchDistance]]);
        const Splat& s = splats_[tile_list_[j]];
        const int lx0 = std::max(s.x0 - px0, 0), lx1 = std::min(s.x1 - px0, kTileSize - 1);
        const int ly0 = std::max(s.y0 - py0, 0), ly1 = std::min(s.y1 - py0, kTileSize - 1);
        const RowGroups<T> groups(lx0, lx1, T(px0) + T(0.5) - s.mx);
        const int32_t jj = static_cast<int32_t>(j);
        // Per-Gaussian constants broadcast to lanes.
        const V v_hca = lane_const<V>(T(0.5) * s.ca), v_op = lane_const<V>(s.opacity);
        const V v_smax = lane_const<V>(s.sigma_max);
        const I v_j = lane_const<I>(jj), v_j1 = lane_const<I>(jj + 1);
        evaluations += static_cast<int64_t>(lx1 - lx0 + 1) * (ly1 - ly0 + 1);
        for (int ly = ly0; ly <= ly1; ++ly) {
          // sigma = (ca/2 dx + cb dy) dx + cc/2 dy^2, dy constant along the row.
          const T dy = T(py0 + ly) + T(0.5) - s.my;
          const V v_lin = lane_const<V>(s.cb * dy), v_quad = lane_const<V>(T(0.5) * s.cc * dy * dy);
          const int row = ly * kTileSize;
          groups.for_each([&](int k, V dx, M in_span) [[gnu::always_inline]] {
            const int p = row + k;
            const V trp = L::load(tr + p);
            const V sigma = (v_hca * dx + v_lin) * dx + v_quad;
            // Lanes outside the span get a zero falloff before any arithmetic: exp(-sigma) of a
            // far pixel times opacity and transmittance would be subnormal, and subnormal
            // arithmetic costs microcode assists on every lane.
            const V gauss = in_span ? exp_blend(-sigma) : V{};
            const V a = L::min(lane_const<V>(kAlphaMax), v_op * gauss);
            const M ok =
                in_span & (trp > T(0)) & (sigma >= T(0)) & (sigma <= v_smax) & (a >= T(kAlphaMin));
            const V t_next = trp * (T(1) - a);
            const M stop = ok & (t_next < T(kTransmittanceMin));
            const M blend = L::and_not(ok, stop);
            const V w = blend ? a * trp : V{};
            L::store(cr + p, L::load(cr + p) + w * s.r);
            L::store(cg + p, L::load(cg + p) + w * s.g);
            L::store(cbl + p, L::load(cbl + p) + w * s.b);
            L::store(ds + p, L::load(ds + p) + w * s.z);
            const M crosses = blend & (trp > T(0.5)) & (t_next <= T(0.5));
            L::store(med_idx + p, crosses ? v_j : L::load(med_idx + p));
            L::store(tr + p, blend ? t_next : (stop ? -trp : trp));
            L::store(last + p, blend ? v_j1 : L::load(last + p));
          });
        }
        if (((j - start) & 31) == 31) {
          M live{};
          for (int p = 0; p < kTilePixels; p += L::kWidth) live |= L::load(tr + p) > T(0);
          if (!L::any(live)) break;
        }
      }
      tile_evaluations_[tile] = evaluations;
      for (int p = 0; p < kTilePixels; ++p) {
        const int x = px0 + p % kTileSize, y = py0 + p / kTileSize;
        if (x >= width_ || y >= height_) continue;
        const size_t pix = static_cast<size_t>(y) * width_ + x;
        const T t = std::abs(tr[p]);
        out.rgb.data()[3 * pix + 0] = cr[p] + t * bg[0];
        out.rgb.data()[3 * pix + 1] = cg[p] + t * bg[1];
        out.rgb.data()[3 * pix + 2] = cbl[p] + t * bg[2];
        const T alpha = T(1) - t;
        out.alpha.data()[pix] = alpha;
        out.depth.data()[pix] = alpha > T(kDepthAlphaMin) ? ds[p] / alpha : T(0);
        // Median depth: z of the fragment where transmittance crossed 0.5 (0: never).
        out.median_depth.data()[pix] = med_idx[p] >= 0 ? splats_[tile_list_[med_idx[p]]].z : T(0);
        final_t_[pix] = t;
        depth_sum_[pix] = ds[p];
        last_[pix] = last[p];
        median_[pix] = med_idx[p];
      }
    }
  });
}

template <typename T>
void CpuRasterizerT<T>::forward(const GaussiansT<T>& gaussians, const CameraT<T>& camera,
                                const RenderOptions& options, RenderOutputT<T>& out) {
  GLIMPSE_CHECK(camera.width <= kMaxImageSize && camera.height <= kMaxImageSize)
      << "image size " << camera.width << "x" << camera.height << " exceeds the CPU backend's "
      << kMaxImageSize << " pixels per side";
  width_ = camera.width;
  height_ = camera.height;
  tiles_x_ = (width_ + kTileSize - 1) / kTileSize;
  tiles_y_ = (height_ + kTileSize - 1) / kTileSize;
  const size_t pixels = static_cast<size_t>(width_) * height_;
  // Every pixel belongs to exactly one tile and the tile pass writes all of them, so buffers of
  // the right size are reused as they are (no zero fill, no fresh pages).
  auto reuse = [&](Image<T>& img, int channels) {
    if (img.width() != width_ || img.height() != height_ || img.channels() != channels)
      img = Image<T>(width_, height_, channels);
  };
  reuse(out.rgb, 3);
  reuse(out.alpha, 1);
  reuse(out.depth, 1);
  reuse(out.median_depth, 1);
  final_t_.resize(pixels);
  depth_sum_.resize(pixels);
  last_.resize(pixels);
  median_.resize(pixels);

  preprocess(gaussians, camera, options, out);
  bin_tiles();
  rasterize_tiles(options, out);

  out.num_visible = static_cast<int64_t>(depth_order_.size());
  out.num_instances = static_cast<int64_t>(tile_list_.size());
  out.num_evaluations = 0;
  for (int64_t e : tile_evaluations_) out.num_evaluations += e;
}

// [SECTION] backward
// -------------------------------------------------------------------------------
template <typename T>
void CpuRasterizerT<T>::backward(const GaussiansT<T>& g, const CameraT<T>& camera,
                                 const RenderOptions& options,
                                 const RenderOutputGradientsT<T>& v_out,
                                 GaussianGradientsT<T>& grads, ScreenGradientStats* stats) {
  using L = LaneTraits<T>;
  using V = typename L::V;
  using I = typename L::I;
  using M = typename L::M;
  GLIMPSE_CHECK(camera.width == width_ && camera.height == height_ && g.size() == splats_.size())
      << "backward() must follow forward() with the same camera and Gaussians";
  auto check_grad = [&](const Image<T>& img, int channels, const char* name) {
    GLIMPSE_CHECK(img.empty() ||
                  (img.width() == width_ && img.height() == height_ && img.channels() == channels))
        << "gradient image '" << name << "' must be " << width_ << "x" << height_ << "x"
        << channels;
  };
  check_grad(v_out.rgb, 3, "rgb");
  check_grad(v_out.alpha, 1, "alpha");
  check_grad(v_out.depth, 1, "depth");
  check_grad(v_out.median_depth, 1, "median_depth");
  const T bg[3] = {T(options.background.x), T(options.background.y), T(options.background.z)};
  const int tiles = tiles_x_ * tiles_y_;
  const bool use_median = !v_out.median_depth.empty();
  slot_grads_.resize(tile_list_.size() * kSlotSize);

  // 1. Per tile, back to front: gradients of each fragment's 2D parameters into its slot.
  pool_.parallel_for(tiles, 1, [&](int64_t tb, int64_t te, int) {
    // b_dot: the colour and depth blended behind the current fragment, dotted with the pixel's
    // output gradient (one running sum instead of four: the update is linear).
    alignas(64) T tr[kTilePixels], b_dot[kTilePixels];
    alignas(64) T vr[kTilePixels], vg[kTilePixels], vb[kTilePixels];
    alignas(64) T vs[kTilePixels], k_alpha[kTilePixels], vmed[kTilePixels];
    alignas(64) int32_t last[kTilePixels], med_idx[kTilePixels];
    V acc[kSlotSize];  // one accumulator set, summed in row and group order (deterministic)
    for (int64_t tile = tb; tile < te; ++tile) {
      const int tx = static_cast<int>(tile % tiles_x_), ty = static_cast<int>(tile / tiles_x_);
      const int px0 = tx * kTileSize, py0 = ty * kTileSize;
      int32_t max_last = 0;
      for (int p = 0; p < kTilePixels; ++p) {
        const int x = px0 + p % kTileSize, y = py0 + p / kTileSize;
        if (x >= width_ || y >= height_) {
          tr[p] = T(1), vr[p] = vg[p] = vb[p] = vs[p] = k_alpha[p] = vmed[p] = T(0);
          last[p] = 0, med_idx[p] = -1;
        } else {
          const size_t pix = static_cast<size_t>(y) * width_ + x;
          tr[p] = final_t_[pix];
          last[p] = last_[pix];
          med_idx[p] = median_[pix];
          vr[p] = v_out.rgb.empty() ? T(0) : v_out.rgb.data()[3 * pix];
          vg[p] = v_out.rgb.empty() ? T(0) : v_out.rgb.data()[3 * pix + 1];
          vb[p] = v_out.rgb.empty() ? T(0) : v_out.rgb.data()[3 * pix + 2];
          T v_alpha = v_out.alpha.empty() ? T(0) : v_out.alpha.data()[pix];
          // Expected depth D = S / A: dD/dS = 1/A, dD/dA = -S/A^2.
          const T alpha = T(1) - tr[p];
          const T v_depth = v_out.depth.empty() ? T(0) : v_out.depth.data()[pix];
          vs[p] = T(0);
          if (alpha > T(kDepthAlphaMin)) {
            vs[p] = v_depth / alpha;
            v_alpha -= v_depth * depth_sum_[pix] / (alpha * alpha);
          }
          // dC/da_i and dA/da_i share the factor T_N / (1 - a_i).
          k_alpha[p] = (v_alpha - (bg[0] * vr[p] + bg[1] * vg[p] + bg[2] * vb[p])) * tr[p];
          vmed[p] = v_out.median_depth.empty() ? T(0) : v_out.median_depth.data()[pix];
        }
        b_dot[p] = T(0);
        max_last = std::max(max_last, last[p]);
      }
      const int64_t start = tile_offsets_[tile], end = tile_offsets_[tile + 1];
      // Slot of (Gaussian, this tile): row-major index of the tile in the Gaussian's rectangle.
      auto slot_of = [&](uint32_t gid) {
        const Splat& s = splats_[gid];
        const int gx0 = s.x0 / kTileSize, gy0 = s.y0 / kTileSize;
        const int gnx = s.x1 / kTileSize - gx0 + 1;
        return &slot_grads_[(static_cast<int64_t>(s.slot) + (ty - gy0) * gnx + (tx - gx0)) *
                            kSlotSize];
      };
      // Fragments behind every pixel's last one get zero gradients.
      for (int64_t j = std::max<int64_t>(start, max_last); j < end; ++j)
        std::fill_n(slot_of(tile_list_[j]), kSlotSize, T(0));
      for (int64_t j = std::min<int64_t>(end, max_last) - 1; j >= start; --j) {
        const uint32_t gid = tile_list_[j];
        if (j - kPrefetchDistance >= start)
          __builtin_prefetch(&splats_[tile_list_[j - kPrefetchDistance]]);
        const Splat& s = splats_[gid];
        const int lx0 = std::max(s.x0 - px0, 0), lx1 = std::min(s.x1 - px0, kTileSize - 1);
        const int ly0 = std::max(s.y0 - py0, 0), ly1 = std::min(s.y1 - py0, kTileSize - 1);
        const RowGroups<T> groups(lx0, lx1, T(px0) + T(0.5) - s.mx);
        const int32_t jj = static_cast<int32_t>(j);
        const V v_hca = lane_const<V>(T(0.5) * s.ca), v_op = lane_const<V>(s.opacity);
        const V v_smax = lane_const<V>(s.sigma_max);
        const V v_r = lane_const<V>(s.r), v_g = lane_const<V>(s.g), v_b = lane_const<V>(s.b);
        const V v_z = lane_const<V>(s.z);
        const I v_j = lane_const<I>(jj);
        for (int q = 0; q < kSlotSize; ++q) acc[q] = V{};
        for (int ly = ly0; ly <= ly1; ++ly) {
          const T dy_s = T(py0 + ly) + T(0.5) - s.my;
          const V dy = lane_const<V>(dy_s), dy2 = lane_const<V>(dy_s * dy_s);
          // The forward's sigma, term for term.
          const V v_lin = lane_const<V>(s.cb * dy_s),
                  v_quad = lane_const<V>(T(0.5) * s.cc * dy_s * dy_s);
          const int row = ly * kTileSize;
          groups.for_each([&](int k, V dx, M in_span) [[gnu::always_inline]] {
            const int p = row + k;
            const V sigma = (v_hca * dx + v_lin) * dx + v_quad;
            const V gauss = in_span ? exp_blend(-sigma) : V{};  // no subnormals (see forward)
            const V raw = v_op * gauss;
            const V a = L::min(lane_const<V>(kAlphaMax), raw);
            const M ok = in_span & (v_j < L::load(last + p)) & (sigma >= T(0)) & (sigma <= v_smax) &
                         (a >= T(kAlphaMin));
            const V trp = L::load(tr + p);
            const V one_minus = T(1) - a;
            const V inv_one_minus = T(1) / one_minus;      // a <= 0.99: finite
            const V t_i = ok ? trp * inv_one_minus : trp;  // T_i = T_{i+1} / (1 - a_i)
            const V w = ok ? a * t_i : V{};
            const V pr = L::load(vr + p), pg = L::load(vg + p), pb = L::load(vb + p);
            const V ps = L::load(vs + p);
            const V bd = L::load(b_dot + p);
            const V cdot = v_r * pr + v_g * pg + v_b * pb + v_z * ps;
            // dL/da_i = T_i ((c_i - B) . v_C + (z_i - B_z) v_S) + T_N (v_A - bg . v_C) / (1 - a_i)
            const V v_a = (cdot - bd) * t_i + L::load(k_alpha + p) * inv_one_minus;
            // alpha = min(0.99, o G): no gradient to o, sigma where clamped. Selects, not
            // products with a zero mask: masked lanes may hold inf.
            const M unclamped = ok & (raw <= T(kAlphaMax));
            const V u = unclamped ? raw * v_a : V{};  // -dL/dsigma
            // Moments of -dL/dsigma over the offsets, turned into the 2D mean and conic gradients
            // once per fragment below (the conic is constant over the splat).
            const V udx = u * dx;
            acc[0] += udx;
            acc[1] += u * dy;
            acc[2] += udx * dx;
            acc[3] += udx * dy;
            acc[4] += u * dy2;
            acc[5] += unclamped ? gauss * v_a : V{};  // opacity
            acc[6] += w * pr;                         // colour
            acc[7] += w * pg;
            acc[8] += w * pb;
            acc[9] += w * ps;  // depth
            if (use_median) {
              const M is_median = ok & (L::load(med_idx + p) == v_j);
              acc[9] += is_median ? L::load(vmed + p) : V{};
            }
            L::store(b_dot + p, ok ? cdot * a + bd * one_minus : bd);
            L::store(tr + p, t_i);
          });
        }
        T* slot = slot_of(gid);
        static_assert(kSlotSize == 10, "slot layout: 8 sums at once, then 2");
        L::sum8(acc, slot);
        slot[8] = L::sum(acc[8]);
        slot[9] = L::sum(acc[9]);
        // v_mean2d = -sum (C d) v_sigma = C sum(u d); v_conic = sum 0.5 d d^T v_sigma.
        const T sx = slot[0], sy = slot[1], sxx = slot[2], sxy = slot[3], syy = slot[4];
        slot[0] = s.ca * sx + s.cb * sy;
        slot[1] = s.cb * sx + s.cc * sy;
        slot[2] = T(-0.5) * sxx;
        slot[3] = -sxy;
        slot[4] = T(-0.5) * syy;
      }
    }
  });

  // 2. Per Gaussian: sum its slots in tile order, chain to the 3D parameters and the pose.
  // Sized here, zeroed per Gaussian inside the parallel loop below (a serial zero fill of every
  // array costs as much as the whole per-Gaussian pass).
  grads.means.resize(g.means.size());
  grads.log_scales.resize(g.log_scales.size());
  grads.quats.resize(g.quats.size());
  grads.opacity_logits.resize(g.opacity_logits.size());
  grads.sh.resize(g.sh.size());
  grads.means2d.resize(2 * g.size());
  const size_t n = g.size();
  if (stats && stats->size() != n) stats->reset(n);
  // Densification statistics of Gaussian i from its 2D-mean gradient, while it is at hand. A
  // Gaussian touches tiles exactly when its radius is positive (preprocess).
  auto add_stats = [&](size_t i, T g_u, T g_v) {
    if (stats && tile_count_[i] > 0)
      stats->add(i, static_cast<float>(g_u), static_cast<float>(g_v), splats_[i].radius, width_,
                 height_);
  };
  const int degree = sh_degree_used(g.sh_degree, options);
  const int stride = 3 * g.sh_coeffs();
  const int active_sh = 3 * sh_coeffs_for_degree(degree);
  const bool aa = options.antialiasing == AntiAliasing::MipSplatting;
  const T blur = T(options.blur);
  const int64_t chunks = (static_cast<int64_t>(n) + kGaussianGrain - 1) / kGaussianGrain;
  std::vector<Mat3<T>> chunk_v_r(chunks);
  std::vector<Vec3<T>> chunk_v_t(chunks);
  auto store = [&](const GaussianParamGrads<T>& pg, size_t i) {
    store_param_grads(pg, i, grads.means.data(), grads.log_scales.data(), grads.quats.data(),
                      grads.opacity_logits.data(), grads.means2d.data());
  };
  // Sum of one Gaussian's slots, in tile order.
  auto slot_sum = [&](size_t i, T* sum) {
    for (int c = 0; c < kSlotSize; ++c) sum[c] = T(0);
    for (int64_t q = 0; q < tile_count_[i]; ++q) {
      const T* slot = &slot_grads_[(static_cast<int64_t>(splats_[i].slot) + q) * kSlotSize];
      for (int c = 0; c < kSlotSize; ++c) sum[c] += slot[c];
    }
  };
#if GLIMPSE_HAS_LANES
  if constexpr (std::is_same_v<T, float>) {
    // float: the chain on 8 Gaussians at once (Float8 lanes; the same kernels as the double path
    // below), gathering each group's inputs into lane rows and scattering the results back.
    const CameraT<Float8> camera8 = camera.template cast<Float8>();
    pool_.parallel_for(static_cast<int64_t>(n), kGaussianGrain, [&](int64_t b, int64_t e, int) {
      Mat3<Float8> v_rot;
      Vec3<Float8> v_trans{0.f, 0.f, 0.f};
      // Lane rows: 0-2 mean, 3-6 quaternion, 7-9 log-scale, 10 logit, 11-20 the slot sum.
      constexpr int kParamRows = 11, kRows = kParamRows + kSlotSize;
      alignas(32) float in[kRows][8], sh_in[3 * kMaxShCoeffs][8];
      // 0-2 mean, 3-6 quaternion, 7-9 log-scale, 10 logit, 11-12 2D mean; then the coefficients.
      alignas(32) float res[13][8], sh_res[3 * kMaxShCoeffs][8];
      Float8 sh8[3 * kMaxShCoeffs], v_sh8[3 * kMaxShCoeffs];
      for (int64_t g0 = b; g0 < e; g0 += 8) {
        alignas(32) int32_t visible[8];
        for (int l = 0; l < 8; ++l) {
          // Lanes past the end repeat the last Gaussian (finite inputs) and are never stored.
          const size_t i = static_cast<size_t>(std::min(g0 + l, e - 1));
          visible[l] = (g0 + l < e && tile_count_[i] > 0) ? -1 : 0;
          put_param_lanes(g, i, l, in);
          T sum[kSlotSize];
          slot_sum(i, sum);
          for (int c = 0; c < kSlotSize; ++c) in[kParamRows + c][l] = sum[c];
          for (int k = 0; k < active_sh; ++k) sh_in[k][l] = g.sh[i * stride + k];
        }
        auto row = [&](int r) { return Float8::load(in[r]); };
        for (int k = 0; k < active_sh; ++k) sh8[k] = Float8::load(sh_in[k]);
        Float8 slot8[kSlotSize];
        for (int c = 0; c < kSlotSize; ++c) slot8[c] = row(kParamRows + c);
        GaussianParamGrads<Float8> pg;
        Mat3<Float8> v_rot_group;
        Vec3<Float8> v_trans_group{0.f, 0.f, 0.f};
        gaussian_chain_vjp(camera8, Vec3<Float8>{row(0), row(1), row(2)},
                           Quat<Float8>{row(3), row(4), row(5), row(6)},
                           Vec3<Float8>{row(7), row(8), row(9)}, row(10), sh8, degree, Float8(blur),
                           aa, slot8, pg, v_sh8, v_rot_group, v_trans_group);
        // Culled lanes (and lanes past the end) get zero gradients; their values, which may be
        // inf (a Gaussian behind the camera), are selected away, never multiplied by zero.
        Mask8 vis;
        std::memcpy(&vis.m, visible, sizeof(vis.m));
        auto keep = [&](Float8 x) { return select_value(vis, x, Float8(0.f)); };
        for (int r = 0; r < 3; ++r) {
          for (int c = 0; c < 3; ++c) v_rot[r][c] += keep(v_rot_group[r][c]);
          v_trans[r] += keep(v_trans_group[r]);
        }
        const Float8 results[13] = {
            pg.v_mean.x,        pg.v_mean.y,   pg.v_mean.z,      pg.v_quat.w,      pg.v_quat.x,
            pg.v_quat.y,        pg.v_quat.z,   pg.v_log_scale.x, pg.v_log_scale.y, pg.v_log_scale.z,
            pg.v_opacity_logit, pg.v_mean2d.x, pg.v_mean2d.y};
        for (int r = 0; r < 13; ++r) keep(results[r]).store(res[r]);
        for (int k = 0; k < active_sh; ++k) keep(v_sh8[k]).store(sh_res[k]);
        for (int l = 0; l < 8 && g0 + l < e; ++l) {
          const size_t i = static_cast<size_t>(g0 + l);
          GaussianParamGrads<T> out;
          out.v_mean = {res[0][l], res[1][l], res[2][l]};
          out.v_quat = {res[3][l], res[4][l], res[5][l], res[6][l]};
          out.v_log_scale = {res[7][l], res[8][l], res[9][l]};
          out.v_opacity_logit = res[10][l];
          out.v_mean2d = {res[11][l], res[12][l]};
          store(out, i);
          add_stats(i, res[11][l], res[12][l]);
          for (int k = 0; k < active_sh; ++k) grads.sh[i * stride + k] = sh_res[k][l];
          // The chain writes the coefficients of the degree in use; zero the unused ones.
          std::fill(&grads.sh[i * stride + active_sh], &grads.sh[(i + 1) * stride], T(0));
        }
      }
      Mat3<T> v_rot_sum;
      Vec3<T> v_trans_sum;
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) v_rot_sum[r][c] = LaneTraits<T>::sum(v_rot[r][c].v);
        v_trans_sum[r] = LaneTraits<T>::sum(v_trans[r].v);
      }
      chunk_v_r[b / kGaussianGrain] = v_rot_sum;
      chunk_v_t[b / kGaussianGrain] = v_trans_sum;
    });
  } else
#endif
  {  // double (and builds without lane types): one Gaussian at a time
    pool_.parallel_for(static_cast<int64_t>(n), kGaussianGrain, [&](int64_t b, int64_t e, int) {
      Mat3<T> v_rot;
      Vec3<T> v_trans{T(0), T(0), T(0)};
      for (int64_t gi = b; gi < e; ++gi) {
        const size_t i = static_cast<size_t>(gi);
        if (tile_count_[i] == 0) {
          std::fill_n(&grads.sh[i * stride], stride, T(0));
          store(GaussianParamGrads<T>{}, i);
          continue;
        }
        T sum[kSlotSize];
        slot_sum(i, sum);
        // The chain writes the coefficients of the degree in use; zero the unused ones.
        std::fill(&grads.sh[i * stride + active_sh], &grads.sh[(i + 1) * stride], T(0));
        GaussianParamGrads<T> pg;
        gaussian_chain_vjp(camera, load3(g.means, i), load_quat(g.quats, i), load3(g.log_scales, i),
                           g.opacity_logits[i], &g.sh[i * stride], degree, blur, aa, sum, pg,
                           &grads.sh[i * stride], v_rot, v_trans);
        store(pg, i);
        add_stats(i, pg.v_mean2d.x, pg.v_mean2d.y);
      }
      chunk_v_r[b / kGaussianGrain] = v_rot;
      chunk_v_t[b / kGaussianGrain] = v_trans;
    });
  }
  grads.v_rotation = Mat3<T>();
  grads.v_translation = Vec3<T>{T(0), T(0), T(0)};
  for (int64_t c = 0; c < chunks; ++c) {
    grads.v_rotation = grads.v_rotation + chunk_v_r[c];
    grads.v_translation += chunk_v_t[c];
  }
}

template class CpuRasterizerT<float>;
template class CpuRasterizerT<double>;

}  // namespace glimpse
