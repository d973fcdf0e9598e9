// Multi-view stereo driver (see mvs.h): source selection, the photometric and geometric
// PatchMatch stages per reference view, the consistency filter, confidence and fusion.
#include "priors/mvs/mvs.h"

#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "priors/mvs/patch_match.h"
#include "priors/mvs/source_views.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace glimpse {
namespace {

mvs::Intrinsics intrinsics_of(const Camera& c) {
  mvs::Intrinsics k;
  k.fx = static_cast<float>(c.fx);
  k.fy = static_cast<float>(c.fy);
  k.cx = static_cast<float>(c.cx);
  k.cy = static_cast<float>(c.cy);
  k.width = c.width;
  k.height = c.height;
  return k;
}

// b_from_a = (R_b R_a^T, t_b - R_b R_a^T t_a), composed in double.
mvs::RelativePose relative_pose(const Camera& a, const Camera& b) {
  const Mat3<double> r = b.rotation * a.rotation.transposed();
  const Vec3<double> t = b.translation - r * a.translation;
  mvs::RelativePose p;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) p.r.m[i][j] = static_cast<float>(r.m[i][j]);
    p.t[i] = static_cast<float>(t[i]);
  }
  return p;
}

void check_inputs(const std::vector<View>& views, double near, double far,
                  const std::vector<int>& reference_ids, int coarse_levels) {
  GLIMPSE_CHECK(std::isfinite(near) && std::isfinite(far) && near > 0.0 && far > near)
      << "mvs: the depth bounds must be finite with 0 < near < far, got near " << near << ", far "
      << far;
  GLIMPSE_CHECK(views.size() >= 2) << "mvs: needs at least 2 views, got " << views.size();
  for (const View& v : views) {
    check_camera(v.camera, "mvs: view " + v.name);
    GLIMPSE_CHECK(!v.image.empty())
        << "mvs: view " << v.name << " (" << v.image_path << ") has no image loaded";
    GLIMPSE_CHECK(v.image.width() == v.camera.width && v.image.height() == v.camera.height &&
                  v.image.channels() == 3)
        << "mvs: the image of view " << v.name << " (" << v.image_path << ") is " << v.image.width()
        << "x" << v.image.height() << "x" << v.image.channels() << ", its camera expects "
        << v.camera.width << "x" << v.camera.height << " RGB";
    const int min_size = 16 << coarse_levels;
    GLIMPSE_CHECK(v.camera.width >= min_size && v.camera.height >= min_size)
        << "mvs: the image of view " << v.name << " is too small (" << v.camera.width << "x"
        << v.camera.height << "; at least " << min_size << "x" << min_size << " with "
        << coarse_levels << " coarse level(s))";
  }
  std::vector<char> seen(views.size(), 0);
  for (int id : reference_ids) {
    GLIMPSE_CHECK(id >= 0 && id < static_cast<int>(views.size()))
        << "mvs: reference view index " << id << " is out of range (" << views.size() << " views)";
    GLIMPSE_CHECK(!seen[id]) << "mvs: reference view " << views[id].name << " is listed twice";
    seen[id] = 1;
  }
}

// Depth of the matched pixels (photometric cost below kMaxCost and at most max_cost), else 0.
std::vector<float> matched_depth(const mvs::PatchMatchState& s, float max_cost) {
  std::vector<float> d(s.depth.size(), 0.0f);
  for (size_t i = 0; i < d.size(); ++i)
    if (s.photo_cost[i] <= max_cost && s.photo_cost[i] < mvs::kMaxCost) d[i] = s.depth[i];
  return d;
}

// 2x2 box average (the last row/column of an odd size is dropped).
Image<float> downsample2(const Image<float>& g) {
  const int w = g.width() / 2, h = g.height() / 2;
  Image<float> out(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      out.at(x, y) = 0.25f * (g.at(2 * x, 2 * y) + g.at(2 * x + 1, 2 * y) + g.at(2 * x, 2 * y + 1) +
                              g.at(2 * x + 1, 2 * y + 1));
  return out;
}

Image<float> image_from(const std::vector<float>& values, int width, int height, int channels) {
  Image<float> img(width, height, channels);
  std::copy(values.begin(), values.end(), img.data());
  return img;
}

}  // namespace

Image<float> to_grey(const Image<float>& rgb) {
  GLIMPSE_CHECK_EQ(rgb.channels(), 3) << "to_grey: needs an RGB image";
  Image<float> g(rgb.width(), rgb.height(), 1);
  const float* p = rgb.data();
  float* q = g.data();
  for (size_t i = 0; i < g.num_pixels(); ++i)
    q[i] = 0.299f * p[3 * i] + 0.587f * p[3 * i + 1] + 0.114f * p[3 * i + 2];
  return g;
}

MvsResult run_mvs(const std::vector<View>& views, double near, double far,
                  const MvsOptions& options, int threads, const std::vector<int>& reference_ids,
                  const MvsProgress& progress) {
  const Timer total_timer;
  options.check();
  check_inputs(views, near, far, reference_ids, options.coarse_levels);
  const int n = static_cast<int>(views.size());
  std::vector<int> refs = reference_ids;
  if (refs.empty())
    for (int i = 0; i < n; ++i) refs.push_back(i);
  const int num_refs = static_cast<int>(refs.size());
  std::vector<int> slot_of(n, -1);  // view index -> reference slot
  for (int s = 0; s < num_refs; ++s) slot_of[refs[s]] = s;

  ThreadPool pool(threads);
  MvsResult result;
  result.threads = pool.num_threads();

  std::vector<Camera> cameras;
  for (const View& v : views) cameras.push_back(v.camera);
  const std::vector<std::vector<int>> all_sources =
      select_source_views(cameras, near, far, options.max_sources);

  // Grey image pyramids of the views that take part (references and their sources): level 0 at
  // full resolution, level l + 1 the 2x2 box average of level l (odd last rows/columns dropped),
  // with the intrinsics scaled by 1/2 per level.
  const int levels = options.coarse_levels + 1;
  std::vector<std::vector<Image<float>>> grey(levels, std::vector<Image<float>>(n));
  std::vector<std::vector<Camera>> level_cameras(levels, cameras);
  auto build_pyramid = [&](int v) {
    if (!grey[0][v].empty()) return;
    grey[0][v] = to_grey(views[v].image);
    for (int l = 1; l < levels; ++l) {
      grey[l][v] = downsample2(grey[l - 1][v]);
      const Camera& c = level_cameras[l - 1][v];
      level_cameras[l][v] = scaled_camera(c, 0.5, 0.5, grey[l][v].width(), grey[l][v].height());
    }
  };
  for (int r : refs) {
    build_pyramid(r);
    for (int s : all_sources[r]) build_pyramid(s);
  }

  auto make_problem = [&](int level, int r, const std::vector<std::vector<float>>* depths) {
    const std::vector<Camera>& cams = level_cameras[level];
    mvs::PatchMatchProblem pb;
    pb.ref_gray = grey[level][r].data();
    pb.ref = intrinsics_of(cams[r]);
    pb.depth_min = static_cast<float>(near);
    pb.depth_max = static_cast<float>(far);
    pb.view_id = static_cast<uint32_t>(r);
    for (int s : all_sources[r]) {
      mvs::PatchMatchSource src;
      src.gray = grey[level][s].data();
      src.intrinsics = intrinsics_of(cams[s]);
      src.src_from_ref = relative_pose(cams[r], cams[s]);
      src.ref_from_src = relative_pose(cams[s], cams[r]);
      if (depths != nullptr && slot_of[s] >= 0) src.depth = (*depths)[slot_of[s]].data();
      pb.sources.push_back(src);
    }
    return pb;
  };

  // [SECTION] photometric stage (coarse to fine), then geometric-consistency stage --------------
  std::vector<mvs::PatchMatchState> states(num_refs);
  std::vector<double> seconds(num_refs, 0.0);
  const bool geometric = options.geometric_iterations > 0 && num_refs > 1;
  const int total_steps = num_refs * (geometric ? 2 : 1);
  const int photometric_iterations =
      options.iterations + options.coarse_levels * options.fine_iterations;
  int step = 0;
  for (int s = 0; s < num_refs; ++s) {
    const Timer t;
    int it = 0;
    for (int level = levels - 1; level >= 0; --level) {
      const mvs::PatchMatchProblem pb = make_problem(level, refs[s], nullptr);
      int count = options.iterations;
      if (level == levels - 1) {
        mvs::patch_match_initialize(pb, options, pool, states[s]);
      } else {
        const mvs::PatchMatchState coarse = std::move(states[s]);
        mvs::patch_match_initialize_from_coarse(
            pb, options, intrinsics_of(level_cameras[level + 1][refs[s]]), coarse, pool, states[s]);
        count = options.fine_iterations;
      }
      for (int k = 0; k < count; ++k, ++it)
        mvs::patch_match_iterate(pb, options, it, false, pool, states[s]);
    }
    seconds[s] += t.seconds();
    GLIMPSE_LOG(Debug) << "mvs: view " << views[refs[s]].name << " photometric stage "
                       << t.seconds() << " s";
    if (progress) progress(++step, total_steps, "photometric " + views[refs[s]].name);
  }
  if (geometric) {
    std::vector<std::vector<float>> depths(num_refs);
    for (int s = 0; s < num_refs; ++s) depths[s] = matched_depth(states[s], mvs::kMaxCost);
    for (int s = 0; s < num_refs; ++s) {
      const Timer t;
      const mvs::PatchMatchProblem pb = make_problem(0, refs[s], &depths);
      for (int it = 0; it < options.geometric_iterations; ++it)
        mvs::patch_match_iterate(pb, options, photometric_iterations + it, true, pool, states[s]);
      seconds[s] += t.seconds();
      if (progress) progress(++step, total_steps, "geometric " + views[refs[s]].name);
    }
  }

  // [SECTION] consistency filter and confidence -------------------------------------------------
  const Timer fusion_timer;
  std::vector<std::vector<float>> matched(num_refs);
  for (int s = 0; s < num_refs; ++s) matched[s] = matched_depth(states[s], options.max_cost);
  result.views.resize(num_refs);
  for (int s = 0; s < num_refs; ++s) {
    const int r = refs[s];
    const Camera& cam = views[r].camera;
    const int w = cam.width, h = cam.height;
    const mvs::PatchMatchState& st = states[s];
    MvsViewResult& out = result.views[s];
    out.view = r;
    out.sources = all_sources[r];
    out.seconds = seconds[s];
    std::vector<float> raw(st.depth.size()), normal(st.normal.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      const bool ok = st.photo_cost[i] < mvs::kMaxCost;
      raw[i] = ok ? st.depth[i] : 0.0f;
      for (int c = 0; c < 3; ++c) normal[3 * i + c] = ok ? st.normal[3 * i + c] : 0.0f;
    }
    out.raw_depth = image_from(raw, w, h, 1);
    out.normal = image_from(normal, w, h, 3);
    out.cost = image_from(st.photo_cost, w, h, 1);
    out.consistent = Image<float>(w, h, 1);
    out.depth = Image<float>(w, h, 1);
    out.confidence = Image<float>(w, h, 1);

    struct Checkable {
      mvs::Intrinsics k;
      mvs::RelativePose src_from_ref, ref_from_src;
      const float* depth;
    };
    std::vector<Checkable> checks;
    for (int src : all_sources[r])
      if (slot_of[src] >= 0)
        checks.push_back({intrinsics_of(views[src].camera), relative_pose(cam, views[src].camera),
                          relative_pose(views[src].camera, cam), matched[slot_of[src]].data()});
    const mvs::Intrinsics kr = intrinsics_of(cam);
    const float needed =
        static_cast<float>(std::min<size_t>(3, std::max<size_t>(1, checks.size())));
    pool.parallel_for(h, 4, [&](int64_t begin, int64_t end, int) {
      for (int y = static_cast<int>(begin); y < static_cast<int>(end); ++y)
        for (int x = 0; x < w; ++x) {
          const int i = y * w + x;
          const float z = matched[s][i];
          if (!(z > 0.0f)) continue;
          int count = 0;
          for (const Checkable& c : checks) {
            float error = 0, z_back = 0;
            if (mvs::round_trip(kr, c.k, c.src_from_ref, c.ref_from_src, c.depth, x + 0.5f,
                                y + 0.5f, z, error, z_back) &&
                error <= options.max_reprojection_error &&
                std::abs(z_back - z) <= options.max_relative_depth_error * z)
              ++count;
          }
          out.consistent.data()[i] = static_cast<float>(count);
          if (count >= options.min_consistent_sources) {
            out.depth.data()[i] = z;
            const float photo = 1.0f - 0.5f * st.photo_cost[i] / options.max_cost;
            out.confidence.data()[i] = photo * std::min(1.0f, static_cast<float>(count) / needed);
          }
        }
    });
  }

  // [SECTION] fusion ------------------------------------------------------------------------------
  // Serial and in a fixed order (deterministic): each unused confident pixel gathers the unused
  // confident pixels of its sources that pass the same forward-backward test, and marks them used.
  std::vector<std::vector<uint8_t>> used(num_refs);
  for (int s = 0; s < num_refs; ++s) used[s].assign(result.views[s].depth.num_pixels(), 0);
  PointCloud& cloud = result.cloud;
  for (int s = 0; s < num_refs; ++s) {
    const int r = refs[s];
    const Camera& cam = views[r].camera;
    const mvs::Intrinsics kr = intrinsics_of(cam);
    struct Partner {
      int slot;
      mvs::Intrinsics k;
      mvs::RelativePose src_from_ref, ref_from_src;
    };
    std::vector<Partner> partners;
    for (int src : all_sources[r])
      if (slot_of[src] >= 0)
        partners.push_back({slot_of[src], intrinsics_of(views[src].camera),
                            relative_pose(cam, views[src].camera),
                            relative_pose(views[src].camera, cam)});
    const MvsViewResult& vr = result.views[s];
    const int w = cam.width, h = cam.height;
    const Mat3<double> rt = cam.rotation.transposed();
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int i = y * w + x;
        const float z = vr.depth.data()[i];
        if (!(z > 0.0f) || used[s][i]) continue;
        const float u = x + 0.5f, v = y + 0.5f;
        const Vec3<float> p_ref = mvs::pixel_ray(kr, u, v) * z;
        // Sums in the reference camera frame; converted to world once.
        Vec3<double> pos(p_ref.x, p_ref.y, p_ref.z);
        Vec3<double> nrm(vr.normal.at(x, y, 0), vr.normal.at(x, y, 1), vr.normal.at(x, y, 2));
        Vec3<double> col(views[r].image.at(x, y, 0), views[r].image.at(x, y, 1),
                         views[r].image.at(x, y, 2));
        int count = 1;
        struct Match {
          int slot, index;
        };
        Match matches[mvs::kMaxSources];
        int num_matches = 0;
        for (const Partner& p : partners) {
          const Vec3<float> p_src = mvs::transform(p.src_from_ref, p_ref);
          if (!(p_src.z > 0.0f)) continue;
          const Vec2<float> q = mvs::project(p.k, p_src);
          if (!(q.x >= 0.0f && q.y >= 0.0f && q.x < p.k.width && q.y < p.k.height)) continue;
          const int qx = static_cast<int>(q.x), qy = static_cast<int>(q.y);
          const int qi = qy * p.k.width + qx;
          const MvsViewResult& other = result.views[p.slot];
          const float zq = other.depth.data()[qi];
          if (!(zq > 0.0f) || used[p.slot][qi]) continue;
          const Vec3<float> back =
              mvs::transform(p.ref_from_src, mvs::pixel_ray(p.k, qx + 0.5f, qy + 0.5f) * zq);
          if (!(back.z > 0.0f)) continue;
          const Vec2<float> rp = mvs::project(kr, back);
          const float err = std::sqrt((rp.x - u) * (rp.x - u) + (rp.y - v) * (rp.y - v));
          if (err > options.max_reprojection_error ||
              std::abs(back.z - z) > options.max_relative_depth_error * z)
            continue;
          pos += Vec3<double>(back.x, back.y, back.z);
          const Vec3<float> nq(other.normal.at(qx, qy, 0), other.normal.at(qx, qy, 1),
                               other.normal.at(qx, qy, 2));
          const Vec3<float> nr = p.ref_from_src.r * nq;
          nrm += Vec3<double>(nr.x, nr.y, nr.z);
          const Image<float>& img = views[refs[p.slot]].image;
          col += Vec3<double>(img.at(qx, qy, 0), img.at(qx, qy, 1), img.at(qx, qy, 2));
          matches[num_matches++] = {p.slot, qi};
          ++count;
        }
        if (count < 1 + options.min_consistent_sources) continue;
        used[s][i] = 1;
        for (int m = 0; m < num_matches; ++m) used[matches[m].slot][matches[m].index] = 1;
        const double inv = 1.0 / count;
        const Vec3<double> world = rt * (pos * inv - cam.translation);
        Vec3<double> nw = rt * nrm;
        const double len = norm(nw);
        nw = len > 0.0 ? nw * (1.0 / len) : Vec3<double>(0.0, 0.0, -1.0);
        cloud.add(static_cast<float>(world.x), static_cast<float>(world.y),
                  static_cast<float>(world.z), static_cast<float>(col.x * inv),
                  static_cast<float>(col.y * inv), static_cast<float>(col.z * inv));
        cloud.normals.insert(
            cloud.normals.end(),
            {static_cast<float>(nw.x), static_cast<float>(nw.y), static_cast<float>(nw.z)});
        cloud.support.push_back(static_cast<float>(count));
      }
  }
  result.fusion_seconds = fusion_timer.seconds();
  result.seconds = total_timer.seconds();
  return result;
}

// [SECTION] accuracy --------------------------------------------------------------------------

double DepthAgreement::fraction_1pct() const {
  return with_reference > 0 ? static_cast<double>(within_1pct) / with_reference : 0.0;
}
double DepthAgreement::fraction_2pct() const {
  return with_reference > 0 ? static_cast<double>(within_2pct) / with_reference : 0.0;
}
double DepthAgreement::coverage() const {
  return mask_pixels > 0 ? static_cast<double>(mask_covered) / mask_pixels : 0.0;
}
void DepthAgreement::add(const DepthAgreement& o) {
  pixels += o.pixels;
  confident += o.confident;
  with_reference += o.with_reference;
  within_1pct += o.within_1pct;
  within_2pct += o.within_2pct;
  mask_pixels += o.mask_pixels;
  mask_covered += o.mask_covered;
}

DepthAgreement compare_depth(const Image<float>& depth, const Image<float>& reference,
                             const Image<float>& mask) {
  GLIMPSE_CHECK(depth.channels() == 1 && reference.channels() == 1 &&
                depth.width() == reference.width() && depth.height() == reference.height())
      << "compare_depth: depth " << depth.width() << "x" << depth.height() << "x"
      << depth.channels() << " vs reference " << reference.width() << "x" << reference.height()
      << "x" << reference.channels();
  GLIMPSE_CHECK(mask.empty() || (mask.channels() == 1 && mask.width() == depth.width() &&
                                 mask.height() == depth.height()))
      << "compare_depth: the mask is " << mask.width() << "x" << mask.height() << "x"
      << mask.channels() << ", the depth " << depth.width() << "x" << depth.height();
  DepthAgreement a;
  a.pixels = static_cast<int64_t>(depth.num_pixels());
  for (size_t i = 0; i < depth.num_pixels(); ++i) {
    const float d = depth.data()[i], ref = reference.data()[i];
    const bool confident = std::isfinite(d) && d > 0.0f;
    const bool in_mask = mask.empty() || mask.data()[i] > 0.5f;
    a.mask_pixels += in_mask ? 1 : 0;
    if (!confident) continue;
    ++a.confident;
    a.mask_covered += in_mask ? 1 : 0;
    if (!(std::isfinite(ref) && ref > 0.0f)) continue;
    ++a.with_reference;
    const float rel = std::abs(d - ref) / ref;
    a.within_1pct += rel <= 0.01f ? 1 : 0;
    a.within_2pct += rel <= 0.02f ? 1 : 0;
  }
  return a;
}

}  // namespace glimpse
