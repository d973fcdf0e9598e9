// The splat display's depth sorter: back-to-front order against std::stable_sort, ties, the
// thread's latest-request and generation rules.
#include "app/viewer/depth_sorter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>

namespace glimpse::viewer {
namespace {

std::vector<uint32_t> reference_order(const std::vector<float>& means, const Vec3<float>& eye,
                                      const Vec3<float>& f) {
  const size_t n = means.size() / 3;
  std::vector<float> depth(n);
  for (size_t i = 0; i < n; ++i)
    depth[i] = (means[3 * i] - eye.x) * f.x + (means[3 * i + 1] - eye.y) * f.y +
               (means[3 * i + 2] - eye.z) * f.z;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return depth[a] > depth[b]; });
  return order;
}

std::vector<float> random_points(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-50.f, 50.f);
  std::vector<float> m(3 * n);
  for (float& v : m) v = u(rng);
  return m;
}

TEST(SortBackToFront, MatchesAStableSortByDecreasingDepth) {
  std::vector<uint32_t> order, keys, scratch;
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{5000}, size_t{100000}}) {
    const std::vector<float> m = random_points(n, static_cast<uint32_t>(n));
    const Vec3<float> eye{1.f, -2.f, -60.f};
    const Vec3<float> f{0.f, 0.6f, 0.8f};
    sort_back_to_front(m.data(), n, eye, f, order, keys, scratch);
    EXPECT_EQ(order, reference_order(m, eye, f)) << n;
  }
}

TEST(SortBackToFront, TiesKeepIndexOrderAndBehindTheCameraComesLast) {
  // Depths 5, -1, 5, 0, 10 (negative: behind the camera, drawn last and culled by the shader).
  const std::vector<float> m = {0, 0, 5, 0, 0, -1, 3, 3, 5, 0, 0, 0, 0, 0, 10};
  std::vector<uint32_t> order, keys, scratch;
  sort_back_to_front(m.data(), 5, {0, 0, 0}, {0, 0, 1}, order, keys, scratch);
  EXPECT_EQ(order, (std::vector<uint32_t>{4, 0, 2, 3, 1}));
}

TEST(DepthSorter, SortsOnItsThreadForTheNewestRequest) {
  DepthSorter sorter;
  EXPECT_EQ(sorter.take(), nullptr);
  auto m = std::make_shared<std::vector<float>>(random_points(20000, 3));
  sorter.request({0, 0, -100}, {0, 0, 1});  // before any points: waits for them
  sorter.wait_idle();
  EXPECT_EQ(sorter.take(), nullptr);
  sorter.set_points(m, 1);
  sorter.request({0, 0, -100}, {1, 0, 0});
  sorter.request({0, 0, -100}, {0, 1, 0});
  sorter.wait_idle();
  const std::shared_ptr<const DepthSorter::Result> r = sorter.take();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->generation, 1u);
  EXPECT_EQ(r->forward.y, 1.f);  // the newest request wins (the older may or may not have run)
  EXPECT_EQ(r->order, reference_order(*m, {0, 0, -100}, {0, 1, 0}));
  EXPECT_EQ(sorter.take(), nullptr);  // taken once

  // A finished order for old points is dropped when new points arrive.
  sorter.request({0, 0, 0}, {0, 0, 1});
  sorter.wait_idle();
  sorter.set_points(std::make_shared<std::vector<float>>(random_points(10, 4)), 2);
  EXPECT_EQ(sorter.take(), nullptr);
  sorter.request({0, 0, 0}, {0, 0, 1});
  sorter.wait_idle();
  const std::shared_ptr<const DepthSorter::Result> r2 = sorter.take();
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->generation, 2u);
  EXPECT_EQ(r2->order.size(), 10u);
}

}  // namespace
}  // namespace glimpse::viewer
