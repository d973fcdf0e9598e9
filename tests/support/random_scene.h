// Small random scenes for renderer tests: Gaussians in front of a camera, seeded.
#pragma once

#include "core/camera.h"
#include "renderer/gaussians.h"

#include <cmath>
#include <random>

namespace glimpse::testing {

template <typename T>
CameraT<T> test_camera(int width, int height, double yaw = 0.0) {
  CameraT<T> c;
  c.width = width;
  c.height = height;
  c.fx = T(0.9 * width);
  c.fy = T(0.9 * width);
  c.cx = T(0.5 * width + 0.3);
  c.cy = T(0.5 * height - 0.2);
  // A small rotation about y and a translation, so the pose gradient is not trivially aligned.
  const double cs = std::cos(yaw), sn = std::sin(yaw);
  c.rotation = Mat3<T>::identity();
  c.rotation.m[0][0] = T(cs), c.rotation.m[0][2] = T(sn);
  c.rotation.m[2][0] = T(-sn), c.rotation.m[2][2] = T(cs);
  c.translation = {T(0.05), T(-0.03), T(0.1)};
  return c;
}

// n Gaussians at depths 2..5 inside the view of test_camera; `radius_px` ~ screen std dev.
template <typename T>
GaussiansT<T> random_gaussians(int n, int sh_degree, uint32_t seed, double radius_px = 4.0,
                               int width = 64, int height = 48) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  GaussiansT<T> g;
  g.sh_degree = sh_degree;
  g.resize(n);
  const double f = 0.9 * width;
  const int k = g.sh_coeffs();
  for (int i = 0; i < n; ++i) {
    const double z = 3.5 + 1.5 * u(rng);
    g.means[3 * i + 0] = T(u(rng) * 0.45 * width / f * z);
    g.means[3 * i + 1] = T(u(rng) * 0.45 * height / f * z);
    g.means[3 * i + 2] = T(z);
    const double s = radius_px * z / f;
    for (int c = 0; c < 3; ++c) g.log_scales[3 * i + c] = T(std::log(s * (1.0 + 0.4 * u(rng))));
    for (int c = 0; c < 4; ++c) g.quats[4 * i + c] = T(u(rng) + (c == 0 ? 1.5 : 0.0));
    g.opacity_logits[i] = T(1.0 + 1.5 * u(rng));
    for (int j = 0; j < k; ++j)
      for (int c = 0; c < 3; ++c)
        g.sh[(i * k + j) * 3 + c] = T(j == 0 ? 0.8 * u(rng) : 0.2 * u(rng));
  }
  return g;
}

}  // namespace glimpse::testing
