// Every kernel function's VJP against central differences in double (renderer/kernels/*.h).
#include "renderer/gaussians.h"
#include "renderer/kernels/blend.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/projection.h"
#include "renderer/kernels/sh.h"
#include "tests/support/gradient_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace glimpse {
namespace {

using testing::expect_vjp;
using testing::Vecd;
using Q = Quat<double>;
using V3 = Vec3<double>;
using M3 = Mat3<double>;

Vecd random_vec(size_t n, uint32_t seed, double lo = -1, double hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Vecd v(n);
  for (auto& e : v) e = u(rng);
  return v;
}
M3 mat_from(const double* p) {
  M3 m;
  for (int i = 0; i < 9; ++i) m.m[i / 3][i % 3] = p[i];
  return m;
}
void push_mat(Vecd& out, const M3& m) {
  for (int i = 0; i < 9; ++i) out.push_back(m.m[i / 3][i % 3]);
}
M3 random_rotation(uint32_t seed) {
  Vecd q = random_vec(4, seed);
  return quat_to_rotmat(normalize_quat(Q{q[0], q[1], q[2], q[3]}));
}
M3 spd_from(const double* p) {  // A A^T + 0.1 I
  const M3 a = mat_from(p);
  M3 s = a * a.transposed();
  for (int i = 0; i < 3; ++i) s.m[i][i] += 0.1;
  return s;
}

TEST(KernelsVjp, NormalizeQuat) {
  expect_vjp(
      "normalize_quat",
      [](const Vecd& x) {
        const Q n = normalize_quat(Q{x[0], x[1], x[2], x[3]});
        return Vecd{n.w, n.x, n.y, n.z};
      },
      [](const Vecd& x, const Vecd& v) {
        Q g{0, 0, 0, 0};
        normalize_quat_vjp(Q{x[0], x[1], x[2], x[3]}, Q{v[0], v[1], v[2], v[3]}, g);
        return Vecd{g.w, g.x, g.y, g.z};
      },
      {0.3, -1.2, 0.5, 2.0});
}

TEST(KernelsVjp, QuatToRotmat) {
  expect_vjp(
      "quat_to_rotmat",
      [](const Vecd& x) {
        Vecd out;
        push_mat(out, quat_to_rotmat(Q{x[0], x[1], x[2], x[3]}));
        return out;
      },
      [](const Vecd& x, const Vecd& v) {
        Q g{0, 0, 0, 0};
        quat_to_rotmat_vjp(Q{x[0], x[1], x[2], x[3]}, mat_from(v.data()), g);
        return Vecd{g.w, g.x, g.y, g.z};
      },
      {0.7, -0.2, 0.4, 0.55});
}

TEST(KernelsVjp, CovarianceFromRotationScale) {
  Vecd x = random_vec(12, 3);
  expect_vjp(
      "covariance_from_rotation_scale",
      [](const Vecd& x) {
        Vecd out;
        push_mat(out, covariance_from_rotation_scale(mat_from(x.data()), V3{x[9], x[10], x[11]}));
        return out;
      },
      [](const Vecd& x, const Vecd& v) {
        M3 v_r;
        V3 v_s{0, 0, 0};
        covariance_from_rotation_scale_vjp(mat_from(x.data()), V3{x[9], x[10], x[11]},
                                           mat_from(v.data()), v_r, v_s);
        Vecd out;
        push_mat(out, v_r);
        out.insert(out.end(), {v_s.x, v_s.y, v_s.z});
        return out;
      },
      x);
}

TEST(KernelsVjp, CovarianceFromParams) {
  expect_vjp(
      "covariance_from_params",
      [](const Vecd& x) {
        Vecd out;
        push_mat(out, covariance_from_params(Q{x[0], x[1], x[2], x[3]}, V3{x[4], x[5], x[6]}));
        return out;
      },
      [](const Vecd& x, const Vecd& v) {
        Q v_q{0, 0, 0, 0};
        V3 v_ls{0, 0, 0};
        covariance_from_params_vjp(Q{x[0], x[1], x[2], x[3]}, V3{x[4], x[5], x[6]},
                                   mat_from(v.data()), v_q, v_ls);
        return Vecd{v_q.w, v_q.x, v_q.y, v_q.z, v_ls.x, v_ls.y, v_ls.z};
      },
      {0.9, 0.3, -0.4, 0.2, -0.5, 0.1, -1.3});
}

TEST(KernelsVjp, Sigmoid) {
  expect_vjp(
      "sigmoid", [](const Vecd& x) { return Vecd{sigmoid(x[0])}; },
      [](const Vecd& x, const Vecd& v) { return Vecd{sigmoid_vjp(x[0], v[0])}; }, {0.37});
}

TEST(KernelsVjp, TransformPoint) {
  Vecd x = random_vec(15, 5);
  expect_vjp(
      "transform_point",
      [](const Vecd& x) {
        const V3 p =
            transform_point(mat_from(x.data()), V3{x[9], x[10], x[11]}, V3{x[12], x[13], x[14]});
        return Vecd{p.x, p.y, p.z};
      },
      [](const Vecd& x, const Vecd& v) {
        V3 v_p{0, 0, 0}, v_t{0, 0, 0};
        M3 v_r;
        transform_point_vjp(mat_from(x.data()), V3{x[12], x[13], x[14]}, V3{v[0], v[1], v[2]}, v_p,
                            v_r, v_t);
        Vecd out;
        push_mat(out, v_r);
        out.insert(out.end(), {v_t.x, v_t.y, v_t.z, v_p.x, v_p.y, v_p.z});
        return out;
      },
      x);
}

TEST(KernelsVjp, RotateCovariance) {
  Vecd x = random_vec(18, 7);
  expect_vjp(
      "rotate_covariance",
      [&](const Vecd& x) {
        Vecd out;
        push_mat(out, rotate_covariance(mat_from(x.data()), mat_from(x.data() + 9)));
        return out;
      },
      [&](const Vecd& x, const Vecd& v) {
        M3 v_cov, v_r;
        rotate_covariance_vjp(mat_from(x.data()), mat_from(x.data() + 9), mat_from(v.data()), v_cov,
                              v_r);
        Vecd out;
        push_mat(out, v_r);
        push_mat(out, v_cov);
        return out;
      },
      x);
}

// The rasterizers' variant for a symmetric covariance and a symmetric output gradient agrees
// with the general VJP (which the finite-difference test above checks).
TEST(KernelsVjp, RotateCovarianceSymmetricMatchesGeneral) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Vecd x = random_vec(21, seed);
    const M3 r = mat_from(x.data());
    M3 cov, v;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        cov.m[a][b] = x[9 + std::min(a, b) * 3 + std::max(a, b)];  // symmetric
        v.m[a][b] = x[std::min(a, b) * 3 + std::max(a, b)] - 0.3 * x[12 + a + b];
      }
    M3 v_cov_g, v_r_g, v_cov_s, v_r_s;
    v_cov_s.m[1][2] = v_cov_g.m[1][2] = 0.25;  // both accumulate (+=)
    v_r_s.m[2][0] = v_r_g.m[2][0] = -0.5;
    rotate_covariance_vjp(r, cov, v, v_cov_g, v_r_g);
    rotate_covariance_vjp_symmetric(r, cov, v, v_cov_s, v_r_s);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        EXPECT_NEAR(v_cov_s.m[a][b], v_cov_g.m[a][b], 1e-12) << a << b;
        EXPECT_NEAR(v_r_s.m[a][b], v_r_g.m[a][b], 1e-12) << a << b;
      }
  }
}

// Projection, inside the view and with the Jacobian clamped on each side. The covariance is
// parametrised by its 6 unique entries (the VJP assumes a symmetric input).
M3 sym_from6(const double* c) {
  M3 m;
  m.m[0][0] = c[0], m.m[1][1] = c[1], m.m[2][2] = c[2];
  m.m[0][1] = m.m[1][0] = c[3];
  m.m[0][2] = m.m[2][0] = c[4];
  m.m[1][2] = m.m[2][1] = c[5];
  return m;
}
void check_projection(const V3& p, const std::string& name) {
  const Intrinsics<double> k{300.0, 280.0, 160.0, 115.0, 320, 240};
  Vecd cov_params = random_vec(9, 11);
  const M3 cov = spd_from(cov_params.data());
  Vecd x{p.x,         p.y,         p.z,         cov.m[0][0], cov.m[1][1],
         cov.m[2][2], cov.m[0][1], cov.m[0][2], cov.m[1][2]};
  expect_vjp(
      name,
      [&](const Vecd& x) {
        Vec2<double> m;
        V3 c;
        project_gaussian(k, V3{x[0], x[1], x[2]}, sym_from6(x.data() + 3), m, c);
        return Vecd{m.x, m.y, c.x, c.y, c.z};
      },
      [&](const Vecd& x, const Vecd& v) {
        V3 v_p{0, 0, 0};
        M3 g;
        project_gaussian_vjp(k, V3{x[0], x[1], x[2]}, sym_from6(x.data() + 3),
                             Vec2<double>{v[0], v[1]}, V3{v[2], v[3], v[4]}, v_p, g);
        return Vecd{v_p.x,
                    v_p.y,
                    v_p.z,
                    g.m[0][0],
                    g.m[1][1],
                    g.m[2][2],
                    g.m[0][1] + g.m[1][0],
                    g.m[0][2] + g.m[2][0],
                    g.m[1][2] + g.m[2][1]};
      },
      x);
}

TEST(KernelsVjp, ProjectGaussian) {
  check_projection(V3{0.3, -0.2, 2.5}, "project_gaussian (inside)");
  check_projection(V3{9.0, 0.1, 2.0}, "project_gaussian (x clamped +)");
  check_projection(V3{-1.0, -8.0, 2.0}, "project_gaussian (y clamped -)");
}

TEST(KernelsVjp, AddBlurCompensation) {
  expect_vjp(
      "add_blur compensation",
      [](const Vecd& x) {
        V3 cb;
        const double c = add_blur(V3{x[0], x[1], x[2]}, 0.3, true, cb);
        return Vecd{c};
      },
      [](const Vecd& x, const Vecd& v) {
        V3 g{0, 0, 0};
        add_blur_vjp(V3{x[0], x[1], x[2]}, 0.3, v[0], g);
        return Vecd{g.x, g.y, g.z};
      },
      {2.0, 0.4, 1.1});
}

TEST(KernelsVjp, InverseSym2) {
  expect_vjp(
      "inverse_sym2",
      [](const Vecd& x) {
        V3 inv;
        inverse_sym2(V3{x[0], x[1], x[2]}, inv);
        return Vecd{inv.x, inv.y, inv.z};
      },
      [](const Vecd& x, const Vecd& v) {
        V3 inv, g{0, 0, 0};
        inverse_sym2(V3{x[0], x[1], x[2]}, inv);
        inverse_sym2_vjp(inv, V3{v[0], v[1], v[2]}, g);
        return Vecd{g.x, g.y, g.z};
      },
      {2.0, -0.7, 1.3});
}

TEST(KernelsVjp, ShToColor) {
  for (int degree = 0; degree <= 3; ++degree) {
    const int k = sh_coeffs_for_degree(degree);
    Vecd x = random_vec(3 * k, 20 + degree, -0.3, 0.3);
    x[0] = x[1] = x[2] = 1.0;  // keep every channel away from the clamp at 0
    x.insert(x.end(), {0.4, -0.9, 1.7});
    expect_vjp(
        "sh_to_color degree " + std::to_string(degree),
        [&](const Vecd& x) {
          const V3 c = sh_to_color(degree, x.data(), V3{x[3 * k], x[3 * k + 1], x[3 * k + 2]});
          return Vecd{c.x, c.y, c.z};
        },
        [&](const Vecd& x, const Vecd& v) {
          Vecd out(3 * k + 3, 0.0);
          V3 v_dir{0, 0, 0};
          sh_to_color_vjp(degree, x.data(), V3{x[3 * k], x[3 * k + 1], x[3 * k + 2]},
                          V3{v[0], v[1], v[2]}, out.data(), v_dir);
          out[3 * k] = v_dir.x, out[3 * k + 1] = v_dir.y, out[3 * k + 2] = v_dir.z;
          return out;
        },
        x);
  }
}

TEST(KernelsVjp, ShToColorClampedChannelHasNoGradient) {
  double coeffs[3] = {-5.0, 1.0, 1.0};  // red channel far below 0 -> clamped
  Vecd v_coeffs(3, 0.0);
  V3 v_dir{0, 0, 0};
  sh_to_color_vjp(0, coeffs, V3{0, 0, 1}, V3{1, 1, 1}, v_coeffs.data(), v_dir);
  EXPECT_EQ(v_coeffs[0], 0.0);
  EXPECT_NEAR(v_coeffs[1], 0.28209479177387814, 1e-15);
}

TEST(KernelsVjp, SplatAlpha) {
  // x = opacity, conic a b c, mean x y; pixel at (10.5, 7.5).
  expect_vjp(
      "splat_alpha",
      [](const Vecd& x) {
        return Vecd{splat_alpha(x[0], x[1], x[2], x[3], 10.5 - x[4], 7.5 - x[5], 4.5)};
      },
      [](const Vecd& x, const Vecd& v) {
        double v_o = 0;
        V3 v_c{0, 0, 0};
        Vec2<double> v_m{0, 0};
        splat_alpha_vjp(x[0], x[1], x[2], x[3], 10.5 - x[4], 7.5 - x[5], 4.5, v[0], v_o, v_c, v_m);
        return Vecd{v_o, v_c.x, v_c.y, v_c.z, v_m.x, v_m.y};
      },
      {0.8, 0.5, 0.1, 0.3, 9.7, 8.1});
}

TEST(KernelsVjp, CompositePixel) {
  const int n = 6;
  Vecd x = random_vec(5 * n, 31, 0.05, 0.6);  // alphas, colours, depths
  for (int i = 0; i < n; ++i) x[4 * n + i] = 1.0 + i;
  const Vec3<double> bg{0.2, 0.5, 0.9};
  auto f = [&](const Vecd& x) {
    Vec3<double> rgb;
    double a, d;
    composite_pixel(n, x.data(), x.data() + n, x.data() + 4 * n, bg, rgb, a, d);
    return Vecd{rgb.x, rgb.y, rgb.z, a, d};
  };
  auto vjp = [&](const Vecd& x, const Vecd& v) {
    Vecd out(5 * n, 0.0);
    composite_pixel_vjp(n, x.data(), x.data() + n, x.data() + 4 * n, bg, V3{v[0], v[1], v[2]}, v[3],
                        v[4], out.data(), out.data() + n, out.data() + 4 * n);
    return out;
  };
  expect_vjp("composite_pixel", f, vjp, x);
}

// Pose tangent: L(R, t) linear in [R | t]; the twist gradient must match differences of
// L(exp([phi]x) [R | t] + [0 | rho]).
TEST(KernelsVjp, PoseTangentGradient) {
  const M3 r = random_rotation(41);
  const V3 t{0.3, -1.0, 2.0};
  const Vecd a = random_vec(12, 42);  // L = <A, [R | t]>
  M3 v_r = mat_from(a.data());
  V3 v_t{a[9], a[10], a[11]};
  V3 v_rho, v_phi;
  pose_tangent_gradient(r, t, v_r, v_t, v_rho, v_phi);
  auto loss = [&](const V3& rho, const V3& phi) {
    const double th = norm(phi);
    M3 k;  // [phi]x
    k.m[0][1] = -phi.z, k.m[0][2] = phi.y, k.m[1][0] = phi.z;
    k.m[1][2] = -phi.x, k.m[2][0] = -phi.y, k.m[2][1] = phi.x;
    M3 e = M3::identity();
    if (th > 0) {
      const M3 k2 = k * k;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          e.m[i][j] += std::sin(th) / th * k.m[i][j] + (1 - std::cos(th)) / (th * th) * k2.m[i][j];
    }
    const M3 r2 = e * r;
    const V3 t2 = e * t + rho;
    double l = 0;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) l += a[3 * i + j] * r2.m[i][j];
      l += a[9 + i] * t2[i];
    }
    return l;
  };
  const double eps = 1e-6;
  for (int i = 0; i < 3; ++i) {
    V3 d{0, 0, 0};
    d[i] = eps;
    const double num_rho = (loss(d, V3{0, 0, 0}) - loss(-d, V3{0, 0, 0})) / (2 * eps);
    const double num_phi = (loss(V3{0, 0, 0}, d) - loss(V3{0, 0, 0}, -d)) / (2 * eps);
    EXPECT_NEAR(v_rho[i], num_rho, 1e-7);
    EXPECT_NEAR(v_phi[i], num_phi, 1e-7);
  }
}

TEST(KernelsMath, RotmatQuatRoundTrip) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const M3 r = random_rotation(seed);
    const M3 r2 = quat_to_rotmat(rotmat_to_quat(r));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(r.m[i][j], r2.m[i][j], 1e-12);
  }
}

TEST(KernelsMath, FastExpMatchesStdExp) {
#if GLIMPSE_HAS_LANES
  double worst = 0;
  for (float x0 = -87.f; x0 <= 0.f; x0 += 8 * 0.0137f) {
    f32x8 x;
    for (int l = 0; l < 8; ++l) x[l] = std::min(0.f, x0 + l * 0.0137f);
    const f32x8 y = exp_blend(x);
    for (int l = 0; l < 8; ++l) {
      const double ref = std::exp(double(x[l]));
      worst = std::max(worst, std::abs(double(y[l]) - ref) / ref);
    }
  }
  std::printf("exp_blend on 8 float lanes: worst relative error on [-87, 0]: %.3e\n", worst);
  EXPECT_LT(worst, 4e-7);
#else
  GTEST_SKIP() << "no vector extensions in this compiler";
#endif
}

}  // namespace
}  // namespace glimpse
