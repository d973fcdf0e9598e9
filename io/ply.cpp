// The shared PLY header parser and row readers (see ply.h).
#include "io/ply.h"

#include "core/check.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <iterator>
#include <limits>
#include <sstream>

namespace glimpse::ply {

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream s(line);
  std::vector<std::string> words;
  for (std::string w; s >> w;) words.push_back(w);
  return words;
}

// Reads one header line (without the '\n' and a trailing '\r'). Returns false at end of stream
// with nothing read. `budget` is the number of header bytes still allowed.
bool read_header_line(std::istream& in, std::string& line, size_t& budget,
                      const std::string& what) {
  line.clear();
  bool any = false;
  for (int c; (c = in.get()) != std::char_traits<char>::eof();) {
    any = true;
    GLIMPSE_CHECK(budget > 0) << what
                              << ": malformed PLY header: no 'end_header' line in the first "
                              << kMaxHeaderBytes << " bytes";
    --budget;
    if (c == '\n') break;
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

// A header line that is not a comment must be printable ASCII; the first other byte is named
// in hex, so that a corrupt header never puts raw binary into a message.
void check_printable(const std::string& line, int line_no, const std::string& what) {
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c >= 0x20 && c < 0x7f) || c == '\t') continue;
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", c);
    GLIMPSE_FAIL() << what << ": malformed PLY header, line " << line_no << ": byte " << hex
                   << " at column " << i + 1
                   << " is not text (the header is corrupt, or binary data starts before "
                      "'end_header')";
  }
}

}  // namespace

std::optional<ScalarType> parse_scalar_type(const std::string& name) {
  static const struct {
    const char* a;
    const char* b;
    ScalarType type;
  } kTypes[] = {{"char", "int8", {Kind::Int, 1}},       {"uchar", "uint8", {Kind::UInt, 1}},
                {"short", "int16", {Kind::Int, 2}},     {"ushort", "uint16", {Kind::UInt, 2}},
                {"int", "int32", {Kind::Int, 4}},       {"uint", "uint32", {Kind::UInt, 4}},
                {"float", "float32", {Kind::Float, 4}}, {"double", "float64", {Kind::Float, 8}}};
  for (const auto& t : kTypes)
    if (name == t.a || name == t.b) return t.type;
  return std::nullopt;
}

float load_value(const char* p, const ScalarType& t) {
  return static_cast<float>(load_scalar(p, t));
}

Header parse_header(std::istream& in, const std::string& what) {
  size_t budget = kMaxHeaderBytes;
  // The magic line: read at most a few bytes, so that a large binary file fails fast.
  char magic[4] = {};
  in.read(magic, 4);
  const auto got = static_cast<size_t>(in.gcount());
  GLIMPSE_CHECK(got > 0) << what << ": not a PLY file (it is empty)";
  const bool magic_ok =
      got >= 4 && std::memcmp(magic, "ply", 3) == 0 && (magic[3] == '\n' || magic[3] == '\r');
  GLIMPSE_CHECK(magic_ok) << what << ": not a PLY file (it does not start with the line 'ply')";
  if (magic[3] == '\r' && in.peek() == '\n') in.get();

  Header header;
  bool has_format = false;
  std::string line;
  for (int line_no = 2;; ++line_no) {
    GLIMPSE_CHECK(read_header_line(in, line, budget, what))
        << what << ": malformed PLY header: the file ends before 'end_header'";
    if (line.rfind("comment", 0) != 0 && line.rfind("obj_info", 0) != 0)
      check_printable(line, line_no, what);
    const std::vector<std::string> w = split_words(line);
    auto context = [&] {
      return what + ": malformed PLY header, line " + std::to_string(line_no) + " \"" + line +
             "\": ";
    };
    if (w.empty()) continue;
    const std::string& key = w[0];
    if (key == "end_header") break;
    if (key == "comment" || key == "obj_info") continue;
    if (key == "format") {
      GLIMPSE_CHECK(!has_format) << context() << "a second 'format' line";
      GLIMPSE_CHECK(w.size() == 3) << context() << "expected 'format <type> 1.0'";
      if (w[1] == "ascii") {
        header.format = Format::Ascii;
      } else if (w[1] == "binary_little_endian") {
        header.format = Format::BinaryLittleEndian;
      } else if (w[1] == "binary_big_endian") {
        header.format = Format::BinaryBigEndian;
      } else {
        GLIMPSE_FAIL() << what << ": unsupported PLY format '" << w[1]
                       << "' (supported: binary_little_endian, binary_big_endian, ascii)";
      }
      GLIMPSE_CHECK(w[2] == "1.0" || w[2] == "1")
          << what << ": unsupported PLY version " << w[2] << " (supported: 1.0)";
      has_format = true;
    } else if (key == "element") {
      GLIMPSE_CHECK(w.size() == 3) << context() << "expected 'element <name> <count>'";
      Element e;
      e.name = w[1];
      const char* first = w[2].data();
      const char* last = first + w[2].size();
      const auto [end, ec] = std::from_chars(first, last, e.count);
      GLIMPSE_CHECK(ec == std::errc() && end == last)
          << context() << "the element count '" << w[2] << "' is not a non-negative integer";
      for (const Element& other : header.elements)
        GLIMPSE_CHECK(other.name != e.name) << context() << "a second element '" << e.name << "'";
      header.elements.push_back(e);
    } else if (key == "property") {
      GLIMPSE_CHECK(!header.elements.empty()) << context() << "a property before any element";
      Property p;
      if (w.size() == 5 && w[1] == "list") {
        p.is_list = true;
        const auto count_type = parse_scalar_type(w[2]);
        const auto item_type = parse_scalar_type(w[3]);
        GLIMPSE_CHECK(count_type && count_type->kind != Kind::Float)
            << context() << "bad list count type '" << w[2] << "'";
        GLIMPSE_CHECK(item_type) << context() << "unknown property type '" << w[3] << "'";
        p.count_type = *count_type;
        p.type = *item_type;
        p.name = w[4];
      } else {
        GLIMPSE_CHECK(w.size() == 3) << context() << "expected 'property <type> <name>'";
        const auto type = parse_scalar_type(w[1]);
        GLIMPSE_CHECK(type) << context() << "unknown property type '" << w[1]
                            << "' (supported: char uchar short ushort int uint float double)";
        p.type = *type;
        p.name = w[2];
      }
      Element& e = header.elements.back();
      for (const Property& other : e.properties)
        GLIMPSE_CHECK(other.name != p.name)
            << context() << "element '" << e.name << "' has property '" << p.name << "' twice";
      e.properties.push_back(p);
    } else {
      GLIMPSE_FAIL() << context() << "unknown keyword '" << key << "'";
    }
  }
  GLIMPSE_CHECK(has_format) << what << ": malformed PLY header: no 'format' line";
  return header;
}

std::optional<uint64_t> remaining_bytes(std::istream& in) {
  const std::streampos here = in.tellg();
  if (here == std::streampos(-1)) return std::nullopt;
  in.seekg(0, std::ios::end);
  const std::streampos end = in.tellg();
  in.seekg(here);
  if (end == std::streampos(-1) || !in || end < here) {
    in.clear();
    in.seekg(here);
    return std::nullopt;
  }
  return static_cast<uint64_t>(end - here);
}

void skip_binary_element(std::istream& in, const Element& e, const std::string& what) {
  GLIMPSE_CHECK(!e.has_list()) << what << ": element '" << e.name
                               << "' before 'vertex' has list properties; such binary files are "
                                  "not supported (put the vertex element first)";
  const size_t stride = e.stride();
  GLIMPSE_CHECK(stride == 0 || e.count <= std::numeric_limits<uint64_t>::max() / stride)
      << what << ": element '" << e.name << "' count " << e.count << " is absurd";
  const uint64_t bytes = e.count * stride;
  std::vector<char> buffer(std::min<uint64_t>(bytes, kChunkBytes));
  for (uint64_t done = 0; done < bytes;) {
    const auto want = static_cast<std::streamsize>(std::min<uint64_t>(bytes - done, kChunkBytes));
    in.read(buffer.data(), want);
    done += static_cast<uint64_t>(in.gcount());
    GLIMPSE_CHECK(in.gcount() == want) << what << ": truncated data: element '" << e.name
                                       << "' needs " << bytes << " bytes, got " << done;
  }
}

AsciiValue read_ascii_value(std::istream& in, double& value, std::string& token) {
  token.clear();
  if (!(in >> token)) return AsciiValue::End;
  const char* begin = token.c_str();
  char* end = nullptr;
  value = std::strtod(begin, &end);
  return end != begin && *end == '\0' ? AsciiValue::Ok : AsciiValue::NotNumber;
}

void skip_elements_before(std::istream& in, const Header& header,
                          std::vector<Element>::const_iterator vertex, const std::string& what) {
  for (auto e = header.elements.begin(); e != vertex; ++e) {
    if (header.format != Format::Ascii) {
      skip_binary_element(in, *e, what);
    } else {
      std::string line;
      for (uint64_t i = 0; i < e->count; ++i)
        GLIMPSE_CHECK(std::getline(in, line))
            << what << ": truncated data: element '" << e->name << "' has " << e->count
            << " rows, the file ends after " << i;
    }
  }
}

void read_binary_rows(std::istream& in, const Element& e, Format format, const std::string& what,
                      const std::function<void(uint64_t rows)>& before_chunk,
                      const std::function<void(const char* bytes, uint64_t index)>& row) {
  const size_t stride = e.stride();
  const uint64_t n = e.count;
  GLIMPSE_CHECK(stride > 0 && n <= std::numeric_limits<uint64_t>::max() / stride)
      << what << ": element '" << e.name << "' count " << n << " is absurd";
  const uint64_t total = n * stride;
  // Byte-swap plan for big-endian rows: (offset, size) of each multi-byte property.
  std::vector<std::pair<size_t, size_t>> swaps;
  if (format == Format::BinaryBigEndian) {
    size_t offset = 0;
    for (const Property& p : e.properties) {
      if (p.type.size > 1) swaps.emplace_back(offset, p.type.size);
      offset += p.type.size;
    }
  }
  const uint64_t chunk_rows = std::max<uint64_t>(1, kChunkBytes / stride);
  std::vector<char> buffer;
  for (uint64_t base = 0; base < n;) {
    const uint64_t m = std::min(n - base, chunk_rows);
    buffer.resize(m * stride);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<uint64_t>(in.gcount());
    GLIMPSE_CHECK(got == buffer.size())
        << what << ": truncated data: expected " << n
        << (e.name == "vertex" ? std::string(" vertices") : " '" + e.name + "' rows") << " * "
        << stride << " bytes = " << total << " bytes, got " << base * stride + got;
    if (!swaps.empty())
      for (uint64_t v = 0; v < m; ++v)
        for (const auto& [offset, size] : swaps) {
          char* p = buffer.data() + v * stride + offset;
          std::reverse(p, p + size);
        }
    if (before_chunk) before_chunk(base + m);
    for (uint64_t v = 0; v < m; ++v) row(buffer.data() + v * stride, base + v);
    base += m;
  }
}

std::optional<uint64_t> binary_bytes_after(const Header& header,
                                           std::vector<Element>::const_iterator vertex) {
  uint64_t bytes = 0;
  for (auto e = std::next(vertex); e != header.elements.end(); ++e) {
    if (e->has_list()) return std::nullopt;
    const size_t stride = e->stride();
    if (stride > 0 && e->count > (std::numeric_limits<uint64_t>::max() - bytes) / stride)
      return std::nullopt;
    bytes += e->count * stride;
  }
  return bytes;
}

void check_no_trailing_data(uint64_t extra, const Element& vertex, const std::string& what) {
  GLIMPSE_CHECK(extra == 0) << what << ": " << extra
                            << " bytes of data follow what the header declares ('element "
                            << vertex.name << " " << vertex.count
                            << "'): the counts do not match the data (a truncated header or a "
                               "wrong count)";
}

std::map<std::string, std::vector<float>> read_vertex_columns(
    std::istream& in, const Header& header, const std::vector<std::string>& wanted,
    const std::string& what) {
  const auto vertex_it = std::find_if(header.elements.begin(), header.elements.end(),
                                      [](const Element& e) { return e.name == "vertex"; });
  GLIMPSE_CHECK(vertex_it != header.elements.end())
      << what << ": the PLY file has no 'vertex' element";
  const Element& vertex = *vertex_it;
  skip_elements_before(in, header, vertex_it, what);
  const size_t props = vertex.properties.size();
  std::vector<int> column_of(props, -1);
  std::vector<std::string> names;
  for (size_t j = 0; j < props; ++j) {
    const Property& p = vertex.properties[j];
    if (std::find(wanted.begin(), wanted.end(), p.name) == wanted.end()) continue;
    GLIMPSE_CHECK(!p.is_list) << what << ": property '" << p.name
                              << "' of element 'vertex' is a list, expected a scalar";
    column_of[j] = static_cast<int>(names.size());
    names.push_back(p.name);
  }
  const uint64_t n = vertex.count;
  std::vector<std::vector<float>> columns(names.size());
  if (header.format != Format::Ascii) {
    GLIMPSE_CHECK(!vertex.has_list())
        << what << ": element 'vertex' has list properties; such binary files are not supported";
    const size_t stride = vertex.stride();
    GLIMPSE_CHECK(stride > 0 && n <= std::numeric_limits<uint64_t>::max() / stride)
        << what << ": vertex count " << n << " is absurd";
    const uint64_t total = n * stride;
    if (const auto available = remaining_bytes(in)) {
      GLIMPSE_CHECK(*available >= total)
          << what << ": truncated data: expected " << n << " vertices * " << stride
          << " bytes = " << total << " bytes after the header, got " << *available;
    }
    std::vector<size_t> offsets(props);
    for (size_t i = 1; i < props; ++i)
      offsets[i] = offsets[i - 1] + vertex.properties[i - 1].type.size;
    const auto available = remaining_bytes(in);
    read_binary_rows(in, vertex, header.format, what, {}, [&](const char* p, uint64_t) {
      for (size_t j = 0; j < props; ++j)
        if (column_of[j] >= 0)
          columns[column_of[j]].push_back(load_value(p + offsets[j], vertex.properties[j].type));
    });
    const auto after = binary_bytes_after(header, vertex_it);
    if (available && after && *available >= total + *after)
      check_no_trailing_data(*available - total - *after, vertex, what);
  } else {
    if (const auto available = remaining_bytes(in)) {
      GLIMPSE_CHECK(props == 0 || n <= *available / (2 * props))
          << what << ": truncated data: " << n << " vertices of " << props
          << " ASCII values need at least " << 2 * props << " bytes each, but only " << *available
          << " bytes follow the header";
    }
    GLIMPSE_CHECK(!vertex.has_list())
        << what << ": element 'vertex' has list properties (not a point cloud)";
    std::string token;
    for (uint64_t v = 0; v < n; ++v) {
      for (size_t j = 0; j < props; ++j) {
        double value = 0;
        const AsciiValue status = read_ascii_value(in, value, token);
        GLIMPSE_CHECK(status != AsciiValue::End) << what << ": truncated data: expected " << n
                                                 << " vertices, the file ends in vertex " << v;
        GLIMPSE_CHECK(status == AsciiValue::Ok)
            << what << ": vertex " << v << ", property '" << vertex.properties[j].name << "': '"
            << token << "' is not a number";
        if (column_of[j] >= 0) columns[column_of[j]].push_back(static_cast<float>(value));
      }
    }
  }
  std::map<std::string, std::vector<float>> result;
  for (size_t c = 0; c < names.size(); ++c) result[names[c]] = std::move(columns[c]);
  return result;
}

}  // namespace glimpse::ply
