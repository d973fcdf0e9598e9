// Mesh previews' cameras: the target on the optical axis at the vertices' median depth, and a
// camera turned about it keeps the target where it was in the image, its distance, an orthonormal
// rotation, and has moved by the angle asked; a flat square seen from the side shows as a sliver.
#include "mesh/mesh_preview.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace glimpse {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A 64x48 camera of focal length f with rotation q (normalised here) and centre c.
Camera make_camera(double f, Quat<double> q, const Vec3<double>& centre) {
  Camera cam;
  cam.width = 64;
  cam.height = 48;
  cam.fx = cam.fy = f;
  cam.cx = 32;
  cam.cy = 24;
  const double n = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  cam.rotation = quat_to_rotmat(Quat<double>(q.w / n, q.x / n, q.y / n, q.z / n));
  cam.translation = cam.rotation * (Vec3<double>{0, 0, 0} - centre);
  return cam;
}

// At (0.3, -0.2, -4), looking roughly at the origin, slightly rolled.
Camera test_camera() {
  return make_camera(60, Quat<double>(0.995, 0.03, -0.05, 0.08), {0.3, -0.2, -4});
}

// A square of side 2 in the plane z = 0 (two triangles), facing -z.
Mesh square() {
  Mesh m;
  m.vertices = {-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0};
  m.triangles = {0, 1, 2, 0, 2, 3};
  return m;
}

Vec2<double> project(const Camera& c, const Vec3<double>& p) {
  const Vec3<double> q = c.cam_from_world(p);
  return {c.fx * q.x / q.z + c.cx, c.fy * q.y / q.z + c.cy};
}

TEST(MeshPreview, TargetLiesOnTheOpticalAxisAtTheMedianDepth) {
  const Camera c = test_camera();
  const Mesh m = square();
  const Vec3<double> target = preview_target(m, c);
  const Vec3<double> in_cam = c.cam_from_world(target);
  EXPECT_NEAR(in_cam.x, 0.0, 1e-12);
  EXPECT_NEAR(in_cam.y, 0.0, 1e-12);
  // Median of the four corners' depths (upper median of an even count).
  std::vector<double> z;
  for (int i = 0; i < 4; ++i)
    z.push_back(c.cam_from_world({m.vertices[3 * i], m.vertices[3 * i + 1], 0.0}).z);
  std::sort(z.begin(), z.end());
  EXPECT_NEAR(in_cam.z, z[2], 1e-12);
  // Nothing in front: one unit ahead.
  Mesh behind = square();
  for (size_t i = 2; i < behind.vertices.size(); i += 3) behind.vertices[i] = -10.0f;
  EXPECT_NEAR(c.cam_from_world(preview_target(behind, c)).z, 1.0, 1e-12);
}

TEST(MeshPreview, OrbitKeepsTheTargetAndTurnsByTheAngle) {
  const Camera c = test_camera();
  const Vec3<double> target{0.1, -0.05, 0.2};
  for (double degrees : {-40.0, -25.0, 10.0, 25.0, 90.0}) {
    const double angle = degrees * kPi / 180.0;
    const Camera o = orbit_camera(c, target, angle);
    EXPECT_EQ(o.width, c.width);
    EXPECT_EQ(o.fx, c.fx);
    // Orthonormal, right-handed.
    const Mat3<double> rrt = o.rotation * o.rotation.transposed();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(rrt.m[i][j], i == j ? 1.0 : 0.0, 1e-12);
    EXPECT_NEAR(o.rotation.det(), 1.0, 1e-12);
    // The target stays where the camera saw it, at the same distance.
    const Vec2<double> before = project(c, target), after = project(o, target);
    EXPECT_NEAR(after.x, before.x, 1e-9) << degrees;
    EXPECT_NEAR(after.y, before.y, 1e-9) << degrees;
    EXPECT_NEAR(norm(o.center() - target), norm(c.center() - target), 1e-12);
    // The centre moved about the target by the angle, about the camera's y axis: along that
    // axis not at all, across it by the angle.
    const Vec3<double> up = mul_transposed(c.rotation, Vec3<double>{0, 1, 0});
    const Vec3<double> a = c.center() - target, b = o.center() - target;
    EXPECT_NEAR(dot(b - a, up), 0.0, 1e-12);
    const Vec3<double> a_flat = a - up * dot(a, up), b_flat = b - up * dot(b, up);
    EXPECT_NEAR(
        std::acos(std::clamp(dot(a_flat, b_flat) / (norm(a_flat) * norm(b_flat)), -1.0, 1.0)),
        std::abs(angle), 1e-9)
        << degrees;
    // The camera's own y axis is the same world direction (the turn is about it).
    const Vec3<double> up_after = mul_transposed(o.rotation, Vec3<double>{0, 1, 0});
    EXPECT_NEAR(norm(up_after - up), 0.0, 1e-12);
  }
  // Turning by an angle and back is the identity.
  const Camera back = orbit_camera(orbit_camera(c, target, 0.4), target, -0.4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(back.translation[i], c.translation[i], 1e-12);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(back.rotation.m[i][j], c.rotation.m[i][j], 1e-12);
  }
}

// Count of non-white pixels.
int covered(const Image<float>& im) {
  int n = 0;
  for (int y = 0; y < im.height(); ++y)
    for (int x = 0; x < im.width(); ++x)
      if (im.at(x, y, 0) < 1.0f || im.at(x, y, 1) < 1.0f || im.at(x, y, 2) < 1.0f) ++n;
  return n;
}

TEST(MeshPreview, AFlatSquareSeenFromTheSideCoversLess) {
  const Camera c = make_camera(40, Quat<double>(), {0, 0, -5});  // looking along +z at the square
  const Mesh m = square();
  const Vec3<double> target = preview_target(m, c);
  const int front = covered(render_mesh_preview(m, c, false));
  const int side = covered(render_mesh_preview(m, orbit_camera(c, target, 60 * kPi / 180), false));
  EXPECT_GT(front, 200);
  // cos 60 = 0.5: about half the width (perspective makes it a little more or less).
  EXPECT_LT(side, 0.7 * front);
  EXPECT_GT(side, 0.3 * front);
}

}  // namespace
}  // namespace glimpse
