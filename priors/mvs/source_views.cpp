// Source-view scores and selection (see source_views.h).
#include "priors/mvs/source_views.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace glimpse {

double source_view_score(const Camera& reference, const Camera& source, double near, double far) {
  constexpr int kGridX = 16, kGridY = 12, kDepths = 5;
  constexpr double kPeakDeg = 5.0, kSigmaBelow = 1.0, kSigmaAbove = 10.0;
  // Wider angles see surfaces too obliquely (or from behind) for patch matching.
  constexpr double kMaxDeg = 60.0;
  constexpr double kRadToDeg = 57.29577951308232;
  const Vec3<double> c_ref = reference.center(), c_src = source.center();
  double score = 0.0;
  for (int gy = 0; gy < kGridY; ++gy)
    for (int gx = 0; gx < kGridX; ++gx) {
      const double u = (gx + 0.5) * reference.width / kGridX;
      const double v = (gy + 0.5) * reference.height / kGridY;
      const Vec3<double> ray((u - reference.cx) / reference.fx, (v - reference.cy) / reference.fy,
                             1.0);
      for (int k = 0; k < kDepths; ++k) {
        const double t = (k + 0.5) / kDepths;
        const double depth = 1.0 / (1.0 / far + t * (1.0 / near - 1.0 / far));
        // World point: R^T (depth ray - t).
        const Vec3<double> p_world =
            mul_transposed(reference.rotation, ray * depth - reference.translation);
        const Vec3<double> p_src = source.cam_from_world(p_world);
        if (!(p_src.z > 0.0)) continue;
        const double su = source.fx * p_src.x / p_src.z + source.cx;
        const double sv = source.fy * p_src.y / p_src.z + source.cy;
        if (!(su >= 0.0 && sv >= 0.0 && su < source.width && sv < source.height)) continue;
        const Vec3<double> a = c_ref - p_world, b = c_src - p_world;
        const double cos_theta =
            std::clamp(dot(a, b) / std::sqrt(dot(a, a) * dot(b, b)), -1.0, 1.0);
        const double theta = std::acos(cos_theta) * kRadToDeg;
        if (theta > kMaxDeg) continue;
        const double s = theta <= kPeakDeg ? kSigmaBelow : kSigmaAbove;
        score += std::exp(-(theta - kPeakDeg) * (theta - kPeakDeg) / (2.0 * s * s));
      }
    }
  return score;
}

std::vector<std::vector<int>> select_source_views(const std::vector<Camera>& cameras, double near,
                                                  double far, int max_sources) {
  GLIMPSE_CHECK(max_sources >= 1) << "source views: max_sources must be >= 1";
  const int n = static_cast<int>(cameras.size());
  std::vector<std::vector<int>> sources(n);
  for (int r = 0; r < n; ++r) {
    std::vector<double> score(n, 0.0);
    std::vector<int> order;
    for (int s = 0; s < n; ++s) {
      if (s == r) continue;
      score[s] = source_view_score(cameras[r], cameras[s], near, far);
      if (score[s] > 0.0) order.push_back(s);
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
    if (static_cast<int>(order.size()) > max_sources) order.resize(max_sources);
    GLIMPSE_CHECK(!order.empty()) << "mvs: view " << r
                                  << " shares no field of view with any other view between the "
                                     "depth bounds "
                                  << near << " and " << far;
    sources[r] = std::move(order);
  }
  return sources;
}

}  // namespace glimpse
