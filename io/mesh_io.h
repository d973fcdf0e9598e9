// Triangle meshes (core/mesh.h) as files: binary PLY with uchar vertex colours (MeshLab, Blender,
// Open3D and CloudCompare read it) and Wavefront OBJ with per-vertex colours ("v x y z r g b", the
// extension MeshLab, Blender and Open3D read).
#pragma once

#include "core/mesh.h"

#include <iosfwd>
#include <string>

namespace glimpse {

enum class MeshFileFormat { Ply, Obj };

// By extension: ".ply" or ".obj" (any case); throws glimpse::Error naming `path` otherwise.
MeshFileFormat mesh_format_from_path(const std::string& path);

// Binary little-endian PLY: element vertex (float x y z, uchar red green blue when the mesh has
// colours), element face (list uchar int vertex_indices).
void write_mesh_ply(std::ostream& out, const Mesh& mesh);
// OBJ: "v x y z [r g b]" per vertex (colours in [0, 1]), "f i j k" per triangle (1-based).
void write_mesh_obj(std::ostream& out, const Mesh& mesh);

// Writes `mesh` to `path` in the format its extension names, atomically (temporary sibling, then
// rename): a failure leaves no file. Throws glimpse::Error naming `path` for an empty or invalid
// mesh or a failed write.
void write_mesh(const std::string& path, const Mesh& mesh);

}  // namespace glimpse
