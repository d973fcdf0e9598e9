// Built-in multi-view stereo: the kernels against closed forms (homography, round trip, NCC), the
// source-view heuristic, and the whole pipeline on a synthetic textured scene (a slanted plane and
// a box, ray cast in code with a solid procedural texture) with known depth: depth accuracy,
// coverage, fused points on the surface, determinism, and bad-input errors.
#include "priors/mvs/mvs.h"

#include "core/check.h"
#include "priors/mvs/patch_cost_avx2.h"
#include "priors/mvs/patch_match_kernels.h"
#include "priors/mvs/source_views.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace glimpse {
namespace {

// [SECTION] synthetic scene ------------------------------------------------------------------

// Camera at `eye` looking at `target` (OpenCV frame: x right, y down, z forward).
Camera look_at(const Vec3<double>& eye, const Vec3<double>& target, int width, int height,
               double focal) {
  Vec3<double> forward = target - eye;
  forward = forward * (1.0 / norm(forward));
  Vec3<double> right = cross(Vec3<double>(0, 1, 0), forward);
  right = right * (1.0 / norm(right));
  const Vec3<double> down = cross(forward, right);
  Camera c;
  c.width = width;
  c.height = height;
  c.fx = c.fy = focal;
  c.cx = 0.5 * width;
  c.cy = 0.5 * height;
  for (int j = 0; j < 3; ++j) {
    c.rotation.m[0][j] = right[j];
    c.rotation.m[1][j] = down[j];
    c.rotation.m[2][j] = forward[j];
  }
  c.translation = -(c.rotation * eye);
  return c;
}

// The scene: the plane n . X = 5 with n = (-0.25, 0.15, 1) (slanted towards the cameras' left)
// behind the box [-0.7, 0.2] x [-0.5, 0.4] x [3.4, 4.0].
const Vec3<double> kPlaneNormal(-0.25, 0.15, 1.0);
constexpr double kPlaneOffset = 5.0;
const Vec3<double> kBoxMin(-0.7, -0.5, 3.4), kBoxMax(0.2, 0.4, 4.0);

// Distance along the ray c + t d to the first surface (inf when none).
double ray_cast(const Vec3<double>& c, const Vec3<double>& d) {
  double best = std::numeric_limits<double>::infinity();
  const double denom = dot(kPlaneNormal, d);
  if (std::abs(denom) > 1e-12) {
    const double t = (kPlaneOffset - dot(kPlaneNormal, c)) / denom;
    if (t > 0) best = t;
  }
  double t0 = 0, t1 = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    const double inv = 1.0 / d[a];
    double ta = (kBoxMin[a] - c[a]) * inv, tb = (kBoxMax[a] - c[a]) * inv;
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta);
    t1 = std::min(t1, tb);
  }
  if (t0 <= t1 && t0 > 0) best = std::min(best, t0);
  return best;
}

// Distance from a point to the scene's surface.
double surface_distance(const Vec3<double>& p) {
  const double plane = std::abs(dot(kPlaneNormal, p) - kPlaneOffset) / norm(kPlaneNormal);
  double outside = 0, inside = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    const double e = std::max({kBoxMin[a] - p[a], 0.0, p[a] - kBoxMax[a]});
    outside += e * e;
    inside = std::min({inside, p[a] - kBoxMin[a], kBoxMax[a] - p[a]});
  }
  const double box = outside > 0 ? std::sqrt(outside) : std::max(0.0, inside);
  return std::min(plane, box);
}

// Smooth 3D value noise (trilinear with smoothstep on a hashed lattice), in [0, 1].
double value_noise(const Vec3<double>& p) {
  auto lattice = [](int x, int y, int z) {
    uint32_t h = static_cast<uint32_t>(x) * 73856093u ^ static_cast<uint32_t>(y) * 19349663u ^
                 static_cast<uint32_t>(z) * 83492791u;
    return mvs::hash_u32(h) * (1.0 / 4294967296.0);
  };
  const double fx = std::floor(p.x), fy = std::floor(p.y), fz = std::floor(p.z);
  const int ix = static_cast<int>(fx), iy = static_cast<int>(fy), iz = static_cast<int>(fz);
  auto smooth = [](double t) { return t * t * (3 - 2 * t); };
  const double ux = smooth(p.x - fx), uy = smooth(p.y - fy), uz = smooth(p.z - fz);
  double v = 0;
  for (int k = 0; k < 8; ++k) {
    const int dx = k & 1, dy = (k >> 1) & 1, dz = k >> 2;
    v += lattice(ix + dx, iy + dy, iz + dz) * (dx ? ux : 1 - ux) * (dy ? uy : 1 - uy) *
         (dz ? uz : 1 - uz);
  }
  return v;
}

// Solid texture: two octaves of noise (features of ~2-4 pixels at depth 5) per channel.
void texture(const Vec3<double>& p, double rgb[3]) {
  for (int c = 0; c < 3; ++c) {
    const Vec3<double> q = p * 14.0 + Vec3<double>(17.0 * c, 5.0 * c, 0.0);
    rgb[c] = 0.15 + 0.5 * value_noise(q) + 0.3 * value_noise(q * 2.1);
  }
}

// Renders a view by ray casting with 3x3 supersampling; depth is the camera z at pixel centres.
View render_view(const std::string& name, const Camera& camera, Image<float>& depth) {
  View v;
  v.name = name;
  v.image_path = "synthetic/" + name;
  v.camera = camera;
  v.image = Image<float>(camera.width, camera.height, 3);
  depth = Image<float>(camera.width, camera.height, 1);
  const Vec3<double> c = camera.center();
  const Mat3<double> rt = camera.rotation.transposed();
  for (int y = 0; y < camera.height; ++y)
    for (int x = 0; x < camera.width; ++x) {
      double sum[3] = {0, 0, 0};
      for (int s = 0; s < 9; ++s) {
        const double u = x + (s % 3 + 0.5) / 3.0, vv = y + (s / 3 + 0.5) / 3.0;
        const Vec3<double> ray((u - camera.cx) / camera.fx, (vv - camera.cy) / camera.fy, 1.0);
        const Vec3<double> d = rt * ray;
        const double t = ray_cast(c, d);
        double rgb[3] = {0, 0, 0};
        if (std::isfinite(t)) texture(c + d * t, rgb);
        for (int k = 0; k < 3; ++k) sum[k] += rgb[k] / 9.0;
        if (s == 4) depth.at(x, y) = std::isfinite(t) ? static_cast<float>(t) : 0.0f;
      }
      for (int k = 0; k < 3; ++k) v.image.at(x, y, k) = static_cast<float>(sum[k]);
    }
  return v;
}

struct Scene {
  std::vector<View> views;
  std::vector<Image<float>> depths;
};

Scene make_scene(int width, int height) {
  Scene s;
  const double focal = 1.05 * width;
  const Vec3<double> target(0, 0, 4.6);
  const Vec3<double> eyes[3] = {{-0.55, 0.05, 0.0}, {0.0, -0.05, 0.1}, {0.5, 0.1, -0.05}};
  for (int i = 0; i < 3; ++i) {
    Image<float> depth;
    s.views.push_back(render_view("view" + std::to_string(i),
                                  look_at(eyes[i], target, width, height, focal), depth));
    s.depths.push_back(std::move(depth));
  }
  return s;
}

constexpr double kNear = 2.5, kFar = 8.0;

// One MVS run shared by the pipeline tests.
class MvsSynthetic : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scene_ = new Scene(make_scene(160, 120));
    result_ = new MvsResult(run_mvs(scene_->views, kNear, kFar, MvsOptions{}, 2));
  }
  static void TearDownTestSuite() {
    delete scene_;
    delete result_;
    scene_ = nullptr;
    result_ = nullptr;
  }
  static Scene* scene_;
  static MvsResult* result_;
};
Scene* MvsSynthetic::scene_ = nullptr;
MvsResult* MvsSynthetic::result_ = nullptr;

// [SECTION] kernels ----------------------------------------------------------------------------

mvs::Intrinsics intrinsics(const Camera& c) {
  mvs::Intrinsics k;
  k.fx = static_cast<float>(c.fx);
  k.fy = static_cast<float>(c.fy);
  k.cx = static_cast<float>(c.cx);
  k.cy = static_cast<float>(c.cy);
  k.width = c.width;
  k.height = c.height;
  return k;
}

mvs::RelativePose relative(const Camera& a, const Camera& b) {
  const Mat3<double> r = b.rotation * a.rotation.transposed();
  const Vec3<double> t = b.translation - r * a.translation;
  mvs::RelativePose p;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) p.r.m[i][j] = static_cast<float>(r.m[i][j]);
    p.t[i] = static_cast<float>(t[i]);
  }
  return p;
}

TEST(MvsKernels, HomographyMapsPlanePointsToTheirProjections) {
  const Camera a = look_at({-0.3, 0.1, 0}, {0, 0, 4}, 120, 90, 100);
  const Camera b = look_at({0.4, -0.1, 0.2}, {0, 0, 4}, 100, 80, 90);
  const mvs::Intrinsics ka = intrinsics(a), kb = intrinsics(b);
  const mvs::RelativePose b_from_a = relative(a, b);
  Vec3<float> n(0.2f, -0.3f, -1.0f);
  n = n * (1.0f / norm(n));
  const Vec3<float> ray0 = mvs::pixel_ray(ka, 60.5f, 45.5f);
  const float d = mvs::plane_offset(n, 4.0f, ray0);
  const Mat3<float> h = mvs::plane_homography(ka, kb, b_from_a, n, d);
  for (float u : {10.5f, 60.5f, 100.25f})
    for (float v : {5.5f, 45.5f, 80.75f}) {
      const Vec3<float> ray = mvs::pixel_ray(ka, u, v);
      const float depth = mvs::plane_depth(n, d, ray);
      ASSERT_GT(depth, 0.0f);
      const Vec2<float> expected = mvs::project(kb, mvs::transform(b_from_a, ray * depth));
      const Vec3<float> q = h * Vec3<float>(u, v, 1.0f);
      EXPECT_NEAR(q.x / q.z, expected.x, 2e-3f) << u << "," << v;
      EXPECT_NEAR(q.y / q.z, expected.y, 2e-3f) << u << "," << v;
    }
}

TEST(MvsKernels, RoundTripOfAConsistentDepthHasSubpixelError) {
  const Camera a = look_at({-0.3, 0.1, 0}, {0, 0, 4}, 64, 48, 60);
  const Camera b = look_at({0.4, -0.1, 0.2}, {0, 0, 4}, 64, 48, 60);
  // The source's depth map of the fronto-parallel (in a) plane z_a = 4.
  std::vector<float> depth_b(64 * 48);
  const mvs::RelativePose a_from_b = relative(b, a), b_from_a = relative(a, b);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      const Vec3<float> ray_a = mvs::transform(a_from_b, Vec3<float>(0, 0, 0));
      const Vec3<float> dir = a_from_b.r * mvs::pixel_ray(intrinsics(b), x + 0.5f, y + 0.5f);
      depth_b[y * 64 + x] = (4.0f - ray_a.z) / dir.z;  // z_b where the ray meets z_a = 4
    }
  float error = -1, z = -1;
  ASSERT_TRUE(mvs::round_trip(intrinsics(a), intrinsics(b), b_from_a, a_from_b, depth_b.data(),
                              30.5f, 20.5f, 4.0f, error, z));
  EXPECT_LT(error, 0.75f);  // the source pixel is rounded to its centre
  EXPECT_NEAR(z, 4.0f, 1e-4f);
  // A wrong depth is caught: the round trip lands on the plane, not at the depth tried.
  ASSERT_TRUE(mvs::round_trip(intrinsics(a), intrinsics(b), b_from_a, a_from_b, depth_b.data(),
                              30.5f, 20.5f, 3.0f, error, z));
  EXPECT_GT(error, 2.0f);
  EXPECT_GT(z, 3.5f);
}

TEST(MvsKernels, NccCostIsZeroForAnAffineCopyAndHighForNoise) {
  const int w = 40, h = 30;
  std::vector<float> ref(w * h), src(w * h), noise(w * h);
  for (int i = 0; i < w * h; ++i) {
    ref[i] = static_cast<float>(mvs::hash_u32(static_cast<uint32_t>(i)) >> 8) / 16777216.0f;
    src[i] = 0.5f * ref[i] + 0.2f;  // gain and offset: NCC is invariant
    noise[i] = static_cast<float>(mvs::hash_u32(static_cast<uint32_t>(i + 999)) >> 8) / 16777216.0f;
  }
  int ox[36], oy[36];
  float fox[36], foy[36], spatial[36];
  int n = 0;
  for (int dy = -5; dy <= 5; dy += 2)
    for (int dx = -5; dx <= 5; dx += 2) {
      ox[n] = dx, oy[n] = dy, fox[n] = dx, foy[n] = dy;
      spatial[n] = std::exp(-(dx * dx + dy * dy) / 50.0f);
      ++n;
    }
  mvs::ReferencePatch patch;
  ASSERT_TRUE(mvs::prepare_reference_patch(ref.data(), w, h, 20, 15, ox, oy, spatial, n, 50.0f,
                                           1e-6f, patch));
  const Mat3<float> identity = Mat3<float>::identity();
  EXPECT_NEAR(mvs::patch_cost(src.data(), w, h, identity, 20.5f, 15.5f, fox, foy, n, patch, 1e-6f),
              0.0f, 1e-4f);
  EXPECT_GT(mvs::patch_cost(noise.data(), w, h, identity, 20.5f, 15.5f, fox, foy, n, patch, 1e-6f),
            0.5f);
  // A window reaching outside the source image cannot be scored.
  EXPECT_EQ(mvs::patch_cost(src.data(), w, h, identity, 2.5f, 15.5f, fox, foy, n, patch, 1e-6f),
            mvs::kMaxCost);
}

#if GLIMPSE_MVS_AVX2
TEST(MvsKernels, EightLaneCostMatchesTheScalarKernel) {
  const int w = 64, h = 48;
  std::vector<float> ref(w * h), src(w * h);
  for (int i = 0; i < w * h; ++i) {
    ref[i] = static_cast<float>(mvs::hash_u32(static_cast<uint32_t>(i)) >> 8) / 16777216.0f;
    src[i] = 0.7f * ref[i] + 0.1f * std::sin(0.1f * static_cast<float>(i));
  }
  int ox[40], oy[40];
  float fox[40] = {}, foy[40] = {}, spatial[40];
  int n = 0;
  for (int dy = -5; dy <= 5; dy += 2)
    for (int dx = -5; dx <= 5; dx += 2) {
      ox[n] = dx, oy[n] = dy, fox[n] = dx, foy[n] = dy;
      spatial[n] = std::exp(-(dx * dx + dy * dy) / 50.0f);
      ++n;
    }
  mvs::ReferencePatch patch;
  for (int k = 0; k < 40; ++k) patch.w[k] = patch.wr[k] = 0.0f;
  int compared = 0, max_cost_cases = 0;
  for (int trial = 0; trial < 200; ++trial) {
    mvs::PixelRng rng(7, 0, static_cast<uint32_t>(trial), 0);
    const int x = 2 + static_cast<int>(rng.uniform() * 60),
              y = 2 + static_cast<int>(rng.uniform() * 44);
    if (!mvs::prepare_reference_patch(ref.data(), w, h, x, y, ox, oy, spatial, n, 50.0f, 1e-6f,
                                      patch))
      continue;
    Mat3<float> hm = Mat3<float>::identity();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        hm.m[i][j] += 0.05f * (rng.uniform() - 0.5f) * (i == 2 ? 0.01f : 1.0f);
    hm.m[0][2] += 4.0f * (rng.uniform() - 0.5f);
    hm.m[1][2] += 4.0f * (rng.uniform() - 0.5f);
    const float u = x + 0.5f, v = y + 0.5f;
    const float scalar = mvs::patch_cost(src.data(), w, h, hm, u, v, fox, foy, n, patch, 1e-6f);
    const float lanes =
        mvs::patch_cost_avx2(src.data(), w, h, hm, u, v, fox, foy, 40, patch, 1e-6f);
    EXPECT_NEAR(scalar, lanes, 1e-4f) << "trial " << trial;  // var = E[s^2] - E[s]^2 cancels
    ++compared;
    max_cost_cases += scalar == mvs::kMaxCost ? 1 : 0;
  }
  EXPECT_GT(compared, 150);
  EXPECT_GT(max_cost_cases, 0);  // windows leaving the image are covered
  EXPECT_LT(max_cost_cases, compared);
}
#endif

// [SECTION] source views ---------------------------------------------------------------------

TEST(MvsSourceViews, PrefersModerateBaselinesAndDropsViewsThatShareNothing) {
  // A ring of 12 cameras around the origin at radius 4, 30 degrees apart, plus one looking away.
  std::vector<Camera> cams;
  for (int i = 0; i < 12; ++i) {
    const double a = 2 * 3.141592653589793 * i / 12.0;
    cams.push_back(look_at({4 * std::cos(a), 0.3, 4 * std::sin(a)}, {0, 0, 0}, 64, 48, 60));
  }
  cams.push_back(look_at({0, 0.3, 4}, {0, 0, 10}, 64, 48, 60));  // looks away from the object
  const std::vector<std::vector<int>> src = select_source_views(cams, 3.0, 5.0, 4);
  ASSERT_EQ(src.size(), cams.size());
  ASSERT_EQ(src[0].size(), 4u);
  // The two neighbours (30 degrees) come first, then the next ones (60 degrees).
  EXPECT_TRUE((src[0][0] == 1 && src[0][1] == 11) || (src[0][0] == 11 && src[0][1] == 1));
  for (int s : src[0]) EXPECT_NE(s, 12);
  EXPECT_EQ(source_view_score(cams[0], cams[6], 3.0, 5.0), 0.0);  // opposite side: nothing shared
}

// [SECTION] pipeline -------------------------------------------------------------------------

// Fraction of pixels with a confident depth within `tol` of the truth, over the confident pixels.
double fraction_within(const Image<float>& depth, const Image<float>& truth, double tol,
                       double* coverage) {
  int64_t confident = 0, good = 0, valid_truth = 0;
  for (size_t i = 0; i < depth.num_pixels(); ++i) {
    const float t = truth.data()[i];
    if (!(t > 0)) continue;
    ++valid_truth;
    const float d = depth.data()[i];
    if (!(d > 0)) continue;
    ++confident;
    good += std::abs(d - t) <= tol * t ? 1 : 0;
  }
  if (coverage != nullptr) *coverage = static_cast<double>(confident) / valid_truth;
  return confident > 0 ? static_cast<double>(good) / confident : 0.0;
}

// The stated bounds: on this scene the default MVS puts at least 90% of its confident pixels
// within 1% of the true depth and covers at least 60% of each view; the raw (unfiltered)
// PatchMatch depth is within 1% on at least 70% of all pixels.
TEST_F(MvsSynthetic, DepthWithinOnePercentOfTheTruth) {
  ASSERT_EQ(result_->views.size(), 3u);
  for (int v = 0; v < 3; ++v) {
    const MvsViewResult& r = result_->views[v];
    EXPECT_EQ(r.view, v);
    EXPECT_EQ(r.sources.size(), 2u);
    double coverage = 0;
    const double filtered = fraction_within(r.depth, scene_->depths[v], 0.01, &coverage);
    double raw_coverage = 0;
    const double raw = fraction_within(r.raw_depth, scene_->depths[v], 0.01, &raw_coverage);
    std::printf("view %d: %.1f%% of confident pixels within 1%% (coverage %.1f%%); raw %.1f%%\n", v,
                100 * filtered, 100 * coverage, 100 * raw * raw_coverage);
    EXPECT_GE(filtered, 0.90) << "view " << v;
    EXPECT_GE(coverage, 0.60) << "view " << v;
    EXPECT_GE(raw * raw_coverage, 0.70) << "view " << v;
    // Confidence is positive exactly where the filtered depth is.
    for (size_t i = 0; i < r.depth.num_pixels(); ++i) {
      ASSERT_EQ(r.depth.data()[i] > 0, r.confidence.data()[i] > 0) << "pixel " << i;
      ASSERT_LE(r.confidence.data()[i], 1.0f);
    }
  }
}

TEST_F(MvsSynthetic, FusedPointsLieOnTheSurfaceWithNormalsAndSupport) {
  const PointCloud& cloud = result_->cloud;
  ASSERT_GT(cloud.size(), 5000u);
  EXPECT_NO_THROW(cloud.check("fused cloud"));
  ASSERT_EQ(cloud.normals.size(), 3 * cloud.size());
  ASSERT_EQ(cloud.support.size(), cloud.size());
  size_t near_surface = 0, within_1pct = 0;
  for (size_t i = 0; i < cloud.size(); ++i) {
    const Vec3<double> p(cloud.positions[3 * i], cloud.positions[3 * i + 1],
                         cloud.positions[3 * i + 2]);
    const double distance = surface_distance(p);
    near_surface += distance < 0.02 ? 1 : 0;  // 0.5% of the depth (3.4 .. 5.6)
    within_1pct += distance < 0.01 * norm(p) ? 1 : 0;
    EXPECT_GE(cloud.support[i], 2.0f);
    EXPECT_LE(cloud.support[i], 3.0f);
    const double len = std::sqrt(cloud.normals[3 * i] * cloud.normals[3 * i] +
                                 cloud.normals[3 * i + 1] * cloud.normals[3 * i + 1] +
                                 cloud.normals[3 * i + 2] * cloud.normals[3 * i + 2]);
    EXPECT_NEAR(len, 1.0, 1e-3);
  }
  std::printf(
      "%zu fused points, %.1f%% within 0.02 of the surface, %.1f%% within 1%% of their "
      "distance to the origin\n",
      cloud.size(), 100.0 * near_surface / cloud.size(), 100.0 * within_1pct / cloud.size());
  // Measured: 95.6% and 98.9%.
  EXPECT_GE(static_cast<double>(near_surface) / cloud.size(), 0.92);
  EXPECT_GE(static_cast<double>(within_1pct) / cloud.size(), 0.96);
}

TEST(Mvs, ResultDoesNotDependOnTheThreadCount) {
  const Scene scene = make_scene(64, 48);
  MvsOptions options;
  options.iterations = 2;
  options.geometric_iterations = 1;
  const MvsResult one = run_mvs(scene.views, kNear, kFar, options, 1);
  const MvsResult two = run_mvs(scene.views, kNear, kFar, options, 2);
  ASSERT_EQ(one.views.size(), two.views.size());
  for (size_t v = 0; v < one.views.size(); ++v)
    EXPECT_EQ(one.views[v].raw_depth.vector(), two.views[v].raw_depth.vector());
  EXPECT_EQ(one.cloud.positions, two.cloud.positions);
}

TEST(Mvs, ReferenceSubsetGetsDepthMaps) {
  const Scene scene = make_scene(64, 48);
  MvsOptions options;
  options.iterations = 1;
  options.geometric_iterations = 0;
  const MvsResult r = run_mvs(scene.views, kNear, kFar, options, 1, {2, 0});
  ASSERT_EQ(r.views.size(), 2u);
  EXPECT_EQ(r.views[0].view, 2);
  EXPECT_EQ(r.views[1].view, 0);
  EXPECT_EQ(r.views[0].sources.size(), 2u);  // every view is a source
}

// Message of the Error run_mvs throws.
std::string error_of(const std::vector<View>& views, double near, double far,
                     const MvsOptions& options = {}, const std::vector<int>& refs = {}) {
  try {
    run_mvs(views, near, far, options, 1, refs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Mvs, BadInputGetsAClearError) {
  Scene scene = make_scene(64, 48);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto has = [](const std::string& message, const std::string& part) {
    return message.find(part) != std::string::npos;
  };
  EXPECT_TRUE(has(error_of(scene.views, nan, kFar), "depth bounds"));
  EXPECT_TRUE(has(error_of(scene.views, kNear, nan), "depth bounds"));
  EXPECT_TRUE(has(error_of(scene.views, 0.0, kFar), "near 0"));
  EXPECT_TRUE(has(error_of(scene.views, -1.0, kFar), "depth bounds"));
  EXPECT_TRUE(has(error_of(scene.views, kFar, kNear), "depth bounds"));
  EXPECT_TRUE(has(error_of({scene.views[0]}, kNear, kFar), "at least 2 views"));
  std::vector<View> wrong_size = scene.views;
  wrong_size[1].image = Image<float>(63, 48, 3);
  const std::string size_error = error_of(wrong_size, kNear, kFar);
  EXPECT_TRUE(has(size_error, "view1") && has(size_error, "63x48")) << size_error;
  std::vector<View> no_image = scene.views;
  no_image[2].image = Image<float>();
  EXPECT_TRUE(has(error_of(no_image, kNear, kFar), "view2"));
  EXPECT_TRUE(has(error_of(scene.views, kNear, kFar, {}, {3}), "out of range"));
  MvsOptions bad;
  bad.max_sources = 0;
  EXPECT_TRUE(has(error_of(scene.views, kNear, kFar, bad), "max_sources"));
  bad = MvsOptions{};
  bad.window_step = 7;
  EXPECT_TRUE(has(error_of(scene.views, kNear, kFar, bad), "window_step"));
}

TEST(Mvs, CompareDepthCountsAgreementAndCoverage) {
  Image<float> depth(4, 1, 1), ref(4, 1, 1), mask(4, 1, 1);
  const float d[4] = {1.0f, 2.0f, 0.0f, 4.0f};
  const float r[4] = {1.005f, 2.03f, 3.0f, 0.0f};
  const float m[4] = {1, 1, 1, 0};
  std::copy(d, d + 4, depth.data());
  std::copy(r, r + 4, ref.data());
  std::copy(m, m + 4, mask.data());
  const DepthAgreement a = compare_depth(depth, ref, mask);
  EXPECT_EQ(a.confident, 3);
  EXPECT_EQ(a.with_reference, 2);
  EXPECT_EQ(a.within_1pct, 1);
  EXPECT_EQ(a.within_2pct, 2);  // 2 vs 2.03: 1.5%
  EXPECT_EQ(a.mask_pixels, 3);
  EXPECT_EQ(a.mask_covered, 2);
  EXPECT_DOUBLE_EQ(a.fraction_1pct(), 0.5);
  EXPECT_NEAR(a.coverage(), 2.0 / 3.0, 1e-12);
  EXPECT_THROW(compare_depth(depth, Image<float>(3, 1, 1), {}), Error);
}

}  // namespace
}  // namespace glimpse
