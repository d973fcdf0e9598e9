// Depth-prior losses and their vector-Jacobian products (see depth_losses.h for the papers).
#include "priors/depth_losses.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>

namespace glimpse {

void RankingSampling::check() const {
  GLIMPSE_CHECK(pairs > 0) << "depth ranking: pairs must be > 0, got " << pairs;
  GLIMPSE_CHECK(box >= 0) << "depth ranking: box must be >= 0 (0: the image), got " << box;
  GLIMPSE_CHECK(neighbour_window >= 2)
      << "depth ranking: neighbour_window must be >= 2, got " << neighbour_window;
  GLIMPSE_CHECK(neighbour_fraction > 0.f && neighbour_fraction <= 1.f)
      << "depth ranking: neighbour_fraction must be in (0, 1], got " << neighbour_fraction;
  GLIMPSE_CHECK(min_confidence >= 0.f && min_confidence <= 1.f)
      << "depth ranking: min_confidence must be in [0, 1], got " << min_confidence;
}

// [SECTION] depth ranking ------------------------------------------------------------------------
namespace {

int uniform_int(std::mt19937_64& rng, int n) {  // in [0, n), portable (no std distributions)
  return static_cast<int>(rng() % static_cast<uint64_t>(n));
}

// A neighbour of (x, y) inside the window [x - w/2, x + w/2) x [y - w/2, y + w/2) among the
// `fraction` of valid pixels closest in nearness; -1 when none.
int32_t continuity_neighbour(const Image<float>& nearness, const Image<float>& confidence, int x,
                             int y, const RankingSampling& s, std::mt19937_64& rng) {
  const int w = nearness.width(), h = nearness.height();
  const float v = nearness.at(x, y);
  std::pair<float, int32_t> candidates[64 * 64];
  int n = 0;
  const int half = s.neighbour_window / 2;
  const int wnd = std::min(s.neighbour_window, 64);
  for (int dy = -half; dy < wnd - half; ++dy)
    for (int dx = -half; dx < wnd - half; ++dx) {
      const int xx = x + dx, yy = y + dy;
      if ((dx == 0 && dy == 0) || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      if (confidence.at(xx, yy) < s.min_confidence || confidence.at(xx, yy) <= 0.f) continue;
      candidates[n++] = {std::abs(nearness.at(xx, yy) - v), yy * w + xx};
    }
  if (n == 0) return -1;
  const int keep = std::max(1, static_cast<int>(std::ceil(s.neighbour_fraction * n)));
  std::partial_sort(candidates, candidates + keep, candidates + n);
  return candidates[uniform_int(rng, keep)].second;
}

}  // namespace

std::vector<RankingPair> sample_ranking_pairs(const Image<float>& nearness,
                                              const Image<float>& confidence,
                                              const RankingSampling& sampling,
                                              std::mt19937_64& rng) {
  sampling.check();
  GLIMPSE_CHECK(nearness.channels() == 1 && confidence.channels() == 1 &&
                nearness.width() == confidence.width() && nearness.height() == confidence.height())
      << "depth ranking: prior and confidence differ in size";
  const int w = nearness.width(), h = nearness.height();
  std::vector<RankingPair> pairs;
  if (w < 2 || h < 2) return pairs;
  pairs.reserve(sampling.pairs);
  const int bw = sampling.box > 0 ? std::min(sampling.box, w) : w;
  const int bh = sampling.box > 0 ? std::min(sampling.box, h) : h;
  auto usable = [&](int x, int y) {
    const float c = confidence.at(x, y);
    return c > 0.f && c >= sampling.min_confidence;
  };
  // A bounded number of draws: a prior with few confident pixels yields fewer pairs.
  const int attempts = 4 * sampling.pairs;
  for (int a = 0; a < attempts && static_cast<int>(pairs.size()) < sampling.pairs; ++a) {
    const int x0 = uniform_int(rng, w - bw + 1), y0 = uniform_int(rng, h - bh + 1);
    const int ax = x0 + uniform_int(rng, bw), ay = y0 + uniform_int(rng, bh);
    const int bx = x0 + uniform_int(rng, bw), by = y0 + uniform_int(rng, bh);
    if (!usable(ax, ay) || !usable(bx, by)) continue;
    const float na = nearness.at(ax, ay), nb = nearness.at(bx, by);
    if (na == nb) continue;
    RankingPair p;
    const bool a_nearer = na > nb;
    const int nx = a_nearer ? ax : bx, ny = a_nearer ? ay : by;
    const int fx = a_nearer ? bx : ax, fy = a_nearer ? by : ay;
    p.nearer = ny * w + nx;
    p.farther = fy * w + fx;
    p.nearer_neighbour = continuity_neighbour(nearness, confidence, nx, ny, sampling, rng);
    p.farther_neighbour = continuity_neighbour(nearness, confidence, fx, fy, sampling, rng);
    p.weight = confidence.at(ax, ay) * confidence.at(bx, by);
    pairs.push_back(p);
  }
  return pairs;
}

template <typename T>
T depth_ranking_loss(const Image<T>& depth, const std::vector<RankingPair>& pairs, T margin,
                     T continuity, T scale, Image<T>* v_depth) {
  if (pairs.empty()) return T(0);
  const T* d = depth.data();
  T* vd = v_depth ? v_depth->data() : nullptr;
  const T inv_p = T(1) / static_cast<T>(pairs.size());
  T total = 0;
  auto continuity_term = [&](int32_t k, int32_t n, T w) {
    if (n < 0) return;
    // max(|D(k) - D(n)| - m, 0): d/dD(k) = sign(D(k) - D(n)) where active.
    const T diff = d[k] - d[n];
    const T excess = std::abs(diff) - margin;
    if (excess <= 0) return;
    total += w * continuity * excess;
    if (vd) {
      const T g = scale * inv_p * w * continuity * (diff > 0 ? T(1) : T(-1));
      vd[k] += g;
      vd[n] -= g;
    }
  };
  for (const RankingPair& p : pairs) {
    const T w = static_cast<T>(p.weight);
    // Hinge: the nearer pixel must render at least `margin` nearer than the farther one.
    const T hinge = d[p.nearer] - d[p.farther] + margin;
    if (hinge > 0) {
      total += w * hinge;
      if (vd) {
        vd[p.nearer] += scale * inv_p * w;
        vd[p.farther] -= scale * inv_p * w;
      }
    }
    continuity_term(p.nearer, p.nearer_neighbour, w);
    continuity_term(p.farther, p.farther_neighbour, w);
  }
  return total * inv_p;
}

// [SECTION] Pearson correlation ------------------------------------------------------------------
namespace {

constexpr double kPearsonEps = 1e-12;

// 1 - rho over the rectangle [x0, x1) x [y0, y1); adds d/dD * g_scale into vd. Returns false (and
// adds nothing) when the rectangle has fewer than `min_count` weighted pixels or a flat prior.
template <typename T>
bool pearson_rect(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight, int x0,
                  int y0, int x1, int y1, int min_count, T g_scale, Image<T>* v_depth, T& loss) {
  double sw = 0, sd = 0, sp = 0;
  int count = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const double w = weight.at(x, y);
      if (w <= 0) continue;
      sw += w;
      sd += w * depth.at(x, y);
      sp += w * prior.at(x, y);
      ++count;
    }
  if (count < min_count || sw <= 0) return false;
  const double md = sd / sw, mp = sp / sw;
  double cov = 0, vard = 0, varp = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const double w = weight.at(x, y);
      if (w <= 0) continue;
      const double a = depth.at(x, y) - md, b = prior.at(x, y) - mp;
      cov += w * a * b;
      vard += w * a * a;
      varp += w * b * b;
    }
  cov /= sw;
  vard /= sw;
  varp /= sw;
  // A flat prior carries no order; its correlation is undefined.
  const double eps = kPearsonEps * std::max(1.0, mp * mp);
  if (varp <= eps) return false;
  const double epsd = kPearsonEps * std::max(1.0, md * md);
  const double s = std::sqrt((vard + epsd) * (varp + eps));
  const double rho = cov / s;
  loss = static_cast<T>(1.0 - rho);
  if (v_depth) {
    // d rho / d D_i = (w_i / W) [ (P_i - mp) / s - cov (D_i - md) / ((vard + epsd) s) ]
    // (the mean's derivatives cancel: sum w (P - mp) = sum w (D - md) = 0).
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const double w = weight.at(x, y);
        if (w <= 0) continue;
        const double a = depth.at(x, y) - md, b = prior.at(x, y) - mp;
        const double drho = (w / sw) * (b / s - cov * a / ((vard + epsd) * s));
        v_depth->at(x, y) -= static_cast<T>(g_scale * drho);
      }
  }
  return true;
}

}  // namespace

template <typename T>
T pearson_depth_loss(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight, T scale,
                     Image<T>* v_depth) {
  T loss = 0;
  if (!pearson_rect(depth, prior, weight, 0, 0, depth.width(), depth.height(), 16, scale, v_depth,
                    loss))
    return T(0);
  return loss;
}

template <typename T>
T patch_pearson_depth_loss(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight,
                           int patch, int offset_x, int offset_y, T scale, Image<T>* v_depth) {
  GLIMPSE_CHECK(patch >= 4) << "patch Pearson: patch must be >= 4, got " << patch;
  const int w = depth.width(), h = depth.height();
  offset_x = ((offset_x % patch) + patch) % patch;
  offset_y = ((offset_y % patch) + patch) % patch;
  const int min_count = std::max(4, patch * patch / 4);
  // First pass: which tiles count (their number normalises the gradient of the second).
  struct Tile {
    int x0, y0, x1, y1;
  };
  std::vector<Tile> tiles;
  for (int y0 = offset_y > 0 ? offset_y - patch : 0; y0 < h; y0 += patch)
    for (int x0 = offset_x > 0 ? offset_x - patch : 0; x0 < w; x0 += patch)
      tiles.push_back(
          {std::max(x0, 0), std::max(y0, 0), std::min(x0 + patch, w), std::min(y0 + patch, h)});
  std::vector<uint8_t> used(tiles.size(), 0);
  T total = 0;
  int count = 0;
  for (size_t t = 0; t < tiles.size(); ++t) {
    T l = 0;
    if (pearson_rect(depth, prior, weight, tiles[t].x0, tiles[t].y0, tiles[t].x1, tiles[t].y1,
                     min_count, T(0), static_cast<Image<T>*>(nullptr), l)) {
      used[t] = 1;
      total += l;
      ++count;
    }
  }
  if (count == 0) return T(0);
  if (v_depth) {
    const T g = scale / static_cast<T>(count);
    for (size_t t = 0; t < tiles.size(); ++t) {
      if (!used[t]) continue;
      T l = 0;
      pearson_rect(depth, prior, weight, tiles[t].x0, tiles[t].y0, tiles[t].x1, tiles[t].y1,
                   min_count, g, v_depth, l);
    }
  }
  return total / static_cast<T>(count);
}

// [SECTION] metric depth -------------------------------------------------------------------------
template <typename T>
T relative_depth_l1_loss(const Image<T>& depth, const Image<T>& prior, const Image<T>& weight,
                         T scale, Image<T>* v_depth) {
  double sw = 0, total = 0;
  for (size_t p = 0; p < depth.size(); ++p) {
    const double w = weight.data()[p], pr = prior.data()[p];
    if (w <= 0 || !(pr > 0)) continue;
    sw += w;
    total += w * std::abs(depth.data()[p] - pr) / pr;
  }
  if (sw <= 0) return T(0);
  if (v_depth)
    for (size_t p = 0; p < depth.size(); ++p) {
      const double w = weight.data()[p], pr = prior.data()[p];
      if (w <= 0 || !(pr > 0)) continue;
      const double diff = depth.data()[p] - pr;
      if (diff == 0) continue;
      v_depth->data()[p] += static_cast<T>(scale * w / (sw * pr) * (diff > 0 ? 1.0 : -1.0));
    }
  return static_cast<T>(total / sw);
}

// [SECTION] multi-view consistency ---------------------------------------------------------------
template <typename T>
T warp_consistency_loss(const Image<T>& depth, const Image<T>& weight, const Image<T>& src_image,
                        const Camera& src_camera, const WarpTarget<T>& target, T delta, T scale,
                        Image<T>* v_depth, int64_t* valid, Image<T>* v_target_image) {
  GLIMPSE_CHECK(target.image != nullptr && target.camera != nullptr)
      << "warp consistency: no target view";
  GLIMPSE_CHECK(delta > 0) << "warp consistency: delta must be > 0";
  const Camera& tc = *target.camera;
  const Image<T>& ti = *target.image;
  const int w = depth.width(), h = depth.height(), tw = ti.width(), th = ti.height();
  GLIMPSE_CHECK(src_image.width() == w && src_image.height() == h && src_image.channels() == 3 &&
                ti.channels() == 3 && tw == tc.width && th == tc.height)
      << "warp consistency: image sizes disagree with the cameras";
  // X_tgt = D a + b with a = R_t R_s^T r, b = t_t - R_t R_s^T t_s.
  Mat3<double> rel;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += tc.rotation.m[i][k] * src_camera.rotation.m[j][k];
      rel.m[i][j] = s;
    }
  const Vec3<double> b = tc.translation - rel * src_camera.translation;
  struct Hit {
    int32_t pixel;
    double wt, v_d;     // weight, dl/dD of this pixel's per-pixel loss
    int32_t x0, y0;     // the target's bilinear taps
    float ax, ay;       // ... and weights
    float v_sample[3];  // dl/d sample per channel
  };
  const bool want_grads = v_depth != nullptr || v_target_image != nullptr;
  std::vector<Hit> hits;
  double loss = 0, wsum = 0;
  int64_t used = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double wt = weight.at(x, y);
      const double d = depth.at(x, y);
      if (wt <= 0 || !(d > 0)) continue;
      const Vec3<double> r{(x + 0.5 - src_camera.cx) / src_camera.fx,
                           (y + 0.5 - src_camera.cy) / src_camera.fy, 1.0};
      const Vec3<double> a = rel * r;
      const Vec3<double> p = a * d + b;
      if (p.z <= 1e-9) continue;
      const double iz = 1.0 / p.z;
      const double u = tc.fx * p.x * iz + tc.cx - 0.5, v = tc.fy * p.y * iz + tc.cy - 0.5;
      if (!(u >= 1.0 && v >= 1.0 && u <= tw - 2.0 && v <= th - 2.0)) continue;
      const int x0 = static_cast<int>(u), y0 = static_cast<int>(v);
      const double ax = u - x0, ay = v - y0;
      if (target.depth != nullptr) {
        const double td =
            target.depth->at(std::min(x0 + (ax > 0.5), tw - 1), std::min(y0 + (ay > 0.5), th - 1));
        if (td > 0 && p.z > td * (1.0 + target.occlusion_tolerance)) continue;
      }
      double l = 0, gu = 0, gv = 0;
      float v_sample[3];
      for (int c = 0; c < 3; ++c) {
        const double i00 = ti.at(x0, y0, c), i10 = ti.at(x0 + 1, y0, c);
        const double i01 = ti.at(x0, y0 + 1, c), i11 = ti.at(x0 + 1, y0 + 1, c);
        const double sample =
            (1 - ay) * ((1 - ax) * i00 + ax * i10) + ay * ((1 - ax) * i01 + ax * i11);
        const double res = src_image.at(x, y, c) - sample;
        const double ares = std::abs(res);
        l += ares < delta ? res * res / (2 * delta) : ares - 0.5 * delta;
        // d l / d sample = -h'(res)
        const double dh = ares < delta ? res / delta : (res > 0 ? 1.0 : -1.0);
        v_sample[c] = static_cast<float>(-dh / 3.0);
        gu -= dh * ((1 - ay) * (i10 - i00) + ay * (i11 - i01));
        gv -= dh * ((1 - ax) * (i01 - i00) + ax * (i11 - i10));
      }
      l /= 3.0;
      gu /= 3.0;
      gv /= 3.0;
      // du/dD = fx (a.x z - x a.z) / z^2, dv/dD likewise.
      const double du = tc.fx * (a.x * p.z - p.x * a.z) * iz * iz;
      const double dv = tc.fy * (a.y * p.z - p.y * a.z) * iz * iz;
      loss += wt * l;
      wsum += wt;
      ++used;
      if (want_grads)
        hits.push_back({y * w + x,
                        wt,
                        gu * du + gv * dv,
                        x0,
                        y0,
                        static_cast<float>(ax),
                        static_cast<float>(ay),
                        {v_sample[0], v_sample[1], v_sample[2]}});
    }
  if (valid) *valid = used;
  if (wsum <= 0) return T(0);
  if (v_depth)
    for (const Hit& hit : hits)
      v_depth->data()[hit.pixel] += static_cast<T>(scale * hit.wt * hit.v_d / wsum);
  if (v_target_image) {
    GLIMPSE_CHECK(v_target_image->width() == tw && v_target_image->height() == th &&
                  v_target_image->channels() == 3)
        << "warp consistency: the target gradient image has the wrong size";
    // The bilinear sample's VJP: each tap receives its weight times d l / d sample.
    for (const Hit& hit : hits) {
      const double g = scale * hit.wt / wsum;
      const double ax = hit.ax, ay = hit.ay;
      const double wts[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
      const int xs[4] = {hit.x0, hit.x0 + 1, hit.x0, hit.x0 + 1};
      const int ys[4] = {hit.y0, hit.y0, hit.y0 + 1, hit.y0 + 1};
      for (int k = 0; k < 4; ++k)
        for (int c = 0; c < 3; ++c)
          v_target_image->at(xs[k], ys[k], c) += static_cast<T>(g * wts[k] * hit.v_sample[c]);
    }
  }
  return static_cast<T>(loss / wsum);
}

// [SECTION] instantiations -----------------------------------------------------------------------
#define GLIMPSE_INSTANTIATE_DEPTH_LOSSES(T)                                                      \
  template T depth_ranking_loss<T>(const Image<T>&, const std::vector<RankingPair>&, T, T, T,    \
                                   Image<T>*);                                                   \
  template T pearson_depth_loss<T>(const Image<T>&, const Image<T>&, const Image<T>&, T,         \
                                   Image<T>*);                                                   \
  template T patch_pearson_depth_loss<T>(const Image<T>&, const Image<T>&, const Image<T>&, int, \
                                         int, int, T, Image<T>*);                                \
  template T relative_depth_l1_loss<T>(const Image<T>&, const Image<T>&, const Image<T>&, T,     \
                                       Image<T>*);                                               \
  template T warp_consistency_loss<T>(const Image<T>&, const Image<T>&, const Image<T>&,         \
                                      const Camera&, const WarpTarget<T>&, T, T, Image<T>*,      \
                                      int64_t*, Image<T>*);
GLIMPSE_INSTANTIATE_DEPTH_LOSSES(float)
GLIMPSE_INSTANTIATE_DEPTH_LOSSES(double)
#undef GLIMPSE_INSTANTIATE_DEPTH_LOSSES

}  // namespace glimpse
