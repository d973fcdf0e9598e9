// Checks a vector-Jacobian product against central finite differences in double: for a random
// upstream gradient v, compares vjp(x, v) with d(v . f(x))/dx. Reports the worst relative error.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace glimpse::testing {

using Vecd = std::vector<double>;

struct GradCheckResult {
  double worst_rel_error = 0;
  int worst_index = -1;
  double analytic = 0, numeric = 0;
};

// f: x -> y; vjp: (x, v_y) -> v_x. `floor` keeps tiny gradients from dominating the relative error
// (|a - b| / max(|a|, |b|, floor)).
inline GradCheckResult check_vjp(const std::function<Vecd(const Vecd&)>& f,
                                 const std::function<Vecd(const Vecd&, const Vecd&)>& vjp,
                                 const Vecd& x, uint32_t seed = 1, double eps = 1e-6,
                                 double floor = 1e-6) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  const Vecd y = f(x);
  Vecd v(y.size());
  for (auto& e : v) e = u(rng);
  const Vecd analytic = vjp(x, v);
  EXPECT_EQ(analytic.size(), x.size());
  GradCheckResult r;
  for (size_t i = 0; i < x.size(); ++i) {
    Vecd xp = x, xm = x;
    xp[i] += eps;
    xm[i] -= eps;
    const Vecd yp = f(xp), ym = f(xm);
    double num = 0;
    for (size_t k = 0; k < y.size(); ++k) num += v[k] * (yp[k] - ym[k]) / (2 * eps);
    const double a = analytic[i];
    const double err = std::abs(a - num) / std::max({std::abs(a), std::abs(num), floor});
    if (!(err <= r.worst_rel_error)) {  // also catches NaN
      r.worst_rel_error = std::isnan(err) ? 1e30 : err;
      r.worst_index = static_cast<int>(i);
      r.analytic = a;
      r.numeric = num;
    }
  }
  return r;
}

// Runs check_vjp, prints the worst relative error and expects it below `tol`.
inline void expect_vjp(const std::string& name, const std::function<Vecd(const Vecd&)>& f,
                       const std::function<Vecd(const Vecd&, const Vecd&)>& vjp, const Vecd& x,
                       double tol = 1e-6, uint32_t seed = 1, double eps = 1e-6,
                       double floor = 1e-6) {
  const GradCheckResult r = check_vjp(f, vjp, x, seed, eps, floor);
  std::printf("[vjp] %-36s worst relative error %.3e (input %d: analytic %.9g, numeric %.9g)\n",
              name.c_str(), r.worst_rel_error, r.worst_index, r.analytic, r.numeric);
  EXPECT_LT(r.worst_rel_error, tol) << name << ": input " << r.worst_index << " analytic "
                                    << r.analytic << " numeric " << r.numeric;
}

}  // namespace glimpse::testing
