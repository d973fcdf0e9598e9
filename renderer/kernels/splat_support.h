// Screen support of a splat, host and device: its clipped pixel box, the pixels of one row whose
// falloff exponent can be <= sigma_max (the exact ellipse chord), and a conservative column range
// over a band of rows for tile binning. Both backends call these, so they blend exactly the same
// fragments.
#pragma once

#include "core/math.h"

#include <cmath>
#include <cstdint>

namespace glimpse {

// Inclusive pixel range [lo, hi] covered by centre c +- r along an axis of n pixels (pixel i has
// centre i + 0.5). Returns false when empty (and for NaN).
template <typename T>
GLIMPSE_INLINE bool splat_pixel_range(T c, T r, int n, int32_t& lo, int32_t& hi) {
  const T a = c - r - T(0.5), b = c + r - T(0.5);
  if (!(b >= T(0)) || !(a <= T(n - 1))) return false;
  lo = static_cast<int32_t>(std::ceil(max_value(a, T(0))));
  hi = static_cast<int32_t>(std::floor(min_value(b, T(n - 1))));
  return lo <= hi;
}

// Tile-local columns [lo, hi] within [lx0, lx1] of pixel row y where the splat (mean mx, my; conic
// ca, cb, cc) has sigma <= sigma_max: the chord of the ellipse a dx^2 + 2 b dx dy + c dy^2 <=
// 2 sigma_max, widened by a hundredth of a pixel so rounding never drops a fragment the alpha test
// would keep. px0 is the tile's first pixel column. Returns false when the row has no such pixel.
template <typename T>
GLIMPSE_INLINE bool splat_row_span(T mx, T my, T ca, T cb, T cc, T sigma_max, int y, int px0,
                                   int lx0, int lx1, int& lo, int& hi) {
  const T dy = T(y) + T(0.5) - my;
  const T disc = cb * cb * dy * dy - ca * (cc * dy * dy - T(2) * sigma_max);
  if (!(disc >= T(0))) return false;
  const T root = std::sqrt(disc), centre = -cb * dy;
  const T x_lo = mx + (centre - root) / ca - T(0.5) - T(0.01) - T(px0);
  const T x_hi = mx + (centre + root) / ca - T(0.5) + T(0.01) - T(px0);
  if (!(x_hi >= T(lx0)) || !(x_lo <= T(lx1))) return false;
  // max(lx0, ceil(x)) == ceil(max(lx0, x)) for integer lx0; clamping first keeps the conversion
  // to int in range for splats far outside the tile.
  lo = static_cast<int>(std::ceil(max_value(x_lo, T(lx0))));
  hi = static_cast<int>(std::floor(min_value(x_hi, T(lx1))));
  return lo <= hi;
}

// Conservative pixel columns [col_lo, col_hi] (clipped to the box columns [x0, x1]) of the support
// over pixel rows [row_lo, row_hi]: a superset of the union of splat_row_span over those rows, so
// binning a splat to the tiles these columns touch never drops a fragment. The chord's right end
// x_hi(dy) = (-b dy + sqrt(disc)) / a is concave in dy, so its maximum over the band is at the
// band point nearest the ellipse's rightmost point dy* = -b sqrt(2 s / (det c)) (det = a c - b^2),
// and the left end's minimum at -dy*; the margin covers the 0.01 px widening and rounding.
template <typename T>
GLIMPSE_INLINE bool splat_band_columns(T mx, T my, T ca, T cb, T cc, T sigma_max, int x0, int x1,
                                       int row_lo, int row_hi, int& col_lo, int& col_hi) {
  const T det = ca * cc - cb * cb;
  if (!(det > T(0)) || !(ca > T(0)) || !(cc > T(0))) {  // degenerate: keep the whole box
    col_lo = x0, col_hi = x1;
    return x0 <= x1;
  }
  const T ry = std::sqrt(T(2) * sigma_max * ca / det);  // half height of the ellipse
  const T dl = clamp_value(T(row_lo) + T(0.5) - my, -ry, ry);
  const T dh = clamp_value(T(row_hi) + T(0.5) - my, -ry, ry);
  const T dy_right = -cb * std::sqrt(T(2) * sigma_max / (det * cc));
  const T d1 = clamp_value(dy_right, dl, dh), d2 = clamp_value(-dy_right, dl, dh);
  const T disc1 = max_value(T(0), T(2) * ca * sigma_max - det * d1 * d1);
  const T disc2 = max_value(T(0), T(2) * ca * sigma_max - det * d2 * d2);
  const T x_hi = (-cb * d1 + std::sqrt(disc1)) / ca;
  const T x_lo = (-cb * d2 - std::sqrt(disc2)) / ca;
  const T margin = T(0.0625) + T(1e-5) * (std::fabs(mx) + std::fabs(x_lo) + std::fabs(x_hi) + ry);
  const T lo = mx + x_lo - T(0.5) - margin, hi = mx + x_hi - T(0.5) + margin;
  if (!(hi >= T(x0)) || !(lo <= T(x1))) return false;
  col_lo = static_cast<int>(std::ceil(max_value(lo, T(x0))));
  col_hi = static_cast<int>(std::floor(min_value(hi, T(x1))));
  return col_lo <= col_hi;
}

}  // namespace glimpse
