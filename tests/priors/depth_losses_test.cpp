// Depth-prior losses: each vector-Jacobian product equals central differences in double, the
// losses vanish when the rendered depth agrees with the prior, ranking pairs follow the prior's
// order and stay inside their boxes, and sampling is deterministic for a seed.
#include "priors/depth_losses.h"

#include "core/check.h"
#include "priors/depth_prior.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace glimpse {
namespace {

Image<double> smooth_depth(int w, int h, double base, double seed) {
  Image<double> d(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      d.at(x, y) =
          base + 0.3 * std::sin(0.37 * x + seed) + 0.2 * std::cos(0.29 * y - seed) + 0.01 * x;
  return d;
}

// Compares v (from `f(x, &v)`, v sized like x) with central differences of the loss in x.
void expect_vjp_matches(Image<double> depth,
                        const std::function<double(const Image<double>&, Image<double>*)>& f,
                        double tolerance) {
  Image<double> v(depth.width(), depth.height(), depth.channels());
  f(depth, &v);
  const double h = 1e-6;
  double max_err = 0, max_g = 0;
  for (size_t i = 0; i < depth.size(); ++i) {
    const double keep = depth.data()[i];
    depth.data()[i] = keep + h;
    const double lp = f(depth, nullptr);
    depth.data()[i] = keep - h;
    const double lm = f(depth, nullptr);
    depth.data()[i] = keep;
    const double numeric = (lp - lm) / (2 * h);
    max_err = std::max(max_err, std::abs(numeric - v.data()[i]));
    max_g = std::max(max_g, std::abs(numeric));
  }
  EXPECT_GT(max_g, 0.0) << "the check would be vacuous";
  EXPECT_LT(max_err, tolerance * std::max(1.0, max_g)) << "max |numeric| " << max_g;
}

TEST(DepthRanking, PairsFollowThePriorOrderInsideTheirBoxesAndAreDeterministic) {
  const int w = 40, h = 30;
  Image<float> nearness(w, h, 1), confidence(w, h, 1, 1.f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) nearness.at(x, y) = static_cast<float>(std::sin(0.3 * x) + y);
  confidence.at(5, 5) = 0.f;
  RankingSampling s;
  s.pairs = 500;
  s.box = 8;
  std::mt19937_64 rng_a(3), rng_b(3);
  const auto a = sample_ranking_pairs(nearness, confidence, s, rng_a);
  const auto b = sample_ranking_pairs(nearness, confidence, s, rng_b);
  ASSERT_EQ(a.size(), 500u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const RankingPair& p = a[i];
    EXPECT_EQ(p.nearer, b[i].nearer);
    EXPECT_EQ(p.farther_neighbour, b[i].farther_neighbour);
    EXPECT_GT(nearness.data()[p.nearer], nearness.data()[p.farther]);
    EXPECT_LT(std::abs(p.nearer % w - p.farther % w), s.box);
    EXPECT_LT(std::abs(p.nearer / w - p.farther / w), s.box);
    EXPECT_NE(p.nearer, 5 * w + 5);
    EXPECT_NE(p.farther, 5 * w + 5);
    // The continuity neighbour lies in the 6x6 window.
    ASSERT_GE(p.nearer_neighbour, 0);
    EXPECT_LE(std::abs(p.nearer_neighbour % w - p.nearer % w), 3);
    EXPECT_LE(std::abs(p.nearer_neighbour / w - p.nearer / w), 3);
    EXPECT_NE(p.nearer_neighbour, p.nearer);
  }
  // No confident pixels: no pairs.
  Image<float> none(w, h, 1, 0.f);
  std::mt19937_64 rng_c(3);
  EXPECT_TRUE(sample_ranking_pairs(nearness, none, s, rng_c).empty());
}

TEST(DepthRanking, VjpMatchesCentralDifferencesAndVanishesOnAgreement) {
  const int w = 24, h = 18;
  const Image<double> prior_depth = smooth_depth(w, h, 3.0, 0.0);
  Image<float> nearness(w, h, 1), confidence(w, h, 1, 1.f);
  for (size_t i = 0; i < nearness.size(); ++i)
    nearness.data()[i] = static_cast<float>(-prior_depth.data()[i]);
  RankingSampling s;
  s.pairs = 300;
  s.box = 10;
  std::mt19937_64 rng(11);
  const auto pairs = sample_ranking_pairs(nearness, confidence, s, rng);
  ASSERT_FALSE(pairs.empty());
  // A rendered depth that disagrees with the prior almost everywhere.
  Image<double> depth = smooth_depth(w, h, 3.0, 1.7);
  const double margin = 1e-3, continuity = 0.5;
  auto f = [&](const Image<double>& d, Image<double>* v) {
    return depth_ranking_loss(d, pairs, margin, continuity, 1.0, v);
  };
  EXPECT_GT(f(depth, nullptr), 0.0);
  expect_vjp_matches(depth, f, 1e-6);
  // The prior itself, stretched and shifted: no ranking violation (continuity may remain).
  Image<double> agree(w, h, 1);
  for (size_t i = 0; i < agree.size(); ++i) agree.data()[i] = 2.0 * prior_depth.data()[i] + 1.0;
  EXPECT_NEAR(depth_ranking_loss(agree, pairs, 0.0, 0.0, 1.0, static_cast<Image<double>*>(nullptr)),
              0.0, 1e-12);
}

TEST(DepthPearson, GlobalAndPatchVjpsMatchCentralDifferences) {
  const int w = 26, h = 20;
  const Image<double> prior = smooth_depth(w, h, 2.0, 0.4);
  const Image<double> depth = smooth_depth(w, h, 2.5, 2.1);
  Image<double> weight(w, h, 1, 1.0);
  for (int x = 0; x < 6; ++x) weight.at(x, 3) = 0.0;
  weight.at(10, 10) = 0.25;
  expect_vjp_matches(
      depth,
      [&](const Image<double>& d, Image<double>* v) {
        return pearson_depth_loss(d, prior, weight, 1.0, v);
      },
      1e-6);
  expect_vjp_matches(
      depth,
      [&](const Image<double>& d, Image<double>* v) {
        return patch_pearson_depth_loss(d, prior, weight, 8, 3, 5, 1.0, v);
      },
      1e-6);
}

TEST(DepthPearson, ZeroForAnAffineCopyOfThePriorAndTwoForItsNegation) {
  const int w = 32, h = 24;
  const Image<double> prior = smooth_depth(w, h, 2.0, 0.4);
  Image<double> affine(w, h, 1), negated(w, h, 1), weight(w, h, 1, 1.0);
  for (size_t i = 0; i < prior.size(); ++i) {
    affine.data()[i] = 3.0 * prior.data()[i] + 7.0;
    negated.data()[i] = -prior.data()[i];
  }
  Image<double>* none = nullptr;
  EXPECT_NEAR(pearson_depth_loss(affine, prior, weight, 1.0, none), 0.0, 1e-9);
  EXPECT_NEAR(pearson_depth_loss(negated, prior, weight, 1.0, none), 2.0, 1e-9);
  EXPECT_NEAR(patch_pearson_depth_loss(affine, prior, weight, 8, 0, 0, 1.0, none), 0.0, 1e-9);
  // No weighted pixels: no loss and no gradient.
  Image<double> zero(w, h, 1, 0.0), v(w, h, 1, 0.0);
  EXPECT_EQ(pearson_depth_loss(affine, prior, zero, 1.0, &v), 0.0);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v.data()[i], 0.0);
}

TEST(DepthL1, RelativeErrorVjpMatchesCentralDifferencesAndIsZeroAtThePrior) {
  const int w = 20, h = 14;
  const Image<double> prior = smooth_depth(w, h, 2.0, 0.4);
  const Image<double> depth = smooth_depth(w, h, 2.2, 1.3);
  Image<double> weight(w, h, 1, 1.0);
  weight.at(2, 2) = 0.0;
  weight.at(7, 3) = 0.5;
  expect_vjp_matches(
      depth,
      [&](const Image<double>& d, Image<double>* v) {
        return relative_depth_l1_loss(d, prior, weight, 1.0, v);
      },
      1e-6);
  Image<double>* none = nullptr;
  EXPECT_EQ(relative_depth_l1_loss(prior, prior, weight, 1.0, none), 0.0);
  // 10 % too far everywhere: a mean relative error of 0.1.
  Image<double> far = prior;
  for (size_t i = 0; i < far.size(); ++i) far.data()[i] *= 1.1;
  EXPECT_NEAR(relative_depth_l1_loss(far, prior, weight, 1.0, none), 0.1, 1e-12);
}

// Two cameras looking at a textured plane z = 5 (world), the second shifted along x.
struct WarpScene {
  Camera src, tgt;
  Image<double> src_image, tgt_image, true_depth;
};

WarpScene warp_scene(int w, int h) {
  WarpScene s;
  for (Camera* c : {&s.src, &s.tgt}) {
    c->fx = c->fy = 30.0;
    c->cx = w / 2.0;
    c->cy = h / 2.0;
    c->width = w;
    c->height = h;
  }
  s.tgt.translation = {-0.4, 0.0, 0.0};  // centre at x = +0.4
  auto texture = [](double x, double y, int c) {
    return 0.5 + 0.25 * std::sin(3.1 * x + c) * std::cos(2.3 * y - c);
  };
  const double z = 5.0;
  s.src_image = Image<double>(w, h, 3);
  s.tgt_image = Image<double>(w, h, 3);
  s.true_depth = Image<double>(w, h, 1, z);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const double xs = (x + 0.5 - s.src.cx) / s.src.fx * z,
                     ys = (y + 0.5 - s.src.cy) / s.src.fy * z;
        s.src_image.at(x, y, c) = texture(xs, ys, c);
        const double xt = (x + 0.5 - s.tgt.cx) / s.tgt.fx * z + 0.4;
        const double yt = (y + 0.5 - s.tgt.cy) / s.tgt.fy * z;
        s.tgt_image.at(x, y, c) = texture(xt, yt, c);
      }
  return s;
}

TEST(WarpConsistency, VjpMatchesCentralDifferences) {
  const int w = 24, h = 18;
  WarpScene s = warp_scene(w, h);
  Image<double> depth(w, h, 1), weight(w, h, 1, 1.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      depth.at(x, y) = 5.0 + 0.2 * std::sin(0.5 * x + 0.3 * y);
      // Pixels that could leave the target under a perturbation change the normalisation
      // discontinuously; keep them out (the warp shifts by about 2.4 pixels).
      if (x < 5 || x >= w - 2 || y < 2 || y >= h - 2) weight.at(x, y) = 0.0;
    }
  WarpTarget<double> target{&s.tgt_image, &s.tgt, nullptr};
  expect_vjp_matches(
      depth,
      [&](const Image<double>& d, Image<double>* v) {
        return warp_consistency_loss(d, weight, s.src_image, s.src, target, 0.05, 1.0, v);
      },
      1e-5);
}

TEST(WarpConsistency, TargetImageVjpMatchesCentralDifferences) {
  const int w = 16, h = 12;
  WarpScene s = warp_scene(w, h);
  Image<double> depth(w, h, 1), weight(w, h, 1, 1.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      depth.at(x, y) = 5.0 + 0.2 * std::sin(0.5 * x + 0.3 * y);
      if (x < 5 || x >= w - 2 || y < 2 || y >= h - 2) weight.at(x, y) = 0.0;
    }
  Image<double>* none = nullptr;
  expect_vjp_matches(
      s.tgt_image,
      [&](const Image<double>& target_image, Image<double>* v) {
        WarpTarget<double> target{&target_image, &s.tgt, nullptr};
        return warp_consistency_loss(depth, weight, s.src_image, s.src, target, 0.05, 1.0, none,
                                     nullptr, v);
      },
      1e-6);
}

TEST(WarpConsistency, SmallestAtTheTrueDepthAndGradientPointsToIt) {
  const int w = 40, h = 30;
  WarpScene s = warp_scene(w, h);
  Image<double> weight(w, h, 1, 1.0);
  WarpTarget<double> target{&s.tgt_image, &s.tgt, nullptr};
  int64_t valid = 0;
  Image<double>* none = nullptr;
  const double at_truth = warp_consistency_loss(s.true_depth, weight, s.src_image, s.src, target,
                                                0.05, 1.0, none, &valid);
  EXPECT_GT(valid, w * h / 2);
  EXPECT_LT(at_truth, 2e-3);  // bilinear resampling of a smooth texture
  Image<double> off(w, h, 1, 5.3), v(w, h, 1, 0.0);
  const double at_off =
      warp_consistency_loss(off, weight, s.src_image, s.src, target, 0.05, 1.0, &v);
  EXPECT_GT(at_off, 5 * at_truth);
  // A gradient step on the depth lowers the loss.
  Image<double> stepped = off;
  double g2 = 0;
  for (size_t i = 0; i < v.size(); ++i) g2 += v.data()[i] * v.data()[i];
  ASSERT_GT(g2, 0.0);
  for (size_t i = 0; i < v.size(); ++i) stepped.data()[i] -= 1e-3 / std::sqrt(g2) * v.data()[i];
  EXPECT_LT(warp_consistency_loss(stepped, weight, s.src_image, s.src, target, 0.05, 1.0, none),
            at_off);
  // An occluding target depth (everything in front at z = 2) removes every pixel.
  Image<double> occluder(w, h, 1, 2.0);
  WarpTarget<double> occluded{&s.tgt_image, &s.tgt, &occluder};
  EXPECT_EQ(warp_consistency_loss(s.true_depth, weight, s.src_image, s.src, occluded, 0.05, 1.0,
                                  none, &valid),
            0.0);
  EXPECT_EQ(valid, 0);
}

TEST(DepthPrior, ChecksNameTheSourceAndResizeKeepsHoles) {
  DepthPrior p;
  p.source = "depths/000.npy";
  p.values = Image<float>(8, 6, 1, 2.f);
  p.confidence = Image<float>(8, 6, 1, 1.f);
  EXPECT_EQ(check_depth_prior(p, 8, 6), 48u);
  try {
    check_depth_prior(p, 9, 6);
    FAIL() << "a wrong size must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("depths/000.npy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("8x6"), std::string::npos) << e.what();
  }
  p.values.at(3, 2) = std::nanf("");
  EXPECT_THROW(check_depth_prior(p, 8, 6), Error);
  p.values.at(3, 2) = -1.f;
  EXPECT_THROW(check_depth_prior(p, 8, 6), Error);
  p.confidence.at(3, 2) = 0.f;  // ignored where there is no confidence
  EXPECT_EQ(check_depth_prior(p, 8, 6), 47u);
  const Image<float> near = nearness_of(p);
  EXPECT_EQ(near.at(0, 0), -2.f);
  EXPECT_EQ(near.at(3, 2), 0.f);
  const DepthPrior r = resize_depth_prior(p, 16, 12);
  // The hole at source (3, 2) reaches the outputs whose bilinear taps touch it: x 5..8, y 3..6.
  EXPECT_EQ(check_depth_prior(r, 16, 12), 16u * 12u - 16u);
  EXPECT_EQ(r.confidence.at(7, 5), 0.f);
  EXPECT_FLOAT_EQ(r.values.at(0, 0), 2.f);
}

}  // namespace
}  // namespace glimpse
