// Depth back-projection initialiser (see init_from_depth.h).
#include "priors/init_from_depth.h"

#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace glimpse {

void DepthInitOptions::check() const {
  GLIMPSE_CHECK(stride >= 1) << "depth init: stride must be >= 1, got " << stride;
  GLIMPSE_CHECK(opacity > 0.0f && opacity < 1.0f)
      << "depth init: opacity must be in (0, 1), got " << opacity;
  GLIMPSE_CHECK(std::isfinite(scale_factor) && scale_factor > 0.0f)
      << "depth init: scale_factor must be positive and finite, got " << scale_factor;
}

Gaussians init_from_depth(const std::vector<View>& views, const std::vector<Image<float>>& depths,
                          const DepthInitOptions& options, int sh_degree) {
  options.check();
  GLIMPSE_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree)
      << "depth init: SH degree must be in 0.." << kMaxShDegree << ", got " << sh_degree;
  GLIMPSE_CHECK_EQ(views.size(), depths.size()) << "depth init: one depth map per view";
  for (size_t i = 0; i < views.size(); ++i) {
    const View& view = views[i];
    const std::string what = "depth init: view " + std::to_string(i) + " (" + view.name + ")";
    check_camera(view.camera, what);
    const int w = view.camera.width, h = view.camera.height;
    GLIMPSE_CHECK(view.image.width() == w && view.image.height() == h && view.image.channels() == 3)
        << what << ": needs a loaded RGB image of the camera's size " << w << "x" << h << ", got "
        << view.image.width() << "x" << view.image.height() << "x" << view.image.channels();
    GLIMPSE_CHECK(depths[i].width() == w && depths[i].height() == h && depths[i].channels() == 1)
        << what << ": depth map must be " << w << "x" << h << "x1, got " << depths[i].width() << "x"
        << depths[i].height() << "x" << depths[i].channels();
  }

  Gaussians g;
  g.sh_degree = sh_degree;
  const int k_count = g.sh_coeffs();
  const int s = options.stride;
  const float logit = std::log(options.opacity / (1.0f - options.opacity));
  for (size_t i = 0; i < views.size(); ++i) {
    const View& view = views[i];
    const Camera& cam = view.camera;
    const Image<float>& depth = depths[i];
    const double focal = std::sqrt(cam.fx * cam.fy);
    for (int y0 = 0; y0 < cam.height; y0 += s) {
      const int bh = std::min(s, cam.height - y0);
      for (int x0 = 0; x0 < cam.width; x0 += s) {
        const int bw = std::min(s, cam.width - x0);
        const int px = x0 + bw / 2, py = y0 + bh / 2;
        const float z = depth.at(px, py);
        if (!std::isfinite(z) || z <= 0.0f) continue;
        // Ray through the pixel centre (px + 0.5, py + 0.5) at camera depth z, then to world:
        // p_in_world = R^T (p_in_cam - t).
        const Vec3<double> p_in_cam{(px + 0.5 - cam.cx) / cam.fx * z,
                                    (py + 0.5 - cam.cy) / cam.fy * z, static_cast<double>(z)};
        const Vec3<double> p_in_world = mul_transposed(cam.rotation, p_in_cam - cam.translation);
        // Block mean colour.
        double rgb[3] = {0.0, 0.0, 0.0};
        for (int y = y0; y < y0 + bh; ++y)
          for (int x = x0; x < x0 + bw; ++x)
            for (int c = 0; c < 3; ++c) rgb[c] += view.image.at(x, y, c);
        const double inv_count = 1.0 / (static_cast<double>(bw) * bh);
        const double sigma = options.scale_factor * s * static_cast<double>(z) / focal;

        const size_t n = g.size();
        g.means.insert(g.means.end(),
                       {static_cast<float>(p_in_world.x), static_cast<float>(p_in_world.y),
                        static_cast<float>(p_in_world.z)});
        const float log_sigma = static_cast<float>(std::log(sigma));
        g.log_scales.insert(g.log_scales.end(), {log_sigma, log_sigma, log_sigma});
        g.quats.insert(g.quats.end(), {1.0f, 0.0f, 0.0f, 0.0f});
        g.opacity_logits.push_back(logit);
        g.sh.resize((n + 1) * k_count * 3, 0.0f);
        float* sh = &g.sh[n * k_count * 3];
        for (int c = 0; c < 3; ++c) sh[c] = static_cast<float>((rgb[c] * inv_count - 0.5) / kShC0);
      }
    }
  }
  g.check("depth init");
  return g;
}

Image<float> constant_depth(int width, int height, float depth) {
  GLIMPSE_CHECK(width > 0 && height > 0)
      << "constant depth: size must be positive, got " << width << "x" << height;
  GLIMPSE_CHECK(std::isfinite(depth)) << "constant depth: depth must be finite, got " << depth;
  return Image<float>(width, height, 1, depth);
}

}  // namespace glimpse
