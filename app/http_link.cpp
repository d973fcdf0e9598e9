// The HTTP link (see http_link.h): the server's routes, the JSON and binary encodings, and the
// remote SessionClient. cpp-httplib does the HTTP; everything here is validation and encoding.
#include "app/http_link.h"

#include "core/check.h"
#include "renderer/kernels/sh.h"

#include <climits>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <utility>

namespace glimpse {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The binary encodings copy floats and integers as they lie in memory.
static_assert(std::endian::native == std::endian::little, "the link's encodings are little-endian");

namespace {

// ------------------------------------------------------------------------------------------------
// Small helpers

double finite_or_nan(const Json& j) { return j.is_null() ? kSessionNaN : j.get<double>(); }

// 8-bit quantisation of a value in [0, 1] (NaN gives 0).
uint8_t to_u8(double v) {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return static_cast<uint8_t>(std::lround(v * 255.0));
}

template <typename T>
void put(char* at, T value) {
  std::memcpy(at, &value, sizeof(T));
}
template <typename T>
T get(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

LogLevel log_level_from_name(const std::string& name) {
  for (LogLevel level :
       {LogLevel::Debug, LogLevel::Info, LogLevel::Warning, LogLevel::Error, LogLevel::Off})
    if (name == log_level_name(level)) return level;
  GLIMPSE_FAIL() << "unknown log level '" << name << "'";
  return LogLevel::Info;
}

// ------------------------------------------------------------------------------------------------
// Strict field readers for request bodies and replies: each error names the field.

int64_t json_int(const Json& j, const std::string& field, int64_t lo, int64_t hi) {
  GLIMPSE_CHECK(j.is_number_integer()) << field << ": expected an integer, got " << j.dump();
  if (j.is_number_unsigned()) {
    GLIMPSE_CHECK(j.get<uint64_t>() <= static_cast<uint64_t>(hi))
        << field << ": " << j.dump() << " is out of range [" << lo << ", " << hi << "]";
  }
  const int64_t v = j.get<int64_t>();
  GLIMPSE_CHECK(v >= lo && v <= hi)
      << field << ": " << v << " is out of range [" << lo << ", " << hi << "]";
  return v;
}

double json_number(const Json& j, const std::string& field) {
  GLIMPSE_CHECK(j.is_number()) << field << ": expected a number, got " << j.dump();
  const double v = j.get<double>();
  GLIMPSE_CHECK(std::isfinite(v)) << field << ": expected a finite number";
  return v;
}

std::string json_string(const Json& j, const std::string& field, size_t max_length) {
  GLIMPSE_CHECK(j.is_string()) << field << ": expected a string, got " << j.dump();
  const std::string& s = j.get_ref<const std::string&>();
  GLIMPSE_CHECK(s.size() <= max_length) << field << ": longer than " << max_length << " bytes";
  return s;
}

// Refuses members outside `known` (a typo must not pass silently).
void check_known_fields(const Json& j, std::initializer_list<const char*> known,
                        const std::string& what) {
  GLIMPSE_CHECK(j.is_object()) << what << ": expected a JSON object, got " << j.dump();
  for (const auto& item : j.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || item.key() == k;
    if (ok) continue;
    std::string names;
    for (const char* k : known) names += std::string(names.empty() ? "" : ", ") + k;
    GLIMPSE_FAIL() << what << ": unknown field '" << item.key() << "' (known: " << names << ")";
  }
}

Json camera_to_json(const Camera& c) {
  Json rotation = Json::array(), translation = Json::array();
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) rotation.push_back(c.rotation.m[i][k]);
    translation.push_back(c.translation[i]);
  }
  return {{"width", c.width},     {"height", c.height},
          {"fx", c.fx},           {"fy", c.fy},
          {"cx", c.cx},           {"cy", c.cy},
          {"rotation", rotation}, {"translation", translation}};
}

// `max_side` bounds width and height (a render request's size is the server's memory).
Camera camera_from_json(const Json& j, const std::string& what, int max_side) {
  check_known_fields(j, {"width", "height", "fx", "fy", "cx", "cy", "rotation", "translation"},
                     what);
  auto field = [&](const char* name) -> const Json& {
    GLIMPSE_CHECK(j.contains(name)) << what << "." << name << ": missing";
    return j.at(name);
  };
  Camera c;
  c.width = static_cast<int>(json_int(field("width"), what + ".width", 1, max_side));
  c.height = static_cast<int>(json_int(field("height"), what + ".height", 1, max_side));
  c.fx = json_number(field("fx"), what + ".fx");
  c.fy = json_number(field("fy"), what + ".fy");
  c.cx = json_number(field("cx"), what + ".cx");
  c.cy = json_number(field("cy"), what + ".cy");
  const Json& r = field("rotation");
  const Json& t = field("translation");
  GLIMPSE_CHECK(r.is_array() && r.size() == 9) << what << ".rotation: expected 9 numbers";
  GLIMPSE_CHECK(t.is_array() && t.size() == 3) << what << ".translation: expected 3 numbers";
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) c.rotation.m[i][k] = json_number(r[3 * i + k], what + ".rotation");
    c.translation[i] = json_number(t[i], what + ".translation");
  }
  return c;
}

// ------------------------------------------------------------------------------------------------
// Session state as JSON (both directions)

Json status_to_json(const SessionStatus& s) {
  return {{"phase", session_phase_name(s.phase)},
          {"phase_detail", s.phase_detail},
          {"phase_fraction", s.phase_fraction},
          {"paused", s.paused},
          {"iteration", s.iteration},
          {"total_iterations", s.total_iterations},
          {"num_gaussians", s.num_gaussians},
          {"its_per_second", s.its_per_second},
          {"loss", s.loss},
          {"psnr", s.psnr},
          {"eta_seconds", s.eta_seconds},
          {"step_ms", s.step_ms},
          {"phase_ms", s.phase_ms},
          {"test_psnr", s.test_psnr},
          {"error", s.error},
          {"dataset", s.dataset},
          {"output", s.output},
          {"device", s.device},
          {"snapshot_version", s.snapshot_version},
          {"log_sequence", s.log_sequence}};
}

SessionStatus status_from_json(const Json& j) {
  SessionStatus s;
  s.phase = session_phase_from_name(j.at("phase").get<std::string>());
  s.phase_detail = j.at("phase_detail").get<std::string>();
  s.phase_fraction = finite_or_nan(j.at("phase_fraction"));
  s.paused = j.at("paused").get<bool>();
  s.iteration = j.at("iteration").get<int>();
  s.total_iterations = j.at("total_iterations").get<int>();
  s.num_gaussians = j.at("num_gaussians").get<int64_t>();
  s.its_per_second = finite_or_nan(j.at("its_per_second"));
  s.loss = finite_or_nan(j.at("loss"));
  s.psnr = finite_or_nan(j.at("psnr"));
  s.eta_seconds = finite_or_nan(j.at("eta_seconds"));
  s.step_ms = finite_or_nan(j.at("step_ms"));
  const Json& phase_ms = j.at("phase_ms");
  GLIMPSE_CHECK(phase_ms.is_array() && phase_ms.size() == s.phase_ms.size())
      << "phase_ms: expected " << s.phase_ms.size() << " numbers";
  for (size_t i = 0; i < s.phase_ms.size(); ++i) s.phase_ms[i] = finite_or_nan(phase_ms[i]);
  s.test_psnr = finite_or_nan(j.at("test_psnr"));
  s.error = j.at("error").get<std::string>();
  s.dataset = j.at("dataset").get<std::string>();
  s.output = j.at("output").get<std::string>();
  s.device = j.at("device").get<std::string>();
  s.snapshot_version = j.at("snapshot_version").get<uint64_t>();
  s.log_sequence = j.at("log_sequence").get<uint64_t>();
  return s;
}

Json curve_to_json(const std::vector<SessionCurvePoint>& points) {
  Json it = Json::array(), loss = Json::array(), psnr = Json::array(), n = Json::array(),
       ms = Json::array();
  for (const SessionCurvePoint& p : points) {
    it.push_back(p.iteration), loss.push_back(p.loss), psnr.push_back(p.psnr);
    n.push_back(p.num_gaussians), ms.push_back(p.step_ms);
  }
  return {{"iteration", it}, {"loss", loss}, {"psnr", psnr}, {"num_gaussians", n}, {"step_ms", ms}};
}

std::vector<SessionCurvePoint> curve_from_json(const Json& j) {
  const Json &it = j.at("iteration"), &loss = j.at("loss"), &psnr = j.at("psnr"),
             &n = j.at("num_gaussians"), &ms = j.at("step_ms");
  GLIMPSE_CHECK(loss.size() == it.size() && psnr.size() == it.size() && n.size() == it.size() &&
                ms.size() == it.size())
      << "curve columns of different lengths";
  std::vector<SessionCurvePoint> points(it.size());
  for (size_t i = 0; i < points.size(); ++i)
    points[i] = {it[i].get<int>(), finite_or_nan(loss[i]), finite_or_nan(psnr[i]),
                 n[i].get<int64_t>(), finite_or_nan(ms[i])};
  return points;
}

Json tests_to_json(const std::vector<SessionTestPoint>& points) {
  Json it = Json::array(), psnr = Json::array(), ssim = Json::array();
  for (const SessionTestPoint& p : points)
    it.push_back(p.iteration), psnr.push_back(p.psnr), ssim.push_back(p.ssim);
  return {{"iteration", it}, {"psnr", psnr}, {"ssim", ssim}};
}

std::vector<SessionTestPoint> tests_from_json(const Json& j) {
  const Json &it = j.at("iteration"), &psnr = j.at("psnr"), &ssim = j.at("ssim");
  GLIMPSE_CHECK(psnr.size() == it.size() && ssim.size() == it.size())
      << "test columns of different lengths";
  std::vector<SessionTestPoint> points(it.size());
  for (size_t i = 0; i < points.size(); ++i)
    points[i] = {it[i].get<int>(), finite_or_nan(psnr[i]), finite_or_nan(ssim[i])};
  return points;
}

Json log_to_json(const std::vector<SessionLogEntry>& entries) {
  Json list = Json::array();
  for (const SessionLogEntry& e : entries)
    list.push_back(
        {{"sequence", e.sequence}, {"level", log_level_name(e.level)}, {"message", e.message}});
  return {{"entries", list}};
}

std::vector<SessionLogEntry> log_from_json(const Json& j) {
  std::vector<SessionLogEntry> entries;
  for (const Json& e : j.at("entries"))
    entries.push_back({e.at("sequence").get<uint64_t>(),
                       log_level_from_name(e.at("level").get<std::string>()),
                       e.at("message").get<std::string>()});
  return entries;
}

Json scene_to_json(const SessionScene& scene) {
  Json views = Json::array();
  for (const SessionView& v : scene.views)
    views.push_back({{"index", v.index},
                     {"name", v.name},
                     {"train", v.train},
                     {"test", v.test},
                     {"camera", camera_to_json(v.camera)}});
  return {{"root", scene.root},
          {"format", scene.format},
          {"near_depth", scene.near_depth},
          {"far_depth", scene.far_depth},
          {"views", views}};
}

SessionScene scene_from_json(const Json& j) {
  SessionScene scene;
  scene.root = j.at("root").get<std::string>();
  scene.format = j.at("format").get<std::string>();
  scene.near_depth = finite_or_nan(j.at("near_depth"));
  scene.far_depth = finite_or_nan(j.at("far_depth"));
  for (const Json& v : j.at("views")) {
    SessionView view;
    view.index = v.at("index").get<int>();
    view.name = v.at("name").get<std::string>();
    view.train = v.at("train").get<bool>();
    view.test = v.at("test").get<bool>();
    view.camera = camera_from_json(v.at("camera"), "camera", INT_MAX);
    scene.views.push_back(std::move(view));
  }
  return scene;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Snapshot encoding

std::string encode_link_snapshot(const SplatSnapshot& snapshot) {
  const Gaussians& g = snapshot.gaussians;
  g.check_shapes("snapshot");
  const size_t n = g.size();
  GLIMPSE_CHECK(n <= UINT32_MAX) << "a snapshot of " << n << " Gaussians is too large to send";
  const size_t k = static_cast<size_t>(g.sh_coeffs());
  std::string out(kLinkSnapshotHeaderBytes + n * kLinkSnapshotRecordBytes, '\0');
  char* p = out.data();
  std::memcpy(p, "GLSP", 4);
  put<uint32_t>(p + 4, kLinkSnapshotVersion);
  put<uint64_t>(p + 8, snapshot.version);
  put<int32_t>(p + 16, snapshot.iteration);
  put<uint32_t>(p + 20, static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; ++i) {
    char* r = p + kLinkSnapshotHeaderBytes + i * kLinkSnapshotRecordBytes;
    std::memcpy(r, &g.means[3 * i], 12);
    std::memcpy(r + 12, &g.log_scales[3 * i], 12);
    double q[4], norm2 = 0;
    for (int c = 0; c < 4; ++c) q[c] = g.quats[4 * i + c], norm2 += q[c] * q[c];
    if (!(norm2 > 1e-30) || !std::isfinite(norm2)) q[0] = 1, q[1] = q[2] = q[3] = 0, norm2 = 1;
    const double s = (q[0] < 0 ? -127.0 : 127.0) / std::sqrt(norm2);
    for (int c = 0; c < 4; ++c) put<int8_t>(r + 24 + c, static_cast<int8_t>(std::lround(s * q[c])));
    put<uint8_t>(r + 28, to_u8(1.0 / (1.0 + std::exp(-double(g.opacity_logits[i])))));
    for (int c = 0; c < 3; ++c) put<uint8_t>(r + 29 + c, to_u8(0.5 + kShC0 * g.sh[i * k * 3 + c]));
  }
  return out;
}

SplatSnapshot decode_link_snapshot(std::string_view bytes) {
  GLIMPSE_CHECK(bytes.size() >= kLinkSnapshotHeaderBytes && bytes.substr(0, 4) == "GLSP")
      << "not a Glimpse snapshot (" << bytes.size() << " bytes)";
  const char* p = bytes.data();
  const uint32_t format = get<uint32_t>(p + 4);
  GLIMPSE_CHECK(format == kLinkSnapshotVersion)
      << "snapshot format version " << format << ", this build reads " << kLinkSnapshotVersion;
  SplatSnapshot snapshot;
  snapshot.version = get<uint64_t>(p + 8);
  snapshot.iteration = get<int32_t>(p + 16);
  const size_t n = get<uint32_t>(p + 20);
  GLIMPSE_CHECK(bytes.size() == kLinkSnapshotHeaderBytes + n * kLinkSnapshotRecordBytes)
      << "snapshot of " << n << " Gaussians has " << bytes.size() << " bytes, expected "
      << kLinkSnapshotHeaderBytes + n * kLinkSnapshotRecordBytes;
  Gaussians& g = snapshot.gaussians;
  g.sh_degree = 0;
  g.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const char* r = p + kLinkSnapshotHeaderBytes + i * kLinkSnapshotRecordBytes;
    std::memcpy(&g.means[3 * i], r, 12);
    std::memcpy(&g.log_scales[3 * i], r + 12, 12);
    double q[4], norm2 = 0;
    for (int c = 0; c < 4; ++c) q[c] = get<int8_t>(r + 24 + c), norm2 += q[c] * q[c];
    if (norm2 == 0) q[0] = 1, norm2 = 1;
    for (int c = 0; c < 4; ++c) g.quats[4 * i + c] = static_cast<float>(q[c] / std::sqrt(norm2));
    const double opacity = std::clamp(get<uint8_t>(r + 28) / 255.0, 0.5 / 255.0, 254.5 / 255.0);
    g.opacity_logits[i] = static_cast<float>(std::log(opacity / (1.0 - opacity)));
    for (int c = 0; c < 3; ++c)
      g.sh[3 * i + c] = static_cast<float>((get<uint8_t>(r + 29 + c) / 255.0 - 0.5) / kShC0);
  }
  return snapshot;
}

// ------------------------------------------------------------------------------------------------
// Render encoding

std::string encode_link_render(const ViewRender& render) {
  struct Entry {
    const char* name;
    const Image<float>* image;
    bool colour;
  };
  const Entry entries[] = {{"render", &render.render, true},
                           {"depth", &render.depth, false},
                           {"truth", &render.truth, true},
                           {"error", &render.error, true}};
  Json images = Json::array();
  size_t pixel_bytes = 0;
  for (const Entry& e : entries) {
    if (e.image->empty()) continue;
    const size_t bytes = e.image->size() * (e.colour ? 1 : 4);
    images.push_back({{"name", e.name},
                      {"width", e.image->width()},
                      {"height", e.image->height()},
                      {"channels", e.image->channels()},
                      {"type", e.colour ? "u8" : "f32"},
                      {"bytes", bytes}});
    pixel_bytes += bytes;
  }
  const std::string header = Json{
      {"view_index", render.view_index},
      {"iteration", render.iteration},
      {"psnr", render.psnr},
      {"images", images}}.dump();
  std::string out(4 + header.size() + pixel_bytes, '\0');
  put<uint32_t>(out.data(), static_cast<uint32_t>(header.size()));
  std::memcpy(out.data() + 4, header.data(), header.size());
  char* at = out.data() + 4 + header.size();
  for (const Entry& e : entries) {
    if (e.image->empty()) continue;
    if (e.colour) {
      for (float v : e.image->vector()) put<uint8_t>(at++, to_u8(v));
    } else {
      std::memcpy(at, e.image->data(), e.image->size() * 4);
      at += e.image->size() * 4;
    }
  }
  return out;
}

ViewRender decode_link_render(std::string_view bytes) {
  GLIMPSE_CHECK(bytes.size() >= 4) << "not a Glimpse render (" << bytes.size() << " bytes)";
  const size_t header_bytes = get<uint32_t>(bytes.data());
  GLIMPSE_CHECK(header_bytes <= bytes.size() - 4) << "render header runs past the end";
  ViewRender render;
  size_t at = 4 + header_bytes;
  try {
    const Json header = Json::parse(bytes.substr(4, header_bytes));
    render.view_index = header.at("view_index").get<int>();
    render.iteration = header.at("iteration").get<int>();
    render.psnr = finite_or_nan(header.at("psnr"));
    for (const Json& e : header.at("images")) {
      const std::string name = e.at("name").get<std::string>();
      const std::string type = e.at("type").get<std::string>();
      const int width = e.at("width").get<int>(), height = e.at("height").get<int>(),
                channels = e.at("channels").get<int>();
      GLIMPSE_CHECK(width >= 0 && height >= 0 && channels > 0 && channels <= 4 &&
                    (type == "u8" || type == "f32"))
          << "render image " << name << ": bad shape or type";
      Image<float>* image = name == "render"  ? &render.render
                            : name == "depth" ? &render.depth
                            : name == "truth" ? &render.truth
                            : name == "error" ? &render.error
                                              : nullptr;
      GLIMPSE_CHECK(image != nullptr) << "unknown render image '" << name << "'";
      const size_t values = size_t(width) * size_t(height) * size_t(channels);
      const size_t size = values * (type == "u8" ? 1 : 4);
      GLIMPSE_CHECK(e.at("bytes").get<size_t>() == size && size <= bytes.size() - at)
          << "render image " << name << " does not fit the body";
      *image = Image<float>(width, height, channels);
      if (type == "u8") {
        for (size_t i = 0; i < values; ++i)
          image->data()[i] = static_cast<float>(get<uint8_t>(bytes.data() + at + i) / 255.0);
      } else {
        std::memcpy(image->data(), bytes.data() + at, size);
      }
      at += size;
    }
  } catch (const Json::exception& e) {
    GLIMPSE_FAIL() << "malformed render header (" << e.what() << ")";
  }
  GLIMPSE_CHECK(at == bytes.size()) << "render body has " << bytes.size() - at << " extra bytes";
  return render;
}

// ------------------------------------------------------------------------------------------------
// Options and small pieces

void HttpLinkOptions::check() const {
  GLIMPSE_CHECK(!host.empty()) << "link host: empty";
  GLIMPSE_CHECK(port >= 0 && port <= 65535) << "link port: " << port << " is outside 0..65535";
  GLIMPSE_CHECK(allow_remote || is_loopback_host(host))
      << "link host " << host
      << " is not a loopback address: anyone who can reach it could drive the run; pass "
         "--serve-remote (glimpse train) to serve other machines";
  if (!token.empty()) {
    GLIMPSE_CHECK(token.size() >= 16 && token.size() <= 256)
        << "link token: " << token.size() << " characters, expected 16..256";
    for (char c : token)
      GLIMPSE_CHECK(c > ' ' && c < 127) << "link token: only visible ASCII characters allowed";
  }
  GLIMPSE_CHECK(max_body_bytes >= 1024) << "link max_body_bytes: " << max_body_bytes << " < 1024";
  GLIMPSE_CHECK(max_url_bytes >= 256 && max_url_bytes <= 8192)
      << "link max_url_bytes: " << max_url_bytes << " is outside 256..8192";
  GLIMPSE_CHECK(threads >= 1 && threads <= 256) << "link threads: " << threads << " outside 1..256";
}

HostPort parse_host_port(const std::string& text) {
  const size_t colon = text.rfind(':');
  GLIMPSE_CHECK(colon != std::string::npos)
      << "'" << text << "' is not host:port (e.g. 127.0.0.1:7007)";
  HostPort hp;
  hp.host = text.substr(0, colon);
  const bool bracketed = hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']';
  GLIMPSE_CHECK(bracketed || hp.host.find(':') == std::string::npos)
      << "'" << text << "': write an IPv6 host in brackets, e.g. [::1]:7007";
  if (bracketed) hp.host = hp.host.substr(1, hp.host.size() - 2);
  if (hp.host.empty()) hp.host = "127.0.0.1";
  const std::string port = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
  GLIMPSE_CHECK(!port.empty() && ec == std::errc() && end == port.data() + port.size() &&
                hp.port >= 0 && hp.port <= 65535)
      << "'" << text << "': the port must be a number in 0..65535";
  return hp;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (reinterpret_cast<const unsigned char*>(&v4.s_addr))[0] == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  return false;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Every byte of `a` is compared, against b's or a zero past b's end; the length difference
  // enters the same accumulator, so nothing exits early.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    const unsigned char other = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (static_cast<unsigned char>(a[i]) ^ other);
  }
  return diff == 0;
}

std::string random_link_token() {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int word = 0; word < 4; ++word) {
    const uint32_t bits = device();
    for (int nibble = 0; nibble < 8; ++nibble) token += kHex[(bits >> (4 * nibble)) & 15];
  }
  return token;
}

// ------------------------------------------------------------------------------------------------
// Server

namespace {

// The session refused a request (409): errors it throws, as opposed to the link's own checks
// (glimpse::Error from parsing: 400).
class SessionRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename F>
auto ask(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw SessionRefused(error_message_without_location(e.what()));
  }
}

void send_json(httplib::Response& res, const Json& j, int status = 200) {
  res.status = status;
  // Paths and log lines may hold invalid UTF-8: replace rather than throw.
  res.set_content(j.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, Json{{"error", message}}, status);
}

// Runs a handler body; whatever it throws becomes a JSON error, never an exception in httplib.
void guarded(httplib::Response& res, const std::function<void()>& body) {
  try {
    body();
  } catch (const SessionRefused& e) {
    send_error(res, 409, e.what());
  } catch (const Error& e) {
    send_error(res, 400, error_message_without_location(e.what()));
  } catch (const std::exception& e) {
    send_error(res, 500, std::string("internal error: ") + e.what());
  } catch (...) {
    send_error(res, 500, "internal error");
  }
}

// Query parameter `name` as an integer in [lo, hi]; `fallback` when absent (nullopt: required).
template <typename T>
T query_int(const httplib::Request& req, const char* name, T lo, T hi, std::optional<T> fallback) {
  if (!req.has_param(name)) {
    GLIMPSE_CHECK(fallback.has_value()) << name << ": missing (add ?" << name << "=...)";
    return *fallback;
  }
  const std::string text = req.get_param_value(name);
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  GLIMPSE_CHECK(!text.empty() && ec != std::errc::invalid_argument &&
                end == text.data() + text.size())
      << name << ": '" << text.substr(0, 40) << "' is not an integer";
  GLIMPSE_CHECK(ec != std::errc::result_out_of_range && v >= lo && v <= hi)
      << name << ": " << text.substr(0, 40) << " is out of range [" << lo << ", " << hi << "]";
  return v;
}

Json parse_body(const httplib::Request& req, std::initializer_list<const char*> known) {
  Json j;
  try {
    j = Json::parse(req.body);
  } catch (const Json::parse_error& e) {
    GLIMPSE_FAIL() << "the body is not valid JSON (" << e.what() << ")";
  }
  check_known_fields(j, known, "body");
  return j;
}

// A view index from a request, checked against the scene.
int view_index(const Json& j, const SessionScene& scene) {
  const int64_t index = json_int(j, "view", 0, INT_MAX);
  const size_t count = scene.views.size();
  GLIMPSE_CHECK(static_cast<size_t>(index) < count)
      << "view: " << index << " is out of range (the scene has " << count << " views)";
  return static_cast<int>(index);
}

// A remote export names a plain file: nothing that could leave the exports folder.
std::string export_file_name(const Json& j) {
  const std::string name = json_string(j, "output", 255);
  GLIMPSE_CHECK(!name.empty()) << "output: empty";
  GLIMPSE_CHECK(name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
                name.find("..") == std::string::npos)
      << "output: '" << name
      << "' must be a plain file name (no '/', '\\' or '..'): a remote export is written into the "
         "run's exports/ folder";
  for (char c : name)
    GLIMPSE_CHECK(static_cast<unsigned char>(c) >= 32 && c != 127)
        << "output: control characters are not allowed";
  return name;
}

struct Endpoint {
  const char* path;
  const char* method;
};
constexpr Endpoint kEndpoints[] = {{"/api/status", "GET"},   {"/api/curve", "GET"},
                                   {"/api/tests", "GET"},    {"/api/log", "GET"},
                                   {"/api/scene", "GET"},    {"/api/thumbnail", "GET"},
                                   {"/api/snapshot", "GET"}, {"/api/command", "POST"},
                                   {"/api/render", "POST"},  {"/api/export", "POST"}};

constexpr int kMaxThumbnailSide = 4096;

// httplib writes without MSG_NOSIGNAL: a write to a peer that has just closed the connection (a
// viewer that went away mid-snapshot, a run that stopped) would raise SIGPIPE and end the process.
// Ignored, the failed write is an error instead. A handler someone else installed is kept.
void ignore_sigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

struct HttpLinkServer::Impl {
  Impl(SessionClient& s, HttpLinkOptions o) : session(s), options(std::move(o)) {}

  SessionClient& session;
  HttpLinkOptions options;
  std::string token;
  int port = 0;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::mutex stop_mutex;
  bool stopped = false;

  using Request = httplib::Request;
  using Response = httplib::Response;

  void install_routes();
  httplib::Server::HandlerResponse authorise(const Request& req, Response& res);
  httplib::Server::HandlerResponse explain_error(const Request& req, Response& res);
  void post_export(const Request& req, Response& res);
  void post_render(const Request& req, Response& res);
};

httplib::Server::HandlerResponse HttpLinkServer::Impl::authorise(const Request& req,
                                                                 Response& res) {
  using R = httplib::Server::HandlerResponse;
  if (req.target.size() > options.max_url_bytes) {
    send_error(res, 414,
               "the URL is longer than " + std::to_string(options.max_url_bytes) + " bytes");
    return R::Handled;
  }
  if (req.path.rfind("/api/", 0) != 0) return R::Unhandled;
  const std::string header = req.get_header_value("Authorization");
  static constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"glimpse\"");
    send_error(res, 401,
               "this run needs its token: send 'Authorization: Bearer <token>' with the token "
               "the run printed when it started");
    return R::Handled;
  }
  if (!constant_time_equal(token, std::string_view(header).substr(kBearer.size()))) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"glimpse\", error=\"invalid_token\"");
    send_error(res, 401,
               "unknown or expired token: a restarted run prints a new one; use the token of "
               "the run now serving this address");
    return R::Handled;
  }
  return R::Unhandled;
}

// Errors httplib produced itself (no route, oversized body, unreadable request) get a JSON body;
// a path that exists under another method becomes 405.
httplib::Server::HandlerResponse HttpLinkServer::Impl::explain_error(const Request& req,
                                                                     Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  std::string message;
  if (res.status == 404) {
    message = "no endpoint " + req.path + " (see app/http_link.h)";
    for (const Endpoint& e : kEndpoints) {
      if (req.path != e.path) continue;
      res.status = 405;
      res.set_header("Allow", e.method);
      message = req.path + " takes " + e.method + ", not " + req.method;
    }
  } else if (res.status == 413) {
    message = "the request body is larger than " + std::to_string(options.max_body_bytes) +
              " bytes; nothing was done";
  } else if (res.status == 414) {
    message = "the URL is too long";
  } else if (res.status == 400) {
    message = "malformed HTTP request";
  } else {
    message = "HTTP status " + std::to_string(res.status);
  }
  send_error(res, res.status, message);
  return httplib::Server::HandlerResponse::Handled;
}

void HttpLinkServer::Impl::post_render(const Request& req, Response& res) {
  const Json body = parse_body(req, {"view", "camera"});
  GLIMPSE_CHECK(body.contains("view") || body.contains("camera"))
      << "body: give \"view\" (a dataset view), \"camera\" (a free camera) or both";
  int view = -1;
  Camera camera;
  if (body.contains("view")) {
    const SessionScene scene = ask([&] { return session.scene(); });
    view = view_index(body.at("view"), scene);
    camera = scene.views[view].camera;
  }
  if (body.contains("camera")) {
    camera = camera_from_json(body.at("camera"), "camera", kHttpMaxRenderSide);
    check_camera(camera, "camera");
  }
  const ViewRender render = ask([&] { return session.render(camera, view); });
  res.set_content(encode_link_render(render), "application/x-glimpse-render");
}

void HttpLinkServer::Impl::post_export(const Request& req, Response& res) {
  const Json body = parse_body(req, {"output", "format", "crop"});
  GLIMPSE_CHECK(body.contains("output")) << "output: missing (a file name such as model.ply)";
  SessionExport request;
  const std::string name = export_file_name(body.at("output"));
  if (body.contains("format")) request.format = json_string(body.at("format"), "format", 32);
  if (body.contains("crop")) {
    const Json& crop = body.at("crop");
    GLIMPSE_CHECK(crop.is_array() && crop.size() == 6)
        << "crop: expected [min x, y, z, max x, y, z]";
    std::array<double, 6> box{};
    for (int i = 0; i < 6; ++i) box[i] = json_number(crop[i], "crop");
    for (int i = 0; i < 3; ++i)
      GLIMPSE_CHECK(box[i] <= box[i + 3]) << "crop: min "
                                          << "xyz"[i] << " > max";
    request.crop = box;
  }
  const std::string output = ask([&] { return session.status(); }).output;
  if (output.empty()) throw SessionRefused("the run has no output folder yet: nothing to export");
  const fs::path folder = fs::path(output) / "exports";
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw SessionRefused("cannot create " + folder.string() + ": " + ec.message());
  request.output = (folder / name).string();
  ask([&] { session.export_model(request); });
  send_json(res, Json{{"output", request.output}});
}

void HttpLinkServer::Impl::install_routes() {
  auto get = [this](const char* path, std::function<void(const Request&, Response&)> f) {
    server.Get(path,
               [f](const Request& req, Response& res) { guarded(res, [&] { f(req, res); }); });
  };
  auto post = [this](const char* path, std::function<void(const Request&, Response&)> f) {
    server.Post(path,
                [f](const Request& req, Response& res) { guarded(res, [&] { f(req, res); }); });
  };
  get("/api/status", [this](const Request&, Response& res) {
    send_json(res, status_to_json(ask([&] { return session.status(); })));
  });
  get("/api/curve", [this](const Request& req, Response& res) {
    const int after = query_int<int>(req, "after", -1, INT_MAX, -1);
    send_json(res, curve_to_json(ask([&] { return session.curve(after); })));
  });
  get("/api/tests", [this](const Request&, Response& res) {
    send_json(res, tests_to_json(ask([&] { return session.tests(); })));
  });
  get("/api/log", [this](const Request& req, Response& res) {
    const uint64_t after = query_int<uint64_t>(req, "after", 0, UINT64_MAX, 0);
    send_json(res, log_to_json(ask([&] { return session.log(after); })));
  });
  get("/api/scene", [this](const Request&, Response& res) {
    send_json(res, scene_to_json(ask([&] { return session.scene(); })));
  });
  get("/api/thumbnail", [this](const Request& req, Response& res) {
    const Json index(query_int<int64_t>(req, "view", 0, INT_MAX, std::nullopt));
    const int view = view_index(index, ask([&] { return session.scene(); }));
    const int side = query_int<int>(req, "max_side", 1, kMaxThumbnailSide, 256);
    const Image<uint8_t> image = ask([&] { return session.thumbnail(view, side); });
    res.set_header("X-Glimpse-Width", std::to_string(image.width()));
    res.set_header("X-Glimpse-Height", std::to_string(image.height()));
    res.set_header("X-Glimpse-Channels", std::to_string(image.channels()));
    res.set_content(reinterpret_cast<const char*>(image.data()), image.size(),
                    "application/octet-stream");
  });
  get("/api/snapshot", [this](const Request& req, Response& res) {
    const uint64_t newer_than = query_int<uint64_t>(req, "newer_than", 0, UINT64_MAX, 0);
    const auto snapshot = ask([&] { return session.snapshot(newer_than); });
    if (snapshot == nullptr) {
      res.status = 204;
      return;
    }
    res.body = encode_link_snapshot(*snapshot);  // moved in: snapshots are megabytes
    res.set_header("Content-Type", "application/x-glimpse-snapshot");
  });
  post("/api/command", [this](const Request& req, Response& res) {
    const Json body = parse_body(req, {"command"});
    GLIMPSE_CHECK(body.contains("command")) << "command: missing";
    const std::string name = json_string(body.at("command"), "command", 64);
    SessionCommand command;
    try {
      command = session_command_from_name(name);
    } catch (const Error& e) {
      GLIMPSE_FAIL() << "command: " << error_message_without_location(e.what());
    }
    ask([&] { session.command(command); });
    send_json(res, Json{{"ok", true}});
  });
  post("/api/render", [this](const Request& req, Response& res) { post_render(req, res); });
  post("/api/export", [this](const Request& req, Response& res) { post_export(req, res); });

  server.set_pre_routing_handler(
      [this](const Request& req, Response& res) { return authorise(req, res); });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const Request& req, Response& res) { return explain_error(req, res); }));
  server.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });
}

HttpLinkServer::HttpLinkServer(SessionClient& session, HttpLinkOptions options)
    : impl_(std::make_unique<Impl>(session, std::move(options))) {
  Impl& m = *impl_;
  m.options.check();
  ignore_sigpipe();
  m.token = m.options.token.empty() ? random_link_token() : m.options.token;
  m.install_routes();
  const int threads = m.options.threads;
  m.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  m.server.set_payload_max_length(m.options.max_body_bytes);
  m.server.set_keep_alive_timeout(2);
  m.server.set_keep_alive_max_count(20);
  m.server.set_write_timeout(10);
  m.server.set_tcp_nodelay(true);  // replies go out in two writes: no Nagle + delayed-ACK stall
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second run bind the
  // same port silently.
  m.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const std::string where = m.options.host + ":" + std::to_string(m.options.port);
  if (m.options.port == 0) {
    m.port = m.server.bind_to_any_port(m.options.host);
    GLIMPSE_CHECK(m.port > 0) << "cannot listen on " << where
                              << " (is the host an address of this machine?)";
  } else {
    GLIMPSE_CHECK(m.server.bind_to_port(m.options.host, m.options.port))
        << "cannot listen on " << where
        << " (the port is in use, or the host is not an address of this machine)";
    m.port = m.options.port;
  }
  m.thread = std::thread([&m] {
    m.server.listen_after_bind();
    m.listen_returned = true;
  });
  // httplib's stop() only works once listening has begun: wait for it, so stop() never misses.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!m.server.is_running() && !m.listen_returned &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!m.server.is_running()) {
    stop();
    GLIMPSE_FAIL() << "the link on " << where << " did not start";
  }
}

HttpLinkServer::~HttpLinkServer() { stop(); }

int HttpLinkServer::port() const { return impl_->port; }
const std::string& HttpLinkServer::token() const { return impl_->token; }

std::string HttpLinkServer::url() const {
  const std::string& host = impl_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(impl_->port);
}

void HttpLinkServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

// ------------------------------------------------------------------------------------------------
// Remote session

namespace {

// "http://host[:port]" or "https://host[:port]", host a name, an IPv4 address or [IPv6].
void check_link_url(const std::string& url) {
  const size_t scheme = url.find("://");
  const std::string rest = scheme == std::string::npos ? "" : url.substr(scheme + 3);
  bool ok = (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) && !rest.empty() &&
            rest.find_first_of("/?#@ ") == std::string::npos;
  if (ok && rest.find(':') != std::string::npos) {
    try {
      parse_host_port(rest);
    } catch (const Error&) {
      ok = false;
    }
  }
  GLIMPSE_CHECK(ok) << "'" << url << "' is not a link address (e.g. http://127.0.0.1:7007)";
}

}  // namespace

struct RemoteSession::Impl {
  std::string url, token;
  RemoteTimeouts timeouts;
  std::mutex mutex;
  std::vector<std::unique_ptr<httplib::Client>> idle;  // kept-alive connections

  struct Reply {
    int status = 0;
    std::string body;
    httplib::Headers headers;
  };

  std::unique_ptr<httplib::Client> connect() const {
    auto client = std::make_unique<httplib::Client>(url);
    client->set_connection_timeout(std::chrono::duration<double>(timeouts.connect_seconds));
    client->set_write_timeout(std::chrono::duration<double>(timeouts.read_seconds));
    client->set_bearer_token_auth(token);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // requests go out in two writes: no Nagle + delayed-ACK stall
    return client;
  }

  // A kept-alive connection (reused = true), or a new one.
  std::unique_ptr<httplib::Client> lease(bool& reused) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      reused = !idle.empty();
      if (reused) {
        auto client = std::move(idle.back());
        idle.pop_back();
        return client;
      }
    }
    return connect();
  }

  void give_back(std::unique_ptr<httplib::Client> client) {
    std::lock_guard<std::mutex> lock(mutex);
    if (idle.size() < 2) idle.push_back(std::move(client));
  }

  [[noreturn]] void lost(httplib::Error error, double read_seconds) const {
    std::string why;
    switch (error) {
      case httplib::Error::Connection:
        why = "cannot connect (is the run still going?)";
        break;
      case httplib::Error::ConnectionTimeout:
        why = "connecting timed out";
        break;
      case httplib::Error::Read:
        why = "no reply (the run stopped, or took longer than " +
              std::to_string(static_cast<int>(read_seconds)) + " s)";
        break;
      case httplib::Error::Write:
        why = "the request could not be sent";
        break;
      default:
        why = httplib::to_string(error);
    }
    GLIMPSE_FAIL() << "lost the connection to " << url << ": " << why;
    std::abort();  // unreachable: GLIMPSE_FAIL throws
  }

  // Throws for a non-2xx reply with the server's error text.
  void check_status(const Reply& reply) const {
    if (reply.status >= 200 && reply.status < 300) return;
    std::string text;
    try {
      text = Json::parse(reply.body).at("error").get<std::string>();
    } catch (const Json::exception&) {
      text = "HTTP " + std::to_string(reply.status) + " " + reply.body.substr(0, 200);
    }
    if (reply.status == 401) GLIMPSE_FAIL() << "the run refused the token: " << text;
    GLIMPSE_FAIL() << text;
  }

  // GET: idempotent, so a failure on a kept-alive connection (which the server may have closed
  // meanwhile) is retried once on a fresh one.
  Reply get(const std::string& target) {
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      auto client = attempt == 0 ? lease(reused) : connect();
      client->set_read_timeout(std::chrono::duration<double>(timeouts.read_seconds));
      httplib::Result result = client->Get(target.c_str());
      if (!result) {
        if (reused) continue;
        lost(result.error(), timeouts.read_seconds);
      }
      Reply reply{result->status, std::move(result->body), result->headers};
      give_back(std::move(client));
      check_status(reply);
      return reply;
    }
  }

  // POST: not retried (a command must not run twice), so always on a fresh connection, closed
  // after the reply (an idle kept-alive connection holds one of the server's worker threads).
  Reply post(const std::string& target, const Json& body, double read_seconds) {
    auto client = connect();
    client->set_keep_alive(false);
    client->set_read_timeout(std::chrono::duration<double>(read_seconds));
    httplib::Result result =
        client->Post(target.c_str(), body.dump(-1, ' ', false, Json::error_handler_t::replace),
                     "application/json");
    if (!result) lost(result.error(), read_seconds);
    Reply reply{result->status, std::move(result->body), result->headers};
    check_status(reply);
    return reply;
  }

  // Decodes a reply, turning a malformed one into an error naming the endpoint.
  template <typename F>
  auto decode(const char* what, F&& f) const -> decltype(f()) {
    try {
      return f();
    } catch (const Json::exception& e) {
      GLIMPSE_FAIL() << url << " sent a malformed reply to " << what << " (" << e.what() << ")";
    } catch (const Error& e) {
      GLIMPSE_FAIL() << url << " sent a malformed reply to " << what << " ("
                     << error_message_without_location(e.what()) << ")";
    }
    std::abort();  // unreachable
  }

  Json get_json(const char* what, const std::string& target) {
    Reply reply = get(target);
    return decode(what, [&] { return Json::parse(reply.body); });
  }
};

RemoteSession::RemoteSession(std::string url, std::string token, RemoteTimeouts timeouts)
    : impl_(std::make_unique<Impl>()) {
  if (url.find("://") == std::string::npos) url = "http://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  impl_->url = std::move(url);
  impl_->token = std::move(token);
  impl_->timeouts = timeouts;
  check_link_url(impl_->url);
  ignore_sigpipe();
}

RemoteSession::~RemoteSession() = default;

const std::string& RemoteSession::url() const { return impl_->url; }

std::string RemoteSession::describe() { return "remote: " + impl_->url; }

SessionStatus RemoteSession::status() {
  const Json j = impl_->get_json("/api/status", "/api/status");
  return impl_->decode("/api/status", [&] { return status_from_json(j); });
}

std::vector<SessionCurvePoint> RemoteSession::curve(int after_iteration) {
  const Json j =
      impl_->get_json("/api/curve", "/api/curve?after=" + std::to_string(after_iteration));
  return impl_->decode("/api/curve", [&] { return curve_from_json(j); });
}

std::vector<SessionTestPoint> RemoteSession::tests() {
  const Json j = impl_->get_json("/api/tests", "/api/tests");
  return impl_->decode("/api/tests", [&] { return tests_from_json(j); });
}

std::vector<SessionLogEntry> RemoteSession::log(uint64_t after_sequence) {
  const Json j = impl_->get_json("/api/log", "/api/log?after=" + std::to_string(after_sequence));
  return impl_->decode("/api/log", [&] { return log_from_json(j); });
}

SessionScene RemoteSession::scene() {
  const Json j = impl_->get_json("/api/scene", "/api/scene");
  return impl_->decode("/api/scene", [&] { return scene_from_json(j); });
}

Image<uint8_t> RemoteSession::thumbnail(int view_index, int max_side) {
  const Impl::Reply reply = impl_->get("/api/thumbnail?view=" + std::to_string(view_index) +
                                       "&max_side=" + std::to_string(max_side));
  return impl_->decode("/api/thumbnail", [&] {
    auto header = [&](const char* name) {
      const auto it = reply.headers.find(name);
      GLIMPSE_CHECK(it != reply.headers.end()) << "no " << name << " header";
      return std::stoi(it->second);
    };
    const int width = header("X-Glimpse-Width"), height = header("X-Glimpse-Height"),
              channels = header("X-Glimpse-Channels");
    if (channels == 0 && reply.body.empty()) return Image<uint8_t>();  // the session had none
    Image<uint8_t> image(width, height, channels);
    GLIMPSE_CHECK(reply.body.size() == image.size())
        << reply.body.size() << " bytes for a " << width << "x" << height << "x" << channels
        << " image";
    std::memcpy(image.data(), reply.body.data(), image.size());
    return image;
  });
}

std::shared_ptr<const SplatSnapshot> RemoteSession::snapshot(uint64_t newer_than) {
  const Impl::Reply reply = impl_->get("/api/snapshot?newer_than=" + std::to_string(newer_than));
  if (reply.status == 204) return nullptr;
  return impl_->decode("/api/snapshot", [&] {
    return std::make_shared<const SplatSnapshot>(decode_link_snapshot(reply.body));
  });
}

void RemoteSession::command(SessionCommand command) {
  impl_->post("/api/command", Json{{"command", session_command_name(command)}},
              impl_->timeouts.read_seconds);
}

ViewRender RemoteSession::render(const Camera& camera, int view_index) {
  Json body{{"camera", camera_to_json(camera)}};
  if (view_index >= 0) body["view"] = view_index;
  const Impl::Reply reply = impl_->post("/api/render", body, impl_->timeouts.read_seconds);
  return impl_->decode("/api/render", [&] { return decode_link_render(reply.body); });
}

void RemoteSession::export_model(const SessionExport& request) {
  Json body{{"output", request.output}};
  if (!request.format.empty()) body["format"] = request.format;
  if (request.crop) body["crop"] = *request.crop;
  impl_->post("/api/export", body, impl_->timeouts.export_seconds);
}

}  // namespace glimpse
