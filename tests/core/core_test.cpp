// core: checks and error messages, camera validation, thread pool, math helpers.
#include "core/camera.h"
#include "core/check.h"
#include "core/dataset.h"
#include "core/image.h"
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <numeric>

namespace glimpse {
namespace {

TEST(Check, ThrowsWithLocationAndMessageWithoutTheCondition) {
  try {
    const int x = 3;
    GLIMPSE_CHECK(x > 5) << "x is " << x;
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("core_test.cpp:"), std::string::npos) << what;
    // The condition is code: the message is the words only.
    EXPECT_EQ(error_message_without_location(what), "x is 3") << what;
  }
  EXPECT_NO_THROW(GLIMPSE_CHECK(1 + 1 == 2) << "never");
  try {
    GLIMPSE_CHECK_EQ(1, 2) << "counts differ";
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(error_message_without_location(e.what()), "counts differ (1 vs 2)");
  }
  try {
    const bool invariant = false;
    GLIMPSE_CHECK(invariant);  // no message: an internal invariant, the condition is shown
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(error_message_without_location(e.what()), "internal error: check failed (invariant)");
  }
  EXPECT_THROW(GLIMPSE_FAIL() << "always", Error);
}

Camera valid_camera() {
  Camera c;
  c.width = 64, c.height = 48, c.fx = c.fy = 50, c.cx = 32, c.cy = 24;
  return c;
}

TEST(Camera, FieldOfViewLimits) {
  // 64 px wide: 2 px focal (172 degrees), 1e12 px (3.7e-9 degrees), a denormal focal length.
  for (const double f : {2.0, 1e12, 4e-310}) {
    Camera c = valid_camera();
    c.fx = c.fy = f;
    try {
      check_camera(c, "cameras.txt camera 3");
      FAIL() << "no error for focal " << f;
    } catch (const Error& e) {
      const std::string what = error_message_without_location(e.what());
      EXPECT_EQ(what.rfind("cameras.txt camera 3: field of view", 0), 0u) << what;
      EXPECT_NE(what.find("is the focal length in pixels"), std::string::npos) << what;
    }
  }
  // Wide-angle and telephoto cameras within the limits pass.
  Camera wide = valid_camera();
  wide.fx = wide.fy = 32 / std::tan(75 * M_PI / 180);  // 150 degrees
  EXPECT_NO_THROW(check_camera(wide, "wide"));
  Camera tele = valid_camera();
  tele.fx = tele.fy = 32 / std::tan(0.1 * M_PI / 180);  // 0.2 degrees
  EXPECT_NO_THROW(check_camera(tele, "tele"));
  Camera stretched = valid_camera();
  stretched.fy = stretched.fx * 20;
  EXPECT_THROW(check_camera(stretched, "stretched"), Error);
}

TEST(Camera, CheckRejectsBadCameras) {
  EXPECT_NO_THROW(check_camera(valid_camera(), "cam"));
  Camera c = valid_camera();
  c.fx = NAN;
  EXPECT_THROW(check_camera(c, "cam"), Error);
  c = valid_camera();
  c.height = 0;
  EXPECT_THROW(check_camera(c, "cam"), Error);
  c = valid_camera();
  c.rotation.m[0][0] = 2;  // not orthonormal
  EXPECT_THROW(check_camera(c, "cam"), Error);
  c = valid_camera();
  c.rotation.m[2][2] = -1;  // reflection
  try {
    check_camera(c, "view 7");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("view 7"), std::string::npos);
  }
  c = valid_camera();
  c.translation.y = INFINITY;
  EXPECT_THROW(check_camera(c, "cam"), Error);
}

TEST(Camera, CentreAndScaling) {
  Camera c = valid_camera();
  c.rotation = quat_to_rotmat(Quat<double>{0.9 / std::sqrt(0.95), 0.1 / std::sqrt(0.95),
                                           -0.3 / std::sqrt(0.95), 0.2 / std::sqrt(0.95)});
  c.translation = {1, 2, 3};
  const Vec3<double> p = c.cam_from_world(c.center());
  EXPECT_NEAR(norm(p), 0.0, 1e-12);
  const Camera s = scaled_camera(c, 0.5, 0.25, 32, 12);
  EXPECT_DOUBLE_EQ(s.fx, 25);
  EXPECT_DOUBLE_EQ(s.cy, 6);
  EXPECT_EQ(s.width, 32);
}

TEST(ThreadPool, CoversEveryIndexOnceAndUsesThreadIds) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    std::vector<std::atomic<int>> hits(10007);
    std::atomic<int> max_thread{0};
    pool.parallel_for(10007, 64, [&](int64_t b, int64_t e, int t) {
      int m = max_thread.load();
      while (t > m && !max_thread.compare_exchange_weak(m, t)) {
      }
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    EXPECT_LT(max_thread.load(), threads);
  }
}

TEST(ThreadPool, PropagatesExceptionsAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(1000, 1,
                                 [](int64_t b, int64_t, int) {
                                   if (b == 500) GLIMPSE_FAIL() << "boom";
                                 }),
               Error);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(100, 7, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(ThreadPool, NestedCallsRunSerially) {
  ThreadPool pool(2);
  std::atomic<int> count{0};
  pool.parallel_for(4, 1, [&](int64_t, int64_t, int) {
    pool.parallel_for(10, 1, [&](int64_t b, int64_t e, int) { count += static_cast<int>(e - b); });
  });
  EXPECT_EQ(count.load(), 40);
}

TEST(Image, ShapeAndAccess) {
  Image<float> img(4, 3, 3, 0.5f);
  EXPECT_EQ(img.size(), 36u);
  img.at(3, 2, 1) = 1.f;
  EXPECT_EQ(img.data()[(2 * 4 + 3) * 3 + 1], 1.f);
  EXPECT_THROW(Image<float>(-1, 3, 3), Error);
}

// A camera at `position` looking at `target` (OpenCV frame, world y up -> image y down).
View looking_at(const Vec3<double>& position, const Vec3<double>& target) {
  const Vec3<double> dz = target - position;
  const Vec3<double> z = dz * (1.0 / norm(dz));
  const Vec3<double> dx = cross(z, Vec3<double>(0, -1, 0));
  const Vec3<double> x = dx * (1.0 / norm(dx));
  const Vec3<double> y = cross(z, x);
  View v;
  v.camera.width = 8;
  v.camera.height = 6;
  v.camera.fx = v.camera.fy = 8;
  v.camera.cx = 4;
  v.camera.cy = 3;
  for (int c = 0; c < 3; ++c) {
    v.camera.rotation.m[0][c] = x[c];
    v.camera.rotation.m[1][c] = y[c];
    v.camera.rotation.m[2][c] = z[c];
  }
  v.camera.translation = -(v.camera.rotation * position);
  return v;
}

TEST(Dataset, DepthBoundsFromCamerasOnARing) {
  // Blender-like: cameras at distance 4 around (1, 2, 3) -> near 2, far 6.
  const Vec3<double> target(1, 2, 3);
  std::vector<View> views;
  for (int i = 0; i < 5; ++i) {
    const double a = 0.9 * i, e = 0.3 + 0.1 * i;
    views.push_back(looking_at(
        target +
            Vec3<double>(std::cos(a) * std::cos(e), std::sin(e), std::sin(a) * std::cos(e)) * 4.0,
        target));
  }
  Vec3<double> center;
  ASSERT_TRUE(optical_axes_center(views, center));
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(center[c], target[c], 1e-9);
  double near = 0, far = 0;
  ASSERT_TRUE(estimate_depth_bounds_from_cameras(views, near, far));
  EXPECT_NEAR(near, 2.0, 1e-9);
  EXPECT_NEAR(far, 6.0, 1e-9);

  // Parallel axes (a forward-facing line of cameras) or one view: no centre, bounds untouched.
  std::vector<View> line = {looking_at({0, 0, 0}, {0, 0, 5}), looking_at({1, 0, 0}, {1, 0, 5})};
  near = far = -1;
  EXPECT_FALSE(estimate_depth_bounds_from_cameras(line, near, far));
  EXPECT_EQ(near, -1);
  EXPECT_FALSE(optical_axes_center({views[0]}, center));
  // Axes that meet behind the cameras (looking away from each other).
  std::vector<View> away = {looking_at({0, 0, 0}, {-1, 0, 1}), looking_at({1, 0, 0}, {2, 0, 1})};
  EXPECT_FALSE(estimate_depth_bounds_from_cameras(away, near, far));
}

TEST(Dataset, SplitOverlapAndDuplicatesAreRefused) {
  Dataset d;
  d.near_depth = 1.0;
  d.far_depth = 10.0;
  for (int i = 0; i < 3; ++i) {
    View v;
    v.name = "v" + std::to_string(i) + ".png";
    v.camera.width = 4;
    v.camera.height = 3;
    v.image = Image<float>(4, 3, 3, 0.5f);
    d.views.push_back(v);
  }
  d.train_ids = {0, 1};
  d.test_ids = {2};
  EXPECT_NO_THROW(check_dataset_for_rendering(d, "scene", "train"));
  d.test_ids = {1};
  try {
    check_dataset_for_rendering(d, "scene", "train");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("view v1.png is both a training and a test view"),
              std::string::npos)
        << e.what();
  }
  d.test_ids = {2, 2};
  try {
    check_dataset_for_rendering(d, "scene", "train");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("view v2.png is listed twice in the test split"),
              std::string::npos)
        << e.what();
  }
  d.test_ids = {3};
  EXPECT_THROW(check_dataset_for_rendering(d, "scene", "train"), Error);
}

}  // namespace
}  // namespace glimpse
