// Point initialiser: the grid k-nearest-neighbour distances equal a brute-force search, Gaussians
// take the points' positions and colours with 3DGS's neighbour scales (clamped around the
// median), thinning is deterministic, and bad clouds are refused.
#include "priors/point_init.h"

#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace glimpse {
namespace {

std::vector<float> brute_force(const std::vector<float>& p, int k) {
  const size_t n = p.size() / 3;
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> d;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      float s = 0;
      for (int a = 0; a < 3; ++a)
        s += (p[3 * i + a] - p[3 * j + a]) * (p[3 * i + a] - p[3 * j + a]);
      d.push_back(s);
    }
    std::sort(d.begin(), d.end());
    const size_t m = std::min<size_t>(k, d.size());
    double sum = 0;
    for (size_t j = 0; j < m; ++j) sum += d[j];
    out[i] = m ? static_cast<float>(sum / m) : 0.0f;
  }
  return out;
}

TEST(PointInit, GridKnnMatchesBruteForceOnSurfacesClustersAndOutliers) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> p;
  for (int i = 0; i < 600; ++i) p.insert(p.end(), {u(rng), u(rng), 0.01f * u(rng)});  // a plane
  for (int i = 0; i < 200; ++i)  // a dense cluster
    p.insert(p.end(), {3 + 0.01f * u(rng), 0.01f * u(rng), 0.01f * u(rng)});
  p.insert(p.end(), {40.f, -30.f, 12.f});  // a far outlier
  p.insert(p.end(), {0.5f, 0.5f, 0.0f});   // duplicates
  p.insert(p.end(), {0.5f, 0.5f, 0.0f});
  for (int k : {1, 3, 8}) {
    const std::vector<float> grid = mean_sq_knn_distance(p, k);
    const std::vector<float> brute = brute_force(p, k);
    ASSERT_EQ(grid.size(), brute.size());
    for (size_t i = 0; i < grid.size(); ++i)
      ASSERT_NEAR(grid[i], brute[i], 1e-6f * std::max(1.0f, brute[i]))
          << "point " << i << " k " << k;
  }
  EXPECT_EQ(mean_sq_knn_distance({1, 2, 3}, 3), std::vector<float>{0.0f});
  EXPECT_EQ(mean_sq_knn_distance({1, 2, 3, 1, 2, 3}, 3), (std::vector<float>{0.0f, 0.0f}));
}

TEST(PointInit, GaussiansTakePositionsColoursAndClampedNeighbourScales) {
  PointCloud cloud;
  // A 10 x 10 grid of spacing 0.1 and one isolated point far away.
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) cloud.add(0.1f * x, 0.1f * y, 2.0f, 0.1f * x, 0.5f, 0.9f);
  cloud.add(50.f, 0.f, 2.f, 1.f, 0.f, 0.f);
  PointInitOptions options;
  options.opacity = 0.2f;
  options.max_scale_ratio = 5.0f;
  const Gaussians g = gaussians_from_points(cloud, options, 2);
  ASSERT_EQ(g.size(), cloud.size());
  EXPECT_EQ(g.sh_degree, 2);
  EXPECT_EQ(g.means, cloud.positions);
  const int k = g.sh_coeffs();
  for (size_t i = 0; i < g.size(); ++i) {
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(kShC0 * g.sh[i * k * 3 + c] + 0.5, cloud.colors[3 * i + c], 1e-6);
    for (int j = 3; j < 3 * k; ++j) EXPECT_EQ(g.sh[i * k * 3 + j], 0.0f);
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-g.opacity_logits[i])), 0.2, 1e-6);
    EXPECT_EQ(g.log_scales[3 * i], g.log_scales[3 * i + 1]);
    EXPECT_EQ(g.quats[4 * i], 1.0f);
  }
  // An interior grid point: 4 neighbours at 0.1, so the 3 nearest are at 0.1.
  EXPECT_NEAR(std::exp(g.log_scales[3 * 55]), 0.1, 1e-5);
  // A corner point: neighbours at 0.1, 0.1, 0.1414: sqrt((0.01 + 0.01 + 0.02) / 3).
  EXPECT_NEAR(std::exp(g.log_scales[0]), std::sqrt(0.04 / 3), 1e-5);
  // The isolated point is clamped to 5x the median scale (0.1).
  EXPECT_NEAR(std::exp(g.log_scales[3 * 100]), 0.5, 1e-5);
}

TEST(PointInit, ThinningIsDeterministicAndBounded) {
  PointCloud cloud;
  for (int i = 0; i < 1000; ++i) cloud.add(0.01f * i, std::sin(0.1f * i), 1.0f, 0.5f, 0.5f, 0.5f);
  PointInitOptions options;
  options.max_points = 300;
  const Gaussians a = gaussians_from_points(cloud, options, 0);
  const Gaussians b = gaussians_from_points(cloud, options, 0);
  EXPECT_EQ(a.size(), 300u);
  EXPECT_EQ(a.means, b.means);
  EXPECT_EQ(a.log_scales, b.log_scales);
}

TEST(PointInit, RefusesEmptyAndInvalidClouds) {
  PointCloud empty;
  EXPECT_THROW(gaussians_from_points(empty, {}, 0), Error);
  PointCloud nan;
  nan.add(0.f, std::nanf(""), 1.f, 0.5f, 0.5f, 0.5f);
  EXPECT_THROW(gaussians_from_points(nan, {}, 0), Error);
  PointCloud ok;
  ok.add(0.f, 0.f, 1.f, 0.5f, 0.5f, 0.5f);
  PointInitOptions bad;
  bad.opacity = 1.0f;
  EXPECT_THROW(gaussians_from_points(ok, bad, 0), Error);
  EXPECT_THROW(gaussians_from_points(ok, {}, 4), Error);
}

}  // namespace
}  // namespace glimpse
