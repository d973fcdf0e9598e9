// A coloured 3D point cloud, the common currency of the geometry priors: COLMAP triangulation,
// fused multi-view stereo and the visual hull all produce one, and the point initialiser turns
// it into Gaussians (scales from nearest-neighbour distances, as in 3DGS). Plain data in core so
// that io/ can write it (io/point_cloud_ply.h) and priors/ can make it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace glimpse {

struct PointCloud {
  std::vector<float> positions;  // [N, 3] world
  std::vector<float> colors;     // [N, 3] RGB in [0, 1]
  std::vector<float> normals;    // [N, 3] unit world normals, or empty when the source has none
  // [N] how much the source trusts each point, or empty: COLMAP track length, the number of
  // views an MVS point is consistent in, or the number of masks a hull voxel falls in.
  std::vector<float> support;

  size_t size() const { return positions.size() / 3; }
  bool empty() const { return positions.empty(); }
  // Appends one point (normal and support only when the cloud carries them).
  void add(float x, float y, float z, float r, float g, float b);
  // Throws glimpse::Error naming `what` when the array sizes disagree or a position, colour or
  // normal is not finite.
  void check(const std::string& what) const;
};

}  // namespace glimpse
