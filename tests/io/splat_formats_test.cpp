// .splat, SPZ and PlayCanvas compressed PLY: round trips at SH degrees 0..3 within each format's
// stated quantisation (io/splat_formats.h), exact bytes of hand-computed rows, the reference
// writers' orders (importance for .splat, Morton for compressed PLY), bad input (empty, truncated,
// corrupt gzip or ZSTD, wrong headers and counts) with errors naming the file, atomic writes,
// dispatch.
#include "io/splat_formats.h"

#include "io/splat_ply.h"
#include "renderer/kernels/sh.h"
#include "tests/support/errors.h"
#include "tests/support/random_scene.h"
#include "tests/support/temp_dir.h"
#include "tests/support/zlib_fixtures.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <zlib.h>
#include <zstd.h>

namespace glimpse {
namespace {

using testing::TempDir;

// ------------------------------------------------------------------------------------------------
// Helpers

Gaussians scene(int n, int sh_degree, uint32_t seed = 7) {
  return testing::random_gaussians<float>(n, sh_degree, seed);
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Chord between the normalised quaternions, up to sign.
double quat_chord(const Gaussians& a, size_t i, const Gaussians& b, size_t j) {
  double qa[4], qb[4], na = 0, nb = 0, dot = 0;
  for (int c = 0; c < 4; ++c) {
    qa[c] = a.quats[4 * i + c], qb[c] = b.quats[4 * j + c];
    na += qa[c] * qa[c], nb += qb[c] * qb[c];
  }
  na = std::sqrt(na), nb = std::sqrt(nb);
  for (int c = 0; c < 4; ++c) dot += qa[c] / na * qb[c] / nb;
  return std::sqrt(std::max(0.0, 2.0 - 2.0 * std::abs(dot)));
}

double normalised_w(const Gaussians& g, size_t i) {
  double n = 0;
  for (int c = 0; c < 4; ++c) n += double(g.quats[4 * i + c]) * g.quats[4 * i + c];
  return std::abs(g.quats[4 * i]) / std::sqrt(n);
}

std::string write_bytes(const std::function<void(std::ostream&)>& write) {
  std::ostringstream out;
  write(out);
  return out.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string zlib_gzip(const std::string& data) {
  return testing::zlib_deflate(data, 16 + MAX_WBITS);
}

std::string zlib_gunzip(const std::string& data) {
  z_stream s = {};
  EXPECT_EQ(inflateInit2(&s, 32 + MAX_WBITS), Z_OK);
  std::string out(size_t{1} << 24, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  inflateEnd(&s);
  return out;
}

std::string hex(const std::string& bytes) {
  std::ostringstream s;
  for (unsigned char c : bytes) s << std::hex << (c < 16 ? "0" : "") << int(c) << " ";
  return s.str();
}

// The call throws glimpse::Error whose message starts with "<path>: " and mentions `text`.
void expect_error_naming(const std::function<void()>& call, const std::string& path,
                         const std::string& text) {
  const std::string message = testing::error_message(call);
  EXPECT_NE(message.find(path + ": "), std::string::npos) << message;
  EXPECT_NE(message.find(text), std::string::npos) << message << "\n  lacks: " << text;
}

// The index of the original Gaussian nearest to decoded Gaussian j (formats that reorder).
std::vector<size_t> match_by_position(const Gaussians& original, const Gaussians& decoded) {
  std::vector<size_t> match(decoded.size());
  std::vector<bool> used(original.size(), false);
  for (size_t j = 0; j < decoded.size(); ++j) {
    double best = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < original.size(); ++i) {
      double d = 0;
      for (int a = 0; a < 3; ++a)
        d += std::pow(original.means[3 * i + a] - decoded.means[3 * j + a], 2);
      if (d < best) best = d, match[j] = i;
    }
    EXPECT_FALSE(used[match[j]]) << "two decoded splats match original " << match[j];
    used[match[j]] = true;
  }
  return match;
}

// ------------------------------------------------------------------------------------------------
// .splat

TEST(DotSplat, RoundTripWithinEightBitFieldsAndImportanceOrder) {
  using Q = DotSplatQuantisation;
  for (int degree = 0; degree <= 3; ++degree) {
    SCOPED_TRACE("SH degree " + std::to_string(degree));
    const Gaussians g = scene(300, degree);
    const std::string bytes = write_bytes([&](std::ostream& o) { write_dot_splat(o, g); });
    ASSERT_EQ(bytes.size(), 300u * 32u);
    std::istringstream in(bytes);
    const Gaussians r = read_dot_splat(in, "t.splat");
    ASSERT_EQ(r.size(), g.size());
    EXPECT_EQ(r.sh_degree, 0);
    const int k = g.sh_coeffs();
    std::vector<size_t> match(r.size());
    for (size_t j = 0; j < r.size(); ++j) {
      // Positions are exact float32: find the original by them.
      size_t i = 0;
      while (i < g.size() &&
             !(g.means[3 * i] == r.means[3 * j] && g.means[3 * i + 1] == r.means[3 * j + 1] &&
               g.means[3 * i + 2] == r.means[3 * j + 2]))
        ++i;
      ASSERT_LT(i, g.size()) << "row " << j << " has no original with its exact position";
      match[j] = i;
      for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(r.log_scales[3 * j + a], g.log_scales[3 * i + a], 2e-6);  // float exp/log
        const double colour = std::clamp(0.5 + kShC0 * g.sh[i * k * 3 + a], 0.0, 1.0);
        EXPECT_NEAR(0.5 + kShC0 * r.sh[3 * j + a], colour, Q::kColour + 1e-6);
      }
      EXPECT_NEAR(sigmoid(r.opacity_logits[j]), sigmoid(g.opacity_logits[i]), Q::kOpacity + 1e-6);
      EXPECT_LE(quat_chord(g, i, r, j), Q::kQuaternion);
    }
    // Most important first: exp(sum of log scales) * sigmoid(opacity) never increases.
    auto importance = [&](size_t i) {
      return std::exp(double(g.log_scales[3 * i]) + g.log_scales[3 * i + 1] +
                      g.log_scales[3 * i + 2]) *
             sigmoid(g.opacity_logits[i]);
    };
    for (size_t j = 1; j < r.size(); ++j)
      EXPECT_GE(importance(match[j - 1]), importance(match[j])) << "row " << j;
  }
}

TEST(DotSplat, ExactBytesOfOneRow) {
  Gaussians g;
  g.resize(1);
  g.means = {1.0f, -2.0f, 0.25f};
  g.log_scales = {0.0f, 0.0f, 0.0f};          // exp -> exactly 1
  g.quats = {2.0f, 0.0f, 0.0f, 0.0f};         // normalised (1, 0, 0, 0): 256 -> 255, 128, 128, 128
  g.opacity_logits = {0.0f};                  // 0.5 * 255 = 127.5 -> 127 (truncated)
  g.sh = {0.0f, 1.0f / float(kShC0), -5.0f};  // 127.5 -> 127, 1.5 -> 255, < 0 -> 0
  const std::string bytes = write_bytes([&](std::ostream& o) { write_dot_splat(o, g); });
  std::string expected;
  for (float v : {1.0f, -2.0f, 0.25f, 1.0f, 1.0f, 1.0f}) {
    char b[4];
    std::memcpy(b, &v, 4);  // little-endian hosts (the test machines)
    expected.append(b, 4);
  }
  for (int v : {127, 255, 0, 127, 255, 128, 128, 128}) expected.push_back(static_cast<char>(v));
  EXPECT_EQ(hex(bytes), hex(expected));
}

TEST(DotSplat, BadInputNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("bad.splat");
  write_file(path, "");
  EXPECT_ERROR_CONTAINS(read_dot_splat(path), path + ": the file is empty");
  const std::string good = write_bytes([&](std::ostream& o) { write_dot_splat(o, scene(5, 0)); });
  for (size_t cut : {size_t{1}, size_t{31}, size_t{33}, size_t{100}, good.size() - 1}) {
    write_file(path, good.substr(0, cut));
    EXPECT_ERROR_CONTAINS(read_dot_splat(path), path + ": " + std::to_string(cut) +
                                                    " bytes is not a multiple of the 32-byte");
  }
  std::string negative = good;
  const float minus = -1.0f;
  std::memcpy(negative.data() + 12, &minus, 4);
  write_file(path, negative);
  EXPECT_ERROR_CONTAINS(read_dot_splat(path), path + ": row 0: scale -1 is negative");
}

// ------------------------------------------------------------------------------------------------
// SPZ

void expect_spz_round_trip(const Gaussians& g, const Gaussians& r, int version) {
  using Q = SpzQuantisation;
  ASSERT_EQ(r.size(), g.size());
  ASSERT_EQ(r.sh_degree, g.sh_degree);
  const size_t k = static_cast<size_t>(g.sh_coeffs());
  for (size_t i = 0; i < g.size(); ++i) {
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(r.means[3 * i + a], g.means[3 * i + a], Q::kPosition + 1e-6);
      EXPECT_NEAR(r.log_scales[3 * i + a], g.log_scales[3 * i + a], Q::kLogScale + 1e-6);
      EXPECT_NEAR(r.sh[k * 3 * i + a], g.sh[k * 3 * i + a], Q::kDc + 1e-6);
    }
    EXPECT_NEAR(sigmoid(r.opacity_logits[i]), sigmoid(g.opacity_logits[i]), Q::kOpacity + 1e-6);
    const double chord_bound =
        version >= 3 ? Q::kQuaternionV3 : Q::kQuaternionV2TimesW / normalised_w(g, i);
    EXPECT_LE(quat_chord(g, i, r, i), chord_bound) << "Gaussian " << i;
    for (size_t c = 1; c < k; ++c)
      for (size_t ch = 0; ch < 3; ++ch)
        EXPECT_NEAR(r.sh[(k * i + c) * 3 + ch], g.sh[(k * i + c) * 3 + ch],
                    (c <= 3 ? Q::kShBand1 : Q::kShBands23) + 1e-6);
  }
}

TEST(Spz, RoundTripWithinStatedQuantisation) {
  for (int version : {3, 2, 4}) {
    for (bool rub : {false, true}) {
      for (int degree = 0; degree <= 3; ++degree) {
        SCOPED_TRACE("version " + std::to_string(version) + ", rub " + std::to_string(rub) +
                     ", SH degree " + std::to_string(degree));
        const Gaussians g = scene(200, degree, 11 + degree);
        SpzOptions options;
        options.version = version;
        options.rub_axes = rub;
        const std::string bytes = write_bytes([&](std::ostream& o) { write_spz(o, g, options); });
        ASSERT_GE(bytes.size(), 4u);
        if (version == 4) {
          EXPECT_EQ(bytes.substr(0, 4), "NGSP");
        } else {
          EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0x1f);
          EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 0x8b);
        }
        std::istringstream in(bytes);
        expect_spz_round_trip(g, read_spz(in, "t.spz", options), version);
      }
    }
  }
}

// The uncompressed stream of one Gaussian, computed by hand from load-spz.cc's packGaussians.
TEST(Spz, ExactPayloadOfOneGaussian) {
  Gaussians g;
  g.sh_degree = 1;
  g.resize(1);
  g.means = {1.0f, -2.0f, 0.5f};        // * 4096: 4096, -8192, 2048
  g.log_scales = {0.0f, -10.0f, 6.0f};  // (s + 10) * 16: 160, 0, 256 -> 255
  g.quats = {1.0f, 0.0f, 0.0f, 0.0f};   // x y z w = 0 0 0 1: largest 3 -> 0xc0000000
  g.opacity_logits = {0.0f};            // 127.5 -> 128
  g.sh = {0.0f, 1.0f,  -1.0f,           // colours: 127.5 -> 128, 165.75 -> 166, 89.25 -> 89
          0.5f, -0.5f, 0.0f,            // SH: 192, 64, 128 (bucket 8: unchanged)
          0.1f, 0.99f, -0.03f,          // 12.8 -> 13 + 128 = 141 -> 144; 254.72 -> 255 ->
          0.0f, 0.0f,  0.0f};           // 256 -> 255; 124.16 -> 124 -> 128
  const std::string v3 = zlib_gunzip(write_bytes([&](std::ostream& o) { write_spz(o, g); }));
  const std::string header = std::string("NGSP") + std::string("\x03\0\0\0", 4) +
                             std::string("\x01\0\0\0", 4) + std::string("\x01\x0c\0\0", 4);
  const std::string positions("\x00\x10\x00\x00\xe0\xff\x00\x08\x00", 9);
  const std::string body =
      std::string("\x80", 1) + std::string("\x80\xa6\x59", 3) + std::string("\xa0\x00\xff", 3);
  const std::string sh("\xc0\x40\x80\x90\xff\x80\x80\x80\x80", 9);
  EXPECT_EQ(hex(v3), hex(header + positions + body + std::string("\0\0\0\xc0", 4) + sh));
  SpzOptions v2_options;
  v2_options.version = 2;
  const std::string v2 =
      zlib_gunzip(write_bytes([&](std::ostream& o) { write_spz(o, g, v2_options); }));
  std::string header2 = header;
  header2[4] = 2;
  EXPECT_EQ(hex(v2), hex(header2 + positions + body + std::string("\x80\x80\x80", 3) + sh));
  // RUB axes: y and z negated, the quaternion's y z negated, SH band 1 (y z x) signs -1 -1 +1.
  SpzOptions rub;
  rub.rub_axes = true;
  const std::string v3_rub =
      zlib_gunzip(write_bytes([&](std::ostream& o) { write_spz(o, g, rub); }));
  const std::string positions_rub("\x00\x10\x00\x00\x20\x00\x00\xf8\xff", 9);
  const std::string sh_rub("\x40\xc0\x80\x70\x00\x88\x80\x80\x80", 9);  // 0.03: 132 -> 136
  EXPECT_EQ(hex(v3_rub),
            hex(header + positions_rub + body + std::string("\0\0\0\xc0", 4) + sh_rub));
}

// Version 4 of the same Gaussian: the 32-byte header, the table of contents and the uncompressed
// streams (the same blocks as version 3), each its own ZSTD frame.
TEST(Spz, ExactVersion4FileOfOneGaussian) {
  Gaussians g;
  g.sh_degree = 1;
  g.resize(1);
  g.means = {1.0f, -2.0f, 0.5f};
  g.log_scales = {0.0f, -10.0f, 6.0f};
  g.quats = {1.0f, 0.0f, 0.0f, 0.0f};
  g.opacity_logits = {0.0f};
  g.sh = {0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 0.0f, 0.1f, 0.99f, -0.03f, 0.0f, 0.0f, 0.0f};
  SpzOptions v4;
  v4.version = 4;
  v4.antialiased = true;
  const std::string file = write_bytes([&](std::ostream& o) { write_spz(o, g, v4); });
  ASSERT_GT(file.size(), 32u + 6 * 16);
  // magic, version 4, numPoints 1, shDegree 1, fractionalBits 12, flags 0x1, numStreams 6,
  // tocByteOffset 32, 12 reserved bytes.
  const std::string header = std::string("NGSP") + std::string("\x04\0\0\0", 4) +
                             std::string("\x01\0\0\0", 4) + std::string("\x01\x0c\x01\x06", 4) +
                             std::string("\x20\0\0\0", 4) + std::string(12, '\0');
  EXPECT_EQ(hex(file.substr(0, 32)), hex(header));
  const std::vector<std::string> streams = {std::string("\x00\x10\x00\x00\xe0\xff\x00\x08\x00", 9),
                                            std::string("\x80", 1),
                                            std::string("\x80\xa6\x59", 3),
                                            std::string("\xa0\x00\xff", 3),
                                            std::string("\0\0\0\xc0", 4),
                                            std::string("\xc0\x40\x80\x90\xff\x80\x80\x80\x80", 9)};
  size_t offset = 32 + 6 * 16;
  for (size_t i = 0; i < streams.size(); ++i) {
    uint64_t compressed = 0, raw = 0;
    std::memcpy(&compressed, file.data() + 32 + 16 * i, 8);  // little-endian hosts
    std::memcpy(&raw, file.data() + 32 + 16 * i + 8, 8);
    EXPECT_EQ(raw, streams[i].size()) << "stream " << i;
    ASSERT_LE(offset + compressed, file.size()) << "stream " << i;
    std::string decoded(streams[i].size() + 16, '\0');
    const size_t n =
        ZSTD_decompress(decoded.data(), decoded.size(), file.data() + offset, compressed);
    ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
    decoded.resize(n);
    EXPECT_EQ(hex(decoded), hex(streams[i])) << "stream " << i;
    offset += compressed;
  }
  EXPECT_EQ(offset, file.size());
  // SH degree 0: no sh stream (numStreams 5), as the reference skips empty blocks.
  g.sh_degree = 0;
  g.sh.resize(3);
  const std::string dc_only = write_bytes([&](std::ostream& o) { write_spz(o, g, v4); });
  EXPECT_EQ(static_cast<int>(dc_only[15]), 5);
  std::istringstream in(dc_only);
  const Gaussians r = read_spz(in, "dc.spz");
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.sh_degree, 0);
  EXPECT_NEAR(r.means[1], -2.0f, 1e-6);
}

TEST(Spz, LargeScenesGiveUpFractionalBitsInsteadOfWrapping) {
  Gaussians g = scene(3, 0);
  g.means[0] = 5000.0f;  // beyond 2^23 / 4096 = 2048
  const std::string payload = zlib_gunzip(write_bytes([&](std::ostream& o) { write_spz(o, g); }));
  EXPECT_EQ(static_cast<int>(payload[13]), 10);  // 5000 * 1024 < 2^23 <= 5000 * 2048
  std::istringstream in(write_bytes([&](std::ostream& o) { write_spz(o, g); }));
  const Gaussians r = read_spz(in, "big.spz");
  EXPECT_NEAR(r.means[0], 5000.0f, 0.5 / 1024);
  g.means[0] = 1e7f;
  EXPECT_ERROR_CONTAINS(write_bytes([&](std::ostream& o) { write_spz(o, g, {}, "huge.spz"); }),
                        "huge.spz: a coordinate of magnitude");
}

// Rewrites the uncompressed header of a valid SPZ and compresses it again.
std::string spz_with(const std::function<void(std::string&)>& edit) {
  std::string payload =
      zlib_gunzip(write_bytes([&](std::ostream& o) { write_spz(o, scene(4, 1)); }));
  edit(payload);
  return zlib_gzip(payload);
}

TEST(Spz, BadInputNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("bad.spz");
  auto expect_error = [&](const std::string& bytes, const std::string& text) {
    write_file(path, bytes);
    expect_error_naming([&] { read_spz(path); }, path, text);
  };
  expect_error("", "the file is empty");
  const std::string good = write_bytes([&](std::ostream& o) { write_spz(o, scene(50, 2)); });
  for (size_t cut : {size_t{1}, size_t{2}, size_t{9}, size_t{40}, good.size() / 2, good.size() - 1})
    expect_error(good.substr(0, cut), cut < 2 ? "not an SPZ file" : "truncated gzip stream");
  std::string crc = good;
  crc[crc.size() - 6] ^= 0x5a;  // CRC32 of the trailer
  expect_error(crc, "corrupt gzip stream");
  std::string garbage = good.substr(0, 10) + std::string(64, '\x7f');
  expect_error(garbage, "corrupt gzip stream");
  expect_error(spz_with([](std::string& p) { p[0] = 'X'; }), "not an SPZ file (magic 0x");
  expect_error(spz_with([](std::string& p) { p[4] = 7; }), "unsupported SPZ version 7");
  expect_error(spz_with([](std::string& p) { p[4] = 0; }), "unsupported SPZ version 0");
  expect_error(spz_with([](std::string& p) { p[12] = 4; }), "SPZ SH degree 4 is not supported");
  expect_error(spz_with([](std::string& p) { p[8] = 5; }), "numPoints 5 does not match the data");
  expect_error(spz_with([](std::string& p) { p[8] = 3; }), "numPoints 3 does not match the data");
  expect_error(spz_with([](std::string& p) { p[8] = 0; }), "numPoints 0");
  expect_error(spz_with([](std::string& p) { p.resize(p.size() - 1); }), "does not match the data");
  expect_error(zlib_gzip("NGSP"), "less than its 16-byte header");
  expect_error(std::string("NGSP\x02\0\0\0", 8) + std::string(24, '\0'), "uncompressed SPZ data");
  expect_error(std::string("NGSP\x05\0\0\0", 8) + std::string(24, '\0'),
               "unsupported SPZ version 5");
  expect_error("PK\x03\x04 not gzip", "not an SPZ file (SPZ versions 1-3 are gzip");
  SpzOptions v9;
  v9.version = 9;
  EXPECT_ERROR_CONTAINS(write_spz(dir.file("v9.spz"), scene(2, 0), v9), "SPZ version 9 cannot");
  EXPECT_FALSE(std::filesystem::exists(dir.file("v9.spz")));
}

// A valid version 4 file of 50 Gaussians at SH degree 2 (6 streams).
std::string spz_v4(int n = 50, int degree = 2) {
  SpzOptions v4;
  v4.version = 4;
  return write_bytes([&](std::ostream& o) { write_spz(o, scene(n, degree), v4); });
}

uint64_t toc_field(const std::string& file, size_t stream, size_t field) {
  uint64_t v = 0;
  std::memcpy(&v, file.data() + 32 + 16 * stream + 8 * field, 8);  // little-endian hosts
  return v;
}

void set_toc_field(std::string& file, size_t stream, size_t field, uint64_t v) {
  std::memcpy(file.data() + 32 + 16 * stream + 8 * field, &v, 8);
}

// The byte offset of stream i's ZSTD frame.
size_t frame_offset(const std::string& file, size_t stream) {
  size_t at = 32 + 16 * static_cast<size_t>(static_cast<uint8_t>(file[15]));
  for (size_t i = 0; i < stream; ++i) at += toc_field(file, i, 0);
  return at;
}

TEST(Spz, Version4BadInputNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("bad4.spz");
  auto expect_error = [&](const std::string& bytes, const std::string& text) {
    write_file(path, bytes);
    expect_error_naming([&] { read_spz(path); }, path, text);
  };
  const std::string good = spz_v4();
  {
    std::istringstream in(good);
    EXPECT_EQ(read_spz(in, "good.spz").size(), 50u);
  }
  // Truncated: in the header, in the table, in the first and the last stream, one byte short.
  expect_error(good.substr(0, 6), "less than its 32-byte header");
  expect_error(good.substr(0, 31), "less than its 32-byte header");
  for (size_t cut : {size_t{32}, size_t{40}, size_t{32 + 6 * 16 - 1}})
    expect_error(good.substr(0, cut), "table of contents");
  for (size_t cut : {frame_offset(good, 0) + 5, frame_offset(good, 5) + 1, good.size() - 1})
    expect_error(good.substr(0, cut), "runs past the end of the file");
  // Header fields.
  auto edited = [&](const std::function<void(std::string&)>& edit) {
    std::string f = good;
    edit(f);
    return f;
  };
  expect_error(edited([](std::string& f) { f[8] = 0; }), "numPoints 0");
  expect_error(edited([](std::string& f) { f[12] = 4; }), "SPZ SH degree 4 is not supported");
  expect_error(edited([](std::string& f) { f[12] = 1; }), "stream 'sh' holds 1200 bytes");
  expect_error(edited([](std::string& f) { f[15] = 5; }), "numStreams 5, expected 6");
  expect_error(edited([](std::string& f) { f[16] = 8; }), "table of contents (tocByteOffset 8");
  expect_error(edited([](std::string& f) { f[17] = 0x70; }), "does not fit the file");
  expect_error(edited([](std::string& f) { f[13] = 30; }), "fractionalBits 30 is out of range");
  // numPoints larger than the data: the table disagrees before anything is allocated.
  expect_error(edited([](std::string& f) { f[11] = 0x7f; }),
               "stream 'positions' holds 450 bytes uncompressed, numPoints 2130706482 needs");
  // Table sizes: uncompressed sizes that disagree with numPoints, compressed sizes that leave
  // bytes over or run past the end, a huge size (no overflow).
  expect_error(edited([](std::string& f) { set_toc_field(f, 1, 1, 51); }),
               "stream 'alphas' holds 51 bytes uncompressed, numPoints 50 needs 50");
  expect_error(edited([](std::string& f) { set_toc_field(f, 5, 0, toc_field(f, 5, 0) - 1); }),
               "1 bytes follow the last ZSTD stream");
  expect_error(edited([](std::string& f) { set_toc_field(f, 2, 0, ~uint64_t{0}); }),
               "stream 'colors'");
  expect_error(good + "x", "1 bytes follow the last ZSTD stream");
  // A compressed size one short moves the next frame: the first frame is cut, the next misread.
  expect_error(edited([](std::string& f) {
                 set_toc_field(f, 0, 0, toc_field(f, 0, 0) - 1);
                 set_toc_field(f, 1, 0, toc_field(f, 1, 0) + 1);
               }),
               "ZSTD stream 'positions'");
  // Corrupt frames: a bad magic, garbage inside a frame's data.
  expect_error(edited([&](std::string& f) { f[frame_offset(f, 0)] ^= 0x55; }),
               "corrupt ZSTD stream 'positions'");
  expect_error(edited([&](std::string& f) {
                 const size_t at = frame_offset(f, 4), size = toc_field(f, 4, 0);
                 for (size_t i = at + 6; i < at + size; ++i) f[i] = '\x7f';
               }),
               "ZSTD stream 'rotations'");
  // A valid frame of the wrong size (the table agrees with numPoints, the frame does not), with
  // and without the content size in its header.
  for (bool content_size : {true, false}) {
    SCOPED_TRACE(content_size ? "content size" : "no content size");
    std::string f = good;
    const std::string alphas(49, '\x80');
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
    std::string frame(ZSTD_compressBound(alphas.size()), '\0');
    frame.resize(ZSTD_compress2(cctx.get(), frame.data(), frame.size(), alphas.data(), 49));
    const size_t at = frame_offset(f, 1), old_size = toc_field(f, 1, 0);
    f.replace(at, old_size, frame);
    set_toc_field(f, 1, 0, frame.size());
    expect_error(f, content_size ? "ZSTD stream 'alphas' declares 49 bytes, the header's numPoints "
                                   "needs 50"
                                 : "ZSTD stream 'alphas' decompresses to 49 bytes");
  }
  // Writing version 4 and reading it back by file (atomic write, dispatch by content).
  SpzOptions v4;
  v4.version = 4;
  write_spz(dir.file("ok.spz"), scene(5, 3), v4);
  EXPECT_EQ(read_file(dir.file("ok.spz")).substr(0, 4), "NGSP");
  EXPECT_EQ(read_splat_file(dir.file("ok.spz")).size(), 5u);
  SpzOptions v1;
  v1.version = 1;
  EXPECT_ERROR_CONTAINS(write_spz(dir.file("v1.spz"), scene(2, 0), v1), "SPZ version 1 cannot");
}

TEST(Spz, ReadsAnExtensionsFlaggedStreamWithTrailingRecords) {
  // Flag 0x2: extension records follow the attributes (the reference skips unknown ones).
  const std::string bytes = spz_with([](std::string& p) {
    p[14] = 0x2;
    p += std::string("\x01\0\0\0\x04\0\0\0abcd", 12);
  });
  std::istringstream in(bytes);
  EXPECT_EQ(read_spz(in, "ext.spz").size(), 4u);
}

// ------------------------------------------------------------------------------------------------
// Compressed PLY

void expect_compressed_round_trip(const Gaussians& g, const Gaussians& r) {
  using Q = CompressedPlyQuantisation;
  ASSERT_EQ(r.size(), g.size());
  ASSERT_EQ(r.sh_degree, g.sh_degree);
  const std::vector<size_t> match = match_by_position(g, r);
  const size_t k = static_cast<size_t>(g.sh_coeffs());
  for (size_t c = 0; c * 256 < r.size(); ++c) {
    const size_t begin = c * 256, end = std::min(r.size(), begin + 256);
    // The chunk's ranges, from the originals it holds.
    double lo[9], hi[9];
    std::fill(lo, lo + 9, 1e30), std::fill(hi, hi + 9, -1e30);
    for (size_t j = begin; j < end; ++j) {
      const size_t i = match[j];
      for (int a = 0; a < 3; ++a) {
        const double v[3] = {g.means[3 * i + a], g.log_scales[3 * i + a],
                             0.5 + kShC0 * g.sh[k * 3 * i + a]};
        for (int q = 0; q < 3; ++q)
          lo[3 * q + a] = std::min(lo[3 * q + a], v[q]),
                     hi[3 * q + a] = std::max(hi[3 * q + a], v[q]);
      }
    }
    const double fraction[3] = {Q::kPositionFractionX, Q::kPositionFractionY,
                                Q::kPositionFractionZ};
    for (size_t j = begin; j < end; ++j) {
      const size_t i = match[j];
      for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(r.means[3 * j + a], g.means[3 * i + a],
                    (hi[a] - lo[a]) * fraction[a] + 1e-6 * (1 + std::abs(g.means[3 * i + a])));
        EXPECT_NEAR(r.log_scales[3 * j + a], g.log_scales[3 * i + a],
                    (hi[3 + a] - lo[3 + a]) * fraction[a] + 1e-5);
        EXPECT_NEAR(0.5 + kShC0 * r.sh[k * 3 * j + a], 0.5 + kShC0 * g.sh[k * 3 * i + a],
                    (hi[6 + a] - lo[6 + a]) * Q::kColourFraction + 1e-6);
      }
      EXPECT_NEAR(sigmoid(r.opacity_logits[j]), sigmoid(g.opacity_logits[i]), Q::kOpacity + 1e-6);
      EXPECT_LE(quat_chord(g, i, r, j), Q::kQuaternion);
      for (size_t s = 3; s < 3 * k; ++s)
        EXPECT_NEAR(r.sh[k * 3 * j + s], g.sh[k * 3 * i + s], Q::kSh + 1e-6);
    }
  }
}

TEST(CompressedPly, RoundTripWithinStatedQuantisation) {
  for (int degree = 0; degree <= 3; ++degree) {
    SCOPED_TRACE("SH degree " + std::to_string(degree));
    const Gaussians g = scene(700, degree, 21 + degree);  // 3 chunks, the last one partial
    const std::string bytes = write_bytes([&](std::ostream& o) { write_compressed_ply(o, g); });
    std::istringstream in(bytes);
    expect_compressed_round_trip(g, read_compressed_ply(in, "t.compressed.ply"));
  }
}

TEST(CompressedPly, HeaderAndMortonOrder) {
  Gaussians g;
  g.sh_degree = 1;
  g.resize(4);
  g.means = {1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0};  // Morton order: (0 0 0) (1 0 0) (0 1 0) (1 1 1)
  const std::string bytes = write_bytes([&](std::ostream& o) { write_compressed_ply(o, g); });
  std::string header =
      "ply\nformat binary_little_endian 1.0\ncomment Generated by Glimpse\n"
      "element chunk 1\n";
  for (const char* p : {"min_x", "min_y", "min_z", "max_x", "max_y", "max_z", "min_scale_x",
                        "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z",
                        "min_r", "min_g", "min_b", "max_r", "max_g", "max_b"})
    header += std::string("property float ") + p + "\n";
  header +=
      "element vertex 4\nproperty uint packed_position\nproperty uint packed_rotation\n"
      "property uint packed_scale\nproperty uint packed_color\nelement sh 4\n";
  for (int k = 0; k < 9; ++k) header += "property uchar f_rest_" + std::to_string(k) + "\n";
  header += "end_header\n";
  ASSERT_EQ(bytes.substr(0, header.size()), header);
  EXPECT_EQ(bytes.size(), header.size() + 18 * 4 + 4 * 16 + 4 * 9);
  std::istringstream in(bytes);
  const Gaussians r = read_compressed_ply(in, "t.compressed.ply");
  EXPECT_EQ(r.means, (std::vector<float>{0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1}));
  // Identity rotations (the three small components land on the bucket next to 0); zero SH decodes
  // to the bucket centre 1/64.
  for (size_t i = 0; i < 4; ++i)
    EXPECT_LE(quat_chord(g, i, r, i), CompressedPlyQuantisation::kQuaternion);
  EXPECT_NEAR(r.sh[3], 0.0f, CompressedPlyQuantisation::kSh);
}

TEST(CompressedPly, BadInputNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("bad.compressed.ply");
  auto expect_error = [&](const std::string& bytes, const std::string& text) {
    write_file(path, bytes);
    expect_error_naming([&] { read_compressed_ply(path); }, path, text);
  };
  expect_error("", "not a PLY file");
  const std::string good =
      write_bytes([&](std::ostream& o) { write_compressed_ply(o, scene(300, 1)); });
  const size_t data = good.find("end_header\n") + 11;
  for (size_t cut : {size_t{2}, size_t{50}, data - 3})
    expect_error(good.substr(0, cut), "");  // a header error naming the file
  for (size_t cut : {data + 7, data + 2 * 18 * 4 + 100, good.size() - 1})
    expect_error(good.substr(0, cut), "truncated data");
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_error(edited("element chunk 2", "element chunk 3"),
               "'element chunk 3' does not match 'element vertex 300'");
  expect_error(edited("element chunk 2", "element chunk 1"), "ceil(300 / 256) = 2");
  expect_error(edited("uint packed_rotation", "uint packed_rotatio_"),
               "missing property 'packed_rotation'");
  expect_error(edited("float min_x", "double min_x"),
               "property 'min_x' of element 'chunk' must be");
  expect_error(good + "xx", "2 bytes follow the elements");
  expect_error(edited("format binary_little_endian", "format ascii"), "ASCII");
}

// ------------------------------------------------------------------------------------------------
// Dispatch and atomic writes

TEST(SplatFormats, NamesExtensionsAndSniffing) {
  EXPECT_EQ(splat_format_from_name("ply"), SplatFormat::Ply);
  EXPECT_EQ(splat_format_from_name("splat"), SplatFormat::Splat);
  EXPECT_EQ(splat_format_from_name("spz"), SplatFormat::Spz);
  EXPECT_EQ(splat_format_from_name("compressed-ply"), SplatFormat::CompressedPly);
  EXPECT_ERROR_CONTAINS(splat_format_from_name("ksplat"), "unknown splat format 'ksplat'");
  EXPECT_EQ(splat_format_from_path("a/b.compressed.ply"), SplatFormat::CompressedPly);
  EXPECT_EQ(splat_format_from_path("a/B.PLY"), SplatFormat::Ply);
  EXPECT_EQ(splat_format_from_path("x.splat"), SplatFormat::Splat);
  EXPECT_EQ(splat_format_from_path("x.spz"), SplatFormat::Spz);
  EXPECT_EQ(splat_format_from_path("x.ksplat"), std::nullopt);

  const Gaussians g = scene(10, 1);
  std::ostringstream ply;
  write_splat_ply(ply, g);
  EXPECT_EQ(sniff_splat_format(ply.str()), SplatFormat::Ply);
  EXPECT_EQ(sniff_splat_format(write_bytes([&](std::ostream& o) { write_compressed_ply(o, g); })),
            SplatFormat::CompressedPly);
  EXPECT_EQ(sniff_splat_format(write_bytes([&](std::ostream& o) { write_spz(o, g); })),
            SplatFormat::Spz);
  EXPECT_EQ(sniff_splat_format(write_bytes([&](std::ostream& o) { write_dot_splat(o, g); })),
            SplatFormat::Splat);
  EXPECT_EQ(sniff_splat_format(std::string(33, 'x')), std::nullopt);
  EXPECT_EQ(sniff_splat_format(std::string()), std::nullopt);
  std::istringstream stream("ply\nformat binary_little_endian 1.0\nelement chunk 1\n");
  stream.seekg(0);
  EXPECT_EQ(sniff_splat_format(stream), SplatFormat::CompressedPly);
  EXPECT_EQ(stream.tellg(), 0);  // position restored
}

TEST(SplatFormats, ReadAndWriteEveryFormatByFile) {
  TempDir dir;
  const Gaussians g = scene(40, 2);
  const std::pair<SplatFormat, std::string> cases[] = {
      {SplatFormat::Ply, "a.ply"},
      {SplatFormat::Splat, "a.splat"},
      {SplatFormat::Spz, "a.spz"},
      {SplatFormat::CompressedPly, "a.compressed.ply"}};
  for (const auto& [format, name] : cases) {
    SCOPED_TRACE(name);
    write_splat_file(dir.file(name), g, format);
    EXPECT_EQ(sniff_splat_format(read_file(dir.file(name))), format);
    const Gaussians r = read_splat_file(dir.file(name));
    EXPECT_EQ(r.size(), g.size());
    EXPECT_EQ(r.sh_degree, format == SplatFormat::Splat ? 0 : 2);
  }
  // A compressed PLY named plain .ply is still read (both are PLY files).
  std::filesystem::copy_file(dir.file("a.compressed.ply"), dir.file("renamed.ply"));
  EXPECT_EQ(read_splat_file(dir.file("renamed.ply")).sh_degree, 2);
  // The extension and the content disagree.
  std::filesystem::copy_file(dir.file("a.spz"), dir.file("wrong.splat"));
  EXPECT_ERROR_CONTAINS(
      read_splat_file(dir.file("wrong.splat")),
      dir.file("wrong.splat") + ": the extension says splat but the content is SPZ");
  std::filesystem::copy_file(dir.file("a.ply"), dir.file("wrong.spz"));
  EXPECT_ERROR_CONTAINS(read_splat_file(dir.file("wrong.spz")),
                        ": the extension says spz but the content is a 3DGS PLY");
  // Content no format fits: the extension's reader explains.
  write_file(dir.file("odd.splat"), std::string(33, 'x'));
  EXPECT_ERROR_CONTAINS(read_splat_file(dir.file("odd.splat")), "33 bytes is not a multiple");
  write_file(dir.file("odd.bin"), std::string(33, 'x'));
  EXPECT_ERROR_CONTAINS(read_splat_file(dir.file("odd.bin")),
                        dir.file("odd.bin") + ": unknown splat format");
  // Empty and missing files.
  for (const std::string name : {"empty.splat", "empty.spz", "empty.compressed.ply", "empty.ply"}) {
    write_file(dir.file(name), "");
    EXPECT_ERROR_CONTAINS(read_splat_file(dir.file(name)), dir.file(name) + ": ");
  }
  EXPECT_ERROR_CONTAINS(read_splat_file(dir.file("missing.spz")), "does not exist");
}

TEST(SplatFormats, FailedWritesLeaveNoFile) {
  TempDir dir;
  Gaussians bad = scene(5, 1);
  bad.means[4] = std::numeric_limits<float>::quiet_NaN();
  for (SplatFormat format : {SplatFormat::Splat, SplatFormat::Spz, SplatFormat::CompressedPly}) {
    const std::string path = dir.file(std::string("out.") + splat_format_name(format));
    EXPECT_ERROR_CONTAINS(write_splat_file(path, bad, format), path);
    EXPECT_FALSE(std::filesystem::exists(path));
    const std::string missing = dir.file("no/such/folder/out.x");
    EXPECT_ERROR_CONTAINS(write_splat_file(missing, scene(5, 1), format), "no/such/folder");
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace glimpse
