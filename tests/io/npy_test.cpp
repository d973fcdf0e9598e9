// .npy reader/writer: round trips, hand-made byte strings for every header version, dtype and
// order, and the error messages for bad magic, truncation and unsupported dtypes.
#include "io/npy.h"

#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace glimpse {
namespace {

using testing::TempDir;

// Raw little-endian bytes of a vector of T.
template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

// A .npy byte string with the given version, header dict text and payload. The header is padded
// with spaces and a newline to a multiple of 64 bytes, like numpy.save.
std::string make_npy(int major, const std::string& dict, const std::string& payload) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  const size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header.push_back('\n');
  std::string s = "\x93NUMPY";
  s.push_back(static_cast<char>(major));
  s.push_back('\0');
  const uint32_t len = static_cast<uint32_t>(header.size());
  s.push_back(static_cast<char>(len & 0xff));
  s.push_back(static_cast<char>((len >> 8) & 0xff));
  if (major != 1) {
    s.push_back(static_cast<char>((len >> 16) & 0xff));
    s.push_back(static_cast<char>((len >> 24) & 0xff));
  }
  return s + header + payload;
}

NpyArray parse(const std::string& bytes, const std::string& what = "fixture.npy") {
  std::istringstream in(bytes);
  return read_npy(in, what);
}

std::string dict(const std::string& descr, bool fortran, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

TEST(Npy, RoundTripFloat64) {
  const std::vector<double> data = {1.0, -2.5, 3.25, 1e-300, 6.02e23, -0.0};
  std::ostringstream out;
  write_npy(out, {2, 3}, data);
  const std::string bytes = out.str();
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);  // version 1.0
  const size_t header_len =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes[10 + header_len - 1], '\n');
  EXPECT_EQ(bytes.size(), 10 + header_len + data.size() * 8);

  const NpyArray a = parse(bytes);
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.data, data);
}

TEST(Npy, RoundTripShapes) {
  for (const std::vector<size_t>& shape :
       {std::vector<size_t>{}, {5}, {0, 3}, {2, 1, 3}, {1, 1, 1, 1, 2}}) {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    std::vector<double> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = 0.5 * static_cast<double>(i) - 1.0;
    std::ostringstream out;
    write_npy(out, shape, data);
    const NpyArray a = parse(out.str());
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.data, data);
  }
}

TEST(Npy, WriteRejectsWrongCount) {
  std::ostringstream out;
  EXPECT_ERROR_CONTAINS(write_npy(out, {2, 2}, {1.0, 2.0, 3.0}), "holds 4 values but 3");
}

TEST(Npy, FileRoundTripLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("a.npy");
  write_npy(path, {3}, {1.0, 2.0, 3.0});
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.data, (std::vector<double>{1.0, 2.0, 3.0}));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "a.npy");
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(Npy, MissingFileIsNamed) {
  EXPECT_ERROR_CONTAINS(read_npy("/nonexistent/glimpse/poses.npy"),
                        "/nonexistent/glimpse/poses.npy");
  EXPECT_ERROR_CONTAINS(read_npy("/nonexistent/glimpse/poses.npy"), "does not exist");
}

TEST(Npy, HandMadeVersion1Float64) {
  // The exact header numpy 1.x wrote for LLFF's poses_bounds.npy (80 bytes including preamble).
  const std::string header =
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }          \n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(header.size()));
  bytes.push_back('\0');
  bytes += header + bytes_of<double>({1.0, 2.0, 3.0, 4.0});
  ASSERT_EQ(10 + header.size(), 80u);
  const NpyArray a = parse(bytes);
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{1.0, 2.0, 3.0, 4.0}));
}

TEST(Npy, HandMadeVersion2And3) {
  for (int major : {2, 3}) {
    const NpyArray a =
        parse(make_npy(major, dict("<f8", false, "(3,)"), bytes_of<double>({7.0, 8.0, 9.0})));
    EXPECT_EQ(a.shape, (std::vector<size_t>{3})) << "version " << major;
    EXPECT_EQ(a.data, (std::vector<double>{7.0, 8.0, 9.0})) << "version " << major;
  }
}

TEST(Npy, DoubleQuotedKeysAndNoTrailingComma) {
  const NpyArray a =
      parse(make_npy(1, "{\"descr\": \"<f8\", \"shape\": (1,), \"fortran_order\": False}",
                     bytes_of<double>({5.0})));
  EXPECT_EQ(a.data, (std::vector<double>{5.0}));
}

TEST(Npy, Dtypes) {
  {
    const NpyArray a =
        parse(make_npy(1, dict("<f4", false, "(2,)"), bytes_of<float>({1.5f, -2.25f})));
    EXPECT_EQ(a.dtype, "<f4");
    EXPECT_EQ(a.data, (std::vector<double>{1.5, -2.25}));
  }
  {
    const NpyArray a =
        parse(make_npy(1, dict("<i4", false, "(3,)"), bytes_of<int32_t>({-7, 100000, 0})));
    EXPECT_EQ(a.data, (std::vector<double>{-7, 100000, 0}));
  }
  {
    const NpyArray a =
        parse(make_npy(1, dict("<i8", false, "(2,)"), bytes_of<int64_t>({-(int64_t{1} << 40), 3})));
    EXPECT_EQ(a.data, (std::vector<double>{-1099511627776.0, 3}));
  }
  {
    const NpyArray a =
        parse(make_npy(1, dict("<i2", false, "(2,)"), bytes_of<int16_t>({-32768, 32767})));
    EXPECT_EQ(a.data, (std::vector<double>{-32768, 32767}));
  }
  {
    const NpyArray a =
        parse(make_npy(1, dict("|u1", false, "(2, 2)"), bytes_of<uint8_t>({0, 255, 17, 128})));
    EXPECT_EQ(a.dtype, "|u1");
    EXPECT_EQ(a.data, (std::vector<double>{0, 255, 17, 128}));
  }
  {
    const NpyArray a = parse(make_npy(1, dict("|b1", false, "(3,)"), bytes_of<uint8_t>({0, 1, 1})));
    EXPECT_EQ(a.data, (std::vector<double>{0, 1, 1}));
  }
  {
    const NpyArray a = parse(make_npy(1, dict("<u2", false, "(1,)"), bytes_of<uint16_t>({65535})));
    EXPECT_EQ(a.data, (std::vector<double>{65535}));
  }
}

TEST(Npy, FortranOrder2D) {
  // A = [[1, 2, 3], [4, 5, 6]] stored column-major.
  const NpyArray a =
      parse(make_npy(1, dict("<f8", true, "(2, 3)"), bytes_of<double>({1, 4, 2, 5, 3, 6})));
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(Npy, FortranOrder3D) {
  const size_t d0 = 2, d1 = 3, d2 = 4;
  // Element (i, j, k) has value 100 i + 10 j + k; Fortran offset is i + d0 (j + d1 k).
  std::vector<int32_t> stored(d0 * d1 * d2);
  for (size_t i = 0; i < d0; ++i)
    for (size_t j = 0; j < d1; ++j)
      for (size_t k = 0; k < d2; ++k) stored[i + d0 * (j + d1 * k)] = int32_t(100 * i + 10 * j + k);
  const NpyArray a = parse(make_npy(1, dict("<i4", true, "(2, 3, 4)"), bytes_of(stored)));
  ASSERT_EQ(a.size(), d0 * d1 * d2);
  for (size_t i = 0; i < d0; ++i)
    for (size_t j = 0; j < d1; ++j)
      for (size_t k = 0; k < d2; ++k)
        EXPECT_EQ(a.data[(i * d1 + j) * d2 + k], double(100 * i + 10 * j + k));
}

TEST(Npy, FortranOrder1DIsUnchanged) {
  const NpyArray a = parse(make_npy(1, dict("<f8", true, "(3,)"), bytes_of<double>({1, 2, 3})));
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3}));
}

TEST(Npy, ScalarAndEmpty) {
  EXPECT_EQ(parse(make_npy(1, dict("<f8", false, "()"), bytes_of<double>({42.0}))).data,
            (std::vector<double>{42.0}));
  const NpyArray empty = parse(make_npy(1, dict("<f8", false, "(0, 17)"), ""));
  EXPECT_EQ(empty.shape, (std::vector<size_t>{0, 17}));
  EXPECT_TRUE(empty.data.empty());
}

TEST(Npy, BigEndianRejected) {
  EXPECT_ERROR_CONTAINS(parse(make_npy(1, dict(">f8", false, "(1,)"), std::string(8, '\0'))),
                        "big-endian");
  // Byte order is irrelevant for one-byte types.
  EXPECT_EQ(parse(make_npy(1, dict(">u1", false, "(1,)"), std::string(1, '\x05'))).data,
            (std::vector<double>{5}));
}

TEST(Npy, UnsupportedDtypes) {
  for (const std::string descr : {"<c16", "<f2", "<U3", "|O", "<M8[s]"}) {
    const std::string msg = testing::error_message(
        [&] { parse(make_npy(1, dict(descr, false, "(1,)"), std::string(16, '\0')), "x.npy"); });
    EXPECT_NE(msg.find("unsupported dtype"), std::string::npos) << msg;
    EXPECT_NE(msg.find("x.npy"), std::string::npos) << msg;
  }
  EXPECT_ERROR_CONTAINS(
      parse(make_npy(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", "")),
      "structured");
}

TEST(Npy, BadMagic) {
  const std::string msg =
      testing::error_message([] { parse("hello world, not numpy", "bad.npy"); });
  EXPECT_NE(msg.find("bad magic"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.npy"), std::string::npos) << msg;
  EXPECT_ERROR_CONTAINS(parse(""), "empty");
  EXPECT_ERROR_CONTAINS(parse(std::string("PK\x03\x04", 4)), "bad magic");  // an .npz
}

TEST(Npy, UnsupportedVersion) {
  std::string bytes = make_npy(1, dict("<f8", false, "(1,)"), bytes_of<double>({1.0}));
  bytes[6] = 4;
  EXPECT_ERROR_CONTAINS(parse(bytes), "version 4.0");
}

TEST(Npy, TruncatedHeader) {
  const std::string full = make_npy(1, dict("<f8", false, "(2,)"), bytes_of<double>({1, 2}));
  for (size_t cut : {4u, 7u, 9u, 30u, 127u}) {
    const std::string msg = testing::error_message([&] { parse(full.substr(0, cut), "cut.npy"); });
    EXPECT_NE(msg.find("truncated"), std::string::npos) << "cut at " << cut << ": " << msg;
    EXPECT_NE(msg.find("cut.npy"), std::string::npos) << msg;
  }
}

TEST(Npy, TruncatedData) {
  const std::string full = make_npy(1, dict("<f8", false, "(20, 17)"), std::string(2720, '\0'));
  const std::string msg = testing::error_message(
      [&] { parse(full.substr(0, full.size() - 2720 + 100), "poses_bounds.npy"); });
  EXPECT_NE(msg.find("truncated data"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 2720 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got 100"), std::string::npos) << msg;
  EXPECT_NE(msg.find("poses_bounds.npy"), std::string::npos) << msg;
}

TEST(Npy, HugeShapeDoesNotAllocate) {
  // A corrupt shape must give a "truncated" error, not an out-of-memory crash.
  EXPECT_ERROR_CONTAINS(parse(make_npy(1, dict("<f8", false, "(100000000000,)"), "abc")),
                        "truncated data");
  EXPECT_ERROR_CONTAINS(
      parse(make_npy(1, dict("<f8", false, "(100000000000, 100000000000, 100000000000)"), "")),
      "too large");
}

TEST(Npy, MalformedHeaders) {
  EXPECT_ERROR_CONTAINS(parse(make_npy(1, "{'descr': '<f8', 'fortran_order': False}", "")),
                        "no 'shape'");
  EXPECT_ERROR_CONTAINS(parse(make_npy(1, "not a dict", "")), "malformed");
  EXPECT_ERROR_CONTAINS(
      parse(make_npy(1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,), }", "")),
      "True or False");
  EXPECT_ERROR_CONTAINS(
      parse(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", "")),
      "non-negative");
  EXPECT_ERROR_CONTAINS(
      parse(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", "")),
      "unexpected key");
}

TEST(Npy, RealLlffPosesWhenDataDirIsSet) {
  const std::filesystem::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set";
  const NpyArray a = read_npy((data / "llff/fern/poses_bounds.npy").string());
  EXPECT_EQ(a.dtype, "<f8");
  ASSERT_EQ(a.shape, (std::vector<size_t>{20, 17}));
  EXPECT_EQ(a.data[4], 3024.0);  // full-resolution height
  EXPECT_EQ(a.data[9], 4032.0);  // full-resolution width
}

}  // namespace
}  // namespace glimpse
