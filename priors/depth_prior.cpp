// Depth priors: validation, the nearness order and resampling.
#include "priors/depth_prior.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>

namespace glimpse {

const char* depth_prior_kind_name(DepthPriorKind kind) {
  return kind == DepthPriorKind::Depth ? "depth" : "inverse";
}

size_t check_depth_prior(const DepthPrior& prior, int width, int height) {
  const std::string& what = prior.source.empty() ? std::string("depth prior") : prior.source;
  GLIMPSE_CHECK(prior.values.channels() == 1 && prior.confidence.channels() == 1)
      << what << ": a depth prior needs one channel of values and one of confidence";
  GLIMPSE_CHECK(prior.values.width() == width && prior.values.height() == height)
      << what << ": the depth map is " << prior.values.width() << "x" << prior.values.height()
      << " but the view is " << width << "x" << height;
  GLIMPSE_CHECK(prior.confidence.width() == width && prior.confidence.height() == height)
      << what << ": the confidence map is " << prior.confidence.width() << "x"
      << prior.confidence.height() << " but the view is " << width << "x" << height;
  size_t valid = 0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const float c = prior.confidence.at(x, y);
      GLIMPSE_CHECK(std::isfinite(c) && c >= 0.f && c <= 1.f)
          << what << ": confidence " << c << " at pixel (" << x << ", " << y
          << ") is outside [0, 1]";
      if (c <= 0.f) continue;
      const float v = prior.values.at(x, y);
      GLIMPSE_CHECK(std::isfinite(v)) << what << ": the " << depth_prior_kind_name(prior.kind)
                                      << " at pixel (" << x << ", " << y << ") is not a number";
      if (prior.kind == DepthPriorKind::Depth)
        GLIMPSE_CHECK(v > 0.f) << what << ": depth " << v << " at pixel (" << x << ", " << y
                               << ") is not positive (declared as depth; pass inverse depth "
                                  "as such)";
      else
        GLIMPSE_CHECK(v >= 0.f) << what << ": inverse depth " << v << " at pixel (" << x << ", "
                                << y << ") is negative";
      ++valid;
    }
  return valid;
}

Image<float> nearness_of(const DepthPrior& prior) {
  Image<float> out(prior.values.width(), prior.values.height(), 1);
  const float sign = prior.kind == DepthPriorKind::Depth ? -1.f : 1.f;
  for (size_t i = 0; i < out.num_pixels(); ++i)
    out.data()[i] = prior.confidence.data()[i] > 0.f ? sign * prior.values.data()[i] : 0.f;
  return out;
}

DepthPrior resize_depth_prior(const DepthPrior& prior, int width, int height) {
  GLIMPSE_CHECK(width > 0 && height > 0) << "resize_depth_prior: bad size";
  DepthPrior out = prior;
  out.values = Image<float>(width, height, 1);
  out.confidence = Image<float>(width, height, 1);
  const int w = prior.values.width(), h = prior.values.height();
  const double sx = static_cast<double>(w) / width, sy = static_cast<double>(h) / height;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      // Pixel centres map to pixel centres.
      const double fx = std::clamp((x + 0.5) * sx - 0.5, 0.0, w - 1.0);
      const double fy = std::clamp((y + 0.5) * sy - 0.5, 0.0, h - 1.0);
      const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
      const int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
      const double ax = fx - x0, ay = fy - y0;
      const double wts[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
      const int xs[4] = {x0, x1, x0, x1}, ys[4] = {y0, y0, y1, y1};
      double v = 0, c = 0;
      bool all_confident = true;
      for (int k = 0; k < 4; ++k) {
        if (wts[k] <= 0) continue;
        const float ck = prior.confidence.at(xs[k], ys[k]);
        if (ck <= 0.f) all_confident = false;
        v += wts[k] * prior.values.at(xs[k], ys[k]);
        c += wts[k] * ck;
      }
      out.values.at(x, y) = all_confident ? static_cast<float>(v) : 0.f;
      out.confidence.at(x, y) = all_confident ? static_cast<float>(std::clamp(c, 0.0, 1.0)) : 0.f;
    }
  return out;
}

}  // namespace glimpse
