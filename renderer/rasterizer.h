// The rasterizer interface shared by the CPU and CUDA backends: plain request, output and
// gradient structs, and a backend factory.
#pragma once

#include "core/camera.h"
#include "core/image.h"
#include "renderer/gaussians.h"
#include "renderer/kernels/constants.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace glimpse {

// How far a splat reaches on screen.
enum class ExtentMode {
  ThreeSigma,    // 3 standard deviations (the reference 3DGS bound)
  OpacityAware,  // exactly where o exp(-d^2/2) falls below 1/255; never misses a fragment
};

// The 2D low-pass filter.
enum class AntiAliasing {
  Off,           // classic 3DGS: add 0.3 px^2 to the 2D covariance
  MipSplatting,  // Mip-Splatting's 2D filter: the same blur with opacity compensation
};

enum class Backend { Cpu, Cuda };

struct RenderOptions {
  int sh_degree = 3;                      // SH degree used for colour (clamped to the model's)
  Vec3<float> background{0.f, 0.f, 0.f};  // colour behind the splats, RGB in [0, 1]
  float near_plane = kDefaultNearPlane;   // splats with camera depth below this are culled
  float far_plane = 1e6f;                 // and beyond this
  ExtentMode extent = ExtentMode::OpacityAware;
  AntiAliasing antialiasing = AntiAliasing::Off;
  float blur = kCov2dBlur;  // low-pass filter variance in pixels^2

  // Throws glimpse::Error for out-of-range values (negative SH degree or above 3, near >= far,
  // non-positive near, NaN background, negative blur).
  void check() const;
};

// Per-view outputs. Images are width x height; depth is the camera-space z of the splats.
template <typename T>
struct RenderOutputT {
  Image<T> rgb;           // 3 channels, composited over the background
  Image<T> alpha;         // 1 channel, 1 - final transmittance
  Image<T> depth;         // 1 channel, expected depth sum(w z) / sum(w) (0 where alpha ~ 0)
  Image<T> median_depth;  // 1 channel, z of the fragment where transmittance crosses 0.5 (0: none)
  std::vector<int32_t> radii;  // [N] screen radius in pixels; 0 = not visible in this view
  // Work counters (for benchmarks and densification statistics).
  int64_t num_visible = 0;      // Gaussians that passed culling
  int64_t num_instances = 0;    // (Gaussian, tile) pairs
  int64_t num_evaluations = 0;  // Gaussian-pixel evaluations in the forward pass
};
using RenderOutput = RenderOutputT<float>;

// Upstream gradients of a loss with respect to the outputs; empty images mean zero.
template <typename T>
struct RenderOutputGradientsT {
  Image<T> rgb, alpha, depth, median_depth;
};
using RenderOutputGradients = RenderOutputGradientsT<float>;

// Densification statistics (3DGS's): per Gaussian, over the backward passes since the last reset,
// the sum of the norms of d loss / d (2D mean) in NDC units, the number of passes whose view saw
// it, and its largest screen radius in pixels. A backward pass given one adds its view as it
// writes the 2D-mean gradients (no second pass over them).
struct ScreenGradientStats {
  std::vector<float> grad_norm_sum;  // [N]
  std::vector<int32_t> views;        // [N]
  std::vector<float> max_radius;     // [N]

  size_t size() const { return views.size(); }
  void reset(size_t n);  // n Gaussians, all statistics zero
  // Gaussian i seen with screen radius `radius` (> 0) and 2D-mean gradient (g_u, g_v) in pixels,
  // in a view of width x height (d pixel / d NDC = size / 2).
  void add(size_t i, float g_u, float g_v, int32_t radius, int width, int height) {
    const float gx = g_u * (0.5f * static_cast<float>(width));
    const float gy = g_v * (0.5f * static_cast<float>(height));
    grad_norm_sum[i] += std::sqrt(gx * gx + gy * gy);
    views[i] += 1;
    max_radius[i] = std::max(max_radius[i], static_cast<float>(radius));
  }
  // One view from its radii ([N], 0: not seen) and 2D-mean gradients ([N, 2]) as a separate pass:
  // for backends that do not fuse it, and as the reference the fused paths are tested against.
  void add_view(const std::vector<int32_t>& radii, const std::vector<float>& means2d, int width,
                int height);
};

// A rasterizer keeps the state of its last forward pass for the backward pass, so one object
// serves one render at a time (use one per thread).
class Rasterizer {
 public:
  virtual ~Rasterizer() = default;
  virtual Backend backend() const = 0;
  virtual std::string name() const = 0;
  // Renders `gaussians` seen by `camera`. Validates the inputs first (glimpse::Error on bad ones).
  virtual void forward(const Gaussians& gaussians, const Camera& camera,
                       const RenderOptions& options, RenderOutput& out) = 0;
  // Gradients with respect to the inputs of the last forward(), which must have been called with
  // the same arguments. `grads` is resized and overwritten. With `stats`, the view's
  // densification statistics are added to it (reset to the Gaussian count first if its size
  // differs).
  virtual void backward(const Gaussians& gaussians, const Camera& camera,
                        const RenderOptions& options, const RenderOutputGradients& v_out,
                        GaussianGradients& grads, ScreenGradientStats* stats = nullptr) = 0;
};

// The CPU backend with `num_threads` threads (0: all hardware threads).
std::unique_ptr<Rasterizer> make_cpu_rasterizer(int num_threads = 0);
// The CUDA backend; throws glimpse::Error when Glimpse was built without CUDA or no device exists.
std::unique_ptr<Rasterizer> make_cuda_rasterizer();
bool cuda_backend_available();

// Checks shared by the backends: camera valid, options valid, Gaussians finite with consistent
// shapes. `what` names the source (e.g. the file the Gaussians came from).
void check_render_inputs(const Gaussians& gaussians, const Camera& camera,
                         const RenderOptions& options);

}  // namespace glimpse
