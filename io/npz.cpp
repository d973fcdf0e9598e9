// .npz reader: zip end-of-central-directory search, ZIP64 records and extra fields, local headers,
// zlib raw inflate (window bits -15) and CRC-32, then read_npy on each member.
#include "io/npz.h"

#include "core/check.h"
#include "io/input_file.h"

#include <climits>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <istream>
#include <iterator>
#include <sstream>
#include <vector>
#include <zlib.h>

namespace glimpse {

namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;    // "PK\3\4"
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;  // "PK\1\2"
constexpr uint32_t kEndSignature = 0x06054b50;            // "PK\5\6"
constexpr uint32_t kZip64EndSignature = 0x06064b50;       // "PK\6\6"
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;   // "PK\6\7"
constexpr size_t kLocalHeaderSize = 30;                   // fixed part, before name and extra
constexpr size_t kCentralHeaderSize = 46;                 // fixed part, before name/extra/comment
constexpr size_t kEndSize = 22;                           // without the archive comment
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndSize = 56;  // without the extensible data
constexpr size_t kMaxCommentSize = 65535;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kSaturated32 = 0xFFFFFFFFu;  // "see the ZIP64 record"
constexpr uint16_t kSaturated16 = 0xFFFFu;
// Deflate cannot expand data more than about 1032:1, so a larger declared size is corrupt (and
// must not trigger a huge allocation).
constexpr uint64_t kMaxDeflateRatio = 1032;

// Little-endian loads; callers check the bounds first.
uint64_t load(const std::string& b, uint64_t offset, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(offset) + i]);
  }
  return v;
}
uint16_t u16(const std::string& b, uint64_t offset) {
  return static_cast<uint16_t>(load(b, offset, 2));
}
uint32_t u32(const std::string& b, uint64_t offset) {
  return static_cast<uint32_t>(load(b, offset, 4));
}
uint64_t u64(const std::string& b, uint64_t offset) { return load(b, offset, 8); }

struct Entry {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
};

// Where the central directory lies and how many entries it has.
struct Directory {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t entries = 0;
  uint64_t end = 0;  // offset of the record that follows it (ZIP64 end record or end record)
};

uint64_t find_end_record(const std::string& b, const std::string& what) {
  const uint64_t n = b.size();
  GLIMPSE_CHECK(n >= kEndSize) << what << ": not a zip archive (.npz): the file has only " << n
                               << " bytes, fewer than a zip end record (" << kEndSize << ")";
  const uint64_t lowest = n - kEndSize > kMaxCommentSize ? n - kEndSize - kMaxCommentSize : 0;
  for (uint64_t pos = n - kEndSize + 1; pos-- > lowest;) {
    if (u32(b, pos) != kEndSignature) continue;
    // The comment length must reach exactly to the end of the file (a stray signature inside
    // the comment or the data does not).
    if (pos + kEndSize + u16(b, pos + 20) == n) return pos;
  }
  const bool starts_like_zip = n >= 4 && u32(b, 0) == kLocalHeaderSignature;
  GLIMPSE_FAIL() << what
                 << (starts_like_zip
                         ? ": truncated or corrupt zip archive: the end of central directory "
                           "record is missing (the file was cut short?)"
                         : ": not a zip archive (.npz files are zip files): no end of central "
                           "directory record");
  return 0;
}

Directory read_directory_location(const std::string& b, const std::string& what) {
  const uint64_t end = find_end_record(b, what);
  const uint16_t disk = u16(b, end + 4);
  const uint16_t directory_disk = u16(b, end + 6);
  const uint16_t entries_here = u16(b, end + 8);
  Directory d;
  d.entries = u16(b, end + 10);
  d.size = u32(b, end + 12);
  d.offset = u32(b, end + 16);
  d.end = end;

  // ZIP64: a locator right before the end record points at the ZIP64 end record, which holds the
  // 64-bit counts and offsets (the 16/32-bit fields are then usually saturated).
  const bool has_locator =
      end >= kZip64LocatorSize && u32(b, end - kZip64LocatorSize) == kZip64LocatorSignature;
  if (has_locator) {
    const uint64_t locator = end - kZip64LocatorSize;
    const uint64_t record = u64(b, locator + 8);
    GLIMPSE_CHECK(u32(b, locator + 16) <= 1)
        << what << ": multi-disk (split) zip archives are not supported";
    GLIMPSE_CHECK(record <= locator && locator - record >= kZip64EndSize)
        << what << ": corrupt zip archive: the ZIP64 end record offset " << record
        << " does not lie before the ZIP64 locator at " << locator;
    GLIMPSE_CHECK(u32(b, record) == kZip64EndSignature)
        << what << ": corrupt zip archive: no ZIP64 end record at offset " << record;
    GLIMPSE_CHECK(u32(b, record + 16) == 0 && u32(b, record + 20) == 0)
        << what << ": multi-disk (split) zip archives are not supported";
    d.entries = u64(b, record + 32);
    d.size = u64(b, record + 40);
    d.offset = u64(b, record + 48);
    d.end = record;
  } else {
    GLIMPSE_CHECK(d.entries != kSaturated16 && d.size != kSaturated32 && d.offset != kSaturated32)
        << what << ": corrupt zip archive: the end record defers to a ZIP64 record that is missing";
    GLIMPSE_CHECK(disk == 0 && directory_disk == 0 && entries_here == d.entries)
        << what << ": multi-disk (split) zip archives are not supported";
  }
  GLIMPSE_CHECK(d.offset <= d.end && d.size <= d.end - d.offset)
      << what << ": truncated or corrupt zip archive: the central directory (offset " << d.offset
      << ", " << d.size << " bytes) does not fit before the end record at offset " << d.end;
  // Every entry takes at least kCentralHeaderSize bytes: a bound on the count before allocating.
  GLIMPSE_CHECK(d.entries <= d.size / kCentralHeaderSize)
      << what << ": corrupt zip archive: " << d.entries << " entries cannot fit in a " << d.size
      << "-byte central directory";
  return d;
}

// Applies the ZIP64 extended information extra field (id 1) of a central header: it holds, in
// this order, the 64-bit values of exactly those fields that are saturated in the fixed part.
void apply_zip64_extra(const std::string& b, uint64_t extra, uint64_t extra_size, Entry& e,
                       bool size_saturated, bool compressed_saturated, bool offset_saturated,
                       const std::string& what) {
  uint64_t pos = extra;
  const uint64_t end = extra + extra_size;
  bool found = false;
  while (pos + 4 <= end) {
    const uint16_t id = u16(b, pos);
    const uint16_t length = u16(b, pos + 2);
    GLIMPSE_CHECK(pos + 4 + length <= end)
        << what << ": member '" << e.name << "': corrupt extra field in the central directory";
    if (id == kZip64ExtraId) {
      found = true;
      uint64_t field = pos + 4;
      const uint64_t field_end = field + length;
      auto take = [&](uint64_t& value, const char* name) {
        GLIMPSE_CHECK(field + 8 <= field_end)
            << what << ": member '" << e.name << "': the ZIP64 extra field lacks the " << name;
        value = u64(b, field);
        field += 8;
      };
      if (size_saturated) take(e.size, "uncompressed size");
      if (compressed_saturated) take(e.compressed_size, "compressed size");
      if (offset_saturated) take(e.local_offset, "local header offset");
    }
    pos += 4 + length;
  }
  GLIMPSE_CHECK(found || !(size_saturated || compressed_saturated || offset_saturated))
      << what << ": member '" << e.name
      << "': sizes or offset defer to a ZIP64 extra field that is missing";
}

std::vector<Entry> read_entries(const std::string& b, const Directory& d, const std::string& what) {
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(d.entries));
  uint64_t pos = d.offset;
  const uint64_t end = d.offset + d.size;
  for (uint64_t i = 0; i < d.entries; ++i) {
    GLIMPSE_CHECK(pos + kCentralHeaderSize <= end && u32(b, pos) == kCentralHeaderSignature)
        << what << ": corrupt zip archive: central directory entry " << i << " of " << d.entries
        << " is missing or damaged (offset " << pos << ")";
    Entry e;
    e.flags = u16(b, pos + 8);
    e.method = u16(b, pos + 10);
    e.crc = u32(b, pos + 16);
    e.compressed_size = u32(b, pos + 20);
    e.size = u32(b, pos + 24);
    const uint16_t name_size = u16(b, pos + 28);
    const uint16_t extra_size = u16(b, pos + 30);
    const uint16_t comment_size = u16(b, pos + 32);
    const uint16_t disk = u16(b, pos + 34);
    e.local_offset = u32(b, pos + 42);
    const uint64_t next = pos + kCentralHeaderSize + name_size + extra_size + comment_size;
    GLIMPSE_CHECK(next <= end) << what << ": corrupt zip archive: central directory entry " << i
                               << " runs past the end of the directory";
    e.name = b.substr(static_cast<size_t>(pos + kCentralHeaderSize), name_size);
    apply_zip64_extra(b, pos + kCentralHeaderSize + name_size, extra_size, e,
                      e.size == kSaturated32, e.compressed_size == kSaturated32,
                      e.local_offset == kSaturated32, what);
    GLIMPSE_CHECK(disk == 0 || disk == kSaturated16)
        << what << ": member '" << e.name << "' lies on another disk (split archives are not "
        << "supported)";
    entries.push_back(std::move(e));
    pos = next;
  }
  return entries;
}

std::string inflate_raw(const char* data, uint64_t compressed_size, uint64_t size,
                        const std::string& context) {
  std::string out(static_cast<size_t>(size), '\0');
  z_stream s{};
  GLIMPSE_CHECK(inflateInit2(&s, -15) == Z_OK) << context << ": zlib inflateInit2 failed";
  uint64_t in_left = compressed_size, out_left = size;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  int ret = Z_OK;
  for (;;) {
    // zlib counts in uInt: feed at most UINT_MAX bytes at a time.
    const uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, UINT_MAX));
    const uInt out_chunk = static_cast<uInt>(std::min<uint64_t>(out_left, UINT_MAX));
    s.avail_in = in_chunk;
    s.avail_out = out_chunk;
    ret = inflate(&s, Z_NO_FLUSH);
    in_left -= in_chunk - s.avail_in;
    out_left -= out_chunk - s.avail_out;
    if (ret == Z_STREAM_END) break;
    if (ret == Z_OK && (in_chunk != s.avail_in || out_chunk != s.avail_out)) continue;
    break;  // an error, or no progress possible (input exhausted or output full)
  }
  const char* message = s.msg;
  const std::string reason = message ? message : "";
  inflateEnd(&s);
  if (ret == Z_STREAM_END) {
    GLIMPSE_CHECK(out_left == 0) << context << ": inflates to " << (size - out_left)
                                 << " bytes but the directory declares " << size;
    return out;
  }
  if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR || ret == Z_MEM_ERROR) {
    GLIMPSE_FAIL() << context << ": corrupt deflate data (zlib: "
                   << (reason.empty() ? "error " + std::to_string(ret) : reason) << ")";
  }
  if (out_left == 0) {
    GLIMPSE_FAIL() << context << ": inflates to more than the " << size
                   << " bytes the directory declares";
  }
  GLIMPSE_FAIL() << context << ": truncated deflate data (the stream ends after "
                 << (size - out_left) << " of " << size << " bytes)";
  return {};
}

uint32_t crc32_of(const std::string& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t pos = 0;
  while (pos < data.size()) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(data.size() - pos, UINT_MAX));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + pos), chunk);
    pos += chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Member data must end before the central directory (`data_end`).
std::string extract(const std::string& b, const Entry& e, uint64_t data_end,
                    const std::string& what) {
  const std::string context = what + ": member '" + e.name + "'";
  GLIMPSE_CHECK((e.flags & 1u) == 0) << context << " is encrypted (not supported)";
  GLIMPSE_CHECK(e.method == 0 || e.method == 8)
      << context << " uses compression method " << e.method
      << " (supported: 0 stored, 8 deflate; numpy writes only these)";
  const uint64_t n = data_end;
  GLIMPSE_CHECK(e.local_offset <= n && n - e.local_offset >= kLocalHeaderSize &&
                u32(b, e.local_offset) == kLocalHeaderSignature)
      << context << ": truncated or corrupt archive: no local file header at offset "
      << e.local_offset;
  const uint64_t data =
      e.local_offset + kLocalHeaderSize + u16(b, e.local_offset + 26) + u16(b, e.local_offset + 28);
  GLIMPSE_CHECK(data <= n && n - data >= e.compressed_size)
      << context << ": truncated or corrupt archive: the member's " << e.compressed_size
      << " bytes of data (from offset " << data << ") run into the central directory at offset "
      << n;
  const char* begin = b.data() + data;
  std::string out;
  if (e.method == 0) {
    GLIMPSE_CHECK(e.compressed_size == e.size)
        << context << ": corrupt archive: a stored member with compressed size "
        << e.compressed_size << " and size " << e.size;
    out.assign(begin, static_cast<size_t>(e.size));
  } else {
    GLIMPSE_CHECK(e.size <= e.compressed_size * kMaxDeflateRatio + 1024)
        << context << ": corrupt archive: declared size " << e.size << " is impossible for "
        << e.compressed_size << " bytes of deflate data";
    out = inflate_raw(begin, e.compressed_size, e.size, context);
  }
  const uint32_t crc = crc32_of(out);
  if (crc != e.crc) {
    std::ostringstream m;
    m << std::hex << "CRC-32 mismatch (computed 0x" << crc << ", the directory says 0x" << e.crc
      << "): the archive is corrupt";
    GLIMPSE_FAIL() << context << ": " << m.str();
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::map<std::string, NpyArray> read_npz_bytes(const std::string& bytes, const std::string& what) {
  const Directory directory = read_directory_location(bytes, what);
  const std::vector<Entry> entries = read_entries(bytes, directory, what);
  std::map<std::string, NpyArray> arrays;
  for (const Entry& e : entries) {
    if (!ends_with(e.name, ".npy")) continue;  // folders and non-array members
    const std::string key = e.name.substr(0, e.name.size() - 4);
    GLIMPSE_CHECK(arrays.count(key) == 0)
        << what << ": member '" << e.name << "' appears twice in the archive";
    std::istringstream member(extract(bytes, e, directory.offset, what));
    arrays.emplace(key, read_npy(member, what + " member '" + e.name + "'"));
  }
  return arrays;
}

std::map<std::string, NpyArray> read_npz(std::istream& in, const std::string& what) {
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  GLIMPSE_CHECK(!in.bad()) << what << ": read error";
  return read_npz_bytes(bytes, what);
}

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_npz(in, path);
}

}  // namespace glimpse
