// Small helpers shared by the commands' reports (render, train, bench): means that skip
// non-finite values, JSON null for them and NaN for JSON nulls, and fixed-point text with "n/a"
// for them.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {

// Mean of the finite values (NaN when there are none; PSNR of an exact render is +inf).
inline double finite_mean(const std::vector<double>& values) {
  double sum = 0.0;
  int count = 0;
  for (double v : values)
    if (std::isfinite(v)) sum += v, ++count;
  return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

inline nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// The file name of a view's images in an output folder (a run's test/ and train/ renders, gt,
// depth and error; render's renders, depth, alpha and compare): the view's stem with ".png".
inline std::string evaluation_image_name(const std::string& view_name) {
  return std::filesystem::path(view_name).stem().string() + ".png";
}

// j[key] when it is a number, else NaN (a report's null, or a key it lacks).
inline double number_or_nan(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>()
                                          : std::numeric_limits<double>::quiet_NaN();
}

// "19.48" for precision 2; "n/a" for NaN or infinite values (e.g. LPIPS without a model).
inline std::string fixed_or_na(double v, int precision) {
  if (!std::isfinite(v)) return "n/a";
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

}  // namespace glimpse
