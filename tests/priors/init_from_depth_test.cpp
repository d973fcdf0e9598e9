// Depth back-projection initialiser: points reproject to the pixel centres they came from at their
// depth, colours round-trip through the SH DC term, scales match the block footprint.
#include "priors/init_from_depth.h"

#include "core/check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace glimpse {
namespace {

constexpr double kC0 = 0.28209479177387814;

// A camera with a non-trivial pose and off-centre principal point.
Camera test_camera(int width, int height) {
  Camera c;
  c.width = width;
  c.height = height;
  c.fx = 41.0;
  c.fy = 37.5;
  c.cx = 0.45 * width;
  c.cy = 0.55 * height;
  const double n = std::sqrt(0.9 * 0.9 + 0.2 * 0.2 + 0.3 * 0.3 + 0.25 * 0.25);
  c.rotation = quat_to_rotmat(Quat<double>(0.9 / n, 0.2 / n, -0.3 / n, 0.25 / n));
  c.translation = {0.3, -1.2, 2.0};
  return c;
}

View test_view(int width, int height, uint32_t seed) {
  View v;
  v.name = "view" + std::to_string(seed) + ".png";
  v.camera = test_camera(width, height);
  v.image = Image<float>(width, height, 3);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& x : v.image.vector()) x = u(rng);
  return v;
}

Image<float> random_depth(int width, int height, uint32_t seed) {
  Image<float> d(width, height, 1);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(1.0f, 5.0f);
  for (float& x : d.vector()) x = u(rng);
  return d;
}

// Pixel position and camera depth of a world point.
void project(const Camera& c, const float* mean, double& u, double& v, double& z) {
  const Vec3<double> p = c.cam_from_world({mean[0], mean[1], mean[2]});
  u = c.fx * p.x / p.z + c.cx;
  v = c.fy * p.y / p.z + c.cy;
  z = p.z;
}

TEST(InitFromDepth, StrideOneReprojectsToEveryValidPixelCentre) {
  const int w = 13, h = 9;
  const View view = test_view(w, h, 1);
  Image<float> depth = random_depth(w, h, 2);
  // Invalid depths are skipped.
  depth.at(0, 0) = 0.0f;
  depth.at(5, 3) = -1.0f;
  depth.at(12, 8) = std::numeric_limits<float>::quiet_NaN();
  depth.at(7, 2) = std::numeric_limits<float>::infinity();
  DepthInitOptions options;
  options.stride = 1;
  const Gaussians g = init_from_depth({view}, {depth}, options, 0);
  ASSERT_EQ(g.size(), static_cast<size_t>(w * h - 4));

  size_t i = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float d = depth.at(x, y);
      if (!(std::isfinite(d) && d > 0.0f)) continue;
      double u, v, z;
      project(view.camera, &g.means[3 * i], u, v, z);
      EXPECT_NEAR(u, x + 0.5, 1e-3) << "pixel " << x << "," << y;
      EXPECT_NEAR(v, y + 0.5, 1e-3) << "pixel " << x << "," << y;
      EXPECT_NEAR(z, d, 1e-5 * d);
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(kC0 * g.sh[3 * i + c] + 0.5, view.image.at(x, y, c), 1e-6);
      ++i;
    }
  }
}

TEST(InitFromDepth, BlocksUseTheirMiddlePixelAndMeanColour) {
  // 14 x 10 with stride 4: blocks of width 4, 4, 4, 2 and height 4, 4, 2 (clipped at the border).
  const int w = 14, h = 10, s = 4;
  const View view = test_view(w, h, 3);
  const Image<float> depth = random_depth(w, h, 4);
  DepthInitOptions options;
  options.stride = s;
  options.opacity = 0.25f;
  options.scale_factor = 0.5f;
  const Gaussians g = init_from_depth({view}, {depth}, options, 3);
  ASSERT_EQ(g.size(), 12u);
  ASSERT_EQ(g.sh_degree, 3);
  ASSERT_EQ(g.sh.size(), 12u * 16 * 3);
  const double focal = std::sqrt(view.camera.fx * view.camera.fy);

  size_t i = 0;
  for (int y0 = 0; y0 < h; y0 += s) {
    for (int x0 = 0; x0 < w; x0 += s) {
      const int bw = std::min(s, w - x0), bh = std::min(s, h - y0);
      const int px = x0 + bw / 2, py = y0 + bh / 2;
      double u, v, z;
      project(view.camera, &g.means[3 * i], u, v, z);
      EXPECT_NEAR(u, px + 0.5, 1e-3);
      EXPECT_NEAR(v, py + 0.5, 1e-3);
      EXPECT_NEAR(z, depth.at(px, py), 1e-5 * z);
      // Mean colour of the block through SH DC; higher orders zero.
      for (int c = 0; c < 3; ++c) {
        double mean = 0.0;
        for (int y = y0; y < y0 + bh; ++y)
          for (int x = x0; x < x0 + bw; ++x) mean += view.image.at(x, y, c);
        mean /= bw * bh;
        EXPECT_NEAR(kC0 * g.sh[i * 48 + c] + 0.5, mean, 1e-6);
      }
      for (int k = 3; k < 48; ++k) EXPECT_EQ(g.sh[i * 48 + k], 0.0f);
      // Isotropic scale matched to the footprint; identity rotation; the requested opacity.
      const double sigma = 0.5 * s * depth.at(px, py) / focal;
      for (int a = 0; a < 3; ++a)
        EXPECT_NEAR(std::exp(g.log_scales[3 * i + a]), sigma, 1e-5 * sigma);
      EXPECT_EQ(g.quats[4 * i + 0], 1.0f);
      for (int a = 1; a < 4; ++a) EXPECT_EQ(g.quats[4 * i + a], 0.0f);
      EXPECT_NEAR(1.0 / (1.0 + std::exp(-g.opacity_logits[i])), 0.25, 1e-6);
      ++i;
    }
  }
}

TEST(InitFromDepth, ConcatenatesViewsInOrder) {
  const View a = test_view(8, 6, 5), b = test_view(6, 4, 6);
  DepthInitOptions options;
  options.stride = 2;
  const Gaussians g =
      init_from_depth({a, b}, {constant_depth(8, 6, 2.0f), constant_depth(6, 4, 3.0f)}, options, 1);
  ASSERT_EQ(g.size(), 4u * 3 + 3u * 2);
  EXPECT_NO_THROW(g.check());
  double u, v, z;
  project(a.camera, &g.means[0], u, v, z);
  EXPECT_NEAR(z, 2.0, 1e-5);
  project(b.camera, &g.means[3 * 12], u, v, z);
  EXPECT_NEAR(u, 1.5, 1e-3);
  EXPECT_NEAR(v, 1.5, 1e-3);
  EXPECT_NEAR(z, 3.0, 1e-5);
}

TEST(InitFromDepth, AllDepthsInvalidGivesNoGaussians) {
  const View view = test_view(5, 5, 7);
  const Gaussians g = init_from_depth({view}, {constant_depth(5, 5, 0.0f)}, {}, 0);
  EXPECT_EQ(g.size(), 0u);
}

TEST(InitFromDepth, RejectsBadInput) {
  const View view = test_view(8, 6, 8);
  const Image<float> depth = constant_depth(8, 6, 1.0f);
  DepthInitOptions bad;
  bad.stride = 0;
  EXPECT_THROW(bad.check(), Error);
  EXPECT_THROW(init_from_depth({view}, {depth}, bad, 0), Error);
  bad = {};
  bad.opacity = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(bad.check(), Error);
  bad = {};
  bad.opacity = 1.0f;
  EXPECT_THROW(bad.check(), Error);
  bad = {};
  bad.scale_factor = -1.0f;
  EXPECT_THROW(bad.check(), Error);
  EXPECT_NO_THROW(DepthInitOptions{}.check());

  EXPECT_THROW(init_from_depth({view}, {}, {}, 0), Error);                             // count
  EXPECT_THROW(init_from_depth({view}, {constant_depth(6, 8, 1.0f)}, {}, 0), Error);   // size
  EXPECT_THROW(init_from_depth({view}, {Image<float>(8, 6, 3, 1.0f)}, {}, 0), Error);  // channels
  EXPECT_THROW(init_from_depth({view}, {depth}, {}, 4), Error);                        // SH degree
  View no_image = view;
  no_image.image = {};
  EXPECT_THROW(init_from_depth({no_image}, {depth}, {}, 0), Error);
  try {
    DepthInitOptions zero;
    zero.stride = 0;
    zero.check();
    FAIL() << "stride 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stride"), std::string::npos) << e.what();
  }
}

TEST(ConstantDepth, FillsAndValidates) {
  const Image<float> d = constant_depth(7, 3, 2.5f);
  EXPECT_EQ(d.width(), 7);
  EXPECT_EQ(d.height(), 3);
  EXPECT_EQ(d.channels(), 1);
  for (float v : d.vector()) EXPECT_EQ(v, 2.5f);
  EXPECT_THROW(constant_depth(0, 3, 1.0f), Error);
  EXPECT_THROW(constant_depth(3, -1, 1.0f), Error);
  EXPECT_THROW(constant_depth(3, 3, std::numeric_limits<float>::quiet_NaN()), Error);
}

}  // namespace
}  // namespace glimpse

namespace glimpse {
namespace {

TEST(FillDepthHoles, KeepsValidPixelsAndFillsHolesBetweenTheirValues) {
  // Left half at depth 2, right half at depth 4, a hole band in the middle columns.
  Image<float> d(16, 8, 1, 0.f);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) {
      if (x < 6) d.at(x, y) = 2.f;
      if (x >= 10) d.at(x, y) = 4.f;
    }
  d.at(3, 3) = std::numeric_limits<float>::quiet_NaN();  // invalid inside the valid part
  const Image<float> f = fill_depth_holes(d);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) {
      if (x == 3 && y == 3) {
        EXPECT_NEAR(f.at(x, y), 2.f, 1e-5f);  // surrounded by 2s
        continue;
      }
      if (x < 6) {
        EXPECT_EQ(f.at(x, y), 2.f);
      }
      if (x >= 10) {
        EXPECT_EQ(f.at(x, y), 4.f);
      }
      if (x >= 6 && x < 10) {
        EXPECT_GE(f.at(x, y), 2.f) << x << "," << y;
        EXPECT_LE(f.at(x, y), 4.f) << x << "," << y;
      }
    }
  // Monotone across the band, from the 2 side to the 4 side.
  EXPECT_LT(f.at(6, 4), f.at(9, 4));
  // Nothing valid: unchanged.
  const Image<float> none = fill_depth_holes(Image<float>(4, 4, 1, 0.f));
  for (float v : none.vector()) EXPECT_EQ(v, 0.f);
  EXPECT_THROW(fill_depth_holes(Image<float>(4, 4, 3)), Error);
}

TEST(UncoveredPixelDepths, OnlyHolesInsideTheMaskGetADepthBehindTheSurface) {
  View v = test_view(8, 4, 1);
  Image<float> d(8, 4, 1, 0.f);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) d.at(x, y) = 1.f + 0.25f * x;  // depths 1 .. 1.75, holes x >= 4
  v.mask = Image<float>(8, 4, 1, 1.f);
  v.mask.at(7, 0) = 0.f;  // background: never filled
  const std::vector<Image<float>> as_filled = uncovered_pixel_depths({v}, {d}, 0.f);
  const std::vector<Image<float>> behind = uncovered_pixel_depths({v}, {d}, 1.f);
  ASSERT_EQ(as_filled.size(), 1u);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 8; ++x) {
      if (x < 4 || (x == 7 && y == 0)) {
        EXPECT_EQ(as_filled[0].at(x, y), 0.f) << x << "," << y;
        EXPECT_EQ(behind[0].at(x, y), 0.f) << x << "," << y;
        continue;
      }
      EXPECT_GE(as_filled[0].at(x, y), 1.f);
      EXPECT_LE(as_filled[0].at(x, y), 1.75f);
      EXPECT_EQ(behind[0].at(x, y), 1.75f);  // the largest measured depth
    }
  // The Gaussians land on those pixels' rays.
  DepthInitOptions o;
  o.stride = 1;
  EXPECT_EQ(init_from_depth({v}, behind, o, 0).size(), 15u);
  EXPECT_THROW(uncovered_pixel_depths({v}, {d}, 1.5f), Error);
  EXPECT_THROW(uncovered_pixel_depths({v}, {Image<float>(4, 4, 1)}, 0.5f), Error);
}

}  // namespace
}  // namespace glimpse
