// MvsOptions validation and cache key (see mvs_options.h).
#include "priors/mvs/mvs_options.h"

#include "core/check.h"
#include "priors/mvs/patch_match_kernels.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace glimpse {

void MvsOptions::check() const {
  auto positive = [](float v) { return std::isfinite(v) && v > 0.0f; };
  GLIMPSE_CHECK(max_sources >= 1 && max_sources <= mvs::kMaxSources)
      << "mvs: max_sources must be in [1, " << mvs::kMaxSources << "], got " << max_sources;
  GLIMPSE_CHECK(window_radius >= 1 && window_radius <= 5)
      << "mvs: window_radius must be in [1, 5], got " << window_radius;
  GLIMPSE_CHECK(window_step >= 1 && window_step <= window_radius)
      << "mvs: window_step must be in [1, window_radius], got " << window_step;
  GLIMPSE_CHECK(positive(sigma_spatial)) << "mvs: sigma_spatial must be > 0, got " << sigma_spatial;
  GLIMPSE_CHECK(positive(sigma_color)) << "mvs: sigma_color must be > 0, got " << sigma_color;
  GLIMPSE_CHECK(std::isfinite(min_variance) && min_variance >= 0.0f)
      << "mvs: min_variance must be >= 0, got " << min_variance;
  GLIMPSE_CHECK(iterations >= 1 && iterations <= 100)
      << "mvs: iterations must be in [1, 100], got " << iterations;
  GLIMPSE_CHECK(coarse_levels >= 0 && coarse_levels <= 3)
      << "mvs: coarse_levels must be in [0, 3], got " << coarse_levels;
  GLIMPSE_CHECK(fine_iterations >= 1 && fine_iterations <= 100)
      << "mvs: fine_iterations must be in [1, 100], got " << fine_iterations;
  GLIMPSE_CHECK(geometric_iterations >= 0 && geometric_iterations <= 100)
      << "mvs: geometric_iterations must be in [0, 100], got " << geometric_iterations;
  GLIMPSE_CHECK(std::isfinite(geometric_weight) && geometric_weight >= 0.0f)
      << "mvs: geometric_weight must be >= 0, got " << geometric_weight;
  GLIMPSE_CHECK(positive(geometric_max_error))
      << "mvs: geometric_max_error must be > 0, got " << geometric_max_error;
  GLIMPSE_CHECK(std::isfinite(perturbation) && perturbation > 0.0f && perturbation <= 1.0f)
      << "mvs: perturbation must be in (0, 1], got " << perturbation;
  GLIMPSE_CHECK(std::isfinite(max_cost) && max_cost > 0.0f && max_cost <= mvs::kMaxCost)
      << "mvs: max_cost must be in (0, 2], got " << max_cost;
  GLIMPSE_CHECK(positive(max_reprojection_error))
      << "mvs: max_reprojection_error must be > 0, got " << max_reprojection_error;
  GLIMPSE_CHECK(positive(max_relative_depth_error))
      << "mvs: max_relative_depth_error must be > 0, got " << max_relative_depth_error;
  GLIMPSE_CHECK(min_consistent_sources >= 1 && min_consistent_sources <= max_sources)
      << "mvs: min_consistent_sources must be in [1, max_sources], got " << min_consistent_sources;
}

std::string MvsOptions::key() const {
  std::ostringstream s;
  auto f = [&](const char* name, float v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%a", static_cast<double>(v));  // exact
    s << name << "=" << buf << ";";
  };
  auto i = [&](const char* name, long long v) { s << name << "=" << v << ";"; };
  i("max_sources", max_sources);
  i("window_radius", window_radius);
  i("window_step", window_step);
  f("sigma_spatial", sigma_spatial);
  f("sigma_color", sigma_color);
  f("min_variance", min_variance);
  i("coarse_levels", coarse_levels);
  i("iterations", iterations);
  i("fine_iterations", fine_iterations);
  i("geometric_iterations", geometric_iterations);
  f("geometric_weight", geometric_weight);
  f("geometric_max_error", geometric_max_error);
  f("perturbation", perturbation);
  i("seed", seed);
  f("max_cost", max_cost);
  f("max_reprojection_error", max_reprojection_error);
  f("max_relative_depth_error", max_relative_depth_error);
  i("min_consistent_sources", min_consistent_sources);
  return s.str();
}

}  // namespace glimpse
