// Terminal progress display of a training run (see progress.h).
#include "app/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <unistd.h>

namespace glimpse {
namespace {

constexpr double kTimeSmoothing = 0.02;  // weight of the newest step time in its moving average
constexpr double kLossSmoothing = 0.05;  // weight of the newest loss / PSNR (3DGS's display: 0.4)
constexpr const char* kClearLine = "\r\x1b[K";  // carriage return, erase to the end of the line

}  // namespace

bool stderr_is_terminal() { return isatty(fileno(stderr)) != 0; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld", s / 60, s % 60);
  return buffer;
}

std::string format_progress_line(const ProgressFigures& f, int bar_width) {
  const double fraction =
      f.total > 0 ? std::clamp(static_cast<double>(f.iteration) / f.total, 0.0, 1.0) : 0.0;
  std::ostringstream line;
  if (bar_width > 0) {
    const int filled = static_cast<int>(std::floor(fraction * bar_width));
    line << '[' << std::string(filled, '#') << std::string(bar_width - filled, '.') << "]  ";
  }
  char buffer[200];
  std::snprintf(buffer, sizeof(buffer),
                "%d/%d (%3.0f%%)  %.1f it/s  loss %.4f  PSNR %.2f dB (train view, unmasked)  %lld "
                "Gaussians  ETA %s",
                f.iteration, f.total, 100.0 * fraction, f.its_per_second, f.loss, f.psnr,
                static_cast<long long>(f.num_gaussians), format_duration(f.eta_seconds).c_str());
  line << buffer;
  return line.str();
}

TrainProgress::TrainProgress(int first_iteration, int total, const ProgressOptions& options,
                             std::ostream& out)
    : options_(options), out_(out), first_iteration_(first_iteration) {
  // Quiet runs (-q) get no interactive line either.
  if (log_level() > LogLevel::Info) options_.interactive = false;
  figures_.iteration = first_iteration;
  figures_.total = total;
  last_logged_iteration_ = first_iteration;
}

void TrainProgress::update(const StepStats& stats) {
  figures_.iteration = stats.iteration;
  figures_.num_gaussians = stats.num_gaussians;
  if (!have_average_) {
    step_seconds_ = stats.seconds;
    figures_.loss = stats.loss;
    figures_.psnr = stats.psnr;
    have_average_ = true;
  } else {
    step_seconds_ += kTimeSmoothing * (stats.seconds - step_seconds_);
    figures_.loss += kLossSmoothing * (stats.loss - figures_.loss);
    figures_.psnr += kLossSmoothing * (stats.psnr - figures_.psnr);
  }
  figures_.its_per_second = step_seconds_ > 0 ? 1.0 / step_seconds_ : 0.0;
  figures_.eta_seconds = std::max(0, figures_.total - figures_.iteration) * step_seconds_;

  const double t = clock_.seconds();
  const bool last = figures_.iteration >= figures_.total;
  if (options_.interactive) {
    if (last || t - last_draw_ >= options_.redraw_interval) draw();
    return;
  }
  const double run = std::max(1, figures_.total - first_iteration_);
  const bool milestone =
      figures_.iteration - last_logged_iteration_ >= options_.log_fraction * run &&
      t - last_log_ >= options_.log_min_interval;
  if (last || milestone || t - last_log_ >= options_.log_max_interval) emit_log_line();
}

void TrainProgress::log(LogLevel level, const std::string& message) {
  if (line_open_) out_ << kClearLine << std::flush;
  log_message(level, message);
  if (line_open_) draw();
}

void TrainProgress::finish() {
  if (finished_) return;
  finished_ = true;
  if (options_.interactive) {
    if (line_open_) {
      draw();
      out_ << '\n' << std::flush;
      line_open_ = false;
    }
    return;
  }
  if (figures_.iteration != last_logged_iteration_) emit_log_line();
}

void TrainProgress::draw() {
  out_ << kClearLine << format_progress_line(figures_, options_.bar_width)
       << (options_.context ? options_.context(figures_) : std::string()) << std::flush;
  line_open_ = true;
  last_draw_ = clock_.seconds();
  ++lines_;
}

void TrainProgress::emit_log_line() {
  GLIMPSE_LOG(Info) << options_.label << ": " << format_progress_line(figures_, 0)
                    << (options_.context ? options_.context(figures_) : std::string());
  last_log_ = clock_.seconds();
  last_logged_iteration_ = figures_.iteration;
  ++lines_;
}

namespace {
thread_local StageProgressSink stage_progress_sink;
}  // namespace

ScopedStageProgress::ScopedStageProgress(StageProgressSink sink)
    : previous_(std::move(stage_progress_sink)) {
  stage_progress_sink = std::move(sink);
}

ScopedStageProgress::~ScopedStageProgress() { stage_progress_sink = std::move(previous_); }

void report_stage_progress(double fraction, const std::string& what) {
  if (stage_progress_sink) stage_progress_sink(std::clamp(fraction, 0.0, 1.0), what);
}

}  // namespace glimpse
