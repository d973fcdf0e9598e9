// The viewer's window-free logic: training-view limits, exact snapping, orbit and fly round
// trips, the crop box, curves, log, retry backoff, presets and the screenshot statistics.
#include "app/viewer/ui_state.h"

#include "tests/app/fake_session_client.h"

#include <gtest/gtest.h>

#include <cmath>

namespace glimpse::viewer {
namespace {

using glimpse::testing::make_fake_scene;

SessionScene scene_with(int n, std::vector<int> train) {
  SessionScene s;
  for (int i = 0; i < n; ++i) {
    SessionView v;
    v.index = i;
    v.name = std::to_string(i).insert(0, 1, 'v');  // ("v" + s: GCC 12's false -Wrestrict)
    v.train = std::find(train.begin(), train.end(), i) != train.end();
    v.test = !v.train;
    s.views.push_back(v);
  }
  return s;
}

void expect_pose_near(const NavCamera& a, const NavCamera& b, double tol) {
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(a.position()[r], b.position()[r], tol);
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(a.world_from_cam()[r][c], b.world_from_cam()[r][c], tol);
  }
}

TEST(ViewSelection, StartsFromTheSplitAndKeepsThreeToNine) {
  ViewSelection s;
  s.reset(scene_with(12, {1, 4, 9}));
  EXPECT_EQ(s.views(), (std::vector<int>{1, 4, 9}));
  EXPECT_EQ(s.problem(), "");
  EXPECT_EQ(s.toggle(4), "");  // drop
  EXPECT_FALSE(s.selected(4));
  EXPECT_EQ(s.problem(), "pick 1 more training view (3 to 9)");
  for (int v : {0, 2, 3, 5, 6, 7, 8}) EXPECT_EQ(s.toggle(v), "") << v;
  EXPECT_EQ(s.views().size(), 9u);
  EXPECT_EQ(s.toggle(10), "at most 9 training views: drop one first");
  EXPECT_FALSE(s.selected(10));
  EXPECT_EQ(s.problem(), "");
  EXPECT_EQ(s.views(), (std::vector<int>{0, 1, 2, 3, 5, 6, 7, 8, 9}));  // ascending
  EXPECT_EQ(s.toggle(12), "view 12 does not exist (the scene has 12)");
  EXPECT_EQ(s.toggle(-1), "view -1 does not exist (the scene has 12)");
}

TEST(ViewSelection, AtMostNineFromTheSplitAndTooSmallScenes) {
  ViewSelection s;
  s.reset(scene_with(20, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(s.views().size(), 9u);
  s.reset(scene_with(2, {0, 1}));
  EXPECT_EQ(s.problem(), "the scene has 2 views; a run needs at least 3");
  s.reset(scene_with(5, {}));
  EXPECT_EQ(s.problem(), "pick 3 more training views (3 to 9)");
}

TEST(NavCamera, SnapGivesTheViewsExactCamera) {
  const SessionScene scene = make_fake_scene(3);
  for (const SessionView& v : scene.views) {
    NavCamera nav;
    nav.snap_to(v.camera, 2.5);
    EXPECT_TRUE(nav.at_snapped_pose());
    const Camera c = nav.camera(v.camera.width, v.camera.height);
    for (int r = 0; r < 3; ++r) {
      EXPECT_EQ(c.translation[r], v.camera.translation[r]);
      for (int k = 0; k < 3; ++k) EXPECT_EQ(c.rotation[r][k], v.camera.rotation[r][k]);
    }
    EXPECT_EQ(c.fx, v.camera.fx);
    EXPECT_EQ(c.fy, v.camera.fy);
    EXPECT_EQ(c.cx, v.camera.cx);
    EXPECT_EQ(c.cy, v.camera.cy);
    EXPECT_NEAR(nav.distance(), 2.5, 0);
    // Another viewport: the same pose, the lens scaled so that the whole image fits, centred.
    const Camera big = nav.camera(3 * v.camera.width, 4 * v.camera.height);
    EXPECT_EQ(big.translation.x, v.camera.translation.x);
    EXPECT_DOUBLE_EQ(big.fx, 3 * v.camera.fx);
    EXPECT_DOUBLE_EQ(big.fy, 3 * v.camera.fy);
    EXPECT_NEAR(big.cx - 1.5 * v.camera.width, 3 * (v.camera.cx - 0.5 * v.camera.width), 1e-12);
    EXPECT_NEAR(big.cy - 2.0 * v.camera.height, 3 * (v.camera.cy - 0.5 * v.camera.height), 1e-12);
  }
}

TEST(NavCamera, OrbitRoundTripsAndKeepsTheTarget) {
  const SessionScene scene = make_fake_scene(3);
  NavCamera nav;
  nav.set_up(up_from_cameras({scene.views[0].camera, scene.views[1].camera}));
  nav.snap_to(scene.views[1].camera, 4.0);
  const NavCamera start = nav;
  const Vec3<double> target = nav.target();
  nav.orbit(0.7, 0);
  EXPECT_FALSE(nav.at_snapped_pose());
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(nav.target()[a], target[a], 1e-12);
  EXPECT_NEAR(nav.distance(), 4.0, 1e-12);
  nav.orbit(-0.7, 0);
  expect_pose_near(nav, start, 1e-12);
  nav.orbit(0, 0.3);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(nav.target()[a], target[a], 1e-12);
  EXPECT_NEAR(nav.elevation(), start.elevation() - 0.3, 1e-9);
  nav.orbit(0, -0.3);
  expect_pose_near(nav, start, 1e-12);
  // Many small steps and their reverse, in reverse order.
  for (int i = 0; i < 50; ++i) nav.orbit(0.01 * i, 0.002);
  for (int i = 49; i >= 0; --i) nav.orbit(0, -0.002), nav.orbit(-0.01 * i, 0);
  expect_pose_near(nav, start, 1e-10);
  // After a round trip the camera matrix is again that of the view (up to rounding).
  const Camera c = nav.camera(scene.views[1].camera.width, scene.views[1].camera.height);
  for (int r = 0; r < 3; ++r)
    EXPECT_NEAR(c.translation[r], scene.views[1].camera.translation[r], 1e-10);
}

TEST(NavCamera, OrbitStopsShortOfThePolesAndKeepsRoll) {
  NavCamera nav;
  nav.look_at({0, 0, -3}, {0, 0, 0});
  EXPECT_NEAR(nav.elevation(), 0, 1e-12);
  nav.orbit(0, 10.0);  // far past the pole
  EXPECT_NEAR(nav.elevation(), -NavCamera::kMaxElevation, 1e-9);
  nav.orbit(0, -20.0);
  EXPECT_NEAR(nav.elevation(), NavCamera::kMaxElevation, 1e-9);
  EXPECT_NEAR(norm(nav.target()), 0, 1e-12);

  // A rolled camera keeps its roll (the angle between its x axis and the up direction).
  NavCamera rolled;
  Camera c;
  c.width = 100, c.height = 80, c.fx = c.fy = 90, c.cx = 50, c.cy = 40;
  c.rotation = axis_angle_rotation({0, 0, 1}, 0.2);  // roll about the viewing axis
  c.translation = {0, 0, 3};
  rolled.snap_to(c, 3);
  const double before = dot(rolled.right(), rolled.up());
  rolled.orbit(0.5, 0.2);
  rolled.orbit(-1.1, -0.4);
  EXPECT_NEAR(dot(rolled.right(), rolled.up()), before, 1e-12);
}

TEST(NavCamera, LookAtCentresTheTargetAndLooksLevel) {
  NavCamera nav;
  nav.look_at({1, -2, -5}, {0.5, 0.25, 1});
  const Camera c = nav.camera(640, 480);
  const Vec3<double> p = c.cam_from_world({0.5, 0.25, 1});
  EXPECT_NEAR(c.fx * p.x / p.z + c.cx, 320, 1e-9);
  EXPECT_NEAR(c.fy * p.y / p.z + c.cy, 240, 1e-9);
  EXPECT_NEAR(dot(nav.right(), nav.up()), 0, 1e-12);  // no roll
  // Default up is -y (OpenCV): the camera's y axis (image down) points along world +y.
  EXPECT_GT(c.rotation[1][1], 0.9);
  EXPECT_NEAR(c.fy, 240 / std::tan(25 * M_PI / 180), 1e-9);
}

TEST(NavCamera, FlyLookMovePanDolly) {
  NavCamera nav;
  nav.look_at({0, 0, -4}, {0, 0, 0});
  const Vec3<double> eye = nav.position();
  nav.look(0.3, 0.1);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(nav.position()[a], eye[a], 1e-12);
  nav.look(0, -0.1);
  nav.look(-0.3, 0);
  EXPECT_NEAR(nav.forward().z, 1, 1e-12);
  nav.move({0, 0, 1});  // one unit forward
  EXPECT_NEAR(nav.position().z, -3, 1e-12);
  EXPECT_NEAR(nav.target().z, 1, 1e-12);  // the target moves along
  nav.dolly(0.5);
  EXPECT_NEAR(nav.distance(), 2, 1e-12);
  EXPECT_NEAR(nav.position().z, -1, 1e-12);
  EXPECT_NEAR(nav.target().z, 1, 1e-12);
  // Dragging right by f pixels at distance d moves the camera left by d.
  nav.pan(100, 0, 100);
  EXPECT_NEAR(nav.position().x, -2, 1e-12);
}

TEST(NavCamera, UpFromCameras) {
  const SessionScene scene = make_fake_scene(3);
  std::vector<Camera> cameras;
  for (const SessionView& v : scene.views) cameras.push_back(v.camera);
  const Vec3<double> up = up_from_cameras(cameras);
  EXPECT_NEAR(up.y, -1, 1e-12);  // the fake cameras turn about y
  EXPECT_NEAR(up_from_cameras({}).y, -1, 0);
  const Mat3<double> r = axis_angle_rotation({0, 0, 1}, M_PI / 2);
  Camera c;
  c.rotation = r.transposed();  // world_from_cam = r: camera y is world -x
  const Vec3<double> u = up_from_cameras({c});
  EXPECT_NEAR(u.x, 1, 1e-12);
}

TEST(Framing, PointsFrameAndMedianDepth) {
  std::vector<float> means;
  for (int i = 0; i < 101; ++i) means.insert(means.end(), {float(i), 0.f, 10.f});
  means.insert(means.end(), {1e6f, 0.f, 10.f});  // an outlier
  const PointsFrame f = frame_points(means);
  EXPECT_NEAR(f.center.x, 50, 1.5);
  EXPECT_LT(f.radius, 60);
  Camera c;
  c.width = c.height = 10;
  EXPECT_NEAR(median_depth(c, means, -1), 10, 1e-6);
  EXPECT_EQ(median_depth(c, {0, 0, -1}, 7.5), 7.5);  // behind the camera
  EXPECT_EQ(frame_points({}).radius, 1);
}

TEST(CropBox, FitContainsSanitizeExport) {
  std::vector<float> means;
  for (int i = 0; i < 1000; ++i)
    means.insert(means.end(), {float(i % 10), float(i % 7) - 3.f, float(i % 13) * 0.5f});
  CropBox box;
  EXPECT_FALSE(box.export_crop().has_value());
  box.fit(means);
  EXPECT_EQ(box.count_inside(means), 1000);
  EXPECT_LT(box.min[0], 0);
  EXPECT_GT(box.max[0], 9);
  box.enabled = true;
  box.min = {0.5, -10, -10};
  box.max = {2.5, 10, 10};
  EXPECT_EQ(box.count_inside(means), 200);  // x in {1, 2}
  EXPECT_TRUE(box.contains(1, 0, 0));
  EXPECT_FALSE(box.contains(3, 0, 0));
  const std::array<double, 6> crop = *box.export_crop();
  EXPECT_EQ(crop, (std::array<double, 6>{0.5, -10, -10, 2.5, 10, 10}));
  box.min[1] = 12;  // dragged past max
  box.sanitize();
  EXPECT_LT(box.min[1], box.max[1]);
  EXPECT_NEAR(box.min[1], 11, 1e-4);
  EXPECT_EQ(box.edges().size(), 24u);
}

TEST(CurveBuffers, AppendsAndRestarts) {
  CurveBuffers c;
  EXPECT_EQ(c.last_iteration(), -1);
  c.append({{1, 0.5, 10, 100, 3}, {2, 0.4, 11, 110, 4}});
  c.append({{3, 0.3, 12, 120, 5}});
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.last_iteration(), 3);
  EXPECT_FLOAT_EQ(c.loss()[2], 0.3f);
  EXPECT_FLOAT_EQ(c.gaussians()[1], 110.f);
  c.append({{1, 0.9, 5, 50, 1}});  // a new run
  EXPECT_EQ(c.size(), 1u);
  EXPECT_FLOAT_EQ(c.psnr()[0], 5.f);
  const std::vector<float> d = downsample_mean({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5);
  EXPECT_EQ(d, (std::vector<float>{1.5f, 3.5f, 5.5f, 7.5f, 9.5f}));
  EXPECT_EQ(downsample_mean({1, 2}, 5), (std::vector<float>{1, 2}));
}

TEST(LogBuffer, SequencesCapacityAndErrors) {
  LogBuffer log(3);
  log.append({{1, LogLevel::Info, "a"}, {2, LogLevel::Error, "b"}});
  log.append({{2, LogLevel::Error, "b"}, {3, LogLevel::Info, "c"}});  // 2 again: skipped
  EXPECT_EQ(log.entries().size(), 3u);
  EXPECT_EQ(log.last_sequence(), 3u);
  log.add_local(LogLevel::Error, "cannot open x.ply: not a PLY");
  EXPECT_EQ(log.entries().size(), 3u);  // capacity
  EXPECT_EQ(log.entries().front().message, "b");
  EXPECT_EQ(log.entries().back().message, "cannot open x.ply: not a PLY");
  EXPECT_EQ(log.num_errors(), 2u);
  log.restart_sequence();
  log.append({{1, LogLevel::Info, "new session"}});
  EXPECT_EQ(log.entries().back().message, "new session");
}

TEST(RetryBackoff, DoublesUpToTheCapAndResets) {
  RetryBackoff b(1.0, 30.0);
  EXPECT_TRUE(b.connected());
  EXPECT_TRUE(b.due(0));
  EXPECT_EQ(b.message(0), "");
  std::vector<double> delays;
  double t = 100;
  for (int i = 0; i < 8; ++i) {
    b.failed(t);
    delays.push_back(b.delay());
    EXPECT_FALSE(b.due(t + b.delay() - 0.01));
    t += b.delay();
    EXPECT_TRUE(b.due(t));
  }
  EXPECT_EQ(delays, (std::vector<double>{1, 2, 4, 8, 16, 30, 30, 30}));
  b.failed(0);
  EXPECT_EQ(b.message(0), "connection lost, retrying in 30 s");
  EXPECT_EQ(b.message(27.5), "connection lost, retrying in 3 s");
  EXPECT_EQ(b.message(31), "connection lost, retrying now");
  EXPECT_EQ(b.failures(), 9);
  b.succeeded();
  EXPECT_TRUE(b.connected());
  b.failed(0);
  EXPECT_EQ(b.delay(), 1);
}

TEST(PriorsPresets, ApplyAndRefuse) {
  TrainConfig config;
  ASSERT_GE(priors_preset_names().size(), 4u);
  apply_priors_preset(1, config);
  EXPECT_EQ(config.priors.depth_source, DepthSource::None);
  EXPECT_FALSE(config.priors.uses_depth());
  apply_priors_preset(2, config);
  EXPECT_FLOAT_EQ(config.priors.depth.pearson_weight, 0.05f);
  apply_priors_preset(3, config);
  EXPECT_FLOAT_EQ(config.priors.depth.ranking_weight, 0.5f);
  EXPECT_FLOAT_EQ(config.priors.depth.pearson_weight, 0.f);
  apply_priors_preset(4, config);  // the ablation's "all" row
  EXPECT_FLOAT_EQ(config.priors.depth.ranking_weight, 0.5f);
  EXPECT_FLOAT_EQ(config.priors.depth.pearson_weight, 0.05f);
  EXPECT_FLOAT_EQ(config.priors.warp.weight, 0.1f);
  EXPECT_THROW(apply_priors_preset(99, config), Error);
}

TEST(Statistics, FrameTimesAndImages) {
  const FrameTimeSummary s = summarize_frame_times({4, 1, 3, 2});
  EXPECT_EQ(s.frames, 4u);
  EXPECT_DOUBLE_EQ(s.mean_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.median_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 4);
  EXPECT_DOUBLE_EQ(s.p95_ms, 4);
  EXPECT_EQ(summarize_frame_times({}).frames, 0u);

  Image<uint8_t> flat(8, 8, 3, 77), checker(8, 8, 3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c) checker.at(x, y, c) = (x + y) % 2 ? 200 : 0;
  EXPECT_EQ(pixel_variance(flat), 0);
  EXPECT_DOUBLE_EQ(pixel_variance(checker), 100.0 * 100.0);
  EXPECT_DOUBLE_EQ(mean_abs_difference(flat, flat), 0);
  EXPECT_DOUBLE_EQ(mean_abs_difference(checker, Image<uint8_t>(8, 8, 3)), 100);
  EXPECT_THROW(mean_abs_difference(flat, Image<uint8_t>(4, 8, 3)), Error);
}

}  // namespace
}  // namespace glimpse::viewer
