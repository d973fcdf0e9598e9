// A picture of a mesh for people to look at (export previews, reports): the triangles seen by a
// camera, z-buffered on the CPU, shaded by the angle to the view (headlight) and coloured by
// the vertex colours when the mesh has them.
#pragma once

#include "core/camera.h"
#include "core/image.h"
#include "core/mesh.h"

namespace glimpse {

// RGB in [0, 1] at the camera's size; background white. `use_colours` false (or a mesh without
// colours): light grey clay, which shows the geometry alone.
Image<float> render_mesh_preview(const Mesh& mesh, const Camera& camera, bool use_colours);

// The point a preview turns about: on the camera's optical axis at the median depth of the mesh's
// vertices in front of the camera (1 ahead when none is).
Vec3<double> preview_target(const Mesh& mesh, const Camera& camera);

// `camera` carried on a circle about `target`, turned by `angle` radians about its own vertical
// (image y) axis: it sees the target where it saw it before, from `angle` to the side. A mesh
// that only looks right from the input view (a surface on the wrong depth) shows it here.
// Intrinsics and image size unchanged.
Camera orbit_camera(const Camera& camera, const Vec3<double>& target, double angle);

}  // namespace glimpse
