// Mesh bookkeeping (see mesh.h).
#include "core/mesh.h"

#include "core/check.h"

#include <cmath>

namespace glimpse {

void Mesh::check(const std::string& what) const {
  const size_t v = num_vertices();
  GLIMPSE_CHECK(vertices.size() == 3 * v) << what << ": vertices are not [V, 3]";
  GLIMPSE_CHECK(colors.empty() || colors.size() == 3 * v)
      << what << ": " << colors.size() / 3 << " colours for " << v << " vertices";
  GLIMPSE_CHECK(triangles.size() % 3 == 0) << what << ": triangles are not [T, 3]";
  for (size_t i = 0; i < vertices.size(); ++i)
    GLIMPSE_CHECK(std::isfinite(vertices[i]))
        << what << ": vertex " << i / 3 << " has a non-finite position";
  for (size_t i = 0; i < colors.size(); ++i)
    GLIMPSE_CHECK(std::isfinite(colors[i]))
        << what << ": vertex " << i / 3 << " has a non-finite colour";
  for (size_t i = 0; i < triangles.size(); ++i)
    GLIMPSE_CHECK(triangles[i] >= 0 && static_cast<size_t>(triangles[i]) < v)
        << what << ": triangle " << i / 3 << " uses vertex " << triangles[i] << " of " << v;
}

}  // namespace glimpse
