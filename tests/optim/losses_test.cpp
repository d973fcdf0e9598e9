// L1, SSIM (3DGS utils/loss_utils.py) and the photometric loss: values against a naive direct 2D
// window implementation, gradients against central differences in double, float/double agreement.
#include "optim/losses.h"

#include "tests/support/gradient_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

namespace glimpse {
namespace {

using testing::expect_vjp;
using testing::Vecd;

template <typename T>
Image<T> random_image(int width, int height, int channels, uint32_t seed, double lo = 0,
                      double hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Image<T> img(width, height, channels);
  for (auto& v : img.vector()) v = static_cast<T>(u(rng));
  return img;
}

// The reference 3DGS ssim() written out directly: the 2D 11x11 window (outer product of the
// normalised 1D Gaussian, sigma 1.5) applied by a double loop with zero padding ("same" conv2d
// with padding 5), then the SSIM map averaged over all pixels and channels. With `grad`, also
// d mean / d a by the chain rule through every window sum (quotient rule on the map, then each
// window sum's derivative w(q - p) * {1, 2 a(p), b(p)}), accumulated pixel by pixel.
double naive_ssim(const Image<double>& a, const Image<double>& b, Image<double>* grad = nullptr) {
  double g[11], sum = 0;
  for (int k = 0; k < 11; ++k) {
    g[k] = std::exp(-(k - 5.0) * (k - 5.0) / (2 * 1.5 * 1.5));
    sum += g[k];
  }
  for (double& v : g) v /= sum;
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const double n = static_cast<double>(a.size());
  auto inside = [&](int x, int y) { return x >= 0 && y >= 0 && x < a.width() && y < a.height(); };
  if (grad != nullptr) *grad = Image<double>(a.width(), a.height(), a.channels());
  double total = 0;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x)
      for (int c = 0; c < a.channels(); ++c) {
        double mu1 = 0, mu2 = 0, e11 = 0, e22 = 0, e12 = 0;
        for (int dy = -5; dy <= 5; ++dy)
          for (int dx = -5; dx <= 5; ++dx) {
            if (!inside(x + dx, y + dy)) continue;  // zero padding
            const double w = g[dy + 5] * g[dx + 5];
            const double p = a.at(x + dx, y + dy, c), q = b.at(x + dx, y + dy, c);
            mu1 += w * p;
            mu2 += w * q;
            e11 += w * p * p;
            e22 += w * q * q;
            e12 += w * p * q;
          }
        const double s1 = e11 - mu1 * mu1, s2 = e22 - mu2 * mu2, s12 = e12 - mu1 * mu2;
        const double num1 = 2 * mu1 * mu2 + c1, num2 = 2 * s12 + c2;
        const double den1 = mu1 * mu1 + mu2 * mu2 + c1, den2 = s1 + s2 + c2;
        const double ssim_value = (num1 * num2) / (den1 * den2);
        total += ssim_value;
        if (grad == nullptr) continue;
        // Partial derivatives of the map value with respect to mu1, s1 and s12 (quotient rule),
        // then with respect to the window sums mu1, e11 = E[a^2], e12 = E[ab].
        const double d_num1 = 2 * mu2, d_den1 = 2 * mu1;
        const double dv_dmu1_direct =
            (d_num1 * num2 * den1 - num1 * num2 * d_den1) / (den1 * den1 * den2);
        const double dv_ds1 = -num1 * num2 / (den1 * den2 * den2);
        const double dv_ds12 = num1 * 2 / (den1 * den2);
        const double dv_dmu1 = dv_dmu1_direct + dv_ds1 * (-2 * mu1) + dv_ds12 * (-mu2);
        const double dv_de11 = dv_ds1, dv_de12 = dv_ds12;
        for (int dy = -5; dy <= 5; ++dy)
          for (int dx = -5; dx <= 5; ++dx) {
            if (!inside(x + dx, y + dy)) continue;
            const double w = g[dy + 5] * g[dx + 5];
            const double p = a.at(x + dx, y + dy, c), q = b.at(x + dx, y + dy, c);
            grad->at(x + dx, y + dy, c) += w * (dv_dmu1 + dv_de11 * 2 * p + dv_de12 * q) / n;
          }
      }
  return total / n;
}

Image<double> image_from(const Vecd& x, int width, int height, int channels) {
  Image<double> img(width, height, channels);
  img.vector() = x;
  return img;
}

TEST(Losses, L1HandWorked) {
  Image<double> a(3, 1, 1), b(3, 1, 1);
  a.vector() = {0.0, 1.0, 0.5};
  b.vector() = {1.0, 1.0, 0.0};
  Image<double> grad;
  EXPECT_DOUBLE_EQ(l1_loss(a, b, &grad), 0.5);  // (1 + 0 + 0.5) / 3
  ASSERT_EQ(grad.size(), 3u);
  EXPECT_DOUBLE_EQ(grad.vector()[0], -1.0 / 3);
  EXPECT_EQ(grad.vector()[1], 0.0);  // sign(0) = 0
  EXPECT_DOUBLE_EQ(grad.vector()[2], 1.0 / 3);
}

TEST(Losses, SsimAndGradientMatchNaiveAcrossBands) {
  // Tall enough that the fused gradient pass splits the rows into several bands.
  const Image<double> a = random_image<double>(9, 70, 3, 13);
  const Image<double> b = random_image<double>(9, 70, 3, 14);
  Image<double> expected_grad, grad;
  const double expected = naive_ssim(a, b, &expected_grad);
  EXPECT_NEAR(ssim(a, b, &grad), expected, 1e-12);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < grad.size(); ++i) {
    worst = std::max(worst, std::abs(grad.vector()[i] - expected_grad.vector()[i]));
    scale = std::max(scale, std::abs(expected_grad.vector()[i]));
  }
  std::printf("[naive] 9x70x3 ssim %.15f, gradient worst |diff| %.3e (max |grad| %.3e)\n", expected,
              worst, scale);
  EXPECT_GT(scale, 1e-5);
  EXPECT_LT(worst, 1e-12 * scale) << "worst absolute difference " << worst;
}

TEST(Losses, SsimOfImageWithItselfIsOneWithZeroGradient) {
  for (const auto& [w, h, c] : {std::tuple{13, 9, 3}, std::tuple{40, 31, 3}, std::tuple{4, 3, 1}}) {
    const Image<double> a = random_image<double>(w, h, c, 7);
    Image<double> grad;
    EXPECT_NEAR(ssim(a, a, &grad), 1.0, 1e-14);
    double worst = 0;
    for (double g : grad.vector()) worst = std::max(worst, std::abs(g));
    EXPECT_LT(worst, 1e-13) << w << "x" << h << "x" << c;

    const Image<float> af = random_image<float>(w, h, c, 7);
    Image<float> gradf;
    EXPECT_NEAR(ssim(af, af, &gradf), 1.0, 1e-6);
    float worstf = 0;
    for (float g : gradf.vector()) worstf = std::max(worstf, std::abs(g));
    EXPECT_LT(worstf, 1e-6f);
  }
}

TEST(Losses, SsimMatchesNaiveDirectWindow) {
  // Larger and smaller than the window in each direction, one to four channels.
  for (const auto& [w, h, c] :
       {std::tuple{13, 9, 3}, std::tuple{24, 17, 2}, std::tuple{5, 14, 1}, std::tuple{3, 2, 4}}) {
    const Image<double> a = random_image<double>(w, h, c, 11);
    const Image<double> b = random_image<double>(w, h, c, 12);
    const double expected = naive_ssim(a, b);
    EXPECT_NEAR(ssim(a, b), expected, 1e-12) << w << "x" << h << "x" << c;
    EXPECT_GT(expected, 0.0);  // a real, non-trivial value
    EXPECT_LT(expected, 0.8);
    // Correlated images: SSIM close to but below 1.
    Image<double> near = a;
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0, 0.02);
    for (double& v : near.vector()) v += noise(rng);
    const double expected_near = naive_ssim(a, near);
    EXPECT_NEAR(ssim(a, near), expected_near, 1e-12);
    EXPECT_GT(expected_near, 0.9);
  }
}

// Scalar loss (a, b, grad) -> value, differentiated with respect to a.
using LossFn = std::function<double(const Image<double>&, const Image<double>&, Image<double>*)>;

// Central differences with step 3e-5 on a mean over all values. Errors are relative to
// max(|analytic|, |numeric|, 1e-2 max_i |analytic_i|): single entries whose gradient nearly
// cancels would otherwise measure the finite-difference rounding (~1e-16 / eps of the loss).
void expect_loss_gradient(const std::string& name, const LossFn& loss, const Image<double>& b,
                          const Vecd& x, double tol) {
  const int w = b.width(), h = b.height(), c = b.channels();
  Image<double> grad;
  loss(image_from(x, w, h, c), b, &grad);
  double scale = 0;
  for (double g : grad.vector()) scale = std::max(scale, std::abs(g));
  ASSERT_GT(scale, 0.0) << name;
  auto value = [&](const Vecd& xi) { return Vecd{loss(image_from(xi, w, h, c), b, nullptr)}; };
  auto vjp = [&](const Vecd& xi, const Vecd& v) {
    Image<double> g;
    loss(image_from(xi, w, h, c), b, &g);
    Vecd r = g.vector();
    for (double& e : r) e *= v[0];
    return r;
  };
  const std::string shape =
      " " + std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(c);
  expect_vjp(name + shape, value, vjp, x, tol, 1, 3e-5, 1e-2 * scale);
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  const LossFn l1 = [](const Image<double>& a, const Image<double>& b, Image<double>* g) {
    return l1_loss(a, b, g);
  };
  const LossFn s = [](const Image<double>& a, const Image<double>& b, Image<double>* g) {
    return ssim(a, b, g);
  };
  const LossFn photo = [](const Image<double>& a, const Image<double>& b, Image<double>* g) {
    return photometric_loss(a, b, 0.2, g).loss;
  };
  const LossFn weighted = [](const Image<double>& a, const Image<double>& b, Image<double>* g) {
    return weighted_photometric_loss(a, b, 1.0, 0.6, g).loss;
  };
  // Smaller than the window vertically (13x9x3), with full-window interior rows (24x16x2), and
  // tall enough (7x75x2) for the fused gradient pass to split rows into several bands.
  for (const auto& [w, h, c] :
       {std::tuple{13, 9, 3}, std::tuple{24, 16, 2}, std::tuple{7, 75, 2}}) {
    const Image<double> b = random_image<double>(w, h, c, 21);
    const Vecd x = random_image<double>(w, h, c, 22).vector();
    expect_loss_gradient("l1_loss", l1, b, x, 1e-6);
    expect_loss_gradient("ssim", s, b, x, 1e-6);
    expect_loss_gradient("photometric_loss", photo, b, x, 1e-6);
    expect_loss_gradient("weighted_photometric_loss", weighted, b, x, 1e-6);
    // Near the optimum (a close to b), where the SSIM gradient is small.
    Vecd x_near = b.vector();
    std::mt19937 rng(5);
    std::normal_distribution<double> noise(0, 0.01);
    for (double& e : x_near) e += noise(rng);
    expect_loss_gradient("ssim near optimum", s, b, x_near, 1e-5);
  }
}

TEST(Losses, PhotometricCombinesL1AndSsim) {
  const Image<double> a = random_image<double>(31, 22, 3, 31);
  const Image<double> b = random_image<double>(31, 22, 3, 32);
  Image<double> g_l1, g_ssim, g_photo;
  const double l1 = l1_loss(a, b, &g_l1);
  const double s = ssim(a, b, &g_ssim);
  const PhotometricLoss p = photometric_loss(a, b, 0.2, &g_photo);
  EXPECT_NEAR(p.l1, l1, 1e-15);
  EXPECT_NEAR(p.ssim, s, 1e-15);
  EXPECT_NEAR(p.loss, 0.8 * l1 + 0.2 * (1 - s), 1e-15);
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(g_photo.vector()[i], 0.8 * g_l1.vector()[i] - 0.2 * g_ssim.vector()[i], 1e-17);
  const PhotometricLoss w = weighted_photometric_loss(a, b, 1.0, 0.2);
  EXPECT_NEAR(w.loss, l1 + 0.2 * (1 - s), 1e-15);
}

TEST(Losses, FloatMatchesDouble) {
  const Image<double> a = random_image<double>(67, 45, 3, 41);
  const Image<double> b = random_image<double>(67, 45, 3, 42);
  Image<float> af(67, 45, 3), bf(67, 45, 3);
  for (size_t i = 0; i < a.size(); ++i) {
    af.vector()[i] = static_cast<float>(a.vector()[i]);
    bf.vector()[i] = static_cast<float>(b.vector()[i]);
  }
  Image<double> g;
  Image<float> gf;
  const PhotometricLoss p = photometric_loss(a, b, 0.2, &g);
  const PhotometricLoss pf = photometric_loss(af, bf, 0.2, &gf);
  EXPECT_NEAR(pf.ssim, p.ssim, 2e-6);
  EXPECT_NEAR(pf.l1, p.l1, 1e-7);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    worst = std::max(worst, std::abs(g.vector()[i] - gf.vector()[i]));
    scale = std::max(scale, std::abs(g.vector()[i]));
  }
  EXPECT_LT(worst, 1e-3 * scale);
}

TEST(Losses, DeterministicAcrossCalls) {
  const Image<float> a = random_image<float>(211, 97, 3, 51);
  const Image<float> b = random_image<float>(211, 97, 3, 52);
  Image<float> g1, g2;
  const PhotometricLoss p1 = photometric_loss(a, b, 0.2, &g1);
  for (int r = 0; r < 5; ++r) {
    const PhotometricLoss p2 = photometric_loss(a, b, 0.2, &g2);
    EXPECT_EQ(p1.loss, p2.loss);
    EXPECT_EQ(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)), 0);
  }
}

TEST(Losses, GradientImageIsReshaped) {
  const Image<double> a = random_image<double>(6, 5, 2, 61);
  const Image<double> b = random_image<double>(6, 5, 2, 62);
  Image<double> grad(2, 2, 1, 123.0);
  ssim(a, b, &grad);
  EXPECT_EQ(grad.width(), 6);
  EXPECT_EQ(grad.height(), 5);
  EXPECT_EQ(grad.channels(), 2);
}

TEST(Losses, RejectsBadInput) {
  const Image<double> a(4, 3, 3), b(4, 3, 1), empty;
  EXPECT_THROW(l1_loss(a, b), Error);
  EXPECT_THROW(ssim(a, b), Error);
  EXPECT_THROW(photometric_loss(a, b), Error);
  EXPECT_THROW(ssim(empty, empty), Error);
  EXPECT_THROW(photometric_loss(a, a, 1.5), Error);
}

}  // namespace
}  // namespace glimpse
