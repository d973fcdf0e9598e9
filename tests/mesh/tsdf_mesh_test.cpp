// TSDF meshing of Gaussians (mesh/tsdf_mesh.h): the textured unit sphere of the synthetic rig,
// seen from two rings of cameras, becomes a closed mesh whose vertices lie within a stated
// distance of the true sphere; crop, hull, interpolation, distances and errors.
#include "mesh/tsdf_mesh.h"

#include "io/mesh_io.h"
#include "tests/support/errors.h"
#include "tests/support/synthetic_rig.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <utility>

namespace glimpse {
namespace {

using testing::look_at_camera;
using testing::textured_sphere;

// Two rings of cameras 52 degrees above and below the equator, 3 units from the centre: every
// point of the sphere is seen within 60 degrees of its normal.
std::vector<Camera> two_rings(int per_ring, int size) {
  std::vector<Camera> cameras;
  for (const double height : {-2.35, 2.35})
    for (int k = 0; k < per_ring; ++k)
      cameras.push_back(
          look_at_camera(2 * M_PI * (k + (height > 0 ? 0.5 : 0.0)) / per_ring, 1.85, height, size));
  return cameras;
}

// Edges used by exactly one triangle (0 for a closed surface).
size_t boundary_edges(const Mesh& m) {
  std::map<std::pair<int, int>, int> uses;
  for (size_t t = 0; t < m.num_triangles(); ++t)
    for (int e = 0; e < 3; ++e) {
      int a = m.triangles[3 * t + e], b = m.triangles[3 * t + (e + 1) % 3];
      if (a > b) std::swap(a, b);
      ++uses[{a, b}];
    }
  size_t open = 0;
  for (const auto& [edge, n] : uses) open += n == 1;
  return open;
}

double radius_of(const Mesh& m, size_t v) {
  return std::sqrt(m.vertices[3 * v] * m.vertices[3 * v] +
                   m.vertices[3 * v + 1] * m.vertices[3 * v + 1] +
                   m.vertices[3 * v + 2] * m.vertices[3 * v + 2]);
}

TEST(TsdfMesh, SphereOfGaussiansBecomesAClosedMeshNearTheSurface) {
  const Gaussians sphere = textured_sphere(20000, 3);
  const std::vector<Camera> cameras = two_rings(8, 96);
  auto rasterizer = make_cpu_rasterizer(2);
  MeshOptions options;
  options.resolution = 96;
  options.min_voxel_pixels = 0;  // the resolution asked for (finer than the 96-px images)
  options.views_between = 1;
  MeshReport report;
  int calls = 0;
  const Mesh mesh = extract_mesh(sphere, cameras, *rasterizer, options, &report,
                                 [&](int, int, const std::string&) { ++calls; });
  EXPECT_GT(calls, 0);
  EXPECT_EQ(report.fused_views, 16 + 15);  // the cameras and one between each consecutive pair
  ASSERT_GT(mesh.num_triangles(), 1000u);
  EXPECT_EQ(mesh.colors.size(), mesh.vertices.size());
  EXPECT_EQ(boundary_edges(mesh), 0u) << "the mesh is not closed";
  // Every vertex within 2 voxels of the sphere the Gaussians sit on (their footprint makes the
  // median-depth surface lie slightly outside radius 1).
  double worst = 0, mean = 0;
  for (size_t v = 0; v < mesh.num_vertices(); ++v) {
    const double e = std::abs(radius_of(mesh, v) - 1.0);
    worst = std::max(worst, e);
    mean += e / mesh.num_vertices();
  }
  const double bound = 2 * report.voxel_size;
  EXPECT_LT(worst, bound) << "voxel " << report.voxel_size;
  EXPECT_LT(mean, 0.5 * bound);
  // Both poles are there (the whole sphere, not a band).
  float lowest = 0, highest = 0;
  for (size_t v = 0; v < mesh.num_vertices(); ++v) {
    lowest = std::min(lowest, mesh.vertices[3 * v + 1]);
    highest = std::max(highest, mesh.vertices[3 * v + 1]);
  }
  EXPECT_LT(lowest, -0.97f);
  EXPECT_GT(highest, 0.97f);
  // Colours come from the renders: the sphere's pattern, not flat grey.
  float c_min = 1, c_max = 0;
  for (float c : mesh.colors) {
    c_min = std::min(c_min, c);
    c_max = std::max(c_max, c);
  }
  EXPECT_GT(c_max - c_min, 0.3f);

  // The expected depth gives a surface as well, and decimation reaches its target.
  options.depth = MeshDepth::Expected;
  options.target_triangles = 2000;
  const Mesh small = extract_mesh(sphere, cameras, *rasterizer, options);
  EXPECT_LE(small.num_triangles(), 2000u);
  EXPECT_GT(small.num_triangles(), 1500u);

  // A crop box keeps only what lies inside it.
  MeshOptions cropped;
  cropped.resolution = 64;
  cropped.min_voxel_pixels = 0;
  cropped.crop = WorldBox{{0.0, -2.0, -2.0}, {2.0, 2.0, 2.0}};
  const Mesh half = extract_mesh(sphere, cameras, *rasterizer, cropped);
  for (size_t v = 0; v < half.num_vertices(); ++v) EXPECT_GE(half.vertices[3 * v], -1e-6f);
  EXPECT_GT(half.num_triangles(), 100u);

  // The visual hull of the left half (x < 0) carves the right half away: masks are the
  // silhouettes of the Gaussians with x < 0.
  Gaussians left = sphere;
  for (size_t i = 0; i < left.size(); ++i)
    if (left.means[3 * i] > 0) left.opacity_logits[i] = -20.f;
  MeshOptions hulled;
  hulled.resolution = 64;
  hulled.min_voxel_pixels = 0;
  for (const Camera& c : cameras) {
    RenderOutput out;
    rasterizer->forward(left, c, RenderOptions{}, out);
    Image<float> mask(c.width, c.height, 1, 0.f);
    for (size_t i = 0; i < mask.size(); ++i)
      mask.data()[i] = out.alpha.data()[i] > 0.5f ? 1.f : 0.f;
    hulled.hull.push_back({c, mask});
  }
  MeshReport hull_report;
  const Mesh carved = extract_mesh(sphere, cameras, *rasterizer, hulled, &hull_report);
  EXPECT_GT(hull_report.removed_by_hull, 0u);
  size_t right = 0, kept_left = 0;
  for (size_t v = 0; v < carved.num_vertices(); ++v) {
    right += carved.vertices[3 * v] > 0.2f;
    kept_left += carved.vertices[3 * v] < -0.2f;
  }
  EXPECT_LT(right, carved.num_vertices() / 20);
  EXPECT_GT(kept_left, carved.num_vertices() / 2);
}

TEST(TsdfMesh, VoxelsAreNoFinerThanThePixels) {
  // 32-px views of the unit sphere from 3 units: a pixel covers about 2.2 / 35 = 0.06 at the
  // sphere, coarser than 512 voxels over its 2.2 extent (0.004).
  const Gaussians sphere = textured_sphere(3000, 4);
  const std::vector<Camera> cameras = two_rings(4, 32);
  auto rasterizer = make_cpu_rasterizer(2);
  MeshReport report;
  extract_mesh(sphere, cameras, *rasterizer, MeshOptions{}, &report);
  // Median depth of the sphere's centres seen from 3 units: about 3 (front and back average).
  const double footprint = 3.0 / cameras[0].fx;
  EXPECT_NEAR(report.voxel_size, 1.5 * footprint, 0.2 * footprint);
  MeshOptions fine;
  fine.resolution = 128;  // 2.2 / 128 = 0.017 when the floor is off
  fine.min_voxel_pixels = 0;
  extract_mesh(sphere, cameras, *rasterizer, fine, &report);
  EXPECT_LT(report.voxel_size, 0.02);
}

TEST(TsdfMesh, InterpolatedCamerasFollowTheShortestPath) {
  const Camera a = look_at_camera(0.0, 3.0, 0.0, 32), b = look_at_camera(1.0, 3.0, 0.0, 32);
  const std::vector<Camera> all = interpolate_cameras({a, b}, 3);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front().center().x, a.center().x);
  EXPECT_EQ(all.back().center().x, b.center().x);
  const Vec3<double> mid = all[2].center();
  const Vec3<double> expected = (a.center() + b.center()) * 0.5;
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(mid[k], expected[k], 1e-12);
  // The middle camera looks half-way between: at the origin still (both look at it).
  const Vec3<double> origin_in_cam = all[2].cam_from_world({0, 0, 0});
  EXPECT_NEAR(origin_in_cam.x, 0.0, 1e-9);
  EXPECT_NEAR(origin_in_cam.y, 0.0, 1e-9);
  EXPECT_NO_THROW(check_camera(all[2], "interpolated"));
  EXPECT_EQ(interpolate_cameras({a}, 4).size(), 1u);
}

TEST(TsdfMesh, SurfaceDistancesOfAShiftedCopy) {
  // Two parallel squares 0.1 apart: accuracy and completeness 0.1, none within 0.05.
  Mesh a;
  a.vertices = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0};
  a.triangles = {0, 1, 2, 0, 2, 3};
  Mesh b = a;
  for (size_t v = 0; v < 4; ++v) b.vertices[3 * v + 2] = 0.1f;
  const SurfaceDistance d = compare_surfaces(a, b, 0.01, 1.0, {0.05, 0.2});
  // (nearest samples lie a fraction of the spacing sideways: sqrt(0.1^2 + 0.005^2) at most)
  EXPECT_NEAR(d.accuracy, 0.1, 2e-4);
  EXPECT_NEAR(d.completeness, 0.1, 2e-4);
  EXPECT_EQ(d.accuracy_within[0], 0.0);
  EXPECT_NEAR(d.accuracy_within[1], 1.0, 1e-12);
  EXPECT_GT(d.predicted_samples, 5000u);
  // Samples beyond max_distance are left out of the means, not of the fractions.
  const SurfaceDistance far = compare_surfaces(a, b, 0.01, 0.05, {0.2});
  EXPECT_TRUE(std::isnan(far.accuracy));
}

TEST(TsdfMesh, BadInputIsRefusedWithAMessage) {
  auto rasterizer = make_cpu_rasterizer(1);
  const std::vector<Camera> cameras = two_rings(2, 32);
  Gaussians empty;
  EXPECT_THROW(extract_mesh(empty, cameras, *rasterizer, MeshOptions{}), Error);
  try {
    extract_mesh(textured_sphere(100, 1), {}, *rasterizer, MeshOptions{});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no camera"), std::string::npos) << e.what();
  }
  MeshOptions bad;
  bad.resolution = 3;
  EXPECT_THROW(bad.check(), Error);
  // Cameras that see nothing: nothing fused, said so.
  Gaussians far_away = textured_sphere(100, 1);
  for (float& m : far_away.means) m += 100.f;
  EXPECT_THROW(extract_mesh(far_away, cameras, *rasterizer, MeshOptions{}), Error);
}

TEST(MeshIo, WritesPlyAndObjAtomically) {
  testing::TempDir dir;
  Mesh m;
  m.vertices = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  m.colors = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  m.triangles = {0, 1, 2};
  write_mesh(dir.file("m.ply"), m);
  write_mesh(dir.file("m.obj"), m);
  std::ifstream obj(dir.file("m.obj"));
  const std::string text((std::istreambuf_iterator<char>(obj)), {});
  EXPECT_NE(text.find("v 1 0 0 0 1 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("f 1 2 3\n"), std::string::npos) << text;
  // Read back through Open3D: same vertices, same triangle.
  const Mesh back = read_mesh_file(dir.file("m.ply"));
  EXPECT_EQ(back.vertices, m.vertices);
  EXPECT_EQ(back.triangles, m.triangles);
  ASSERT_EQ(back.colors.size(), 9u);
  EXPECT_NEAR(back.colors[0], 1.0f, 1e-6);
  // Refusals leave nothing behind.
  Mesh none;
  EXPECT_THROW(write_mesh(dir.file("none.ply"), none), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.ply")));
  EXPECT_THROW(write_mesh(dir.file("m.stl"), m), Error);
  Mesh broken = m;
  broken.triangles = {0, 1, 7};
  EXPECT_THROW(write_mesh(dir.file("broken.ply"), broken), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("broken.ply")));
  EXPECT_THROW(read_mesh_file(dir.file("missing.ply")), Error);
}

}  // namespace
}  // namespace glimpse
