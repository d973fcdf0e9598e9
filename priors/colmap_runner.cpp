// COLMAP as a child process: executable lookup, posix_spawn with the output appended to a log,
// stage markers, and the argument lists of the stages Glimpse runs (CPU SIFT, exhaustive
// matching, point_triangulator with fixed poses, a mapper set up for 3 to 9 photographs).
#include "priors/colmap_runner.h"

#include "core/log.h"
#include "core/timer.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace glimpse {
namespace fs = std::filesystem;

namespace {

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// The first PATH entry holding an executable `name`, or "".
std::string search_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (is_executable_file(candidate)) return fs::absolute(candidate).string();
  }
  return {};
}

constexpr const char* kInstallHint =
    "install COLMAP (Debian/Ubuntu: `apt-get install colmap`, or tools/install_deps.sh) or give "
    "its path with --colmap PATH";

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream s;
  s << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
  return s.str();
}

void append_to_log(const std::string& log_path, const std::string& text) {
  std::ofstream log(log_path, std::ios::app);
  log << text;
}

// A command line for the log: arguments with spaces or quotes are single-quoted.
std::string quoted_command(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) {
    if (!s.empty()) s += ' ';
    if (!a.empty() && a.find_first_of(" \t\"'\\$") == std::string::npos) {
      s += a;
    } else {
      s += '\'';
      for (const char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
      s += '\'';
    }
  }
  return s;
}

std::string format_seconds(double s) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(s < 10 ? 1 : 0) << s;
  return o.str();
}

std::string format_number(double v) {
  std::ostringstream o;
  o << std::setprecision(17) << v;
  return o.str();
}

}  // namespace

void ColmapOptions::check() const {
  GLIMPSE_CHECK(num_threads == -1 || num_threads >= 1)
      << "COLMAP options: num_threads must be -1 (all cores) or >= 1, got " << num_threads;
  GLIMPSE_CHECK(max_image_size >= 64)
      << "COLMAP options: max_image_size must be >= 64 pixels, got " << max_image_size;
  GLIMPSE_CHECK(max_num_features >= 100)
      << "COLMAP options: max_num_features must be >= 100, got " << max_num_features;
  GLIMPSE_CHECK(std::isfinite(peak_threshold) && peak_threshold > 0)
      << "COLMAP options: peak_threshold must be > 0, got " << peak_threshold;
  GLIMPSE_CHECK(match_max_ratio > 0 && match_max_ratio <= 1 && sfm_match_max_ratio > 0 &&
                sfm_match_max_ratio <= 1)
      << "COLMAP options: match_max_ratio and sfm_match_max_ratio must be in (0, 1], got "
      << match_max_ratio << " and " << sfm_match_max_ratio;
  GLIMPSE_CHECK(match_min_num_inliers >= 5 && sfm_match_min_num_inliers >= 5)
      << "COLMAP options: match_min_num_inliers and sfm_match_min_num_inliers must be >= 5, got "
      << match_min_num_inliers << " and " << sfm_match_min_num_inliers;
  GLIMPSE_CHECK(min_num_matches >= 4)
      << "COLMAP options: min_num_matches must be >= 4, got " << min_num_matches;
  GLIMPSE_CHECK(!sfm_camera_model.empty() &&
                sfm_camera_model.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") ==
                    std::string::npos)
      << "COLMAP options: sfm_camera_model must be a COLMAP model name such as SIMPLE_RADIAL, "
         "got '"
      << sfm_camera_model << "'";
  GLIMPSE_CHECK(std::isfinite(stage_timeout_s) && stage_timeout_s >= 0)
      << "COLMAP options: stage_timeout_s must be >= 0 (0: no limit), got " << stage_timeout_s;
  GLIMPSE_CHECK(log_tail_lines >= 0)
      << "COLMAP options: log_tail_lines must be >= 0, got " << log_tail_lines;
}

std::string find_colmap_executable(const std::string& path) {
  if (path.empty()) {
    const std::string found = search_path("colmap");
    if (found.empty()) {
      const char* env = std::getenv("PATH");
      throw ColmapError("COLMAP not found: no `colmap` program on PATH (" +
                        std::string(env ? env : "PATH is not set") + "); " + kInstallHint);
    }
    return found;
  }
  if (path.find('/') == std::string::npos) {
    const std::string found = search_path(path);
    if (found.empty())
      throw ColmapError("COLMAP not found: --colmap " + path + ": no such program on PATH; " +
                        kInstallHint);
    return found;
  }
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ColmapError("COLMAP not found: --colmap " + path + ": file does not exist; " +
                      kInstallHint);
  if (fs::is_directory(path, ec))
    throw ColmapError("COLMAP not found: --colmap " + path +
                      " is a folder, not the colmap program; " + kInstallHint);
  if (!is_executable_file(path))
    throw ColmapError("COLMAP not found: --colmap " + path + " is not executable; " + kInstallHint);
  return fs::absolute(path).string();
}

std::string ProcessStatus::describe() const {
  std::ostringstream s;
  if (timed_out) {
    s << "timed out after " << format_seconds(seconds) << " s";
  } else if (signal != 0) {
    s << "killed by signal " << signal << " (" << strsignal(signal) << ")";
  } else {
    s << "exit status " << exit_code;
  }
  return s.str();
}

ProcessStatus run_process(const std::vector<std::string>& argv, const std::string& log_path,
                          const std::vector<std::string>& env, double timeout_s) {
  GLIMPSE_CHECK(!argv.empty() && !argv.front().empty()) << "run_process: no program given";
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  GLIMPSE_CHECK(fd >= 0) << "cannot open the log file " << log_path << ": " << std::strerror(errno);

  // The environment: ours without the names `env` sets, then `env`.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& extra : env)
      if (extra.substr(0, extra.find('=')) == name) replaced = true;
    if (!replaced) env_strings.push_back(entry);
  }
  for (const std::string& extra : env) env_strings.push_back(extra);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fd, 1);
  posix_spawn_file_actions_adddup2(&actions, fd, 2);
  const Timer timer;
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd);
  GLIMPSE_CHECK(rc == 0) << "cannot start " << argv.front() << ": " << std::strerror(rc);

  ProcessStatus status;
  int wstatus = 0;
  if (timeout_s <= 0) {
    while (::waitpid(pid, &wstatus, 0) < 0) {
      GLIMPSE_CHECK(errno == EINTR)
          << "waitpid for " << argv.front() << ": " << std::strerror(errno);
    }
  } else {
    bool term_sent = false;
    double term_at = 0.0;
    for (;;) {
      const pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
      if (r == pid) break;
      GLIMPSE_CHECK(r == 0 || errno == EINTR)
          << "waitpid for " << argv.front() << ": " << std::strerror(errno);
      const double t = timer.seconds();
      if (!term_sent && t > timeout_s) {
        ::kill(pid, SIGTERM);
        term_sent = true;
        term_at = t;
        status.timed_out = true;
      } else if (term_sent && t > term_at + 2.0) {
        ::kill(pid, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  status.seconds = timer.seconds();
  if (WIFEXITED(wstatus)) status.exit_code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) status.signal = WTERMSIG(wstatus);
  return status;
}

std::string file_tail(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  if (!in.is_open() || max_lines == 0) return {};
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    // COLMAP's progress bars rewrite one line with carriage returns: keep the last state.
    const size_t cr = line.find_last_of('\r', line.size() >= 2 ? line.size() - 2 : 0);
    if (cr != std::string::npos && cr + 1 < line.size()) line = line.substr(cr + 1);
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

std::string hash_hex(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  std::ostringstream s;
  s << std::hex << std::setw(16) << std::setfill('0') << h;
  return s.str();
}

std::string hash_files(const std::vector<std::string>& paths) {
  std::string all;
  for (const std::string& p : paths) {
    all += p;
    all += '\n';
    std::ifstream in(p, std::ios::binary);
    if (!in.is_open()) continue;
    std::ostringstream content;
    content << in.rdbuf();
    all += hash_hex(content.str());
    all += '\n';
  }
  return hash_hex(all);
}

// [SECTION] ColmapRunner
// -----------------------------------------------------------------------------

ColmapRunner::ColmapRunner(const std::string& workspace, const ColmapOptions& options)
    : options_(options) {
  options_.check();
  executable_ = find_colmap_executable(options_.executable);
  std::error_code ec;
  fs::create_directories(workspace, ec);
  GLIMPSE_CHECK(fs::is_directory(workspace, ec))
      << "cannot create the COLMAP workspace " << workspace
      << (ec ? ": " + ec.message() : std::string());
  workspace_ = fs::absolute(workspace).lexically_normal().string();
  log_path_ = (fs::path(workspace_) / "colmap.log").string();
}

std::string ColmapRunner::help(const std::string& command) {
  const auto it = help_.find(command);
  if (it != help_.end()) return it->second;
  const std::string path =
      (fs::path(workspace_) / (".help_" + command + "." + std::to_string(::getpid()))).string();
  std::string text;
  try {
    std::vector<std::string> argv = {executable_, command};
    if (command != "help") argv.push_back("-h");
    const ProcessStatus status =
        run_process(argv, path, {"QT_QPA_PLATFORM=offscreen"}, options_.stage_timeout_s);
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    if (status.signal != 0 || status.timed_out || text.empty()) {
      std::error_code ec;
      fs::remove(path, ec);
      throw ColmapError("COLMAP " + executable_ + " does not run: `colmap " + command +
                        (command == "help" ? "" : " -h") + "` " + status.describe() +
                        (text.empty() ? " and printed nothing" : "") + "\n" + file_tail(path, 10));
    }
  } catch (const ColmapError&) {
    throw;
  } catch (const Error& e) {
    throw ColmapError("COLMAP " + executable_ +
                      " cannot be started: " + error_message_without_location(e.what()));
  }
  std::error_code ec;
  fs::remove(path, ec);
  help_[command] = text;
  return text;
}

const std::string& ColmapRunner::version() {
  if (version_.empty()) {
    std::istringstream in(help("help"));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) break;
    version_ = line.empty() ? "unknown version" : line;
  }
  return version_;
}

std::string ColmapRunner::option_name(const std::string& command,
                                      const std::vector<std::string>& names) {
  const std::string text = help(command);
  for (const std::string& name : names) {
    const std::string flag = "--" + name;
    for (size_t at = text.find(flag); at != std::string::npos; at = text.find(flag, at + 1)) {
      const size_t end = at + flag.size();
      if (end == text.size() || !(std::isalnum(static_cast<unsigned char>(text[end])) ||
                                  text[end] == '_' || text[end] == '.'))
        return name;
    }
  }
  return {};
}

void ColmapRunner::add_option(std::vector<std::string>& args, const std::string& command,
                              const std::vector<std::string>& names, const std::string& value) {
  const std::string name = option_name(command, names);
  if (name.empty()) {
    GLIMPSE_LOG(Debug) << "COLMAP " << command << ": this version has no option --" << names.front()
                       << ", left at its default";
    return;
  }
  args.push_back("--" + name);
  args.push_back(value);
}

double ColmapRunner::run(const std::string& stage, const std::string& command,
                         const std::vector<std::string>& args, bool log_progress) {
  std::vector<std::string> argv = {executable_, command};
  argv.insert(argv.end(), args.begin(), args.end());
  append_to_log(log_path_,
                "\n==== " + timestamp() + " " + stage + ": " + quoted_command(argv) + "\n");
  ProcessStatus status;
  try {
    status = run_process(argv, log_path_, {"QT_QPA_PLATFORM=offscreen"}, options_.stage_timeout_s);
  } catch (const Error& e) {
    throw ColmapError("COLMAP " + stage + ": " + error_message_without_location(e.what()));
  }
  append_to_log(log_path_, "==== " + stage + ": " + status.describe() + " after " +
                               format_seconds(status.seconds) + " s\n");
  if (!status.ok()) {
    throw ColmapError(
        "COLMAP " + stage + " (`colmap " + command + "`) failed: " + status.describe() + " after " +
        format_seconds(status.seconds) + " s; full log: " + log_path_ + "; last lines:\n" +
        file_tail(log_path_, static_cast<size_t>(options_.log_tail_lines)));
  }
  if (log_progress) {
    GLIMPSE_LOG(Info) << "COLMAP " << stage << ": done in " << format_seconds(status.seconds)
                      << " s";
  }
  return status.seconds;
}

bool ColmapRunner::stage_done(const std::string& stage, const std::string& key) const {
  std::ifstream in(fs::path(workspace_) / (stage + ".key"));
  std::string stored;
  return in.is_open() && std::getline(in, stored) && stored == key;
}

void ColmapRunner::mark_stage_done(const std::string& stage, const std::string& key) const {
  const fs::path path = fs::path(workspace_) / (stage + ".key");
  const fs::path tmp = fs::path(workspace_) / (stage + ".key.tmp." + std::to_string(::getpid()));
  {
    std::ofstream out(tmp);
    out << key << "\n";
    GLIMPSE_CHECK(out.good()) << "cannot write " << tmp.string();
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  GLIMPSE_CHECK(!ec) << "cannot write " << path.string() << ": " << ec.message();
}

void ColmapRunner::clear_stage(const std::string& stage) const {
  std::error_code ec;
  fs::remove(fs::path(workspace_) / (stage + ".key"), ec);
}

std::vector<std::string> ColmapRunner::extraction_args(
    const std::string& database, const std::string& image_path, const std::string& camera_model,
    const std::vector<double>& camera_params, bool single_camera,
    const std::vector<std::string>& image_names) {
  const std::string cmd = "feature_extractor";
  std::vector<std::string> args = {"--database_path", database, "--image_path", image_path};
  if (!image_names.empty()) {
    const std::string list = (fs::path(workspace_) / "image_list.txt").string();
    {
      std::ofstream out(list);
      for (const std::string& name : image_names) out << name << "\n";
      GLIMPSE_CHECK(out.good()) << "cannot write " << list;
    }
    args.push_back("--image_list_path");
    args.push_back(list);
  }
  add_option(args, cmd, {"ImageReader.camera_model"}, camera_model);
  if (!camera_params.empty()) {
    std::string params;
    for (const double p : camera_params) {
      if (!params.empty()) params += ',';
      params += format_number(p);
    }
    add_option(args, cmd, {"ImageReader.camera_params"}, params);
  }
  add_option(args, cmd, {"ImageReader.single_camera"}, single_camera ? "1" : "0");
  add_option(args, cmd, {"FeatureExtraction.use_gpu", "SiftExtraction.use_gpu"}, "0");
  if (options_.num_threads > 0)
    add_option(args, cmd, {"FeatureExtraction.num_threads", "SiftExtraction.num_threads"},
               std::to_string(options_.num_threads));
  add_option(args, cmd, {"FeatureExtraction.max_image_size", "SiftExtraction.max_image_size"},
             std::to_string(options_.max_image_size));
  add_option(args, cmd, {"SiftExtraction.max_num_features"},
             std::to_string(options_.max_num_features));
  add_option(args, cmd, {"SiftExtraction.peak_threshold"}, format_number(options_.peak_threshold));
  return args;
}

void ColmapRunner::extract_features(const std::string& database, const std::string& image_path,
                                    const std::string& camera_model,
                                    const std::vector<double>& camera_params, bool single_camera,
                                    const std::vector<std::string>& image_names) {
  run("feature extraction", "feature_extractor",
      extraction_args(database, image_path, camera_model, camera_params, single_camera,
                      image_names));
}

void ColmapRunner::extract_features_in_order(const std::string& database,
                                             const std::string& image_path,
                                             const std::string& camera_model,
                                             const std::vector<std::vector<double>>& camera_params,
                                             const std::vector<std::string>& image_names) {
  GLIMPSE_CHECK(camera_params.size() == image_names.size())
      << "COLMAP feature extraction: " << image_names.size() << " images but "
      << camera_params.size() << " cameras";
  double seconds = 0;
  for (size_t k = 0; k < image_names.size(); ++k) {
    seconds += run("feature extraction", "feature_extractor",
                   extraction_args(database, image_path, camera_model, camera_params[k], false,
                                   {image_names[k]}),
                   false);
  }
  GLIMPSE_LOG(Info) << "COLMAP feature extraction: " << image_names.size() << " images done in "
                    << format_seconds(seconds) << " s";
}

void ColmapRunner::match_exhaustive(const std::string& database, double max_ratio,
                                    int min_num_inliers) {
  const std::string cmd = "exhaustive_matcher";
  std::vector<std::string> args = {"--database_path", database};
  add_option(args, cmd, {"FeatureMatching.use_gpu", "SiftMatching.use_gpu"}, "0");
  if (options_.num_threads > 0)
    add_option(args, cmd, {"FeatureMatching.num_threads", "SiftMatching.num_threads"},
               std::to_string(options_.num_threads));
  add_option(args, cmd, {"FeatureMatching.guided_matching", "SiftMatching.guided_matching"},
             options_.guided_matching ? "1" : "0");
  add_option(args, cmd, {"FeatureMatching.max_ratio", "SiftMatching.max_ratio"},
             format_number(max_ratio));
  add_option(args, cmd, {"TwoViewGeometry.min_num_inliers", "SiftMatching.min_num_inliers"},
             std::to_string(min_num_inliers));
  run("exhaustive matching", cmd, args);
}

void ColmapRunner::triangulate(const std::string& database, const std::string& image_path,
                               const std::string& input_model, const std::string& output_model) {
  std::error_code ec;
  fs::create_directories(output_model, ec);
  GLIMPSE_CHECK(fs::is_directory(output_model, ec))
      << "cannot create the COLMAP model folder " << output_model;
  const std::string cmd = "point_triangulator";
  std::vector<std::string> args = {"--database_path", database,    "--image_path",  image_path,
                                   "--input_path",    input_model, "--output_path", output_model};
  add_option(args, cmd, {"clear_points"}, "1");
  add_option(args, cmd, {"refine_intrinsics"}, "0");
  add_option(args, cmd, {"Mapper.min_num_matches"}, std::to_string(options_.min_num_matches));
  // With 3 views most tracks span two views: keep them (COLMAP drops them by default).
  add_option(args, cmd, {"Mapper.tri_ignore_two_view_tracks"}, "0");
  add_option(args, cmd, {"Mapper.ba_refine_focal_length"}, "0");
  add_option(args, cmd, {"Mapper.ba_refine_principal_point"}, "0");
  add_option(args, cmd, {"Mapper.ba_refine_extra_params"}, "0");
  if (options_.num_threads > 0)
    add_option(args, cmd, {"Mapper.num_threads"}, std::to_string(options_.num_threads));
  run("triangulation", cmd, args);
}

void ColmapRunner::map(const std::string& database, const std::string& image_path,
                       const std::string& output_folder) {
  std::error_code ec;
  fs::create_directories(output_folder, ec);
  GLIMPSE_CHECK(fs::is_directory(output_folder, ec))
      << "cannot create the COLMAP model folder " << output_folder;
  const std::string cmd = "mapper";
  std::vector<std::string> args = {"--database_path", database,        "--image_path",
                                   image_path,        "--output_path", output_folder};
  // Few photographs: small models are kept, and the thresholds that assume dozens of images
  // (100 inliers and 16 degrees for the first pair, 30 inliers to register an image, tracks of
  // at least three views) are relaxed.
  add_option(args, cmd, {"Mapper.min_model_size"}, "2");
  add_option(args, cmd, {"Mapper.min_num_matches"}, std::to_string(options_.min_num_matches));
  add_option(args, cmd, {"Mapper.init_min_num_inliers"}, "50");
  add_option(args, cmd, {"Mapper.init_min_tri_angle"}, "4");
  add_option(args, cmd, {"Mapper.abs_pose_min_num_inliers"}, "15");
  add_option(args, cmd, {"Mapper.abs_pose_min_inlier_ratio"}, "0.15");
  add_option(args, cmd, {"Mapper.tri_ignore_two_view_tracks"}, "0");
  add_option(args, cmd, {"Mapper.ba_global_max_num_iterations"}, "100");
  if (options_.num_threads > 0)
    add_option(args, cmd, {"Mapper.num_threads"}, std::to_string(options_.num_threads));
  run("mapping (structure from motion)", cmd, args);
}

}  // namespace glimpse
