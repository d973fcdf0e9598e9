// Meshes from Gaussians: rendered depth and colour of the training views (and views interpolated
// between them) fused into a truncated signed distance volume, marching cubes, then clean-up
// (small components, optional crop box or visual hull) and optional decimation. Open3D (Debian
// libopen3d-dev) does the TSDF, marching cubes, clustering and quadric decimation, as in the
// Gaussian-surface papers (2DGS, GOF, RaDe-GS) whose TSDF step this follows.
#pragma once

#include "core/camera.h"
#include "core/image.h"
#include "core/math.h"
#include "core/mesh.h"
#include "renderer/gaussians.h"
#include "renderer/rasterizer.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace glimpse {

enum class MeshDepth {
  Median,    // z where the transmittance crosses 0.5 (the Gaussian-surface papers' choice)
  Expected,  // alpha-weighted mean depth
};

// An axis-aligned box in world coordinates.
struct WorldBox {
  Vec3<double> min, max;
  bool contains(const Vec3<double>& p) const {
    return p.x >= min.x && p.x <= max.x && p.y >= min.y && p.y <= max.y && p.z >= min.z &&
           p.z <= max.z;
  }
};

// A mask seen by a camera: the visual hull keeps what projects inside every mask that sees it.
struct HullMask {
  Camera camera;
  Image<float> mask;  // 1 channel, camera.width x camera.height, > 0.5 inside
};

struct MeshOptions {
  MeshDepth depth = MeshDepth::Median;
  // Voxels along the longest side of the region fused (the crop box, else the robust extent of
  // the opaque Gaussians); the voxel size follows from it.
  int resolution = 512;
  // ... but no finer than this many pixels' footprint at the median depth of the opaque
  // Gaussians in the input views: finer voxels than the images resolve give a noisy, holed
  // surface (DTU at 400x300: about 0.8 mm per pixel).
  double min_voxel_pixels = 1.5;
  double truncation_voxels = 4.0;  // TSDF truncation distance in voxels
  float min_alpha = 0.5f;          // pixels whose rendered opacity is below this are not fused
  // Pixels that border an unfused pixel (silhouettes) or whose depth differs from a 4-neighbour's
  // by more than this fraction of their depth (occlusion edges) are not fused: their depth mixes
  // two surfaces and would add a sheet along the view ray.
  double edge_jump = 0.1;
  int views_between = 2;  // cameras interpolated between consecutive input cameras
  // Connected components with fewer triangles than this fraction of the largest are removed.
  double min_component_fraction = 0.05;
  int64_t target_triangles = 0;  // > 0: quadric decimation to about this many triangles
  std::optional<WorldBox> crop;  // keep only what lies inside (also bounds the fused region)
  std::vector<HullMask> hull;    // non-empty: keep only vertices inside the masks' visual hull
  RenderOptions render;          // background, SH degree, planes of the depth/colour renders

  void check() const;
};

struct MeshReport {
  int fused_views = 0;
  double voxel_size = 0;
  WorldBox region;  // the region the voxel size was derived from
  size_t raw_vertices = 0, raw_triangles = 0;
  size_t removed_components = 0, removed_by_hull = 0;
  double seconds = 0;
};

// `cameras` with `per_pair` cameras inserted between each consecutive pair: centres linear,
// rotations by slerp, intrinsics linear (same image size as the first of the pair).
std::vector<Camera> interpolate_cameras(const std::vector<Camera>& cameras, int per_pair);

// Fuses `gaussians` seen from `cameras` (interpolated per options.views_between) into a mesh
// with vertex colours from the splats' renders. Throws glimpse::Error for an empty model, no
// camera, invalid options, or when nothing was fused (every pixel transparent). progress(done,
// total, stage) is called as views are fused.
Mesh extract_mesh(const Gaussians& gaussians, const std::vector<Camera>& cameras,
                  Rasterizer& rasterizer, const MeshOptions& options, MeshReport* report = nullptr,
                  const std::function<void(int, int, const std::string&)>& progress = {});

// Distances between two surfaces, both sampled uniformly by area with about one point per
// `spacing` squared (DTU's evaluation samples at 0.2 mm): accuracy = predicted -> reference,
// completeness = reference -> predicted, means over samples closer than max_distance (DTU: 20 mm),
// and the fractions of samples within each of `thresholds`.
struct SurfaceDistance {
  double accuracy = 0, completeness = 0, chamfer = 0;
  std::vector<double> thresholds;
  std::vector<double> accuracy_within, completeness_within;  // fractions in [0, 1]
  size_t predicted_samples = 0, reference_samples = 0;
};
SurfaceDistance compare_surfaces(const Mesh& predicted, const Mesh& reference, double spacing,
                                 double max_distance, const std::vector<double>& thresholds);

// Reads a triangle mesh file (PLY, OBJ, ... through Open3D) for comparisons. Throws glimpse::Error
// naming `path` when it cannot be read or has no triangles.
Mesh read_mesh_file(const std::string& path);

}  // namespace glimpse
