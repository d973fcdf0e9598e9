// Splat PLY writer and reader: bit-exact round trips for SH degrees 0..3, the exact reference byte
// layout (header text, channel-major f_rest, w-first quaternions), hand-made files from other
// writers (shuffled order, double and integer types, extra properties and elements, ASCII) and
// the error messages for bad headers, missing properties, truncation and NaN values.
#include "io/splat_ply.h"

#include "tests/support/errors.h"
#include "tests/support/random_scene.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

namespace glimpse {
namespace {

using testing::TempDir;

const char* const kTail[] = {"opacity", "scale_0", "scale_1", "scale_2",
                             "rot_0",   "rot_1",   "rot_2",   "rot_3"};

// Bitwise equality of two float arrays (distinguishes -0 and 0, unlike ==).
void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const char* name) {
  ASSERT_EQ(a.size(), b.size()) << name;
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t x, y;
    std::memcpy(&x, &a[i], 4);
    std::memcpy(&y, &b[i], 4);
    ASSERT_EQ(x, y) << name << "[" << i << "]: " << a[i] << " vs " << b[i];
  }
}

void expect_same_gaussians(const Gaussians& a, const Gaussians& b) {
  EXPECT_EQ(a.sh_degree, b.sh_degree);
  expect_same_bits(a.means, b.means, "means");
  expect_same_bits(a.log_scales, b.log_scales, "log_scales");
  expect_same_bits(a.quats, b.quats, "quats");
  expect_same_bits(a.opacity_logits, b.opacity_logits, "opacity_logits");
  expect_same_bits(a.sh, b.sh, "sh");
}

std::string write_to_string(const Gaussians& g) {
  std::ostringstream out;
  write_splat_ply(out, g);
  return out.str();
}

Gaussians parse(const std::string& bytes, const std::string& what = "fixture.ply") {
  std::istringstream in(bytes);
  return read_splat_ply(in, what);
}

// A stream buffer that cannot seek (like a pipe), so the reader cannot learn the data size up
// front and must detect truncation while reading.
class PipeBuffer : public std::streambuf {
 public:
  explicit PipeBuffer(std::string data) : data_(std::move(data)) {
    setg(data_.data(), data_.data(), data_.data() + data_.size());
  }

 private:
  std::string data_;
};

// One property of a hand-made PLY: its type name and the value for every vertex.
struct Column {
  std::string type;
  std::string name;
  std::vector<double> values;
};

void append_value(std::string& out, const std::string& type, double v, bool big_endian = false) {
  auto put = [&](auto x) {
    char bytes[sizeof(x)];
    std::memcpy(bytes, &x, sizeof(x));
    if (big_endian) std::reverse(bytes, bytes + sizeof(x));
    out.append(bytes, sizeof(x));
  };
  if (type == "float") {
    put(static_cast<float>(v));
  } else if (type == "double") {
    put(v);
  } else if (type == "uchar") {
    put(static_cast<uint8_t>(v));
  } else if (type == "int") {
    put(static_cast<int32_t>(v));
  } else if (type == "short") {
    put(static_cast<int16_t>(v));
  } else {
    ADD_FAILURE() << "test helper: unknown type " << type;
  }
}

// A binary little-endian PLY with one vertex element made of `columns`, the given extra header
// lines before it (comments, other elements) and raw bytes `prefix` for those elements.
std::string make_ply(const std::vector<Column>& columns, const std::string& before = "",
                     const std::string& prefix = "", const std::string& after = "",
                     bool big_endian = false) {
  const size_t n = columns.empty() ? 0 : columns[0].values.size();
  std::string s = std::string("ply\nformat ") +
                  (big_endian ? "binary_big_endian" : "binary_little_endian") +
                  " 1.0\ncomment hand-made test file\n" + before;
  s += "element vertex " + std::to_string(n) + "\n";
  for (const Column& c : columns) s += "property " + c.type + " " + c.name + "\n";
  s += after + "end_header\n" + prefix;
  for (size_t i = 0; i < n; ++i)
    for (const Column& c : columns) append_value(s, c.type, c.values[i], big_endian);
  return s;
}

// The required columns of a degree-0 splat for two vertices, all float.
std::vector<Column> degree0_columns() {
  std::vector<Column> cols = {{"float", "x", {1, -1}},         {"float", "y", {2, -2}},
                              {"float", "z", {3, -3}},         {"float", "f_dc_0", {0.1, 0.4}},
                              {"float", "f_dc_1", {0.2, 0.5}}, {"float", "f_dc_2", {0.3, 0.6}}};
  const double tail[2][8] = {{0.5, -1, -2, -3, 1, 0, 0, 0}, {-0.5, -4, -5, -6, 0, 1, 0, 0}};
  for (int j = 0; j < 8; ++j) cols.push_back({"float", kTail[j], {tail[0][j], tail[1][j]}});
  return cols;
}

TEST(SplatPly, RoundTripIsBitExactForEveryShDegree) {
  TempDir dir;
  for (int degree = 0; degree <= 3; ++degree) {
    SCOPED_TRACE("degree " + std::to_string(degree));
    Gaussians g = testing::random_gaussians<float>(37, degree, 100 + degree);
    g.means[4] = -0.0f;  // signed zero survives
    const std::string path = dir.file("deg" + std::to_string(degree) + ".ply");
    write_splat_ply(path, g);
    const Gaussians r = read_splat_ply(path);
    EXPECT_EQ(r.size(), 37u);
    expect_same_gaussians(g, r);

    // Size: header + N rows of 62 floats at degree 3 (17 + 3 (K - 1) in general).
    const size_t k = static_cast<size_t>(g.sh_coeffs());
    const std::string bytes = write_to_string(g);
    const size_t header = bytes.find("end_header\n") + 11;
    EXPECT_EQ(bytes.size(), header + 37 * (17 + 3 * (k - 1)) * 4);
    EXPECT_EQ(std::filesystem::file_size(path), bytes.size());
    if (degree == 3) {
      EXPECT_EQ(17 + 3 * (k - 1), 62u);
    }
  }
}

TEST(SplatPly, WritesTheReferenceHeaderAndChannelMajorRest) {
  // Degree 1: K = 4, 9 f_rest values per splat.
  Gaussians g;
  g.sh_degree = 1;
  g.resize(2);
  for (int i = 0; i < 2; ++i) {
    for (int a = 0; a < 3; ++a) g.means[3 * i + a] = 10.0f * i + a + 1;
    for (int a = 0; a < 3; ++a) g.log_scales[3 * i + a] = -1.0f - a - 10.0f * i;
    for (int a = 0; a < 4; ++a) g.quats[4 * i + a] = 0.5f + a + 10.0f * i;  // w x y z
    g.opacity_logits[i] = 0.25f + i;
    // sh[i][k][c] = 100 i + 10 k + c, so each value says where it came from.
    for (int k = 0; k < 4; ++k)
      for (int c = 0; c < 3; ++c) g.sh[(i * 4 + k) * 3 + c] = 100.0f * i + 10.0f * k + c;
  }
  const std::string bytes = write_to_string(g);
  const std::string expected_header =
      "ply\n"
      "format binary_little_endian 1.0\n"
      "element vertex 2\n"
      "property float x\nproperty float y\nproperty float z\n"
      "property float nx\nproperty float ny\nproperty float nz\n"
      "property float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\n"
      "property float f_rest_0\nproperty float f_rest_1\nproperty float f_rest_2\n"
      "property float f_rest_3\nproperty float f_rest_4\nproperty float f_rest_5\n"
      "property float f_rest_6\nproperty float f_rest_7\nproperty float f_rest_8\n"
      "property float opacity\n"
      "property float scale_0\nproperty float scale_1\nproperty float scale_2\n"
      "property float rot_0\nproperty float rot_1\nproperty float rot_2\nproperty float rot_3\n"
      "end_header\n";
  ASSERT_EQ(bytes.substr(0, expected_header.size()), expected_header);
  constexpr size_t kRow = 26;  // 3 + 3 + 3 + 9 + 1 + 3 + 4
  ASSERT_EQ(bytes.size(), expected_header.size() + 2 * kRow * 4);
  std::vector<float> f(2 * kRow);
  std::memcpy(f.data(), bytes.data() + expected_header.size(), f.size() * 4);

  const float* row = f.data() + kRow;  // vertex 1
  EXPECT_EQ(row[0], 11.0f);            // x
  EXPECT_EQ(row[2], 13.0f);            // z
  EXPECT_EQ(row[3], 0.0f);             // nx
  EXPECT_EQ(row[5], 0.0f);             // nz
  EXPECT_EQ(row[6], 100.0f);           // f_dc_0 = R of coefficient 0
  EXPECT_EQ(row[8], 102.0f);           // f_dc_2 = B of coefficient 0
  // f_rest_{c * 3 + (k - 1)}: channel-major, as INRIA's features_rest.transpose(1, 2).
  EXPECT_EQ(row[9 + 0], 110.0f);  // f_rest_0 = R, k = 1
  EXPECT_EQ(row[9 + 1], 120.0f);  // f_rest_1 = R, k = 2
  EXPECT_EQ(row[9 + 2], 130.0f);  // f_rest_2 = R, k = 3
  EXPECT_EQ(row[9 + 3], 111.0f);  // f_rest_3 = G, k = 1
  EXPECT_EQ(row[9 + 4], 121.0f);  // f_rest_4 = G, k = 2
  EXPECT_EQ(row[9 + 8], 132.0f);  // f_rest_8 = B, k = 3
  EXPECT_EQ(row[18], 1.25f);      // opacity logit
  EXPECT_EQ(row[19], -11.0f);     // scale_0 (log)
  EXPECT_EQ(row[21], -13.0f);     // scale_2
  EXPECT_EQ(row[22], 10.5f);      // rot_0 = w
  EXPECT_EQ(row[23], 11.5f);      // rot_1 = x
  EXPECT_EQ(row[25], 13.5f);      // rot_3 = z
  EXPECT_EQ(f[9 + 5], 31.0f);     // vertex 0: f_rest_5 = G, k = 3

  expect_same_gaussians(g, parse(bytes));
}

TEST(SplatPly, ReadsShuffledDoubleAndExtraPropertiesByName) {
  // Brush-like order (no normals, scales and opacity first, SH last), doubles and integers mixed
  // in, an extra "red" property, and elements before and after the vertex element.
  std::vector<Column> cols = {
      {"double", "scale_2", {-3.5, -0.5}}, {"float", "x", {1.5, -2.25}},
      {"double", "y", {0.125, 1e-3}},      {"short", "z", {-7, 300}},
      {"uchar", "red", {255, 3}},          {"float", "scale_0", {-1.0, -2.0}},
      {"float", "scale_1", {-2.0, -3.0}},  {"double", "opacity", {0.75, -1.25}},
      {"float", "rot_3", {0.0, 0.5}},      {"float", "rot_2", {0.0, 0.5}},
      {"float", "rot_1", {0.0, 0.5}},      {"int", "rot_0", {1, 2}},
      {"float", "f_dc_0", {0.1, 0.4}},     {"float", "f_dc_1", {0.2, 0.5}},
      {"uchar", "f_dc_2", {3, 250}},
  };
  // f_rest_j = 1000 + 10 j + vertex, listed in reverse order.
  for (int j = 8; j >= 0; --j)
    cols.push_back({"double", "f_rest_" + std::to_string(j), {1000.0 + 10 * j, 1001.0 + 10 * j}});
  // An element before the vertices (fixed-size, skipped) and one after (ignored).
  const std::string before = "element camera 2\nproperty float fx\nproperty uchar id\n";
  std::string prefix;
  for (int i = 0; i < 2; ++i) {
    append_value(prefix, "float", 500.0);
    append_value(prefix, "uchar", i);
  }
  const std::string after = "element face 1\nproperty list uchar int vertex_indices\n";
  std::string bytes = make_ply(cols, before, prefix, after);
  bytes += std::string("\x03\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00", 13);

  const Gaussians g = parse(bytes);
  ASSERT_EQ(g.size(), 2u);
  ASSERT_EQ(g.sh_degree, 1);
  EXPECT_EQ(g.means, (std::vector<float>{1.5f, 0.125f, -7.0f, -2.25f, 1e-3f, 300.0f}));
  EXPECT_EQ(g.log_scales, (std::vector<float>{-1.0f, -2.0f, -3.5f, -2.0f, -3.0f, -0.5f}));
  EXPECT_EQ(g.opacity_logits, (std::vector<float>{0.75f, -1.25f}));
  EXPECT_EQ(g.quats, (std::vector<float>{1, 0, 0, 0, 2, 0.5f, 0.5f, 0.5f}));
  // Coefficient-major sh from channel-major f_rest: sh[i][k][c] = f_rest_{3c + k - 1}.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(g.sh[(i * 4) * 3 + 0], i == 0 ? 0.1f : 0.4f);
    EXPECT_EQ(g.sh[(i * 4) * 3 + 2], i == 0 ? 3.0f : 250.0f);
    for (int k = 1; k < 4; ++k)
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(g.sh[(i * 4 + k) * 3 + c], 1000.0f + 10.0f * (3 * c + k - 1) + i)
            << "vertex " << i << " k " << k << " c " << c;
  }
}

TEST(SplatPly, ReadsAsciiFiles) {
  const std::string text =
      "ply\r\nformat ascii 1.0\r\ncomment made by hand\r\n"
      "element vertex 2\r\n"
      "property float rot_0\r\nproperty float rot_1\r\nproperty float rot_2\r\n"
      "property float rot_3\r\nproperty float x\r\nproperty float y\r\nproperty float z\r\n"
      "property double f_dc_0\r\nproperty float f_dc_1\r\nproperty float f_dc_2\r\n"
      "property float opacity\r\nproperty float scale_0\r\nproperty float scale_1\r\n"
      "property float scale_2\r\n"
      "end_header\r\n"
      "1 0 0 0 1.5 2.5 -3.5 0.25 0.5 0.75 -1 -2 -3 -4\r\n"
      "0.5 0.5 0.5 0.5 1e2 0 0 -0.25 0 0 2 0.5 0.5 0.5\r\n";
  const Gaussians g = parse(text);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.sh_degree, 0);
  EXPECT_EQ(g.means, (std::vector<float>{1.5f, 2.5f, -3.5f, 100.0f, 0.0f, 0.0f}));
  EXPECT_EQ(g.quats, (std::vector<float>{1, 0, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(g.sh, (std::vector<float>{0.25f, 0.5f, 0.75f, -0.25f, 0.0f, 0.0f}));
  EXPECT_EQ(g.opacity_logits, (std::vector<float>{-1.0f, 2.0f}));
  EXPECT_EQ(g.log_scales, (std::vector<float>{-2, -3, -4, 0.5f, 0.5f, 0.5f}));

  EXPECT_ERROR_CONTAINS(parse(text.substr(0, text.size() - 8), "short.ply"),
                        "short.ply: truncated data: expected 2 vertices");
  std::string bad = text;
  bad.replace(bad.find("1e2"), 3, "abc");
  EXPECT_ERROR_CONTAINS(parse(bad, "bad.ply"), "vertex 1, property 'x': 'abc' is not a number");
}

TEST(SplatPly, EmptyModelIsRefusedOnReading) {
  TempDir dir;
  for (int degree : {0, 3}) {
    Gaussians g;
    g.sh_degree = degree;
    const std::string path = dir.file("empty.ply");
    write_splat_ply(path, g);  // other tools read an empty file; Glimpse has nothing to train
    EXPECT_ERROR_CONTAINS(read_splat_ply(path),
                          path + ": the file holds no Gaussians ('element vertex 0')");
  }
  EXPECT_EQ(parse(make_ply(degree0_columns())).size(), 2u);
}

TEST(SplatPly, CountsThatDoNotMatchTheDataAreErrors) {
  // 'element vertex 1' followed by two vertices' data: the second used to be ignored.
  std::string two = make_ply(degree0_columns());
  std::string one = two;
  one.replace(one.find("element vertex 2"), 16, "element vertex 1");
  EXPECT_ERROR_CONTAINS(parse(one, "short.ply"),
                        "short.ply: 56 bytes of data follow what the header declares ('element "
                        "vertex 1'): the counts do not match the data");
  EXPECT_ERROR_CONTAINS(parse(two + "x", "tail.ply"), "tail.ply: 1 bytes of data follow");
  // ASCII: another vertex's numbers after the declared ones.
  std::string ascii = "ply\nformat ascii 1.0\nelement vertex 1\n";
  std::string row;
  for (const Column& c : degree0_columns()) {
    ascii += "property float " + c.name + "\n";
    row += std::to_string(c.values[0]) + " ";
  }
  ascii += "end_header\n" + row + "\n";
  EXPECT_EQ(parse(ascii + " \n").size(), 1u);  // white space may follow
  EXPECT_ERROR_CONTAINS(parse(ascii + row + "\n", "a.ply"),
                        "a.ply: data follows the 1 vertices the header declares");
}

TEST(SplatPly, ReadsBigEndianFiles) {
  // Mixed types, as other writers store them: every multi-byte value is byte-swapped.
  std::vector<Column> cols = degree0_columns();
  cols[0].type = "double";
  cols[3].type = "short";
  cols[3].values = {1, -2};
  cols.push_back({"uchar", "red", {7, 200}});
  cols.push_back({"int", "tag", {-5, 123456}});
  const Gaussians little = parse(make_ply(cols, "", "", "", false));
  const Gaussians big = parse(make_ply(cols, "", "", "", true), "be.ply");
  expect_same_gaussians(little, big);
  EXPECT_EQ(big.means[0], 1.f);
  EXPECT_EQ(big.means[3], -1.f);
  // Truncation is still found.
  const std::string bytes = make_ply(cols, "", "", "", true);
  EXPECT_ERROR_CONTAINS(parse(bytes.substr(0, bytes.size() - 3), "cut.ply"), "truncated data");
}

TEST(SplatPly, TruncatedDataNamesTheByteCounts) {
  const Gaussians g = testing::random_gaussians<float>(3, 3, 7);
  const std::string bytes = write_to_string(g);
  const std::string cut = bytes.substr(0, bytes.size() - 10);
  EXPECT_ERROR_CONTAINS(parse(cut, "cut.ply"),
                        "cut.ply: truncated data: expected 3 vertices * 248 bytes = 744 bytes "
                        "after the header, got 734");
  // A stream that cannot seek finds the truncation while reading.
  PipeBuffer pipe(cut);
  std::istream in(&pipe);
  EXPECT_ERROR_CONTAINS(read_splat_ply(in, "pipe.ply"),
                        "pipe.ply: truncated data: expected 3 vertices * 248 bytes = 744 bytes, "
                        "got 734");
  // ... and reads a complete one.
  PipeBuffer whole(bytes);
  std::istream in_whole(&whole);
  expect_same_gaussians(g, read_splat_ply(in_whole, "pipe.ply"));
}

TEST(SplatPly, AbsurdVertexCountIsRejectedBeforeAllocating) {
  std::string bytes = make_ply(degree0_columns());
  bytes.replace(bytes.find("element vertex 2"), 16, "element vertex 900000000000000");
  EXPECT_ERROR_CONTAINS(parse(bytes, "huge.ply"),
                        "huge.ply: truncated data: expected 900000000000000 vertices * 56 bytes");
  bytes.replace(bytes.find("element vertex 900000000000000"), 30,
                "element vertex 99999999999999999999999");
  EXPECT_ERROR_CONTAINS(parse(bytes, "huge.ply"), "is not a non-negative integer");
  bytes.replace(bytes.find("element vertex 99999999999999999999999"), 38, "element vertex -2");
  EXPECT_ERROR_CONTAINS(parse(bytes, "neg.ply"), "'-2' is not a non-negative integer");
}

TEST(SplatPly, MissingPropertyIsNamed) {
  for (const char* name : {"scale_1", "x", "f_dc_2", "opacity", "rot_0"}) {
    std::vector<Column> cols = degree0_columns();
    std::erase_if(cols, [&](const Column& c) { return c.name == name; });
    EXPECT_ERROR_CONTAINS(parse(make_ply(cols), "partial.ply"),
                          std::string("partial.ply: missing property '") + name + "'");
  }
  // A gap in f_rest_*: 9 properties but f_rest_4 is missing (f_rest_9 instead).
  std::vector<Column> cols = degree0_columns();
  for (int j = 0; j < 10; ++j)
    if (j != 4) cols.push_back({"float", "f_rest_" + std::to_string(j), {0, 0}});
  EXPECT_ERROR_CONTAINS(parse(make_ply(cols), "gap.ply"), "missing property 'f_rest_4'");
  // A count that is no SH degree.
  cols = degree0_columns();
  for (int j = 0; j < 3; ++j) cols.push_back({"float", "f_rest_" + std::to_string(j), {0, 0}});
  EXPECT_ERROR_CONTAINS(parse(make_ply(cols), "odd.ply"),
                        "odd.ply: 3 f_rest_* properties do not match an SH degree");
}

TEST(SplatPly, BadHeadersAreRejectedWithReasons) {
  const std::string good = make_ply(degree0_columns());
  EXPECT_ERROR_CONTAINS(parse("", "e.ply"), "e.ply: not a PLY file (it is empty)");
  EXPECT_ERROR_CONTAINS(parse("hello world\n", "h.ply"), "h.ply: not a PLY file");
  EXPECT_ERROR_CONTAINS(parse("plyx\n", "h.ply"), "not a PLY file");

  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  // A corrupt header: its bytes are described, never copied raw into the message.
  {
    const std::string msg = testing::error_message(
        [&] { parse(replaced("property float y", "property float \x01\xfe\x80y"), "bin.ply"); });
    EXPECT_NE(msg.find("bin.ply: malformed PLY header, line 6: byte 0x01 at column 16 is not text"),
              std::string::npos)
        << msg;
    EXPECT_TRUE(std::all_of(msg.begin(), msg.end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
        << "raw bytes in: " << msg;
  }
  EXPECT_EQ(parse(replaced("comment hand-made", "comment made by M\xc3\xbcller,")).size(), 2u);
  EXPECT_ERROR_CONTAINS(parse(replaced("binary_little_endian", "binary_middle_endian"), "f.ply"),
                        "f.ply: unsupported PLY format 'binary_middle_endian'");
  EXPECT_ERROR_CONTAINS(parse(replaced("1.0", "2.0"), "v.ply"), "unsupported PLY version 2.0");
  EXPECT_ERROR_CONTAINS(parse(replaced("format binary_little_endian 1.0\n", ""), "nf.ply"),
                        "nf.ply: malformed PLY header: no 'format' line");
  EXPECT_ERROR_CONTAINS(parse(replaced("property float opacity", "property half opacity"), "t.ply"),
                        "unknown property type 'half'");
  EXPECT_ERROR_CONTAINS(
      parse(replaced("property float x", "property float x\nproperty float x"), "d.ply"),
      "has property 'x' twice");
  EXPECT_ERROR_CONTAINS(parse(replaced("element vertex", "element point"), "nv.ply"),
                        "nv.ply: the PLY file has no 'vertex' element");
  EXPECT_ERROR_CONTAINS(parse(replaced("comment", "bogus"), "k.ply"), "unknown keyword 'bogus'");
  EXPECT_ERROR_CONTAINS(parse(good.substr(0, good.find("end_header")), "eh.ply"),
                        "eh.ply: malformed PLY header: the file ends before 'end_header'");
  EXPECT_ERROR_CONTAINS(
      parse(replaced("property float x", "property float x\nproperty list uchar int idx"), "l.ply"),
      "element 'vertex' has a list property 'idx'");
  // A header that never ends stops at the size limit instead of reading the whole file.
  std::string endless = "ply\nformat binary_little_endian 1.0\n";
  while (endless.size() < (size_t{1} << 21)) endless += "comment padding padding padding\n";
  EXPECT_ERROR_CONTAINS(parse(endless, "endless.ply"), "no 'end_header' line in the first");
}

TEST(SplatPly, NanValuesNameTheVertex) {
  std::vector<Column> cols = degree0_columns();
  for (Column& c : cols)
    if (c.name == "opacity") c.values[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_ERROR_CONTAINS(parse(make_ply(cols), "nan.ply"),
                        "nan.ply: 'opacity_logits' of Gaussian 1 is nan");

  // The writer refuses NaN and leaves no file behind.
  TempDir dir;
  Gaussians g = testing::random_gaussians<float>(4, 1, 3);
  g.means[7] = std::numeric_limits<float>::quiet_NaN();
  const std::string path = dir.file("nan.ply");
  EXPECT_ERROR_CONTAINS(write_splat_ply(path, g), "'means' of Gaussian 2 is nan");
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(SplatPly, FileErrorsNameThePath) {
  TempDir dir;
  EXPECT_ERROR_CONTAINS(read_splat_ply(dir.file("absent.ply")), "absent.ply: file does not exist");
  EXPECT_ERROR_CONTAINS(read_splat_ply(dir.path().string()), "it is a folder");
  EXPECT_ERROR_CONTAINS(write_splat_ply(dir.file("no/such/folder/x.ply"), Gaussians{}), "x.ply");
  // Errors inside the file name it too.
  const std::string path = dir.file("bad.ply");
  std::ofstream(path) << "not a ply";
  EXPECT_ERROR_CONTAINS(read_splat_ply(path), path + ": not a PLY file");
}

TEST(SplatPly, OverwritesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.file("model.ply");
  write_splat_ply(path, testing::random_gaussians<float>(50, 3, 1));
  const Gaussians small = testing::random_gaussians<float>(2, 0, 2);
  write_splat_ply(path, small);
  expect_same_gaussians(small, read_splat_ply(path));
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);  // no temporary left behind
}

}  // namespace
}  // namespace glimpse
