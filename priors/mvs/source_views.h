// Source-view selection for multi-view stereo: which views each reference view is matched
// against. With many views (DTU's 49) only the best few are useful: those that see the same part
// of the scene from a moderate baseline angle (COLMAP's and MVSNet's heuristic, scored here on
// points sampled in the reference frustum between the depth bounds, as no sparse points exist).
#pragma once

#include "core/camera.h"

#include <vector>

namespace glimpse {

// Score of `source` as a stereo partner of `reference`: points on a 16x12 pixel grid of the
// reference at 5 depths uniform in inverse depth in [near, far] are projected into the source;
// each one it sees (in front of it, inside its image) adds g(theta), theta the angle between the
// two viewing rays at the point: g = exp(-(theta - 5 deg)^2 / (2 s^2)) with s = 1 deg below 5 deg
// and 10 deg above (MVSNet's view-selection score); points seen at more than 60 deg add nothing.
// 0 when they share nothing.
double source_view_score(const Camera& reference, const Camera& source, double near, double far);

// For each camera, up to max_sources other cameras, best score first (ties: lower index): with
// at most max_sources others, every other camera with a positive score. Cameras whose score is 0
// (no shared field of view) are never chosen; a camera left with no source throws glimpse::Error
// naming its index.
std::vector<std::vector<int>> select_source_views(const std::vector<Camera>& cameras, double near,
                                                  double far, int max_sources);

}  // namespace glimpse
