// Per-pixel splat evaluation and front-to-back alpha blending (3D Gaussian Splatting, Kerbl et al.
// 2023, eq. 3): alpha_i = min(0.99, o_i exp(-sigma_i)), sigma = d^T Q d / 2 with d = pixel - mean2d
// and Q the conic; C = sum_i c_i alpha_i T_i + T_N bg with T_i = prod_{j<i} (1 - alpha_j).
// Fragments with alpha < 1/255 are skipped; a pixel stops before the fragment that would take its
// transmittance below 1e-4.
#pragma once

#include "core/math.h"
#include "renderer/kernels/constants.h"
#include "renderer/kernels/fast_math.h"

namespace glimpse {

// Falloff exponent sigma = (a dx^2 + c dy^2) / 2 + b dx dy of conic (a, b, c) at offset d.
// T may be a scalar or a CPU lane type (fast_math.h).
template <typename T>
GLIMPSE_INLINE T splat_sigma(T ca, T cb, T cc, T dx, T dy) {
  return lane_const<T>(0.5) * (ca * dx * dx + cc * dy * dy) + cb * dx * dy;
}

// Alpha of a splat at offset (dx, dy) = pixel - mean2d. Returns 0 where the fragment is skipped:
// outside the splat's support sigma <= sigma_max (its extent ellipse), sigma < 0 (a numerically
// indefinite conic), or alpha < 1/255.
template <typename T>
GLIMPSE_INLINE T splat_alpha(T opacity, T ca, T cb, T cc, T dx, T dy, T sigma_max) {
  const T sigma = splat_sigma(ca, cb, cc, dx, dy);
  const T a = min_value(T(kAlphaMax), opacity * exp_blend(-sigma));
  return (sigma >= T(0) && sigma <= sigma_max && a >= T(kAlphaMin)) ? a : T(0);
}
// VJP of splat_alpha for a blended fragment: v_o = G v_a, v_sigma = -o G v_a with G = exp(-sigma);
// zero where alpha is clamped at 0.99 (constant there). Offsets are pixel - mean, so
// v_mean = -v_d.
template <typename T>
GLIMPSE_INLINE void splat_alpha_vjp(T opacity, T ca, T cb, T cc, T dx, T dy, T sigma_max, T v_alpha,
                                    T& v_opacity, Vec3<T>& v_conic, Vec2<T>& v_mean2d) {
  const T sigma = splat_sigma(ca, cb, cc, dx, dy);
  const T g = exp_blend(-sigma);
  const T raw = opacity * g;
  if (!(sigma >= T(0) && sigma <= sigma_max && raw >= T(kAlphaMin)) || raw > T(kAlphaMax)) return;
  v_opacity += g * v_alpha;
  const T v_sigma = -raw * v_alpha;
  v_conic.x += T(0.5) * dx * dx * v_sigma;
  v_conic.y += dx * dy * v_sigma;
  v_conic.z += T(0.5) * dy * dy * v_sigma;
  v_mean2d.x -= (ca * dx + cb * dy) * v_sigma;
  v_mean2d.y -= (cb * dx + cc * dy) * v_sigma;
}

// Reference compositing of one pixel over n depth-sorted fragments (the CPU tile loop and the CUDA
// kernels run this recurrence vectorised / per thread). colors: [n, 3]; outputs the colour over
// bg, the accumulated alpha and the alpha-weighted depth sum. Returns the number of fragments
// blended before the transmittance stop (later ones are ignored).
template <typename T>
GLIMPSE_INLINE int composite_pixel(int n, const T* alphas, const T* colors, const T* depths,
                                   const Vec3<T>& bg, Vec3<T>& out_rgb, T& out_alpha,
                                   T& out_depth_sum) {
  T tr = T(1);
  Vec3<T> c{T(0), T(0), T(0)};
  T ds = T(0);
  int used = 0;
  for (int i = 0; i < n; ++i) {
    const T a = alphas[i];
    if (a < T(kAlphaMin)) continue;
    const T next = tr * (T(1) - a);
    if (next < T(kTransmittanceMin)) break;
    const T w = a * tr;
    c += Vec3<T>{colors[3 * i], colors[3 * i + 1], colors[3 * i + 2]} * w;
    ds += depths[i] * w;
    tr = next;
    used = i + 1;
  }
  out_rgb = c + bg * tr;
  out_alpha = T(1) - tr;
  out_depth_sum = ds;
  return used;
}
// Back-to-front VJP of composite_pixel: with B the colour behind fragment i normalised by
// T_{i+1} (B <- c_i a_i + (1 - a_i) B), dC/da_i = T_i (c_i - B) - T_N bg / (1 - a_i),
// dA/da_i = T_N / (1 - a_i), dC/dc_i = a_i T_i; depth is a colour channel with no background.
template <typename T>
GLIMPSE_INLINE void composite_pixel_vjp(int n, const T* alphas, const T* colors, const T* depths,
                                        const Vec3<T>& bg, const Vec3<T>& v_rgb, T v_alpha,
                                        T v_depth_sum, T* v_alphas, T* v_colors, T* v_depths) {
  Vec3<T> rgb;
  T alpha, dsum;
  const int used = composite_pixel(n, alphas, colors, depths, bg, rgb, alpha, dsum);
  T tr = T(1) - alpha;  // T_N
  const T t_final = tr;
  Vec3<T> b{T(0), T(0), T(0)};
  T bd = T(0);
  for (int i = used - 1; i >= 0; --i) {
    const T a = alphas[i];
    if (a < T(kAlphaMin)) continue;
    tr = tr / (T(1) - a);  // T_i
    const Vec3<T> c{colors[3 * i], colors[3 * i + 1], colors[3 * i + 2]};
    const T w = a * tr;
    T va = dot(c - b, v_rgb) * tr + (depths[i] - bd) * v_depth_sum * tr;
    va += (v_alpha - dot(bg, v_rgb)) * t_final / (T(1) - a);
    v_alphas[i] += va;
    v_colors[3 * i] += w * v_rgb.x;
    v_colors[3 * i + 1] += w * v_rgb.y;
    v_colors[3 * i + 2] += w * v_rgb.z;
    v_depths[i] += w * v_depth_sum;
    b = c * a + b * (T(1) - a);
    bd = depths[i] * a + bd * (T(1) - a);
  }
}

}  // namespace glimpse
