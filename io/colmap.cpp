// COLMAP reader: model table and projections (after COLMAP's sensor/models.h), binary and text
// cameras/images/points3D parsers, undistortion by remapping, and the 3DGS scene layout.
#include "io/colmap.h"

#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "io/atomic_file.h"
#include "io/image_io.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <numbers>
#include <ostream>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>

namespace glimpse {

namespace {

namespace fs = std::filesystem;
using M = ColmapCameraModel;

// [SECTION] model table
// ----------------------------------------------------------------------------

struct ModelInfo {
  ColmapCameraModel model;
  const char* name;
  int num_params;
  int num_focal;  // 1: f, cx, cy, ...; 2: fx, fy, cx, cy, ...; 0: spherical (no pinhole part)
  bool fisheye;   // equidistant lift theta = atan(r) before the distortion polynomial
  const char* params;
};

// Indexed by the model id.
constexpr ModelInfo kModels[] = {
    {M::kSimplePinhole, "SIMPLE_PINHOLE", 3, 1, false, "f, cx, cy"},
    {M::kPinhole, "PINHOLE", 4, 2, false, "fx, fy, cx, cy"},
    {M::kSimpleRadial, "SIMPLE_RADIAL", 4, 1, false, "f, cx, cy, k"},
    {M::kRadial, "RADIAL", 5, 1, false, "f, cx, cy, k1, k2"},
    {M::kOpenCV, "OPENCV", 8, 2, false, "fx, fy, cx, cy, k1, k2, p1, p2"},
    {M::kOpenCVFisheye, "OPENCV_FISHEYE", 8, 2, true, "fx, fy, cx, cy, k1, k2, k3, k4"},
    {M::kFullOpenCV, "FULL_OPENCV", 12, 2, false, "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, k5, k6"},
    {M::kFov, "FOV", 5, 2, false, "fx, fy, cx, cy, omega"},
    {M::kSimpleRadialFisheye, "SIMPLE_RADIAL_FISHEYE", 4, 1, true, "f, cx, cy, k"},
    {M::kRadialFisheye, "RADIAL_FISHEYE", 5, 1, true, "f, cx, cy, k1, k2"},
    {M::kThinPrismFisheye, "THIN_PRISM_FISHEYE", 12, 2, true,
     "fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, sx1, sy1"},
    {M::kRadTanThinPrismFisheye, "RAD_TAN_THIN_PRISM_FISHEYE", 16, 2, true,
     "fx, fy, cx, cy, k0, k1, k2, k3, k4, k5, p0, p1, s0, s1, s2, s3"},
    {M::kSimpleDivision, "SIMPLE_DIVISION", 4, 1, false, "f, cx, cy, k"},
    {M::kDivision, "DIVISION", 5, 2, false, "fx, fy, cx, cy, k"},
    {M::kSimpleFisheye, "SIMPLE_FISHEYE", 3, 1, true, "f, cx, cy"},
    {M::kFisheye, "FISHEYE", 4, 2, true, "fx, fy, cx, cy"},
    {M::kEucm, "EUCM", 6, 2, false, "fx, fy, cx, cy, alpha, beta"},
    {M::kEquirectangular, "EQUIRECTANGULAR", 2, 0, false, "w, h"},
};
constexpr int kNumModels = static_cast<int>(sizeof(kModels) / sizeof(kModels[0]));

constexpr bool models_in_id_order() {
  for (int i = 0; i < kNumModels; ++i)
    if (static_cast<int>(kModels[i].model) != i) return false;
  return true;
}
static_assert(models_in_id_order(), "kModels must be indexed by the COLMAP model id");

const ModelInfo& model_info(ColmapCameraModel model) {
  const int id = static_cast<int>(model);
  GLIMPSE_CHECK(id >= 0 && id < kNumModels) << "invalid ColmapCameraModel value " << id;
  return kModels[id];
}

std::string known_model_names() {
  std::string names;
  for (const ModelInfo& m : kModels) {
    if (!names.empty()) names += ", ";
    names += std::to_string(static_cast<int>(m.model)) + " " + m.name;
  }
  return names;
}

void check_params(const ColmapCamera& camera) {
  const ModelInfo& info = model_info(camera.model);
  GLIMPSE_CHECK(static_cast<int>(camera.params.size()) == info.num_params)
      << "COLMAP camera " << camera.id << ": model " << info.name << " takes " << info.num_params
      << " parameters (" << info.params << "), got " << camera.params.size();
}

// [SECTION] binary reading
// -------------------------------------------------------------------------

// Little-endian reads from a stream with exact sizes. Knows the bytes left when the stream can
// seek, so that a corrupt count fails before a huge allocation.
class BinaryReader {
 public:
  BinaryReader(std::istream& in, const std::string& what) : in_(in), what_(what) {
    GLIMPSE_CHECK(in.good()) << what << ": cannot read the file";
    const std::streampos start = in.tellg();
    if (start != std::streampos(-1) && in.seekg(0, std::ios::end)) {
      const std::streampos end = in.tellg();
      in.seekg(start);
      if (end != std::streampos(-1) && in.good()) size_ = static_cast<int64_t>(end - start);
    }
    in.clear();
    if (size_ >= 0) in.seekg(start);
  }

  // Names the record being read in error messages ("image 3 of 23").
  void set_record(const char* kind, uint64_t index, uint64_t count) {
    kind_ = kind, index_ = index, count_ = count;
  }

  template <typename T>
  T read(const char* field) {
    unsigned char bytes[sizeof(T)];
    read_bytes(bytes, sizeof(T), field);
    if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(T));
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }

  void read_bytes(void* dst, size_t n, const char* field) {
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in_.gcount()) != n) fail_truncated(field, n);
    offset_ += n;
  }

  std::string read_cstring(const char* field) {
    std::string s;
    for (;;) {
      const int c = in_.get();
      if (c == std::char_traits<char>::eof()) fail_truncated(field, 1);
      ++offset_;
      if (c == '\0') return s;
      s.push_back(static_cast<char>(c));
    }
  }

  // A count read from the file must leave room for `count` records of at least `min_bytes`.
  void check_count(uint64_t count, uint64_t min_bytes, const char* field) {
    if (size_ < 0 || min_bytes == 0) return;
    const uint64_t left = static_cast<uint64_t>(size_) - offset_;
    GLIMPSE_CHECK(count <= left / min_bytes)
        << what_ << ": truncated or corrupt file: " << field << " is " << count << context()
        << " but only " << left << " bytes remain (" << min_bytes << " or more needed for each)";
  }

  // The file must end after the last record.
  void expect_end() {
    if (size_ >= 0) {
      GLIMPSE_CHECK(static_cast<int64_t>(offset_) == size_)
          << what_ << ": " << (size_ - static_cast<int64_t>(offset_))
          << " unexpected bytes after the last record (byte " << offset_ << " of " << size_
          << "; corrupt file or wrong format)";
    } else {
      GLIMPSE_CHECK(in_.peek() == std::char_traits<char>::eof())
          << what_ << ": unexpected bytes after the last record (byte " << offset_
          << "; corrupt file or wrong format)";
    }
  }

  uint64_t offset() const { return offset_; }

 private:
  std::string context() const {
    if (kind_ == nullptr) return {};
    return " (" + std::string(kind_) + " " + std::to_string(index_ + 1) + " of " +
           std::to_string(count_) + ")";
  }

  [[noreturn]] void fail_truncated(const char* field, size_t n) {
    {
      GLIMPSE_FAIL() << what_ << ": file is truncated: reading " << field << context() << " needs "
                     << n << " bytes at byte " << offset_ << ", but the file ends"
                     << (size_ >= 0 ? " at byte " + std::to_string(size_) : std::string());
    }
    std::abort();  // unreachable: GLIMPSE_FAIL throws
  }

  std::istream& in_;
  std::string what_;
  uint64_t offset_ = 0;
  int64_t size_ = -1;  // bytes from the start position to the end, -1 when unknown
  const char* kind_ = nullptr;
  uint64_t index_ = 0, count_ = 0;
};

double load_f64(const unsigned char* p) {
  unsigned char b[8];
  std::memcpy(b, p, 8);
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + 8);
  double v;
  std::memcpy(&v, b, 8);
  return v;
}

template <typename T>
T load_uint(const unsigned char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(p[i]) << (8 * i);
  return v;
}

int checked_size(uint64_t v, const char* which, const std::string& what, uint32_t camera_id) {
  GLIMPSE_CHECK(v > 0 && v <= static_cast<uint64_t>(std::numeric_limits<int>::max()))
      << what << ": camera " << camera_id << " has " << which << " " << v
      << " (must be a positive image size)";
  return static_cast<int>(v);
}

void check_finite_params(const ColmapCamera& camera, const std::string& where) {
  for (size_t k = 0; k < camera.params.size(); ++k) {
    GLIMPSE_CHECK(std::isfinite(camera.params[k]))
        << where << ": camera " << camera.id << " (" << colmap_model_name(camera.model)
        << ") parameter " << k << " is " << camera.params[k]
        << " (parameters: " << colmap_model_params_info(camera.model) << ")";
  }
}

// [SECTION] text reading
// ---------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > b) tokens.push_back(s.substr(b, i - b));
  }
  return tokens;
}

// Lines of a text file with their numbers, for "<file> line <n>: ..." messages.
class TextLines {
 public:
  TextLines(std::istream& in, const std::string& what) : in_(in), what_(what) {
    GLIMPSE_CHECK(in.good()) << what << ": cannot read the file";
  }
  // The next line that is neither empty nor a '#' comment, trimmed.
  bool next_data_line(std::string_view* line) {
    while (next_line(line)) {
      if (!line->empty() && (*line)[0] != '#') return true;
    }
    return false;
  }
  // The next line, trimmed (possibly empty).
  bool next_line(std::string_view* line) {
    if (!std::getline(in_, buffer_)) return false;
    ++number_;
    *line = trim(buffer_);
    return true;
  }
  std::string where() const { return what_ + " line " + std::to_string(number_); }

 private:
  std::istream& in_;
  std::string what_;
  std::string buffer_;
  size_t number_ = 0;
};

double parse_double(std::string_view token, const std::string& where, const char* field) {
  if (!token.empty() && token[0] == '+') token.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  GLIMPSE_CHECK(ec == std::errc() && end == token.data() + token.size())
      << where << ": " << field << " '" << token << "' is not a number";
  return v;
}

template <typename T>
T parse_integer(std::string_view token, const std::string& where, const char* field) {
  if (!token.empty() && token[0] == '+') token.remove_prefix(1);
  T v = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  GLIMPSE_CHECK(ec == std::errc() && end == token.data() + token.size())
      << where << ": " << field << " '" << token << "' is not an integer in range";
  return v;
}

// [SECTION] projection
// -----------------------------------------------------------------------------

// Equidistant lift of COLMAP's fisheye models: (u, v) * atan(r) / r.
void fisheye_from_normal(double u, double v, double* uu, double* vv) {
  *uu = u, *vv = v;
  const double r = std::sqrt(u * u + v * v);
  if (r > std::numeric_limits<double>::epsilon()) {
    const double s = std::atan(r) / r;
    *uu *= s, *vv *= s;
  }
}

// Normalised (u, v) on the z = 1 plane -> distorted normalised coordinates (before focal and
// principal point), one case per model as in COLMAP's ImgFromCam + Distortion.
bool distort(ColmapCameraModel model, const double* k, double u, double v, double* xd, double* yd) {
  switch (model) {
    case M::kSimplePinhole:
    case M::kPinhole:
      *xd = u, *yd = v;
      return true;
    case M::kSimpleRadial: {
      const double radial = k[0] * (u * u + v * v);
      *xd = u + u * radial, *yd = v + v * radial;
      return true;
    }
    case M::kRadial: {
      const double r2 = u * u + v * v;
      const double radial = k[0] * r2 + k[1] * r2 * r2;
      *xd = u + u * radial, *yd = v + v * radial;
      return true;
    }
    case M::kOpenCV: {
      const double u2 = u * u, v2 = v * v, uv = u * v, r2 = u2 + v2;
      const double radial = k[0] * r2 + k[1] * r2 * r2;
      *xd = u + u * radial + 2 * k[2] * uv + k[3] * (r2 + 2 * u2);
      *yd = v + v * radial + 2 * k[3] * uv + k[2] * (r2 + 2 * v2);
      return true;
    }
    case M::kFullOpenCV: {
      const double u2 = u * u, v2 = v * v, uv = u * v, r2 = u2 + v2, r4 = r2 * r2, r6 = r4 * r2;
      const double radial =
          (1 + k[0] * r2 + k[1] * r4 + k[4] * r6) / (1 + k[5] * r2 + k[6] * r4 + k[7] * r6);
      *xd = u * radial + 2 * k[2] * uv + k[3] * (r2 + 2 * u2);
      *yd = v * radial + 2 * k[3] * uv + k[2] * (r2 + 2 * v2);
      return true;
    }
    case M::kFov: {
      // Devernay & Faugeras: r_d = atan(2 r tan(omega / 2)) / omega, with COLMAP's series
      // expansions near omega = 0 and r = 0.
      const double omega = k[0], omega2 = omega * omega, r2 = u * u + v * v;
      constexpr double kEpsilon = 1e-4;
      double factor;
      if (omega2 < kEpsilon) {
        factor = (omega2 * r2) / 3 - omega2 / 12 + 1;
      } else if (r2 < kEpsilon) {
        const double t = std::tan(omega / 2);
        factor = (-2 * t * (4 * r2 * t * t - 3)) / (3 * omega);
      } else {
        const double r = std::sqrt(r2);
        factor = std::atan(r * 2 * std::tan(omega / 2)) / (r * omega);
      }
      *xd = u * factor, *yd = v * factor;
      return true;
    }
    case M::kSimpleDivision:
    case M::kDivision: {
      // Fitzgibbon's division model: x_d / (1 + k |x_d|^2) = x, solved for x_d.
      const double rho2 = u * u + v * v;
      const double disc2 = 1 - 4 * rho2 * k[0];
      if (disc2 < 0) return false;
      const double r = 2 / (1 + std::sqrt(disc2));
      *xd = r * u, *yd = r * v;
      return true;
    }
    case M::kEucm: {
      const double alpha = k[0], beta = k[1];
      const double rho2 = beta * (u * u + v * v) + 1;
      if (rho2 < 0) return false;
      const double den = alpha * std::sqrt(rho2) + (1 - alpha);
      if (den < std::numeric_limits<double>::epsilon()) return false;
      *xd = u / den, *yd = v / den;
      return true;
    }
    default:
      break;
  }

  // Fisheye models: distortion polynomials of the lifted (uu, vv), |(uu, vv)| = theta.
  double uu, vv;
  fisheye_from_normal(u, v, &uu, &vv);
  const double t2 = uu * uu + vv * vv;
  switch (model) {
    case M::kSimpleFisheye:
    case M::kFisheye:
      *xd = uu, *yd = vv;
      return true;
    case M::kSimpleRadialFisheye: {
      const double radial = k[0] * t2;
      *xd = uu + uu * radial, *yd = vv + vv * radial;
      return true;
    }
    case M::kRadialFisheye: {
      const double radial = k[0] * t2 + k[1] * t2 * t2;
      *xd = uu + uu * radial, *yd = vv + vv * radial;
      return true;
    }
    case M::kOpenCVFisheye: {
      const double t4 = t2 * t2;
      const double radial = k[0] * t2 + k[1] * t4 + k[2] * t4 * t2 + k[3] * t4 * t4;
      *xd = uu + uu * radial, *yd = vv + vv * radial;
      return true;
    }
    case M::kThinPrismFisheye: {
      // k1, k2, p1, p2, k3, k4, sx1, sy1
      const double u2 = uu * uu, v2 = vv * vv, uv = uu * vv, r2 = t2, r4 = r2 * r2;
      const double radial = k[0] * r2 + k[1] * r4 + k[4] * r4 * r2 + k[5] * r4 * r4;
      *xd = uu + uu * radial + 2 * k[2] * uv + k[3] * (r2 + 2 * u2) + k[6] * r2;
      *yd = vv + vv * radial + 2 * k[3] * uv + k[2] * (r2 + 2 * v2) + k[7] * r2;
      return true;
    }
    case M::kRadTanThinPrismFisheye: {
      // k0..k5 (radial in theta), p0, p1 (tangential), s0..s3 (thin prism): Aria Fisheye624.
      double radial = 1, power = 1;
      for (int i = 0; i < 6; ++i) {
        power *= t2;
        radial += k[i] * power;
      }
      const double x = radial * uu, y = radial * vv;
      const double x2 = x * x, y2 = y * y, xy = x * y, r2 = x2 + y2, r4 = r2 * r2;
      const double p0 = k[6], p1 = k[7];
      *xd = x + 2 * p1 * xy + p0 * (r2 + 2 * x2) + k[8] * r2 + k[9] * r4;
      *yd = y + 2 * p0 * xy + p1 * (r2 + 2 * y2) + k[10] * r2 + k[11] * r4;
      return true;
    }
    default:
      GLIMPSE_FAIL() << "COLMAP model " << model_info(model).name << " has no perspective "
                     << "projection";
  }
  return false;
}

}  // namespace

// [SECTION] camera models
// --------------------------------------------------------------------------

const std::vector<ColmapCameraModel>& colmap_camera_models() {
  static const std::vector<ColmapCameraModel> models = [] {
    std::vector<ColmapCameraModel> m;
    for (const ModelInfo& info : kModels) m.push_back(info.model);
    return m;
  }();
  return models;
}

const char* colmap_model_name(ColmapCameraModel model) { return model_info(model).name; }
int colmap_model_num_params(ColmapCameraModel model) { return model_info(model).num_params; }
const char* colmap_model_params_info(ColmapCameraModel model) { return model_info(model).params; }

ColmapCameraModel colmap_model_from_id(int id, const std::string& what) {
  GLIMPSE_CHECK(id >= 0 && id < kNumModels) << what << ": unknown COLMAP camera model id " << id
                                            << " (known: " << known_model_names() << ")";
  return kModels[id].model;
}

ColmapCameraModel colmap_model_from_name(const std::string& name, const std::string& what) {
  for (const ModelInfo& m : kModels)
    if (name == m.name) return m.model;
  GLIMPSE_FAIL() << what << ": unknown COLMAP camera model '" << name
                 << "' (known: " << known_model_names() << ")";
  return M::kPinhole;  // unreachable
}

bool colmap_is_pinhole(const ColmapCamera& camera) {
  const ModelInfo& info = model_info(camera.model);
  if (info.num_focal == 0 || info.fisheye) return false;
  check_params(camera);
  if (camera.model == M::kEucm) return camera.params[4] == 0.0;  // alpha = 0: plain pinhole
  for (int k = info.num_focal + 2; k < info.num_params; ++k)
    if (camera.params[static_cast<size_t>(k)] != 0.0) return false;
  return true;
}

Camera colmap_pinhole_camera(const ColmapCamera& camera) {
  const ModelInfo& info = model_info(camera.model);
  check_params(camera);
  GLIMPSE_CHECK(info.num_focal > 0) << "COLMAP camera " << camera.id << " is " << info.name
                                    << ", a spherical model with no pinhole equivalent";
  const double* p = camera.params.data();
  Camera c;
  c.width = camera.width;
  c.height = camera.height;
  c.fx = p[0];
  c.fy = info.num_focal == 1 ? p[0] : p[1];
  c.cx = p[info.num_focal];
  c.cy = p[info.num_focal + 1];
  return c;
}

ColmapCamera scaled_colmap_camera(const ColmapCamera& camera, int width, int height) {
  const ModelInfo& info = model_info(camera.model);
  check_params(camera);
  GLIMPSE_CHECK(camera.width > 0 && camera.height > 0 && width > 0 && height > 0)
      << "COLMAP camera " << camera.id << ": cannot rescale " << camera.width << "x"
      << camera.height << " to " << width << "x" << height;
  const double sx = static_cast<double>(width) / camera.width;
  const double sy = static_cast<double>(height) / camera.height;
  ColmapCamera c = camera;
  c.width = width;
  c.height = height;
  if (info.num_focal == 0) {
    c.params[0] *= sx;
    c.params[1] *= sy;
  } else {
    if (info.num_focal == 1) {
      c.params[0] *= 0.5 * (sx + sy);
    } else {
      c.params[0] *= sx;
      c.params[1] *= sy;
    }
    c.params[static_cast<size_t>(info.num_focal)] *= sx;
    c.params[static_cast<size_t>(info.num_focal) + 1] *= sy;
  }
  return c;
}

bool colmap_img_from_cam(const ColmapCamera& camera, const Vec3<double>& p_in_cam,
                         Vec2<double>* pixel) {
  const ModelInfo& info = model_info(camera.model);
  check_params(camera);
  const double* p = camera.params.data();
  if (info.num_focal == 0) {  // equirectangular: azimuth from +z, elevation up (-y)
    const double horizontal = std::sqrt(p_in_cam.x * p_in_cam.x + p_in_cam.z * p_in_cam.z);
    if (horizontal + std::abs(p_in_cam.y) < std::numeric_limits<double>::epsilon()) return false;
    const double theta = std::atan2(p_in_cam.x, p_in_cam.z);
    const double phi = std::atan2(-p_in_cam.y, horizontal);
    pixel->x = (theta / (2 * std::numbers::pi) + 0.5) * p[0];
    pixel->y = (0.5 - phi / std::numbers::pi) * p[1];
    return true;
  }
  if (p_in_cam.z < std::numeric_limits<double>::epsilon()) return false;
  const double u = p_in_cam.x / p_in_cam.z, v = p_in_cam.y / p_in_cam.z;
  double xd, yd;
  if (!distort(camera.model, p + info.num_focal + 2, u, v, &xd, &yd)) return false;
  const double fx = p[0], fy = info.num_focal == 1 ? p[0] : p[1];
  pixel->x = fx * xd + p[info.num_focal];
  pixel->y = fy * yd + p[info.num_focal + 1];
  return true;
}

Image<float> undistort_colmap_image(const Image<float>& image, const ColmapCamera& camera) {
  GLIMPSE_CHECK(image.width() == camera.width && image.height() == camera.height)
      << "undistort: image is " << image.width() << "x" << image.height() << " but COLMAP camera "
      << camera.id << " is " << camera.width << "x" << camera.height
      << " (rescale it with scaled_colmap_camera first)";
  GLIMPSE_CHECK(image.channels() >= 1 && image.channels() <= 4)
      << "undistort: images with 1 to 4 channels, got " << image.channels();
  if (colmap_is_pinhole(camera)) return image;
  const Camera pinhole = colmap_pinhole_camera(camera);
  const int w = image.width(), h = image.height(), c = image.channels();

  // map(x, y) = source pixel position in OpenCV's convention (pixel centres on integers).
  cv::Mat map_x(h, w, CV_32FC1), map_y(h, w, CV_32FC1);
  std::vector<uint8_t> inside(static_cast<size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y) {
    float* mx = map_x.ptr<float>(y);
    float* my = map_y.ptr<float>(y);
    const double v = (y + 0.5 - pinhole.cy) / pinhole.fy;
    for (int x = 0; x < w; ++x) {
      const double u = (x + 0.5 - pinhole.cx) / pinhole.fx;
      Vec2<double> src;
      const bool ok = colmap_img_from_cam(camera, {u, v, 1.0}, &src) && std::isfinite(src.x) &&
                      std::isfinite(src.y) && src.x >= 0 && src.x <= w && src.y >= 0 && src.y <= h;
      inside[static_cast<size_t>(y) * w + x] = ok ? 1 : 0;
      mx[x] = ok ? static_cast<float>(src.x - 0.5) : 0.f;
      my[x] = ok ? static_cast<float>(src.y - 0.5) : 0.f;
    }
  }
  // Replicate the border for samples within the image's outer half pixel; rays that leave the
  // source image are set to 0 below.
  const cv::Mat src(h, w, CV_32FC(c), const_cast<float*>(image.data()));
  Image<float> out(w, h, c);
  cv::Mat dst(h, w, CV_32FC(c), out.data());
  cv::remap(src, dst, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  GLIMPSE_CHECK(dst.data == reinterpret_cast<uchar*>(out.data())) << "cv::remap reallocated";
  for (size_t i = 0; i < inside.size(); ++i)
    if (!inside[i]) std::fill_n(out.data() + i * c, c, 0.f);
  return out;
}

void check_colmap_distortion(const ColmapCamera& camera, const std::string& what) {
  if (colmap_is_pinhole(camera) || model_info(camera.model).num_focal == 0) return;
  const Camera pinhole = colmap_pinhole_camera(camera);
  const int w = camera.width, h = camera.height;
  std::ostringstream params;
  for (size_t i = 0; i < camera.params.size(); ++i) params << (i ? ", " : "") << camera.params[i];
  const std::string model =
      std::string(colmap_model_name(camera.model)) + " (" + params.str() + ")";
  auto source_of = [&](double x, double y, Vec2<double>& src) {
    const double u = (x - pinhole.cx) / pinhole.fx, v = (y - pinhole.cy) / pinhole.fy;
    return colmap_img_from_cam(camera, {u, v, 1.0}, &src) && std::isfinite(src.x) &&
           std::isfinite(src.y);
  };
  // The share of the frame that lands inside the photograph, on a 33 x 33 grid of pixels.
  constexpr int kGrid = 33;
  int inside = 0;
  for (int j = 0; j < kGrid; ++j)
    for (int i = 0; i < kGrid; ++i) {
      Vec2<double> src;
      if (source_of((i + 0.5) * w / kGrid, (j + 0.5) * h / kGrid, src) && src.x >= 0 &&
          src.x <= w && src.y >= 0 && src.y <= h)
        ++inside;
    }
  GLIMPSE_CHECK(2 * inside >= kGrid * kGrid)
      << what << ": the distortion of camera " << model << " maps "
      << 100 - 100 * inside / (kGrid * kGrid)
      << "% of the image outside itself: the parameters are not a lens distortion of this "
         "image (wrong units or values?)";
  // No fold: along rays from the principal point to the corners and edge midpoints, the distorted
  // distance from the principal point keeps growing.
  const double corners[8][2] = {{0, 0},       {1.0 * w, 0},       {0, 1.0 * h}, {1.0 * w, 1.0 * h},
                                {0.5 * w, 0}, {0.5 * w, 1.0 * h}, {0, 0.5 * h}, {1.0 * w, 0.5 * h}};
  for (const auto& corner : corners) {
    double previous = 0;
    constexpr int kSteps = 64;
    for (int s = 1; s <= kSteps; ++s) {
      const double t = static_cast<double>(s) / kSteps;
      const double x = pinhole.cx + t * (corner[0] - pinhole.cx);
      const double y = pinhole.cy + t * (corner[1] - pinhole.cy);
      Vec2<double> src;
      if (!source_of(x, y, src)) break;  // outside the model's domain: counted above
      const double r = std::hypot(src.x - pinhole.cx, src.y - pinhole.cy);
      GLIMPSE_CHECK(r > previous)
          << what << ": the distortion of camera " << model << " folds the image back on itself "
          << "at pixel (" << x << ", " << y
          << "): its polynomial is used outside its valid range; check the parameters";
      previous = r;
    }
  }
}

// [SECTION] binary files
// ---------------------------------------------------------------------------

std::map<uint32_t, ColmapCamera> read_colmap_cameras_binary(std::istream& in,
                                                            const std::string& what) {
  BinaryReader r(in, what);
  const uint64_t n = r.read<uint64_t>("the number of cameras");
  r.check_count(n, 24, "the number of cameras");
  std::map<uint32_t, ColmapCamera> cameras;
  for (uint64_t i = 0; i < n; ++i) {
    r.set_record("camera", i, n);
    ColmapCamera c;
    c.id = r.read<uint32_t>("camera_id");
    const int32_t model_id = r.read<int32_t>("model_id");
    c.model = colmap_model_from_id(model_id, what + ": camera " + std::to_string(c.id));
    c.width = checked_size(r.read<uint64_t>("width"), "width", what, c.id);
    c.height = checked_size(r.read<uint64_t>("height"), "height", what, c.id);
    c.params.resize(static_cast<size_t>(colmap_model_num_params(c.model)));
    for (double& p : c.params) p = r.read<double>("params");
    check_finite_params(c, what);
    GLIMPSE_CHECK(cameras.emplace(c.id, c).second)
        << what << ": camera id " << c.id << " appears twice";
  }
  r.expect_end();
  return cameras;
}

std::map<uint32_t, ColmapImage> read_colmap_images_binary(std::istream& in,
                                                          const std::string& what) {
  BinaryReader r(in, what);
  const uint64_t n = r.read<uint64_t>("the number of images");
  r.check_count(n, 73, "the number of images");
  std::map<uint32_t, ColmapImage> images;
  std::vector<unsigned char> buffer;
  for (uint64_t i = 0; i < n; ++i) {
    r.set_record("image", i, n);
    ColmapImage im;
    im.id = r.read<uint32_t>("image_id");
    Quat<double>& q = im.cam_from_world_rotation;
    q.w = r.read<double>("qw");
    q.x = r.read<double>("qx");
    q.y = r.read<double>("qy");
    q.z = r.read<double>("qz");
    im.cam_from_world_translation.x = r.read<double>("tx");
    im.cam_from_world_translation.y = r.read<double>("ty");
    im.cam_from_world_translation.z = r.read<double>("tz");
    im.camera_id = r.read<uint32_t>("camera_id");
    im.name = r.read_cstring("the image name (a NUL-terminated string)");
    GLIMPSE_CHECK(!im.name.empty()) << what << ": image " << im.id << " has an empty name";
    const uint64_t num_points = r.read<uint64_t>("num_points2D");
    r.check_count(num_points, 24, "num_points2D");
    buffer.resize(static_cast<size_t>(num_points) * 24);
    r.read_bytes(buffer.data(), buffer.size(), "points2D (x, y, point3D_id)");
    im.points2D.resize(static_cast<size_t>(num_points));
    im.point3D_ids.resize(static_cast<size_t>(num_points));
    for (size_t j = 0; j < num_points; ++j) {
      const unsigned char* p = buffer.data() + j * 24;
      im.points2D[j] = {load_f64(p), load_f64(p + 8)};
      const uint64_t id = load_uint<uint64_t>(p + 16);
      // COLMAP's invalid id is uint64 max; ids beyond int64 are never assigned.
      im.point3D_ids[j] = id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                              ? -1
                              : static_cast<int64_t>(id);
    }
    const uint32_t id = im.id;
    GLIMPSE_CHECK(images.emplace(id, std::move(im)).second)
        << what << ": image id " << id << " appears twice";
  }
  r.expect_end();
  return images;
}

std::vector<ColmapPoint3D> read_colmap_points3D_binary(std::istream& in, const std::string& what) {
  BinaryReader r(in, what);
  const uint64_t n = r.read<uint64_t>("the number of points");
  r.check_count(n, 51, "the number of points");
  std::vector<ColmapPoint3D> points(static_cast<size_t>(n));
  std::vector<unsigned char> buffer;
  for (uint64_t i = 0; i < n; ++i) {
    r.set_record("point", i, n);
    ColmapPoint3D& p = points[static_cast<size_t>(i)];
    p.id = r.read<uint64_t>("point3D_id");
    p.xyz.x = r.read<double>("x");
    p.xyz.y = r.read<double>("y");
    p.xyz.z = r.read<double>("z");
    r.read_bytes(p.rgb.data(), 3, "r, g, b");
    p.error = r.read<double>("error");
    const uint64_t track_length = r.read<uint64_t>("track_length");
    r.check_count(track_length, 8, "track_length");
    buffer.resize(static_cast<size_t>(track_length) * 8);
    r.read_bytes(buffer.data(), buffer.size(), "track (image_id, point2D_idx)");
    p.track.resize(static_cast<size_t>(track_length));
    for (size_t j = 0; j < track_length; ++j) {
      p.track[j].image_id = load_uint<uint32_t>(buffer.data() + j * 8);
      p.track[j].point2D_idx = load_uint<uint32_t>(buffer.data() + j * 8 + 4);
    }
  }
  r.expect_end();
  return points;
}

// [SECTION] text files
// -----------------------------------------------------------------------------

std::map<uint32_t, ColmapCamera> read_colmap_cameras_text(std::istream& in,
                                                          const std::string& what) {
  TextLines lines(in, what);
  std::map<uint32_t, ColmapCamera> cameras;
  std::string_view line;
  while (lines.next_data_line(&line)) {
    const std::string where = lines.where();
    const std::vector<std::string_view> t = split(line);
    GLIMPSE_CHECK(t.size() >= 4) << where
                                 << ": expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS[], got '"
                                 << line << "'";
    ColmapCamera c;
    c.id = parse_integer<uint32_t>(t[0], where, "CAMERA_ID");
    c.model = colmap_model_from_name(std::string(t[1]), where);
    c.width = checked_size(parse_integer<uint64_t>(t[2], where, "WIDTH"), "width", where, c.id);
    c.height = checked_size(parse_integer<uint64_t>(t[3], where, "HEIGHT"), "height", where, c.id);
    const int expected = colmap_model_num_params(c.model);
    GLIMPSE_CHECK(static_cast<int>(t.size()) - 4 == expected)
        << where << ": camera " << c.id << " has model " << colmap_model_name(c.model)
        << ", which takes " << expected << " parameters (" << colmap_model_params_info(c.model)
        << "), but the line has " << t.size() - 4;
    for (size_t k = 4; k < t.size(); ++k) c.params.push_back(parse_double(t[k], where, "PARAMS"));
    check_finite_params(c, where);
    GLIMPSE_CHECK(cameras.emplace(c.id, c).second)
        << where << ": camera id " << c.id << " appears twice";
  }
  return cameras;
}

std::map<uint32_t, ColmapImage> read_colmap_images_text(std::istream& in, const std::string& what) {
  TextLines lines(in, what);
  std::map<uint32_t, ColmapImage> images;
  std::string_view line;
  while (lines.next_data_line(&line)) {
    const std::string where = lines.where();
    // IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME; the name is the rest of the line.
    std::vector<std::string_view> t = split(line);
    GLIMPSE_CHECK(t.size() >= 10)
        << where << ": expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME, got '" << line << "'";
    ColmapImage im;
    im.id = parse_integer<uint32_t>(t[0], where, "IMAGE_ID");
    im.cam_from_world_rotation = {parse_double(t[1], where, "QW"), parse_double(t[2], where, "QX"),
                                  parse_double(t[3], where, "QY"), parse_double(t[4], where, "QZ")};
    im.cam_from_world_translation = {parse_double(t[5], where, "TX"),
                                     parse_double(t[6], where, "TY"),
                                     parse_double(t[7], where, "TZ")};
    im.camera_id = parse_integer<uint32_t>(t[8], where, "CAMERA_ID");
    im.name = std::string(trim(line.substr(static_cast<size_t>(t[9].data() - line.data()))));

    // POINTS2D[] as (X, Y, POINT3D_ID): the next line, empty when the image has none.
    std::string_view points_line;
    if (lines.next_line(&points_line)) {
      const std::string points_where = lines.where();
      t = split(points_line);
      GLIMPSE_CHECK(t.size() % 3 == 0)
          << points_where << ": the POINTS2D line of image " << im.id << " ('" << im.name
          << "') must hold X Y POINT3D_ID triples, but has " << t.size() << " values";
      for (size_t k = 0; k < t.size(); k += 3) {
        im.points2D.push_back(
            {parse_double(t[k], points_where, "X"), parse_double(t[k + 1], points_where, "Y")});
        const int64_t id = parse_integer<int64_t>(t[k + 2], points_where, "POINT3D_ID");
        GLIMPSE_CHECK(id >= -1) << points_where << ": POINT3D_ID " << id
                                << " (use -1 for a keypoint without a 3D point)";
        im.point3D_ids.push_back(id);
      }
    }
    const uint32_t id = im.id;
    GLIMPSE_CHECK(images.emplace(id, std::move(im)).second)
        << where << ": image id " << id << " appears twice";
  }
  return images;
}

std::vector<ColmapPoint3D> read_colmap_points3D_text(std::istream& in, const std::string& what) {
  TextLines lines(in, what);
  std::vector<ColmapPoint3D> points;
  std::string_view line;
  while (lines.next_data_line(&line)) {
    const std::string where = lines.where();
    const std::vector<std::string_view> t = split(line);
    GLIMPSE_CHECK(t.size() >= 8 && (t.size() - 8) % 2 == 0)
        << where << ": expected POINT3D_ID X Y Z R G B ERROR then IMAGE_ID POINT2D_IDX pairs, got "
        << t.size() << " values";
    ColmapPoint3D p;
    p.id = parse_integer<uint64_t>(t[0], where, "POINT3D_ID");
    p.xyz = {parse_double(t[1], where, "X"), parse_double(t[2], where, "Y"),
             parse_double(t[3], where, "Z")};
    for (int c = 0; c < 3; ++c) {
      const int v = parse_integer<int>(t[4 + c], where, "R G B");
      GLIMPSE_CHECK(v >= 0 && v <= 255) << where << ": colour value " << v << " is not in 0..255";
      p.rgb[c] = static_cast<uint8_t>(v);
    }
    p.error = parse_double(t[7], where, "ERROR");
    for (size_t k = 8; k < t.size(); k += 2) {
      p.track.push_back({parse_integer<uint32_t>(t[k], where, "IMAGE_ID"),
                         parse_integer<uint32_t>(t[k + 1], where, "POINT2D_IDX")});
    }
    points.push_back(std::move(p));
  }
  return points;
}

// [SECTION] model folder
// ---------------------------------------------------------------------------

namespace {

// The model's file for `name` ("images") in the format cameras.* says, e.g. "<dir>/images.bin".
struct ModelFiles {
  bool binary = true;
  std::string cameras, images, points3D;
};

ModelFiles model_files(const std::string& sparse_dir) {
  const fs::path dir(sparse_dir);
  std::error_code ec;
  GLIMPSE_CHECK(fs::is_directory(dir, ec))
      << "COLMAP sparse model folder " << sparse_dir << " does not exist";
  ModelFiles files;
  files.binary = fs::exists(dir / "cameras.bin", ec);
  GLIMPSE_CHECK(files.binary || fs::exists(dir / "cameras.txt", ec))
      << sparse_dir << ": neither cameras.bin nor cameras.txt exists (not a COLMAP sparse model)";
  const std::string ext = files.binary ? ".bin" : ".txt";
  files.cameras = (dir / ("cameras" + ext)).string();
  files.images = (dir / ("images" + ext)).string();
  files.points3D = (dir / ("points3D" + ext)).string();
  return files;
}

std::ifstream open_model_file(const std::string& path, bool binary) {
  std::error_code ec;
  GLIMPSE_CHECK(fs::is_regular_file(path, ec))
      << path << ": file does not exist (a COLMAP sparse model in " << (binary ? "binary" : "text")
      << " format needs cameras, images and points3D" << (binary ? ".bin" : ".txt") << ")";
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.is_open()) << "cannot read " << path;
  return in;
}

double percentile(std::vector<double>& values, double p) {
  const size_t k = static_cast<size_t>(std::llround(p / 100.0 * (values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

ColmapModel read_colmap_model(const std::string& sparse_dir) {
  const ModelFiles files = model_files(sparse_dir);
  ColmapModel model;
  {
    std::ifstream in = open_model_file(files.cameras, files.binary);
    model.cameras = files.binary ? read_colmap_cameras_binary(in, files.cameras)
                                 : read_colmap_cameras_text(in, files.cameras);
  }
  {
    std::ifstream in = open_model_file(files.images, files.binary);
    model.images = files.binary ? read_colmap_images_binary(in, files.images)
                                : read_colmap_images_text(in, files.images);
  }
  {
    std::ifstream in = open_model_file(files.points3D, files.binary);
    model.points3D = files.binary ? read_colmap_points3D_binary(in, files.points3D)
                                  : read_colmap_points3D_text(in, files.points3D);
  }
  for (const auto& [id, image] : model.images) {
    GLIMPSE_CHECK(model.cameras.count(image.camera_id) != 0)
        << files.images << ": image " << id << " ('" << image.name << "') uses camera id "
        << image.camera_id << ", which " << files.cameras << " does not define";
  }
  return model;
}

Camera colmap_view_camera(const ColmapImage& image, const ColmapCamera& camera,
                          const std::string& what) {
  const Quat<double>& q = image.cam_from_world_rotation;
  const Vec3<double>& t = image.cam_from_world_translation;
  GLIMPSE_CHECK(std::isfinite(q.w) && std::isfinite(q.x) && std::isfinite(q.y) &&
                std::isfinite(q.z) && std::isfinite(t.x) && std::isfinite(t.y) &&
                std::isfinite(t.z))
      << what << ": pose is not finite (qw qx qy qz = " << q.w << " " << q.x << " " << q.y << " "
      << q.z << ", tx ty tz = " << t.x << " " << t.y << " " << t.z << ")";
  const double norm = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  GLIMPSE_CHECK(std::abs(norm - 1.0) <= 1e-2)
      << what << ": quaternion qw qx qy qz = " << q.w << " " << q.x << " " << q.y << " " << q.z
      << " has norm " << norm << " (a rotation needs a unit quaternion)";
  Camera c = colmap_pinhole_camera(camera);
  c.rotation = quat_to_rotmat(Quat<double>(q.w / norm, q.x / norm, q.y / norm, q.z / norm));
  c.translation = t;
  return c;
}

// [SECTION] 3DGS scene layout
// ----------------------------------------------------------------------

void ColmapDatasetOptions::check() const {
  GLIMPSE_CHECK(!images.empty()) << "COLMAP options: the image folder name is empty";
  GLIMPSE_CHECK(images_factor >= 1)
      << "COLMAP options: images_factor must be >= 1 (1 reads images/, 2 reads images_2/), got "
      << images_factor;
  GLIMPSE_CHECK(resolution_scale > 0 && resolution_scale <= 1)
      << "COLMAP options: resolution_scale must be in (0, 1], got " << resolution_scale;
  GLIMPSE_CHECK(near_percentile >= 0 && near_percentile < far_percentile && far_percentile <= 100)
      << "COLMAP options: need 0 <= near_percentile < far_percentile <= 100, got "
      << near_percentile << " and " << far_percentile;
}

ColmapPoints colmap_points(const ColmapModel& model) {
  ColmapPoints points;
  points.xyz.reserve(model.points3D.size() * 3);
  points.rgb.reserve(model.points3D.size() * 3);
  for (const ColmapPoint3D& p : model.points3D) {
    for (int i = 0; i < 3; ++i) {
      points.xyz.push_back(static_cast<float>(p.xyz[i]));
      points.rgb.push_back(static_cast<float>(p.rgb[static_cast<size_t>(i)]) / 255.f);
    }
  }
  return points;
}

std::string find_colmap_sparse_dir(const std::string& root, const std::string& sparse_dir) {
  std::error_code ec;
  if (!sparse_dir.empty()) {
    const fs::path p =
        fs::path(sparse_dir).is_absolute() ? fs::path(sparse_dir) : fs::path(root) / sparse_dir;
    GLIMPSE_CHECK(fs::is_directory(p, ec))
        << "COLMAP sparse model folder " << p.string() << " does not exist";
    return p.string();
  }
  for (const fs::path& p : {fs::path(root) / "sparse" / "0", fs::path(root) / "sparse"}) {
    if (fs::exists(p / "cameras.bin", ec) || fs::exists(p / "cameras.txt", ec)) return p.string();
  }
  GLIMPSE_FAIL() << root << ": no COLMAP sparse model found (looked for cameras.bin or "
                 << "cameras.txt in " << (fs::path(root) / "sparse" / "0").string() << " and "
                 << (fs::path(root) / "sparse").string() << ")";
  return {};  // unreachable
}

Dataset read_colmap_dataset(const std::string& root, const ColmapDatasetOptions& options,
                            ColmapPoints* points) {
  options.check();
  std::error_code ec;
  GLIMPSE_CHECK(fs::is_directory(root, ec)) << "COLMAP scene folder " << root << " does not exist";
  const std::string sparse = find_colmap_sparse_dir(root, options.sparse_dir);
  const ModelFiles files = model_files(sparse);
  const ColmapModel model = read_colmap_model(sparse);

  const std::string folder_name =
      options.images_factor == 1 ? options.images
                                 : options.images + "_" + std::to_string(options.images_factor);
  const fs::path folder = fs::path(root) / folder_name;
  GLIMPSE_CHECK(fs::is_directory(folder, ec))
      << "COLMAP image folder " << folder.string() << " does not exist"
      << (options.images_factor == 1
              ? std::string()
              : " (images_factor " + std::to_string(options.images_factor) + " reads " +
                    folder_name + "/: downsample " + options.images + "/ into it or use 1)");
  GLIMPSE_CHECK(!model.images.empty()) << files.images << ": the model has no registered images";

  // Views in image name order; every image, camera and pose checked before any pixel is read.
  std::vector<const ColmapImage*> order;
  for (const auto& [id, image] : model.images) order.push_back(&image);
  std::sort(order.begin(), order.end(),
            [](const ColmapImage* a, const ColmapImage* b) { return a->name < b->name; });
  const size_t n = order.size();
  std::vector<std::string> whats(n);
  for (size_t i = 0; i < n; ++i) {
    const ColmapImage& image = *order[i];
    whats[i] = files.images + ": image " + std::to_string(image.id) + " ('" + image.name + "')";
    GLIMPSE_CHECK(i == 0 || order[i - 1]->name != image.name)
        << files.images << ": image name '" << image.name << "' appears twice";
    const auto cam = model.cameras.find(image.camera_id);
    GLIMPSE_CHECK(cam != model.cameras.end()) << whats[i] << " uses camera id " << image.camera_id
                                              << ", which " << files.cameras << " does not define";
    GLIMPSE_CHECK(model_info(cam->second.model).num_focal > 0)
        << whats[i] << " uses camera " << image.camera_id << " of model "
        << colmap_model_name(cam->second.model)
        << ", a spherical camera that cannot be converted to a pinhole view";
    colmap_view_camera(image, cam->second, whats[i]);  // throws for a NaN or non-unit pose
    const fs::path path = folder / image.name;
    GLIMPSE_CHECK(fs::is_regular_file(path, ec))
        << "image '" << image.name << "' is listed in " << files.images << " but " << path.string()
        << " does not exist";
  }

  Dataset dataset;
  dataset.root = root;
  dataset.format = "colmap";
  dataset.views.resize(n);
  for (size_t i = 0; i < n; ++i) {
    dataset.views[i].name = order[i]->name;
    dataset.views[i].image_path = (folder / order[i]->name).string();
  }

  const auto load_view = [&](size_t i) {
    const ColmapImage& image = *order[i];
    const ColmapCamera& camera = model.cameras.at(image.camera_id);
    View& view = dataset.views[i];
    int width = 0, height = 0;
    if (options.load_images) {
      view.image = read_image_rgb(view.image_path);
      width = view.image.width();
      height = view.image.height();
    } else {
      width = std::max(1, static_cast<int>(std::lround(static_cast<double>(camera.width) /
                                                       options.images_factor)));
      height = std::max(1, static_cast<int>(std::lround(static_cast<double>(camera.height) /
                                                        options.images_factor)));
    }
    // The image may be downsampled (images_N/), never cropped or rotated.
    const double scale = static_cast<double>(width) / camera.width;
    GLIMPSE_CHECK(std::abs(height - camera.height * scale) <= 1.0 + 1e-9)
        << view.image_path << ": image is " << width << "x" << height << " but camera " << camera.id
        << " in " << files.cameras << " is " << camera.width << "x" << camera.height
        << " (not the same aspect ratio: rotated or cropped image?)";
    const ColmapCamera scaled = scaled_colmap_camera(camera, width, height);
    check_colmap_distortion(scaled, whats[i]);
    if (options.load_images && !colmap_is_pinhole(scaled))
      view.image = undistort_colmap_image(view.image, scaled);
    view.camera = colmap_view_camera(image, scaled, whats[i]);
    if (options.resolution_scale != 1.0) {
      const int w = std::max(1, static_cast<int>(std::lround(width * options.resolution_scale)));
      const int h = std::max(1, static_cast<int>(std::lround(height * options.resolution_scale)));
      if (options.load_images) view.image = resize_image_area(view.image, w, h);
      view.camera = scaled_camera(view.camera, static_cast<double>(w) / width,
                                  static_cast<double>(h) / height, w, h);
    }
    check_camera(view.camera, whats[i]);
  };
  ThreadPool::global().parallel_for(static_cast<int64_t>(n), 1,
                                    [&](int64_t begin, int64_t end, int /*thread*/) {
                                      for (int64_t i = begin; i < end; ++i)
                                        load_view(static_cast<size_t>(i));
                                    });

  // Depth bounds from the points each view observes (or sees, when there are no observations).
  std::unordered_map<uint64_t, size_t> point_index;
  point_index.reserve(model.points3D.size());
  for (size_t k = 0; k < model.points3D.size(); ++k) point_index[model.points3D[k].id] = k;
  bool any_observation = false;
  for (const ColmapImage* image : order) {
    for (const int64_t id : image->point3D_ids)
      if (id >= 0 && point_index.count(static_cast<uint64_t>(id))) any_observation = true;
  }
  std::vector<double> depths;
  bool have_bounds = false;
  for (size_t i = 0; i < n; ++i) {
    const Camera& c = dataset.views[i].camera;
    depths.clear();
    if (any_observation) {
      for (const int64_t id : order[i]->point3D_ids) {
        if (id < 0) continue;
        const auto it = point_index.find(static_cast<uint64_t>(id));
        if (it == point_index.end()) continue;
        const double z = c.cam_from_world(model.points3D[it->second].xyz).z;
        if (z > 0) depths.push_back(z);
      }
    } else {
      for (const ColmapPoint3D& p : model.points3D) {
        const Vec3<double> q = c.cam_from_world(p.xyz);
        if (q.z <= 0) continue;
        const double x = c.fx * q.x / q.z + c.cx, y = c.fy * q.y / q.z + c.cy;
        if (x >= 0 && x <= c.width && y >= 0 && y <= c.height) depths.push_back(q.z);
      }
    }
    if (depths.empty()) continue;
    const double near = percentile(depths, options.near_percentile);
    const double far = percentile(depths, options.far_percentile);
    dataset.near_depth = have_bounds ? std::min(dataset.near_depth, near) : near;
    dataset.far_depth = have_bounds ? std::max(dataset.far_depth, far) : far;
    have_bounds = true;
  }
  if (!have_bounds) {
    GLIMPSE_LOG(Warning) << "COLMAP: " << files.points3D
                         << " gives no point in front of any view: depth bounds unknown (0)";
  }

  if (points != nullptr) *points = colmap_points(model);

  size_t undistorted = 0;
  for (const ColmapImage* image : order)
    if (!colmap_is_pinhole(model.cameras.at(image->camera_id))) ++undistorted;
  GLIMPSE_LOG(Info) << "COLMAP: " << n << " views from " << folder.string() << " ("
                    << model.cameras.size() << " cameras, " << undistorted
                    << " views undistorted to pinhole), " << model.points3D.size()
                    << " points from " << sparse << ", depth " << dataset.near_depth << " .. "
                    << dataset.far_depth;
  return dataset;
}

// [SECTION] text writers
// -----------------------------------------------------------------------------

namespace {

// Shortest decimal form that reads back as the same double (std::to_chars round trip).
std::string format_double(double v) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  GLIMPSE_CHECK(ec == std::errc()) << "cannot format " << v;
  return std::string(buffer, end);
}

void check_finite_value(double v, const std::string& where, const char* field) {
  GLIMPSE_CHECK(std::isfinite(v)) << where << ": " << field << " is not finite (" << v << ")";
}

void check_image_name(const std::string& name, const std::string& where) {
  GLIMPSE_CHECK(!name.empty()) << where << ": the image name is empty";
  GLIMPSE_CHECK(name.find_first_of("\r\n") == std::string::npos)
      << where << ": the image name '" << name << "' holds a line break";
  GLIMPSE_CHECK(!std::isspace(static_cast<unsigned char>(name.front())) &&
                !std::isspace(static_cast<unsigned char>(name.back())))
      << where << ": the image name '" << name
      << "' starts or ends with white space (COLMAP's text format trims it)";
}

}  // namespace

void write_colmap_cameras_text(std::ostream& out, const std::map<uint32_t, ColmapCamera>& cameras,
                               const std::string& what) {
  out << "# Camera list with one line of data per camera:\n"
      << "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
      << "# Number of cameras: " << cameras.size() << "\n";
  for (const auto& [id, c] : cameras) {
    const std::string where = what + ": camera " + std::to_string(id);
    GLIMPSE_CHECK(c.id == id) << where << " is stored under id " << id << " but has id " << c.id;
    GLIMPSE_CHECK(c.width > 0 && c.height > 0)
        << where << ": size " << c.width << "x" << c.height << " is not positive";
    GLIMPSE_CHECK(static_cast<int>(c.params.size()) == colmap_model_num_params(c.model))
        << where << ": model " << colmap_model_name(c.model) << " takes "
        << colmap_model_num_params(c.model) << " parameters (" << colmap_model_params_info(c.model)
        << "), got " << c.params.size();
    out << id << ' ' << colmap_model_name(c.model) << ' ' << c.width << ' ' << c.height;
    for (const double v : c.params) {
      check_finite_value(v, where, "a parameter");
      out << ' ' << format_double(v);
    }
    out << '\n';
  }
}

void write_colmap_images_text(std::ostream& out, const std::map<uint32_t, ColmapImage>& images,
                              const std::string& what) {
  size_t observations = 0;
  for (const auto& [id, im] : images)
    for (const int64_t p : im.point3D_ids) observations += p >= 0 ? 1 : 0;
  out << "# Image list with two lines of data per image:\n"
      << "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
      << "#   POINTS2D[] as (X, Y, POINT3D_ID)\n"
      << "# Number of images: " << images.size() << ", mean observations per image: "
      << (images.empty() ? 0.0 : static_cast<double>(observations) / images.size()) << "\n";
  for (const auto& [id, im] : images) {
    const std::string where = what + ": image " + std::to_string(id);
    GLIMPSE_CHECK(im.id == id) << where << " is stored under id " << id << " but has id " << im.id;
    check_image_name(im.name, where);
    GLIMPSE_CHECK(im.points2D.size() == im.point3D_ids.size())
        << where << " ('" << im.name << "') has " << im.points2D.size() << " keypoints but "
        << im.point3D_ids.size() << " point3D ids";
    const Quat<double>& q = im.cam_from_world_rotation;
    const Vec3<double>& t = im.cam_from_world_translation;
    out << id;
    for (const double v : {q.w, q.x, q.y, q.z, t.x, t.y, t.z}) {
      check_finite_value(v, where, "the pose");
      out << ' ' << format_double(v);
    }
    out << ' ' << im.camera_id << ' ' << im.name << '\n';
    for (size_t k = 0; k < im.points2D.size(); ++k) {
      check_finite_value(im.points2D[k].x, where, "a keypoint");
      check_finite_value(im.points2D[k].y, where, "a keypoint");
      GLIMPSE_CHECK(im.point3D_ids[k] >= -1)
          << where << ": point3D id " << im.point3D_ids[k] << " (-1 marks none)";
      out << (k == 0 ? "" : " ") << format_double(im.points2D[k].x) << ' '
          << format_double(im.points2D[k].y) << ' ' << im.point3D_ids[k];
    }
    out << '\n';
  }
}

void write_colmap_points3D_text(std::ostream& out, const std::vector<ColmapPoint3D>& points,
                                const std::string& what) {
  size_t track = 0;
  for (const ColmapPoint3D& p : points) track += p.track.size();
  out << "# 3D point list with one line of data per point:\n"
      << "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
      << "# Number of points: " << points.size() << ", mean track length: "
      << (points.empty() ? 0.0 : static_cast<double>(track) / points.size()) << "\n";
  for (const ColmapPoint3D& p : points) {
    const std::string where = what + ": point " + std::to_string(p.id);
    out << p.id;
    for (int i = 0; i < 3; ++i) {
      check_finite_value(p.xyz[i], where, "the position");
      out << ' ' << format_double(p.xyz[i]);
    }
    for (const uint8_t c : p.rgb) out << ' ' << static_cast<int>(c);
    check_finite_value(p.error, where, "the error");
    out << ' ' << format_double(p.error);
    for (const ColmapTrackElement& e : p.track) out << ' ' << e.image_id << ' ' << e.point2D_idx;
    out << '\n';
  }
}

void write_colmap_model_text(const std::string& sparse_dir, const ColmapModel& model) {
  std::error_code ec;
  fs::create_directories(sparse_dir, ec);
  GLIMPSE_CHECK(fs::is_directory(sparse_dir, ec))
      << "cannot create the COLMAP model folder " << sparse_dir;
  const fs::path dir(sparse_dir);
  const std::string cameras = (dir / "cameras.txt").string();
  const std::string images = (dir / "images.txt").string();
  const std::string points = (dir / "points3D.txt").string();
  write_file_atomically(
      cameras, [&](std::ostream& out) { write_colmap_cameras_text(out, model.cameras, cameras); });
  write_file_atomically(
      images, [&](std::ostream& out) { write_colmap_images_text(out, model.images, images); });
  write_file_atomically(
      points, [&](std::ostream& out) { write_colmap_points3D_text(out, model.points3D, points); });
}

ColmapModel colmap_model_from_views(const std::vector<View>& views,
                                    const std::vector<std::string>& names) {
  GLIMPSE_CHECK(views.size() == names.size())
      << "COLMAP model: " << views.size() << " views but " << names.size() << " image names";
  ColmapModel model;
  std::set<std::string> seen;
  for (size_t k = 0; k < views.size(); ++k) {
    const std::string where =
        "COLMAP model: view " + std::to_string(k) + " ('" + views[k].name + "')";
    const Camera& c = views[k].camera;
    check_camera(c, where);
    check_image_name(names[k], where);
    GLIMPSE_CHECK(seen.insert(names[k]).second)
        << where << ": image name '" << names[k] << "' is used twice";
    const uint32_t id = static_cast<uint32_t>(k + 1);
    ColmapCamera camera;
    camera.id = id;
    camera.model = ColmapCameraModel::kPinhole;
    camera.width = c.width;
    camera.height = c.height;
    camera.params = {c.fx, c.fy, c.cx, c.cy};
    model.cameras.emplace(id, camera);
    ColmapImage image;
    image.id = id;
    image.name = names[k];
    image.camera_id = id;
    image.cam_from_world_rotation = rotmat_to_quat(c.rotation);
    image.cam_from_world_translation = c.translation;
    model.images.emplace(id, std::move(image));
  }
  return model;
}

}  // namespace glimpse
