// Tests of the .npz reader: archives written by numpy (embedded bytes), archives assembled here
// (stored, deflated, ZIP64, comments), every truncation, corruptions, and the real DTU npz.
#include "io/npz.h"

#include "io/npy.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"
#include "tests/support/zlib_fixtures.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include <zlib.h>

namespace glimpse {
namespace {

namespace fs = std::filesystem;

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// Made with numpy 2.4.6 (python3 -m venv v && v/bin/pip install numpy):
//   import numpy as np, io
//   a = np.arange(6, dtype='<f8').reshape(2, 3) * 0.5 - 1.0
//   b = np.array([7, -2, 40000], dtype='<i4')
//   for f in (np.savez, np.savez_compressed):
//       buf = io.BytesIO(); f(buf, a=a, b=b); print(buf.getvalue().hex())
// numpy writes ZIP64 local headers (force_zip64: sizes 0xFFFFFFFF plus a ZIP64 extra field).
const std::string kNumpySavez = from_hex(
    "504b03042d000000000000002100c553b71bffffffffffffffff05001400612e6e707901001000b000000000000000"
    "b0"
    "00000000000000934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f726465"
    "72"
    "273a2046616c73652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020"
    "20"
    "20202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f0bf"
    "00"
    "0000000000e0bf0000000000000000000000000000e03f000000000000f03f000000000000f83f504b03042d000000"
    "00"
    "000000210039f4ec82ffffffffffffffff05001400622e6e7079010010008c000000000000008c0000000000000093"
    "4e"
    "554d5059010076007b276465736372273a20273c6934272c2027666f727472616e5f6f72646572273a2046616c7365"
    "2c"
    "20277368617065273a2028332c292c207d202020202020202020202020202020202020202020202020202020202020"
    "20"
    "20202020202020202020202020202020202020202020202020202020200a07000000feffffff409c0000504b01022d"
    "03"
    "2d000000000000002100c553b71bb0000000b0000000050000000000000000000000800100000000612e6e7079504b"
    "01"
    "022d032d00000000000000210039f4ec828c0000008c0000000500000000000000000000008001e7000000622e6e70"
    "79"
    "504b0506000000000200020066000000aa0100000000");
const std::string kNumpySavezCompressed = from_hex(
    "504b03042d000000080000002100c553b71bffffffffffffffff05001400612e6e707901001000b000000000000000"
    "59"
    "000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a1aea3a09e965f54529498179f5f9492"
    "0a"
    "12774bcc294e058a17672416a402f91a463a0ac69a3a0ab50a64032e0630f8b01f423f80d230f0c01e2a0fa57fd803"
    "00"
    "504b03042d00000008000000210039f4ec82ffffffffffffffff05001400622e6e7079010010008c00000000000000"
    "51"
    "000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9369a2aea3a09e965f54529498179f5f9492"
    "0a"
    "12774bcc294e058a17672416a402f91ac63a9a3a0ab50a14002e760606867fffffff7798c3c00000504b01022d032d"
    "00"
    "0000080000002100c553b71b59000000b0000000050000000000000000000000800100000000612e6e7079504b0102"
    "2d"
    "032d00000008000000210039f4ec82510000008c000000050000000000000000000000800190000000622e6e707950"
    "4b"
    "0506000000000200020066000000180100000000");

void expect_numpy_arrays(const std::map<std::string, NpyArray>& arrays) {
  ASSERT_EQ(arrays.size(), 2u);
  const NpyArray& a = arrays.at("a");
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0, 1.5}));
  const NpyArray& b = arrays.at("b");
  EXPECT_EQ(b.dtype, "<i4");
  EXPECT_EQ(b.shape, (std::vector<size_t>{3}));
  EXPECT_EQ(b.data, (std::vector<double>{7, -2, 40000}));
}

// --- A minimal zip writer (PKWARE APPNOTE 4.3), independent of the reader ---
struct Member {
  std::string name;
  std::string data;
  int method = 0;  // 0 stored, 8 deflate
};

void put16(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}
void put64(std::string& s, uint64_t v) {
  put32(s, static_cast<uint32_t>(v));
  put32(s, static_cast<uint32_t>(v >> 32));
}

std::string deflate_raw(const std::string& data) { return testing::zlib_deflate(data, -15, 9); }

uint32_t crc_of(const std::string& data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

// zip64: central directory entries with saturated sizes/offsets and a ZIP64 extra field, plus the
// ZIP64 end record and locator, with saturated fields in the end record.
std::string make_zip(const std::vector<Member>& members, bool zip64 = false,
                     const std::string& comment = "") {
  std::string zip, central;
  for (const Member& m : members) {
    const std::string payload = m.method == 8 ? deflate_raw(m.data) : m.data;
    const uint32_t crc = crc_of(m.data);
    const uint64_t offset = zip.size();
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, 0);
    put16(zip, static_cast<uint32_t>(m.method));
    put32(zip, 0);  // time, date
    put32(zip, crc);
    put32(zip, static_cast<uint32_t>(payload.size()));
    put32(zip, static_cast<uint32_t>(m.data.size()));
    put16(zip, static_cast<uint32_t>(m.name.size()));
    put16(zip, 0);
    zip += m.name;
    zip += payload;

    std::string extra;
    if (zip64) {
      put16(extra, 0x0001);
      put16(extra, 24);
      put64(extra, m.data.size());
      put64(extra, payload.size());
      put64(extra, offset);
    }
    put32(central, 0x02014b50);
    put16(central, 45);
    put16(central, 45);
    put16(central, 0);
    put16(central, static_cast<uint32_t>(m.method));
    put32(central, 0);
    put32(central, crc);
    put32(central, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(payload.size()));
    put32(central, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(m.data.size()));
    put16(central, static_cast<uint32_t>(m.name.size()));
    put16(central, static_cast<uint32_t>(extra.size()));
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);
    put32(central, 0);
    put32(central, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(offset));
    central += m.name;
    central += extra;
  }
  const uint64_t central_offset = zip.size();
  zip += central;
  if (zip64) {
    const uint64_t record = zip.size();
    put32(zip, 0x06064b50);
    put64(zip, 44);
    put16(zip, 45);
    put16(zip, 45);
    put32(zip, 0);
    put32(zip, 0);
    put64(zip, members.size());
    put64(zip, members.size());
    put64(zip, central.size());
    put64(zip, central_offset);
    put32(zip, 0x07064b50);
    put32(zip, 0);
    put64(zip, record);
    put32(zip, 1);
  }
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, zip64 ? 0xFFFF : static_cast<uint32_t>(members.size()));
  put16(zip, zip64 ? 0xFFFF : static_cast<uint32_t>(members.size()));
  put32(zip, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(central.size()));
  put32(zip, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(central_offset));
  put16(zip, static_cast<uint32_t>(comment.size()));
  zip += comment;
  return zip;
}

std::string npy_bytes(const std::vector<size_t>& shape, const std::vector<double>& data) {
  std::ostringstream out;
  write_npy(out, shape, data);
  return out.str();
}

std::vector<double> ramp(size_t n, double scale) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * static_cast<double>(i) - 3.25;
  return v;
}

// --- numpy's own archives ---
TEST(NpzTest, ReadsNumpySavez) { expect_numpy_arrays(read_npz_bytes(kNumpySavez, "savez.npz")); }

TEST(NpzTest, ReadsNumpySavezCompressed) {
  expect_numpy_arrays(read_npz_bytes(kNumpySavezCompressed, "savez_compressed.npz"));
}

TEST(NpzTest, ReadsFromFileAndStream) {
  testing::TempDir dir;
  const std::string path = dir.file("arrays.npz");
  {
    std::ofstream out(path, std::ios::binary);
    out << kNumpySavezCompressed;
  }
  expect_numpy_arrays(read_npz(path));
  std::istringstream in(kNumpySavez);
  expect_numpy_arrays(read_npz(in, "stream"));
}

// --- archives assembled here ---
TEST(NpzTest, StoredDeflatedZip64AndComment) {
  const std::vector<double> big = ramp(3000, 0.125);  // compresses well
  const std::vector<Member> members = {
      {"world_mat_0.npy", npy_bytes({4, 4}, ramp(16, 1.5)), 0},
      {"depth.npy", npy_bytes({50, 60}, big), 8},
      {"nested/x.npy", npy_bytes({}, {42.0}), 8},
      {"folder/", "", 0},                // a folder entry: ignored
      {"readme.txt", "not an array", 0}  // not .npy: ignored
  };
  for (bool zip64 : {false, true}) {
    for (const std::string& comment : {std::string(), std::string("PK\x05\x06 fake end record")}) {
      SCOPED_TRACE("zip64 " + std::to_string(zip64) + " comment '" + comment + "'");
      const auto arrays = read_npz_bytes(make_zip(members, zip64, comment), "made.npz");
      ASSERT_EQ(arrays.size(), 3u);
      EXPECT_EQ(arrays.at("world_mat_0").shape, (std::vector<size_t>{4, 4}));
      EXPECT_EQ(arrays.at("world_mat_0").data, ramp(16, 1.5));
      EXPECT_EQ(arrays.at("depth").shape, (std::vector<size_t>{50, 60}));
      EXPECT_EQ(arrays.at("depth").data, big);
      EXPECT_TRUE(arrays.at("nested/x").shape.empty());
      EXPECT_EQ(arrays.at("nested/x").data, (std::vector<double>{42.0}));
    }
  }
}

TEST(NpzTest, EmptyArchive) { EXPECT_TRUE(read_npz_bytes(make_zip({}), "empty.npz").empty()); }

// --- errors ---
TEST(NpzTest, NotAZip) {
  EXPECT_ERROR_CONTAINS(read_npz_bytes("", "e.npz"), "e.npz: not a zip archive");
  EXPECT_ERROR_CONTAINS(read_npz_bytes(std::string(100, 'x'), "x.npz"), "not a zip archive");
  // A bare .npy is not an .npz.
  EXPECT_ERROR_CONTAINS(read_npz_bytes(npy_bytes({2}, {1, 2}), "a.npy"), "not a zip archive");
}

TEST(NpzTest, EveryTruncationThrowsGlimpseError) {
  for (const std::string* archive : {&kNumpySavez, &kNumpySavezCompressed}) {
    for (size_t n = 0; n < archive->size(); ++n) {
      SCOPED_TRACE("cut at " + std::to_string(n));
      EXPECT_ERROR_CONTAINS(read_npz_bytes(archive->substr(0, n), "cut.npz"), "cut.npz");
    }
  }
  // Cut inside the data: the directory is gone, the message says the file was cut short.
  EXPECT_ERROR_CONTAINS(read_npz_bytes(kNumpySavez.substr(0, 300), "cut.npz"), "truncated");
}

TEST(NpzTest, RandomCorruptionsThrowGlimpseErrorOrParse) {
  // Flipped bytes anywhere: either a clean parse (e.g. inside padding) or a glimpse::Error, never
  // a crash or another exception (run under the asan preset for the memory side).
  std::mt19937 rng(7);
  int errors = 0;
  for (const std::string* archive : {&kNumpySavez, &kNumpySavezCompressed}) {
    for (int trial = 0; trial < 500; ++trial) {
      std::string bytes = *archive;
      const int flips = 1 + trial % 3;
      for (int k = 0; k < flips; ++k) {
        bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      try {
        read_npz_bytes(bytes, "fuzz.npz");
      } catch (const Error&) {
        ++errors;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "trial " << trial << ": unexpected exception " << e.what();
      }
    }
  }
  EXPECT_GT(errors, 500);  // most corruptions are caught (CRC, structure)
}

TEST(NpzTest, TruncatedMemberDataNamesTheMember) {
  // Keep the directory, but point the second member's local header past the end of the file.
  std::string zip = make_zip(
      {{"a.npy", npy_bytes({3}, {1, 2, 3}), 0}, {"b.npy", npy_bytes({200}, ramp(200, 1.0)), 0}});
  // Shrink the file by dropping bytes of b's data and fixing the central directory offset.
  const size_t b_data_end = zip.find("PK\x01\x02");
  const size_t drop = 100;
  std::string cut = zip.substr(0, b_data_end - drop) + zip.substr(b_data_end);
  const size_t end_record = cut.rfind("PK\x05\x06");
  const uint32_t central = static_cast<uint32_t>(b_data_end - drop);
  for (int i = 0; i < 4; ++i) cut[end_record + 16 + i] = static_cast<char>(central >> (8 * i));
  EXPECT_ERROR_CONTAINS(read_npz_bytes(cut, "t.npz"),
                        "t.npz: member 'b.npy': truncated or corrupt archive");
}

TEST(NpzTest, CrcMismatchNamesTheMember) {
  std::string zip = make_zip({{"a.npy", npy_bytes({3}, {1, 2, 3}), 0}});
  zip[30 + 5 + 128 + 3] ^= 0x10;  // a byte of the array data (header 30, name 5, npy header 128)
  EXPECT_ERROR_CONTAINS(read_npz_bytes(zip, "c.npz"), "c.npz: member 'a.npy': CRC-32 mismatch");
}

TEST(NpzTest, CorruptDeflateData) {
  std::string zip = make_zip({{"d.npy", npy_bytes({100}, ramp(100, 0.5)), 8}});
  for (size_t i = 30 + 5; i < 30 + 5 + 8; ++i) zip[i] = static_cast<char>(0xFF);
  const std::string message = testing::error_message([&] { read_npz_bytes(zip, "d.npz"); });
  EXPECT_NE(message.find("d.npz: member 'd.npy'"), std::string::npos) << message;
}

TEST(NpzTest, UnsupportedMethodEncryptionDuplicatesAndBadNpy) {
  const std::string npy = npy_bytes({2}, {1, 2});
  std::string zip = make_zip({{"m.npy", npy, 0}});
  const size_t central = zip.find("PK\x01\x02");
  std::string method = zip;
  method[central + 10] = 12;  // bzip2
  EXPECT_ERROR_CONTAINS(read_npz_bytes(method, "m.npz"),
                        "member 'm.npy' uses compression method 12");
  std::string encrypted = zip;
  encrypted[central + 8] = 1;
  EXPECT_ERROR_CONTAINS(read_npz_bytes(encrypted, "m.npz"), "member 'm.npy' is encrypted");
  EXPECT_ERROR_CONTAINS(read_npz_bytes(make_zip({{"m.npy", npy, 0}, {"m.npy", npy, 8}}), "dup.npz"),
                        "member 'm.npy' appears twice");
  EXPECT_ERROR_CONTAINS(read_npz_bytes(make_zip({{"bad.npy", "hello", 0}}), "bad.npz"),
                        "bad.npz member 'bad.npy': not a .npy file");
  std::string directory = zip;
  directory[central] = 'X';
  EXPECT_ERROR_CONTAINS(read_npz_bytes(directory, "dir.npz"), "central directory entry 0 of 1");
}

TEST(NpzTest, MissingFile) {
  testing::TempDir dir;
  EXPECT_ERROR_CONTAINS(read_npz(dir.file("nope.npz")), "nope.npz: file does not exist");
  EXPECT_ERROR_CONTAINS(read_npz(dir.path().string()), "it is a folder");
}

// --- real data ---
TEST(NpzTest, RealDtuCamerasSphere) {
  const fs::path data = testing::data_dir();
  if (data.empty()) GTEST_SKIP() << "GLIMPSE_DATA_DIR is not set (real DTU scans)";
  const fs::path path = data / "dtu" / "scan24" / "cameras_sphere.npz";
  ASSERT_TRUE(fs::exists(path)) << path << " is missing";
  const auto arrays = read_npz(path.string());
  EXPECT_EQ(arrays.size(), 294u);  // 49 views x {world,scale,camera}_mat{,_inv}
  for (int i = 0; i < 49; ++i) {
    for (const char* prefix : {"world_mat_", "scale_mat_", "camera_mat_", "world_mat_inv_",
                               "scale_mat_inv_", "camera_mat_inv_"}) {
      const std::string key = prefix + std::to_string(i);
      ASSERT_TRUE(arrays.count(key)) << key;
      EXPECT_EQ(arrays.at(key).shape, (std::vector<size_t>{4, 4})) << key;
    }
  }
  const NpyArray& world = arrays.at("world_mat_0");
  EXPECT_EQ(world.dtype, "<f4");
  EXPECT_NEAR(world.data[0], 2607.4299, 1e-3);
  EXPECT_NEAR(world.data[3], -5.3393669e+05, 0.1);
  EXPECT_NEAR(world.data[11], 22.540121, 1e-5);
  EXPECT_EQ(world.data[15], 1.0);
  const NpyArray& scale = arrays.at("scale_mat_0");
  EXPECT_NEAR(scale.data[0], 231.0682, 1e-4);
  EXPECT_NEAR(scale.data[11], 641.4886, 1e-4);
}

}  // namespace
}  // namespace glimpse
