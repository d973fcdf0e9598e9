// Pinhole camera in the OpenCV/COLMAP frame: x right, y down, looking down +z. Pixel (i, j) covers
// [i, i+1) x [j, j+1), so its centre is at (i + 0.5, j + 0.5) and a centred principal point is
// (width / 2, height / 2).
#pragma once

#include "core/math.h"

#include <string>

namespace glimpse {

template <typename T>
struct CameraT {
  T fx = T(1), fy = T(1);  // focal lengths in pixels
  T cx = T(0), cy = T(0);  // principal point in pixels (pixel-corner origin)
  int width = 0, height = 0;
  Mat3<T> rotation = Mat3<T>::identity();  // cam_from_world rotation
  Vec3<T> translation{};                   // cam_from_world translation: p_in_cam = R p + t

  GLIMPSE_HD Vec3<T> cam_from_world(const Vec3<T>& p_in_world) const {
    return rotation * p_in_world + translation;
  }
  // Camera centre in world coordinates: -R^T t.
  GLIMPSE_HD Vec3<T> center() const { return -mul_transposed(rotation, translation); }

  template <typename U>
  CameraT<U> cast() const {
    CameraT<U> c;
    c.fx = U(fx), c.fy = U(fy), c.cx = U(cx), c.cy = U(cy);
    c.width = width, c.height = height;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) c.rotation.m[i][j] = U(rotation.m[i][j]);
      c.translation[i] = U(translation[i]);
    }
    return c;
  }
};

// Host cameras keep poses in double; renderers cast to their scalar.
using Camera = CameraT<double>;

// The field of view check_camera accepts, in degrees, horizontally and vertically.
inline constexpr double kMaxFieldOfViewDegrees = 160.0;
inline constexpr double kMinFieldOfViewDegrees = 0.1;

// Throws glimpse::Error (naming `what`, e.g. the file and view) when intrinsics are not positive
// and finite, the size is empty, the field of view lies outside [kMinFieldOfViewDegrees,
// kMaxFieldOfViewDegrees] either way, fx and fy differ more than tenfold, or the rotation is not
// orthonormal with det +1.
void check_camera(const Camera& camera, const std::string& what);

// Intrinsics scaled for an image resized by (sx, sy), keeping the pixel-corner convention.
Camera scaled_camera(const Camera& camera, double sx, double sy, int new_width, int new_height);

}  // namespace glimpse
