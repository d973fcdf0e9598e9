// Depth back-projection initialiser (see init_from_depth.h).
#include "priors/init_from_depth.h"

#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

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

Image<float> fill_depth_holes(const Image<float>& depth) {
  GLIMPSE_CHECK(depth.channels() == 1)
      << "depth fill: the map must have 1 channel, it has " << depth.channels();
  // Level 0: value * weight and weight (1 where valid).
  struct Level {
    int w = 0, h = 0;
    std::vector<double> sum, weight;
  };
  // levels[0] is re-read after the pyramid grows (push_back moves the levels).
  std::vector<Level> levels(1);
  {
    Level& base = levels[0];
    base.w = depth.width(), base.h = depth.height();
    base.sum.assign(depth.num_pixels(), 0.0);
    base.weight.assign(depth.num_pixels(), 0.0);
  }
  bool any = false;
  for (size_t p = 0; p < depth.num_pixels(); ++p) {
    const float d = depth.data()[p];
    if (std::isfinite(d) && d > 0.f) levels[0].sum[p] = d, levels[0].weight[p] = 1.0, any = true;
  }
  if (!any) return depth;
  // Push: 2x2 sums up to one pixel.
  while (levels.back().w > 1 || levels.back().h > 1) {
    const Level& fine = levels.back();
    Level coarse;
    coarse.w = (fine.w + 1) / 2, coarse.h = (fine.h + 1) / 2;
    coarse.sum.assign(static_cast<size_t>(coarse.w) * coarse.h, 0.0);
    coarse.weight.assign(coarse.sum.size(), 0.0);
    for (int y = 0; y < fine.h; ++y)
      for (int x = 0; x < fine.w; ++x) {
        const size_t f = static_cast<size_t>(y) * fine.w + x;
        const size_t c = static_cast<size_t>(y / 2) * coarse.w + x / 2;
        coarse.sum[c] += fine.sum[f];
        coarse.weight[c] += fine.weight[f];
      }
    levels.push_back(std::move(coarse));
  }
  // Pull: each level's empty pixels take the coarser level's bilinear mean (sampled at the pixel's
  // centre); partially covered pixels keep their own mean.
  std::vector<double> value(1, levels.back().sum[0] / levels.back().weight[0]);
  for (size_t l = levels.size() - 1; l-- > 0;) {
    const Level& fine = levels[l];
    const int cw = levels[l + 1].w, ch = levels[l + 1].h;
    std::vector<double> next(fine.sum.size());
    for (int y = 0; y < fine.h; ++y)
      for (int x = 0; x < fine.w; ++x) {
        const size_t f = static_cast<size_t>(y) * fine.w + x;
        if (fine.weight[f] > 0.0) {
          next[f] = fine.sum[f] / fine.weight[f];
          continue;
        }
        const double u = std::clamp((x + 0.5) / 2.0 - 0.5, 0.0, static_cast<double>(cw - 1));
        const double v = std::clamp((y + 0.5) / 2.0 - 0.5, 0.0, static_cast<double>(ch - 1));
        const int x0 = static_cast<int>(u), y0 = static_cast<int>(v);
        const int x1 = std::min(x0 + 1, cw - 1), y1 = std::min(y0 + 1, ch - 1);
        const double fx = u - x0, fy = v - y0;
        auto at = [&](int xx, int yy) { return value[static_cast<size_t>(yy) * cw + xx]; };
        next[f] = (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) +
                  (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
      }
    value = std::move(next);
  }
  Image<float> out = depth;
  for (size_t p = 0; p < out.num_pixels(); ++p)
    if (levels[0].weight[p] == 0.0) out.data()[p] = static_cast<float>(value[p]);
  return out;
}

std::vector<Image<float>> uncovered_pixel_depths(const std::vector<View>& views,
                                                 const std::vector<Image<float>>& depths,
                                                 float behind) {
  GLIMPSE_CHECK(behind >= 0.f && behind <= 1.f)
      << "uncovered pixels: the 'behind' quantile must be in [0, 1], got " << behind;
  GLIMPSE_CHECK_EQ(views.size(), depths.size()) << "uncovered pixels: one depth map per view";
  std::vector<Image<float>> out;
  for (size_t i = 0; i < views.size(); ++i) {
    const View& v = views[i];
    const Image<float>& d = depths[i];
    GLIMPSE_CHECK(d.width() == v.camera.width && d.height() == v.camera.height && d.channels() == 1)
        << "uncovered pixels: the depth map of view " << v.name << " is " << d.width() << "x"
        << d.height() << "x" << d.channels() << ", the view " << v.camera.width << "x"
        << v.camera.height;
    const bool masked = !v.mask.empty();
    GLIMPSE_CHECK(!masked || (v.mask.width() == d.width() && v.mask.height() == d.height()))
        << "uncovered pixels: the mask of view " << v.name << " has another size";
    std::vector<float> valid;
    for (float x : d.vector())
      if (std::isfinite(x) && x > 0.f) valid.push_back(x);
    Image<float> holes(d.width(), d.height(), 1, 0.f);
    if (!valid.empty()) {
      const size_t k = std::min(valid.size() - 1, static_cast<size_t>(behind * valid.size()));
      std::nth_element(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(k), valid.end());
      const float floor_depth = behind > 0.f ? valid[k] : 0.f;
      const Image<float> filled = fill_depth_holes(d);
      for (size_t p = 0; p < d.num_pixels(); ++p) {
        const float x = d.data()[p];
        if ((std::isfinite(x) && x > 0.f) || (masked && v.mask.data()[p] < 0.5f)) continue;
        holes.data()[p] = std::max(filled.data()[p], floor_depth);
      }
    }
    out.push_back(std::move(holes));
  }
  return out;
}

Image<float> constant_depth(int width, int height, float depth) {
  GLIMPSE_CHECK(width > 0 && height > 0)
      << "constant depth: size must be positive, got " << width << "x" << height;
  GLIMPSE_CHECK(std::isfinite(depth)) << "constant depth: depth must be finite, got " << depth;
  return Image<float>(width, height, 1, depth);
}

}  // namespace glimpse
