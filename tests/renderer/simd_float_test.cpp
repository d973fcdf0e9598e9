// Float8 (renderer/cpu/simd_float.h), the 8-lane scalar the CPU backend runs the per-Gaussian
// kernels on: each overload against the scalar function it stands for, lane by lane, and the
// transposing gather against a plain copy.
#include "renderer/cpu/simd_float.h"

#include "renderer/kernels/covariance.h"
#include "renderer/kernels/projection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace glimpse {
namespace {

#if GLIMPSE_HAS_LANES
Float8 lanes(const float* v) { return Float8::load(v); }

TEST(Float8, ExpMatchesStdExpOverTheWholeRange) {
  // exp_value on lanes is exp_blend: log-scales and sigmoid arguments reach it with both signs.
  double worst = 0;
  for (float x0 = -87.f; x0 <= 88.f; x0 += 8 * 0.0173f) {
    float x[8];
    for (int l = 0; l < 8; ++l) x[l] = std::min(88.f, x0 + l * 0.0173f);
    const Float8 y = exp_value(lanes(x));
    for (int l = 0; l < 8; ++l) {
      const double ref = std::exp(double(x[l]));
      worst = std::max(worst, std::abs(double(y[l]) - ref) / ref);
    }
  }
  std::printf("exp_value(Float8): worst relative error on [-87, 88]: %.3e\n", worst);
  EXPECT_LT(worst, 4e-7);
}

TEST(Float8, OverloadsMatchTheScalarTemplatesLaneByLane) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float a[8] = {-2.f, -0.5f, 0.f, 0.25f, 1.f, 3.f, nan, 7.f};
  const float b[8] = {1.f, -0.5f, -1.f, 2.f, 0.5f, 3.5f, 1.f, nan};
  const Float8 va = lanes(a), vb = lanes(b), lo(-1.f), hi(2.f);
  const Float8 mn = min_value(va, vb), mx = max_value(va, vb), cl = clamp_value(va, lo, hi);
  const Float8 sel = select_value(mask_or(va < vb, !(va >= Float8(0.f))), va, vb);
  const Float8 both = select_value(mask_and(va > Float8(-1.f), va <= vb), va, Float8(9.f));
  const Float8 sq = sqrt_value(max_value(va, Float8(0.f)));
  auto same = [](float x, float y) { return (std::isnan(x) && std::isnan(y)) || x == y; };
  for (int l = 0; l < 8; ++l) {
    EXPECT_TRUE(same(mn[l], min_value(a[l], b[l]))) << "lane " << l;
    EXPECT_TRUE(same(mx[l], max_value(a[l], b[l]))) << "lane " << l;
    if (!std::isnan(a[l])) {
      EXPECT_EQ(cl[l], clamp_value(a[l], -1.f, 2.f)) << "lane " << l;
    }
    EXPECT_TRUE(same(sel[l], select_value(a[l] < b[l] || !(a[l] >= 0.f), a[l], b[l])))
        << "lane " << l;
    EXPECT_TRUE(same(both[l], (a[l] > -1.f && a[l] <= b[l]) ? a[l] : 9.f)) << "lane " << l;
    EXPECT_TRUE(same(sq[l], std::sqrt(max_value(a[l], 0.f)))) << "lane " << l;
  }
}

TEST(Float8, KernelOnLanesMatchesKernelPerLane) {
  // The 2D inverse (a mask result and a division) on 8 covariances at once and one at a time.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  float xs[8], ys[8], zs[8];
  for (int l = 0; l < 8; ++l) xs[l] = 2.f + u(rng), ys[l] = u(rng), zs[l] = 1.5f + u(rng);
  ys[3] = 5.f;  // not positive definite
  Vec3<Float8> inv8;
  const Mask8 ok8 = inverse_sym2(Vec3<Float8>{lanes(xs), lanes(ys), lanes(zs)}, inv8);
  for (int l = 0; l < 8; ++l) {
    Vec3<float> inv;
    const bool ok = inverse_sym2(Vec3<float>{xs[l], ys[l], zs[l]}, inv);
    EXPECT_EQ(ok, ok8.m[l] != 0) << "lane " << l;
    // Equal up to rounding (the compiler may contract the determinant into an FMA differently).
    EXPECT_FLOAT_EQ(inv.x, inv8.x[l]) << "lane " << l;
    EXPECT_FLOAT_EQ(inv.y, inv8.y[l]) << "lane " << l;
    EXPECT_FLOAT_EQ(inv.z, inv8.z[l]) << "lane " << l;
  }
}

TEST(Float8, GatherLaneRowsTransposesRecords) {
  // 8 records of 21 values (two 8x8 blocks and 5 single values) at scattered offsets.
  const int count = 21, stride = 30;
  std::vector<float> src(12 * stride);
  for (size_t k = 0; k < src.size(); ++k) src[k] = float(k) * 0.5f;
  const size_t index[8] = {0, 5 * stride, 2 * stride, 11 * stride, 3, 7 * stride, 7 * stride, 40};
  Float8 rows[count];
  gather_lane_rows(src.data(), index, count, rows);
  for (int k = 0; k < count; ++k)
    for (int l = 0; l < 8; ++l) EXPECT_EQ(rows[k][l], src[index[l] + k]) << k << ", " << l;
}
#else
TEST(Float8, Unavailable) { GTEST_SKIP() << "no vector extensions in this compiler"; }
#endif

}  // namespace
}  // namespace glimpse
