// Synthetic Gaussian scenes for benchmarks and tests: random splats with the statistics of a
// trained 3DGS model (a few pixels on screen, mixed opacities, degree-3 SH) seen by a camera.
#pragma once

#include "core/camera.h"
#include "renderer/gaussians.h"

#include <cstddef>
#include <cstdint>

namespace glimpse {

// Camera depth range of the benchmark scene (camera units).
inline constexpr double kBenchmarkSceneNearDepth = 2.0;
inline constexpr double kBenchmarkSceneFarDepth = 10.0;
// Median screen radius (3 sigma, pixels) of the benchmark scene's splats; the spread is lognormal.
inline constexpr double kBenchmarkSceneMedianRadiusPx = 3.0;

// n Gaussians that look like a trained scene seen by `camera`:
//  - means: a uniformly random pixel at a camera depth uniform in [2, 10], so every mean projects
//    inside the image;
//  - scales: the geometric-mean standard deviation makes a 3-sigma screen radius lognormal around
//    3 px (sigma 0.5 in log space, clamped to [0.5, 30] px), each axis scaled by exp(N(0, 0.35))
//    for anisotropy;
//  - rotations: uniform random unit quaternions;
//  - opacity logits: N(0, 2), i.e. some nearly opaque, many mid, some nearly transparent splats;
//  - SH degree 3: DC from a uniform colour in [0.05, 0.95], higher orders N(0, 0.03).
// Deterministic for a seed on every platform (std::mt19937_64 with hand-written distributions).
// Throws glimpse::Error for an invalid camera.
Gaussians make_benchmark_scene(size_t n, const Camera& camera, uint64_t seed);

// A pinhole camera at the origin looking down +z (identity pose), fx = fy = 0.8 width (about the
// field of view of the LLFF captures), principal point at the image centre. Throws glimpse::Error
// for non-positive sizes.
Camera make_benchmark_camera(int width, int height);

}  // namespace glimpse
