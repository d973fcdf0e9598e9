// Gaussians: resizing, validation and pose-gradient conversion.
#include "renderer/gaussians.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>

namespace glimpse {

template <typename T>
void GaussiansT<T>::resize(size_t n) {
  const size_t old = size();
  const int k = sh_coeffs();
  means.resize(3 * n, T(0));
  log_scales.resize(3 * n, T(0));
  quats.resize(4 * n, T(0));
  opacity_logits.resize(n, T(0));
  sh.resize(3 * k * n, T(0));
  for (size_t i = old; i < n; ++i) quats[4 * i] = T(1);
}

template <typename T>
void GaussiansT<T>::check_shapes(const std::string& what) const {
  GLIMPSE_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree)
      << what << ": SH degree must be 0..3, got " << sh_degree;
  const size_t n = size();
  auto check_size = [&](const std::vector<T>& v, size_t per, const char* name) {
    GLIMPSE_CHECK(v.size() == per * n) << what << ": '" << name << "' has " << v.size()
                                       << " values, expected " << per << " x " << n;
  };
  check_size(means, 3, "means");
  check_size(log_scales, 3, "log_scales");
  check_size(quats, 4, "quats");
  check_size(opacity_logits, 1, "opacity_logits");
  check_size(sh, 3 * static_cast<size_t>(sh_coeffs()), "sh");
}

template <typename T>
void GaussiansT<T>::check(const std::string& what) const {
  check_shapes(what);
  const size_t n = size();
  auto check_array = [&](const std::vector<T>& v, size_t per, const char* name) {
    // A branch-free count first (the compiler vectorises it); the slow search for the culprit
    // only when something is wrong.
    size_t bad = 0;
    for (size_t i = 0; i < v.size(); ++i) bad += !(v[i] - v[i] == T(0));  // NaN or infinite
    if (bad == 0) return;
    for (size_t i = 0; i < v.size(); ++i)
      GLIMPSE_CHECK(std::isfinite(static_cast<double>(v[i])))
          << what << ": '" << name << "' of Gaussian " << i / per << " is " << v[i]
          << " (NaN or infinite parameters are not allowed)";
  };
  check_array(means, 3, "means");
  check_array(log_scales, 3, "log_scales");
  check_array(quats, 4, "quats");
  check_array(opacity_logits, 1, "opacity_logits");
  check_array(sh, 3 * static_cast<size_t>(sh_coeffs()), "sh");
  for (size_t i = 0; i < n; ++i) {
    const T q2 = quats[4 * i] * quats[4 * i] + quats[4 * i + 1] * quats[4 * i + 1] +
                 quats[4 * i + 2] * quats[4 * i + 2] + quats[4 * i + 3] * quats[4 * i + 3];
    GLIMPSE_CHECK(q2 > T(0)) << what << ": quaternion of Gaussian " << i << " is zero";
  }
}

template <typename T>
template <typename U>
GaussiansT<U> GaussiansT<T>::cast() const {
  GaussiansT<U> r;
  r.sh_degree = sh_degree;
  auto conv = [](const std::vector<T>& v) { return std::vector<U>(v.begin(), v.end()); };
  r.means = conv(means);
  r.log_scales = conv(log_scales);
  r.quats = conv(quats);
  r.opacity_logits = conv(opacity_logits);
  r.sh = conv(sh);
  return r;
}

template <typename T>
void GaussianGradientsT<T>::resize_like(const GaussiansT<T>& g) {
  means.assign(g.means.size(), T(0));
  log_scales.assign(g.log_scales.size(), T(0));
  quats.assign(g.quats.size(), T(0));
  opacity_logits.assign(g.opacity_logits.size(), T(0));
  sh.assign(g.sh.size(), T(0));
  means2d.assign(2 * g.size(), T(0));
  v_rotation = Mat3<T>();
  v_translation = Vec3<T>{T(0), T(0), T(0)};
}

// With M = [R | t] and the perturbation dM = [phi]x M + [0 | rho]:
// dL = <v_M M^T, [phi]x> + <v_t, rho>, and <G, [phi]x> = phi . (G32 - G23, G13 - G31, G21 - G12).
template <typename T>
void pose_tangent_gradient(const Mat3<T>& r, const Vec3<T>& t, const Mat3<T>& v_r,
                           const Vec3<T>& v_t, Vec3<T>& v_rho, Vec3<T>& v_phi) {
  Mat3<T> g;  // v_M M^T over the 3x4 matrix
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      T s = v_t[i] * t[j];
      for (int k = 0; k < 3; ++k) s += v_r[i][k] * r[j][k];
      g[i][j] = s;
    }
  v_rho = v_t;
  v_phi = {g[2][1] - g[1][2], g[0][2] - g[2][0], g[1][0] - g[0][1]};
}

Gaussians with_sh_degree(const Gaussians& g, int degree) {
  GLIMPSE_CHECK(degree >= 0 && degree <= 3) << "SH degree must be 0..3, got " << degree;
  if (degree == g.sh_degree) return g;
  Gaussians out = g;
  out.sh_degree = degree;
  const size_t from = static_cast<size_t>(g.sh_coeffs()), to = static_cast<size_t>(out.sh_coeffs());
  out.sh.assign(g.size() * to * 3, 0.f);
  for (size_t i = 0; i < g.size(); ++i)
    for (size_t k = 0; k < std::min(from, to); ++k)
      for (int c = 0; c < 3; ++c) out.sh[(i * to + k) * 3 + c] = g.sh[(i * from + k) * 3 + c];
  return out;
}

template struct GaussiansT<float>;
template struct GaussiansT<double>;
template GaussiansT<double> GaussiansT<float>::cast<double>() const;
template GaussiansT<float> GaussiansT<double>::cast<float>() const;
template struct GaussianGradientsT<float>;
template struct GaussianGradientsT<double>;
template void pose_tangent_gradient(const Mat3<float>&, const Vec3<float>&, const Mat3<float>&,
                                    const Vec3<float>&, Vec3<float>&, Vec3<float>&);
template void pose_tangent_gradient(const Mat3<double>&, const Vec3<double>&, const Mat3<double>&,
                                    const Vec3<double>&, Vec3<double>&, Vec3<double>&);

}  // namespace glimpse
