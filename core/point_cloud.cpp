// PointCloud bookkeeping (see point_cloud.h).
#include "core/point_cloud.h"

#include "core/check.h"

#include <cmath>

namespace glimpse {

void PointCloud::add(float x, float y, float z, float r, float g, float b) {
  positions.insert(positions.end(), {x, y, z});
  colors.insert(colors.end(), {r, g, b});
}

void PointCloud::check(const std::string& what) const {
  const size_t n = size();
  GLIMPSE_CHECK(positions.size() == 3 * n) << what << ": positions are not [N, 3]";
  GLIMPSE_CHECK(colors.size() == 3 * n)
      << what << ": " << colors.size() / 3 << " colours for " << n << " points";
  GLIMPSE_CHECK(normals.empty() || normals.size() == 3 * n)
      << what << ": " << normals.size() / 3 << " normals for " << n << " points";
  GLIMPSE_CHECK(support.empty() || support.size() == n)
      << what << ": " << support.size() << " support values for " << n << " points";
  for (size_t i = 0; i < 3 * n; ++i) {
    GLIMPSE_CHECK(std::isfinite(positions[i]))
        << what << ": point " << i / 3 << " has a non-finite position";
    GLIMPSE_CHECK(std::isfinite(colors[i]))
        << what << ": point " << i / 3 << " has a non-finite colour";
    GLIMPSE_CHECK(normals.empty() || std::isfinite(normals[i]))
        << what << ": point " << i / 3 << " has a non-finite normal";
  }
}

}  // namespace glimpse
