// Mesh writers: binary PLY and OBJ (see mesh_io.h).
#include "io/mesh_io.h"

#include "core/check.h"
#include "io/atomic_file.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <vector>

namespace glimpse {

namespace {

uint8_t colour_byte(float v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
}

template <typename T>
void put_le(std::vector<char>& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

}  // namespace

MeshFileFormat mesh_format_from_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".ply") return MeshFileFormat::Ply;
  if (ext == ".obj") return MeshFileFormat::Obj;
  GLIMPSE_FAIL() << path << ": a mesh is written as .ply or .obj, not '" << ext << "'";
  return MeshFileFormat::Ply;  // not reached: GLIMPSE_FAIL throws
}

void write_mesh_ply(std::ostream& out, const Mesh& mesh) {
  const bool colours = !mesh.colors.empty();
  out << "ply\nformat binary_little_endian 1.0\ncomment written by Glimpse\nelement vertex "
      << mesh.num_vertices() << "\nproperty float x\nproperty float y\nproperty float z\n";
  if (colours) out << "property uchar red\nproperty uchar green\nproperty uchar blue\n";
  out << "element face " << mesh.num_triangles()
      << "\nproperty list uchar int vertex_indices\nend_header\n";
  std::vector<char> buffer;
  constexpr size_t kFlush = size_t{1} << 20;
  for (size_t v = 0; v < mesh.num_vertices(); ++v) {
    for (int a = 0; a < 3; ++a) put_le(buffer, mesh.vertices[3 * v + a]);
    if (colours)
      for (int a = 0; a < 3; ++a)
        buffer.push_back(static_cast<char>(colour_byte(mesh.colors[3 * v + a])));
    if (buffer.size() > kFlush) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  for (size_t t = 0; t < mesh.num_triangles(); ++t) {
    buffer.push_back(3);
    for (int a = 0; a < 3; ++a) put_le(buffer, mesh.triangles[3 * t + a]);
    if (buffer.size() > kFlush) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

void write_mesh_obj(std::ostream& out, const Mesh& mesh) {
  const bool colours = !mesh.colors.empty();
  std::ostringstream text;
  text.precision(9);
  text << "# written by Glimpse: " << mesh.num_vertices() << " vertices, " << mesh.num_triangles()
       << " triangles" << (colours ? ", vertex colours after the positions" : "") << "\n";
  for (size_t v = 0; v < mesh.num_vertices(); ++v) {
    text << "v " << mesh.vertices[3 * v] << " " << mesh.vertices[3 * v + 1] << " "
         << mesh.vertices[3 * v + 2];
    if (colours)
      text << " " << colour_byte(mesh.colors[3 * v]) / 255.0 << " "
           << colour_byte(mesh.colors[3 * v + 1]) / 255.0 << " "
           << colour_byte(mesh.colors[3 * v + 2]) / 255.0;
    text << "\n";
    if (text.tellp() > (1 << 20)) {
      out << text.str();
      text.str("");
    }
  }
  for (size_t t = 0; t < mesh.num_triangles(); ++t) {
    text << "f " << mesh.triangles[3 * t] + 1 << " " << mesh.triangles[3 * t + 1] + 1 << " "
         << mesh.triangles[3 * t + 2] + 1 << "\n";
    if (text.tellp() > (1 << 20)) {
      out << text.str();
      text.str("");
    }
  }
  out << text.str();
}

void write_mesh(const std::string& path, const Mesh& mesh) {
  const MeshFileFormat format = mesh_format_from_path(path);
  mesh.check(path);
  GLIMPSE_CHECK(!mesh.empty()) << path << ": the mesh has no triangles; nothing was written";
  write_file_atomically(path, [&](std::ostream& out) {
    if (format == MeshFileFormat::Ply)
      write_mesh_ply(out, mesh);
    else
      write_mesh_obj(out, mesh);
  });
}

}  // namespace glimpse
