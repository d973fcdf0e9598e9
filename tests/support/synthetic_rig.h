// A synthetic multi-view capture made in code: a procedurally textured sphere built from small
// Gaussians, seen by a ring of cameras looking at its centre, rendered with the CPU rasterizer.
// Used to test training end to end with a known answer.
#pragma once

#include "core/dataset.h"
#include "renderer/cpu/cpu_rasterizer.h"
#include "renderer/gaussians.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace glimpse::testing {

// Camera on a circle of `radius` at height `height`, looking at the origin (OpenCV frame).
inline Camera look_at_camera(double angle, double radius, double height, int size) {
  const Vec3<double> eye{radius * std::cos(angle), height, radius * std::sin(angle)};
  const Vec3<double> forward = (Vec3<double>{0, 0, 0} - eye) * (1.0 / norm(eye));
  const Vec3<double> world_down{0, 1, 0};  // y down in the OpenCV convention
  Vec3<double> right = cross(world_down, forward);
  right = right * (1.0 / norm(right));
  const Vec3<double> down = cross(forward, right);
  Camera c;
  c.width = c.height = size;
  c.fx = c.fy = 1.1 * size;
  c.cx = c.cy = 0.5 * size;
  for (int j = 0; j < 3; ++j) {
    c.rotation.m[0][j] = right[j];
    c.rotation.m[1][j] = down[j];
    c.rotation.m[2][j] = forward[j];
  }
  c.translation = -(c.rotation * eye);
  return c;
}

// The ground-truth object: Gaussians on a unit sphere with a smooth procedural colour pattern.
inline Gaussians textured_sphere(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Gaussians g;
  g.sh_degree = 0;
  g.resize(n);
  const double spacing = std::sqrt(4.0 * 3.14159265 / n);
  for (int i = 0; i < n; ++i) {
    Vec3<double> p{normal(rng), normal(rng), normal(rng)};
    p = p * (1.0 / norm(p));
    for (int c = 0; c < 3; ++c) g.means[3 * i + c] = static_cast<float>(p[c]);
    for (int c = 0; c < 3; ++c)
      g.log_scales[3 * i + c] = static_cast<float>(std::log(0.6 * spacing));
    g.opacity_logits[i] = 3.f;
    const double r = 0.5 + 0.4 * std::sin(3.0 * p.x + 1.0) * std::cos(2.0 * p.y);
    const double gg = 0.5 + 0.4 * std::sin(2.5 * p.z - 0.5);
    const double b = 0.5 + 0.4 * std::cos(3.0 * p.y + 2.0 * p.x);
    const double rgb[3] = {r, gg, b};
    for (int c = 0; c < 3; ++c)
      g.sh[3 * i + c] = static_cast<float>((rgb[c] - 0.5) / 0.28209479177387814);
  }
  return g;
}

// `count` views spread over a ring (every `stride`-th of count * stride positions, offset by
// `offset`), rendered from the ground truth.
inline std::vector<View> render_ring(const Gaussians& truth, int count, int stride, int offset,
                                     int size) {
  CpuRasterizerT<float> r(0);
  std::vector<View> views;
  for (int k = 0; k < count; ++k) {
    const int slot = k * stride + offset;
    const double angle = 2.0 * 3.14159265358979 * slot / (count * stride);
    View v;
    v.name = "view" + std::to_string(slot);
    v.camera = look_at_camera(angle, 3.2, -0.8, size);
    RenderOutputT<float> out;
    r.forward(truth, v.camera.cast<float>(), RenderOptions{}, out);
    v.image = out.rgb;
    views.push_back(std::move(v));
  }
  return views;
}

// A rough start: random Gaussians in the object's bounding box, grey.
inline Gaussians random_init(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.1, 1.1);
  Gaussians g;
  g.sh_degree = 0;
  g.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) g.means[3 * i + c] = static_cast<float>(u(rng));
    for (int c = 0; c < 3; ++c) g.log_scales[3 * i + c] = std::log(0.06f);
    g.opacity_logits[i] = -2.2f;  // opacity 0.1, as the reference initialisation
  }
  return g;
}

}  // namespace glimpse::testing
