// Line plots drawn with OpenCV imgproc (see plot.h).
#include "io/plot.h"

#include "core/check.h"
#include "io/atomic_file.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

namespace glimpse {
namespace {

// matplotlib's tab10, the colours readers of training curves are used to.
constexpr std::array<std::array<uint8_t, 3>, 6> kPalette = {
    {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}, {140, 86, 75}}};
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.45;
constexpr double kTitleScale = 0.6;
const cv::Scalar kBlack(0, 0, 0);
const cv::Scalar kGrid(225, 225, 225);

cv::Scalar bgr(const std::array<uint8_t, 3>& rgb) { return cv::Scalar(rgb[2], rgb[1], rgb[0]); }

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

// A tick label with as many decimals as the tick step needs ("0.05", "1500", "2.5e+06").
std::string tick_label(double value, double step) {
  char buffer[32];
  const double magnitude = std::max(std::abs(value), std::abs(step));
  if (magnitude >= 1e6 || (magnitude > 0 && magnitude < 1e-3)) {
    std::snprintf(buffer, sizeof(buffer), "%.3g", value);
  } else {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, std::abs(value) < 1e-12 ? 0.0 : value);
  }
  return buffer;
}

cv::Size text_size(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline);
}

void put_text(cv::Mat& canvas, const std::string& text, cv::Point origin, double scale,
              const cv::Scalar& colour = kBlack) {
  cv::putText(canvas, text, origin, kFont, scale, colour, 1, cv::LINE_AA);
}

}  // namespace

void PlotOptions::check() const {
  GLIMPSE_CHECK(width >= 200 && height >= 150 && width <= 8192 && height <= 8192)
      << "plot: canvas must be between 200x150 and 8192x8192 pixels, got " << width << "x"
      << height;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  GLIMPSE_CHECK(std::isfinite(lo) && std::isfinite(hi)) << "plot: non-finite axis range";
  target = std::max(target, 1);
  if (hi <= lo) {  // a flat series: a unit-wide range around it
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double step = magnitude * (normalised < 1.5   ? 1.0
                                   : normalised < 3.0 ? 2.0
                                   : normalised < 7.0 ? 5.0
                                                      : 10.0);
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last + 0.5; k += 1.0) ticks.push_back(k * step);
  if (ticks.size() < 2) ticks.push_back(ticks.back() + step);
  return ticks;
}

void write_line_plot_png(const std::string& path, const std::vector<PlotSeries>& series,
                         const std::string& title, const std::string& x_label,
                         const PlotOptions& options) {
  options.check();
  Range x_range, left_range, right_range;
  bool has_right = false;
  for (const PlotSeries& s : series) {
    GLIMPSE_CHECK(s.x.size() == s.y.size())
        << "cannot write plot " << path << ": series '" << s.name << "' has " << s.x.size()
        << " x values but " << s.y.size() << " y values";
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x_range.add(s.x[i]);
      (s.right_axis ? right_range : left_range).add(s.y[i]);
    }
    has_right = has_right || s.right_axis;
  }
  GLIMPSE_CHECK(x_range.valid()) << "cannot write plot " << path << ": no finite data point";

  const std::vector<double> x_ticks = nice_ticks(x_range.lo, x_range.hi, 6);
  const std::vector<double> left_ticks =
      left_range.valid() ? nice_ticks(left_range.lo, left_range.hi) : std::vector<double>{0, 1};
  const std::vector<double> right_ticks =
      right_range.valid() ? nice_ticks(right_range.lo, right_range.hi) : std::vector<double>{0, 1};

  // Layout: room for tick labels on the left (and right), the title on top, the x label below.
  const int left_margin = 78, right_margin = has_right ? 78 : 28, top = 56, bottom = 58;
  const cv::Rect area(left_margin, top, options.width - left_margin - right_margin,
                      options.height - top - bottom);
  cv::Mat canvas(options.height, options.width, CV_8UC3, cv::Scalar(255, 255, 255));

  auto to_px = [&](double x, double y, const std::vector<double>& y_ticks) {
    const double fx = (x - x_ticks.front()) / (x_ticks.back() - x_ticks.front());
    const double fy = (y - y_ticks.front()) / (y_ticks.back() - y_ticks.front());
    return cv::Point2d(area.x + fx * area.width, area.y + (1.0 - fy) * area.height);
  };
  const double x_step = x_ticks[1] - x_ticks[0];
  const double left_step = left_ticks[1] - left_ticks[0];
  const double right_step = right_ticks[1] - right_ticks[0];

  // Grid and ticks.
  for (double t : x_ticks) {
    const int px = static_cast<int>(std::lround(to_px(t, 0, left_ticks).x));
    cv::line(canvas, {px, area.y}, {px, area.y + area.height}, kGrid, 1);
    cv::line(canvas, {px, area.y + area.height}, {px, area.y + area.height + 5}, kBlack, 1);
    const std::string label = tick_label(t, x_step);
    const cv::Size size = text_size(label, kFontScale);
    put_text(canvas, label, {px - size.width / 2, area.y + area.height + 9 + size.height},
             kFontScale);
  }
  for (double t : left_ticks) {
    const int py = static_cast<int>(std::lround(to_px(x_ticks.front(), t, left_ticks).y));
    cv::line(canvas, {area.x, py}, {area.x + area.width, py}, kGrid, 1);
    cv::line(canvas, {area.x - 5, py}, {area.x, py}, kBlack, 1);
    const std::string label = tick_label(t, left_step);
    const cv::Size size = text_size(label, kFontScale);
    put_text(canvas, label, {area.x - 9 - size.width, py + size.height / 2}, kFontScale);
  }
  if (has_right) {
    for (double t : right_ticks) {
      const int py = static_cast<int>(std::lround(to_px(x_ticks.front(), t, right_ticks).y));
      const int right = area.x + area.width;
      cv::line(canvas, {right, py}, {right + 5, py}, kBlack, 1);
      const std::string label = tick_label(t, right_step);
      const cv::Size size = text_size(label, kFontScale);
      put_text(canvas, label, {right + 9, py + size.height / 2}, kFontScale);
    }
  }
  cv::rectangle(canvas, area, kBlack, 1);

  // Title, axis captions.
  const cv::Size title_size = text_size(title, kTitleScale);
  put_text(canvas, title, {(options.width - title_size.width) / 2, 24}, kTitleScale);
  const cv::Size x_size = text_size(x_label, kFontScale);
  put_text(canvas, x_label, {area.x + (area.width - x_size.width) / 2, options.height - 12},
           kFontScale);
  if (!options.left_label.empty()) put_text(canvas, options.left_label, {8, top - 12}, kFontScale);
  if (has_right && !options.right_label.empty()) {
    const cv::Size size = text_size(options.right_label, kFontScale);
    put_text(canvas, options.right_label, {options.width - 8 - size.width, top - 12}, kFontScale);
  }

  // Curves, clipped to the plot area.
  std::vector<cv::Scalar> colours;
  size_t next_palette = 0;
  for (const PlotSeries& s : series) {
    const bool unset = s.rgb[0] == 0 && s.rgb[1] == 0 && s.rgb[2] == 0;
    colours.push_back(bgr(unset ? kPalette[next_palette++ % kPalette.size()] : s.rgb));
  }
  cv::Mat plot = canvas(area);
  const cv::Point2d offset(area.x, area.y);
  constexpr int kShift = 4;  // sub-pixel coordinates for anti-aliased lines
  auto fixed = [&](const cv::Point2d& p) {
    return cv::Point(static_cast<int>(std::lround((p.x - offset.x) * (1 << kShift))),
                     static_cast<int>(std::lround((p.y - offset.y) * (1 << kShift))));
  };
  for (size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    const std::vector<double>& y_ticks = s.right_axis ? right_ticks : left_ticks;
    bool has_previous = false;
    cv::Point previous;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        has_previous = false;
        continue;
      }
      const cv::Point p = fixed(to_px(s.x[i], s.y[i], y_ticks));
      if (has_previous) cv::line(plot, previous, p, colours[k], 2, cv::LINE_AA, kShift);
      if (s.markers) cv::circle(plot, p, 4 << kShift, colours[k], cv::FILLED, cv::LINE_AA, kShift);
      previous = p;
      has_previous = true;
    }
  }

  // Legend in the top-right corner of the plot area.
  if (!series.empty()) {
    int legend_width = 0;
    for (const PlotSeries& s : series)
      legend_width = std::max(legend_width, text_size(s.name, kFontScale).width);
    const int row = 20, swatch = 26;
    const cv::Rect box(area.x + area.width - legend_width - swatch - 26, area.y + 8,
                       legend_width + swatch + 18, row * static_cast<int>(series.size()) + 8);
    cv::rectangle(canvas, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(canvas, box, cv::Scalar(160, 160, 160), 1);
    for (size_t k = 0; k < series.size(); ++k) {
      const int y = box.y + 4 + row * static_cast<int>(k) + row / 2;
      cv::line(canvas, {box.x + 8, y}, {box.x + 8 + swatch - 6, y}, colours[k], 2, cv::LINE_AA);
      if (series[k].markers)
        cv::circle(canvas, {box.x + 8 + (swatch - 6) / 2, y}, 4, colours[k], cv::FILLED,
                   cv::LINE_AA);
      put_text(canvas, series[k].name, {box.x + 8 + swatch, y + 5}, kFontScale);
    }
  }

  // The canvas is BGR, the order imencode expects.
  std::vector<uchar> png;
  GLIMPSE_CHECK(cv::imencode(".png", canvas, png))
      << "cannot write plot " << path << ": PNG encoding failed";
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  });
}

void caption_image(Image<float>& image, const std::string& text) {
  GLIMPSE_CHECK(image.channels() == 3)
      << "caption: needs an RGB image, got " << image.channels() << " channel(s)";
  if (text.empty() || image.width() < 2 || image.height() < 2) return;
  cv::Mat canvas(image.height(), image.width(), CV_32FC3, image.data());  // no copy
  const cv::Size size = text_size(text, kFontScale);
  const int pad = 3;
  cv::rectangle(canvas, cv::Point(0, 0), cv::Point(size.width + 2 * pad, size.height + 2 * pad),
                cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(canvas, text, cv::Point(pad, pad + size.height), kFont, kFontScale,
              cv::Scalar(1, 1, 1), 1, cv::LINE_AA);
}

}  // namespace glimpse
