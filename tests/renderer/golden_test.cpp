// Golden images: three tiny scenes rendered by the CPU backend and compared with committed
// float32 files (tests/data/golden/*.f32). Regenerate them, after a deliberate change of the
// rendering math, with:
//   GLIMPSE_UPDATE_GOLDENS=1 build/tests/renderer/renderer_golden_test
// and say why in the commit.
#include "renderer/cpu/cpu_rasterizer.h"
#include "tests/support/fixtures.h"
#include "tests/support/random_scene.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

namespace glimpse {
namespace {

constexpr int kW = 64, kH = 48;
constexpr float kAbsTolerance = 2e-5f;  // float rounding (FMA contraction) differs by compiler

// rgb (3) + alpha + expected depth, interleaved per pixel.
std::vector<float> render_golden(const std::string& name) {
  auto g = testing::random_gaussians<float>(60, 3, 100, 4.0, kW, kH);
  RenderOptions opt;
  opt.background = {0.1f, 0.1f, 0.2f};
  if (name == "antialiased") {
    opt.antialiasing = AntiAliasing::MipSplatting;
    opt.extent = ExtentMode::ThreeSigma;
  } else if (name == "dense") {
    g = testing::random_gaussians<float>(200, 1, 101, 6.0, kW, kH);
    for (auto& l : g.opacity_logits) l += 3.f;
  }
  CpuRasterizerT<float> r(2);
  RenderOutputT<float> out;
  r.forward(g, testing::test_camera<float>(kW, kH, 0.02), opt, out);
  std::vector<float> v;
  for (int i = 0; i < kW * kH; ++i) {
    for (int c = 0; c < 3; ++c) v.push_back(out.rgb.data()[3 * i + c]);
    v.push_back(out.alpha.data()[i]);
    v.push_back(out.depth.data()[i]);
  }
  return v;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesCommittedImage) {
  const std::string name = GetParam();
  const auto path = testing::source_dir() / "tests/data/golden" / (name + ".f32");
  const std::vector<float> v = render_golden(name);
  if (std::getenv("GLIMPSE_UPDATE_GOLDENS")) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream f(path, std::ios::binary);
  ASSERT_TRUE(f) << "missing golden file " << path;
  std::vector<float> ref(v.size());
  f.read(reinterpret_cast<char*>(ref.data()), ref.size() * sizeof(float));
  ASSERT_EQ(f.gcount(), static_cast<std::streamsize>(ref.size() * sizeof(float)))
      << "truncated golden file " << path;
  // The expected depth D = S / alpha divides rounding by alpha where coverage is thin: compared as
  // the depth sum S = D alpha, relative to the depth's magnitude.
  float worst = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    float d = std::abs(v[i] - ref[i]);
    if (i % 5 == 4) d = std::abs(v[i] * v[i - 1] - ref[i] * ref[i - 1]) / std::max(1.f, ref[i]);
    worst = std::max(worst, d);
  }
  std::printf("golden %s: max |diff| %.2e\n", name.c_str(), worst);
  EXPECT_LE(worst, kAbsTolerance);
  // The scene is not blank: some pixels are covered, some are not fully.
  double coverage = 0;
  for (int i = 0; i < kW * kH; ++i) coverage += ref[5 * i + 3];
  EXPECT_GT(coverage / (kW * kH), 0.2);
}

INSTANTIATE_TEST_SUITE_P(Scenes, Golden, ::testing::Values("basic", "antialiased", "dense"));

}  // namespace
}  // namespace glimpse
