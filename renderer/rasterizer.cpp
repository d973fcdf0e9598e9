// Validation shared by the backends and the CPU backend behind the Rasterizer interface.
#include "renderer/rasterizer.h"

#include "core/check.h"
#include "renderer/cpu/cpu_rasterizer.h"

#include <cmath>

namespace glimpse {

void RenderOptions::check() const {
  GLIMPSE_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree)
      << "render option sh_degree must be 0..3, got " << sh_degree;
  GLIMPSE_CHECK(std::isfinite(near_plane) && near_plane > 0)
      << "render option near_plane must be positive, got " << near_plane;
  GLIMPSE_CHECK(std::isfinite(far_plane) && far_plane > near_plane)
      << "render option far_plane must exceed near_plane (" << near_plane << "), got " << far_plane;
  GLIMPSE_CHECK(std::isfinite(blur) && blur >= 0)
      << "render option blur must be >= 0, got " << blur;
  for (int c = 0; c < 3; ++c)
    GLIMPSE_CHECK(std::isfinite(background[c])) << "render option background is not finite";
}

void ScreenGradientStats::reset(size_t n) {
  grad_norm_sum.assign(n, 0.f);
  views.assign(n, 0);
  max_radius.assign(n, 0.f);
}

void ScreenGradientStats::add_view(const std::vector<int32_t>& radii,
                                   const std::vector<float>& means2d, int width, int height) {
  GLIMPSE_CHECK(means2d.size() == 2 * radii.size())
      << "densification statistics: " << radii.size() << " radii but " << means2d.size() / 2
      << " 2D-mean gradients";
  if (size() != radii.size()) reset(radii.size());
  for (size_t i = 0; i < radii.size(); ++i)
    if (radii[i] > 0) add(i, means2d[2 * i], means2d[2 * i + 1], radii[i], width, height);
}

void check_render_inputs(const Gaussians& gaussians, const Camera& camera,
                         const RenderOptions& options) {
  options.check();
  check_camera(camera, "render camera");
  gaussians.check("gaussians");
}

namespace {

class CpuRasterizer final : public Rasterizer {
 public:
  explicit CpuRasterizer(int num_threads) : impl_(num_threads) {}
  Backend backend() const override { return Backend::Cpu; }
  std::string name() const override {
    return "cpu (" + std::to_string(impl_.num_threads()) + " threads)";
  }
  void forward(const Gaussians& gaussians, const Camera& camera, const RenderOptions& options,
               RenderOutput& out) override {
    // The parameters' values are checked by the preprocess pass as it reads them (a separate
    // serial scan of every parameter cost ~5% of a training step at 2 threads).
    options.check();
    check_camera(camera, "render camera");
    gaussians.check_shapes("gaussians");
    impl_.forward(gaussians, camera.cast<float>(), options, out);
  }
  void backward(const Gaussians& gaussians, const Camera& camera, const RenderOptions& options,
                const RenderOutputGradients& v_out, GaussianGradients& grads,
                ScreenGradientStats* stats) override {
    impl_.backward(gaussians, camera.cast<float>(), options, v_out, grads, stats);
  }

 private:
  CpuRasterizerT<float> impl_;
};

}  // namespace

std::unique_ptr<Rasterizer> make_cpu_rasterizer(int num_threads) {
  GLIMPSE_CHECK(num_threads >= 0) << "thread count must be >= 0 (0: all), got " << num_threads;
  return std::make_unique<CpuRasterizer>(num_threads);
}

}  // namespace glimpse
