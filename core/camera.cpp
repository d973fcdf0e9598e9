// Camera validation and rescaling.
#include "core/camera.h"

#include "core/check.h"

#include <cmath>
#include <numbers>

namespace glimpse {

void check_camera(const Camera& c, const std::string& what) {
  GLIMPSE_CHECK(c.width > 0 && c.height > 0)
      << what << ": image size must be positive, got " << c.width << "x" << c.height;
  GLIMPSE_CHECK(std::isfinite(c.fx) && std::isfinite(c.fy) && c.fx > 0 && c.fy > 0)
      << what << ": focal lengths must be positive and finite, got fx=" << c.fx << " fy=" << c.fy;
  GLIMPSE_CHECK(std::isfinite(c.cx) && std::isfinite(c.cy))
      << what << ": principal point is not finite (cx=" << c.cx << " cy=" << c.cy << ")";
  // Field of view within what a pinhole image can hold: a 2-pixel focal length (179 degrees)
  // made one iteration take 13 s, a huge one put every Gaussian at infinity.
  const double fov_x =
      (std::atan2(c.cx, c.fx) + std::atan2(c.width - c.cx, c.fx)) * 180 / std::numbers::pi;
  const double fov_y =
      (std::atan2(c.cy, c.fy) + std::atan2(c.height - c.cy, c.fy)) * 180 / std::numbers::pi;
  GLIMPSE_CHECK(fov_x <= kMaxFieldOfViewDegrees && fov_y <= kMaxFieldOfViewDegrees)
      << what << ": field of view " << fov_x << " x " << fov_y
      << " degrees (focal length fx=" << c.fx << " fy=" << c.fy << " pixels for a " << c.width
      << "x" << c.height << " image) is wider than the " << kMaxFieldOfViewDegrees
      << " degrees a pinhole image can hold: is the focal length in pixels, at this image size?";
  GLIMPSE_CHECK(fov_x >= kMinFieldOfViewDegrees && fov_y >= kMinFieldOfViewDegrees)
      << what << ": field of view " << fov_x << " x " << fov_y
      << " degrees (focal length fx=" << c.fx << " fy=" << c.fy << " pixels for a " << c.width
      << "x" << c.height << " image) is narrower than " << kMinFieldOfViewDegrees
      << " degrees: is the focal length in pixels, at this image size?";
  GLIMPSE_CHECK(c.fx <= 10 * c.fy && c.fy <= 10 * c.fx)
      << what << ": focal lengths fx=" << c.fx << " and fy=" << c.fy
      << " differ more than tenfold (pixels that are not square to that degree are not a camera)";
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
