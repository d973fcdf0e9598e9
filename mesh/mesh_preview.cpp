// CPU z-buffer rendering of a mesh for previews (see mesh_preview.h).
#include "mesh/mesh_preview.h"

#include "core/check.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace glimpse {

Image<float> render_mesh_preview(const Mesh& mesh, const Camera& camera, bool use_colours) {
  mesh.check("mesh preview");
  check_camera(camera, "mesh preview camera");
  const int w = camera.width, h = camera.height;
  Image<float> out(w, h, 3, 1.0f);
  std::vector<float> zbuffer(static_cast<size_t>(w) * h, std::numeric_limits<float>::infinity());
  const bool colours = use_colours && !mesh.colors.empty();
  // Vertices in the camera frame and on the image (pixel centres at + 0.5).
  const size_t nv = mesh.num_vertices();
  std::vector<Vec3<double>> cam(nv);
  std::vector<double> u(nv), v(nv);
  for (size_t i = 0; i < nv; ++i) {
    cam[i] = camera.cam_from_world(
        {mesh.vertices[3 * i], mesh.vertices[3 * i + 1], mesh.vertices[3 * i + 2]});
    u[i] = camera.fx * cam[i].x / cam[i].z + camera.cx;
    v[i] = camera.fy * cam[i].y / cam[i].z + camera.cy;
  }
  for (size_t t = 0; t < mesh.num_triangles(); ++t) {
    const int32_t* tri = &mesh.triangles[3 * t];
    const size_t a = static_cast<size_t>(tri[0]), b = static_cast<size_t>(tri[1]),
                 c = static_cast<size_t>(tri[2]);
    if (cam[a].z <= 1e-6 || cam[b].z <= 1e-6 || cam[c].z <= 1e-6) continue;
    // Headlight shading: |cos| of the angle between the face normal and the view ray.
    const Vec3<double> n = cross(cam[b] - cam[a], cam[c] - cam[a]);
    const Vec3<double> centre = (cam[a] + cam[b] + cam[c]) * (1.0 / 3.0);
    const double nn = norm(n), cn = norm(centre);
    if (!(nn > 0 && cn > 0)) continue;
    const float shade = static_cast<float>(0.25 + 0.75 * std::abs(dot(n, centre)) / (nn * cn));
    const double area = (u[b] - u[a]) * (v[c] - v[a]) - (u[c] - u[a]) * (v[b] - v[a]);
    if (std::abs(area) < 1e-12) continue;
    const int x0 = std::max(0, static_cast<int>(std::floor(std::min({u[a], u[b], u[c]}))));
    const int x1 = std::min(w - 1, static_cast<int>(std::ceil(std::max({u[a], u[b], u[c]}))));
    const int y0 = std::max(0, static_cast<int>(std::floor(std::min({v[a], v[b], v[c]}))));
    const int y1 = std::min(h - 1, static_cast<int>(std::ceil(std::max({v[a], v[b], v[c]}))));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double px = x + 0.5, py = y + 0.5;
        // Barycentric weights (screen space; depth interpolated as 1/z for perspective).
        const double wa = ((u[b] - px) * (v[c] - py) - (u[c] - px) * (v[b] - py)) / area;
        const double wb = ((u[c] - px) * (v[a] - py) - (u[a] - px) * (v[c] - py)) / area;
        const double wc = 1.0 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        const double inv_z = wa / cam[a].z + wb / cam[b].z + wc / cam[c].z;
        const float z = static_cast<float>(1.0 / inv_z);
        float& zb = zbuffer[static_cast<size_t>(y) * w + x];
        if (z >= zb) continue;
        zb = z;
        for (int ch = 0; ch < 3; ++ch) {
          float base = 0.8f;
          if (colours)
            base = static_cast<float>(wa * mesh.colors[3 * a + ch] + wb * mesh.colors[3 * b + ch] +
                                      wc * mesh.colors[3 * c + ch]);
          out.at(x, y, ch) =
              std::clamp(colours ? base * (0.5f + 0.5f * shade) : base * shade, 0.0f, 1.0f);
        }
      }
  }
  return out;
}

Vec3<double> preview_target(const Mesh& mesh, const Camera& camera) {
  std::vector<double> depths;
  depths.reserve(mesh.num_vertices());
  for (size_t i = 0; i < mesh.num_vertices(); ++i) {
    const double z = camera
                         .cam_from_world({mesh.vertices[3 * i], mesh.vertices[3 * i + 1],
                                          mesh.vertices[3 * i + 2]})
                         .z;
    if (z > 0 && std::isfinite(z)) depths.push_back(z);
  }
  double depth = 1.0;
  if (!depths.empty()) {
    const auto mid = depths.begin() + static_cast<std::ptrdiff_t>(depths.size() / 2);
    std::nth_element(depths.begin(), mid, depths.end());
    depth = *mid;
  }
  // The point (0, 0, depth) of the camera frame, in the world.
  return mul_transposed(camera.rotation, Vec3<double>{0, 0, depth} - camera.translation);
}

Camera orbit_camera(const Camera& camera, const Vec3<double>& target, double angle) {
  // The world turned by -angle about the axis through `target` along the camera's y axis, seen by
  // the unmoved camera: p_cam = R (Q^T (p - target) + target) + t, Q the rotation by `angle`.
  const Vec3<double> axis = mul_transposed(camera.rotation, Vec3<double>{0, 1, 0});
  const double s = std::sin(0.5 * angle);
  const Mat3<double> q =
      quat_to_rotmat(Quat<double>(std::cos(0.5 * angle), axis.x * s, axis.y * s, axis.z * s));
  Camera out = camera;
  out.rotation = camera.rotation * q.transposed();
  out.translation = camera.translation + camera.rotation * target - out.rotation * target;
  return out;
}

}  // namespace glimpse
