// eval protocols: LLFF splits against np.linspace + Python round (tests/data/eval/
// make_ssim_fixture.py) and the notes' table, DTU ids, ProtocolSpec checks, the published table.
#include "eval/protocols.h"

#include "eval/published.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <tuple>

namespace glimpse {
namespace {

std::vector<int> ids(std::span<const int> s) { return {s.begin(), s.end()}; }

// [SECTION] LLFF ---------------------------------------------------------------------------------

TEST(LlffSplit, FernThreeViews) {
  const SplitIds s = llff_split(20, 3);
  EXPECT_EQ(s.train, (std::vector<int>{1, 10, 19}));
  EXPECT_EQ(s.test, (std::vector<int>{0, 8, 16}));
}

// The expected-indices table of sparse_view_methods.md section 2.1, all 8 scenes.
TEST(LlffSplit, MatchesTheReferenceTable) {
  struct Row {
    int n;
    std::vector<int> v3, v6, v9;
  };
  const std::vector<Row> rows = {
      {20, {1, 10, 19}, {1, 4, 7, 12, 15, 19}, {1, 3, 5, 7, 10, 12, 14, 17, 19}},       // fern
      {34, {1, 17, 33}, {1, 7, 13, 20, 26, 33}, {1, 5, 9, 12, 17, 21, 25, 28, 33}},     // flower
      {42, {1, 21, 41}, {1, 9, 17, 25, 33, 41}, {1, 5, 11, 15, 21, 26, 30, 36, 41}},    // fortress
      {62, {1, 30, 61}, {1, 13, 25, 37, 49, 61}, {1, 9, 15, 23, 30, 38, 46, 53, 61}},   // horns
      {26, {1, 12, 25}, {1, 5, 10, 15, 20, 25}, {1, 4, 6, 10, 12, 15, 19, 21, 25}},     // leaves
      {25, {1, 12, 23}, {1, 5, 10, 14, 19, 23}, {1, 3, 6, 10, 12, 14, 18, 21, 23}},     // orchids
      {41, {1, 20, 39}, {1, 9, 17, 23, 31, 39}, {1, 5, 10, 15, 20, 25, 30, 35, 39}},    // room
      {55, {1, 28, 54}, {1, 11, 22, 33, 44, 54}, {1, 7, 14, 21, 28, 34, 41, 47, 54}}};  // trex
  for (const Row& r : rows) {
    SCOPED_TRACE(r.n);
    EXPECT_EQ(llff_split(r.n, 3).train, r.v3);
    EXPECT_EQ(llff_split(r.n, 6).train, r.v6);
    EXPECT_EQ(llff_split(r.n, 9).train, r.v9);
    std::vector<int> test;
    for (int i = 0; i < r.n; i += 8) test.push_back(i);
    EXPECT_EQ(llff_split(r.n, 3).test, test);
  }
}

TEST(LlffSplit, RoundsHalfToEvenLikePython) {
  // horns: 62 images leave 54, linspace(0, 53, 3) = 0, 26.5, 53 -> round(26.5) = 26 -> image 30
  // (half-up would give 27 -> image 31). leaves: 26 -> 22 remain, 10.5 -> 10 -> image 12 (not 13).
  EXPECT_EQ(llff_split(62, 3).train[1], 30);
  EXPECT_EQ(llff_split(26, 3).train[1], 12);
  // fortress: 36 remain, 17.5 -> 18 (even, upwards) -> image 21.
  EXPECT_EQ(llff_split(42, 3).train[1], 21);
}

TEST(LlffSplit, MatchesNumpyForEveryImageCountFrom11To80) {
  const auto path = testing::source_dir() / "tests" / "data" / "eval" / "ssim_fixture.json";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing fixture " << path;
  nlohmann::json j;
  in >> j;
  ASSERT_EQ(j["llff_splits"].size(), 210u);  // 70 image counts x 3 view counts
  for (const auto& s : j["llff_splits"]) {
    const int n = s["num_images"].get<int>(), v = s["n_views"].get<int>();
    SCOPED_TRACE(std::to_string(n) + " images, " + std::to_string(v) + " views");
    const SplitIds got = llff_split(n, v);
    EXPECT_EQ(got.train, s["train"].get<std::vector<int>>());
    EXPECT_EQ(got.test, s["test"].get<std::vector<int>>());
  }
}

TEST(LlffSplit, RejectsImpossibleRequests) {
  EXPECT_ERROR_CONTAINS(llff_split(1, 1), "at least 2 images");
  EXPECT_ERROR_CONTAINS(llff_split(20, 0), "0 training views requested");
  EXPECT_ERROR_CONTAINS(llff_split(10, 9), "leave 8 after holding out");
  EXPECT_EQ(llff_split(10, 1).train, std::vector<int>{1});  // np.linspace(0, 7, 1) = [0]
}

TEST(LlffScenes, AreTheEightStandardScenes) {
  std::vector<std::string> names(llff_scenes().begin(), llff_scenes().end());
  EXPECT_EQ(names, (std::vector<std::string>{"fern", "flower", "fortress", "horns", "leaves",
                                             "orchids", "room", "trex"}));
}

// [SECTION] DTU ----------------------------------------------------------------------------------

TEST(Dtu, OfficialScansAndViewIds) {
  EXPECT_EQ(ids(dtu_scans()),
            (std::vector<int>{8, 21, 30, 31, 34, 38, 40, 41, 45, 55, 63, 82, 103, 110, 114}));
  EXPECT_EQ(ids(dtu_train_ids()), (std::vector<int>{25, 22, 28, 40, 44, 48, 0, 8, 13}));
  EXPECT_EQ(ids(dtu_test_ids()),
            (std::vector<int>{1,  2,  9,  10, 11, 12, 14, 15, 23, 24, 26, 27, 29,
                              30, 31, 32, 33, 34, 35, 41, 42, 43, 45, 46, 47}));
  // Test = every view of 0..48 that is neither a training candidate nor excluded.
  std::set<int> not_test(dtu_train_ids().begin(), dtu_train_ids().end());
  not_test.insert(dtu_excluded_ids().begin(), dtu_excluded_ids().end());
  EXPECT_EQ(not_test.size(), 24u);
  std::vector<int> complement;
  for (int i = 0; i < kDtuNumImages; ++i)
    if (!not_test.count(i)) complement.push_back(i);
  EXPECT_EQ(complement, ids(dtu_test_ids()));
}

TEST(Dtu, SplitsTakeTheFirstNTrainingViews) {
  EXPECT_EQ(dtu_split(3).train, (std::vector<int>{25, 22, 28}));
  EXPECT_EQ(dtu_split(6).train, (std::vector<int>{25, 22, 28, 40, 44, 48}));
  EXPECT_EQ(dtu_split(9).train, (std::vector<int>{25, 22, 28, 40, 44, 48, 0, 8, 13}));
  EXPECT_EQ(dtu_split(3).test.size(), 25u);
  EXPECT_ERROR_CONTAINS(dtu_split(10), "n_views must be in [1, 9]");
}

// [SECTION] ProtocolSpec -------------------------------------------------------------------------

TEST(Protocol, Llff) {
  const ProtocolSpec p = make_protocol(Suite::Llff, 3, 20);
  EXPECT_EQ(p.name, "llff-3view");
  EXPECT_EQ(p.suite, Suite::Llff);
  EXPECT_EQ(p.n_views, 3);
  EXPECT_EQ(p.num_images, 20);
  EXPECT_EQ(p.downsample_factor, 8);
  EXPECT_EQ(p.image_width, 504);
  EXPECT_EQ(p.image_height, 378);
  EXPECT_EQ(p.train_ids, (std::vector<int>{1, 10, 19}));
  EXPECT_EQ(p.test_ids, (std::vector<int>{0, 8, 16}));
  EXPECT_FALSE(p.masked);
  EXPECT_EQ(describe_protocol(p),
            "llff-3view: 504x378 (factor 8), 20 images, train [1, 10, 19], test [0, 8, 16], "
            "full-image metrics");
}

TEST(Protocol, Dtu) {
  const ProtocolSpec p = make_protocol(Suite::Dtu, 6, 49);
  EXPECT_EQ(p.name, "dtu-6view");
  EXPECT_EQ(p.downsample_factor, 4);
  EXPECT_EQ(p.image_width, 400);
  EXPECT_EQ(p.image_height, 300);
  EXPECT_EQ(p.train_ids, (std::vector<int>{25, 22, 28, 40, 44, 48}));
  EXPECT_EQ(p.test_ids, ids(dtu_test_ids()));
  EXPECT_TRUE(p.masked);
  EXPECT_NE(describe_protocol(p).find("masked metrics"), std::string::npos);
  EXPECT_ERROR_CONTAINS(make_protocol(Suite::Dtu, 3, 48),
                        "needs all 49 views of a scan (its split is by view id), this scan has 48");
}

TEST(Protocol, OnlyThreeSixOrNineViews) {
  for (int n : {3, 6, 9}) {
    EXPECT_EQ(make_protocol(Suite::Llff, n, 34).train_ids.size(), static_cast<size_t>(n));
    EXPECT_EQ(make_protocol(Suite::Dtu, n, 49).train_ids.size(), static_cast<size_t>(n));
  }
  for (int n : {0, 1, 2, 4, 5, 7, 8, 10})
    EXPECT_ERROR_CONTAINS(make_protocol(Suite::Llff, n, 34), "n_views must be 3, 6 or 9");
  ProtocolSpec p = make_protocol(Suite::Llff, 3, 20);
  p.n_views = 4;
  EXPECT_ERROR_CONTAINS(p.check(), "n_views must be 3, 6 or 9, got 4");
}

TEST(Protocol, CheckNamesTheProblem) {
  const ProtocolSpec good = make_protocol(Suite::Llff, 3, 20);
  EXPECT_NO_THROW(good.check());
  ProtocolSpec p = good;
  p.train_ids = {1, 10};
  EXPECT_ERROR_CONTAINS(p.check(), "2 train ids for 3 views");
  p = good;
  p.train_ids = {1, 10, 20};
  EXPECT_ERROR_CONTAINS(p.check(), "view id 20 outside [0, 20)");
  p = good;
  p.train_ids = {1, 10, 10};
  EXPECT_ERROR_CONTAINS(p.check(), "view 10 appears twice");
  p = good;
  p.train_ids = {0, 10, 19};  // 0 is a test view
  EXPECT_ERROR_CONTAINS(p.check(), "view 0 appears twice");
  p = good;
  p.test_ids.clear();
  EXPECT_ERROR_CONTAINS(p.check(), "no test view");
  p = good;
  p.image_width = 0;
  EXPECT_ERROR_CONTAINS(p.check(), "image size must be > 0");
}

TEST(Suite, NamesRoundTrip) {
  EXPECT_STREQ(suite_name(Suite::Llff), "llff");
  EXPECT_STREQ(suite_name(Suite::Dtu), "dtu");
  EXPECT_EQ(suite_from_name("llff"), Suite::Llff);
  EXPECT_EQ(suite_from_name("dtu"), Suite::Dtu);
  EXPECT_ERROR_CONTAINS(suite_from_name("blender"), "unknown benchmark suite \"blender\"");
}

// [SECTION] Published results --------------------------------------------------------------------

const PublishedResult* find_row(Suite suite, int n_views, std::string_view method) {
  for (const PublishedResult& r : published_results())
    if (r.suite == suite && r.n_views == n_views && r.method == method) return &r;
  return nullptr;
}

TEST(Published, RowsAreWellFormed) {
  EXPECT_EQ(published_results().size(), 82u);  // 48 LLFF + 34 DTU cells of the notes
  std::set<std::tuple<int, int, std::string_view>> seen;
  for (const PublishedResult& r : published_results()) {
    SCOPED_TRACE(std::string(r.method) + " " + suite_name(r.suite) + " " +
                 std::to_string(r.n_views));
    EXPECT_TRUE(r.n_views == 3 || r.n_views == 6 || r.n_views == 9);
    EXPECT_GT(r.psnr, 10.0);
    EXPECT_LT(r.psnr, 30.0);
    EXPECT_GT(r.ssim, 0.3);
    EXPECT_LT(r.ssim, 1.0);
    EXPECT_GT(r.lpips, 0.0);
    EXPECT_LT(r.lpips, 0.5);
    EXPECT_FALSE(r.source.empty());
    EXPECT_TRUE(r.marker.empty() || r.marker == "(secondary)" || r.marker == "(unverified)");
    EXPECT_TRUE(seen.insert({static_cast<int>(r.suite), r.n_views, r.method}).second)
        << "duplicate row";
  }
}

TEST(Published, SpotChecksAgainstTheNotes) {
  const PublishedResult* corgs = find_row(Suite::Llff, 3, "CoR-GS");
  ASSERT_NE(corgs, nullptr);
  EXPECT_DOUBLE_EQ(corgs->psnr, 20.45);
  EXPECT_DOUBLE_EQ(corgs->ssim, 0.712);
  EXPECT_DOUBLE_EQ(corgs->lpips, 0.196);
  EXPECT_NE(corgs->source.find("[C] CoR-GS"), std::string_view::npos);
  EXPECT_TRUE(corgs->marker.empty());

  const PublishedResult* drop9 = find_row(Suite::Llff, 9, "DropGaussian");
  ASSERT_NE(drop9, nullptr);
  EXPECT_DOUBLE_EQ(drop9->psnr, 26.21);

  const PublishedResult* ico = find_row(Suite::Dtu, 3, "ICO-GS (arXiv 3/2026)");
  ASSERT_NE(ico, nullptr);
  EXPECT_DOUBLE_EQ(ico->psnr, 21.77);
  EXPECT_DOUBLE_EQ(ico->ssim, 0.888);
  EXPECT_DOUBLE_EQ(ico->lpips, 0.092);

  const PublishedResult* nexus = find_row(Suite::Llff, 3, "NexusGS");
  ASSERT_NE(nexus, nullptr);
  EXPECT_EQ(nexus->marker, "(secondary)");
  const PublishedResult* fates = find_row(Suite::Dtu, 3, "FatesGS");
  ASSERT_NE(fates, nullptr);
  EXPECT_EQ(fates->marker, "(unverified)");

  // DropGaussian has no DTU table; FSGS's two LLFF versions are both kept, told apart.
  for (int n : {3, 6, 9}) EXPECT_EQ(find_row(Suite::Dtu, n, "DropGaussian"), nullptr);
  ASSERT_NE(find_row(Suite::Llff, 3, "FSGS (arXiv v1)"), nullptr);
  ASSERT_NE(find_row(Suite::Llff, 3, "FSGS (ECCV)"), nullptr);
  EXPECT_DOUBLE_EQ(find_row(Suite::Llff, 3, "FSGS (arXiv v1)")->psnr, 20.43);
  EXPECT_DOUBLE_EQ(find_row(Suite::Llff, 3, "FSGS (ECCV)")->psnr, 20.31);
}

TEST(Published, FilterBySuiteAndViews) {
  const std::vector<PublishedResult> llff3 = published_results(Suite::Llff, 3);
  const std::vector<PublishedResult> dtu9 = published_results(Suite::Dtu, 9);
  EXPECT_EQ(llff3.size(), 20u);
  EXPECT_EQ(dtu9.size(), 10u);
  for (const auto& r : llff3) EXPECT_TRUE(r.suite == Suite::Llff && r.n_views == 3);
  for (const auto& r : dtu9) EXPECT_TRUE(r.suite == Suite::Dtu && r.n_views == 9);
}

}  // namespace
}  // namespace glimpse
