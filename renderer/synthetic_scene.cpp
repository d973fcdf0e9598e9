// Random benchmark scenes with trained-model statistics (see synthetic_scene.h).
#include "renderer/synthetic_scene.h"

#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace glimpse {
namespace {

// Distributions written out by hand: std::uniform_real_distribution and std::normal_distribution
// are implementation-defined, so the same seed would give different scenes per standard library.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller; the second value is discarded to keep the stream simple).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

 private:
  std::mt19937_64 engine_;
};

constexpr double kLogRadiusStddev = 0.5;  // lognormal spread of the screen radius
constexpr double kMinRadiusPx = 0.5, kMaxRadiusPx = 30.0;
constexpr double kAxisLogStddev = 0.35;  // per-axis anisotropy around the geometric mean
constexpr double kOpacityLogitStddev = 2.0;
constexpr double kHigherShStddev = 0.03;  // view-dependent colour: small, as after training

}  // namespace

Gaussians make_benchmark_scene(size_t n, const Camera& camera, uint64_t seed) {
  check_camera(camera, "benchmark camera");
  Random rng(seed);
  Gaussians g;
  g.sh_degree = 3;
  g.resize(n);
  const int k_count = g.sh_coeffs();
  const double focal = std::sqrt(camera.fx * camera.fy);
  for (size_t i = 0; i < n; ++i) {
    // Mean: a random point of the image at a random depth, back-projected to world.
    const double u = rng.uniform(0.0, camera.width), v = rng.uniform(0.0, camera.height);
    const double z = rng.uniform(kBenchmarkSceneNearDepth, kBenchmarkSceneFarDepth);
    const Vec3<double> p_in_cam{(u - camera.cx) / camera.fx * z, (v - camera.cy) / camera.fy * z,
                                z};
    const Vec3<double> p_in_world = mul_transposed(camera.rotation, p_in_cam - camera.translation);
    for (int a = 0; a < 3; ++a) g.means[3 * i + a] = static_cast<float>(p_in_world[a]);

    // Scale: 3 sigma on screen = radius_px, i.e. sigma_world = radius_px z / (3 f).
    const double radius_px =
        std::clamp(kBenchmarkSceneMedianRadiusPx * std::exp(rng.normal(0.0, kLogRadiusStddev)),
                   kMinRadiusPx, kMaxRadiusPx);
    const double log_sigma = std::log(radius_px * z / (3.0 * focal));
    double offsets[3];
    for (double& o : offsets) o = rng.normal(0.0, kAxisLogStddev);
    const double mean_offset = (offsets[0] + offsets[1] + offsets[2]) / 3.0;
    for (int a = 0; a < 3; ++a)
      g.log_scales[3 * i + a] = static_cast<float>(log_sigma + offsets[a] - mean_offset);

    // Rotation: a normalised 4D Gaussian is uniform on the unit quaternion sphere.
    double q[4], q_norm = 0.0;
    do {
      q_norm = 0.0;
      for (double& c : q) {
        c = rng.normal();
        q_norm += c * c;
      }
    } while (q_norm < 1e-12);
    q_norm = std::sqrt(q_norm);
    for (int a = 0; a < 4; ++a) g.quats[4 * i + a] = static_cast<float>(q[a] / q_norm);

    g.opacity_logits[i] = static_cast<float>(rng.normal(0.0, kOpacityLogitStddev));

    float* sh = &g.sh[i * k_count * 3];
    for (int c = 0; c < 3; ++c) sh[c] = static_cast<float>((rng.uniform(0.05, 0.95) - 0.5) / kShC0);
    for (int k = 1; k < k_count; ++k)
      for (int c = 0; c < 3; ++c)
        sh[3 * k + c] = static_cast<float>(rng.normal(0.0, kHigherShStddev));
  }
  return g;
}

Camera make_benchmark_camera(int width, int height) {
  GLIMPSE_CHECK(width > 0 && height > 0)
      << "benchmark camera: image size must be positive, got " << width << "x" << height;
  Camera c;
  c.width = width;
  c.height = height;
  c.fx = c.fy = 0.8 * width;
  c.cx = 0.5 * width;
  c.cy = 0.5 * height;
  return c;
}

}  // namespace glimpse
