// Visual hull from object masks by voxel carving (Laurentini 1994; the initialisation of
// GaussianObject, Yang et al. 2024): a voxel is kept when it projects inside the mask of enough
// views; the surface voxels of the carved volume, coloured from the views that see them, become a
// point cloud for the point initialiser. For object captures with masks (DTU).
#pragma once

#include "core/dataset.h"
#include "core/point_cloud.h"

namespace glimpse {

struct VisualHullOptions {
  int coarse_resolution = 64;  // voxels along the longest side of the first carve
  int resolution = 160;        // voxels along the longest side of the final carve
  // A voxel survives when it falls inside the mask of at least (views - misses) views; a voxel
  // that projects outside an image counts as a miss. GaussianObject tolerates one miss with 4+
  // views; with 3 views every mask must agree.
  int misses = 0;
  float mask_threshold = 0.5f;  // mask values >= this are the object
  bool surface_only = true;     // keep the voxels with an empty 6-neighbour (else the whole volume)
  int threads = 0;              // 0: all hardware threads

  void check() const;  // throws glimpse::Error naming the field
};

struct VisualHullResult {
  PointCloud cloud;        // voxel centres, support = masks containing the voxel
  float voxel_size = 0.f;  // final voxel edge (world units)
  int64_t volume_voxels = 0;
  float box_min[3] = {0, 0, 0}, box_max[3] = {0, 0, 0};  // the final carving box
};

// Carves the region where the views' frusta overlap between near and far. Every view needs an
// RGB image and a mask of its camera's size. Throws glimpse::Error naming the view for a missing
// or mis-sized mask, and when fewer than 2 views are given, the bounds are invalid, or nothing
// survives the carving (masks that do not overlap in 3D: wrong cameras or masks).
VisualHullResult visual_hull(const std::vector<View>& views, double near, double far,
                             const VisualHullOptions& options = {});

}  // namespace glimpse
