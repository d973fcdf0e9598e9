// Point and random initialisers (see point_init.h).
#include "priors/point_init.h"

#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_map>

namespace glimpse {

namespace {

// Uniform double in [0, 1) from the engine's raw bits (the same on every standard library).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

void PointInitOptions::check() const {
  GLIMPSE_CHECK(opacity > 0.0f && opacity < 1.0f)
      << "point init: opacity must be in (0, 1), got " << opacity;
  GLIMPSE_CHECK(neighbours >= 1) << "point init: neighbours must be >= 1, got " << neighbours;
  GLIMPSE_CHECK(std::isfinite(min_scale_ratio) && std::isfinite(max_scale_ratio) &&
                min_scale_ratio > 0.0f && max_scale_ratio >= min_scale_ratio)
      << "point init: need 0 < min_scale_ratio <= max_scale_ratio, got " << min_scale_ratio << ", "
      << max_scale_ratio;
  GLIMPSE_CHECK(max_points >= 0) << "point init: max_points must be >= 0, got " << max_points;
}

std::vector<float> mean_sq_knn_distance(const std::vector<float>& positions, int k) {
  GLIMPSE_CHECK(positions.size() % 3 == 0) << "knn: positions are not [N, 3]";
  GLIMPSE_CHECK(k >= 1) << "knn: k must be >= 1, got " << k;
  const size_t n = positions.size() / 3;
  std::vector<float> result(n, 0.0f);
  if (n < 2) return result;
  // Cell size: about 2 points per cell on average over the bounding box (in the volume the points
  // occupy, surfaces make it a few per occupied cell).
  float lo[3], hi[3];
  for (int a = 0; a < 3; ++a) lo[a] = hi[a] = positions[a];
  for (size_t i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], positions[3 * i + a]);
      hi[a] = std::max(hi[a], positions[3 * i + a]);
    }
  double volume = 1.0;
  double max_side = 0.0;
  for (int a = 0; a < 3; ++a) max_side = std::max<double>(max_side, hi[a] - lo[a]);
  if (max_side <= 0.0) return result;  // all points coincide
  for (int a = 0; a < 3; ++a) volume *= std::max<double>(hi[a] - lo[a], 1e-3 * max_side);
  // Points usually lie on surfaces: size cells as if the cloud were a surface of area volume^(2/3).
  const double cell = std::max(std::sqrt(std::pow(volume, 2.0 / 3.0) * 2.0 / n), 1e-9 * max_side);
  const auto key = [](int64_t x, int64_t y, int64_t z) {
    return (static_cast<uint64_t>(x) * 73856093ull) ^ (static_cast<uint64_t>(y) * 19349663ull) ^
           (static_cast<uint64_t>(z) * 83492791ull);
  };
  auto cell_of = [&](size_t i, int a) {
    return static_cast<int64_t>(std::floor((positions[3 * i + a] - lo[a]) / cell));
  };
  // Sorted cell lists: points ordered by cell key, and per key the range.
  std::unordered_map<uint64_t, std::vector<uint32_t>> grid;
  grid.reserve(n);
  for (size_t i = 0; i < n; ++i)
    grid[key(cell_of(i, 0), cell_of(i, 1), cell_of(i, 2))].push_back(static_cast<uint32_t>(i));
  const int kk = static_cast<int>(std::min<size_t>(static_cast<size_t>(k), n - 1));
  std::vector<float> best;
  for (size_t i = 0; i < n; ++i) {
    const int64_t cx = cell_of(i, 0), cy = cell_of(i, 1), cz = cell_of(i, 2);
    const float px = positions[3 * i], py = positions[3 * i + 1], pz = positions[3 * i + 2];
    best.assign(kk, std::numeric_limits<float>::infinity());  // ascending
    // Isolated points (outliers far from the rest) would take many empty shells: search them by
    // brute force instead.
    constexpr int64_t kMaxShells = 6;
    bool found = false;
    for (int64_t r = 0; r <= kMaxShells; ++r) {
      // Visit the shell of cells at Chebyshev distance r.
      for (int64_t dz = -r; dz <= r; ++dz)
        for (int64_t dy = -r; dy <= r; ++dy)
          for (int64_t dx = -r; dx <= r; ++dx) {
            if (std::max({std::llabs(dx), std::llabs(dy), std::llabs(dz)}) != r) continue;
            const auto it = grid.find(key(cx + dx, cy + dy, cz + dz));
            if (it == grid.end()) continue;
            for (uint32_t j : it->second) {
              if (j == i) continue;
              // Hash collisions put far points in the same list: harmless, distances are exact.
              const float ex = positions[3 * j] - px, ey = positions[3 * j + 1] - py,
                          ez = positions[3 * j + 2] - pz;
              const float d2 = ex * ex + ey * ey + ez * ez;
              if (d2 < best.back()) {
                auto pos = std::upper_bound(best.begin(), best.end(), d2);
                best.insert(pos, d2);
                best.pop_back();
              }
            }
          }
      // Every point outside the visited shells is at least r * cell away.
      const double reach = static_cast<double>(r) * cell;
      if (best.back() <= reach * reach) {
        found = true;
        break;
      }
    }
    if (!found) {
      best.assign(kk, std::numeric_limits<float>::infinity());
      for (size_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const float ex = positions[3 * j] - px, ey = positions[3 * j + 1] - py,
                    ez = positions[3 * j + 2] - pz;
        const float d2 = ex * ex + ey * ey + ez * ez;
        if (d2 < best.back()) {
          best.insert(std::upper_bound(best.begin(), best.end(), d2), d2);
          best.pop_back();
        }
      }
    }
    double sum = 0.0;
    int count = 0;
    for (float d2 : best)
      if (std::isfinite(d2)) sum += d2, ++count;
    result[i] = count > 0 ? static_cast<float>(sum / count) : 0.0f;
  }
  return result;
}

Gaussians gaussians_from_points(const PointCloud& input, const PointInitOptions& options,
                                int sh_degree) {
  options.check();
  input.check("point init");
  GLIMPSE_CHECK(!input.empty()) << "point init: the point cloud is empty";
  GLIMPSE_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree)
      << "point init: SH degree must be in 0.." << kMaxShDegree << ", got " << sh_degree;
  // Deterministic thinning.
  std::vector<size_t> keep;
  const size_t n_in = input.size();
  if (options.max_points > 0 && n_in > static_cast<size_t>(options.max_points)) {
    const double step = static_cast<double>(n_in) / static_cast<double>(options.max_points);
    for (int64_t i = 0; i < options.max_points; ++i)
      keep.push_back(static_cast<size_t>(std::floor(static_cast<double>(i) * step)));
  } else {
    keep.resize(n_in);
    for (size_t i = 0; i < n_in; ++i) keep[i] = i;
  }
  const size_t n = keep.size();
  std::vector<float> positions(3 * n);
  for (size_t i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) positions[3 * i + a] = input.positions[3 * keep[i] + a];
  const std::vector<float> d2 = mean_sq_knn_distance(positions, options.neighbours);
  std::vector<float> positive;
  for (float v : d2)
    if (v > 0.0f) positive.push_back(v);
  float median_scale = 1e-3f;
  if (!positive.empty()) {
    std::nth_element(positive.begin(), positive.begin() + positive.size() / 2, positive.end());
    median_scale = std::sqrt(positive[positive.size() / 2]);
  }
  const float lo = options.min_scale_ratio * median_scale;
  const float hi = options.max_scale_ratio * median_scale;

  Gaussians g;
  g.sh_degree = sh_degree;
  g.resize(n);
  std::fill(g.sh.begin(), g.sh.end(), 0.0f);
  const int k_count = g.sh_coeffs();
  const float logit = std::log(options.opacity / (1.0f - options.opacity));
  for (size_t i = 0; i < n; ++i) {
    const float log_sigma = std::log(std::clamp(std::sqrt(d2[i]), lo, hi));
    for (int a = 0; a < 3; ++a) {
      g.means[3 * i + a] = positions[3 * i + a];
      g.log_scales[3 * i + a] = log_sigma;
      g.sh[i * k_count * 3 + a] = (input.colors[3 * keep[i] + a] - 0.5f) / kShC0;
    }
    g.quats[4 * i] = 1.0f;
    g.quats[4 * i + 1] = g.quats[4 * i + 2] = g.quats[4 * i + 3] = 0.0f;
    g.opacity_logits[i] = logit;
  }
  g.check("point init");
  return g;
}

Gaussians random_frustum_init(const std::vector<View>& views, double near, double far, int count,
                              float opacity, uint64_t seed, int sh_degree) {
  GLIMPSE_CHECK(!views.empty()) << "random init: no views";
  GLIMPSE_CHECK(count >= 1) << "random init: count must be >= 1, got " << count;
  GLIMPSE_CHECK(std::isfinite(near) && std::isfinite(far) && near > 0 && far > near)
      << "random init: need 0 < near < far, got " << near << ", " << far;
  GLIMPSE_CHECK(opacity > 0.0f && opacity < 1.0f)
      << "random init: opacity must be in (0, 1), got " << opacity;
  GLIMPSE_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree)
      << "random init: SH degree must be in 0.." << kMaxShDegree << ", got " << sh_degree;
  double pixels = 0.0;
  for (const View& v : views) {
    GLIMPSE_CHECK(v.image.width() == v.camera.width && v.image.height() == v.camera.height &&
                  v.image.channels() == 3)
        << "random init: view " << v.name << " needs a loaded RGB image of its camera's size";
    pixels += static_cast<double>(v.camera.width) * v.camera.height;
  }
  // Each Gaussian covers about this many pixels of the views' screens together.
  const double side_pixels = std::sqrt(pixels / count);
  std::mt19937_64 rng(seed);
  Gaussians g;
  g.sh_degree = sh_degree;
  g.resize(static_cast<size_t>(count));
  const int k_count = g.sh_coeffs();
  const float logit = std::log(opacity / (1.0f - opacity));
  std::fill(g.sh.begin(), g.sh.end(), 0.0f);
  for (int i = 0; i < count; ++i) {
    const View& view = views[rng() % views.size()];
    const Camera& cam = view.camera;
    const double u = uniform01(rng) * cam.width, v = uniform01(rng) * cam.height;
    const double disparity = 1.0 / far + uniform01(rng) * (1.0 / near - 1.0 / far);
    const double z = 1.0 / disparity;
    const Vec3<double> p_in_cam{(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z};
    const Vec3<double> p_in_world = mul_transposed(cam.rotation, p_in_cam - cam.translation);
    const int px = std::min(static_cast<int>(u), cam.width - 1);
    const int py = std::min(static_cast<int>(v), cam.height - 1);
    const float log_sigma =
        static_cast<float>(std::log(side_pixels * z / std::sqrt(cam.fx * cam.fy)));
    for (int c = 0; c < 3; ++c) {
      g.means[3 * i + c] = static_cast<float>(p_in_world[c]);
      g.log_scales[3 * i + c] = log_sigma;
      g.sh[static_cast<size_t>(i) * k_count * 3 + c] =
          static_cast<float>((view.image.at(px, py, c) - 0.5) / kShC0);
    }
    g.quats[4 * i + 0] = 1.0f;
    g.quats[4 * i + 1] = g.quats[4 * i + 2] = g.quats[4 * i + 3] = 0.0f;
    g.opacity_logits[i] = logit;
  }
  g.check("random init");
  return g;
}

}  // namespace glimpse
