// Camera validation and rescaling.
#include "core/camera.h"

#include "core/check.h"

#include <cmath>

namespace glimpse {

void check_camera(const Camera& c, const std::string& what) {
  GLIMPSE_CHECK(c.width > 0 && c.height > 0)
      << what << ": image size must be positive, got " << c.width << "x" << c.height;
  GLIMPSE_CHECK(std::isfinite(c.fx) && std::isfinite(c.fy) && c.fx > 0 && c.fy > 0)
      << what << ": focal lengths must be positive and finite, got fx=" << c.fx << " fy=" << c.fy;
  GLIMPSE_CHECK(std::isfinite(c.cx) && std::isfinite(c.cy))
      << what << ": principal point is not finite (cx=" << c.cx << " cy=" << c.cy << ")";
  for (int i = 0; i < 3; ++i) {
    GLIMPSE_CHECK(std::isfinite(c.translation[i])) << what << ": translation contains NaN or Inf";
    for (int j = 0; j < 3; ++j)
      GLIMPSE_CHECK(std::isfinite(c.rotation.m[i][j])) << what << ": rotation contains NaN or Inf";
  }
  const Mat3<double> rtr = c.rotation.transposed() * c.rotation;
  double err = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) err = std::max(err, std::abs(rtr.m[i][j] - (i == j ? 1.0 : 0.0)));
  GLIMPSE_CHECK(err < 1e-4) << what << ": rotation is not orthonormal (max |R^T R - I| = " << err
                            << ")";
  GLIMPSE_CHECK(c.rotation.det() > 0) << what << ": rotation has determinant " << c.rotation.det()
                                      << " (a reflection, not a rotation)";
}

Camera scaled_camera(const Camera& camera, double sx, double sy, int new_width, int new_height) {
  Camera c = camera;
  c.fx *= sx;
  c.cx *= sx;
  c.fy *= sy;
  c.cy *= sy;
  c.width = new_width;
  c.height = new_height;
  return c;
}

}  // namespace glimpse
