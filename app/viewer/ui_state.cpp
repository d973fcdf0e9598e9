// The viewer's window-free logic (see ui_state.h).
#include "app/viewer/ui_state.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace glimpse::viewer {

namespace {

Vec3<double> normalized(const Vec3<double>& v) {
  const double n = norm(v);
  return n > 0 ? v * (1.0 / n) : v;
}

Vec3<double> column(const Mat3<double>& m, int c) { return {m[0][c], m[1][c], m[2][c]}; }

// The q-quantile (q in [0, 1]) of v, reordering v.
double quantile(std::vector<double>& v, double q) {
  const size_t k = static_cast<size_t>(std::lround(q * static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Per-axis quantiles lo and hi of points [N, 3] (N > 0).
void axis_quantiles(const std::vector<float>& means, double lo, double hi,
                    std::array<double, 3>& min, std::array<double, 3>& max) {
  const size_t n = means.size() / 3;
  std::vector<double> axis(n);
  for (int a = 0; a < 3; ++a) {
    for (size_t i = 0; i < n; ++i) axis[i] = means[3 * i + a];
    min[a] = quantile(axis, lo);
    max[a] = quantile(axis, hi);
  }
}

}  // namespace

// [SECTION] training views ----------------------------------------------------------------------

void ViewSelection::reset(const SessionScene& scene) {
  num_views_ = static_cast<int>(scene.views.size());
  views_.clear();
  for (const SessionView& v : scene.views)
    if (v.train && static_cast<int>(views_.size()) < kMaxTrainViews) views_.push_back(v.index);
  std::sort(views_.begin(), views_.end());
}

std::string ViewSelection::toggle(int view) {
  if (view < 0 || view >= num_views_) {
    std::ostringstream s;
    s << "view " << view << " does not exist (the scene has " << num_views_ << ")";
    return s.str();
  }
  const auto it = std::lower_bound(views_.begin(), views_.end(), view);
  if (it != views_.end() && *it == view) {
    views_.erase(it);
    return "";
  }
  if (static_cast<int>(views_.size()) >= kMaxTrainViews) {
    std::ostringstream s;
    s << "at most " << kMaxTrainViews << " training views: drop one first";
    return s.str();
  }
  views_.insert(it, view);
  return "";
}

bool ViewSelection::selected(int view) const {
  return std::binary_search(views_.begin(), views_.end(), view);
}

std::string ViewSelection::problem() const {
  const int n = static_cast<int>(views_.size());
  std::ostringstream s;
  if (num_views_ < kMinTrainViews)
    s << "the scene has " << num_views_ << " views; a run needs at least " << kMinTrainViews;
  else if (n < kMinTrainViews)
    s << "pick " << kMinTrainViews - n << " more training view"
      << (kMinTrainViews - n > 1 ? "s" : "") << " (" << kMinTrainViews << " to " << kMaxTrainViews
      << ")";
  else if (n > kMaxTrainViews)
    s << "drop " << n - kMaxTrainViews << " training views (" << kMinTrainViews << " to "
      << kMaxTrainViews << ")";
  return s.str();
}

// [SECTION] navigation camera -------------------------------------------------------------------

Vec3<double> up_from_cameras(const std::vector<Camera>& cameras) {
  Vec3<double> sum{};
  for (const Camera& c : cameras)
    sum += Vec3<double>{c.rotation[1][0], c.rotation[1][1], c.rotation[1][2]};  // camera y in world
  const double n = norm(sum);
  if (cameras.empty() || n < 1e-9 * static_cast<double>(cameras.size())) return {0, -1, 0};
  return sum * (-1.0 / n);
}

Mat3<double> axis_angle_rotation(const Vec3<double>& axis, double angle) {
  const double c = std::cos(angle), s = std::sin(angle), t = 1 - c;
  const double x = axis.x, y = axis.y, z = axis.z;
  Mat3<double> r;
  r[0][0] = t * x * x + c, r[0][1] = t * x * y - s * z, r[0][2] = t * x * z + s * y;
  r[1][0] = t * x * y + s * z, r[1][1] = t * y * y + c, r[1][2] = t * y * z - s * x;
  r[2][0] = t * x * z - s * y, r[2][1] = t * y * z + s * x, r[2][2] = t * z * z + c;
  return r;
}

void NavCamera::look_at(const Vec3<double>& eye, const Vec3<double>& target) {
  Vec3<double> z = target - eye;
  distance_ = norm(z);
  if (distance_ <= 0) {
    z = forward();
    distance_ = 1;
  }
  z = normalized(z);
  Vec3<double> x = cross(-up_, z);
  if (norm(x) < 1e-9) x = cross(Vec3<double>{0, 0, 1}, z);  // looking along the up axis
  if (norm(x) < 1e-9) x = {1, 0, 0};
  x = normalized(x);
  const Vec3<double> y = cross(z, x);
  for (int r = 0; r < 3; ++r) {
    world_from_cam_[r][0] = x[r];
    world_from_cam_[r][1] = y[r];
    world_from_cam_[r][2] = z[r];
  }
  position_ = eye;
  moved();
}

void NavCamera::snap_to(const Camera& camera, double orbit_distance) {
  world_from_cam_ = camera.rotation.transposed();
  position_ = camera.center();
  if (orbit_distance > 0 && std::isfinite(orbit_distance)) distance_ = orbit_distance;
  lens_ = camera;
  exact_translation_ = camera.translation;
}

Vec3<double> NavCamera::forward() const { return column(world_from_cam_, 2); }
Vec3<double> NavCamera::right() const { return column(world_from_cam_, 0); }

double NavCamera::elevation() const {
  return std::asin(std::clamp(dot(forward(), up_), -1.0, 1.0));
}

void NavCamera::rotate_about(const Vec3<double>& axis, double angle, const Vec3<double>& pivot) {
  if (angle == 0) return;
  const Mat3<double> r = axis_angle_rotation(normalized(axis), angle);
  world_from_cam_ = r * world_from_cam_;
  position_ = pivot + r * (position_ - pivot);
  moved();
}

void NavCamera::orbit(double yaw, double pitch) {
  const Vec3<double> pivot = target();
  rotate_about(up_, yaw, pivot);
  // Rising (positive pitch) lowers the elevation of the viewing direction.
  const double e = elevation();
  const double wanted = std::clamp(e - pitch, -kMaxElevation, kMaxElevation);
  rotate_about(right(), wanted - e, pivot);
}

void NavCamera::look(double yaw, double pitch) {
  rotate_about(up_, yaw, position_);
  const double e = elevation();
  const double wanted = std::clamp(e + pitch, -kMaxElevation, kMaxElevation);
  rotate_about(right(), wanted - e, position_);
}

void NavCamera::move(const Vec3<double>& in_cam) {
  if (in_cam.x == 0 && in_cam.y == 0 && in_cam.z == 0) return;
  position_ += world_from_cam_ * in_cam;
  moved();
}

void NavCamera::pan(double dx, double dy, double focal) {
  if (focal <= 0) return;
  const double s = distance_ / focal;
  move({-dx * s, -dy * s, 0});
}

void NavCamera::dolly(double factor) {
  if (!(factor > 0) || factor == 1) return;
  const Vec3<double> t = target();
  distance_ = std::max(distance_ * factor, 1e-6);
  position_ = t - forward() * distance_;
  moved();
}

void NavCamera::set_up(const Vec3<double>& up) {
  if (norm(up) > 0) up_ = normalized(up);
}

void NavCamera::set_fov_y_degrees(double fov) { fov_y_degrees_ = std::clamp(fov, 10.0, 120.0); }

Camera NavCamera::camera(int width, int height) const {
  GLIMPSE_CHECK(width > 0 && height > 0) << "viewport " << width << "x" << height << " is empty";
  Camera c;
  c.width = width;
  c.height = height;
  if (lens_ && lens_->width == width && lens_->height == height) {
    c.fx = lens_->fx, c.fy = lens_->fy, c.cx = lens_->cx, c.cy = lens_->cy;
  } else if (lens_) {
    const double s = std::min(static_cast<double>(width) / lens_->width,
                              static_cast<double>(height) / lens_->height);
    c.fx = lens_->fx * s;
    c.fy = lens_->fy * s;
    c.cx = 0.5 * width + (lens_->cx - 0.5 * lens_->width) * s;
    c.cy = 0.5 * height + (lens_->cy - 0.5 * lens_->height) * s;
  } else {
    c.fy = 0.5 * height / std::tan(0.5 * fov_y_degrees_ * M_PI / 180.0);
    c.fx = c.fy;
    c.cx = 0.5 * width;
    c.cy = 0.5 * height;
  }
  c.rotation = world_from_cam_.transposed();
  c.translation = exact_translation_ ? *exact_translation_ : -(c.rotation * position_);
  return c;
}

PointsFrame frame_points(const std::vector<float>& means) {
  PointsFrame f;
  if (means.size() < 3) return f;
  std::array<double, 3> lo, hi;
  axis_quantiles(means, 0.02, 0.98, lo, hi);
  f.center = {0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), 0.5 * (lo[2] + hi[2])};
  const double r = 0.5 * norm(Vec3<double>{hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]});
  f.radius = r > 0 ? r : 1;
  return f;
}

double median_depth(const Camera& camera, const std::vector<float>& means, double fallback) {
  std::vector<double> z;
  z.reserve(means.size() / 3);
  for (size_t i = 0; i + 2 < means.size(); i += 3) {
    const double d = camera.cam_from_world({means[i], means[i + 1], means[i + 2]}).z;
    if (d > 1e-6) z.push_back(d);
  }
  return z.empty() ? fallback : quantile(z, 0.5);
}

// [SECTION] crop box ----------------------------------------------------------------------------

void CropBox::fit(const std::vector<float>& means) {
  if (means.size() < 3) {
    min = {-1, -1, -1};
    max = {1, 1, 1};
    return;
  }
  axis_quantiles(means, 0.01, 0.99, min, max);
  for (int a = 0; a < 3; ++a) {
    const double pad = std::max(0.05 * (max[a] - min[a]), 1e-6);
    min[a] -= pad;
    max[a] += pad;
  }
}

bool CropBox::contains(double x, double y, double z) const {
  return x >= min[0] && x <= max[0] && y >= min[1] && y <= max[1] && z >= min[2] && z <= max[2];
}

void CropBox::sanitize() {
  for (int a = 0; a < 3; ++a) {
    if (!std::isfinite(min[a])) min[a] = -1;
    if (!std::isfinite(max[a])) max[a] = 1;
    if (min[a] < max[a]) continue;
    const double m = 0.5 * (min[a] + max[a]);
    const double eps = std::max(1e-6, 1e-6 * std::abs(m));
    min[a] = m - eps;
    max[a] = m + eps;
  }
}

int64_t CropBox::count_inside(const std::vector<float>& means) const {
  int64_t n = 0;
  for (size_t i = 0; i + 2 < means.size(); i += 3)
    n += contains(means[i], means[i + 1], means[i + 2]);
  return n;
}

std::optional<std::array<double, 6>> CropBox::export_crop() const {
  if (!enabled) return std::nullopt;
  return std::array<double, 6>{min[0], min[1], min[2], max[0], max[1], max[2]};
}

std::vector<Vec3<double>> CropBox::edges() const {
  auto corner = [&](int i) {
    return Vec3<double>{(i & 1) ? max[0] : min[0], (i & 2) ? max[1] : min[1],
                        (i & 4) ? max[2] : min[2]};
  };
  std::vector<Vec3<double>> out;
  for (int i = 0; i < 8; ++i)
    for (int bit = 1; bit < 8; bit <<= 1)
      if (!(i & bit)) {
        out.push_back(corner(i));
        out.push_back(corner(i | bit));
      }
  return out;
}

// [SECTION] curves ------------------------------------------------------------------------------

void CurveBuffers::append(const std::vector<SessionCurvePoint>& points) {
  for (const SessionCurvePoint& p : points) {
    if (!iterations_.empty() && p.iteration <= iterations_.back()) clear();
    iterations_.push_back(p.iteration);
    loss_.push_back(static_cast<float>(p.loss));
    psnr_.push_back(static_cast<float>(p.psnr));
    gaussians_.push_back(static_cast<float>(p.num_gaussians));
    step_ms_.push_back(static_cast<float>(p.step_ms));
  }
}

void CurveBuffers::clear() {
  iterations_.clear();
  loss_.clear();
  psnr_.clear();
  gaussians_.clear();
  step_ms_.clear();
}

std::vector<float> downsample_mean(const std::vector<float>& values, size_t max_points) {
  if (max_points == 0 || values.size() <= max_points) return values;
  std::vector<float> out(max_points);
  const size_t n = values.size();
  for (size_t b = 0; b < max_points; ++b) {
    const size_t begin = b * n / max_points, end = (b + 1) * n / max_points;
    double sum = 0;
    for (size_t i = begin; i < end; ++i) sum += values[i];
    out[b] = static_cast<float>(sum / static_cast<double>(end - begin));
  }
  return out;
}

// [SECTION] log ---------------------------------------------------------------------------------

void LogBuffer::push(SessionLogEntry entry) {
  if (entry.level == LogLevel::Error) ++num_errors_;
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
}

void LogBuffer::append(const std::vector<SessionLogEntry>& entries) {
  for (const SessionLogEntry& e : entries) {
    if (e.sequence <= last_sequence_) continue;
    last_sequence_ = e.sequence;
    push(e);
  }
}

void LogBuffer::add_local(LogLevel level, const std::string& message) { push({0, level, message}); }

// [SECTION] connection retry --------------------------------------------------------------------

void RetryBackoff::failed(double now) {
  ++failures_;
  delay_ = failures_ == 1 ? first_ : std::min(max_, 2 * delay_);
  next_try_ = now + delay_;
}

void RetryBackoff::succeeded() {
  failures_ = 0;
  delay_ = 0;
}

double RetryBackoff::seconds_left(double now) const {
  return failures_ == 0 ? 0.0 : std::max(0.0, next_try_ - now);
}

std::string RetryBackoff::message(double now) const {
  if (failures_ == 0) return "";
  const double left = seconds_left(now);
  if (left <= 0) return "connection lost, retrying now";
  std::ostringstream s;
  s << "connection lost, retrying in " << static_cast<int>(std::ceil(left)) << " s";
  return s.str();
}

// [SECTION] settings before a run ---------------------------------------------------------------

const std::vector<std::string>& priors_preset_names() {
  static const std::vector<std::string> names = {
      "sparse-view defaults", "none (photometric only)", "depth: Pearson (FSGS, 0.05)",
      "depth: ranking (SparseNeRF, 0.5)", "depth: ranking + Pearson + warp (ablation 'all')"};
  return names;
}

void apply_priors_preset(int index, TrainConfig& config) {
  PriorsConfig p = sparse_view_priors_defaults();
  switch (index) {
    case 0:
      break;
    case 1:
      p = PriorsConfig{};
      p.depth_source = DepthSource::None;
      p.depth = DepthLossOptions{};
      p.warp.weight = 0;
      p.self_consistency.weight = 0;
      break;
    case 2:
      p.depth.pearson_weight = 0.05f;
      break;
    case 3:
      p.depth.ranking_weight = 0.5f;
      break;
    case 4:  // docs/ablation/issue12_variants.json "all": +0.11 dB on flower, -0.39 on fern
      p.depth.ranking_weight = 0.5f;
      p.depth.pearson_weight = 0.05f;
      p.warp.weight = 0.1f;
      break;
    default:
      GLIMPSE_FAIL() << "unknown priors preset " << index << " (0 to "
                     << priors_preset_names().size() - 1 << ")";
  }
  config.priors = p;
}

// [SECTION] statistics --------------------------------------------------------------------------

FrameTimeSummary summarize_frame_times(std::vector<double> ms) {
  FrameTimeSummary s;
  s.frames = ms.size();
  if (ms.empty()) return s;
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean_ms = sum / static_cast<double>(ms.size());
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  s.median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  s.p95_ms = ms[std::min(n - 1, static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1)];
  s.min_ms = ms.front();
  s.max_ms = ms.back();
  return s;
}

double pixel_variance(const Image<uint8_t>& image) {
  if (image.empty()) return 0;
  double sum = 0, sum2 = 0;
  for (uint8_t v : image.vector()) {
    sum += v;
    sum2 += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(image.size());
  const double mean = sum / n;
  return std::max(0.0, sum2 / n - mean * mean);
}

double mean_abs_difference(const Image<uint8_t>& a, const Image<uint8_t>& b) {
  GLIMPSE_CHECK(a.width() == b.width() && a.height() == b.height() && a.channels() == b.channels())
      << "images of different shapes: " << a.width() << "x" << a.height() << "x" << a.channels()
      << " and " << b.width() << "x" << b.height() << "x" << b.channels();
  if (a.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += std::abs(static_cast<int>(a.data()[i]) - static_cast<int>(b.data()[i]));
  return sum / static_cast<double>(a.size());
}

}  // namespace glimpse::viewer
