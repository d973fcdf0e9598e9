// Splat PLY files in the reference 3DGS layout (Kerbl et al., "3D Gaussian Splatting for Real-Time
// Radiance Field Rendering", SIGGRAPH 2023; INRIA scene/gaussian_model.py save_ply), so that every
// viewer and editor in the ecosystem opens what we write and we open what they write.
#pragma once

#include "renderer/gaussians.h"

#include <iosfwd>
#include <string>

namespace glimpse {

// Writes the reference layout exactly: "format binary_little_endian 1.0", one "element vertex N",
// all properties float, in this order:
//   x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 f_rest_0 .. f_rest_{3(K-1)-1}
//   opacity scale_0 scale_1 scale_2 rot_0 rot_1 rot_2 rot_3
// with K = (sh_degree + 1)^2, normals zero, opacity as the logit, scales as logs, rot_0..3 =
// w x y z (raw, not normalised), and f_rest CHANNEL-major: f_rest_{c (K-1) + k - 1} holds channel
// c (R, G, B) of SH coefficient k = 1..K-1 (our sh array is coefficient-major; it is transposed
// here). Throws glimpse::Error naming `what` when g fails Gaussians::check (nothing is written).
void write_splat_ply(std::ostream& out, const Gaussians& g, const std::string& what = "splat PLY");

// Writes a splat PLY atomically (temporary sibling, then rename): a failure never leaves a
// half-written file under `path`.
void write_splat_ply(const std::string& path, const Gaussians& g);

// Reads a splat PLY ("format binary_little_endian 1.0", "binary_big_endian 1.0" or "ascii 1.0").
// Properties of the "vertex" element are matched BY NAME, in any order;
// extra properties (normals, Brush's or SuperSplat's extras) are ignored, and other elements are
// skipped. Each property read may be char/uchar/short/ushort/int/uint/float/double (and the
// int8..float64 spellings); values are converted to float. Required: x y z, f_dc_0..2, opacity,
// scale_0..2, rot_0..3 and f_rest_0..f_rest_{M-1} with M in {0, 9, 24, 45}, which sets the SH
// degree 0..3. Throws glimpse::Error naming `what` (the file) and the problem: not a PLY file,
// malformed or unsupported header, missing property, truncated data (with the expected and
// actual byte counts), a vertex count too large or too small for the file (data after the
// declared elements), no vertices ('element vertex 0'), NaN or infinite values (with the vertex
// index, via Gaussians::check).
Gaussians read_splat_ply(std::istream& in, const std::string& what);

// Opens `path` and reads it with read_splat_ply(stream, path).
Gaussians read_splat_ply(const std::string& path);

}  // namespace glimpse
