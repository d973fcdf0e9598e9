// The `glimpse` program end to end: bad arguments are rejected with exit code 1 (bad values) or 2
// (command-line syntax) and a message naming the problem; good ones succeed.
#include "app/cli.h"

#include "tests/app/run_glimpse.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace glimpse {
namespace {
namespace fs = std::filesystem;

using testing::ProgramRun;
using testing::run_glimpse;
std::string quoted(const fs::path& path) { return testing::shell_quoted(path); }

std::string demo() { return quoted(glimpse::testing::source_dir() / "assets" / "demo"); }

#define EXPECT_OUTPUT_HAS(run, text) \
  EXPECT_NE((run).output.find(text), std::string::npos) << "output:\n" << (run).output

TEST(Cli, UserErrorMessage) {
  EXPECT_EQ(user_error_message("a/b.cpp:12: check failed (x > (y + 1)): x is too small"),
            "x is too small");
  EXPECT_EQ(user_error_message("a/b.cpp:12: unsupported format"), "unsupported format");
  EXPECT_EQ(user_error_message("plain message"), "plain message");
  EXPECT_EQ(user_error_message("a.cpp:1: check failed (ok): "), "check failed (ok): ");
}

TEST(Cli, MissingDatasetFolder) {
  glimpse::testing::TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const ProgramRun r = run_glimpse("render /no/such/dataset -o " + quoted(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "glimpse: error: render: dataset folder /no/such/dataset does not exist\n");
  EXPECT_FALSE(fs::exists(out));
}

// Wrong inputs through the binary: each error names the file and says what is wrong in words,
// with exit 1, no internal check text and nothing written.
TEST(Cli, BadInputsGetWordsNotCode) {
  glimpse::testing::TempDir tmp;
  auto scene_copy = [&](const std::string& name) {
    const fs::path copy = tmp.path() / name;
    fs::copy(glimpse::testing::source_dir() / "assets" / "demo", copy, fs::copy_options::recursive);
    return copy;
  };
  struct Case {
    fs::path scene;
    std::string expected;
  };
  std::vector<Case> cases;
  {
    const fs::path s = scene_copy("overlap");
    std::ofstream(s / "split.json", std::ios::trunc)
        << R"({"train": ["image000.png", "image001.png"], "test": ["image001.png"]})";
    cases.push_back({s, (s / "split.json").string() + ": image 'image001.png' is listed in both"});
  }
  {
    const fs::path s = scene_copy("empty_train");
    std::ofstream(s / "split.json", std::ios::trunc)
        << R"({"train": [], "test": ["image001.png"]})";
    cases.push_back({s, (s / "split.json").string() + ": the \"train\" list is empty"});
  }
  {
    const fs::path s = scene_copy("cut_image");
    const fs::path image = s / "images_8" / "image008.png";
    fs::resize_file(image, fs::file_size(image) / 2);
    cases.push_back({s, "cannot read image " + image.string() + ": the file ends inside"});
  }
  for (const Case& c : cases) {
    const fs::path out = tmp.path() / (c.scene.filename().string() + "_out");
    const ProgramRun r =
        run_glimpse("train " + quoted(c.scene) + " -o " + quoted(out) + " --iterations 2");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_OUTPUT_HAS(r, "glimpse: error: " + c.expected);
    EXPECT_EQ(r.output.find("check failed"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out / "metrics.json")) << c.scene;
  }
}

TEST(Cli, NegativeThreads) {
  glimpse::testing::TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const ProgramRun r = run_glimpse("render " + demo() + " -o " + quoted(out) + " --threads -1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "glimpse: error: ");
  EXPECT_OUTPUT_HAS(r, "threads must be >= 0");
  EXPECT_OUTPUT_HAS(r, "got -1");
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, ZeroStride) {
  glimpse::testing::TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const ProgramRun r = run_glimpse("render " + demo() + " -o " + quoted(out) + " --stride 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "stride must be >= 1, got 0");
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, NanParameter) {
  glimpse::testing::TempDir tmp;
  const ProgramRun r =
      run_glimpse("render " + demo() + " -o " + quoted(tmp.path() / "out") + " --init-opacity nan");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "opacity must be in (0, 1), got nan");
}

TEST(Cli, BadBenchOptions) {
  ProgramRun r = run_glimpse("bench-render --gaussians 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "number of Gaussians must be positive, got 0");
  r = run_glimpse("bench-render --width -5 --gaussians 10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "width and height must be positive");
  r = run_glimpse("bench-render --threads 1,-2 --gaussians 10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "threads must be >= 0 (0 = all hardware threads), got -2");
  r = run_glimpse("bench-render --repeats 0 --gaussians 10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_OUTPUT_HAS(r, "repeats must be >= 1, got 0");
}

TEST(Cli, SyntaxErrorsExitWithTwo) {
  ProgramRun r = run_glimpse("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_OUTPUT_HAS(r, "subcommand");
  r = run_glimpse("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  r = run_glimpse("render " + demo());  // -o missing
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_OUTPUT_HAS(r, "--output");
  r = run_glimpse("render " + demo() + " -o x --views sideways");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_OUTPUT_HAS(r, "sideways");
  r = run_glimpse("render " + demo() + " -o x --threads many");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_OUTPUT_HAS(r, "--threads");
}

TEST(Cli, HelpAndVersion) {
  ProgramRun r = run_glimpse("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_OUTPUT_HAS(r, "bench-render");
  r = run_glimpse("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_OUTPUT_HAS(r, "glimpse ");
}

TEST(Cli, Info) {
  const ProgramRun r = run_glimpse("info");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_OUTPUT_HAS(r, "glimpse ");
  EXPECT_OUTPUT_HAS(r, "CUDA backend:");
  EXPECT_OUTPUT_HAS(r, "hardware thread");
}

TEST(Cli, TinyBenchmarkWritesJson) {
  glimpse::testing::TempDir tmp;
  const fs::path json_path = tmp.path() / "bench.json";
  const ProgramRun r = run_glimpse(
      "bench-render --gaussians 500 --width 40 --height 30 --threads 1,2 "
      "--repeats 2 --json " +
      quoted(json_path));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "40x30");
  std::ifstream in(json_path);
  ASSERT_TRUE(in.good());
  const nlohmann::json json = nlohmann::json::parse(in);
  ASSERT_EQ(json["results"].size(), 2u);
  EXPECT_EQ(json["results"][0]["gaussians"].get<int64_t>(), 500);
  EXPECT_EQ(json["results"][1]["threads"].get<int>(), 2);
}

TEST(Cli, RendersTheDemo) {
  glimpse::testing::TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const ProgramRun r = run_glimpse("render " + demo() + " -o " + quoted(out) +
                                   " --stride 16 --views test --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "view 3/3");
  EXPECT_OUTPUT_HAS(r, "PSNR");
  EXPECT_TRUE(fs::is_regular_file(out / "report.json"));
  EXPECT_TRUE(fs::is_regular_file(out / "renders" / "image000.png"));
  EXPECT_TRUE(fs::is_regular_file(out / "compare" / "image016.png"));
}

}  // namespace
}  // namespace glimpse
