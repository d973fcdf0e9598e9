// The per-pixel math of PatchMatch multi-view stereo (COLMAP: Schoenberger et al., "Pixelwise
// View Selection for Unstructured Multi-View Stereo", ECCV 2016; ACMM: Xu and Tao, "Multi-Scale
// Geometric Consistency Guided Multi-View Stereo", CVPR 2019): plane-induced homographies, the
// bilateral-weighted NCC cost, hypothesis sampling, view-selection weights and the
// forward-backward consistency test. Plain functions over raw arrays, host and device
// (GLIMPSE_HD), so that a CUDA scheduler can call the same code as the CPU one (patch_match.cpp).
#pragma once

#include "core/hd.h"
#include "core/math.h"

#include <cstdint>

namespace glimpse::mvs {

// [SECTION] constants ----------------------------------------------------------------------------

// Cost of a hypothesis that cannot be scored (a window sample outside the source image or behind
// its camera, a flat patch, a depth outside the bounds): the largest 1 - NCC.
inline constexpr float kMaxCost = 2.0f;
// Window samples are stored in fixed arrays: up to an 11x11 window at step 1 (121), padded to a
// multiple of 8 for the CPU's 8-lane loop.
inline constexpr int kMaxWindowSamples = 128;
// Selected source views are kept as a bit mask per pixel.
inline constexpr int kMaxSources = 32;
// Propagation candidates (ACMH's adaptive checkerboard sampling): near and far regions in the
// four directions.
inline constexpr int kNumCandidates = 8;
// A plane whose normal is closer than this to perpendicular to the pixel ray (cosine) is
// degenerate: its homography stretches the window without bound.
inline constexpr float kMinNormalCosine = 0.05f;

// [SECTION] cameras ------------------------------------------------------------------------------

// Pinhole intrinsics in pixels, pixel-corner origin (pixel (i, j) has its centre at i+0.5, j+0.5).
struct Intrinsics {
  float fx = 1, fy = 1, cx = 0, cy = 0;
  int width = 0, height = 0;
};

// A rigid transform b_from_a: p_b = r p_a + t.
struct RelativePose {
  Mat3<float> r = Mat3<float>::identity();
  Vec3<float> t{};
};

// The ray through pixel position (u, v) with z = 1: a point at camera depth z is z * ray.
GLIMPSE_INLINE Vec3<float> pixel_ray(const Intrinsics& k, float u, float v) {
  return {(u - k.cx) / k.fx, (v - k.cy) / k.fy, 1.0f};
}

// Pixel position of a camera-frame point (z > 0 assumed by the caller).
GLIMPSE_INLINE Vec2<float> project(const Intrinsics& k, const Vec3<float>& p) {
  const float inv_z = 1.0f / p.z;
  return {k.fx * p.x * inv_z + k.cx, k.fy * p.y * inv_z + k.cy};
}

GLIMPSE_INLINE Vec3<float> transform(const RelativePose& pose, const Vec3<float>& p) {
  return pose.r * p + pose.t;
}

// [SECTION] planes and homographies --------------------------------------------------------------

// A plane hypothesis of a reference pixel: unit normal n (reference camera frame, facing the
// camera: n . ray < 0) and the camera depth z of the pixel centre on it. The plane is
// n . X + d = 0 with d = -z n . ray.
GLIMPSE_INLINE float plane_offset(const Vec3<float>& n, float depth, const Vec3<float>& ray) {
  return -depth * dot(n, ray);
}

// Camera depth where the ray meets the plane n . X + d = 0; <= 0 when it does not (grazing or
// behind the camera).
GLIMPSE_INLINE float plane_depth(const Vec3<float>& n, float d, const Vec3<float>& ray) {
  const float c = dot(n, ray);
  return c < -1e-6f ? -d / c : -1.0f;
}

// Homography of the plane n . X + d = 0 (reference frame) from reference pixel positions to
// source pixel positions (homogeneous): H = K_s (R - t n^T / d) K_r^-1, with (R, t) = src_from_ref
// (Hartley and Zisserman, eq. 13.2, for the plane written n^T X + d = 0).
GLIMPSE_INLINE Mat3<float> plane_homography(const Intrinsics& kr, const Intrinsics& ks,
                                            const RelativePose& src_from_ref, const Vec3<float>& n,
                                            float d) {
  const float inv_d = 1.0f / d;
  Mat3<float> a;  // (R - t n^T / d)
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      a.m[i][j] = src_from_ref.r.m[i][j] - src_from_ref.t[i] * n[j] * inv_d;
  Mat3<float> b;  // a K_r^-1
  const float ifx = 1.0f / kr.fx, ify = 1.0f / kr.fy;
  for (int i = 0; i < 3; ++i) {
    b.m[i][0] = a.m[i][0] * ifx;
    b.m[i][1] = a.m[i][1] * ify;
    b.m[i][2] = a.m[i][2] - a.m[i][0] * kr.cx * ifx - a.m[i][1] * kr.cy * ify;
  }
  Mat3<float> h;  // K_s b
  for (int j = 0; j < 3; ++j) {
    h.m[0][j] = ks.fx * b.m[0][j] + ks.cx * b.m[2][j];
    h.m[1][j] = ks.fy * b.m[1][j] + ks.cy * b.m[2][j];
    h.m[2][j] = b.m[2][j];
  }
  return h;
}

// [SECTION] bilateral-weighted NCC --------------------------------------------------------------

// The reference side of the cost, computed once per pixel and shared by every hypothesis and
// source: normalised bilateral weights w_k (0 for samples outside the image), w_k r_k, and the
// weighted mean and variance of the reference intensities r_k.
struct ReferencePatch {
  float w[kMaxWindowSamples];
  float wr[kMaxWindowSamples];
  float mean = 0, var = 0;
};

// Fills `patch` for the window centred on pixel (x, y) of the reference image `ref` ([h, w]
// grey). Sample k sits at offset (ox[k], oy[k]); spatial[k] = exp(-(ox^2 + oy^2) / (2 s_s^2)).
// The bilateral weight is spatial[k] * exp(-(r_k - r_centre)^2 * inv_two_sigma_color_sq) (COLMAP
// and ACMM's ComputeBilateralWeight). False when the patch is flat (variance < min_var).
GLIMPSE_INLINE bool prepare_reference_patch(const float* ref, int width, int height, int x, int y,
                                            const int* ox, const int* oy, const float* spatial,
                                            int n, float inv_two_sigma_color_sq, float min_var,
                                            ReferencePatch& patch) {
  const float centre = ref[y * width + x];
  float sum_w = 0, sum_r = 0, sum_rr = 0;
  for (int k = 0; k < n; ++k) {
    const int sx = x + ox[k], sy = y + oy[k];
    const bool inside = sx >= 0 && sy >= 0 && sx < width && sy < height;
    const float r = inside ? ref[sy * width + sx] : centre;
    const float diff = r - centre;
    const float w = inside ? spatial[k] * exp_value(-diff * diff * inv_two_sigma_color_sq) : 0.0f;
    patch.w[k] = w;
    patch.wr[k] = r;  // r until normalised below
    sum_w += w;
    sum_r += w * r;
    sum_rr += w * r * r;
  }
  const float inv = 1.0f / sum_w;
  for (int k = 0; k < n; ++k) {
    patch.w[k] *= inv;
    patch.wr[k] *= patch.w[k];
  }
  patch.mean = sum_r * inv;
  patch.var = sum_rr * inv - patch.mean * patch.mean;
  return patch.var >= min_var;
}

// 1 - NCC in [0, 2] of the reference patch against the source image `src` ([sh, sw] grey)
// sampled bilinearly through the homography h at the window positions (u + ox[k], v + oy[k]),
// (u, v) the reference pixel centre. kMaxCost when a weighted sample falls outside the source
// image or behind its camera, or the source patch is flat (variance < min_var).
// Branch-free over the samples, so that the CPU compiler vectorises the arithmetic.
GLIMPSE_INLINE float patch_cost(const float* src, int sw, int sh, const Mat3<float>& h, float u,
                                float v, const float* ox, const float* oy, int n,
                                const ReferencePatch& patch, float min_var) {
  const float bx = h.m[0][0] * u + h.m[0][1] * v + h.m[0][2];
  const float by = h.m[1][0] * u + h.m[1][1] * v + h.m[1][2];
  const float bz = h.m[2][0] * u + h.m[2][1] * v + h.m[2][2];
  const float max_x = static_cast<float>(sw) - 1.0f, max_y = static_cast<float>(sh) - 1.0f;
  float s = 0, ss = 0, rs = 0;
  int bad = 0;
  for (int k = 0; k < n; ++k) {
    const float hx = bx + h.m[0][0] * ox[k] + h.m[0][1] * oy[k];
    const float hy = by + h.m[1][0] * ox[k] + h.m[1][1] * oy[k];
    const float hz = bz + h.m[2][0] * ox[k] + h.m[2][1] * oy[k];
    const float inv_z = 1.0f / hz;
    // Array coordinates: pixel centres at integers.
    float px = hx * inv_z - 0.5f, py = hy * inv_z - 0.5f;
    const bool inside = hz > 0.0f && px >= 0.0f && py >= 0.0f && px < max_x && py < max_y;
    bad |= static_cast<int>(!inside && patch.w[k] > 0.0f);
    px = inside ? px : 0.0f;
    py = inside ? py : 0.0f;
    const int ix = static_cast<int>(px), iy = static_cast<int>(py);
    const float fx = px - static_cast<float>(ix), fy = py - static_cast<float>(iy);
    const float* p = src + iy * sw + ix;
    const float top = p[0] + fx * (p[1] - p[0]);
    const float bottom = p[sw] + fx * (p[sw + 1] - p[sw]);
    const float val = top + fy * (bottom - top);
    const float wv = patch.w[k] * val;
    s += wv;
    ss += wv * val;
    rs += patch.wr[k] * val;
  }
  const float var_s = ss - s * s;
  if (bad != 0 || !(var_s >= min_var)) return kMaxCost;
  const float ncc = (rs - patch.mean * s) / sqrt_value(patch.var * var_s);
  return clamp_value(1.0f - ncc, 0.0f, kMaxCost);
}

// [SECTION] random hypotheses -------------------------------------------------------------------

// Counter-based random numbers (the "lowbias32" integer hash): the same stream for a pixel
// whatever the thread count or device.
GLIMPSE_INLINE uint32_t hash_u32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

struct PixelRng {
  uint32_t state;
  GLIMPSE_HD PixelRng(uint32_t seed, uint32_t view, uint32_t pixel, uint32_t pass)
      : state(hash_u32(seed ^ hash_u32(view * 0x9e3779b9u ^ hash_u32(pixel ^ hash_u32(pass))))) {}
  // Uniform in [0, 1).
  GLIMPSE_HD float uniform() {
    state = hash_u32(state + 0x9e3779b9u);
    return static_cast<float>(state >> 8) * (1.0f / 16777216.0f);
  }
};

// A depth uniform in inverse depth in [1 / depth_max, 1 / depth_min].
GLIMPSE_INLINE float random_depth(PixelRng& rng, float depth_min, float depth_max) {
  const float inv_min = 1.0f / depth_max, inv_max = 1.0f / depth_min;
  return 1.0f / (inv_min + rng.uniform() * (inv_max - inv_min));
}

// Turns n (unit) towards the camera if it faces away from the pixel ray.
GLIMPSE_INLINE Vec3<float> face_camera(const Vec3<float>& n, const Vec3<float>& ray) {
  return dot(n, ray) > 0.0f ? -n : n;
}

// A unit normal uniform on the hemisphere facing the camera along `ray`.
GLIMPSE_INLINE Vec3<float> random_normal(PixelRng& rng, const Vec3<float>& ray) {
  const float z = 2.0f * rng.uniform() - 1.0f;
  const float phi = 6.2831853f * rng.uniform();
  const float r = sqrt_value(max_value(0.0f, 1.0f - z * z));
  return face_camera(Vec3<float>(r * cosf(phi), r * sinf(phi), z), ray);
}

// n perturbed by a random vector of length up to `amount` (radians, roughly), renormalised and
// facing the camera; n itself when the result would be (nearly) perpendicular to the ray.
GLIMPSE_INLINE Vec3<float> perturb_normal(PixelRng& rng, const Vec3<float>& n,
                                          const Vec3<float>& ray, float amount) {
  Vec3<float> p(n.x + amount * (2.0f * rng.uniform() - 1.0f),
                n.y + amount * (2.0f * rng.uniform() - 1.0f),
                n.z + amount * (2.0f * rng.uniform() - 1.0f));
  p = p * (1.0f / norm(p));
  p = face_camera(p, ray);
  const float c = -dot(p, ray) / norm(ray);
  return c < kMinNormalCosine ? n : p;
}

// A depth perturbed in inverse depth by up to +-amount times the inverse-depth range, kept within
// the bounds.
GLIMPSE_INLINE float perturb_depth(PixelRng& rng, float depth, float depth_min, float depth_max,
                                   float amount) {
  const float inv_min = 1.0f / depth_max, inv_max = 1.0f / depth_min;
  const float inv = 1.0f / depth + amount * (inv_max - inv_min) * (2.0f * rng.uniform() - 1.0f);
  return 1.0f / clamp_value(inv, inv_min, inv_max);
}

// [SECTION] view selection -----------------------------------------------------------------------

// ACMM's threshold for a "good" matching cost at iteration `iteration` (0-based): 0.8 exp(-i^2/90),
// tightening as the hypotheses converge.
GLIMPSE_INLINE float good_cost_threshold(int iteration) {
  return 0.8f * exp_value(-static_cast<float>(iteration * iteration) / 90.0f);
}

// ACMM's multi-hypothesis joint view selection for one pixel. costs is [num_hyp, num_sources]
// (row-major, num_hyp >= 1): source j is selected when more than 2 hypotheses match it well
// (cost < good) and fewer than 3 badly (cost > bad); its weight is exp(-c^2 / (2 * 0.3^2)) of its
// best cost c. A source selected at the previous iteration (bit j of previous_mask) that is not
// selected now keeps 0.2 of its weight when nothing else is. When no source qualifies, the
// best ceil(num_sources / 2) sources by best cost are used with their weights. Returns the new
// mask; weights[j] is 0 for unselected sources.
GLIMPSE_INLINE uint32_t select_views(const float* costs, int num_hyp, int num_sources, float good,
                                     float bad, uint32_t previous_mask, float* weights) {
  uint32_t mask = 0;
  float best[kMaxSources];
  for (int j = 0; j < num_sources; ++j) {
    int n_good = 0, n_bad = 0;
    float c_min = kMaxCost;
    for (int k = 0; k < num_hyp; ++k) {
      const float c = costs[k * num_sources + j];
      n_good += c < good ? 1 : 0;
      n_bad += c > bad ? 1 : 0;
      c_min = min_value(c_min, c);
    }
    best[j] = c_min;
    const bool selected = n_good > 2 && n_bad < 3;
    weights[j] = selected ? exp_value(-c_min * c_min / (2.0f * 0.09f)) : 0.0f;
    if (selected) mask |= 1u << j;
  }
  if (mask != 0) return mask;
  if (previous_mask != 0) {
    for (int j = 0; j < num_sources; ++j)
      if ((previous_mask >> j) & 1u) weights[j] = 0.2f * exp_value(-best[j] * best[j] / 0.18f);
    return previous_mask;
  }
  const int keep = (num_sources + 1) / 2;
  for (int taken = 0; taken < keep; ++taken) {
    int arg = -1;
    for (int j = 0; j < num_sources; ++j)
      if (!((mask >> j) & 1u) && (arg < 0 || best[j] < best[arg])) arg = j;
    mask |= 1u << arg;
    weights[arg] = exp_value(-best[arg] * best[arg] / 0.18f);
  }
  return mask;
}

// Mean of the best `k` of n costs (the initial aggregation before any views are selected).
GLIMPSE_INLINE float mean_of_best(const float* costs, int n, int k) {
  float sorted[kMaxSources];
  for (int j = 0; j < n; ++j) {
    float c = costs[j];
    int i = j;
    for (; i > 0 && sorted[i - 1] > c; --i) sorted[i] = sorted[i - 1];
    sorted[i] = c;
  }
  float sum = 0;
  for (int j = 0; j < k; ++j) sum += sorted[j];
  return sum / static_cast<float>(k);
}

// [SECTION] geometric consistency ---------------------------------------------------------------

// Forward-backward check of reference pixel position (u, v) at camera depth `depth` against the
// source depth map src_depth ([sh, sw], camera z, <= 0 invalid): the point is projected into the
// source, the source depth at the nearest pixel is back-projected from that pixel's centre and
// projected into the reference. On success returns true with `error` the distance in reference
// pixels between (u, v) and the round-tripped position and `depth_back` its reference depth.
GLIMPSE_INLINE bool round_trip(const Intrinsics& kr, const Intrinsics& ks,
                               const RelativePose& src_from_ref, const RelativePose& ref_from_src,
                               const float* src_depth, float u, float v, float depth, float& error,
                               float& depth_back) {
  const Vec3<float> p_src = transform(src_from_ref, pixel_ray(kr, u, v) * depth);
  if (!(p_src.z > 0.0f)) return false;
  const Vec2<float> q = project(ks, p_src);
  if (!(q.x >= 0.0f && q.y >= 0.0f && q.x < static_cast<float>(ks.width) &&
        q.y < static_cast<float>(ks.height)))
    return false;
  const int qx = static_cast<int>(q.x), qy = static_cast<int>(q.y);
  const float d_src = src_depth[qy * ks.width + qx];
  if (!(d_src > 0.0f)) return false;
  const Vec3<float> back = transform(
      ref_from_src,
      pixel_ray(ks, static_cast<float>(qx) + 0.5f, static_cast<float>(qy) + 0.5f) * d_src);
  if (!(back.z > 0.0f)) return false;
  const Vec2<float> r = project(kr, back);
  error = sqrt_value((r.x - u) * (r.x - u) + (r.y - v) * (r.y - v));
  depth_back = back.z;
  return true;
}

}  // namespace glimpse::mvs
