// Visual hull: carving the masks of a sphere seen from a ring of cameras gives surface points
// that enclose the sphere tightly, coloured from the images; missing or mis-sized masks and
// masks that do not overlap in 3D are refused with the view named.
#include "priors/visual_hull.h"

#include "tests/support/errors.h"

#include <gtest/gtest.h>

#include <cmath>

namespace glimpse {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A camera at `center` looking at the origin (x right, y down, z forward), 64x48 pixels.
Camera look_at_origin(const Vec3<double>& center) {
  Camera c;
  c.width = 64, c.height = 48;
  c.fx = c.fy = 60.0;
  c.cx = 32.0, c.cy = 24.0;
  const Vec3<double> f = center * (-1.0 / norm(center));
  Vec3<double> x = cross(f, Vec3<double>{0, 0, 1});
  x = x * (1.0 / norm(x));
  const Vec3<double> y = cross(f, x);
  for (int j = 0; j < 3; ++j)
    c.rotation.m[0][j] = x[j], c.rotation.m[1][j] = y[j], c.rotation.m[2][j] = f[j];
  c.translation = (c.rotation * center) * -1.0;
  return c;
}

// Views of a unit sphere at the origin: the mask is 1 where the pixel centre's ray hits it.
std::vector<View> sphere_views(int count, double elevation_amplitude) {
  std::vector<View> views;
  for (int i = 0; i < count; ++i) {
    const double a = 2 * kPi * i / count;
    const double e = elevation_amplitude * ((i % 2) ? 1.0 : -1.0);
    View v;
    v.name = "view" + std::to_string(i);
    v.camera = look_at_origin({4 * std::cos(a), 4 * std::sin(a), e});
    v.image = Image<float>(64, 48, 3);
    v.mask = Image<float>(64, 48, 1);
    const Vec3<double> o = v.camera.center();
    for (int py = 0; py < 48; ++py)
      for (int px = 0; px < 64; ++px) {
        const Vec3<double> d_cam{(px + 0.5 - 32.0) / 60.0, (py + 0.5 - 24.0) / 60.0, 1.0};
        Vec3<double> d = mul_transposed(v.camera.rotation, d_cam);
        d = d * (1.0 / norm(d));
        const double b = dot(o, d), c = dot(o, o) - 1.0;
        v.mask.at(px, py) = b * b - c >= 0 ? 1.0f : 0.0f;
        v.image.at(px, py, 0) = 0.2f, v.image.at(px, py, 1) = 0.4f, v.image.at(px, py, 2) = 0.6f;
      }
    views.push_back(std::move(v));
  }
  return views;
}

TEST(VisualHull, EightViewsEncloseTheSphereTightly) {
  const std::vector<View> views = sphere_views(8, 1.5);
  VisualHullOptions options;
  options.resolution = 96;
  const VisualHullResult hull = visual_hull(views, 2.0, 6.0, options);
  ASSERT_GT(hull.cloud.size(), 500u);
  EXPECT_GT(hull.voxel_size, 0.0f);
  EXPECT_LT(hull.voxel_size, 0.05f);
  double sum = 0, lo = 1e9, hi = 0;
  for (size_t i = 0; i < hull.cloud.size(); ++i) {
    const double r = std::sqrt(hull.cloud.positions[3 * i] * hull.cloud.positions[3 * i] +
                               hull.cloud.positions[3 * i + 1] * hull.cloud.positions[3 * i + 1] +
                               hull.cloud.positions[3 * i + 2] * hull.cloud.positions[3 * i + 2]);
    sum += r, lo = std::min(lo, r), hi = std::max(hi, r);
    EXPECT_NEAR(hull.cloud.colors[3 * i + 1], 0.4f, 1e-6f);
    EXPECT_EQ(hull.cloud.support[i], 8.0f);
  }
  // The hull contains the sphere up to the discretisation: masks sampled at pixel centres lose
  // up to a pixel's footprint (4 / 60 at the sphere) of silhouette, and a surface voxel centre
  // lies up to a voxel inside. With 8 views around it, its surface stays close: mean radius
  // within 10 %.
  const double pixel_footprint = 4.0 / 60.0;
  EXPECT_GT(lo, 1.0 - pixel_footprint - hull.voxel_size);
  EXPECT_LT(sum / hull.cloud.size(), 1.10);
  EXPECT_LT(hi, 1.6);
}

TEST(VisualHull, ThreeViewsGiveALargerHullThatStillContainsTheSphere) {
  const std::vector<View> views = sphere_views(3, 0.0);
  VisualHullOptions options;
  options.resolution = 64;
  options.surface_only = false;
  const VisualHullResult hull = visual_hull(views, 2.0, 6.0, options);
  EXPECT_EQ(static_cast<int64_t>(hull.cloud.size()), hull.volume_voxels);
  // Every voxel whose centre is inside the sphere (by a voxel) survived.
  const double v = hull.voxel_size;
  int64_t expected_inside = 0;
  for (size_t i = 0; i < hull.cloud.size(); ++i) {
    const float* p = &hull.cloud.positions[3 * i];
    if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] < (1 - v) * (1 - v)) ++expected_inside;
  }
  EXPECT_NEAR(static_cast<double>(expected_inside),
              4.0 / 3.0 * kPi * std::pow(1 - v, 3) / (v * v * v), 0.1 * expected_inside);
}

TEST(VisualHull, RefusesMissingOrMisSizedMasksAndDisjointMasks) {
  std::vector<View> views = sphere_views(4, 0.5);
  views[2].mask = Image<float>();
  EXPECT_ERROR_CONTAINS(visual_hull(views, 2.0, 6.0), "view2 has no mask");
  views = sphere_views(4, 0.5);
  views[1].mask = Image<float>(32, 24, 1);
  EXPECT_ERROR_CONTAINS(visual_hull(views, 2.0, 6.0), "mask of view view1");
  views = sphere_views(4, 0.5);
  for (View& v : views) v.mask = Image<float>(64, 48, 1, 0.0f);
  EXPECT_ERROR_CONTAINS(visual_hull(views, 2.0, 6.0), "no voxel");
  views = sphere_views(4, 0.5);
  EXPECT_ERROR_CONTAINS(visual_hull(views, std::nan(""), 6.0), "depth bounds");
  EXPECT_ERROR_CONTAINS(visual_hull({views[0]}, 2.0, 6.0), "at least 2 views");
}

}  // namespace
}  // namespace glimpse
