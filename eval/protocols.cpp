// LLFF and DTU sparse-view splits (RegNeRF/FreeNeRF/DNGaussian/FSGS/CoR-GS dataset readers) and
// the protocol specification with its checks.
#include "eval/protocols.h"

#include "core/check.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

namespace glimpse {
namespace {

constexpr std::array<std::string_view, 8> kLlffScenes = {"fern",   "flower",  "fortress", "horns",
                                                         "leaves", "orchids", "room",     "trex"};
constexpr std::array<int, 15> kDtuScans = {8,  21, 30, 31, 34,  38,  40, 41,
                                           45, 55, 63, 82, 103, 110, 114};
constexpr std::array<int, 9> kDtuTrainIds = {25, 22, 28, 40, 44, 48, 0, 8, 13};
constexpr std::array<int, 15> kDtuExcludedIds = {3,  4,  5,  6,  7,  16, 17, 18,
                                                 19, 20, 21, 36, 37, 38, 39};
constexpr std::array<int, 25> kDtuTestIds = {1,  2,  9,  10, 11, 12, 14, 15, 23, 24, 26, 27, 29,
                                             30, 31, 32, 33, 34, 35, 41, 42, 43, 45, 46, 47};

bool is_protocol_view_count(int n) {
  return std::find(std::begin(kProtocolViewCounts), std::end(kProtocolViewCounts), n) !=
         std::end(kProtocolViewCounts);
}

std::string join_ids(const std::vector<int>& ids) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? ", " : "") << ids[i];
  s << "]";
  return s.str();
}

}  // namespace

const char* suite_name(Suite suite) {
  switch (suite) {
    case Suite::Llff:
      return "llff";
    case Suite::Dtu:
      return "dtu";
  }
  GLIMPSE_FAIL() << "unknown Suite " << static_cast<int>(suite);
  return "";
}

Suite suite_from_name(std::string_view name) {
  if (name == "llff") return Suite::Llff;
  if (name == "dtu") return Suite::Dtu;
  GLIMPSE_FAIL() << "unknown benchmark suite \"" << name << "\" (expected \"llff\" or \"dtu\")";
  return Suite::Llff;
}

std::span<const std::string_view> llff_scenes() { return kLlffScenes; }

SplitIds llff_split(int num_images, int n_views) {
  GLIMPSE_CHECK(num_images >= 2) << "llff_split: need at least 2 images, got " << num_images;
  SplitIds ids;
  std::vector<int> remaining;
  for (int i = 0; i < num_images; ++i)
    (i % kLlffTestEvery == 0 ? ids.test : remaining).push_back(i);
  const int m = static_cast<int>(remaining.size());
  GLIMPSE_CHECK(n_views >= 1 && n_views <= m)
      << "llff_split: " << n_views << " training views requested, but " << num_images
      << " images leave " << m << " after holding out every " << kLlffTestEvery << "th";
  // np.linspace(0, m - 1, n): step = (m - 1) / (n - 1), x_i = i * step + 0, x_{n-1} = m - 1
  // exactly; std::nearbyint in the default rounding mode is Python 3's round (half to even).
  if (n_views == 1) {
    ids.train.push_back(remaining[0]);
    return ids;
  }
  const double stop = static_cast<double>(m - 1);
  const double step = stop / static_cast<double>(n_views - 1);
  for (int i = 0; i < n_views; ++i) {
    const double x = i == n_views - 1 ? stop : static_cast<double>(i) * step + 0.0;
    ids.train.push_back(remaining[static_cast<size_t>(std::nearbyint(x))]);
  }
  return ids;
}

std::span<const int> dtu_scans() { return kDtuScans; }
std::span<const int> dtu_train_ids() { return kDtuTrainIds; }
std::span<const int> dtu_excluded_ids() { return kDtuExcludedIds; }
std::span<const int> dtu_test_ids() { return kDtuTestIds; }

SplitIds dtu_split(int n_views) {
  GLIMPSE_CHECK(n_views >= 1 && n_views <= static_cast<int>(kDtuTrainIds.size()))
      << "dtu_split: n_views must be in [1, " << kDtuTrainIds.size() << "], got " << n_views;
  SplitIds ids;
  ids.train.assign(kDtuTrainIds.begin(), kDtuTrainIds.begin() + n_views);
  ids.test.assign(kDtuTestIds.begin(), kDtuTestIds.end());
  return ids;
}

void ProtocolSpec::check() const {
  GLIMPSE_CHECK(is_protocol_view_count(n_views))
      << "protocol " << name << ": n_views must be 3, 6 or 9, got " << n_views;
  GLIMPSE_CHECK(static_cast<int>(train_ids.size()) == n_views)
      << "protocol " << name << ": " << train_ids.size() << " train ids for " << n_views
      << " views";
  GLIMPSE_CHECK(!test_ids.empty()) << "protocol " << name << ": no test view";
  GLIMPSE_CHECK(num_images > 0) << "protocol " << name << ": num_images must be > 0";
  GLIMPSE_CHECK(downsample_factor > 0 && image_width > 0 && image_height > 0)
      << "protocol " << name << ": factor and image size must be > 0 (factor " << downsample_factor
      << ", " << image_width << "x" << image_height << ")";
  std::vector<bool> used(static_cast<size_t>(num_images), false);
  for (const auto* list : {&train_ids, &test_ids})
    for (int id : *list) {
      GLIMPSE_CHECK(id >= 0 && id < num_images)
          << "protocol " << name << ": view id " << id << " outside [0, " << num_images << ")";
      GLIMPSE_CHECK(!used[static_cast<size_t>(id)])
          << "protocol " << name << ": view " << id
          << " appears twice (duplicate, or in both train and test)";
      used[static_cast<size_t>(id)] = true;
    }
}

ProtocolSpec make_protocol(Suite suite, int n_views, int num_images) {
  GLIMPSE_CHECK(is_protocol_view_count(n_views))
      << "make_protocol: n_views must be 3, 6 or 9 (the published protocols), got " << n_views;
  ProtocolSpec spec;
  spec.suite = suite;
  spec.n_views = n_views;
  spec.name = std::string(suite_name(suite)) + "-" + std::to_string(n_views) + "view";
  SplitIds ids;
  switch (suite) {
    case Suite::Llff:
      ids = llff_split(num_images, n_views);
      spec.downsample_factor = kLlffFactor;
      spec.image_width = kLlffWidth;
      spec.image_height = kLlffHeight;
      spec.masked = false;
      break;
    case Suite::Dtu:
      GLIMPSE_CHECK(num_images == kDtuNumImages)
          << "the DTU protocol needs all " << kDtuNumImages << " views of a scan (its split is "
          << "by view id), this scan has " << num_images
          << " (the reader's warning names any missing image)";
      ids = dtu_split(n_views);
      spec.downsample_factor = kDtuFactor;
      spec.image_width = kDtuWidth;
      spec.image_height = kDtuHeight;
      spec.masked = true;
      break;
    default:
      GLIMPSE_FAIL() << "make_protocol: unknown Suite " << static_cast<int>(suite);
  }
  spec.num_images = num_images;
  spec.train_ids = std::move(ids.train);
  spec.test_ids = std::move(ids.test);
  spec.check();
  return spec;
}

std::string describe_protocol(const ProtocolSpec& spec) {
  std::ostringstream s;
  s << spec.name << ": " << spec.image_width << "x" << spec.image_height << " (factor "
    << spec.downsample_factor << "), " << spec.num_images << " images, train "
    << join_ids(spec.train_ids) << ", test " << join_ids(spec.test_ids) << ", "
    << (spec.masked ? "masked metrics (PSNR on the mask, SSIM/LPIPS composited on white)"
                    : "full-image metrics");
  return s.str();
}

}  // namespace glimpse
