// CPU vs CUDA parity (ctest label `gpu`): forward RGB, alpha, depth, median depth and every
// gradient (means, log-scales, quaternions, opacity logits, SH, 2D means, pose) of the two backends
// on random scenes. Plain C++ with its own checks (no GoogleTest) so it builds on a bare CUDA
// machine. Without a CUDA device it prints "GPU tests did not run: no CUDA device" and exits 77,
// which ctest reports as skipped (SKIP_RETURN_CODE).
//
// Tolerances: an array matches when all but `allowed` of its elements satisfy
// |cuda - cpu| <= rel * max(|cpu|, |cuda|) over the array (its largest magnitude). The allowance is
// for boundary fragments: the two backends compute the same floats with different rounding (FMA
// contraction, the CPU's polynomial exp), so a fragment exactly on the support, alpha 1/255 or the
// 1e-4 transmittance stop can fall on different sides, changing a pixel or one splat's gradient.
#include "core/check.h"
#include "renderer/cuda/cuda_device.h"
#include "renderer/cuda/cuda_rasterizer.h"
#include "renderer/kernels/projection.h"
#include "renderer/kernels/splat_support.h"
#include "renderer/rasterizer.h"
#include "tests/support/random_scene.h"

#if defined(GLIMPSE_HAVE_BENCHMARK_SCENE)
#include "renderer/synthetic_scene.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace glimpse {
namespace {

constexpr int kSkipped = 77;  // ctest SKIP_RETURN_CODE

// Stated tolerances (see the header comment).
constexpr double kImageRel = 1e-4;       // colour, alpha, depth: of the image's largest value
constexpr double kImageAllowed = 0.005;  // fraction of pixels (boundary fragments)
constexpr double kMedianAllowed = 0.01;  // median depth jumps where T crosses 0.5 differently
constexpr double kGradRel = 5e-4;        // per-Gaussian gradients: of the array's largest value
constexpr double kGradAllowed = 0.01;    // fraction of elements (Gaussians with a boundary pixel)
constexpr double kPoseRel = 1e-3;        // pose: of its largest entry, plus the summation floor
constexpr double kPoseSumFloor = 1e-5;   //   times sum_i |v_mean_i| (|mean_i| + 1)
constexpr double kRadiiAllowed = 0.001;  // Gaussians whose culling or radius differs

int g_passed = 0, g_failed = 0;

void report(bool ok, const std::string& what, const std::string& detail) {
  (ok ? g_passed : g_failed)++;
  std::printf("  [%s] %-28s %s\n", ok ? " ok " : "FAIL", what.c_str(), detail.c_str());
}

std::string format(const char* fmt, double a, double b, double c, double d) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, a, b, c, d);
  return buf;
}

// The tolerance rule of the header comment; prints the measured errors either way.
bool compare(const std::string& what, const std::vector<float>& cpu, const std::vector<float>& gpu,
             double rel, double allowed_fraction, double abs_floor = 0.0) {
  if (cpu.size() != gpu.size()) {
    report(
        false, what,
        "sizes differ: cpu " + std::to_string(cpu.size()) + ", cuda " + std::to_string(gpu.size()));
    return false;
  }
  double scale = 0.0;
  for (size_t i = 0; i < cpu.size(); ++i)
    scale = std::max({scale, std::fabs(double(cpu[i])), std::fabs(double(gpu[i]))});
  const double tol = rel * scale + abs_floor;
  size_t over = 0, non_finite = 0;
  double max_err = 0.0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (!std::isfinite(gpu[i])) {
      ++non_finite;
      continue;
    }
    const double e = std::fabs(double(cpu[i]) - double(gpu[i]));
    max_err = std::max(max_err, e);
    if (e > tol) ++over;
  }
  const size_t allowed = static_cast<size_t>(allowed_fraction * double(cpu.size()));
  const bool ok = non_finite == 0 && over <= allowed;
  report(ok, what,
         format("max|diff| %.3g (%.2g of scale %.3g), %.0f", max_err,
                scale > 0 ? max_err / scale : 0.0, scale, double(over)) +
             " over tolerance (allowed " + std::to_string(allowed) + " of " +
             std::to_string(cpu.size()) + ")" +
             (non_finite ? ", " + std::to_string(non_finite) + " non-finite" : ""));
  return ok;
}

void check(bool ok, const std::string& what, const std::string& detail = "") {
  report(ok, what, detail);
}

struct Case {
  std::string name;
  Gaussians gaussians;
  Camera camera;
  RenderOptions options;
  bool grad_rgb = true, grad_alpha = true, grad_depth = true, grad_median = true;
};

RenderOutputGradients random_output_gradients(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int w = c.camera.width, h = c.camera.height;
  RenderOutputGradients v;
  auto fill = [&](Image<float>& img, int channels, float scale) {
    img = Image<float>(w, h, channels);
    for (float& x : img.vector()) x = scale * u(rng);
  };
  if (c.grad_rgb) fill(v.rgb, 3, 1.f);
  if (c.grad_alpha) fill(v.alpha, 1, 0.5f);
  if (c.grad_depth) fill(v.depth, 1, 0.2f);
  if (c.grad_median) fill(v.median_depth, 1, 0.2f);
  return v;
}

// Forward and backward on both backends; compares everything.
void run_case(const Case& c, Rasterizer& cpu, Rasterizer& gpu, uint32_t seed) {
  std::printf("%s: %zu Gaussians (SH %d, options SH %d), %dx%d, %s extent, %s\n", c.name.c_str(),
              c.gaussians.size(), c.gaussians.sh_degree, c.options.sh_degree, c.camera.width,
              c.camera.height,
              c.options.extent == ExtentMode::OpacityAware ? "opacity-aware" : "3-sigma",
              c.options.antialiasing == AntiAliasing::MipSplatting ? "Mip-Splatting" : "no AA");
  try {
    RenderOutput out_cpu, out_gpu;
    cpu.forward(c.gaussians, c.camera, c.options, out_cpu);
    gpu.forward(c.gaussians, c.camera, c.options, out_gpu);
    compare("rgb", out_cpu.rgb.vector(), out_gpu.rgb.vector(), kImageRel, kImageAllowed);
    compare("alpha", out_cpu.alpha.vector(), out_gpu.alpha.vector(), kImageRel, kImageAllowed);
    compare("depth", out_cpu.depth.vector(), out_gpu.depth.vector(), kImageRel, kImageAllowed);
    compare("median depth", out_cpu.median_depth.vector(), out_gpu.median_depth.vector(), kImageRel,
            kMedianAllowed);
    size_t radii_diff = 0;
    for (size_t i = 0; i < out_cpu.radii.size() && i < out_gpu.radii.size(); ++i)
      radii_diff += out_cpu.radii[i] != out_gpu.radii[i];
    const size_t radii_allowed = static_cast<size_t>(kRadiiAllowed * double(c.gaussians.size()));
    check(out_cpu.radii.size() == out_gpu.radii.size() && radii_diff <= radii_allowed, "radii",
          std::to_string(radii_diff) + " differ (allowed " + std::to_string(radii_allowed) + ")");
    const int64_t vis_diff = std::llabs(out_cpu.num_visible - out_gpu.num_visible);
    check(vis_diff <= static_cast<int64_t>(radii_allowed), "visible count",
          "cpu " + std::to_string(out_cpu.num_visible) + ", cuda " +
              std::to_string(out_gpu.num_visible) + "; instances cpu " +
              std::to_string(out_cpu.num_instances) + ", cuda " +
              std::to_string(out_gpu.num_instances) + " (cuda bins per band of rows: fewer)");

    const RenderOutputGradients v = random_output_gradients(c, seed);
    GaussianGradients g_cpu, g_gpu;
    cpu.backward(c.gaussians, c.camera, c.options, v, g_cpu);
    gpu.backward(c.gaussians, c.camera, c.options, v, g_gpu);
    compare("v_means", g_cpu.means, g_gpu.means, kGradRel, kGradAllowed);
    compare("v_log_scales", g_cpu.log_scales, g_gpu.log_scales, kGradRel, kGradAllowed);
    compare("v_quats", g_cpu.quats, g_gpu.quats, kGradRel, kGradAllowed);
    compare("v_opacity_logits", g_cpu.opacity_logits, g_gpu.opacity_logits, kGradRel, kGradAllowed);
    compare("v_sh", g_cpu.sh, g_gpu.sh, kGradRel, kGradAllowed);
    compare("v_means2d", g_cpu.means2d, g_gpu.means2d, kGradRel, kGradAllowed);
    // Pose: sums over all Gaussians whose terms cancel, so the floor scales with their size.
    double mean_terms = 0.0, rot_terms = 0.0;
    for (size_t i = 0; i < c.gaussians.size(); ++i) {
      double vm = 0.0, pm = 0.0;
      for (int a = 0; a < 3; ++a) {
        vm += std::fabs(g_cpu.means[3 * i + a]);
        pm += std::fabs(c.gaussians.means[3 * i + a]);
      }
      mean_terms += vm;
      rot_terms += vm * (pm + 1.0);
    }
    std::vector<float> rot_cpu, rot_gpu, trans_cpu, trans_gpu;
    for (int r = 0; r < 3; ++r) {
      for (int col = 0; col < 3; ++col) {
        rot_cpu.push_back(g_cpu.v_rotation[r][col]);
        rot_gpu.push_back(g_gpu.v_rotation[r][col]);
      }
      trans_cpu.push_back(g_cpu.v_translation[r]);
      trans_gpu.push_back(g_gpu.v_translation[r]);
    }
    compare("v_rotation", rot_cpu, rot_gpu, kPoseRel, 0.0, kPoseSumFloor * rot_terms);
    compare("v_translation", trans_cpu, trans_gpu, kPoseRel, 0.0, kPoseSumFloor * mean_terms);
  } catch (const std::exception& e) {
    check(false, "exception", e.what());
  }
}

Case random_case(const std::string& name, int n, int sh_degree, uint32_t seed, double radius_px,
                 int width, int height) {
  Case c;
  c.name = name;
  c.gaussians = testing::random_gaussians<float>(n, sh_degree, seed, radius_px, width, height);
  c.camera = testing::test_camera<double>(width, height, 0.05);
  c.options.background = {0.1f, 0.2f, 0.3f};
  return c;
}

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  cases.push_back(random_case("basic", 300, 3, 1, 4.0, 64, 48));
  {
    Case c = random_case("3-sigma, Mip-Splatting, odd size", 800, 2, 2, 6.0, 97, 61);
    c.options.extent = ExtentMode::ThreeSigma;
    c.options.antialiasing = AntiAliasing::MipSplatting;
    cases.push_back(std::move(c));
  }
  {
    // Hundreds of instances per tile: several shared-memory batches and buckets per tile, the
    // transmittance stop and the all-pixels-done exit.
    Case c = random_case("dense", 6000, 3, 3, 3.0, 160, 120);
    c.options.background = {0.f, 0.f, 0.f};
    cases.push_back(std::move(c));
  }
  cases.push_back(random_case("large splats", 200, 1, 4, 30.0, 128, 96));
  {
    Case c = random_case("SH clamped by the options", 500, 3, 5, 5.0, 80, 64);
    c.options.sh_degree = 1;
    c.grad_alpha = c.grad_median = false;
    cases.push_back(std::move(c));
  }
  {
    Case c = random_case("only an rgb gradient, 3-sigma", 2000, 0, 6, 4.0, 200, 150);
    c.options.extent = ExtentMode::ThreeSigma;
    c.grad_alpha = c.grad_depth = c.grad_median = false;
    cases.push_back(std::move(c));
  }
  {
    Case c = random_case("many tiles", 20000, 3, 7, 3.0, 512, 384);
    c.options.antialiasing = AntiAliasing::MipSplatting;
    cases.push_back(std::move(c));
  }
  {
    Case c = random_case("empty scene", 0, 3, 8, 4.0, 40, 30);
    cases.push_back(std::move(c));
  }
  {
    Case c = random_case("everything behind the camera", 100, 1, 9, 4.0, 48, 32);
    for (size_t i = 0; i < c.gaussians.size(); ++i) c.gaussians.means[3 * i + 2] *= -1.f;
    cases.push_back(std::move(c));
  }
#if defined(GLIMPSE_HAVE_BENCHMARK_SCENE)
  {
    Case c;
    c.name = "benchmark scene";
    c.camera = make_benchmark_camera(504, 378);
    c.gaussians = make_benchmark_scene(30000, c.camera, 11);
    cases.push_back(std::move(c));
  }
#endif
  return cases;
}

// The same forward twice gives identical images (no atomics in the forward pass), also after
// rendering a different scene in between (scratch buffers reused, not reset).
void check_determinism_and_reuse(Rasterizer& gpu, const Case& big, const Case& small) {
  std::printf("determinism and scratch reuse\n");
  try {
    RenderOutput a, b, tmp;
    gpu.forward(big.gaussians, big.camera, big.options, a);
    gpu.forward(small.gaussians, small.camera, small.options, tmp);
    gpu.forward(big.gaussians, big.camera, big.options, b);
    check(a.rgb.vector() == b.rgb.vector() && a.alpha.vector() == b.alpha.vector() &&
              a.depth.vector() == b.depth.vector() &&
              a.median_depth.vector() == b.median_depth.vector() && a.radii == b.radii,
          "forward is deterministic");
  } catch (const std::exception& e) {
    check(false, "exception", e.what());
  }
}

void check_errors(const Case& c) {
  std::printf("errors\n");
  auto throws = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error&) {
      return true;
    } catch (...) {
    }
    return false;
  };
  auto gpu = make_cuda_rasterizer();
  GaussianGradients grads;
  check(throws([&] { gpu->backward(c.gaussians, c.camera, c.options, {}, grads); }),
        "backward before forward throws");
  RenderOutput out;
  gpu->forward(c.gaussians, c.camera, c.options, out);
  RenderOutputGradients bad;
  bad.rgb = Image<float>(c.camera.width + 1, c.camera.height, 3);
  check(throws([&] { gpu->backward(c.gaussians, c.camera, c.options, bad, grads); }),
        "wrong gradient image size throws");
  Gaussians nan = c.gaussians;
  nan.means[0] = std::nanf("");
  check(throws([&] { gpu->forward(nan, c.camera, c.options, out); }), "NaN parameter throws");
}

// Host-only (runs without a device): the CUDA backend bins a splat to the tiles of
// splat_band_columns per band of 16 rows; every pixel of splat_row_span (the fragments both
// backends blend) must lie in those columns, or the CUDA image would lose fragments.
bool check_binning_is_conservative() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int w = 300, h = 250;
  int64_t pairs = 0, missed = 0;
  for (int it = 0; it < 20000; ++it) {
    const float sx = std::exp(3.f * u(rng)), sy = std::exp(3.f * u(rng)), th = 3.14159f * u(rng);
    const float c = std::cos(th), s = std::sin(th);
    const Vec3<float> cov{c * c * sx * sx + s * s * sy * sy + kCov2dBlur,
                          c * s * (sx * sx - sy * sy),
                          s * s * sx * sx + c * c * sy * sy + kCov2dBlur};
    Vec3<float> con;
    if (!inverse_sym2(cov, con)) continue;
    const float opacity = 0.005f + 0.995f * (0.5f * u(rng) + 0.5f);
    const float k = (it & 1) ? kExtentSigma : extent_sigmas(opacity, true);
    const float sigma_max = 0.5f * k * k;
    const float mx = 200.f * u(rng) + 150.f, my = 200.f * u(rng) + 125.f;
    int32_t x0, x1, y0, y1;
    if (!splat_pixel_range(mx, k * std::sqrt(cov.x), w, x0, x1) ||
        !splat_pixel_range(my, k * std::sqrt(cov.z), h, y0, y1))
      continue;
    for (int ty = y0 / kTileSize; ty <= y1 / kTileSize; ++ty) {
      const int row_lo = std::max(y0, ty * kTileSize), row_hi = std::min(y1, ty * kTileSize + 15);
      int col_lo = 0, col_hi = -1;
      const bool band = splat_band_columns(mx, my, con.x, con.y, con.z, sigma_max, x0, x1, row_lo,
                                           row_hi, col_lo, col_hi);
      for (int tx = x0 / kTileSize; tx <= x1 / kTileSize; ++tx) {
        const int px0 = tx * kTileSize;
        const int lx0 = std::max(x0 - px0, 0), lx1 = std::min(x1 - px0, kTileSize - 1);
        for (int y = row_lo; y <= row_hi; ++y) {
          int lo, hi;
          if (!splat_row_span(mx, my, con.x, con.y, con.z, sigma_max, y, px0, lx0, lx1, lo, hi))
            continue;
          ++pairs;
          if (!band || px0 + lo < col_lo || px0 + hi > col_hi) ++missed;
        }
      }
    }
  }
  check(missed == 0 && pairs > 0, "tile binning is conservative",
        std::to_string(missed) + " of " + std::to_string(pairs) + " row spans outside the bins");
  return missed == 0;
}

int run() {
  std::printf("host checks\n");
  if (!check_binning_is_conservative()) {
    std::printf("gpu parity: %d passed, %d failed\n", g_passed, g_failed);
    return 1;
  }
  if (cuda_device_count() == 0) {
    std::printf("GPU tests did not run: no CUDA device\n");
    return kSkipped;
  }
  std::printf("device: %s\n", cuda_device_description().c_str());
  auto cpu = make_cpu_rasterizer();
  auto gpu = make_cuda_rasterizer();
  std::printf("backends: %s vs %s\n", cpu->name().c_str(), gpu->name().c_str());
  std::vector<Case> cases = make_cases();
  uint32_t seed = 100;
  for (const Case& c : cases) run_case(c, *cpu, *gpu, seed++);
  check_determinism_and_reuse(*gpu, cases[2], cases[0]);
  check_errors(cases[0]);
  std::printf("gpu parity: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace glimpse

int main() {
  try {
    return glimpse::run();
  } catch (const std::exception& e) {
    std::printf("gpu parity: aborted: %s\n", e.what());
    return 1;
  }
}
