// The splat model: N anisotropic 3D Gaussians in structure-of-arrays form, templated on the
// scalar (float for rendering and training, double for gradient checks).
#pragma once

#include "core/math.h"
#include "renderer/kernels/sh.h"

#include <cstddef>
#include <string>
#include <vector>

namespace glimpse {

template <typename T>
struct GaussiansT {
  int sh_degree = 0;              // 0..3; sh holds (sh_degree + 1)^2 coefficients per channel
  std::vector<T> means;           // [N, 3] world position
  std::vector<T> log_scales;      // [N, 3] log of the standard deviations along the local axes
  std::vector<T> quats;           // [N, 4] rotation w, x, y, z (normalised when used)
  std::vector<T> opacity_logits;  // [N] opacity = sigmoid(logit)
  std::vector<T> sh;              // [N, K, 3] SH coefficients, coefficient-major, RGB inner

  size_t size() const { return opacity_logits.size(); }
  int sh_coeffs() const { return sh_coeffs_for_degree(sh_degree); }

  // Resizes every array to n Gaussians (new entries: zero mean, unit scale, identity rotation,
  // opacity 0.5, black).
  void resize(size_t n);
  // Throws glimpse::Error naming `what` when the SH degree is outside 0..3, array sizes disagree,
  // or any parameter is NaN or infinite (index and array named).
  void check(const std::string& what = "gaussians") const;
  // The cheap part of check(): SH degree and array sizes (for callers that test the values
  // themselves while reading them, like the CPU rasterizer's preprocess).
  void check_shapes(const std::string& what = "gaussians") const;

  template <typename U>
  GaussiansT<U> cast() const;
};

using Gaussians = GaussiansT<float>;

// The same Gaussians with `degree` SH bands: higher bands dropped, or added as zeros (a model from
// a file of another degree continues training at the configured one).
Gaussians with_sh_degree(const Gaussians& g, int degree);

// Gradients with respect to every parameter array (same shapes), the screen-space 2D mean
// (pixels, summed over the pixels of this view; densification statistics) and the camera pose.
template <typename T>
struct GaussianGradientsT {
  std::vector<T> means, log_scales, quats, opacity_logits, sh;
  std::vector<T> means2d;  // [N, 2] d loss / d (u, v) in pixels
  Mat3<T> v_rotation;      // d loss / d cam_from_world rotation entries
  Vec3<T> v_translation;   // d loss / d cam_from_world translation

  void resize_like(const GaussiansT<T>& g);  // sizes like g and zero-fills
  // Adds `other`'s parameter gradients (means, log_scales, quats, opacity_logits, sh; same sizes)
  // into these: the loss terms' gradients joining the photometric one.
  void add_parameter_gradients(const GaussianGradientsT& other) {
    auto add = [](std::vector<T>& a, const std::vector<T>& b) {
      for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    };
    add(means, other.means);
    add(log_scales, other.log_scales);
    add(quats, other.quats);
    add(opacity_logits, other.opacity_logits);
    add(sh, other.sh);
  }
};

using GaussianGradients = GaussianGradientsT<float>;

// Pose gradient as a left-perturbation twist (rho, phi): cam_from_world <- exp([phi]x) [R | t] +
// [0 | rho]. Returns (v_rho, v_phi), what a pose optimiser steps along.
template <typename T>
void pose_tangent_gradient(const Mat3<T>& rotation, const Vec3<T>& translation,
                           const Mat3<T>& v_rotation, const Vec3<T>& v_translation, Vec3<T>& v_rho,
                           Vec3<T>& v_phi);

}  // namespace glimpse
