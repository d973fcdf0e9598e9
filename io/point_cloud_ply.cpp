// Point-cloud PLY writer and by-name reader (see point_cloud_ply.h).
#include "io/point_cloud_ply.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/input_file.h"
#include "io/ply.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>

namespace glimpse {

namespace {

template <typename T>
void put_le(std::vector<char>& bytes, T value) {
  char b[sizeof(T)];
  std::memcpy(b, &value, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(T));
  bytes.insert(bytes.end(), b, b + sizeof(T));
}

uint8_t to_byte(float v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
}

constexpr float kByteToUnit = 1.0f / 255.0f;  // the reader's scale for integer colours

}  // namespace

void quantize_point_colors(PointCloud& cloud) {
  for (float& c : cloud.colors) c = static_cast<float>(to_byte(c)) * kByteToUnit;
}

void write_point_cloud_ply(const std::string& path, const PointCloud& cloud) {
  cloud.check(path);
  const size_t n = cloud.size();
  const bool normals = !cloud.normals.empty();
  const bool support = !cloud.support.empty();
  write_file_atomically(path, [&](std::ostream& out) {
    std::ostringstream header;
    header << "ply\nformat binary_little_endian 1.0\ncomment written by Glimpse\nelement vertex "
           << n << "\nproperty float x\nproperty float y\nproperty float z\n";
    if (normals) header << "property float nx\nproperty float ny\nproperty float nz\n";
    header << "property uchar red\nproperty uchar green\nproperty uchar blue\n";
    if (support) header << "property float support\n";
    header << "end_header\n";
    out << header.str();
    std::vector<char> bytes;
    for (size_t base = 0; base < n; base += 65536) {
      bytes.clear();
      for (size_t i = base; i < std::min(n, base + 65536); ++i) {
        for (int a = 0; a < 3; ++a) put_le(bytes, cloud.positions[3 * i + a]);
        if (normals)
          for (int a = 0; a < 3; ++a) put_le(bytes, cloud.normals[3 * i + a]);
        for (int a = 0; a < 3; ++a) put_le(bytes, to_byte(cloud.colors[3 * i + a]));
        if (support) put_le(bytes, cloud.support[i]);
      }
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  });
}

PointCloud read_point_cloud_ply(const std::string& path) {
  std::ifstream in = open_input_file(path);
  const ply::Header header = ply::parse_header(in, path);
  const std::vector<std::string> wanted = {"x",     "y",    "z", "nx", "ny", "nz",     "red",
                                           "green", "blue", "r", "g",  "b",  "support"};
  auto columns = ply::read_vertex_columns(in, header, wanted, path);
  for (const char* name : {"x", "y", "z"})
    GLIMPSE_CHECK(columns.count(name))
        << path << ": the PLY vertex element has no '" << name << "' property (not a point cloud)";
  // Colour scale from the property type: integers are 0..255, floats 0..1.
  float colour_scale = kByteToUnit;
  for (const ply::Element& e : header.elements)
    if (e.name == "vertex")
      for (const ply::Property& p : e.properties)
        if ((p.name == "red" || p.name == "r") && p.type.kind == ply::Kind::Float)
          colour_scale = 1.0f;
  const auto colour = [&](const char* a, const char* b) -> const std::vector<float>* {
    if (columns.count(a)) return &columns[a];
    if (columns.count(b)) return &columns[b];
    return nullptr;
  };
  const std::vector<float>* red = colour("red", "r");
  const std::vector<float>* green = colour("green", "g");
  const std::vector<float>* blue = colour("blue", "b");
  const bool has_colour = red && green && blue;
  const bool has_normals = columns.count("nx") && columns.count("ny") && columns.count("nz");
  const size_t n = columns["x"].size();
  PointCloud cloud;
  cloud.positions.resize(3 * n);
  cloud.colors.resize(3 * n, 0.5f);
  if (has_normals) cloud.normals.resize(3 * n);
  for (size_t i = 0; i < n; ++i) {
    cloud.positions[3 * i] = columns["x"][i];
    cloud.positions[3 * i + 1] = columns["y"][i];
    cloud.positions[3 * i + 2] = columns["z"][i];
    if (has_colour) {
      cloud.colors[3 * i] = (*red)[i] * colour_scale;
      cloud.colors[3 * i + 1] = (*green)[i] * colour_scale;
      cloud.colors[3 * i + 2] = (*blue)[i] * colour_scale;
    }
    if (has_normals) {
      cloud.normals[3 * i] = columns["nx"][i];
      cloud.normals[3 * i + 1] = columns["ny"][i];
      cloud.normals[3 * i + 2] = columns["nz"][i];
    }
  }
  if (columns.count("support")) cloud.support = std::move(columns["support"]);
  cloud.check(path);
  return cloud;
}

}  // namespace glimpse
