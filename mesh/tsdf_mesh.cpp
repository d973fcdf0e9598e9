// TSDF fusion of rendered depth into a mesh, clean-up and surface distances (see tsdf_mesh.h).
#include "mesh/tsdf_mesh.h"

#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <open3d/camera/PinholeCameraIntrinsic.h>
#include <open3d/geometry/BoundingVolume.h>
#include <open3d/geometry/Image.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/geometry/RGBDImage.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/io/TriangleMeshIO.h>
#include <open3d/pipelines/integration/ScalableTSDFVolume.h>

namespace glimpse {

namespace {

namespace o3d = open3d;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The robust extent of the opaque Gaussians: the 2nd to 98th percentile of their centres per
// axis, widened by 5 % each way (floaters and the far background do not set the voxel size).
WorldBox opaque_extent(const Gaussians& g) {
  std::vector<double> axis[3];
  for (size_t i = 0; i < g.size(); ++i)
    if (sigmoid(g.opacity_logits[i]) > 0.5f)
      for (int a = 0; a < 3; ++a) axis[a].push_back(g.means[3 * i + a]);
  if (axis[0].size() < 16)
    for (int a = 0; a < 3; ++a) {
      axis[a].clear();
      for (size_t i = 0; i < g.size(); ++i) axis[a].push_back(g.means[3 * i + a]);
    }
  WorldBox box;
  for (int a = 0; a < 3; ++a) {
    std::vector<double>& v = axis[a];
    std::sort(v.begin(), v.end());
    const double lo = v[v.size() * 2 / 100], hi = v[std::min(v.size() - 1, v.size() * 98 / 100)];
    const double pad = 0.05 * std::max(hi - lo, 1e-9);
    box.min[a] = lo - pad;
    box.max[a] = hi + pad;
  }
  return box;
}

Eigen::Matrix4d extrinsic_of(const Camera& c) {
  Eigen::Matrix4d e = Eigen::Matrix4d::Identity();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) e(i, j) = c.rotation.m[i][j];
    e(i, 3) = c.translation[i];
  }
  return e;
}

o3d::geometry::TriangleMesh to_open3d(const Mesh& m) {
  o3d::geometry::TriangleMesh out;
  out.vertices_.resize(m.num_vertices());
  for (size_t v = 0; v < m.num_vertices(); ++v)
    out.vertices_[v] = {m.vertices[3 * v], m.vertices[3 * v + 1], m.vertices[3 * v + 2]};
  out.triangles_.resize(m.num_triangles());
  for (size_t t = 0; t < m.num_triangles(); ++t)
    out.triangles_[t] = {m.triangles[3 * t], m.triangles[3 * t + 1], m.triangles[3 * t + 2]};
  return out;
}

Mesh from_open3d(const o3d::geometry::TriangleMesh& m) {
  Mesh out;
  out.vertices.reserve(3 * m.vertices_.size());
  for (const auto& v : m.vertices_)
    for (int a = 0; a < 3; ++a) out.vertices.push_back(static_cast<float>(v[a]));
  if (m.HasVertexColors())
    for (const auto& c : m.vertex_colors_)
      for (int a = 0; a < 3; ++a) out.colors.push_back(static_cast<float>(c[a]));
  out.triangles.reserve(3 * m.triangles_.size());
  for (const auto& t : m.triangles_)
    for (int a = 0; a < 3; ++a) out.triangles.push_back(t[a]);
  return out;
}

}  // namespace

void MeshOptions::check() const {
  GLIMPSE_CHECK(resolution >= 16 && resolution <= 4096)
      << "mesh: resolution must be in [16, 4096] voxels, got " << resolution;
  GLIMPSE_CHECK(std::isfinite(truncation_voxels) && truncation_voxels >= 1.0)
      << "mesh: the truncation must be at least 1 voxel, got " << truncation_voxels;
  GLIMPSE_CHECK(std::isfinite(edge_jump) && edge_jump > 0.0)
      << "mesh: the depth-edge threshold must be positive, got " << edge_jump;
  GLIMPSE_CHECK(std::isfinite(min_voxel_pixels) && min_voxel_pixels >= 0.0)
      << "mesh: the voxel floor in pixels must be >= 0, got " << min_voxel_pixels;
  GLIMPSE_CHECK(min_alpha >= 0.0f && min_alpha < 1.0f)
      << "mesh: min_alpha must be in [0, 1), got " << min_alpha;
  GLIMPSE_CHECK(views_between >= 0 && views_between <= 64)
      << "mesh: views between cameras must be in [0, 64], got " << views_between;
  GLIMPSE_CHECK(min_component_fraction >= 0.0 && min_component_fraction <= 1.0)
      << "mesh: the component fraction must be in [0, 1], got " << min_component_fraction;
  GLIMPSE_CHECK(target_triangles >= 0)
      << "mesh: the target triangle count must not be negative, got " << target_triangles;
  if (crop) {
    for (int a = 0; a < 3; ++a) {
      GLIMPSE_CHECK(std::isfinite(crop->min[a]) && std::isfinite(crop->max[a]) &&
                    crop->min[a] < crop->max[a])
          << "mesh: the crop box must have min < max on every axis";
    }
  }
  for (const HullMask& h : hull) {
    GLIMPSE_CHECK(h.mask.channels() == 1 && h.mask.width() == h.camera.width &&
                  h.mask.height() == h.camera.height)
        << "mesh: a hull mask must be 1 channel at its camera's size";
  }
  render.check();
}

std::vector<Camera> interpolate_cameras(const std::vector<Camera>& cameras, int per_pair) {
  std::vector<Camera> out;
  for (size_t i = 0; i < cameras.size(); ++i) {
    out.push_back(cameras[i]);
    if (i + 1 == cameras.size()) break;
    const Camera& a = cameras[i];
    const Camera& b = cameras[i + 1];
    const Quat<double> qa = rotmat_to_quat(a.rotation);
    Quat<double> qb = rotmat_to_quat(b.rotation);
    double dot = qa.w * qb.w + qa.x * qb.x + qa.y * qb.y + qa.z * qb.z;
    if (dot < 0) {  // the shorter way round
      qb = Quat<double>(-qb.w, -qb.x, -qb.y, -qb.z);
      dot = -dot;
    }
    const double angle = std::acos(std::min(1.0, dot));
    const Vec3<double> ca = a.center(), cb = b.center();
    for (int k = 1; k <= per_pair; ++k) {
      const double t = static_cast<double>(k) / (per_pair + 1);
      double wa = 1 - t, wb = t;
      if (angle > 1e-6) {
        wa = std::sin((1 - t) * angle) / std::sin(angle);
        wb = std::sin(t * angle) / std::sin(angle);
      }
      Quat<double> q(wa * qa.w + wb * qb.w, wa * qa.x + wb * qb.x, wa * qa.y + wb * qb.y,
                     wa * qa.z + wb * qb.z);
      const double n = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
      q = Quat<double>(q.w / n, q.x / n, q.y / n, q.z / n);
      Camera c = a;
      c.fx = (1 - t) * a.fx + t * b.fx * a.width / b.width;
      c.fy = (1 - t) * a.fy + t * b.fy * a.height / b.height;
      c.cx = (1 - t) * a.cx + t * b.cx * a.width / b.width;
      c.cy = (1 - t) * a.cy + t * b.cy * a.height / b.height;
      c.rotation = quat_to_rotmat(q);
      const Vec3<double> centre = ca * (1 - t) + cb * t;
      c.translation = -(c.rotation * centre);
      out.push_back(c);
    }
  }
  return out;
}

Mesh extract_mesh(const Gaussians& gaussians, const std::vector<Camera>& cameras,
                  Rasterizer& rasterizer, const MeshOptions& options, MeshReport* report,
                  const std::function<void(int, int, const std::string&)>& progress) {
  const Timer timer;
  options.check();
  GLIMPSE_CHECK(gaussians.size() > 0) << "mesh: the model has no Gaussians";
  GLIMPSE_CHECK(!cameras.empty()) << "mesh: no camera to render the depth from";
  MeshReport r;
  r.region = options.crop ? *options.crop : opaque_extent(gaussians);
  double longest = 0;
  for (int a = 0; a < 3; ++a) longest = std::max(longest, r.region.max[a] - r.region.min[a]);
  r.voxel_size = longest / options.resolution;
  {
    // The footprint of a pixel at the median depth of the opaque Gaussians, over the views.
    std::vector<double> footprints;
    for (const Camera& c : cameras) {
      std::vector<double> depths;
      for (size_t i = 0; i < gaussians.size(); ++i) {
        if (sigmoid(gaussians.opacity_logits[i]) < 0.5f) continue;
        const Vec3<double> p = c.cam_from_world(
            {gaussians.means[3 * i], gaussians.means[3 * i + 1], gaussians.means[3 * i + 2]});
        if (p.z > 0) depths.push_back(p.z);
      }
      if (depths.empty()) continue;
      std::nth_element(depths.begin(), depths.begin() + depths.size() / 2, depths.end());
      footprints.push_back(depths[depths.size() / 2] / std::max(c.fx, c.fy));
    }
    if (!footprints.empty()) {
      std::sort(footprints.begin(), footprints.end());
      r.voxel_size =
          std::max(r.voxel_size, options.min_voxel_pixels * footprints[footprints.size() / 2]);
    }
  }
  const double truncation = options.truncation_voxels * r.voxel_size;
  // Points beyond the region (and its truncation band) are not fused: they would grow the
  // volume without bound (a forward-facing scene's background reaches far).
  WorldBox fused = r.region;
  for (int a = 0; a < 3; ++a) {
    fused.min[a] -= 2 * truncation;
    fused.max[a] += 2 * truncation;
  }

  o3d::pipelines::integration::ScalableTSDFVolume volume(
      r.voxel_size, truncation, o3d::pipelines::integration::TSDFVolumeColorType::RGB8,
      /*volume_unit_resolution=*/16, /*depth_sampling_stride=*/1);
  const std::vector<Camera> views = interpolate_cameras(cameras, options.views_between);
  RenderOutput out;
  int fused_pixels = 0;
  for (size_t k = 0; k < views.size(); ++k) {
    const Camera& c = views[k];
    rasterizer.forward(gaussians, c, options.render, out);
    const Image<float>& depth = options.depth == MeshDepth::Median ? out.median_depth : out.depth;
    o3d::geometry::Image colour, depth_image;
    colour.Prepare(c.width, c.height, 3, 1);
    depth_image.Prepare(c.width, c.height, 1, 4);
    auto* d = reinterpret_cast<float*>(depth_image.data_.data());
    const Vec3<double> centre = c.center();
    double farthest = 0;
    for (int y = 0; y < c.height; ++y)
      for (int x = 0; x < c.width; ++x) {
        const size_t i = static_cast<size_t>(y) * c.width + x;
        for (int ch = 0; ch < 3; ++ch)
          colour.data_[3 * i + ch] = static_cast<uint8_t>(
              std::lround(std::clamp(out.rgb.at(x, y, ch), 0.0f, 1.0f) * 255.0f));
        float z = depth.at(x, y);
        if (!(std::isfinite(z) && z > 0.0f) || out.alpha.at(x, y) < options.min_alpha) z = 0.0f;
        if (z > 0.0f) {
          // World point of the pixel centre: camera ray scaled to depth z.
          const Vec3<double> ray((x + 0.5 - c.cx) / c.fx, (y + 0.5 - c.cy) / c.fy, 1.0);
          const Vec3<double> p = c.rotation.transposed() * (ray * static_cast<double>(z)) + centre;
          if (!fused.contains(p)) z = 0.0f;
        }
        d[i] = z;
        if (z > 0.0f) {
          ++fused_pixels;
          farthest = std::max(farthest, static_cast<double>(z));
        }
      }
    // Depth edges (silhouettes, occlusion boundaries) are not fused: a pixel there mixes two
    // surfaces, its depth lies between them and carves or adds a sheet along the view ray.
    {
      std::vector<float> kept(d, d + static_cast<size_t>(c.width) * c.height);
      for (int y = 0; y < c.height; ++y)
        for (int x = 0; x < c.width; ++x) {
          const float z = kept[static_cast<size_t>(y) * c.width + x];
          if (z <= 0.0f) continue;
          for (const auto& [dx, dy] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
            const int nx = x + dx, ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= c.width || ny >= c.height) continue;
            const float n = kept[static_cast<size_t>(ny) * c.width + nx];
            if (n <= 0.0f || std::abs(n - z) > options.edge_jump * z) {
              d[static_cast<size_t>(y) * c.width + x] = 0.0f;
              break;
            }
          }
        }
    }
    if (farthest > 0) {
      // Open3D puts pixel centres on integers; Glimpse at + 0.5.
      const o3d::camera::PinholeCameraIntrinsic intrinsic(c.width, c.height, c.fx, c.fy, c.cx - 0.5,
                                                          c.cy - 0.5);
      const auto rgbd = o3d::geometry::RGBDImage::CreateFromColorAndDepth(
          colour, depth_image, 1.0, farthest * 1.001 + truncation, false);
      volume.Integrate(*rgbd, intrinsic, extrinsic_of(c));
    }
    if (progress) progress(static_cast<int>(k) + 1, static_cast<int>(views.size()), "fusing depth");
  }
  r.fused_views = static_cast<int>(views.size());
  GLIMPSE_CHECK(fused_pixels > 0)
      << "mesh: no pixel was fused (every render is transparent below opacity " << options.min_alpha
      << " or outside the region)";

  if (progress) progress(0, 1, "marching cubes");
  std::shared_ptr<o3d::geometry::TriangleMesh> mesh = volume.ExtractTriangleMesh();
  r.raw_vertices = mesh->vertices_.size();
  r.raw_triangles = mesh->triangles_.size();
  if (options.crop) {
    o3d::geometry::AxisAlignedBoundingBox box(
        Eigen::Vector3d(options.crop->min.x, options.crop->min.y, options.crop->min.z),
        Eigen::Vector3d(options.crop->max.x, options.crop->max.y, options.crop->max.z));
    mesh = mesh->Crop(box);
  }
  if (!options.hull.empty()) {
    std::vector<bool> outside(mesh->vertices_.size(), false);
    for (size_t v = 0; v < mesh->vertices_.size(); ++v) {
      const Vec3<double> p(mesh->vertices_[v][0], mesh->vertices_[v][1], mesh->vertices_[v][2]);
      for (const HullMask& h : options.hull) {
        const Vec3<double> q = h.camera.cam_from_world(p);
        if (q.z <= 0) continue;
        const double u = h.camera.fx * q.x / q.z + h.camera.cx;
        const double w = h.camera.fy * q.y / q.z + h.camera.cy;
        if (u < 0 || w < 0 || u >= h.camera.width || w >= h.camera.height) continue;
        if (h.mask.at(static_cast<int>(u), static_cast<int>(w)) < 0.5f) {
          outside[v] = true;
          break;
        }
      }
    }
    r.removed_by_hull = static_cast<size_t>(std::count(outside.begin(), outside.end(), true));
    mesh->RemoveVerticesByMask(outside);
  }
  if (!mesh->triangles_.empty() && options.min_component_fraction > 0) {
    const auto [cluster_of, cluster_size, cluster_area] = mesh->ClusterConnectedTriangles();
    const size_t largest = *std::max_element(cluster_size.begin(), cluster_size.end());
    std::vector<bool> remove(mesh->triangles_.size(), false);
    for (size_t t = 0; t < remove.size(); ++t)
      remove[t] = cluster_size[static_cast<size_t>(cluster_of[t])] <
                  options.min_component_fraction * static_cast<double>(largest);
    for (size_t s : cluster_size)
      if (s < options.min_component_fraction * static_cast<double>(largest)) ++r.removed_components;
    mesh->RemoveTrianglesByMask(remove);
    mesh->RemoveUnreferencedVertices();
  }
  if (options.target_triangles > 0 &&
      static_cast<int64_t>(mesh->triangles_.size()) > options.target_triangles) {
    if (progress) progress(0, 1, "decimating");
    mesh = mesh->SimplifyQuadricDecimation(static_cast<int>(options.target_triangles),
                                           std::numeric_limits<double>::infinity(), 1.0);
    mesh->RemoveUnreferencedVertices();
  }
  GLIMPSE_CHECK(!mesh->triangles_.empty())
      << "mesh: the fused volume holds no surface after clean-up (raw " << r.raw_triangles
      << " triangles): check the crop box or the masks";
  Mesh result = from_open3d(*mesh);
  r.seconds = timer.seconds();
  if (report) *report = r;
  return result;
}

SurfaceDistance compare_surfaces(const Mesh& predicted, const Mesh& reference, double spacing,
                                 double max_distance, const std::vector<double>& thresholds) {
  GLIMPSE_CHECK(!predicted.empty() && !reference.empty()) << "compare: a mesh has no triangles";
  GLIMPSE_CHECK(spacing > 0 && max_distance > 0) << "compare: spacing and distance must be > 0";
  auto sample = [&](const Mesh& m) {
    o3d::geometry::TriangleMesh t = to_open3d(m);
    const double area = t.GetSurfaceArea();
    const auto n = static_cast<size_t>(std::clamp(area / (spacing * spacing), 1000.0, 4e6));
    return t.SamplePointsUniformly(n);
  };
  const auto p = sample(predicted);
  const auto q = sample(reference);
  const std::vector<double> to_reference = p->ComputePointCloudDistance(*q);
  const std::vector<double> to_predicted = q->ComputePointCloudDistance(*p);
  SurfaceDistance s;
  s.thresholds = thresholds;
  s.predicted_samples = to_reference.size();
  s.reference_samples = to_predicted.size();
  auto summarise = [&](const std::vector<double>& d, double& mean, std::vector<double>& within) {
    double sum = 0;
    size_t n = 0;
    within.assign(thresholds.size(), 0.0);
    for (double x : d) {
      if (x < max_distance) {
        sum += x;
        ++n;
      }
      for (size_t k = 0; k < thresholds.size(); ++k)
        if (x <= thresholds[k]) within[k] += 1.0 / static_cast<double>(d.size());
    }
    mean = n > 0 ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  };
  summarise(to_reference, s.accuracy, s.accuracy_within);
  summarise(to_predicted, s.completeness, s.completeness_within);
  s.chamfer = 0.5 * (s.accuracy + s.completeness);
  return s;
}

Mesh read_mesh_file(const std::string& path) {
  GLIMPSE_CHECK(std::filesystem::is_regular_file(path)) << path << ": no such mesh file";
  o3d::geometry::TriangleMesh mesh;
  GLIMPSE_CHECK(o3d::io::ReadTriangleMesh(path, mesh, o3d::io::ReadTriangleMeshOptions{}))
      << path << ": not a readable mesh file";
  GLIMPSE_CHECK(!mesh.triangles_.empty()) << path << ": the mesh has no triangles";
  Mesh m = from_open3d(mesh);
  m.check(path);
  return m;
}

}  // namespace glimpse
