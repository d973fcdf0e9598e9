// priors/colmap_runner.h: finding the executable, running processes without a shell (exit
// status, signals, time limit, log), stage markers, fake COLMAP programs that fail or crash, and
// the real `colmap` program (installed by tools/install_deps.sh: a missing one fails the test).
#include "priors/colmap_runner.h"

#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>

namespace glimpse {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// An executable shell script at `path`.
void write_script(const fs::path& path, const std::string& body) {
  {
    std::ofstream out(path);
    out << "#!/bin/sh\n" << body;
  }
  fs::permissions(path, fs::perms::owner_all);
}

// A fake colmap that answers `help` and `-h` like COLMAP, then runs `action` for a real command.
void write_fake_colmap(const fs::path& path, const std::string& action) {
  write_script(path,
               "if [ \"$1\" = help ]; then echo 'COLMAP 0.0 -- fake for tests'; exit 0; fi\n"
               "if [ \"$2\" = -h ]; then echo '  --database_path arg'; "
               "echo '  --SiftMatching.use_gpu arg (=1)'; "
               "echo '  --SiftMatching.guided_matching arg (=0)'; exit 0; fi\n" +
                   action);
}

std::string real_colmap() {
  try {
    return find_colmap_executable();
  } catch (const ColmapError& e) {
    ADD_FAILURE() << "the real COLMAP program is needed by this test (tools/install_deps.sh "
                     "installs it): "
                  << e.what();
    return {};
  }
}

TEST(Hash, Fnv1a64KnownValues) {
  EXPECT_EQ(hash_hex(""), "cbf29ce484222325");
  EXPECT_EQ(hash_hex("a"), "af63dc4c8601ec8c");
  EXPECT_NE(hash_hex("ab"), hash_hex("ba"));
}

TEST(Hash, FilesByNameAndContent) {
  TempDir dir;
  const fs::path a = dir.path() / "a.txt";
  std::ofstream(a) << "one";
  const std::string h1 = hash_files({a.string()});
  EXPECT_EQ(h1, hash_files({a.string()}));
  std::ofstream(a) << "two";
  EXPECT_NE(h1, hash_files({a.string()}));
  EXPECT_NE(hash_files({a.string()}), hash_files({(dir.path() / "missing").string()}));
}

TEST(Options, CheckNamesTheField) {
  ColmapOptions o;
  EXPECT_NO_THROW(o.check());
  o.num_threads = 0;
  EXPECT_THROW(
      {
        try {
          o.check();
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("num_threads"), std::string::npos);
          throw;
        }
      },
      Error);
  o = {};
  o.sfm_camera_model = "simple radial";
  EXPECT_THROW(o.check(), Error);
  o = {};
  o.stage_timeout_s = -1;
  EXPECT_THROW(o.check(), Error);
}

TEST(FindExecutable, MissingPathGivesColmapErrorWithHint) {
  TempDir dir;
  const std::string missing = (dir.path() / "no_such_colmap").string();
  try {
    find_colmap_executable(missing);
    FAIL() << "expected ColmapError";
  } catch (const ColmapError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(missing), std::string::npos) << m;
    EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
    EXPECT_NE(m.find("--colmap"), std::string::npos) << m;
  }
  EXPECT_THROW(find_colmap_executable(dir.path().string()), ColmapError);  // a folder
  const fs::path plain = dir.path() / "colmap";
  std::ofstream(plain) << "not a program";
  fs::permissions(plain, fs::perms::owner_read | fs::perms::owner_write);
  try {
    find_colmap_executable(plain.string());
    FAIL() << "expected ColmapError";
  } catch (const ColmapError& e) {
    EXPECT_NE(std::string(e.what()).find("not executable"), std::string::npos) << e.what();
  }
  EXPECT_THROW(find_colmap_executable("glimpse_no_such_program_on_path"), ColmapError);
  // A ColmapError is a glimpse::Error: callers that do not fall back report it as usual.
  EXPECT_THROW(find_colmap_executable(missing), Error);
}

TEST(FindExecutable, ExplicitScriptIsAccepted) {
  TempDir dir;
  const fs::path fake = dir.path() / "colmap";
  write_fake_colmap(fake, "exit 0\n");
  EXPECT_EQ(find_colmap_executable(fake.string()), fs::absolute(fake).string());
}

TEST(RunProcess, ExitStatusAndOutputAppendedToLog) {
  TempDir dir;
  const std::string log = (dir.path() / "log.txt").string();
  std::ofstream(log) << "earlier\n";
  const ProcessStatus s = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, log);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.signal, 0);
  EXPECT_EQ(s.describe(), "exit status 3");
  const std::string text = read_text(log);
  EXPECT_EQ(text.rfind("earlier\n", 0), 0u) << text;
  EXPECT_NE(text.find("out\n"), std::string::npos);
  EXPECT_NE(text.find("err\n"), std::string::npos);
  EXPECT_TRUE(run_process({"/bin/true"}, log).ok());
}

TEST(RunProcess, ArgumentsAreNotInterpretedByAShell) {
  TempDir dir;
  const std::string log = (dir.path() / "log.txt").string();
  const fs::path marker = dir.path() / "pwned";
  const std::string tricky = "a b; touch " + marker.string() + " $HOME `id` 'q'";
  ASSERT_TRUE(run_process({"/bin/echo", tricky}, log).ok());
  EXPECT_EQ(read_text(log), tricky + "\n");
  EXPECT_FALSE(fs::exists(marker));
}

TEST(RunProcess, EnvironmentAdditions) {
  TempDir dir;
  const std::string log = (dir.path() / "log.txt").string();
  ASSERT_TRUE(run_process({"/bin/sh", "-c", "echo \"$GLIMPSE_TEST_VAR\""}, log,
                          {"GLIMPSE_TEST_VAR=hello world"})
                  .ok());
  EXPECT_EQ(read_text(log), "hello world\n");
}

TEST(RunProcess, SignalAndTimeoutReported) {
  TempDir dir;
  const std::string log = (dir.path() / "log.txt").string();
  const ProcessStatus crashed = run_process({"/bin/sh", "-c", "kill -SEGV $$"}, log);
  EXPECT_EQ(crashed.signal, 11);
  EXPECT_NE(crashed.describe().find("signal 11"), std::string::npos) << crashed.describe();
  const ProcessStatus slow = run_process({"/bin/sleep", "10"}, log, {}, 0.2);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_LT(slow.seconds, 5.0);
  EXPECT_NE(slow.describe().find("timed out"), std::string::npos);
}

TEST(RunProcess, MissingProgramThrows) {
  TempDir dir;
  EXPECT_THROW(run_process({(dir.path() / "nothing").string()}, (dir.path() / "l").string()),
               Error);
  EXPECT_THROW(run_process({"/bin/true"}, (dir.path() / "no" / "such" / "log").string()), Error);
}

TEST(FileTail, LastLinesAndCarriageReturns) {
  TempDir dir;
  const fs::path p = dir.path() / "t.txt";
  std::ofstream(p) << "1\n2\n3\nprogress 10%\rprogress 100%\n";
  EXPECT_EQ(file_tail(p.string(), 2), "3\nprogress 100%\n");
  EXPECT_EQ(file_tail((dir.path() / "missing").string(), 2), "");
}

TEST(Runner, StageMarkers) {
  TempDir dir;
  const fs::path fake = dir.path() / "colmap";
  write_fake_colmap(fake, "exit 0\n");
  ColmapOptions o;
  o.executable = fake.string();
  ColmapRunner runner((dir.path() / "ws").string(), o);
  EXPECT_TRUE(fs::is_directory(dir.path() / "ws"));
  EXPECT_EQ(runner.log_path(), (dir.path() / "ws" / "colmap.log").string());
  EXPECT_FALSE(runner.stage_done("features", "k1"));
  runner.mark_stage_done("features", "k1");
  EXPECT_TRUE(runner.stage_done("features", "k1"));
  EXPECT_FALSE(runner.stage_done("features", "k2"));
  runner.clear_stage("features");
  EXPECT_FALSE(runner.stage_done("features", "k1"));
  EXPECT_EQ(runner.version(), "COLMAP 0.0 -- fake for tests");
}

TEST(Runner, FailingColmapGivesExitStatusAndLogTail) {
  TempDir dir;
  const fs::path fake = dir.path() / "colmap";
  write_fake_colmap(fake, "echo \"fake colmap: cannot open database $3\" >&2\nexit 1\n");
  ColmapOptions o;
  o.executable = fake.string();
  ColmapRunner runner((dir.path() / "ws").string(), o);
  try {
    runner.match_exhaustive((dir.path() / "db.db").string(), 0.75, 12);
    FAIL() << "expected ColmapError";
  } catch (const ColmapError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("exhaustive matching"), std::string::npos) << m;
    EXPECT_NE(m.find("exit status 1"), std::string::npos) << m;
    EXPECT_NE(m.find("fake colmap: cannot open database"), std::string::npos) << m;
    EXPECT_NE(m.find(runner.log_path()), std::string::npos) << m;
  }
  // The log holds the command line (with the options this "version" lists) and the status.
  const std::string log = read_text(runner.log_path());
  EXPECT_NE(log.find("exhaustive_matcher --database_path"), std::string::npos) << log;
  EXPECT_NE(log.find("--SiftMatching.use_gpu 0"), std::string::npos) << log;
  EXPECT_NE(log.find("--SiftMatching.guided_matching 1"), std::string::npos) << log;
  EXPECT_EQ(log.find("max_ratio"), std::string::npos) << log;  // not listed by this "version"
  EXPECT_NE(log.find("exit status 1"), std::string::npos) << log;
}

TEST(Runner, CrashingColmapNamesTheSignal) {
  TempDir dir;
  const fs::path fake = dir.path() / "colmap";
  write_fake_colmap(fake, "echo 'about to crash'\nkill -SEGV $$\n");
  ColmapOptions o;
  o.executable = fake.string();
  ColmapRunner runner((dir.path() / "ws").string(), o);
  try {
    runner.run("test stage", "exhaustive_matcher", {});
    FAIL() << "expected ColmapError";
  } catch (const ColmapError& e) {
    EXPECT_NE(std::string(e.what()).find("signal 11"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("about to crash"), std::string::npos) << e.what();
  }
}

TEST(Runner, ProgramThatPrintsNothingIsNotColmap) {
  TempDir dir;
  const fs::path fake = dir.path() / "colmap";
  write_script(fake, "kill -SEGV $$\n");
  ColmapOptions o;
  o.executable = fake.string();
  ColmapRunner runner((dir.path() / "ws").string(), o);
  EXPECT_THROW(runner.version(), ColmapError);
}

TEST(Runner, MissingExecutableGivesColmapError) {
  TempDir dir;
  ColmapOptions o;
  o.executable = (dir.path() / "bin" / "colmap").string();
  EXPECT_THROW(ColmapRunner((dir.path() / "ws").string(), o), ColmapError);
}

TEST(RealColmap, VersionAndOptionNames) {
  const std::string exe = real_colmap();
  if (exe.empty()) return;
  TempDir dir;
  ColmapOptions o;
  o.executable = exe;
  ColmapRunner runner((dir.path() / "ws").string(), o);
  EXPECT_EQ(runner.version().rfind("COLMAP ", 0), 0u) << runner.version();
  EXPECT_FALSE(
      runner
          .option_name("feature_extractor", {"FeatureExtraction.use_gpu", "SiftExtraction.use_gpu"})
          .empty());
  EXPECT_EQ(runner.option_name("mapper", {"Mapper.min_num_match"}), "");  // a prefix only
  EXPECT_EQ(runner.option_name("mapper", {"Mapper.min_num_matches"}), "Mapper.min_num_matches");
  // The help texts were read through temporary files that are gone.
  for (const auto& entry : fs::directory_iterator(dir.path() / "ws"))
    EXPECT_EQ(entry.path().filename().string().rfind(".help_", 0), std::string::npos);
}

}  // namespace
}  // namespace glimpse
