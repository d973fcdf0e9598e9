// Splat PLY writer (the reference 3DGS layout, byte for byte) and a by-name reader for the PLY
// files other 3DGS tools write (INRIA, gsplat, Brush, OpenSplat, LichtFeld, SuperSplat).
// PLY format: http://paulbourke.net/dataformats/ply/
#include "io/splat_ply.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/binary_scalar.h"
#include "io/input_file.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <vector>

namespace glimpse {

namespace {

// A 3DGS header is about 1.5 KB; anything near this is not a splat PLY header.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
// Vertex data is read and written in chunks, so a corrupt count cannot trigger a huge allocation
// before the data actually arrives.
constexpr size_t kChunkBytes = size_t{1} << 20;

// f_rest_* counts of SH degrees 0..3: 3 * ((d + 1)^2 - 1).
constexpr int kRestCounts[] = {0, 9, 24, 45};

using Kind = ScalarKind;
using ScalarType = ScalarFormat;

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

enum class Format { Ascii, BinaryLittleEndian };

struct Header {
  Format format = Format::BinaryLittleEndian;
  std::vector<Element> elements;
};

float load_value(const char* p, const ScalarType& t) {
  return static_cast<float>(load_scalar(p, t));
}

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
      GLIMPSE_CHECK(w[1] != "binary_big_endian")
          << what
          << ": unsupported PLY format binary_big_endian (big-endian splat files are not "
             "supported; re-export as binary_little_endian)";
      if (w[1] == "ascii") {
        header.format = Format::Ascii;
      } else if (w[1] == "binary_little_endian") {
        header.format = Format::BinaryLittleEndian;
      } else {
        GLIMPSE_FAIL() << what << ": unsupported PLY format '" << w[1]
                       << "' (supported: binary_little_endian, ascii)";
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

// Where each value of the canonical vertex row comes from. The canonical row is
// x y z f_dc_0..2 f_rest_0..M-1 opacity scale_0..2 rot_0..3 (M = 3 (K - 1)).
struct VertexLayout {
  int sh_degree = 0;
  int rest_count = 0;
  std::vector<size_t> property_index;  // canonical slot -> index into the element's properties
};

VertexLayout vertex_layout(const Element& vertex, const std::string& what) {
  std::map<std::string, size_t> index;
  int rest_count = 0;
  for (size_t i = 0; i < vertex.properties.size(); ++i) {
    const Property& p = vertex.properties[i];
    index[p.name] = i;
    if (p.name.rfind("f_rest_", 0) == 0) ++rest_count;
  }
  VertexLayout layout;
  layout.rest_count = rest_count;
  const auto* degree = std::find(std::begin(kRestCounts), std::end(kRestCounts), rest_count);
  GLIMPSE_CHECK(degree != std::end(kRestCounts))
      << what << ": " << rest_count
      << " f_rest_* properties do not match an SH degree (expected 0, 9, 24 or 45 for degree "
      << "0..3" << (rest_count == 72 ? "; SH degree 4 is not supported" : "") << ")";
  layout.sh_degree = static_cast<int>(degree - std::begin(kRestCounts));

  std::vector<std::string> names = {"x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2"};
  for (int i = 0; i < rest_count; ++i) names.push_back("f_rest_" + std::to_string(i));
  for (const char* n :
       {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"}) {
    names.push_back(n);
  }
  for (const std::string& n : names) {
    const auto it = index.find(n);
    GLIMPSE_CHECK(it != index.end())
        << what << ": missing property '" << n << "' in element 'vertex' (a 3DGS splat PLY needs "
        << "x y z f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3)";
    GLIMPSE_CHECK(!vertex.properties[it->second].is_list)
        << what << ": property '" << n << "' of element 'vertex' is a list, expected a scalar";
    layout.property_index.push_back(it->second);
  }
  return layout;
}

// Scatters one canonical row into Gaussian i (sh transposed from channel-major f_rest).
void store_vertex(const float* row, int rest_count, size_t i, Gaussians& g) {
  const size_t k_count = static_cast<size_t>(g.sh_coeffs());
  const size_t rest_per_channel = k_count - 1;
  for (int a = 0; a < 3; ++a) g.means[3 * i + a] = row[a];
  float* sh = g.sh.data() + i * k_count * 3;
  for (int c = 0; c < 3; ++c) sh[c] = row[3 + c];
  for (size_t c = 0; c < 3; ++c)
    for (size_t k = 1; k < k_count; ++k) sh[k * 3 + c] = row[6 + c * rest_per_channel + k - 1];
  const float* tail = row + 6 + rest_count;
  g.opacity_logits[i] = tail[0];
  for (int a = 0; a < 3; ++a) g.log_scales[3 * i + a] = tail[1 + a];
  for (int a = 0; a < 4; ++a) g.quats[4 * i + a] = tail[4 + a];
}

// Bytes left in a seekable stream, or nullopt when the stream cannot tell.
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

void read_binary_vertices(std::istream& in, const Element& vertex, const VertexLayout& layout,
                          const std::string& what, Gaussians& g) {
  const size_t stride = vertex.stride();
  const uint64_t n = vertex.count;
  GLIMPSE_CHECK(stride > 0 && n <= std::numeric_limits<uint64_t>::max() / stride)
      << what << ": vertex count " << n << " is absurd";
  const uint64_t total = n * stride;
  const auto available = remaining_bytes(in);
  if (available) {
    GLIMPSE_CHECK(*available >= total)
        << what << ": truncated data: expected " << n << " vertices * " << stride
        << " bytes = " << total << " bytes after the header, got " << *available
        << (total / 2 > *available ? " (truncated file or corrupt vertex count)" : "");
    g.resize(n);
  }
  std::vector<size_t> offsets(vertex.properties.size());
  for (size_t i = 1; i < offsets.size(); ++i)
    offsets[i] = offsets[i - 1] + vertex.properties[i - 1].type.size;

  const size_t slots = layout.property_index.size();
  std::vector<float> row(slots);
  const uint64_t chunk_vertices = std::max<uint64_t>(1, kChunkBytes / stride);
  std::vector<char> buffer;
  for (uint64_t base = 0; base < n;) {
    const uint64_t m = std::min(n - base, chunk_vertices);
    buffer.resize(m * stride);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<uint64_t>(in.gcount());
    GLIMPSE_CHECK(got == buffer.size())
        << what << ": truncated data: expected " << n << " vertices * " << stride
        << " bytes = " << total << " bytes after the header, got " << base * stride + got;
    if (g.size() < base + m) g.resize(base + m);
    for (uint64_t v = 0; v < m; ++v) {
      const char* p = buffer.data() + v * stride;
      for (size_t s = 0; s < slots; ++s) {
        const size_t j = layout.property_index[s];
        row[s] = load_value(p + offsets[j], vertex.properties[j].type);
      }
      store_vertex(row.data(), layout.rest_count, base + v, g);
    }
    base += m;
  }
}

enum class AsciiValue { Ok, End, NotNumber };

// Reads one whitespace-separated ASCII value into `value` (the raw text stays in `token`).
AsciiValue read_ascii_value(std::istream& in, double& value, std::string& token) {
  token.clear();
  if (!(in >> token)) return AsciiValue::End;
  const char* begin = token.c_str();
  char* end = nullptr;
  value = std::strtod(begin, &end);
  return end != begin && *end == '\0' ? AsciiValue::Ok : AsciiValue::NotNumber;
}

void read_ascii_vertices(std::istream& in, const Element& vertex, const VertexLayout& layout,
                         const std::string& what, Gaussians& g) {
  const size_t props = vertex.properties.size();
  const uint64_t n = vertex.count;
  // Every value takes at least two characters (a digit and a separator).
  if (const auto available = remaining_bytes(in)) {
    GLIMPSE_CHECK(props == 0 || n <= *available / (2 * props))
        << what << ": truncated data: " << n << " vertices of " << props
        << " ASCII values need at least " << 2 * props << " bytes each, but only " << *available
        << " bytes follow the header";
    g.resize(n);
  }
  std::vector<size_t> slot_of(props, SIZE_MAX);
  for (size_t s = 0; s < layout.property_index.size(); ++s) slot_of[layout.property_index[s]] = s;
  std::vector<float> row(layout.property_index.size());
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
      if (slot_of[j] != SIZE_MAX) row[slot_of[j]] = static_cast<float>(value);
    }
    if (g.size() <= v) g.resize(v + 1);
    store_vertex(row.data(), layout.rest_count, v, g);
  }
}

void write_body(std::ostream& out, const Gaussians& g) {
  const size_t n = g.size();
  const size_t k_count = static_cast<size_t>(g.sh_coeffs());
  const size_t rest = 3 * (k_count - 1);
  std::ostringstream header;
  header << "ply\nformat binary_little_endian 1.0\nelement vertex " << n << "\n";
  for (const char* name : {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"})
    header << "property float " << name << "\n";
  for (size_t i = 0; i < rest; ++i) header << "property float f_rest_" << i << "\n";
  for (const char* name :
       {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"}) {
    header << "property float " << name << "\n";
  }
  header << "end_header\n";
  out << header.str();

  const size_t floats = 17 + rest;  // 3 + 3 + 3 + rest + 1 + 3 + 4
  const size_t chunk = std::max<size_t>(1, kChunkBytes / (floats * sizeof(float)));
  std::vector<float> buffer;
  std::vector<char> bytes;  // little-endian image of buffer
  for (size_t base = 0; base < n; base += chunk) {
    const size_t m = std::min(chunk, n - base);
    buffer.resize(m * floats);
    float* row = buffer.data();
    for (size_t i = base; i < base + m; ++i, row += floats) {
      const float* sh = g.sh.data() + i * k_count * 3;
      float* o = row;
      for (int a = 0; a < 3; ++a) *o++ = g.means[3 * i + a];
      for (int a = 0; a < 3; ++a) *o++ = 0.0f;  // normals
      for (int c = 0; c < 3; ++c) *o++ = sh[c];
      for (size_t c = 0; c < 3; ++c)  // channel-major f_rest
        for (size_t k = 1; k < k_count; ++k) *o++ = sh[k * 3 + c];
      *o++ = g.opacity_logits[i];
      for (int a = 0; a < 3; ++a) *o++ = g.log_scales[3 * i + a];
      for (int a = 0; a < 4; ++a) *o++ = g.quats[4 * i + a];  // w x y z, as the reference
    }
    bytes.resize(buffer.size() * sizeof(float));
    std::memcpy(bytes.data(), buffer.data(), bytes.size());
    if constexpr (std::endian::native == std::endian::big) {
      for (size_t i = 0; i < bytes.size(); i += sizeof(float))
        std::reverse(bytes.begin() + i, bytes.begin() + i + sizeof(float));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
}

}  // namespace

void write_splat_ply(std::ostream& out, const Gaussians& g, const std::string& what) {
  g.check(what);
  write_body(out, g);
  GLIMPSE_CHECK(out.good()) << what << ": write failed";
}

void write_splat_ply(const std::string& path, const Gaussians& g) {
  g.check(path);
  write_file_atomically(path, [&](std::ostream& out) { write_body(out, g); });
}

Gaussians read_splat_ply(std::istream& in, const std::string& what) {
  const Header header = parse_header(in, what);
  const auto vertex_it = std::find_if(header.elements.begin(), header.elements.end(),
                                      [](const Element& e) { return e.name == "vertex"; });
  GLIMPSE_CHECK(vertex_it != header.elements.end())
      << what << ": the PLY file has no 'vertex' element (not a splat file)";
  const Element& vertex = *vertex_it;
  const VertexLayout layout = vertex_layout(vertex, what);
  for (const Property& p : vertex.properties)
    GLIMPSE_CHECK(!p.is_list) << what << ": element 'vertex' has a list property '" << p.name
                              << "' (not a splat file)";

  // Skip the elements stored before the vertices; those after them are ignored.
  for (auto e = header.elements.begin(); e != vertex_it; ++e) {
    if (header.format == Format::BinaryLittleEndian) {
      skip_binary_element(in, *e, what);
    } else {
      std::string line;
      for (uint64_t i = 0; i < e->count; ++i)
        GLIMPSE_CHECK(std::getline(in, line))
            << what << ": truncated data: element '" << e->name << "' has " << e->count
            << " rows, the file ends after " << i;
    }
  }

  Gaussians g;
  g.sh_degree = layout.sh_degree;
  if (header.format == Format::BinaryLittleEndian) {
    read_binary_vertices(in, vertex, layout, what, g);
  } else {
    read_ascii_vertices(in, vertex, layout, what, g);
  }
  g.check(what);
  return g;
}

Gaussians read_splat_ply(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_splat_ply(in, path);
}

}  // namespace glimpse
