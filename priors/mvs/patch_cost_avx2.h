// The CPU's 8-lane version of the matching cost patch_cost (patch_match_kernels.h): AVX2 gathers
// for the bilinear source samples, 8 window samples at a time. Compiled only where the target has
// AVX2 and FMA (the default x86-64-v3 build); elsewhere GLIMPSE_MVS_AVX2 is 0 and the scalar
// kernel runs. tests/priors/mvs_test.cpp checks it against the scalar kernel.
#pragma once

#include "priors/mvs/patch_match_kernels.h"

#include <algorithm>
#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GLIMPSE_MVS_AVX2 1
#else
#define GLIMPSE_MVS_AVX2 0
#endif

#if GLIMPSE_MVS_AVX2
namespace glimpse::mvs {

inline float horizontal_sum(__m256 v) {
  const __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_add_ss(b, _mm_shuffle_ps(b, b, 1)));
}

// patch_cost (patch_match_kernels.h) on 8 window samples at a time with AVX2 gathers: the same
// arithmetic, in the same order per sample; the sums are reduced in a different order (parity
// with the scalar kernel is tested to 1e-4). n_padded: a multiple of 8, weights 0 past n.
inline float patch_cost_avx2(const float* src, int sw, int sh, const Mat3<float>& h, float u,
                             float v, const float* ox, const float* oy, int n_padded,
                             const ReferencePatch& patch, float min_var) {
  const float bx = h.m[0][0] * u + h.m[0][1] * v + h.m[0][2];
  const float by = h.m[1][0] * u + h.m[1][1] * v + h.m[1][2];
  const float bz = h.m[2][0] * u + h.m[2][1] * v + h.m[2][2];
  const __m256 vbx = _mm256_set1_ps(bx), vby = _mm256_set1_ps(by), vbz = _mm256_set1_ps(bz);
  const __m256 h00 = _mm256_set1_ps(h.m[0][0]), h01 = _mm256_set1_ps(h.m[0][1]);
  const __m256 h10 = _mm256_set1_ps(h.m[1][0]), h11 = _mm256_set1_ps(h.m[1][1]);
  const __m256 h20 = _mm256_set1_ps(h.m[2][0]), h21 = _mm256_set1_ps(h.m[2][1]);
  const __m256 half = _mm256_set1_ps(0.5f), zero = _mm256_setzero_ps();
  const __m256 max_x = _mm256_set1_ps(static_cast<float>(sw) - 1.0f);
  const __m256 max_y = _mm256_set1_ps(static_cast<float>(sh) - 1.0f);
  const __m256i stride = _mm256_set1_epi32(sw), one = _mm256_set1_epi32(1);
  __m256 s = zero, ss = zero, rs = zero, bad = zero;
  for (int k = 0; k < n_padded; k += 8) {
    const __m256 vox = _mm256_loadu_ps(ox + k), voy = _mm256_loadu_ps(oy + k);
    const __m256 hx = _mm256_fmadd_ps(h01, voy, _mm256_fmadd_ps(h00, vox, vbx));
    const __m256 hy = _mm256_fmadd_ps(h11, voy, _mm256_fmadd_ps(h10, vox, vby));
    const __m256 hz = _mm256_fmadd_ps(h21, voy, _mm256_fmadd_ps(h20, vox, vbz));
    const __m256 inv_z = _mm256_div_ps(_mm256_set1_ps(1.0f), hz);
    __m256 px = _mm256_fmsub_ps(hx, inv_z, half), py = _mm256_fmsub_ps(hy, inv_z, half);
    const __m256 inside = _mm256_and_ps(
        _mm256_and_ps(
            _mm256_and_ps(_mm256_cmp_ps(hz, zero, _CMP_GT_OQ), _mm256_cmp_ps(px, zero, _CMP_GE_OQ)),
            _mm256_and_ps(_mm256_cmp_ps(py, zero, _CMP_GE_OQ),
                          _mm256_cmp_ps(px, max_x, _CMP_LT_OQ))),
        _mm256_cmp_ps(py, max_y, _CMP_LT_OQ));
    const __m256 w = _mm256_loadu_ps(patch.w + k);
    bad = _mm256_or_ps(bad, _mm256_andnot_ps(inside, _mm256_cmp_ps(w, zero, _CMP_GT_OQ)));
    px = _mm256_and_ps(px, inside);
    py = _mm256_and_ps(py, inside);
    const __m256i ix = _mm256_cvttps_epi32(px), iy = _mm256_cvttps_epi32(py);
    const __m256 fx = _mm256_sub_ps(px, _mm256_cvtepi32_ps(ix));
    const __m256 fy = _mm256_sub_ps(py, _mm256_cvtepi32_ps(iy));
    const __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(iy, stride), ix);
    const __m256 p00 = _mm256_i32gather_ps(src, idx, 4);
    const __m256 p01 = _mm256_i32gather_ps(src, _mm256_add_epi32(idx, one), 4);
    const __m256i idx1 = _mm256_add_epi32(idx, stride);
    const __m256 p10 = _mm256_i32gather_ps(src, idx1, 4);
    const __m256 p11 = _mm256_i32gather_ps(src, _mm256_add_epi32(idx1, one), 4);
    const __m256 top = _mm256_fmadd_ps(fx, _mm256_sub_ps(p01, p00), p00);
    const __m256 bottom = _mm256_fmadd_ps(fx, _mm256_sub_ps(p11, p10), p10);
    const __m256 val = _mm256_fmadd_ps(fy, _mm256_sub_ps(bottom, top), top);
    const __m256 wv = _mm256_mul_ps(w, val);
    s = _mm256_add_ps(s, wv);
    ss = _mm256_fmadd_ps(wv, val, ss);
    rs = _mm256_fmadd_ps(_mm256_loadu_ps(patch.wr + k), val, rs);
  }
  if (_mm256_movemask_ps(bad) != 0) return kMaxCost;
  const float sum = horizontal_sum(s);
  const float var_s = horizontal_sum(ss) - sum * sum;
  if (!(var_s >= min_var)) return kMaxCost;
  const float ncc = (horizontal_sum(rs) - patch.mean * sum) / std::sqrt(patch.var * var_s);
  return std::clamp(1.0f - ncc, 0.0f, kMaxCost);
}

}  // namespace glimpse::mvs
#endif
