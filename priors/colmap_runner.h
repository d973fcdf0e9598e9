// Runs the `colmap` program (Schönberger & Frahm, "Structure-from-Motion Revisited", CVPR 2016;
// Debian's colmap 3.8 and newer releases) as a child process: finding the executable, one
// command per stage with its console output appended to a log file, exit status and signals
// reported, and stage markers so that a resumed run skips the stages whose inputs are unchanged.
// The orchestration (which files to write, which model to read back) is app/colmap_stage.h.
#pragma once

#include "core/check.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace glimpse {

// COLMAP could not give a result: not installed or not executable, crashed, exited with an
// error, timed out, or produced nothing usable (no points, no model). Callers catch it to fall
// back to the next initialiser; what() says why and, when COLMAP ran, ends with the tail of its
// log. Derives from glimpse::Error, so a caller that does not fall back reports it as usual.
class ColmapError : public Error {
 public:
  using Error::Error;
};

struct ColmapOptions {
  std::string executable;       // `--colmap PATH`; empty: the first `colmap` on PATH
  int num_threads = -1;         // threads of each COLMAP stage; -1: all cores (COLMAP's default)
  int max_image_size = 3200;    // SIFT: larger images are downscaled for extraction only
  int max_num_features = 8192;  // SIFT: features kept per image
  // SIFT: difference-of-Gaussians contrast threshold. Below COLMAP's 0.0067 because sparse-view
  // images are small (fern at 504x378, 3 views: 1430 -> 1700 features, 517 -> 617 points).
  double peak_threshold = 0.004;
  bool guided_matching = true;  // a second matching pass guided by the verified two-view geometry
  // Matching with known poses: thresholds looser than COLMAP's (0.8, 15), since with 3 small
  // views the wide-baseline pairs have few matches (fern 3 views: 551 -> 725 points; DTU scan24
  // views 25/22/28: 46 -> 119) and the fixed poses keep outliers from harming anything.
  double match_max_ratio = 0.9;   // SIFT ratio test: best / second-best descriptor distance
  int match_min_num_inliers = 8;  // a pair needs this many geometrically verified matches
  // Matching for structure from motion: COLMAP's values (the looser ones above let wrong
  // matches pick the initial pair: 4 fern photographs gave 3 images and 1 point).
  double sfm_match_max_ratio = 0.8;
  int sfm_match_min_num_inliers = 15;
  int min_num_matches = 15;  // image pairs with fewer verified matches are ignored
  std::string sfm_camera_model = "SIMPLE_RADIAL";  // the one camera shared by unposed photos
  double stage_timeout_s = 0.0;  // a stage running longer is killed (ColmapError); 0: no limit
  int log_tail_lines = 20;       // lines of colmap.log quoted in a ColmapError

  // Throws glimpse::Error naming the field when a value is out of range.
  void check() const;
};

// The absolute path of the COLMAP executable: `path` when given (a file that exists and is
// executable; a bare name is looked up on PATH), else the first `colmap` on PATH. Throws
// ColmapError saying what was tried and how to install COLMAP.
std::string find_colmap_executable(const std::string& path = "");

struct ProcessStatus {
  int exit_code = -1;      // the exit status when it exited, else -1
  int signal = 0;          // the signal that ended it, else 0
  bool timed_out = false;  // killed by run_process after timeout_s
  double seconds = 0.0;    // wall time
  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out; }
  // "exit status 1", "killed by signal 11 (Segmentation fault)", "timed out after 5 s".
  std::string describe() const;
};

// Runs argv[0] (a path, not looked up on PATH) with the arguments argv[1..] through posix_spawn:
// no shell, so no argument is ever interpreted. stdin is /dev/null; stdout and stderr are
// appended to `log_path` (created when missing). The environment is this process's plus `env`
// ("NAME=value" entries, replacing variables of the same name). timeout_s > 0 kills the child
// (SIGTERM, then SIGKILL after 2 s) when it runs longer. Throws glimpse::Error when the log
// cannot be opened or the program cannot be started (message from errno).
ProcessStatus run_process(const std::vector<std::string>& argv, const std::string& log_path,
                          const std::vector<std::string>& env = {}, double timeout_s = 0.0);

// The last `max_lines` lines of a text file ("" when it cannot be read).
std::string file_tail(const std::string& path, size_t max_lines);

// 64-bit FNV-1a of bytes, as 16 hex digits; the stage keys are built from it.
std::string hash_hex(std::string_view bytes);
// Hash of the files' names and contents in order (a missing file hashes as its name only).
std::string hash_files(const std::vector<std::string>& paths);

class ColmapRunner {
 public:
  // Checks the options, finds the executable (ColmapError when absent) and creates `workspace`
  // (glimpse::Error when it cannot). The log is <workspace>/colmap.log, appended to.
  ColmapRunner(const std::string& workspace, const ColmapOptions& options);

  const std::string& executable() const { return executable_; }
  const std::string& workspace() const { return workspace_; }
  const std::string& log_path() const { return log_path_; }
  const ColmapOptions& options() const { return options_; }

  // The first line of `colmap help` ("COLMAP 3.8 -- Structure-from-Motion ..."), cached.
  const std::string& version();

  // The first of `names` ("SiftExtraction.use_gpu") that `colmap <command> -h` lists (newer
  // releases renamed some options), or "" when none is; the help text is cached per command.
  std::string option_name(const std::string& command, const std::vector<std::string>& names);

  // Runs `colmap <command> <args...>`, appending the command line and COLMAP's output to the
  // log, and logs one progress line "COLMAP <stage>: done in S s" (Info) unless told not to.
  // Returns the seconds it took. Throws ColmapError with the status and the tail of the log when
  // COLMAP fails.
  double run(const std::string& stage, const std::string& command,
             const std::vector<std::string>& args, bool log_progress = true);

  // Stage markers for resume: <workspace>/<stage>.key holds the key (a hash of the stage's
  // inputs and settings) of the last successful run.
  bool stage_done(const std::string& stage, const std::string& key) const;
  void mark_stage_done(const std::string& stage, const std::string& key) const;
  void clear_stage(const std::string& stage) const;

  // The standard stages. Each builds the argument list from the options (CPU SIFT, no GPU).
  // feature_extractor on the images of `image_path` (`image_names`, relative to it, through
  // an image list; every image below it when empty): one camera per image of `camera_model` with
  // `camera_params` when given (COLMAP's order), or one camera shared by all when
  // `single_camera`. COLMAP numbers the images 1, 2, ... in name order.
  void extract_features(const std::string& database, const std::string& image_path,
                        const std::string& camera_model, const std::vector<double>& camera_params,
                        bool single_camera, const std::vector<std::string>& image_names = {});
  // feature_extractor once per image of `image_names`, image k with its own camera of
  // `camera_model` and camera_params[k]: COLMAP then numbers the images 1..N in this order (one
  // multithreaded run numbers them in the order the extractions finish, which differs from run to
  // run) and each camera is exact, as point_triangulator's input model needs. One progress line.
  void extract_features_in_order(const std::string& database, const std::string& image_path,
                                 const std::string& camera_model,
                                 const std::vector<std::vector<double>>& camera_params,
                                 const std::vector<std::string>& image_names);
  // exhaustive_matcher (every pair; guided matching as the options say) with the ratio test
  // and verified-match minimum given.
  void match_exhaustive(const std::string& database, double max_ratio, int min_num_inliers);
  // point_triangulator: triangulates the matches with the poses and intrinsics of the model in
  // `input_model` kept fixed (bundle adjustment refines the points only), written to
  // `output_model` (created), settings for few views (two-view tracks kept).
  void triangulate(const std::string& database, const std::string& image_path,
                   const std::string& input_model, const std::string& output_model);
  // mapper (incremental SfM) configured for 3 to 9 photographs; models go to
  // <output_folder>/0, /1, ... (created).
  void map(const std::string& database, const std::string& image_path,
           const std::string& output_folder);

 private:
  std::string help(const std::string& command);
  std::vector<std::string> extraction_args(const std::string& database,
                                           const std::string& image_path,
                                           const std::string& camera_model,
                                           const std::vector<double>& camera_params,
                                           bool single_camera,
                                           const std::vector<std::string>& image_names);
  // Appends "--<name> value" when `colmap <command> -h` lists one of the names.
  void add_option(std::vector<std::string>& args, const std::string& command,
                  const std::vector<std::string>& names, const std::string& value);

  ColmapOptions options_;
  std::string executable_;
  std::string workspace_;
  std::string log_path_;
  std::string version_;
  std::map<std::string, std::string> help_;  // command -> `colmap <command> -h` output
};

}  // namespace glimpse
