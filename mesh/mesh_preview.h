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

}  // namespace glimpse
