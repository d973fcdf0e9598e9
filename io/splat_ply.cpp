// Splat PLY writer (the reference 3DGS layout, byte for byte) and a by-name reader for the PLY
// files other 3DGS tools write (INRIA, gsplat, Brush, OpenSplat, LichtFeld, SuperSplat).
// PLY format: http://paulbourke.net/dataformats/ply/
#include "io/splat_ply.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/binary_scalar.h"
#include "io/input_file.h"
#include "io/ply.h"

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

// f_rest_* counts of SH degrees 0..3: 3 * ((d + 1)^2 - 1).
constexpr int kRestCounts[] = {0, 9, 24, 45};

using namespace ply;  // NOLINT: the shared PLY header parser (io/ply.h)

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

void read_binary_vertices(std::istream& in, const Header& header, const Element& vertex,
                          const VertexLayout& layout, const std::string& what, Gaussians& g) {
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
  read_binary_rows(
      in, vertex, header.format, what,
      [&](uint64_t rows) {
        if (g.size() < rows) g.resize(rows);
      },
      [&](const char* p, uint64_t index) {
        for (size_t s = 0; s < slots; ++s) {
          const size_t j = layout.property_index[s];
          row[s] = load_value(p + offsets[j], vertex.properties[j].type);
        }
        store_vertex(row.data(), layout.rest_count, index, g);
      });
  // The file must end where its elements end: more bytes mean a count smaller than the data.
  const auto vertex_it = header.elements.begin() + (&vertex - header.elements.data());
  const auto after = binary_bytes_after(header, vertex_it);
  if (available && after) {
    GLIMPSE_CHECK(*available - total >= *after)
        << what << ": truncated data: the elements after the vertices need " << *after << " bytes, "
        << *available - total << " follow";
    check_no_trailing_data(*available - total - *after, vertex, what);
  }
}

void read_ascii_vertices(std::istream& in, const Element& vertex, bool last_element,
                         const VertexLayout& layout, const std::string& what, Gaussians& g) {
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
  // With the vertices last, nothing but white space may follow them.
  if (last_element) {
    double value = 0;
    const AsciiValue status = read_ascii_value(in, value, token);
    GLIMPSE_CHECK(status == AsciiValue::End)
        << what << ": data follows the " << n << " vertices the header declares ('element vertex "
        << n << "'): the count does not match the data";
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

  // Skip the elements stored before the vertices; those after them are ignored (but must fit).
  skip_elements_before(in, header, vertex_it, what);

  GLIMPSE_CHECK(vertex.count > 0) << what << ": the file holds no Gaussians ('element vertex 0')";
  Gaussians g;
  g.sh_degree = layout.sh_degree;
  if (header.format != Format::Ascii) {
    read_binary_vertices(in, header, vertex, layout, what, g);
  } else {
    read_ascii_vertices(in, vertex, std::next(vertex_it) == header.elements.end(), layout, what, g);
  }
  g.check(what);
  return g;
}

Gaussians read_splat_ply(const std::string& path) {
  std::ifstream in = open_input_file(path);
  return read_splat_ply(in, path);
}

}  // namespace glimpse
