// Training progress for the terminal: one line redrawn in place ('\r') on an interactive stderr,
// a few log lines otherwise (CI logs stay short). Bar, iteration/total, it/s, loss, PSNR,
// Gaussian count and ETA.
#pragma once

#include "core/log.h"
#include "core/timer.h"
#include "optim/trainer.h"

#include <functional>
#include <iosfwd>
#include <string>

namespace glimpse {

// True when stderr is a terminal (isatty).
bool stderr_is_terminal();

// The smoothed figures shown on a line.
struct ProgressFigures {
  int iteration = 0;          // last completed iteration (1-based)
  int total = 0;              // the run's final iteration
  double its_per_second = 0;  // from a moving average of the step times
  double loss = 0;            // moving average of the training loss
  double psnr = 0;            // moving average of the training-view PSNR
  int64_t num_gaussians = 0;
  double eta_seconds = 0;  // (total - iteration) / its_per_second
};

struct ProgressOptions {
  bool interactive = false;        // redraw one line in place instead of logging lines
  double redraw_interval = 0.1;    // interactive: seconds between redraws
  double log_fraction = 0.1;       // logged: a line each time this fraction of the run has passed,
  double log_min_interval = 2.0;   //   but not closer than this many seconds,
  double log_max_interval = 60.0;  //  and at least one line this often
  int bar_width = 24;              // characters inside the bar
  std::string label = "train";     // logged lines start with "<label>: "
  // Appended to every line when set, e.g. the progress of a benchmark suite the run belongs to.
  std::function<std::string(const ProgressFigures&)> context;
};

// "[##########..........]  1200/3000  14.8 it/s  loss 0.0412  PSNR 24.31 dB  71234 Gaussians
// ETA 2:01" (no bar when bar_width is 0).
std::string format_progress_line(const ProgressFigures& f, int bar_width);

// "1:05:09", "2:01", "0:07".
std::string format_duration(double seconds);

// The progress of a long stage (multi-view stereo view by view, ...) for whoever runs it on this
// thread: a session shows it as its phase's fraction. Without a sink in scope, reports go nowhere.
using StageProgressSink = std::function<void(double fraction, const std::string& what)>;
class ScopedStageProgress {
 public:
  explicit ScopedStageProgress(StageProgressSink sink);  // this thread's sink until destroyed
  ~ScopedStageProgress();
  ScopedStageProgress(const ScopedStageProgress&) = delete;
  ScopedStageProgress& operator=(const ScopedStageProgress&) = delete;

 private:
  StageProgressSink previous_;
};
// fraction in [0, 1] of the running stage, and what it is doing ("mvs: view 2 of 3").
void report_stage_progress(double fraction, const std::string& what);

class TrainProgress {
 public:
  // Progress of iterations (first_iteration, total]; `out` receives the interactive line
  // (usually std::cerr); logged lines go through GLIMPSE_LOG(Info).
  TrainProgress(int first_iteration, int total, const ProgressOptions& options, std::ostream& out);

  // After every step.
  void update(const StepStats& stats);
  // A log message that does not garble the interactive line (cleared, logged, redrawn).
  void log(LogLevel level, const std::string& message);
  // Ends the display: the final figures on their own line.
  void finish();

  const ProgressFigures& figures() const { return figures_; }
  int lines_written() const { return lines_; }

 private:
  void draw();
  void emit_log_line();

  ProgressOptions options_;
  std::ostream& out_;
  int first_iteration_;
  ProgressFigures figures_;
  double step_seconds_ = 0;  // moving average
  bool have_average_ = false;
  bool line_open_ = false;  // an interactive line is on screen
  bool finished_ = false;
  Timer clock_;
  double last_draw_ = -1e9, last_log_ = 0;
  int last_logged_iteration_ = 0;
  int lines_ = 0;
};

}  // namespace glimpse
