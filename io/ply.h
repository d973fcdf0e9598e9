// The PLY header parser and row readers shared by the splat PLY (io/splat_ply.h) and point-cloud
// PLY (io/point_cloud_ply.h) readers. PLY format: http://paulbourke.net/dataformats/ply/
// Internal to io/: other modules read PLY files through those two headers.
#pragma once

#include "io/binary_scalar.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace glimpse::ply {

// A 3DGS header is about 1.5 KB; anything near this is not a PLY header we read.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
// Data is read and written in chunks, so a corrupt count cannot trigger a huge allocation
// before the data actually arrives.
constexpr size_t kChunkBytes = size_t{1} << 20;

using Kind = ScalarKind;
using ScalarType = ScalarFormat;

// "uchar"/"uint8", "float"/"float32", ... (nullopt for an unknown name).
std::optional<ScalarType> parse_scalar_type(const std::string& name);

struct Property {
  std::string name;
  ScalarType type;
  bool is_list = false;
  ScalarType count_type;  // list properties only
};

struct Element {
  std::string name;
  uint64_t count = 0;
  std::vector<Property> properties;

  bool has_list() const {
    return std::any_of(properties.begin(), properties.end(),
                       [](const Property& p) { return p.is_list; });
  }
  // Bytes per row in a binary file (fixed-size rows only).
  size_t stride() const {
    size_t s = 0;
    for (const Property& p : properties) s += p.type.size;
    return s;
  }
};

enum class Format { Ascii, BinaryLittleEndian, BinaryBigEndian };

struct Header {
  Format format = Format::BinaryLittleEndian;
  std::vector<Element> elements;
};

float load_value(const char* p, const ScalarType& t);

// Reads the header up to and including 'end_header'. Throws glimpse::Error naming `what` for a
// file that is not PLY, a malformed or unsupported header (unknown types, binary bytes outside
// comments: a corrupt header is described, never quoted raw).
Header parse_header(std::istream& in, const std::string& what);

// Bytes left in a seekable stream, or nullopt when the stream cannot tell.
std::optional<uint64_t> remaining_bytes(std::istream& in);

// Skips the rows of a binary element with fixed-size rows (throws for list properties or
// truncated data).
void skip_binary_element(std::istream& in, const Element& e, const std::string& what);

// Skips the rows of the elements stored before `vertex` (binary or ASCII), with the truncation
// error naming `what`.
void skip_elements_before(std::istream& in, const Header& header,
                          std::vector<Element>::const_iterator vertex, const std::string& what);

// Reads the element's e.count binary rows in chunks of about kChunkBytes (so a corrupt count
// cannot allocate before the data arrives), calls before_chunk(rows read once this chunk is done)
// when given, then row(bytes, index) for each row, its values in little-endian order whatever
// `format` stored (big-endian rows are byte-swapped per property first). Throws the truncation
// error naming `what`.
void read_binary_rows(std::istream& in, const Element& e, Format format, const std::string& what,
                      const std::function<void(uint64_t rows)>& before_chunk,
                      const std::function<void(const char* bytes, uint64_t index)>& row);

// Bytes the elements after `vertex` take in a binary file, or nullopt when one has list
// properties (its size depends on the data).
std::optional<uint64_t> binary_bytes_after(const Header& header,
                                           std::vector<Element>::const_iterator vertex);

// Throws when data follows the end of a file's elements: `extra` bytes beyond what the header
// declares mean its counts do not match the data (e.g. a vertex count smaller than the data).
void check_no_trailing_data(uint64_t extra, const Element& vertex, const std::string& what);

enum class AsciiValue { Ok, End, NotNumber };
// Reads one whitespace-separated ASCII value into `value` (the raw text stays in `token`).
AsciiValue read_ascii_value(std::istream& in, double& value, std::string& token);

// Reads the 'vertex' element of a parsed file (the stream positioned after the header) and
// returns, for each name in `wanted` that the element has, its values as floats (absent names are
// absent from the map). Elements before 'vertex' are skipped. Throws glimpse::Error naming
// `what` when there is no vertex element, a wanted property is a list, or the data is truncated.
std::map<std::string, std::vector<float>> read_vertex_columns(
    std::istream& in, const Header& header, const std::vector<std::string>& wanted,
    const std::string& what);

}  // namespace glimpse::ply
