// L1 and SSIM (3DGS utils/loss_utils.py) with exact gradients: separable 11-tap Gaussian blurs over
// interleaved rows, forward and backward fused per band of rows, parallel over bands, per-row
// partial sums reduced in row order so that every thread count gives the same bits.
#include "optim/losses.h"

#include "core/check.h"
#include "core/thread_pool.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace glimpse {
namespace {

constexpr int kTaps = kSsimWindowSize;
constexpr int kRadius = kSsimWindowRadius;
constexpr int64_t kRowGrain = 4;      // rows per parallel chunk (value only)
constexpr int64_t kMinBandRows = 32;  // rows per band of the fused forward/backward pass
constexpr int kLanes = 8;  // independent partial sums per row (vectorisable, fixed order)

// The normalised 1D window; the 2D window of the reference is its outer product.
template <typename T>
std::array<T, kTaps> ssim_window() {
  std::array<double, kTaps> w{};
  double sum = 0;
  for (int k = 0; k < kTaps; ++k) {
    const double d = k - kRadius;
    w[k] = std::exp(-d * d / (2 * kSsimSigma * kSsimSigma));
    sum += w[k];
  }
  std::array<T, kTaps> r{};
  for (int k = 0; k < kTaps; ++k) r[k] = static_cast<T>(w[k] / sum);
  return r;
}

template <typename T>
void check_same_shape(const Image<T>& a, const Image<T>& b, const char* what) {
  GLIMPSE_CHECK(!a.empty()) << what << ": empty image";
  GLIMPSE_CHECK(a.width() == b.width() && a.height() == b.height() && a.channels() == b.channels())
      << what << ": image shapes differ (" << a.width() << "x" << a.height() << "x" << a.channels()
      << " vs " << b.width() << "x" << b.height() << "x" << b.channels() << ")";
}

template <typename T>
void shape_gradient_like(const Image<T>& a, Image<T>* grad) {
  if (grad == nullptr) return;
  if (grad->width() != a.width() || grad->height() != a.height() ||
      grad->channels() != a.channels())
    *grad = Image<T>(a.width(), a.height(), a.channels());
}

template <typename T>
T sign_of(T d) {
  return static_cast<T>((d > T(0)) - (d < T(0)));
}

double sum_lanes(const double* acc) {
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

// Sum of v[0, n) in kLanes interleaved partial sums (the same order for every thread count).
template <typename T>
double row_sum(const T* v, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(v[i + l]);
  for (int l = 0; i < n; ++i, ++l) acc[l] += static_cast<double>(v[i]);
  return sum_lanes(acc);
}

// Sum of |a - b| over [0, n), as row_sum.
template <typename T>
double row_abs_diff_sum(const T* a, const T* b, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += std::abs(static_cast<double>(a[i + l] - b[i + l]));
  for (int l = 0; i < n; ++i, ++l) acc[l] += std::abs(static_cast<double>(a[i] - b[i]));
  return sum_lanes(acc);
}

// Vertical pass of the five moment maps: out_m[i] = sum_k w[k] m(rows[k][i]) for m in
// (a, b, a^2, b^2, ab). rows_*: [kTaps] pointers to rows y - 5 .. y + 5 (a zero row outside).
template <typename T>
void vertical_moments(const T* const* rows_a, const T* const* rows_b, const T* weights, int64_t n,
                      T* __restrict out_a, T* __restrict out_b, T* __restrict out_aa,
                      T* __restrict out_bb, T* __restrict out_ab) {
  const T* ra[kTaps];
  const T* rb[kTaps];
  T w[kTaps];
  for (int k = 0; k < kTaps; ++k) ra[k] = rows_a[k], rb[k] = rows_b[k], w[k] = weights[k];
  for (int64_t i = 0; i < n; ++i) {
    T sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
#pragma GCC unroll 11
    for (int k = 0; k < kTaps; ++k) {
      const T x = ra[k][i], z = rb[k][i];
      const T wx = w[k] * x, wz = w[k] * z;
      sa += wx;
      sb += wz;
      saa += wx * x;
      sbb += wz * z;
      sab += wx * z;
    }
    out_a[i] = sa;
    out_b[i] = sb;
    out_aa[i] = saa;
    out_bb[i] = sbb;
    out_ab[i] = sab;
  }
}

// Vertical pass of three maps: out_j[i] = sum_k w[k] rows_j[k][i].
template <typename T>
void vertical_blur3(const T* const* rows_0, const T* const* rows_1, const T* const* rows_2,
                    const T* weights, int64_t n, T* __restrict out_0, T* __restrict out_1,
                    T* __restrict out_2) {
  const T* r0[kTaps];
  const T* r1[kTaps];
  const T* r2[kTaps];
  T w[kTaps];
  for (int k = 0; k < kTaps; ++k) r0[k] = rows_0[k], r1[k] = rows_1[k], r2[k] = rows_2[k];
  for (int k = 0; k < kTaps; ++k) w[k] = weights[k];
  for (int64_t i = 0; i < n; ++i) {
    T s0 = 0, s1 = 0, s2 = 0;
#pragma GCC unroll 11
    for (int k = 0; k < kTaps; ++k) {
      s0 += w[k] * r0[k][i];
      s1 += w[k] * r1[k][i];
      s2 += w[k] * r2[k][i];
    }
    out_0[i] = s0;
    out_1[i] = s1;
    out_2[i] = s2;
  }
}

// Horizontal pass over an interleaved row: out[i] = sum_k w[k] padded[i + k c], where `padded`
// holds the row with kRadius zero pixels (kRadius * c values) on either side.
template <typename T>
void horizontal_blur(const T* __restrict padded, const T* weights, int64_t n, int c,
                     T* __restrict out) {
  T w[kTaps];
  for (int k = 0; k < kTaps; ++k) w[k] = weights[k];
  for (int64_t i = 0; i < n; ++i) {
    T s = 0;
#pragma GCC unroll 11
    for (int k = 0; k < kTaps; ++k) s += w[k] * padded[i + k * c];
    out[i] = s;
  }
}

// Per-pixel SSIM from the local moments and, with kGrad, its partials with respect to mu_a,
// E[a^2] and E[ab] (d_* may be null without kGrad).
template <typename T, bool kGrad>
void ssim_map(const T* __restrict mu_a, const T* __restrict mu_b, const T* __restrict e_aa,
              const T* __restrict e_bb, const T* __restrict e_ab, int64_t n, T* __restrict s_out,
              T* __restrict d_mu, T* __restrict d_e_aa, T* __restrict d_e_ab) {
  const T c1 = static_cast<T>(kSsimC1), c2 = static_cast<T>(kSsimC2);
  for (int64_t i = 0; i < n; ++i) {
    const T m1 = mu_a[i], m2 = mu_b[i];
    const T m11 = m1 * m1, m22 = m2 * m2, m12 = m1 * m2;
    const T num_mean = 2 * m12 + c1;                           // A
    const T num_cov = 2 * (e_ab[i] - m12) + c2;                // B
    const T den_mean = m11 + m22 + c1;                         // C
    const T den_var = (e_aa[i] - m11) + (e_bb[i] - m22) + c2;  // D
    const T inv = T(1) / (den_mean * den_var);
    const T s = num_mean * num_cov * inv;  // A B / (C D)
    s_out[i] = s;
    if constexpr (kGrad) {
      // s = A B / (C D) with A(mu_a), B(E[ab], mu_a), C(mu_a), D(E[a^2], mu_a):
      // ds/dmu_a = 2 mu_b (B - A) / (C D) + 2 mu_a s (1/D - 1/C); ds/dE[a^2] = -s / D;
      // ds/dE[ab] = 2 A / (C D).
      const T inv_c = den_var * inv, inv_d = den_mean * inv;
      d_mu[i] = 2 * m2 * (num_cov - num_mean) * inv + 2 * m1 * s * (inv_d - inv_c);
      d_e_aa[i] = -s * inv_d;
      d_e_ab[i] = 2 * num_mean * inv;
    }
  }
}

// grad = ssim_scale * (h_mu + 2 a h_aa + b h_ab) + l1_scale * sign(a - b).
template <typename T>
void combine_gradient(const T* __restrict a, const T* __restrict b, const T* __restrict h_mu,
                      const T* __restrict h_aa, const T* __restrict h_ab, int64_t n, T ssim_scale,
                      T l1_scale, T* __restrict grad) {
  for (int64_t i = 0; i < n; ++i)
    grad[i] = ssim_scale * (h_mu[i] + 2 * a[i] * h_aa[i] + b[i] * h_ab[i]) +
              l1_scale * sign_of(a[i] - b[i]);
}

// Shared state of one SSIM evaluation. Rows are interleaved (width x channels values).
template <typename T>
struct SsimPass {
  const T* a = nullptr;  // [H, row]
  const T* b = nullptr;  // [H, row]
  int64_t height = 0;
  int channels = 0;
  int64_t row = 0;           // values per row
  int64_t pad = 0;           // kRadius * channels
  std::array<T, kTaps> w{};  // 1D window
  std::vector<T> zeros;      // [row] stands in for rows outside the image

  // Pointers to rows y - kRadius .. y + kRadius of `plane` ([H, row]); zeros outside.
  void window_rows(const T* plane, int64_t y, const T** rows) const {
    for (int k = 0; k < kTaps; ++k) {
      const int64_t yy = y + k - kRadius;
      rows[k] = (yy >= 0 && yy < height) ? plane + yy * row : zeros.data();
    }
  }
  int64_t padded_row() const { return row + 2 * pad; }
  // Scratch values per thread: forward 5 padded rows + 6 rows; backward 3 padded rows + 3 rows;
  // with a gradient, a ring of kTaps rows of the 3 partial maps.
  int64_t scratch_size(bool grad) const {
    return 5 * padded_row() + 6 * row + (grad ? 3 * padded_row() + 3 * row + 3 * kTaps * row : 0);
  }
};

// Forward pass of row y: the SSIM map of the row, summed into *ssim_sum, and with kGrad its
// partials d SSIM / d (mu_a, E[a^2], E[ab]) in d_row[0..2]. scratch: 5 padded rows whose padding
// is zero, then 6 rows.
template <typename T, bool kGrad>
void ssim_forward_row(const SsimPass<T>& p, int64_t y, T* scratch, T* const* d_row,
                      double* ssim_sum) {
  const int64_t n = p.row, np = p.padded_row();
  T* v[5];  // vertical moments, padded
  for (int m = 0; m < 5; ++m) v[m] = scratch + m * np;
  T* h[5];  // full 2D moments: mu_a, mu_b, E[a^2], E[b^2], E[ab]
  for (int m = 0; m < 5; ++m) h[m] = scratch + 5 * np + m * n;
  T* s_row = scratch + 5 * np + 5 * n;

  const T* rows_a[kTaps];
  const T* rows_b[kTaps];
  p.window_rows(p.a, y, rows_a);
  p.window_rows(p.b, y, rows_b);
  vertical_moments(rows_a, rows_b, p.w.data(), n, v[0] + p.pad, v[1] + p.pad, v[2] + p.pad,
                   v[3] + p.pad, v[4] + p.pad);
  for (int m = 0; m < 5; ++m) horizontal_blur(v[m], p.w.data(), n, p.channels, h[m]);
  ssim_map<T, kGrad>(h[0], h[1], h[2], h[3], h[4], n, s_row, kGrad ? d_row[0] : nullptr,
                     kGrad ? d_row[1] : nullptr, kGrad ? d_row[2] : nullptr);
  *ssim_sum = row_sum(s_row, n);
}

// Backward pass of row y: grad = ssim_scale * (blur(d_mu) + 2 a blur(d_e_aa) + b blur(d_e_ab))
// + l1_scale * sign(a - b); the zero-padded symmetric blur is its own transpose. rows_j: [kTaps]
// rows y - 5 .. y + 5 of partial map j (zeros outside the image). scratch: 3 padded rows whose
// padding is zero, then 3 rows.
template <typename T>
void ssim_backward_row(const SsimPass<T>& p, int64_t y, const T* const* rows_0,
                       const T* const* rows_1, const T* const* rows_2, T ssim_scale, T l1_scale,
                       T* scratch, T* grad_row) {
  const int64_t n = p.row, np = p.padded_row();
  T* g0 = scratch;
  T* g1 = scratch + np;
  T* g2 = scratch + 2 * np;
  vertical_blur3(rows_0, rows_1, rows_2, p.w.data(), n, g0 + p.pad, g1 + p.pad, g2 + p.pad);
  T* h0 = scratch + 3 * np;
  T* h1 = h0 + n;
  T* h2 = h1 + n;
  horizontal_blur(g0, p.w.data(), n, p.channels, h0);
  horizontal_blur(g1, p.w.data(), n, p.channels, h1);
  horizontal_blur(g2, p.w.data(), n, p.channels, h2);
  combine_gradient(p.a + y * n, p.b + y * n, h0, h1, h2, n, ssim_scale, l1_scale, grad_row);
}

struct SsimSums {
  double ssim = 0;  // sum of the SSIM map
  double l1 = 0;    // sum |a - b| (when requested)
};

// One fused evaluation: sums of the SSIM map and (want_l1) of |a - b|; with grad, writes
// grad = ssim_weight * d(sum SSIM)/da + l1_weight * sign(a - b).
//
// With a gradient, each parallel chunk is a band of rows [begin, end) that streams through the
// image: it computes forward rows begin - 5 .. end + 4 into a ring of kTaps rows of partials (the
// 5-row halos on either side are computed by both neighbouring bands) and runs the backward pass
// of row y as soon as rows y - 5 .. y + 5 are in the ring. Partials never leave the cache, and a
// row's values do not depend on the band that computed them, so results are the same for every
// thread count. Row sums are only stored by the band that owns the row.
template <typename T>
SsimSums ssim_l1(const Image<T>& a, const Image<T>& b, bool want_l1, double ssim_weight,
                 double l1_weight, Image<T>* grad) {
  SsimPass<T> p;
  p.a = a.data();
  p.b = b.data();
  p.height = a.height();
  p.channels = a.channels();
  p.row = static_cast<int64_t>(a.width()) * a.channels();
  p.pad = static_cast<int64_t>(kRadius) * a.channels();
  p.w = ssim_window<T>();
  p.zeros.assign(p.row, T(0));

  ThreadPool& pool = ThreadPool::global();
  const bool want_grad = grad != nullptr;
  std::vector<std::unique_ptr<T[]>> scratch(pool.num_threads());
  const int64_t scratch_size = p.scratch_size(want_grad);
  std::vector<double> row_ssim(p.height), row_l1(p.height);
  const T ssim_scale = static_cast<T>(ssim_weight), l1_scale = static_cast<T>(l1_weight);
  // Bands: about two per thread (halo overhead 10 rows per band), at least kMinBandRows.
  const int64_t band =
      want_grad ? std::max<int64_t>(kMinBandRows, (p.height + 2 * pool.num_threads() - 1) /
                                                      (2 * pool.num_threads()))
                : kRowGrain;
  pool.parallel_for(p.height, band, [&](int64_t begin, int64_t end, int thread) {
    if (!scratch[thread]) scratch[thread] = std::make_unique<T[]>(scratch_size);  // zeroed
    T* forward_scratch = scratch[thread].get();
    if (!want_grad) {
      for (int64_t y = begin; y < end; ++y)
        ssim_forward_row<T, false>(p, y, forward_scratch, nullptr, &row_ssim[y]);
    } else {
      T* backward_scratch = forward_scratch + 5 * p.padded_row() + 6 * p.row;
      T* ring = backward_scratch + 3 * p.padded_row() + 3 * p.row;  // [kTaps][3][row]
      auto ring_row = [&](int64_t yy, int j) { return ring + ((yy % kTaps) * 3 + j) * p.row; };
      int64_t next = std::max<int64_t>(0, begin - kRadius);  // next forward row to compute
      for (int64_t y = begin; y < end; ++y) {
        for (const int64_t last = std::min(p.height - 1, y + kRadius); next <= last; ++next) {
          T* d_row[3] = {ring_row(next, 0), ring_row(next, 1), ring_row(next, 2)};
          double sum = 0;
          ssim_forward_row<T, true>(p, next, forward_scratch, d_row, &sum);
          if (next >= begin && next < end) row_ssim[next] = sum;
        }
        const T* rows[3][kTaps];
        for (int j = 0; j < 3; ++j)
          for (int k = 0; k < kTaps; ++k) {
            const int64_t yy = y + k - kRadius;
            rows[j][k] = (yy >= 0 && yy < p.height) ? ring_row(yy, j) : p.zeros.data();
          }
        ssim_backward_row(p, y, rows[0], rows[1], rows[2], ssim_scale, l1_scale, backward_scratch,
                          grad->data() + y * p.row);
      }
    }
    if (want_l1)
      for (int64_t y = begin; y < end; ++y)
        row_l1[y] = row_abs_diff_sum(p.a + y * p.row, p.b + y * p.row, p.row);
  });
  SsimSums sums;
  for (int64_t y = 0; y < p.height; ++y) sums.ssim += row_ssim[y];
  if (want_l1)
    for (int64_t y = 0; y < p.height; ++y) sums.l1 += row_l1[y];
  return sums;
}

}  // namespace

template <typename T>
double l1_loss(const Image<T>& a, const Image<T>& b, Image<T>* grad_a) {
  check_same_shape(a, b, "l1_loss");
  shape_gradient_like(a, grad_a);
  const int64_t row = static_cast<int64_t>(a.width()) * a.channels();
  const int height = a.height();
  const T inv_n = static_cast<T>(1.0 / static_cast<double>(a.size()));
  std::vector<double> row_l1(height);
  ThreadPool::global().parallel_for(height, 4 * kRowGrain, [&](int64_t begin, int64_t end, int) {
    for (int64_t y = begin; y < end; ++y) {
      const T* pa = a.data() + y * row;
      const T* pb = b.data() + y * row;
      row_l1[y] = row_abs_diff_sum(pa, pb, row);
      if (grad_a != nullptr) {
        T* g = grad_a->data() + y * row;
        for (int64_t i = 0; i < row; ++i) g[i] = inv_n * sign_of(pa[i] - pb[i]);
      }
    }
  });
  double sum = 0;
  for (int y = 0; y < height; ++y) sum += row_l1[y];
  return sum / static_cast<double>(a.size());
}

template <typename T>
double ssim(const Image<T>& a, const Image<T>& b, Image<T>* grad_a) {
  check_same_shape(a, b, "ssim");
  shape_gradient_like(a, grad_a);
  const double n = static_cast<double>(a.size());
  return ssim_l1(a, b, false, 1.0 / n, 0.0, grad_a).ssim / n;
}

template <typename T>
PhotometricLoss weighted_photometric_loss(const Image<T>& render, const Image<T>& target,
                                          double l1_weight, double dssim_weight,
                                          Image<T>* grad_render) {
  check_same_shape(render, target, "photometric_loss");
  GLIMPSE_CHECK(std::isfinite(l1_weight) && std::isfinite(dssim_weight))
      << "photometric_loss: weights must be finite (" << l1_weight << ", " << dssim_weight << ")";
  shape_gradient_like(render, grad_render);
  const double n = static_cast<double>(render.size());
  // d/dr [w_l1 L1 + w_d (1 - SSIM)] = w_l1 sign / n - w_d d(sum SSIM)/dr / n.
  const SsimSums sums =
      ssim_l1(render, target, true, -dssim_weight / n, l1_weight / n, grad_render);
  PhotometricLoss r;
  r.l1 = sums.l1 / n;
  r.ssim = sums.ssim / n;
  r.loss = l1_weight * r.l1 + dssim_weight * (1.0 - r.ssim);
  return r;
}

template <typename T>
PhotometricLoss photometric_loss(const Image<T>& render, const Image<T>& target, double lambda,
                                 Image<T>* grad_render) {
  GLIMPSE_CHECK(lambda >= 0 && lambda <= 1)
      << "photometric_loss: lambda must be in [0, 1], got " << lambda;
  return weighted_photometric_loss(render, target, 1.0 - lambda, lambda, grad_render);
}

#define GLIMPSE_INSTANTIATE_LOSSES(T)                                                             \
  template double l1_loss<T>(const Image<T>&, const Image<T>&, Image<T>*);                        \
  template double ssim<T>(const Image<T>&, const Image<T>&, Image<T>*);                           \
  template PhotometricLoss photometric_loss<T>(const Image<T>&, const Image<T>&, double,          \
                                               Image<T>*);                                        \
  template PhotometricLoss weighted_photometric_loss<T>(const Image<T>&, const Image<T>&, double, \
                                                        double, Image<T>*);
GLIMPSE_INSTANTIATE_LOSSES(float)
GLIMPSE_INSTANTIATE_LOSSES(double)
#undef GLIMPSE_INSTANTIATE_LOSSES

}  // namespace glimpse
