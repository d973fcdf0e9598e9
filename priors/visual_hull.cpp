// Voxel carving over object masks (see visual_hull.h).
#include "priors/visual_hull.h"

#include "core/check.h"
#include "core/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace glimpse {

namespace {

struct Grid {
  double lo[3];
  double voxel;
  int n[3];
  size_t size() const { return static_cast<size_t>(n[0]) * n[1] * n[2]; }
  Vec3<double> center(int x, int y, int z) const {
    return {lo[0] + (x + 0.5) * voxel, lo[1] + (y + 0.5) * voxel, lo[2] + (z + 0.5) * voxel};
  }
};

Grid make_grid(const double lo[3], const double hi[3], int resolution) {
  Grid g;
  double longest = 0;
  for (int a = 0; a < 3; ++a) longest = std::max(longest, hi[a] - lo[a]);
  g.voxel = longest / resolution;
  for (int a = 0; a < 3; ++a) {
    g.n[a] = std::max(1, static_cast<int>(std::ceil((hi[a] - lo[a]) / g.voxel)));
    g.lo[a] = 0.5 * (lo[a] + hi[a]) - 0.5 * g.n[a] * g.voxel;
  }
  return g;
}

// Pixel of a world point in a view, or false when behind the camera or outside the image.
bool project(const Camera& cam, const Vec3<double>& p, int& px, int& py, double& depth) {
  const Vec3<double> q = cam.cam_from_world(p);
  if (q.z <= 0) return false;
  const double u = cam.fx * q.x / q.z + cam.cx, v = cam.fy * q.y / q.z + cam.cy;
  if (!(u >= 0 && v >= 0 && u < cam.width && v < cam.height)) return false;
  px = static_cast<int>(u);
  py = static_cast<int>(v);
  depth = q.z;
  return true;
}

// Number of masks containing each voxel centre.
std::vector<uint8_t> carve(const std::vector<View>& views, const Grid& grid,
                           const VisualHullOptions& options, ThreadPool& pool) {
  std::vector<uint8_t> hits(grid.size(), 0);
  const int64_t slices = grid.n[2];
  pool.parallel_for(slices, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t z = begin; z < end; ++z)
      for (int y = 0; y < grid.n[1]; ++y)
        for (int x = 0; x < grid.n[0]; ++x) {
          const Vec3<double> p = grid.center(x, y, static_cast<int>(z));
          int count = 0;
          for (const View& v : views) {
            int px, py;
            double depth;
            if (project(v.camera, p, px, py, depth) && v.mask.at(px, py) >= options.mask_threshold)
              ++count;
          }
          hits[(static_cast<size_t>(z) * grid.n[1] + y) * grid.n[0] + x] =
              static_cast<uint8_t>(count);
        }
  });
  return hits;
}

}  // namespace

void VisualHullOptions::check() const {
  GLIMPSE_CHECK(coarse_resolution >= 8 && coarse_resolution <= 1024)
      << "visual hull: coarse_resolution must be in 8..1024, got " << coarse_resolution;
  GLIMPSE_CHECK(resolution >= 8 && resolution <= 1024)
      << "visual hull: resolution must be in 8..1024, got " << resolution;
  GLIMPSE_CHECK(misses >= 0) << "visual hull: misses must be >= 0, got " << misses;
  GLIMPSE_CHECK(mask_threshold > 0.0f && mask_threshold <= 1.0f)
      << "visual hull: mask_threshold must be in (0, 1], got " << mask_threshold;
  GLIMPSE_CHECK(threads >= 0) << "visual hull: threads must be >= 0, got " << threads;
}

VisualHullResult visual_hull(const std::vector<View>& views, double near, double far,
                             const VisualHullOptions& options) {
  options.check();
  GLIMPSE_CHECK(views.size() >= 2)
      << "visual hull: needs the masks of at least 2 views, got " << views.size();
  GLIMPSE_CHECK(views.size() <= 255) << "visual hull: at most 255 views, got " << views.size();
  GLIMPSE_CHECK(std::isfinite(near) && std::isfinite(far) && near > 0 && far > near)
      << "visual hull: need finite depth bounds 0 < near < far, got " << near << ", " << far;
  const int required = static_cast<int>(views.size()) - options.misses;
  GLIMPSE_CHECK(required >= 1) << "visual hull: " << options.misses << " misses allowed with only "
                               << views.size() << " views";
  for (const View& v : views) {
    GLIMPSE_CHECK(!v.mask.empty())
        << "visual hull: view " << v.name << " has no mask (the visual hull needs object masks)";
    GLIMPSE_CHECK(v.mask.width() == v.camera.width && v.mask.height() == v.camera.height &&
                  v.mask.channels() == 1)
        << "visual hull: the mask of view " << v.name << " is " << v.mask.width() << "x"
        << v.mask.height() << ", its image " << v.camera.width << "x" << v.camera.height;
    GLIMPSE_CHECK(v.image.width() == v.camera.width && v.image.height() == v.camera.height &&
                  v.image.channels() == 3)
        << "visual hull: view " << v.name << " needs a loaded RGB image of its camera's size";
  }

  // The box: the intersection of the views' frustum boxes between near and far.
  double lo[3] = {-std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity()};
  double hi[3] = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                  std::numeric_limits<double>::infinity()};
  for (const View& v : views) {
    const Camera& c = v.camera;
    double vlo[3] = {1e300, 1e300, 1e300}, vhi[3] = {-1e300, -1e300, -1e300};
    for (double z : {near, far})
      for (double u : {0.0, static_cast<double>(c.width)})
        for (double w : {0.0, static_cast<double>(c.height)}) {
          const Vec3<double> p_in_cam{(u - c.cx) / c.fx * z, (w - c.cy) / c.fy * z, z};
          const Vec3<double> p = mul_transposed(c.rotation, p_in_cam - c.translation);
          for (int a = 0; a < 3; ++a)
            vlo[a] = std::min(vlo[a], p[a]), vhi[a] = std::max(vhi[a], p[a]);
        }
    for (int a = 0; a < 3; ++a) lo[a] = std::max(lo[a], vlo[a]), hi[a] = std::min(hi[a], vhi[a]);
  }
  for (int a = 0; a < 3; ++a)
    GLIMPSE_CHECK(lo[a] < hi[a]) << "visual hull: the views' frusta between the depth bounds "
                                 << near << " and " << far << " do not overlap";

  ThreadPool pool(options.threads);
  // Coarse carve, then the bounding box of what survived (one coarse voxel of margin).
  const Grid coarse = make_grid(lo, hi, options.coarse_resolution);
  const std::vector<uint8_t> coarse_hits = carve(views, coarse, options, pool);
  int bmin[3] = {coarse.n[0], coarse.n[1], coarse.n[2]}, bmax[3] = {-1, -1, -1};
  for (int z = 0; z < coarse.n[2]; ++z)
    for (int y = 0; y < coarse.n[1]; ++y)
      for (int x = 0; x < coarse.n[0]; ++x)
        if (coarse_hits[(static_cast<size_t>(z) * coarse.n[1] + y) * coarse.n[0] + x] >= required) {
          const int c[3] = {x, y, z};
          for (int a = 0; a < 3; ++a)
            bmin[a] = std::min(bmin[a], c[a]), bmax[a] = std::max(bmax[a], c[a]);
        }
  GLIMPSE_CHECK(bmax[0] >= 0) << "visual hull: no voxel lies inside " << required << " of the "
                              << views.size()
                              << " masks (do the masks and cameras belong together?)";
  double flo[3], fhi[3];
  for (int a = 0; a < 3; ++a) {
    flo[a] = coarse.lo[a] + (bmin[a] - 1) * coarse.voxel;
    fhi[a] = coarse.lo[a] + (bmax[a] + 2) * coarse.voxel;
  }
  const Grid grid = make_grid(flo, fhi, options.resolution);
  const std::vector<uint8_t> hits = carve(views, grid, options, pool);
  auto inside = [&](int x, int y, int z) {
    if (x < 0 || y < 0 || z < 0 || x >= grid.n[0] || y >= grid.n[1] || z >= grid.n[2]) return false;
    return hits[(static_cast<size_t>(z) * grid.n[1] + y) * grid.n[0] + x] >= required;
  };

  VisualHullResult result;
  result.voxel_size = static_cast<float>(grid.voxel);
  for (int a = 0; a < 3; ++a) {
    result.box_min[a] = static_cast<float>(grid.lo[a]);
    result.box_max[a] = static_cast<float>(grid.lo[a] + grid.n[a] * grid.voxel);
  }
  std::vector<Vec3<double>> points;
  std::vector<float> support;
  for (int z = 0; z < grid.n[2]; ++z)
    for (int y = 0; y < grid.n[1]; ++y)
      for (int x = 0; x < grid.n[0]; ++x) {
        if (!inside(x, y, z)) continue;
        ++result.volume_voxels;
        const bool surface = !inside(x - 1, y, z) || !inside(x + 1, y, z) || !inside(x, y - 1, z) ||
                             !inside(x, y + 1, z) || !inside(x, y, z - 1) || !inside(x, y, z + 1);
        if (options.surface_only && !surface) continue;
        points.push_back(grid.center(x, y, z));
        support.push_back(hits[(static_cast<size_t>(z) * grid.n[1] + y) * grid.n[0] + x]);
      }

  // Colours: each view's z-buffer of the hull points (a point splats over the pixels its voxel
  // covers); a point takes the mean colour of the views in which it is (nearly) the front, or,
  // when the z-buffers hide it everywhere (grazing angles), of every view it projects into.
  const size_t n = points.size();
  std::vector<double> rgb(3 * n, 0.0), rgb_any(3 * n, 0.0);
  std::vector<int> seen(n, 0), seen_any(n, 0);
  for (const View& v : views) {
    const Camera& c = v.camera;
    std::vector<float> zbuf(static_cast<size_t>(c.width) * c.height,
                            std::numeric_limits<float>::infinity());
    std::vector<int> px(n, -1), py(n, -1);
    std::vector<double> depth(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      int x, y;
      double d;
      if (!project(c, points[i], x, y, d)) continue;
      px[i] = x, py[i] = y, depth[i] = d;
      const int r = static_cast<int>(std::ceil(0.5 * grid.voxel * c.fx / d));
      for (int yy = std::max(0, y - r); yy <= std::min(c.height - 1, y + r); ++yy)
        for (int xx = std::max(0, x - r); xx <= std::min(c.width - 1, x + r); ++xx) {
          float& zb = zbuf[static_cast<size_t>(yy) * c.width + xx];
          zb = std::min(zb, static_cast<float>(d));
        }
    }
    for (size_t i = 0; i < n; ++i) {
      if (px[i] < 0) continue;
      for (int ch = 0; ch < 3; ++ch) rgb_any[3 * i + ch] += v.image.at(px[i], py[i], ch);
      ++seen_any[i];
      if (depth[i] > zbuf[static_cast<size_t>(py[i]) * c.width + px[i]] + 1.5 * grid.voxel)
        continue;
      for (int ch = 0; ch < 3; ++ch) rgb[3 * i + ch] += v.image.at(px[i], py[i], ch);
      ++seen[i];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (seen[i] > 0 || seen_any[i] == 0) continue;
    for (int ch = 0; ch < 3; ++ch) rgb[3 * i + ch] = rgb_any[3 * i + ch];
    seen[i] = seen_any[i];
  }
  for (size_t i = 0; i < n; ++i) {
    const double inv = seen[i] > 0 ? 1.0 / seen[i] : 0.0;
    result.cloud.add(static_cast<float>(points[i].x), static_cast<float>(points[i].y),
                     static_cast<float>(points[i].z),
                     seen[i] ? static_cast<float>(rgb[3 * i] * inv) : 0.5f,
                     seen[i] ? static_cast<float>(rgb[3 * i + 1] * inv) : 0.5f,
                     seen[i] ? static_cast<float>(rgb[3 * i + 2] * inv) : 0.5f);
  }
  result.cloud.support = std::move(support);
  return result;
}

}  // namespace glimpse
