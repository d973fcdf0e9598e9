// Readers and writers for antimatter15's .splat, Niantic's SPZ (gzip versions 1-3, ZSTD version 4)
// and PlayCanvas' compressed PLY, each following its reference implementation's quantisation byte
// for byte, and the dispatcher that picks one from a file's extension or content.
#include "io/splat_formats.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/binary_scalar.h"
#include "io/input_file.h"
#include "io/ply.h"
#include "io/splat_ply.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <ostream>
#include <sstream>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace glimpse {

namespace {

// ------------------------------------------------------------------------------------------------
// Shared helpers

constexpr double kShC0d = 0.28209479177387814;  // renderer/kernels/sh.h kShC0

// Reads the rest of a stream into memory (in chunks, so a pipe works too).
std::string read_all(std::istream& in, const std::string& what) {
  std::string data;
  if (const auto available = ply::remaining_bytes(in)) data.reserve(*available);
  std::vector<char> buffer(size_t{1} << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    data.append(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  GLIMPSE_CHECK(in.eof()) << what << ": read error";
  return data;
}

void store_le(std::string& out, const void* value, size_t size) {
  const size_t at = out.size();
  out.append(static_cast<const char*>(value), size);
  if constexpr (std::endian::native == std::endian::big)
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(at), out.end());
}
template <typename T>
void put_le(std::string& out, T value) {
  store_le(out, &value, sizeof(T));
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// An 8-bit opacity byte back to a logit. 0 and 255 would be infinite: the byte's probability is
// clamped to [0.5/255, 254.5/255], which stays within every format's stated opacity bound.
float logit_from_byte(double byte) {
  const double p = std::clamp(byte / 255.0, 0.5 / 255.0, 254.5 / 255.0);
  return static_cast<float>(std::log(p / (1.0 - p)));
}

// Quaternion w x y z of Gaussian i, or the identity when it is zero.
std::array<float, 4> quat_wxyz(const Gaussians& g, size_t i) {
  std::array<float, 4> q = {g.quats[4 * i], g.quats[4 * i + 1], g.quats[4 * i + 2],
                            g.quats[4 * i + 3]};
  if (q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 0) q[0] = 1;
  return q;
}

// Normalised w x y z, or the identity for a zero vector (corrupt data).
void set_normalised_quat(Gaussians& g, size_t i, double w, double x, double y, double z) {
  const double n = std::sqrt(w * w + x * x + y * y + z * z);
  if (!(n > 0)) w = 1, x = y = z = 0;
  const double s = n > 0 ? 1.0 / n : 1.0;
  g.quats[4 * i] = static_cast<float>(w * s);
  g.quats[4 * i + 1] = static_cast<float>(x * s);
  g.quats[4 * i + 2] = static_cast<float>(y * s);
  g.quats[4 * i + 3] = static_cast<float>(z * s);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ------------------------------------------------------------------------------------------------
// .splat (antimatter15/splat convert.py)

constexpr size_t kDotSplatRow = 32;

// convert.py's order: ascending -exp(s0 + s1 + s2) * sigmoid(opacity), i.e. most important first.
// Compared in the log domain (sum of log scales + log sigmoid), which orders the same without
// overflowing; stable, so ties keep Glimpse's order.
std::vector<size_t> dot_splat_order(const Gaussians& g) {
  const size_t n = g.size();
  std::vector<double> importance(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = g.opacity_logits[i];
    const double log_sigmoid = x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
    importance[i] = static_cast<double>(g.log_scales[3 * i]) + g.log_scales[3 * i + 1] +
                    g.log_scales[3 * i + 2] + log_sigmoid;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return importance[a] > importance[b]; });
  return order;
}

// numpy's (v * 255).clip(0, 255).astype(np.uint8): clamp, then truncate.
uint8_t unorm8_trunc(double v) { return static_cast<uint8_t>(std::clamp(v * 255.0, 0.0, 255.0)); }

void write_dot_splat_body(std::ostream& out, const Gaussians& g) {
  const size_t k_count = static_cast<size_t>(g.sh_coeffs());
  const std::vector<size_t> order = dot_splat_order(g);
  std::string bytes;
  bytes.reserve(std::min<size_t>(order.size(), size_t{1} << 15) * kDotSplatRow);
  for (size_t r = 0; r < order.size(); ++r) {
    const size_t i = order[r];
    for (int a = 0; a < 3; ++a) put_le<float>(bytes, g.means[3 * i + a]);
    for (int a = 0; a < 3; ++a)  // exp rounded once to float32 (numpy's float32 exp: 2 ulp)
      put_le<float>(bytes, static_cast<float>(std::exp(double{g.log_scales[3 * i + a]})));
    const float* dc = g.sh.data() + i * k_count * 3;
    for (int c = 0; c < 3; ++c)
      bytes.push_back(static_cast<char>(unorm8_trunc(0.5 + kShC0d * dc[c])));
    bytes.push_back(static_cast<char>(unorm8_trunc(sigmoid(g.opacity_logits[i]))));
    // float32 as convert.py: (rot / norm(rot)) * 128 + 128, clipped, truncated.
    const std::array<float, 4> q = quat_wxyz(g, i);
    const float norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (float v : q)
      bytes.push_back(static_cast<char>(
          static_cast<uint8_t>(std::clamp(v / norm * 128.0f + 128.0f, 0.0f, 255.0f))));
    if (bytes.size() >= (size_t{1} << 20) || r + 1 == order.size()) {
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      bytes.clear();
    }
  }
}

Gaussians parse_dot_splat(const std::string& data, const std::string& what) {
  GLIMPSE_CHECK(!data.empty()) << what << ": the file is empty (a .splat file holds 32-byte rows)";
  GLIMPSE_CHECK(data.size() % kDotSplatRow == 0)
      << what << ": " << data.size() << " bytes is not a multiple of the 32-byte .splat row ("
      << data.size() / kDotSplatRow << " rows and " << data.size() % kDotSplatRow
      << " bytes left over: truncated, or not a .splat file)";
  const size_t n = data.size() / kDotSplatRow;
  Gaussians g;
  g.sh_degree = 0;
  g.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const char* row = data.data() + i * kDotSplatRow;
    for (int a = 0; a < 3; ++a) {
      const float x = load_le<float>(row + 4 * a);
      GLIMPSE_CHECK(std::isfinite(x)) << what << ": row " << i << ": position is not finite";
      g.means[3 * i + a] = x;
    }
    for (int a = 0; a < 3; ++a) {
      const float s = load_le<float>(row + 12 + 4 * a);
      GLIMPSE_CHECK(std::isfinite(s) && s >= 0)
          << what << ": row " << i << ": scale " << s << " is negative or not finite";
      g.log_scales[3 * i + a] =
          static_cast<float>(std::log(double{std::max(s, std::numeric_limits<float>::min())}));
    }
    const auto* u = reinterpret_cast<const uint8_t*>(row + 24);
    for (int c = 0; c < 3; ++c) g.sh[3 * i + c] = static_cast<float>((u[c] / 255.0 - 0.5) / kShC0d);
    g.opacity_logits[i] = logit_from_byte(u[3]);
    const double w = (u[4] - 128) / 128.0, x = (u[5] - 128) / 128.0, y = (u[6] - 128) / 128.0,
                 z = (u[7] - 128) / 128.0;
    if (w == 0 && x == 0 && y == 0 && z == 0) {
      set_normalised_quat(g, i, 1, 0, 0, 0);
    } else {
      g.quats[4 * i] = static_cast<float>(w), g.quats[4 * i + 1] = static_cast<float>(x);
      g.quats[4 * i + 2] = static_cast<float>(y), g.quats[4 * i + 3] = static_cast<float>(z);
    }
  }
  g.check(what);
  return g;
}

// ------------------------------------------------------------------------------------------------
// SPZ (nianticlabs/spz src/cc/load-spz.cc, packGaussians / serializePackedGaussians)

constexpr uint32_t kSpzMagic = 0x5053474e;  // "NGSP"
constexpr size_t kSpzHeaderBytes = 16;
constexpr uint8_t kSpzFlagAntialiased = 0x1;
constexpr uint8_t kSpzFlagExtensions = 0x2;
constexpr float kSpzColorScale = 0.15f;
constexpr float kSqrt1_2 = 0.707106781186547524401f;
constexpr int kSpzFractionalBits = 12;
constexpr int kSpzSh1Bits = 5, kSpzShRestBits = 4;  // PackOptions defaults

// Sign of each rest SH coefficient k = 1..15 under RDF <-> RUB (x kept, y and z negated): the
// reference's flipSh with x = 1, y = z = -1 (degree 1: y z x; 2: xy yz 1 xz 1; 3: y xyz y z x z x).
constexpr std::array<float, 15> kRubShFlip = {-1, -1, 1, -1, 1, 1, -1, 1, -1, 1, -1, -1, 1, -1, 1};

// The reference's toUint8: round half away from zero, clamp.
uint8_t spz_u8(float x) { return static_cast<uint8_t>(std::clamp(std::round(x), 0.0f, 255.0f)); }

uint8_t spz_quantize_sh(float x, int bucket) {
  int q = static_cast<int>(std::round(x * 128.0f) + 128.0f);
  q = (q + bucket / 2) / bucket * bucket;
  return static_cast<uint8_t>(std::clamp(q, 0, 255));
}

// packQuaternionSmallestThree on the normalised x y z w.
void spz_pack_smallest_three(const std::array<float, 4>& q, std::string& out) {
  unsigned largest = 0;
  for (unsigned i = 1; i < 4; ++i)
    if (std::abs(q[i]) > std::abs(q[largest])) largest = i;
  const unsigned negate = q[largest] < 0;
  uint32_t comp = largest;
  for (unsigned i = 0; i < 4; ++i) {
    if (i == largest) continue;
    const uint32_t negbit = static_cast<uint32_t>(q[i] < 0) ^ negate;
    const auto mag =
        static_cast<uint32_t>(float((1u << 9u) - 1u) * (std::fabs(q[i]) / kSqrt1_2) + 0.5f);
    comp = (comp << 10u) | (negbit << 9u) | mag;
  }
  put_le<uint32_t>(out, comp);
}

// packQuaternionFirstThree (version 2): x y z of the quaternion with w >= 0.
void spz_pack_first_three(std::array<float, 4> q, std::string& out) {
  const float s = q[3] < 0 ? -127.5f : 127.5f;
  for (int a = 0; a < 3; ++a) out.push_back(static_cast<char>(spz_u8(q[a] * s + 127.5f)));
}

// The largest fractional bit count <= 12 whose 24-bit fixed point holds every coordinate.
int spz_fractional_bits(const Gaussians& g, const std::string& what) {
  float largest = 0;
  for (float x : g.means) largest = std::max(largest, std::abs(x));
  for (int bits = kSpzFractionalBits; bits >= 0; --bits) {
    if (std::round(largest * static_cast<float>(1 << bits)) <= float((1 << 23) - 1)) return bits;
  }
  GLIMPSE_FAIL() << what << ": a coordinate of magnitude " << largest
                 << " does not fit SPZ's 24-bit fixed point (|x| < 8388608)";
  return 0;
}

// The uncompressed SPZ stream: header and attribute blocks, as serializePackedGaussians.
std::string spz_payload(const Gaussians& g, const SpzOptions& o, const std::string& what) {
  const size_t n = g.size();
  const int k_count = g.sh_coeffs();
  const int bits = spz_fractional_bits(g, what);
  const float flip_y = o.rub_axes ? -1.0f : 1.0f;  // RDF -> RUB negates y and z
  std::string out;
  put_le<uint32_t>(out, kSpzMagic);
  put_le<uint32_t>(out, static_cast<uint32_t>(o.version));
  put_le<uint32_t>(out, static_cast<uint32_t>(n));
  out.push_back(static_cast<char>(g.sh_degree));
  out.push_back(static_cast<char>(bits));
  out.push_back(static_cast<char>(o.antialiased ? kSpzFlagAntialiased : 0));
  out.push_back(0);  // reserved

  // Positions: 24-bit fixed point.
  const float scale = static_cast<float>(1 << bits);
  for (size_t i = 0; i < 3 * n; ++i) {
    const float flip = (i % 3 == 0) ? 1.0f : flip_y;
    const auto fixed = static_cast<int32_t>(std::round(g.means[i] * scale * flip));
    for (int b = 0; b < 3; ++b) out.push_back(static_cast<char>((fixed >> (8 * b)) & 0xff));
  }
  // Alphas, colours, scales.
  for (size_t i = 0; i < n; ++i) {
    const float x = g.opacity_logits[i];
    out.push_back(static_cast<char>(spz_u8(1 / (1 + std::exp(-x)) * 255.0f)));
  }
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      const float dc = g.sh[static_cast<size_t>(k_count) * 3 * i + c];
      out.push_back(static_cast<char>(spz_u8(dc * (kSpzColorScale * 255.0f) + (0.5f * 255.0f))));
    }
  }
  for (size_t i = 0; i < 3 * n; ++i)
    out.push_back(static_cast<char>(spz_u8((g.log_scales[i] + 10.0f) * 16.0f)));
  // Rotations: normalised x y z w, with the axis flips of the quaternion's vector part.
  for (size_t i = 0; i < n; ++i) {
    const std::array<float, 4> wxyz = quat_wxyz(g, i);
    std::array<float, 4> q = {wxyz[1], wxyz[2], wxyz[3], wxyz[0]};
    const float norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (float& v : q) v /= norm;
    q[1] *= flip_y, q[2] *= flip_y;  // flipQ = (yz, xz, xy) = (1, -1, -1) for RDF -> RUB
    if (o.version >= 3) {
      spz_pack_smallest_three(q, out);
    } else {
      spz_pack_first_three(q, out);
    }
  }
  // SH bands 1..3: coefficient-major, RGB inner (Glimpse's layout without the DC term).
  const int bucket1 = 1 << (8 - kSpzSh1Bits), bucket_rest = 1 << (8 - kSpzShRestBits);
  for (size_t i = 0; i < n; ++i) {
    const float* sh = g.sh.data() + i * static_cast<size_t>(k_count) * 3;
    for (int k = 1; k < k_count; ++k) {
      const float flip = o.rub_axes ? kRubShFlip[k - 1] : 1.0f;
      for (int c = 0; c < 3; ++c)
        out.push_back(static_cast<char>(
            spz_quantize_sh(sh[3 * k + c] * flip, k <= 3 ? bucket1 : bucket_rest)));
    }
  }
  return out;
}

// zlib streams are fed at most this many bytes at a time (avail_in is 32-bit).
constexpr size_t kZlibChunk = size_t{1} << 30;

// Ends a zlib stream on every path out (deflateEnd / inflateEnd).
template <int (*End)(z_streamp)>
struct ZStream {
  z_stream s = {};
  bool started = false;
  ~ZStream() {
    if (started) End(&s);
  }
};

// gzip as the reference's compressGzipped: deflateInit2(level Z_DEFAULT_COMPRESSION, windowBits
// 15 + 16 (gzip wrapper), memLevel 9).
std::string gzip(const std::string& data, const std::string& what) {
  ZStream<deflateEnd> z;
  GLIMPSE_CHECK(deflateInit2(&z.s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9,
                             Z_DEFAULT_STRATEGY) == Z_OK)
      << what << ": cannot start the gzip compressor";
  z.started = true;
  std::string out;
  std::vector<unsigned char> buffer(size_t{1} << 16);
  size_t offset = 0;
  int flush = Z_NO_FLUSH, status = Z_OK;
  do {
    const size_t chunk = std::min(data.size() - offset, kZlibChunk);
    z.s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + offset));
    z.s.avail_in = static_cast<uInt>(chunk);
    offset += chunk;
    flush = offset == data.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.s.next_out = buffer.data();
      z.s.avail_out = static_cast<uInt>(buffer.size());
      status = deflate(&z.s, flush);
      GLIMPSE_CHECK(status != Z_STREAM_ERROR) << what << ": gzip compression failed";
      out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z.s.avail_out);
    } while (z.s.avail_out == 0);
  } while (flush != Z_FINISH);
  GLIMPSE_CHECK(status == Z_STREAM_END) << what << ": gzip compression failed";
  return out;
}

// Inflates a gzip (or zlib: windowBits 15 + 32 detects either) stream; bytes after its end are
// ignored, as the reference does.
std::string gunzip(const std::string& data, const std::string& what) {
  ZStream<inflateEnd> z;
  GLIMPSE_CHECK(inflateInit2(&z.s, 32 + MAX_WBITS) == Z_OK)
      << what << ": cannot start the gzip decompressor";
  z.started = true;
  std::string out;
  std::vector<unsigned char> buffer(size_t{1} << 16);
  size_t offset = 0;
  int status = Z_OK;
  while (status == Z_OK) {
    if (z.s.avail_in == 0) {
      if (offset == data.size()) break;  // the input ends before the stream does
      const size_t chunk = std::min(data.size() - offset, kZlibChunk);
      z.s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + offset));
      z.s.avail_in = static_cast<uInt>(chunk);
      offset += chunk;
    }
    z.s.next_out = buffer.data();
    z.s.avail_out = static_cast<uInt>(buffer.size());
    status = inflate(&z.s, Z_NO_FLUSH);
    out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z.s.avail_out);
  }
  GLIMPSE_CHECK(status == Z_OK || status == Z_STREAM_END)
      << what << ": corrupt gzip stream (" << (z.s.msg != nullptr ? z.s.msg : "zlib error") << ")";
  GLIMPSE_CHECK(status == Z_STREAM_END)
      << what << ": truncated gzip stream (the file ends before the compressed data does)";
  return out;
}

// IEEE half to float (SPZ version 1 positions).
float half_to_float(uint16_t h) {
  const int sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    v = mantissa == 0 ? std::numeric_limits<float>::infinity()
                      : std::numeric_limits<float>::quiet_NaN();
  } else {
    v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -v : v;
}

Gaussians parse_spz_payload(const std::string& d, const std::string& what, const SpzOptions& o) {
  GLIMPSE_CHECK(d.size() >= kSpzHeaderBytes)
      << what << ": the SPZ stream holds " << d.size() << " bytes, less than its 16-byte header";
  const uint32_t magic = load_le<uint32_t>(d.data());
  GLIMPSE_CHECK(magic == kSpzMagic) << what << ": not an SPZ file (magic 0x" << std::hex << magic
                                    << std::dec << ", expected 0x5053474e \"NGSP\")";
  const uint32_t version = load_le<uint32_t>(d.data() + 4);
  const uint32_t n = load_le<uint32_t>(d.data() + 8);
  const int sh_degree = static_cast<uint8_t>(d[12]);
  const int bits = static_cast<uint8_t>(d[13]);
  const uint8_t flags = static_cast<uint8_t>(d[14]);
  GLIMPSE_CHECK(version >= 1 && version <= 4)
      << what << ": unsupported SPZ version " << version << " (Glimpse reads versions 1-4)";
  GLIMPSE_CHECK(sh_degree <= 3) << what << ": SPZ SH degree " << sh_degree
                                << " is not supported (Glimpse handles degrees 0-3)";
  GLIMPSE_CHECK(bits <= 24) << what << ": SPZ fractionalBits " << bits << " is out of range (0-24)";
  GLIMPSE_CHECK(n > 0) << what << ": the file holds no Gaussians (numPoints 0)";

  const size_t k_count = static_cast<size_t>((sh_degree + 1) * (sh_degree + 1));
  const size_t position_bytes = version == 1 ? 6 : 9;
  const size_t rotation_bytes = version >= 3 ? 4 : 3;
  const size_t per_point = position_bytes + 1 + 3 + 3 + rotation_bytes + 3 * (k_count - 1);
  const uint64_t expected = kSpzHeaderBytes + uint64_t{n} * per_point;
  const bool has_extensions = (flags & kSpzFlagExtensions) != 0;
  GLIMPSE_CHECK(d.size() >= expected && (has_extensions || d.size() == expected))
      << what << ": numPoints " << n << " does not match the data: " << n << " points of "
      << per_point << " bytes need " << expected << " bytes, the decompressed stream holds "
      << d.size();

  Gaussians g;
  g.sh_degree = sh_degree;
  g.resize(n);
  const float flip_y = o.rub_axes ? -1.0f : 1.0f;
  const char* p = d.data() + kSpzHeaderBytes;
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  // Positions.
  const float scale = 1.0f / static_cast<float>(1u << bits);
  for (size_t i = 0; i < 3 * size_t{n}; ++i) {
    float x;
    if (version == 1) {
      x = half_to_float(load_le<uint16_t>(p + 2 * i));
    } else {
      int32_t fixed = u[3 * i] | (u[3 * i + 1] << 8) | (u[3 * i + 2] << 16);
      if (fixed & 0x800000) fixed |= static_cast<int32_t>(0xff000000u);
      x = static_cast<float>(fixed) * scale;
    }
    g.means[i] = (i % 3 == 0) ? x : x * flip_y;
  }
  size_t at = size_t{n} * position_bytes;
  // Alphas, colours, scales.
  for (size_t i = 0; i < n; ++i) g.opacity_logits[i] = logit_from_byte(u[at + i]);
  at += n;
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c)
      g.sh[k_count * 3 * i + c] = ((u[at + 3 * i + c] / 255.0f) - 0.5f) / kSpzColorScale;
  at += 3 * size_t{n};
  for (size_t i = 0; i < 3 * size_t{n}; ++i) g.log_scales[i] = u[at + i] / 16.0f - 10.0f;
  at += 3 * size_t{n};
  // Rotations (x y z w in the file).
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* r = u + at + i * rotation_bytes;
    std::array<float, 4> q{};
    if (version >= 3) {
      uint32_t comp = r[0] | (r[1] << 8) | (r[2] << 16) | (uint32_t{r[3]} << 24);
      constexpr uint32_t kMask = (1u << 9u) - 1u;
      const unsigned largest = comp >> 30;
      float sum_squares = 0;
      for (int c = 3; c >= 0; --c) {
        if (static_cast<unsigned>(c) == largest) continue;
        const uint32_t mag = comp & kMask, negbit = (comp >> 9u) & 1u;
        comp >>= 10u;
        q[c] = kSqrt1_2 * static_cast<float>(mag) / static_cast<float>(kMask);
        if (negbit) q[c] = -q[c];
        sum_squares += q[c] * q[c];
      }
      q[largest] = std::sqrt(std::max(0.0f, 1.0f - sum_squares));
    } else {
      for (int c = 0; c < 3; ++c) q[c] = r[c] / 127.5f - 1.0f;
      q[3] = std::sqrt(std::max(0.0f, 1.0f - (q[0] * q[0] + q[1] * q[1] + q[2] * q[2])));
    }
    set_normalised_quat(g, i, q[3], q[0], q[1] * flip_y, q[2] * flip_y);
  }
  at += size_t{n} * rotation_bytes;
  // SH bands 1..3.
  for (size_t i = 0; i < n; ++i) {
    float* sh = g.sh.data() + i * k_count * 3;
    for (size_t k = 1; k < k_count; ++k) {
      const float flip = o.rub_axes ? kRubShFlip[k - 1] : 1.0f;
      for (size_t c = 0; c < 3; ++c)
        sh[3 * k + c] = (static_cast<float>(u[at++]) - 128.0f) / 128.0f * flip;
    }
  }
  g.check(what);
  return g;
}

// ------------------------------------------------------------------------------------------------
// SPZ version 4 (load-spz.cc saveSpz / loadSpzPacked): a plain 32-byte NgspFileHeader {uint32
// magic, version, numPoints; uint8 shDegree, fractionalBits, flags, numStreams; uint32
// tocByteOffset; uint8 reserved[12]}, extension records up to tocByteOffset (flag 0x2), the table
// of contents (per stream: uint64 compressedSize, uint64 uncompressedSize), then one ZSTD frame
// per non-empty attribute block in the legacy order, ending exactly at the end of the file.

constexpr size_t kSpzV4HeaderBytes = 32;
constexpr size_t kSpzV4TocEntryBytes = 16;
constexpr int kSpzZstdLevel = 12;  // compressZstd's default
constexpr const char* kSpzStreamNames[] = {"positions", "alphas",    "colors",
                                           "scales",    "rotations", "sh"};

// The byte size of each attribute block of n points (version >= 3 rotations).
std::array<uint64_t, 6> spz_v4_block_sizes(uint64_t n, int sh_degree) {
  const uint64_t rest = static_cast<uint64_t>((sh_degree + 1) * (sh_degree + 1) - 1);
  return {9 * n, n, 3 * n, 3 * n, 4 * n, 3 * rest * n};
}

// ZSTD_compress2 at level 12, as the reference's compressZstd.
std::string zstd_compress(const char* data, size_t size, const std::string& what) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  GLIMPSE_CHECK(cctx != nullptr) << what << ": cannot start the ZSTD compressor";
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kSpzZstdLevel);
  std::string out(ZSTD_compressBound(size), '\0');
  const size_t written = ZSTD_compress2(cctx.get(), out.data(), out.size(), data, size);
  GLIMPSE_CHECK(!ZSTD_isError(written))
      << what << ": ZSTD compression failed (" << ZSTD_getErrorName(written) << ")";
  out.resize(written);
  return out;
}

// The version 4 file from the legacy payload (16-byte header, then the attribute blocks).
std::string spz_v4_file(const std::string& payload, const std::string& what) {
  const uint32_t n = load_le<uint32_t>(payload.data() + 8);
  const std::array<uint64_t, 6> sizes = spz_v4_block_sizes(n, static_cast<uint8_t>(payload[12]));
  std::vector<std::string> frames;
  std::vector<uint64_t> raw_sizes;
  size_t at = kSpzHeaderBytes;
  for (const uint64_t size : sizes) {
    if (size == 0) continue;  // the reference writes no stream for an empty block (SH degree 0)
    frames.push_back(zstd_compress(payload.data() + at, size, what));
    raw_sizes.push_back(size);
    at += size;
  }
  GLIMPSE_CHECK(at == payload.size()) << what << ": internal error: SPZ blocks do not add up";
  std::string out;
  put_le<uint32_t>(out, kSpzMagic);
  put_le<uint32_t>(out, 4);
  put_le<uint32_t>(out, n);
  out.append(payload, 12, 3);  // shDegree, fractionalBits, flags (no extensions are written)
  out.push_back(static_cast<char>(frames.size()));
  put_le<uint32_t>(out, static_cast<uint32_t>(kSpzV4HeaderBytes));  // tocByteOffset
  out.append(12, '\0');                                             // reserved
  for (size_t i = 0; i < frames.size(); ++i) {
    put_le<uint64_t>(out, frames[i].size());
    put_le<uint64_t>(out, raw_sizes[i]);
  }
  for (const std::string& frame : frames) out += frame;
  return out;
}

// Decompresses one stream (one or more ZSTD frames) that must give exactly `expected` bytes; the
// output grows with what the frames produce, so a lying header cannot make it allocate more.
void zstd_decompress_into(std::string& out, const char* data, size_t size, uint64_t expected,
                          const char* stream, const std::string& what) {
  const unsigned long long declared = ZSTD_getFrameContentSize(data, size);
  GLIMPSE_CHECK(declared != ZSTD_CONTENTSIZE_ERROR)
      << what << ": corrupt ZSTD stream '" << stream << "' (not a ZSTD frame)";
  GLIMPSE_CHECK(declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == expected)
      << what << ": ZSTD stream '" << stream << "' declares " << declared
      << " bytes, the header's numPoints needs " << expected;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  GLIMPSE_CHECK(dctx != nullptr) << what << ": cannot start the ZSTD decompressor";
  const size_t start = out.size();
  ZSTD_inBuffer in = {data, size, 0};
  std::vector<char> buffer(ZSTD_DStreamOutSize());
  size_t status = 1;
  while (in.pos < in.size || status != 0) {
    ZSTD_outBuffer o = {buffer.data(), buffer.size(), 0};
    const size_t before = in.pos;
    status = ZSTD_decompressStream(dctx.get(), &o, &in);
    GLIMPSE_CHECK(!ZSTD_isError(status))
        << what << ": corrupt ZSTD stream '" << stream << "' (" << ZSTD_getErrorName(status) << ")";
    GLIMPSE_CHECK(out.size() - start + o.pos <= expected)
        << what << ": ZSTD stream '" << stream << "' decompresses to more than the " << expected
        << " bytes the header's numPoints needs";
    out.append(buffer.data(), o.pos);
    if (in.pos == in.size && o.pos < o.size && in.pos == before) break;  // no progress: truncated
  }
  GLIMPSE_CHECK(status == 0) << what << ": truncated ZSTD stream '" << stream
                             << "' (the frame ends early)";
  GLIMPSE_CHECK(out.size() - start == expected)
      << what << ": ZSTD stream '" << stream << "' decompresses to " << out.size() - start
      << " bytes, the header's numPoints needs " << expected;
}

// A version 4 file (raw "NGSP", data.size() >= 8) to the legacy payload for parse_spz_payload.
std::string spz_v4_payload(const std::string& data, const std::string& what) {
  GLIMPSE_CHECK(data.size() >= kSpzV4HeaderBytes)
      << what << ": SPZ version 4 file of " << data.size()
      << " bytes, less than its 32-byte header";
  const uint32_t n = load_le<uint32_t>(data.data() + 8);
  const int sh_degree = static_cast<uint8_t>(data[12]);
  const uint8_t flags = static_cast<uint8_t>(data[14]);
  const size_t streams = static_cast<uint8_t>(data[15]);
  const uint32_t toc = load_le<uint32_t>(data.data() + 16);
  GLIMPSE_CHECK(sh_degree <= 3) << what << ": SPZ SH degree " << sh_degree
                                << " is not supported (Glimpse handles degrees 0-3)";
  GLIMPSE_CHECK(n > 0) << what << ": the file holds no Gaussians (numPoints 0)";
  const std::array<uint64_t, 6> sizes = spz_v4_block_sizes(n, sh_degree);
  const size_t expected_streams = sh_degree > 0 ? 6 : 5;
  GLIMPSE_CHECK(streams == expected_streams) << what << ": numStreams " << streams << ", expected "
                                             << expected_streams << " for SH degree " << sh_degree;
  GLIMPSE_CHECK(toc >= kSpzV4HeaderBytes && toc <= data.size() &&
                data.size() - toc >= streams * kSpzV4TocEntryBytes)
      << what << ": the table of contents (tocByteOffset " << toc << ", " << streams
      << " entries of 16 bytes) does not fit the file's " << data.size() << " bytes";
  // Validate the whole table against the data before decompressing (or allocating) anything.
  std::array<uint64_t, 6> compressed{};
  uint64_t offset = toc + streams * kSpzV4TocEntryBytes;
  for (size_t i = 0; i < streams; ++i) {
    const char* entry = data.data() + toc + i * kSpzV4TocEntryBytes;
    compressed[i] = load_le<uint64_t>(entry);
    const uint64_t raw = load_le<uint64_t>(entry + 8);
    GLIMPSE_CHECK(raw == sizes[i])
        << what << ": stream '" << kSpzStreamNames[i] << "' holds " << raw
        << " bytes uncompressed, numPoints " << n << " needs " << sizes[i];
    GLIMPSE_CHECK(compressed[i] <= data.size() - offset)
        << what << ": stream '" << kSpzStreamNames[i] << "' (" << compressed[i]
        << " compressed bytes at offset " << offset << ") runs past the end of the file ("
        << data.size() << " bytes): truncated";
    offset += compressed[i];
  }
  GLIMPSE_CHECK(offset == data.size())
      << what << ": " << data.size() - offset
      << " bytes follow the last ZSTD stream (the table of contents does not match the data)";
  // The legacy payload: its 16-byte header (flags without extensions: their records, between the
  // header and the table, are skipped as the reference does without extension support), then the
  // decompressed blocks.
  std::string payload(data, 0, 15);
  payload.push_back('\0');
  payload[14] = static_cast<char>(flags & ~kSpzFlagExtensions);
  offset = toc + streams * kSpzV4TocEntryBytes;
  for (size_t i = 0; i < streams; ++i) {
    zstd_decompress_into(payload, data.data() + offset, compressed[i], sizes[i], kSpzStreamNames[i],
                         what);
    offset += compressed[i];
  }
  return payload;
}

// The file's bytes: gzip of the legacy payload (versions 2, 3) or the version 4 layout.
std::string spz_encode(const Gaussians& g, const SpzOptions& o, const std::string& what) {
  const std::string payload = spz_payload(g, o, what);
  return o.version >= 4 ? spz_v4_file(payload, what) : gzip(payload, what);
}

void write_spz_body(std::ostream& out, const Gaussians& g, const SpzOptions& o,
                    const std::string& what) {
  const std::string bytes = spz_encode(g, o, what);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void check_spz_options(const SpzOptions& o, const std::string& what) {
  GLIMPSE_CHECK(o.version >= 2 && o.version <= 4)
      << what << ": SPZ version " << o.version << " cannot be written (Glimpse writes versions 2, "
      << "3 and 4)";
}

// ------------------------------------------------------------------------------------------------
// PlayCanvas compressed PLY (playcanvas/splat-transform write-compressed-ply.ts,
// compressed-chunk.ts, ops/morton-order.ts, readers/decompress-ply.ts)

constexpr size_t kChunkSplats = 256;
const char* const kChunkProps[] = {
    "min_x",       "min_y",       "min_z",       "max_x",       "max_y",       "max_z",
    "min_scale_x", "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z",
    "min_r",       "min_g",       "min_b",       "max_r",       "max_g",       "max_b"};
const char* const kPackedProps[] = {"packed_position", "packed_rotation", "packed_scale",
                                    "packed_color"};

// https://fgiesen.wordpress.com/2009/12/13/decoding-morton-codes/
uint32_t part1by2(uint32_t v) {
  v &= 0x000003ff;
  v = (v ^ (v << 16)) & 0xff0000ff;
  v = (v ^ (v << 8)) & 0x0300f00f;
  v = (v ^ (v << 4)) & 0x030c30c3;
  v = (v ^ (v << 2)) & 0x09249249;
  return v;
}

// sortMortonStrided: sorts `indices` by 10-bit-per-axis Morton codes over their own bounds, then
// refines every run of more than 256 equal codes the same way.
void sort_morton(const Gaussians& g, size_t* indices, size_t count) {
  if (count == 0) return;
  double lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::numeric_limits<double>::infinity();
    hi[a] = -std::numeric_limits<double>::infinity();
  }
  for (size_t i = 0; i < count; ++i) {
    for (int a = 0; a < 3; ++a) {
      const double x = g.means[3 * indices[i] + a];
      lo[a] = std::min(lo[a], x);
      hi[a] = std::max(hi[a], x);
    }
  }
  double mul[3];
  bool all_equal = true;
  for (int a = 0; a < 3; ++a) {
    const double len = hi[a] - lo[a];
    if (!std::isfinite(len)) return;
    all_equal = all_equal && len == 0;
    mul[a] = len == 0 ? 0 : 1024 / len;
  }
  if (all_equal) return;
  std::vector<uint32_t> code(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t cell[3];
    for (int a = 0; a < 3; ++a) {
      const double t = std::min(1023.0, (g.means[3 * indices[i] + a] - lo[a]) * mul[a]);
      cell[a] = static_cast<uint32_t>(t);  // JS '>>> 0' of a value in [0, 1023]
    }
    code[i] = (part1by2(cell[2]) << 2) + (part1by2(cell[1]) << 1) + part1by2(cell[0]);
  }
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return code[a] < code[b]; });
  const std::vector<size_t> old(indices, indices + count);
  for (size_t i = 0; i < count; ++i) indices[i] = old[order[i]];
  for (size_t start = 0, end = 1; start < count; start = end) {
    while (end < count && code[order[end]] == code[order[start]]) ++end;
    if (end - start > kChunkSplats) sort_morton(g, indices + start, end - start);
  }
}

uint32_t pack_unorm(double value, int bits) {
  const double t = static_cast<double>((1u << bits) - 1);
  return static_cast<uint32_t>(std::clamp(std::floor(value * t + 0.5), 0.0, t));
}

uint32_t pack_11_10_11(double x, double y, double z) {
  return pack_unorm(x, 11) << 21 | pack_unorm(y, 10) << 11 | pack_unorm(z, 11);
}

// compressed-chunk.ts normalize(): 0 below min, 1 above max, 0 for a range under 1e-5.
double normalise(double x, double lo, double hi) {
  if (x <= lo) return 0;
  if (x >= hi) return 1;
  return (hi - lo < 0.00001) ? 0 : (x - lo) / (hi - lo);
}

// packRot: rot_0..3 normalised, negated when the largest is negative, the largest's index in two
// bits and the other three as 10-bit unorm of v sqrt(2)/2 + 0.5.
uint32_t pack_rotation(const std::array<float, 4>& wxyz) {
  std::array<double, 4> a = {wxyz[0], wxyz[1], wxyz[2], wxyz[3]};
  const double len = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2] + a[3] * a[3]);
  for (double& v : a) v *= 1 / len;
  size_t largest = 0;
  for (size_t i = 1; i < 4; ++i)
    if (std::abs(a[i]) > std::abs(a[largest])) largest = i;
  if (a[largest] < 0)
    for (double& v : a) v = -v;
  const double norm = std::sqrt(2.0) * 0.5;
  uint32_t result = static_cast<uint32_t>(largest);
  for (size_t i = 0; i < 4; ++i)
    if (i != largest) result = (result << 10) | pack_unorm(a[i] * norm + 0.5, 10);
  return result;
}

struct MinMax {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
};

// Packs one chunk (splats order[begin, end)): appends its 18 floats and 4 uints per splat.
void pack_chunk(const Gaussians& g, const size_t* order, size_t count,
                std::vector<float>& chunk_data, std::vector<uint32_t>& packed) {
  const size_t k_count = static_cast<size_t>(g.sh_coeffs());
  MinMax pos[3], scale[3], colour[3];
  std::vector<float> rgb(3 * count);  // 0.5 + SH_C0 f_dc, stored as float32 like the reference
  for (size_t j = 0; j < count; ++j) {
    const size_t i = order[j];
    for (int a = 0; a < 3; ++a) {
      pos[a].add(g.means[3 * i + a]);
      scale[a].add(g.log_scales[3 * i + a]);
      rgb[3 * j + a] = static_cast<float>(g.sh[k_count * 3 * i + a] * kShC0d + 0.5);
      colour[a].add(rgb[3 * j + a]);
    }
  }
  for (MinMax& s : scale) {
    s.lo = std::clamp(s.lo, -20.0, 20.0);
    s.hi = std::clamp(s.hi, -20.0, 20.0);
  }
  for (size_t j = 0; j < count; ++j) {
    const size_t i = order[j];
    const float* m = g.means.data() + 3 * i;
    const float* s = g.log_scales.data() + 3 * i;
    packed.push_back(pack_11_10_11(normalise(m[0], pos[0].lo, pos[0].hi),
                                   normalise(m[1], pos[1].lo, pos[1].hi),
                                   normalise(m[2], pos[2].lo, pos[2].hi)));
    packed.push_back(pack_rotation(quat_wxyz(g, i)));
    packed.push_back(pack_11_10_11(normalise(s[0], scale[0].lo, scale[0].hi),
                                   normalise(s[1], scale[1].lo, scale[1].hi),
                                   normalise(s[2], scale[2].lo, scale[2].hi)));
    uint32_t colour_bits = 0;
    for (int c = 0; c < 3; ++c)
      colour_bits |= pack_unorm(normalise(rgb[3 * j + c], colour[c].lo, colour[c].hi), 8)
                     << (24 - 8 * c);
    packed.push_back(colour_bits | pack_unorm(sigmoid(g.opacity_logits[i]), 8));
  }
  for (const MinMax* set : {pos, scale, colour}) {
    for (int a = 0; a < 3; ++a) chunk_data.push_back(static_cast<float>(set[a].lo));
    for (int a = 0; a < 3; ++a) chunk_data.push_back(static_cast<float>(set[a].hi));
  }
}

void write_compressed_ply_body(std::ostream& out, const Gaussians& g) {
  const size_t n = g.size();
  const size_t k_count = static_cast<size_t>(g.sh_coeffs());
  const size_t rest = 3 * (k_count - 1);
  const size_t chunks = (n + kChunkSplats - 1) / kChunkSplats;
  std::ostringstream header;
  header << "ply\nformat binary_little_endian 1.0\ncomment Generated by Glimpse\n";
  header << "element chunk " << chunks << "\n";
  for (const char* p : kChunkProps) header << "property float " << p << "\n";
  header << "element vertex " << n << "\n";
  for (const char* p : kPackedProps) header << "property uint " << p << "\n";
  if (rest > 0) {
    header << "element sh " << n << "\n";
    for (size_t k = 0; k < rest; ++k) header << "property uchar f_rest_" << k << "\n";
  }
  header << "end_header\n";

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  sort_morton(g, order.data(), n);

  std::vector<float> chunk_data;
  std::vector<uint32_t> packed;
  chunk_data.reserve(chunks * 18);
  packed.reserve(4 * n);
  for (size_t c = 0; c < chunks; ++c) {
    const size_t begin = c * kChunkSplats, count = std::min(kChunkSplats, n - begin);
    pack_chunk(g, order.data() + begin, count, chunk_data, packed);
  }
  std::string bytes = header.str();
  for (float v : chunk_data) put_le<float>(bytes, v);
  for (uint32_t v : packed) put_le<uint32_t>(bytes, v);
  // SH: f_rest in the 3DGS channel-major order, trunc(256 (x / 8 + 0.5)) clamped.
  for (size_t i : order) {
    const float* sh = g.sh.data() + i * k_count * 3;
    for (size_t c = 0; c < 3; ++c) {
      for (size_t k = 1; k < k_count; ++k) {
        const double v = std::trunc((sh[3 * k + c] / 8.0 + 0.5) * 256.0);
        bytes.push_back(static_cast<char>(static_cast<uint8_t>(std::clamp(v, 0.0, 255.0))));
      }
    }
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Column index of `name` in element e, checked for type; SIZE_MAX when absent and optional.
size_t property_index(const ply::Element& e, const std::string& name, ScalarKind kind, size_t size,
                      const char* type_name, bool required, const std::string& what) {
  for (size_t i = 0; i < e.properties.size(); ++i) {
    const ply::Property& p = e.properties[i];
    if (p.name != name) continue;
    GLIMPSE_CHECK(!p.is_list && p.type.kind == kind && p.type.size == size)
        << what << ": property '" << name << "' of element '" << e.name << "' must be " << type_name
        << " in a compressed PLY";
    return i;
  }
  GLIMPSE_CHECK(!required) << what << ": missing property '" << name << "' in element '" << e.name
                           << "' (a compressed PLY needs " << type_name << " '" << name << "')";
  return SIZE_MAX;
}

std::vector<size_t> property_offsets(const ply::Element& e) {
  std::vector<size_t> offsets(e.properties.size(), 0);
  for (size_t i = 1; i < offsets.size(); ++i)
    offsets[i] = offsets[i - 1] + e.properties[i - 1].type.size;
  return offsets;
}

double unpack_unorm(uint32_t value, int bits) {
  const uint32_t t = (1u << bits) - 1;
  return static_cast<double>(value & t) / t;
}
double lerp(double a, double b, double t) { return a * (1 - t) + b * t; }

// decompress-ply.ts unpackRot: w x y z (rot_0..3) from the packed smallest three.
void unpack_rotation(uint32_t value, Gaussians& g, size_t i) {
  const double norm = 1.0 / (std::sqrt(2.0) * 0.5);
  const double a = (unpack_unorm(value >> 20, 10) - 0.5) * norm;
  const double b = (unpack_unorm(value >> 10, 10) - 0.5) * norm;
  const double c = (unpack_unorm(value, 10) - 0.5) * norm;
  const double m = std::sqrt(std::max(0.0, 1.0 - (a * a + b * b + c * c)));
  switch (value >> 30) {
    case 0:
      return set_normalised_quat(g, i, m, a, b, c);
    case 1:
      return set_normalised_quat(g, i, a, m, b, c);
    case 2:
      return set_normalised_quat(g, i, a, b, m, c);
    default:
      return set_normalised_quat(g, i, a, b, c, m);
  }
}

struct CompressedElements {
  const ply::Element* chunk = nullptr;
  const ply::Element* vertex = nullptr;
  const ply::Element* sh = nullptr;
};

CompressedElements compressed_elements(const ply::Header& header, const std::string& what) {
  GLIMPSE_CHECK(header.format != ply::Format::Ascii)
      << what << ": an ASCII PLY cannot be a compressed PLY (it is binary)";
  CompressedElements e;
  for (const ply::Element& element : header.elements) {
    GLIMPSE_CHECK(!element.has_list())
        << what << ": element '" << element.name << "' has a list property (not a compressed PLY)";
    if (element.name == "chunk") e.chunk = &element;
    if (element.name == "vertex") e.vertex = &element;
    if (element.name == "sh") e.sh = &element;
  }
  GLIMPSE_CHECK(e.chunk != nullptr) << what << ": no 'chunk' element (not a compressed PLY)";
  GLIMPSE_CHECK(e.vertex != nullptr) << what << ": no 'vertex' element";
  const uint64_t n = e.vertex->count;
  GLIMPSE_CHECK(n > 0) << what << ": the file holds no Gaussians ('element vertex 0')";
  const uint64_t chunks = (n + kChunkSplats - 1) / kChunkSplats;
  GLIMPSE_CHECK(e.chunk->count == chunks)
      << what << ": 'element chunk " << e.chunk->count << "' does not match 'element vertex " << n
      << "': a compressed PLY has one chunk per 256 splats, ceil(" << n << " / 256) = " << chunks;
  if (e.sh != nullptr) {
    GLIMPSE_CHECK(e.sh->count == n) << what << ": 'element sh " << e.sh->count
                                    << "' does not match 'element vertex " << n << "'";
  }
  return e;
}

Gaussians parse_compressed_ply(std::istream& in, const std::string& what) {
  const ply::Header header = ply::parse_header(in, what);
  const CompressedElements elements = compressed_elements(header, what);
  const ply::Element& chunk = *elements.chunk;
  const ply::Element& vertex = *elements.vertex;
  const size_t n = vertex.count;

  // Property layout, by name.
  std::vector<size_t> chunk_column;
  for (size_t k = 0; k < 18; ++k)
    chunk_column.push_back(
        property_index(chunk, kChunkProps[k], ScalarKind::Float, 4, "float", k < 12, what));
  const bool chunk_colours = chunk_column[12] != SIZE_MAX;
  for (size_t k = 13; k < 18; ++k)
    GLIMPSE_CHECK((chunk_column[k] != SIZE_MAX) == chunk_colours)
        << what << ": element 'chunk' has only some of min_r min_g min_b max_r max_g max_b";
  std::vector<size_t> packed_column;
  for (const char* p : kPackedProps)
    packed_column.push_back(property_index(vertex, p, ScalarKind::UInt, 4, "uint", true, what));
  int sh_degree = 0;
  std::vector<size_t> sh_column;
  if (elements.sh != nullptr) {
    const size_t rest = elements.sh->properties.size();
    const int degrees[] = {0, 9, 24, 45};
    const auto* d = std::find(std::begin(degrees), std::end(degrees), static_cast<int>(rest));
    GLIMPSE_CHECK(d != std::end(degrees) && rest > 0)
        << what << ": element 'sh' has " << rest
        << " properties, expected 9, 24 or 45 (f_rest_* of SH degree 1..3)";
    sh_degree = static_cast<int>(d - std::begin(degrees));
    for (size_t k = 0; k < rest; ++k)
      sh_column.push_back(property_index(*elements.sh, "f_rest_" + std::to_string(k),
                                         ScalarKind::UInt, 1, "uchar", true, what));
  }

  Gaussians g;
  g.sh_degree = sh_degree;
  const size_t k_count = static_cast<size_t>(g.sh_coeffs());
  std::vector<float> chunk_values;  // [chunks, 18]
  std::vector<uint32_t> packed;     // [n, 4]
  std::vector<uint8_t> sh_bytes;    // [n, 3 (K - 1)], file order

  // The elements in file order: each is read (or skipped), with truncation errors naming `what`.
  for (const ply::Element& e : header.elements) {
    const std::vector<size_t> offsets = property_offsets(e);
    if (&e == &chunk) {
      ply::read_binary_rows(
          in, e, header.format, what, [&](uint64_t rows) { chunk_values.resize(18 * rows); },
          [&](const char* row, uint64_t r) {
            for (size_t k = 0; k < 18; ++k)
              if (chunk_column[k] != SIZE_MAX)
                chunk_values[r * 18 + k] = load_le<float>(row + offsets[chunk_column[k]]);
          });
    } else if (&e == &vertex) {
      ply::read_binary_rows(
          in, e, header.format, what, [&](uint64_t rows) { packed.resize(4 * rows); },
          [&](const char* row, uint64_t r) {
            for (size_t k = 0; k < 4; ++k)
              packed[4 * r + k] = load_le<uint32_t>(row + offsets[packed_column[k]]);
          });
    } else if (&e == elements.sh) {
      const size_t rest = sh_column.size();
      ply::read_binary_rows(
          in, e, header.format, what, [&](uint64_t rows) { sh_bytes.resize(rest * rows); },
          [&](const char* row, uint64_t r) {
            for (size_t k = 0; k < rest; ++k)
              sh_bytes[rest * r + k] = static_cast<uint8_t>(row[offsets[sh_column[k]]]);
          });
    } else {
      ply::skip_binary_element(in, e, what);
    }
  }
  if (const auto extra = ply::remaining_bytes(in)) {
    GLIMPSE_CHECK(*extra == 0) << what << ": " << *extra
                               << " bytes follow the elements the header declares (the counts do "
                                  "not match the data)";
  }

  // Decode (decompress-ply.ts).
  g.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float* ch = chunk_values.data() + (i / kChunkSplats) * 18;
    const uint32_t* pk = packed.data() + 4 * i;
    const double px[3] = {unpack_unorm(pk[0] >> 21, 11), unpack_unorm(pk[0] >> 11, 10),
                          unpack_unorm(pk[0], 11)};
    const double sx[3] = {unpack_unorm(pk[2] >> 21, 11), unpack_unorm(pk[2] >> 11, 10),
                          unpack_unorm(pk[2], 11)};
    for (int a = 0; a < 3; ++a) {
      g.means[3 * i + a] = static_cast<float>(lerp(ch[a], ch[3 + a], px[a]));
      g.log_scales[3 * i + a] = static_cast<float>(lerp(ch[6 + a], ch[9 + a], sx[a]));
      const double c = unpack_unorm(pk[3] >> (24 - 8 * a), 8);
      const double rgb = chunk_colours ? lerp(ch[12 + a], ch[15 + a], c) : c;
      g.sh[k_count * 3 * i + a] = static_cast<float>((rgb - 0.5) / kShC0d);
    }
    unpack_rotation(pk[1], g, i);
    g.opacity_logits[i] = logit_from_byte(pk[3] & 0xff);
    // SH: 0 and 255 are the ends of the range, other bytes bucket centres.
    const size_t per_channel = k_count - 1;
    for (size_t c = 0; c < 3; ++c) {
      for (size_t k = 1; k < k_count; ++k) {
        const uint8_t b = sh_bytes[i * 3 * per_channel + c * per_channel + k - 1];
        const double v = b == 0 ? 0.0 : b == 255 ? 1.0 : (b + 0.5) / 256.0;
        g.sh[(i * k_count + k) * 3 + c] = static_cast<float>((v - 0.5) * 8.0);
      }
    }
  }
  g.check(what);
  return g;
}

// ------------------------------------------------------------------------------------------------
// Dispatch

// The PLY header text at the start of `head` (up to 'end_header' or the end of `head`).
std::optional<SplatFormat> sniff_head(std::string_view head, uint64_t total_size) {
  if (head.substr(0, 4) == "ply\n" || head.substr(0, 5) == "ply\r\n") {
    const size_t end = head.find("end_header");
    const std::string_view text = head.substr(0, end);
    const bool compressed = text.find("element chunk ") != std::string_view::npos ||
                            text.find("packed_position") != std::string_view::npos;
    return compressed ? SplatFormat::CompressedPly : SplatFormat::Ply;
  }
  if (head.size() >= 3 && static_cast<uint8_t>(head[0]) == 0x1f &&
      static_cast<uint8_t>(head[1]) == 0x8b && static_cast<uint8_t>(head[2]) == 0x08)
    return SplatFormat::Spz;
  if (head.substr(0, 4) == "NGSP") return SplatFormat::Spz;
  if (total_size > 0 && total_size % kDotSplatRow == 0) return SplatFormat::Splat;
  return std::nullopt;
}

constexpr size_t kSniffBytes = size_t{64} << 10;

// The family a format belongs to, for the extension check (both PLY kinds are PLY files).
int family(SplatFormat f) { return f == SplatFormat::CompressedPly ? 0 : static_cast<int>(f); }

const char* content_name(SplatFormat f) {
  switch (f) {
    case SplatFormat::Ply:
      return "a 3DGS PLY";
    case SplatFormat::Splat:
      return ".splat rows";
    case SplatFormat::Spz:
      return "SPZ";
    case SplatFormat::CompressedPly:
      return "a compressed PLY";
  }
  return "?";
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Public API

void write_dot_splat(std::ostream& out, const Gaussians& g, const std::string& what) {
  g.check(what);
  write_dot_splat_body(out, g);
  GLIMPSE_CHECK(out.good()) << what << ": write failed";
}

void write_dot_splat(const std::string& path, const Gaussians& g) {
  g.check(path);
  write_file_atomically(path, [&](std::ostream& out) { write_dot_splat_body(out, g); });
}

Gaussians read_dot_splat(std::istream& in, const std::string& what) {
  return parse_dot_splat(read_all(in, what), what);
}

Gaussians read_dot_splat(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_dot_splat(in, path);
}

void write_spz(std::ostream& out, const Gaussians& g, const SpzOptions& options,
               const std::string& what) {
  check_spz_options(options, what);
  g.check(what);
  write_spz_body(out, g, options, what);
  GLIMPSE_CHECK(out.good()) << what << ": write failed";
}

void write_spz(const std::string& path, const Gaussians& g, const SpzOptions& options) {
  check_spz_options(options, path);
  g.check(path);
  // Compressed before the file is opened, so an encoding error leaves nothing behind.
  const std::string compressed = spz_encode(g, options, path);
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(compressed.data(), static_cast<std::streamsize>(compressed.size()));
  });
}

Gaussians read_spz(std::istream& in, const std::string& what, const SpzOptions& options) {
  const std::string data = read_all(in, what);
  GLIMPSE_CHECK(!data.empty()) << what << ": the file is empty (expected an SPZ file)";
  if (data.size() >= 4 && data.compare(0, 4, "NGSP") == 0) {
    GLIMPSE_CHECK(data.size() >= 8)
        << what << ": SPZ file of " << data.size() << " bytes, less than its 32-byte header";
    const uint32_t version = load_le<uint32_t>(data.data() + 4);
    GLIMPSE_CHECK(version >= 1 && version <= 4)
        << what << ": unsupported SPZ version " << version << " (Glimpse reads versions 1-4)";
    GLIMPSE_CHECK(version == 4)
        << what << ": uncompressed SPZ data (version " << version
        << "): SPZ versions 1-3 are gzip streams, as the reference reads them";
    return parse_spz_payload(spz_v4_payload(data, what), what, options);
  }
  GLIMPSE_CHECK(data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f &&
                static_cast<uint8_t>(data[1]) == 0x8b)
      << what << ": not an SPZ file (SPZ versions 1-3 are gzip streams, starting 1f 8b; version 4 "
      << "starts \"NGSP\")";
  return parse_spz_payload(gunzip(data, what), what, options);
}

Gaussians read_spz(const std::string& path, const SpzOptions& options) {
  std::ifstream in = open_input_file(path);
  return read_spz(in, path, options);
}

void write_compressed_ply(std::ostream& out, const Gaussians& g, const std::string& what) {
  g.check(what);
  write_compressed_ply_body(out, g);
  GLIMPSE_CHECK(out.good()) << what << ": write failed";
}

void write_compressed_ply(const std::string& path, const Gaussians& g) {
  g.check(path);
  write_file_atomically(path, [&](std::ostream& out) { write_compressed_ply_body(out, g); });
}

Gaussians read_compressed_ply(std::istream& in, const std::string& what) {
  return parse_compressed_ply(in, what);
}

Gaussians read_compressed_ply(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_compressed_ply(in, path);
}

SplatFormat splat_format_from_name(const std::string& name) {
  if (name == "ply") return SplatFormat::Ply;
  if (name == "splat") return SplatFormat::Splat;
  if (name == "spz") return SplatFormat::Spz;
  if (name == "compressed-ply") return SplatFormat::CompressedPly;
  GLIMPSE_FAIL() << "unknown splat format '" << name
                 << "' (expected ply, splat, spz or compressed-ply)";
  return SplatFormat::Ply;
}

const char* splat_format_name(SplatFormat format) {
  switch (format) {
    case SplatFormat::Ply:
      return "ply";
    case SplatFormat::Splat:
      return "splat";
    case SplatFormat::Spz:
      return "spz";
    case SplatFormat::CompressedPly:
      return "compressed-ply";
  }
  return "?";
}

std::optional<SplatFormat> splat_format_from_path(const std::string& path) {
  const std::string p = lower(path);
  if (ends_with(p, ".compressed.ply")) return SplatFormat::CompressedPly;
  if (ends_with(p, ".ply")) return SplatFormat::Ply;
  if (ends_with(p, ".splat")) return SplatFormat::Splat;
  if (ends_with(p, ".spz")) return SplatFormat::Spz;
  return std::nullopt;
}

std::optional<SplatFormat> sniff_splat_format(std::string_view bytes) {
  return sniff_head(bytes.substr(0, kSniffBytes), bytes.size());
}

std::optional<SplatFormat> sniff_splat_format(std::istream& in) {
  const std::streampos start = in.tellg();
  const auto total = ply::remaining_bytes(in);
  std::string head(kSniffBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  in.clear();
  if (start != std::streampos(-1)) in.seekg(start);
  return sniff_head(head, total ? *total : head.size());
}

Gaussians read_splat_file(const std::string& path) {
  std::optional<SplatFormat> content;
  {
    std::ifstream in = open_input_file(path);
    content = sniff_splat_format(in);
  }
  const std::optional<SplatFormat> by_name = splat_format_from_path(path);
  if (content && by_name) {
    GLIMPSE_CHECK(family(*content) == family(*by_name))
        << path << ": the extension says " << splat_format_name(*by_name) << " but the content is "
        << content_name(*content);
  }
  const std::optional<SplatFormat> format = content ? content : by_name;
  GLIMPSE_CHECK(format.has_value())
      << path << ": unknown splat format (not PLY, not SPZ, and "
      << "not a whole number of 32-byte .splat rows; the extension does not say either)";
  switch (*format) {
    case SplatFormat::Ply:
      return read_splat_ply(path);
    case SplatFormat::Splat:
      return read_dot_splat(path);
    case SplatFormat::Spz:
      return read_spz(path);
    case SplatFormat::CompressedPly:
      return read_compressed_ply(path);
  }
  return {};
}

void write_splat_file(const std::string& path, const Gaussians& g, SplatFormat format,
                      const SpzOptions& spz) {
  switch (format) {
    case SplatFormat::Ply:
      return write_splat_ply(path, g);
    case SplatFormat::Splat:
      return write_dot_splat(path, g);
    case SplatFormat::Spz:
      return write_spz(path, g, spz);
    case SplatFormat::CompressedPly:
      return write_compressed_ply(path, g);
  }
}

}  // namespace glimpse
