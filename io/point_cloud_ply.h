// Coloured point clouds (core/point_cloud.h) as PLY: the fused MVS cloud, COLMAP's triangulated
// points and the visual hull are written for inspection in any point-cloud viewer, and read back
// as an initialisation (`--init-points`).
#pragma once

#include "core/point_cloud.h"

#include <string>

namespace glimpse {

// Binary little-endian PLY: x y z as float, nx ny nz (float) when the cloud has normals, red green
// blue as uchar, and `support` as a float property "support" when present. Written atomically;
// throws glimpse::Error naming `path` on failure or for an invalid cloud.
void write_point_cloud_ply(const std::string& path, const PointCloud& cloud);

// Reads a point-cloud PLY (ascii or binary, either byte order) by property name: x y z are
// required; red/green/blue (uchar, or float in [0, 1]) default to grey, nx/ny/nz and support are
// read when present. Throws glimpse::Error naming `path` for a missing file, a malformed header
// or truncated data.
PointCloud read_point_cloud_ply(const std::string& path);

// Rounds the cloud's colours to what write_point_cloud_ply stores (8 bits per channel) and
// read_point_cloud_ply reads back, bit for bit: a cloud used in memory after it is cached then
// starts a run exactly as the cached copy does.
void quantize_point_colors(PointCloud& cloud);

}  // namespace glimpse
