// A triangle mesh with vertex colours: what mesh/ extracts from the Gaussians and io/ writes (PLY,
// OBJ). Plain data in core, like PointCloud, so that io/ can write it without Open3D.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

struct Mesh {
  std::vector<float> vertices;     // [V, 3] world
  std::vector<float> colors;       // [V, 3] RGB in [0, 1], or empty
  std::vector<int32_t> triangles;  // [T, 3] vertex indices, counter-clockwise seen from outside

  size_t num_vertices() const { return vertices.size() / 3; }
  size_t num_triangles() const { return triangles.size() / 3; }
  bool empty() const { return triangles.empty(); }
  // Throws glimpse::Error naming `what` when the array sizes disagree, a vertex or colour is not
  // finite, or a triangle indexes past the vertices.
  void check(const std::string& what) const;
};

}  // namespace glimpse
