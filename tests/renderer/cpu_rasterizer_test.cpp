// CPU rasterizer: agreement with a brute-force per-pixel reference, whole-rasterizer gradients
// against finite differences in double, determinism across thread counts, edge cases, bad input.
#include "renderer/cpu/cpu_rasterizer.h"

#include "core/check.h"
#include "renderer/kernels/blend.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/projection.h"
#include "renderer/rasterizer.h"
#include "tests/support/gradient_check.h"
#include "tests/support/random_scene.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace glimpse {
namespace {

using testing::random_gaussians;
using testing::test_camera;
using testing::Vecd;

// Brute force: every pixel blends every splat in depth order with the kernel functions.
RenderOutputT<double> reference_render(const GaussiansT<double>& g, const CameraT<double>& cam,
                                       const RenderOptions& opt) {
  const int n = static_cast<int>(g.size());
  const int w = cam.width, h = cam.height;
  std::vector<double> mx(n), my(n), ca(n), cb(n), cc(n), op(n, 0), z(n), col(3 * n), smax(n);
  const Vec3<double> campos = cam.center();
  for (int i = 0; i < n; ++i) {
    const Vec3<double> m{g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]};
    const Vec3<double> p = transform_point(cam.rotation, cam.translation, m);
    z[i] = p.z;
    if (p.z < opt.near_plane) continue;
    const Mat3<double> cov = rotate_covariance(
        cam.rotation,
        covariance_from_params(
            Quat<double>{g.quats[4 * i], g.quats[4 * i + 1], g.quats[4 * i + 2],
                         g.quats[4 * i + 3]},
            Vec3<double>{g.log_scales[3 * i], g.log_scales[3 * i + 1], g.log_scales[3 * i + 2]}));
    Vec2<double> m2;
    Vec3<double> c2, cb2, con;
    project_gaussian(intrinsics_of(cam), p, cov, m2, c2);
    const double comp =
        add_blur(c2, double(opt.blur), opt.antialiasing == AntiAliasing::MipSplatting, cb2);
    inverse_sym2(cb2, con);
    mx[i] = m2.x, my[i] = m2.y, ca[i] = con.x, cb[i] = con.y, cc[i] = con.z;
    op[i] = sigmoid(g.opacity_logits[i]) * comp;
    const double k = extent_sigmas(op[i], opt.extent == ExtentMode::OpacityAware);
    smax[i] = 0.5 * k * k;
    const Vec3<double> c =
        sh_to_color(std::min(g.sh_degree, opt.sh_degree), &g.sh[i * 3 * g.sh_coeffs()], m - campos);
    col[3 * i] = c.x, col[3 * i + 1] = c.y, col[3 * i + 2] = c.z;
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return static_cast<float>(z[a]) < static_cast<float>(z[b]);
  });
  RenderOutputT<double> out;
  out.rgb = Image<double>(w, h, 3);
  out.alpha = Image<double>(w, h, 1);
  out.depth = Image<double>(w, h, 1);
  const Vec3<double> bg{opt.background.x, opt.background.y, opt.background.z};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::vector<double> alphas, colors, depths;
      for (int i : order) {
        if (op[i] < kAlphaMin) continue;
        alphas.push_back(
            splat_alpha(op[i], ca[i], cb[i], cc[i], x + 0.5 - mx[i], y + 0.5 - my[i], smax[i]));
        colors.insert(colors.end(), {col[3 * i], col[3 * i + 1], col[3 * i + 2]});
        depths.push_back(z[i]);
      }
      Vec3<double> rgb;
      double a, ds;
      composite_pixel(static_cast<int>(alphas.size()), alphas.data(), colors.data(), depths.data(),
                      bg, rgb, a, ds);
      for (int c = 0; c < 3; ++c) out.rgb.at(x, y, c) = rgb[c];
      out.alpha.at(x, y) = a;
      out.depth.at(x, y) = a > kDepthAlphaMin ? ds / a : 0.0;
    }
  return out;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

TEST(CpuRasterizer, MatchesBruteForceReference) {
  for (int mode = 0; mode < 3; ++mode) {
    const AntiAliasing aa = mode == 1 ? AntiAliasing::MipSplatting : AntiAliasing::Off;
    const auto g = random_gaussians<double>(300, 2, 7, 3.0, 70, 50);
    const auto cam = test_camera<double>(70, 50, 0.05);
    RenderOptions opt;
    opt.antialiasing = aa;
    if (mode == 2) opt.extent = ExtentMode::ThreeSigma;
    opt.background = {0.1f, 0.2f, 0.3f};
    CpuRasterizerT<double> r(2);
    RenderOutputT<double> out;
    r.forward(g, cam, opt, out);
    const auto ref = reference_render(g, cam, opt);
    const double d_rgb = max_abs_diff(out.rgb.vector(), ref.rgb.vector());
    const double d_a = max_abs_diff(out.alpha.vector(), ref.alpha.vector());
    const double d_d = max_abs_diff(out.depth.vector(), ref.depth.vector());
    std::printf(
        "tile rasterizer vs brute force (mode %d): max |diff| rgb %.2e alpha %.2e depth %.2e\n",
        mode, d_rgb, d_a, d_d);
    EXPECT_LT(d_rgb, 1e-12);
    EXPECT_LT(d_a, 1e-12);
    EXPECT_LT(d_d, 1e-10);
    EXPECT_GT(out.num_visible, 250);
  }
}

TEST(CpuRasterizer, FloatMatchesDouble) {
  const auto gd = random_gaussians<double>(2000, 3, 3, 4.0, 96, 64);
  const auto camd = test_camera<double>(96, 64);
  RenderOptions opt;
  CpuRasterizerT<double> rd(2);
  CpuRasterizerT<float> rf(2);
  RenderOutputT<double> od;
  RenderOutputT<float> of;
  rd.forward(gd, camd, opt, od);
  rf.forward(gd.cast<float>(), camd.cast<float>(), opt, of);
  double worst = 0;
  for (size_t i = 0; i < od.rgb.size(); ++i)
    worst = std::max(worst, std::abs(od.rgb.data()[i] - double(of.rgb.data()[i])));
  std::printf("float vs double rgb max |diff| %.2e\n", worst);
  EXPECT_LT(worst, 2e-4);
}

// The float path (8-float lanes, fast exp, the per-Gaussian chain on 8 Gaussians at once)
// against the double path (checked against finite differences below): every gradient array and
// the pose gradient, relative to its largest entry.
void expect_float_gradients_match_double(const GaussiansT<double>& gd, const CameraT<double>& camd,
                                         const RenderOptions& opt) {
  const int w = camd.width, h = camd.height;
  CpuRasterizerT<double> rd(2);
  CpuRasterizerT<float> rf(2);
  RenderOutputT<double> od;
  RenderOutputT<float> of;
  rd.forward(gd, camd, opt, od);
  rf.forward(gd.cast<float>(), camd.cast<float>(), opt, of);
  ASSERT_EQ(od.num_visible, of.num_visible);
  RenderOutputGradientsT<double> vd;
  RenderOutputGradientsT<float> vf;
  vd.rgb = Image<double>(w, h, 3);
  vd.alpha = Image<double>(w, h, 1);
  vd.depth = Image<double>(w, h, 1);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (auto* img : {&vd.rgb, &vd.alpha, &vd.depth})
    for (auto& e : img->vector()) e = u(rng);
  vf.rgb = Image<float>(w, h, 3);
  vf.alpha = Image<float>(w, h, 1);
  vf.depth = Image<float>(w, h, 1);
  for (size_t i = 0; i < vd.rgb.size(); ++i) vf.rgb.data()[i] = float(vd.rgb.data()[i]);
  for (size_t i = 0; i < vd.alpha.size(); ++i) vf.alpha.data()[i] = float(vd.alpha.data()[i]);
  for (size_t i = 0; i < vd.depth.size(); ++i) vf.depth.data()[i] = float(vd.depth.data()[i]);
  GaussianGradientsT<double> gdd;
  GaussianGradientsT<float> gff;
  rd.backward(gd, camd, opt, vd, gdd);
  rf.backward(gd.cast<float>(), camd.cast<float>(), opt, vf, gff);
  auto compare = [](const std::vector<double>& a, const std::vector<float>& b, const char* name) {
    ASSERT_EQ(a.size(), b.size()) << name;
    double scale = 0, worst = 0;
    for (double x : a) scale = std::max(scale, std::abs(x));
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - double(b[i])));
    std::printf("float vs double gradient %-15s max |diff| / max |grad| = %.2e\n", name,
                worst / scale);
    EXPECT_GT(scale, 0.0) << name;
    EXPECT_LT(worst / scale, 1e-4) << name;
  };
  compare(gdd.means, gff.means, "means");
  compare(gdd.log_scales, gff.log_scales, "log_scales");
  compare(gdd.quats, gff.quats, "quats");
  compare(gdd.opacity_logits, gff.opacity_logits, "opacity_logits");
  compare(gdd.sh, gff.sh, "sh");
  compare(gdd.means2d, gff.means2d, "means2d");
  std::vector<double> pose_d;
  std::vector<float> pose_f;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      pose_d.push_back(gdd.v_rotation[r][c]);
      pose_f.push_back(gff.v_rotation[r][c]);
    }
    pose_d.push_back(gdd.v_translation[r]);
    pose_f.push_back(gff.v_translation[r]);
  }
  compare(pose_d, pose_f, "camera pose");
}

TEST(CpuRasterizer, FloatGradientsMatchDouble) {
  RenderOptions opt;
  opt.background = {0.2f, 0.4f, 0.1f};
  expect_float_gradients_match_double(random_gaussians<double>(1500, 3, 5, 4.0, 96, 64),
                                      test_camera<double>(96, 64, 0.03), opt);
}

// The same with the lanes' edge cases: Gaussians behind the camera (culled; their lanes hold
// inf in the 8-wide chain and must not leak into the pose gradient), large ones beside the view
// (the clamped Jacobian), Mip-Splatting's compensation, SH degree 1 of a degree-3 model, and a
// count that leaves partial lane groups.
TEST(CpuRasterizer, FloatGradientsMatchDoubleOffViewAndMipSplatting) {
  auto gd = random_gaussians<double>(1203, 3, 8, 4.0, 96, 64);
  for (size_t i = 0; i < gd.size(); ++i) {
    if (i % 5 == 1) gd.means[3 * i + 2] = -2.0;  // behind the camera
    if (i % 7 == 3) {                            // large, centred beside the view
      gd.means[3 * i + 0] = (i % 2 ? 0.75 : -0.75) * gd.means[3 * i + 2];
      for (int c = 0; c < 3; ++c) gd.log_scales[3 * i + c] += std::log(6.0);
    }
  }
  RenderOptions opt;
  opt.antialiasing = AntiAliasing::MipSplatting;
  opt.sh_degree = 1;
  expect_float_gradients_match_double(gd, test_camera<double>(96, 64, -0.05), opt);
}

// Parameters <-> flat vector for the finite-difference check.
struct Packed {
  static Vecd pack(const GaussiansT<double>& g, const CameraT<double>& c) {
    Vecd x;
    for (auto* v : {&g.means, &g.log_scales, &g.quats, &g.opacity_logits, &g.sh})
      x.insert(x.end(), v->begin(), v->end());
    for (int i = 0; i < 9; ++i) x.push_back(c.rotation.m[i / 3][i % 3]);
    for (int i = 0; i < 3; ++i) x.push_back(c.translation[i]);
    return x;
  }
  static void unpack(const Vecd& x, GaussiansT<double>& g, CameraT<double>& c) {
    size_t o = 0;
    for (auto* v : {&g.means, &g.log_scales, &g.quats, &g.opacity_logits, &g.sh})
      for (auto& e : *v) e = x[o++];
    for (int i = 0; i < 9; ++i) c.rotation.m[i / 3][i % 3] = x[o++];
    for (int i = 0; i < 3; ++i) c.translation[i] = x[o++];
  }
  static Vecd pack_grads(const GaussianGradientsT<double>& g) {
    Vecd x;
    for (auto* v : {&g.means, &g.log_scales, &g.quats, &g.opacity_logits, &g.sh})
      x.insert(x.end(), v->begin(), v->end());
    for (int i = 0; i < 9; ++i) x.push_back(g.v_rotation.m[i / 3][i % 3]);
    for (int i = 0; i < 3; ++i) x.push_back(g.v_translation[i]);
    return x;
  }
};

void check_rasterizer_gradients(const std::string& name, const GaussiansT<double>& g0,
                                const CameraT<double>& cam0, const RenderOptions& opt, double tol) {
  CpuRasterizerT<double> r(2);
  auto f = [&](const Vecd& x) {
    GaussiansT<double> g = g0;
    CameraT<double> c = cam0;
    Packed::unpack(x, g, c);
    RenderOutputT<double> out;
    r.forward(g, c, opt, out);
    Vecd y = out.rgb.vector();
    y.insert(y.end(), out.alpha.vector().begin(), out.alpha.vector().end());
    y.insert(y.end(), out.depth.vector().begin(), out.depth.vector().end());
    y.insert(y.end(), out.median_depth.vector().begin(), out.median_depth.vector().end());
    return y;
  };
  auto vjp = [&](const Vecd& x, const Vecd& v) {
    GaussiansT<double> g = g0;
    CameraT<double> c = cam0;
    Packed::unpack(x, g, c);
    RenderOutputT<double> out;
    r.forward(g, c, opt, out);
    const int w = c.width, h = c.height;
    RenderOutputGradientsT<double> vo;
    vo.rgb = Image<double>(w, h, 3);
    vo.alpha = Image<double>(w, h, 1);
    vo.depth = Image<double>(w, h, 1);
    vo.median_depth = Image<double>(w, h, 1);
    size_t o = 0;
    for (auto* img : {&vo.rgb, &vo.alpha, &vo.depth, &vo.median_depth})
      for (auto& e : img->vector()) e = v[o++];
    GaussianGradientsT<double> grads;
    r.backward(g, c, opt, vo, grads);
    return Packed::pack_grads(grads);
  };
  // Gradients below 1e-3 are compared absolutely (finite differences over thousands of outputs
  // carry ~1e-10 of rounding noise). Step 3e-6: the error falls as 1/step from 1e-7 to 3e-6
  // (rounding noise), and at 1e-5 the dense scene's steps cross the transmittance cut-off.
  testing::expect_vjp(name, f, vjp, Packed::pack(g0, cam0), tol, 5, 3e-6, 1e-3);
}

TEST(CpuRasterizer, GradientsMatchFiniteDifferences) {
  const auto cam = test_camera<double>(40, 30, 0.04);
  RenderOptions opt;
  opt.background = {0.3f, 0.1f, 0.6f};
  check_rasterizer_gradients("rasterizer (sh 3, opacity-aware)",
                             random_gaussians<double>(7, 3, 11, 4.0, 40, 30), cam, opt, 1e-5);
  opt.antialiasing = AntiAliasing::MipSplatting;
  opt.extent = ExtentMode::ThreeSigma;
  check_rasterizer_gradients("rasterizer (sh 1, mip, 3 sigma)",
                             random_gaussians<double>(6, 1, 12, 5.0, 40, 30), cam, opt, 1e-5);
  // Dense and opaque: fragments clamp at alpha 0.99 and pixels stop at transmittance 1e-4.
  auto dense = random_gaussians<double>(14, 2, 13, 7.0, 40, 30);
  for (size_t i = 0; i < dense.size(); ++i) {
    dense.opacity_logits[i] = 5.0 + 0.3 * static_cast<double>(i % 3);
    dense.means[3 * i] *= 0.3;
    dense.means[3 * i + 1] *= 0.3;
  }
  RenderOptions dense_opt;
  {
    CpuRasterizerT<double> r(1);
    RenderOutputT<double> out;
    r.forward(dense, cam, dense_opt, out);
    EXPECT_LT(1.0 - out.alpha.at(20, 15), 1e-3) << "the dense scene should be opaque";
  }
  check_rasterizer_gradients("rasterizer (dense, opaque)", dense, cam, dense_opt, 1e-5);
}

TEST(CpuRasterizer, DeterministicAcrossThreadCounts) {
  const auto g = random_gaussians<float>(5000, 3, 21, 3.0, 200, 150);
  const auto cam = test_camera<float>(200, 150);
  RenderOptions opt;
  RenderOutputGradientsT<float> vo;
  vo.rgb = Image<float>(200, 150, 3, 0.01f);
  vo.depth = Image<float>(200, 150, 1, 0.002f);
  std::vector<float> first_rgb, first_grad;
  for (int threads : {1, 2, 3}) {
    CpuRasterizerT<float> r(threads);
    RenderOutputT<float> out;
    GaussianGradientsT<float> grads;
    r.forward(g, cam, opt, out);
    r.backward(g, cam, opt, vo, grads);
    std::vector<float> all = grads.means;
    all.insert(all.end(), grads.sh.begin(), grads.sh.end());
    all.insert(all.end(), grads.quats.begin(), grads.quats.end());
    for (int i = 0; i < 3; ++i) all.push_back(grads.v_translation[i]);
    if (first_rgb.empty()) {
      first_rgb = out.rgb.vector();
      first_grad = all;
    } else {
      EXPECT_EQ(first_rgb, out.rgb.vector()) << threads << " threads";
      EXPECT_EQ(first_grad, all) << threads << " threads";
    }
  }
}

// The densification statistics the backward pass adds as it writes the 2D-mean gradients equal
// the separate pass over its outputs, over two views (sums, counts and maxima), and a size
// mismatch starts them afresh.
TEST(CpuRasterizer, BackwardAddsTheDensificationStatisticsOfTheSeparatePass) {
  const auto g = random_gaussians<float>(3000, 3, 5, 3.0, 160, 120);
  RenderOptions opt;
  RenderOutputGradients vo;
  vo.rgb = Image<float>(160, 120, 3, 0.02f);
  vo.alpha = Image<float>(160, 120, 1, -0.01f);
  auto r = make_cpu_rasterizer(2);
  ScreenGradientStats fused, separate;
  fused.reset(7);  // the wrong size: reset to the Gaussian count by the first pass
  int seen = 0;
  for (int view = 0; view < 2; ++view) {
    Camera cam = test_camera<double>(160, 120);
    cam.translation.x += 0.3 * view;  // a second, shifted view
    RenderOutput out;
    GaussianGradients grads;
    r->forward(g, cam, opt, out);
    r->backward(g, cam, opt, vo, grads, &fused);
    separate.add_view(out.radii, grads.means2d, cam.width, cam.height);
    seen += static_cast<int>(std::count_if(out.radii.begin(), out.radii.end(),
                                           [](int32_t radius) { return radius > 0; }));
  }
  ASSERT_EQ(fused.size(), g.size());
  EXPECT_GT(seen, 1000);  // most Gaussians are seen, in both views
  EXPECT_EQ(fused.views, separate.views);
  EXPECT_EQ(fused.max_radius, separate.max_radius);
  double max_sum = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    max_sum = std::max(max_sum, static_cast<double>(separate.grad_norm_sum[i]));
    EXPECT_NEAR(fused.grad_norm_sum[i], separate.grad_norm_sum[i],
                1e-6f * std::max(1.f, separate.grad_norm_sum[i]))
        << "Gaussian " << i;
  }
  EXPECT_GT(max_sum, 0.0);
}

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Renders and back-propagates; expects finite outputs and gradients everywhere.
void expect_finite(const Gaussians& g, const Camera& cam, const std::string& what) {
  auto r = make_cpu_rasterizer(2);
  RenderOptions opt;
  RenderOutput out;
  r->forward(g, cam, opt, out);
  RenderOutputGradients vo;
  vo.rgb = Image<float>(cam.width, cam.height, 3, 1.f);
  vo.alpha = Image<float>(cam.width, cam.height, 1, 1.f);
  vo.depth = Image<float>(cam.width, cam.height, 1, 1.f);
  vo.median_depth = Image<float>(cam.width, cam.height, 1, 1.f);
  GaussianGradients grads;
  r->backward(g, cam, opt, vo, grads);
  EXPECT_TRUE(all_finite(out.rgb.vector()) && all_finite(out.alpha.vector()) &&
              all_finite(out.depth.vector()) && all_finite(out.median_depth.vector()))
      << what;
  for (auto* v : {&grads.means, &grads.log_scales, &grads.quats, &grads.opacity_logits, &grads.sh,
                  &grads.means2d})
    EXPECT_TRUE(all_finite(*v)) << what;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isfinite(grads.v_translation[i])) << what;
}

Gaussians one_gaussian(float x, float y, float z, float log_scale, float logit) {
  Gaussians g;
  g.sh_degree = 1;
  g.resize(1);
  g.means = {x, y, z};
  g.log_scales = {log_scale, log_scale, log_scale};
  g.opacity_logits = {logit};
  g.sh[0] = g.sh[1] = g.sh[2] = 0.5f;
  return g;
}

TEST(CpuRasterizer, EdgeCasesGiveFiniteOutputsAndGradients) {
  const Camera cam = test_camera<double>(64, 48);
  expect_finite(one_gaussian(0, 0, -2, -2, 2), cam, "behind the camera");
  expect_finite(one_gaussian(0, 0, -0.1f + 1e-3f, -2, 2), cam, "near the near plane");
  expect_finite(one_gaussian(0.01f, 0, -0.1f + 0.0100001f, -2, 2), cam, "on the near plane");
  expect_finite(one_gaussian(0, 0, 3, -30, 2), cam, "degenerate (zero) scale");
  expect_finite(one_gaussian(0, 0, 3, -2, -100), cam, "zero opacity");
  expect_finite(one_gaussian(0, 0, 3, 3, 4), cam, "larger than the image");
  expect_finite(one_gaussian(50, 0, 3, -2, 2), cam, "far outside the view");
  Gaussians empty;
  expect_finite(empty, cam, "empty scene");
  expect_finite(random_gaussians<float>(50, 3, 4, 30.0), test_camera<double>(1, 1), "1x1 image");
  // An empty scene renders the background with zero alpha.
  auto r = make_cpu_rasterizer(1);
  RenderOptions opt;
  opt.background = {0.25f, 0.5f, 0.75f};
  RenderOutput out;
  r->forward(empty, cam, opt, out);
  EXPECT_FLOAT_EQ(out.rgb.at(10, 10, 1), 0.5f);
  EXPECT_FLOAT_EQ(out.alpha.at(10, 10), 0.f);
  // The Gaussian behind the camera is not visible; the one in front is.
  r->forward(one_gaussian(0, 0, -2, -2, 2), cam, opt, out);
  EXPECT_EQ(out.radii[0], 0);
  r->forward(one_gaussian(0, 0, 3, -2, 2), cam, opt, out);
  EXPECT_GT(out.radii[0], 0);
  EXPECT_GT(out.alpha.at(32, 24), 0.5f);
}

TEST(CpuRasterizer, RejectsBadInput) {
  auto r = make_cpu_rasterizer(1);
  const Camera cam = test_camera<double>(32, 24);
  RenderOutput out;
  Gaussians g = one_gaussian(0, 0, 3, -2, 2);
  g.means[1] = std::nanf("");
  EXPECT_THROW(r->forward(g, cam, RenderOptions{}, out), Error);
  g = one_gaussian(0, 0, 3, -2, 2);
  g.sh_degree = 4;
  EXPECT_THROW(r->forward(g, cam, RenderOptions{}, out), Error);
  RenderOptions opt;
  opt.sh_degree = 5;
  EXPECT_THROW(r->forward(one_gaussian(0, 0, 3, -2, 2), cam, opt, out), Error);
  Camera bad = cam;
  bad.width = 0;
  EXPECT_THROW(r->forward(one_gaussian(0, 0, 3, -2, 2), bad, RenderOptions{}, out), Error);
  bad = cam;
  bad.fx = -1;
  EXPECT_THROW(r->forward(one_gaussian(0, 0, 3, -2, 2), bad, RenderOptions{}, out), Error);
  EXPECT_THROW(make_cpu_rasterizer(-1), Error);
  try {
    g = one_gaussian(0, 0, 3, -2, 2);
    g.opacity_logits[0] = INFINITY;
    r->forward(g, cam, RenderOptions{}, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("opacity_logits"), std::string::npos) << e.what();
  }
}

// The parameter check runs inside the parallel preprocess: any array, any chunk, culled
// Gaussians too, and the message names the array and the Gaussian.
TEST(CpuRasterizer, RejectsNonFiniteParametersAnywhere) {
  auto r = make_cpu_rasterizer(2);
  const Camera cam = test_camera<double>(32, 24);
  const Gaussians clean = random_gaussians<float>(3000, 3, 7);
  RenderOutput out;
  ASSERT_NO_THROW(r->forward(clean, cam, RenderOptions{}, out));
  auto expect_error = [&](const Gaussians& g, const std::string& part) {
    try {
      r->forward(g, cam, RenderOptions{}, out);
      ADD_FAILURE() << "no error for " << part;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  Gaussians g = clean;
  g.sh[2500 * 48 + 47] = std::nanf("");
  expect_error(g, "'sh' of Gaussian 2500");
  g = clean;
  g.log_scales[3 * 1700 + 1] = -INFINITY;
  expect_error(g, "'log_scales' of Gaussian 1700");
  g = clean;
  g.means[3 * 5 + 2] = -50.0f;  // behind the camera: culled, still checked
  g.quats[4 * 5 + 3] = std::nanf("");
  expect_error(g, "'quats' of Gaussian 5");
  g = clean;
  for (int c = 0; c < 4; ++c) g.quats[4 * 2999 + c] = 0.0f;
  expect_error(g, "quaternion of Gaussian 2999 is zero");
  g = clean;
  g.sh.pop_back();
  expect_error(g, "'sh' has");
}

}  // namespace
}  // namespace glimpse
