// CPU scheduling of PatchMatch stereo (see patch_match.h): one pixel at a time, the pixels of one
// checkerboard colour in parallel (their neighbours in the sampling pattern all have the other
// colour, so a half-sweep reads only hypotheses it does not write).
#include "priors/mvs/patch_match.h"

#include "core/check.h"
#include "priors/mvs/patch_cost_avx2.h"

#include <algorithm>
#include <cmath>

namespace glimpse::mvs {
namespace {

// ACMM's threshold above which a cost counts as a bad match in view selection.
constexpr float kBadCost = 1.2f;

// The sampled window: offsets (int and float) and the spatial part of the bilateral weight. The
// float arrays are zero-padded to n_padded (a multiple of 8) for the 8-lane cost.
struct Window {
  int n = 0, n_padded = 0;
  int ox[kMaxWindowSamples], oy[kMaxWindowSamples];
  float fox[kMaxWindowSamples], foy[kMaxWindowSamples];
  float spatial[kMaxWindowSamples];
};

Window make_window(const MvsOptions& o) {
  Window w;
  const float inv = 1.0f / (2.0f * o.sigma_spatial * o.sigma_spatial);
  for (int dy = -o.window_radius; dy <= o.window_radius; dy += o.window_step)
    for (int dx = -o.window_radius; dx <= o.window_radius; dx += o.window_step) {
      GLIMPSE_CHECK_LT(w.n, kMaxWindowSamples);
      w.ox[w.n] = dx;
      w.oy[w.n] = dy;
      w.fox[w.n] = static_cast<float>(dx);
      w.foy[w.n] = static_cast<float>(dy);
      w.spatial[w.n] = std::exp(-static_cast<float>(dx * dx + dy * dy) * inv);
      ++w.n;
    }
  w.n_padded = (w.n + 7) / 8 * 8;
  for (int k = w.n; k < w.n_padded; ++k) {
    w.ox[k] = w.oy[k] = 0;
    w.fox[k] = w.foy[k] = w.spatial[k] = 0.0f;
  }
  return w;
}

// ACMH's adaptive checkerboard sampling regions, as (dx, dy) offsets of the other colour (odd
// |dx| + |dy|): for each direction a V-shaped near region and a far strip of 11 pixels.
struct Region {
  int n;
  int dx[11], dy[11];
};

struct Regions {
  Region r[kNumCandidates];
};

Regions make_regions() {
  // "up" templates; the other directions rotate them.
  const int near_dx[5] = {0, -1, 1, -2, 2}, near_dy[5] = {-1, -2, -2, -3, -3};
  Regions out;
  for (int dir = 0; dir < 4; ++dir) {
    // (dx, dy) -> up: (dx, dy); down: (dx, -dy); left: (dy, dx); right: (-dy, dx).
    auto rot = [dir](int dx, int dy, int& ox, int& oy) {
      if (dir == 0) ox = dx, oy = dy;
      if (dir == 1) ox = dx, oy = -dy;
      if (dir == 2) ox = dy, oy = dx;
      if (dir == 3) ox = -dy, oy = dx;
    };
    Region& nr = out.r[2 * dir];
    nr.n = 5;
    for (int i = 0; i < 5; ++i) rot(near_dx[i], near_dy[i], nr.dx[i], nr.dy[i]);
    Region& fr = out.r[2 * dir + 1];
    fr.n = 11;
    for (int i = 0; i < 11; ++i) rot(0, -3 - 2 * i, fr.dx[i], fr.dy[i]);
  }
  return out;
}

struct Hypothesis {
  Vec3<float> n;
  float depth;
};

class PixelSolver {
 public:
  PixelSolver(const PatchMatchProblem& pb, const MvsOptions& o, PatchMatchState& st)
      : pb_(pb),
        o_(o),
        st_(st),
        window_(make_window(o)),
        regions_(make_regions()),
        inv_two_sigma_color_sq_(1.0f / (2.0f * o.sigma_color * o.sigma_color)),
        num_sources_(static_cast<int>(pb.sources.size())) {}

  void initialize(int x, int y) const {
    const int idx = y * pb_.ref.width + x;
    const float u = static_cast<float>(x) + 0.5f, v = static_cast<float>(y) + 0.5f;
    const Vec3<float> ray = pixel_ray(pb_.ref, u, v);
    PixelRng rng(o_.seed, pb_.view_id, static_cast<uint32_t>(idx), 0u);
    Hypothesis h{random_normal(rng, ray), random_depth(rng, pb_.depth_min, pb_.depth_max)};
    store_hypothesis(idx, h);
    ReferencePatch patch;
    float cost = kMaxCost;
    if (prepare(x, y, patch)) {
      float costs[kMaxSources];
      for (int j = 0; j < num_sources_; ++j) costs[j] = photo_cost(j, patch, u, v, ray, h);
      cost = mean_of_best(costs, num_sources_, (num_sources_ + 1) / 2);
    }
    st_.cost[idx] = cost;
    st_.photo_cost[idx] = cost;
    st_.selected[idx] = 0;
  }

  // ACMM's multi-scale start: the planes of the nearest coarse pixel and its 4 neighbours, each
  // carried to this pixel's ray, scored as in initialize; the best one is kept.
  void initialize_from(int x, int y, const Intrinsics& kc, const PatchMatchState& coarse) const {
    const int idx = y * pb_.ref.width + x;
    const float u = static_cast<float>(x) + 0.5f, v = static_cast<float>(y) + 0.5f;
    const Vec3<float> ray = pixel_ray(pb_.ref, u, v);
    // The coarse pixel under this pixel's centre (coarse coordinates scale with the width).
    const float sx = static_cast<float>(coarse.width) / static_cast<float>(pb_.ref.width);
    const float sy = static_cast<float>(coarse.height) / static_cast<float>(pb_.ref.height);
    const int cx = std::min(coarse.width - 1, static_cast<int>(u * sx));
    const int cy = std::min(coarse.height - 1, static_cast<int>(v * sy));
    const int offsets[5][2] = {{0, 0}, {-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    ReferencePatch patch;
    const bool textured = prepare(x, y, patch);
    Hypothesis best{Vec3<float>(0.0f, 0.0f, -1.0f), 0.0f};
    float best_cost = 0;
    bool found = false;
    for (const auto& o : offsets) {
      const int qx = cx + o[0], qy = cy + o[1];
      if (qx < 0 || qy < 0 || qx >= coarse.width || qy >= coarse.height) continue;
      const int q = qy * coarse.width + qx;
      const Vec3<float> n(coarse.normal[3 * q], coarse.normal[3 * q + 1], coarse.normal[3 * q + 2]);
      const Vec3<float> ray_q =
          pixel_ray(kc, static_cast<float>(qx) + 0.5f, static_cast<float>(qy) + 0.5f);
      const float depth = plane_depth(n, plane_offset(n, coarse.depth[q], ray_q), ray);
      if (!valid(n, depth, ray)) continue;
      const Hypothesis h{n, depth};
      float cost = kMaxCost;
      if (textured) {
        float costs[kMaxSources];
        for (int j = 0; j < num_sources_; ++j) costs[j] = photo_cost(j, patch, u, v, ray, h);
        cost = mean_of_best(costs, num_sources_, (num_sources_ + 1) / 2);
      }
      if (!found || cost < best_cost) best = h, best_cost = cost, found = true;
      if (!textured) break;  // no cost to choose by: the pixel below
    }
    if (!found) {  // every carried plane leaves the bounds: a random start
      PixelRng rng(o_.seed, pb_.view_id, static_cast<uint32_t>(idx), 0u);
      best = {random_normal(rng, ray), random_depth(rng, pb_.depth_min, pb_.depth_max)};
      best_cost = kMaxCost;
    }
    store_hypothesis(idx, best);
    st_.cost[idx] = best_cost;
    st_.photo_cost[idx] = best_cost;
    st_.selected[idx] = 0;
  }

  void update(int x, int y, int iteration, bool geometric) const {
    const int width = pb_.ref.width, height = pb_.ref.height;
    const int idx = y * width + x;
    const float u = static_cast<float>(x) + 0.5f, v = static_cast<float>(y) + 0.5f;
    const Vec3<float> ray = pixel_ray(pb_.ref, u, v);
    ReferencePatch patch;
    if (!prepare(x, y, patch)) {
      st_.cost[idx] = kMaxCost;
      st_.photo_cost[idx] = kMaxCost;
      return;
    }
    const int ns = num_sources_;

    // Candidates: the best-cost hypothesis of each sampling region, its plane carried to this
    // pixel; then the current hypothesis (last row).
    Hypothesis hyp[kNumCandidates + 1];
    int nh = 0;
    for (const Region& region : regions_.r) {
      int best = -1;
      float best_cost = 0;
      for (int i = 0; i < region.n; ++i) {
        const int qx = x + region.dx[i], qy = y + region.dy[i];
        if (qx < 0 || qy < 0 || qx >= width || qy >= height) continue;
        const int q = qy * width + qx;
        if (best < 0 || st_.cost[q] < best_cost) best = q, best_cost = st_.cost[q];
      }
      if (best < 0) continue;
      const Vec3<float> nq(st_.normal[3 * best], st_.normal[3 * best + 1],
                           st_.normal[3 * best + 2]);
      const Vec3<float> ray_q = pixel_ray(pb_.ref, static_cast<float>(best % width) + 0.5f,
                                          static_cast<float>(best / width) + 0.5f);
      const float depth = plane_depth(nq, plane_offset(nq, st_.depth[best], ray_q), ray);
      if (valid(nq, depth, ray)) hyp[nh++] = {nq, depth};
    }
    const Hypothesis current = load_hypothesis(idx);
    hyp[nh++] = current;

    float costs[(kNumCandidates + 1) * kMaxSources];
    float geo[(kNumCandidates + 1) * kMaxSources];
    for (int k = 0; k < nh; ++k)
      for (int j = 0; j < ns; ++j) {
        costs[k * ns + j] = photo_cost(j, patch, u, v, ray, hyp[k]);
        geo[k * ns + j] = geometric ? geometric_error(j, u, v, hyp[k].depth) : 0.0f;
      }
    float weights[kMaxSources];
    const uint32_t mask = select_views(costs, nh, ns, good_cost_threshold(iteration), kBadCost,
                                       st_.selected[idx], weights);
    float weight_sum = 0;
    for (int j = 0; j < ns; ++j) weight_sum += weights[j];
    const float inv_weight_sum = 1.0f / weight_sum;

    int best = nh - 1;
    float best_total = 0, best_photo = 0;
    for (int k = nh - 1; k >= 0; --k) {  // the current hypothesis wins ties
      float photo = 0, total = 0;
      for (int j = 0; j < ns; ++j) {
        photo += weights[j] * costs[k * ns + j];
        total += weights[j] * (costs[k * ns + j] + o_.geometric_weight * geo[k * ns + j]);
      }
      if (k == nh - 1 || total < best_total) {
        best = k;
        best_total = total;
        best_photo = photo;
      }
    }
    Hypothesis h = hyp[best];

    // Random refinement around the winner (ACMM's RefinePlane): random and perturbed depths and
    // normals, on the selected views only, with a range that halves every iteration.
    PixelRng rng(o_.seed, pb_.view_id, static_cast<uint32_t>(idx),
                 static_cast<uint32_t>(iteration + 1));
    const float amount = o_.perturbation * std::ldexp(1.0f, -std::min(iteration, 4));
    const float normal_amount = std::min(0.5f, 4.0f * amount);
    const Hypothesis trials[5] = {
        {h.n, random_depth(rng, pb_.depth_min, pb_.depth_max)},
        {random_normal(rng, ray), h.depth},
        {h.n, perturb_depth(rng, h.depth, pb_.depth_min, pb_.depth_max, amount)},
        {perturb_normal(rng, h.n, ray, normal_amount), h.depth},
        {perturb_normal(rng, h.n, ray, normal_amount),
         perturb_depth(rng, h.depth, pb_.depth_min, pb_.depth_max, amount)},
    };
    for (const Hypothesis& t : trials) {
      if (!valid(t.n, t.depth, ray)) continue;
      float photo = 0, total = 0;
      for (int j = 0; j < ns; ++j) {
        if (weights[j] <= 0.0f) continue;
        const float c = photo_cost(j, patch, u, v, ray, t);
        const float g = geometric ? geometric_error(j, u, v, t.depth) : 0.0f;
        photo += weights[j] * c;
        total += weights[j] * (c + o_.geometric_weight * g);
        if (total >= best_total) break;  // cannot win any more (all terms are >= 0)
      }
      if (total < best_total) {
        h = t;
        best_total = total;
        best_photo = photo;
      }
    }

    store_hypothesis(idx, h);
    st_.cost[idx] = best_total * inv_weight_sum;
    st_.photo_cost[idx] = best_photo * inv_weight_sum;
    st_.selected[idx] = mask;
  }

 private:
  bool prepare(int x, int y, ReferencePatch& patch) const {
    for (int k = window_.n; k < window_.n_padded; ++k) patch.w[k] = patch.wr[k] = 0.0f;
    return prepare_reference_patch(pb_.ref_gray, pb_.ref.width, pb_.ref.height, x, y, window_.ox,
                                   window_.oy, window_.spatial, window_.n, inv_two_sigma_color_sq_,
                                   o_.min_variance, patch);
  }

  bool valid(const Vec3<float>& n, float depth, const Vec3<float>& ray) const {
    return depth >= pb_.depth_min && depth <= pb_.depth_max &&
           -dot(n, ray) >= kMinNormalCosine * norm(ray);
  }

  float photo_cost(int j, const ReferencePatch& patch, float u, float v, const Vec3<float>& ray,
                   const Hypothesis& h) const {
    const PatchMatchSource& s = pb_.sources[j];
    const Mat3<float> hm = plane_homography(pb_.ref, s.intrinsics, s.src_from_ref, h.n,
                                            plane_offset(h.n, h.depth, ray));
#if GLIMPSE_MVS_AVX2
    return patch_cost_avx2(s.gray, s.intrinsics.width, s.intrinsics.height, hm, u, v, window_.fox,
                           window_.foy, window_.n_padded, patch, o_.min_variance);
#else
    return patch_cost(s.gray, s.intrinsics.width, s.intrinsics.height, hm, u, v, window_.fox,
                      window_.foy, window_.n, patch, o_.min_variance);
#endif
  }

  // ACMM's geometric term: the forward-backward reprojection error, capped.
  float geometric_error(int j, float u, float v, float depth) const {
    const PatchMatchSource& s = pb_.sources[j];
    if (s.depth == nullptr) return 0.0f;
    float error = 0, depth_back = 0;
    if (!round_trip(pb_.ref, s.intrinsics, s.src_from_ref, s.ref_from_src, s.depth, u, v, depth,
                    error, depth_back))
      return o_.geometric_max_error;
    return std::min(error, o_.geometric_max_error);
  }

  Hypothesis load_hypothesis(int idx) const {
    return {Vec3<float>(st_.normal[3 * idx], st_.normal[3 * idx + 1], st_.normal[3 * idx + 2]),
            st_.depth[idx]};
  }
  void store_hypothesis(int idx, const Hypothesis& h) const {
    st_.normal[3 * idx] = h.n.x;
    st_.normal[3 * idx + 1] = h.n.y;
    st_.normal[3 * idx + 2] = h.n.z;
    st_.depth[idx] = h.depth;
  }

  const PatchMatchProblem& pb_;
  const MvsOptions& o_;
  PatchMatchState& st_;
  const Window window_;
  const Regions regions_;
  const float inv_two_sigma_color_sq_;
  const int num_sources_;
};

void check_problem(const PatchMatchProblem& pb) {
  GLIMPSE_CHECK(pb.ref_gray != nullptr && pb.ref.width > 0 && pb.ref.height > 0)
      << "patch match: empty reference image";
  GLIMPSE_CHECK(!pb.sources.empty() && pb.sources.size() <= static_cast<size_t>(kMaxSources))
      << "patch match: need 1 to " << kMaxSources << " source views, got " << pb.sources.size();
  for (const PatchMatchSource& s : pb.sources)
    GLIMPSE_CHECK(s.gray != nullptr && s.intrinsics.width > 1 && s.intrinsics.height > 1)
        << "patch match: empty source image";
  GLIMPSE_CHECK(std::isfinite(pb.depth_min) && std::isfinite(pb.depth_max) && pb.depth_min > 0 &&
                pb.depth_max > pb.depth_min)
      << "patch match: need finite depth bounds 0 < min < max, got " << pb.depth_min << ", "
      << pb.depth_max;
}

// Runs fn(x, y) on every pixel of one checkerboard colour, rows in parallel.
template <typename Fn>
void for_colour(ThreadPool& pool, int width, int height, int colour, const Fn& fn) {
  pool.parallel_for(height, 2, [&](int64_t begin, int64_t end, int) {
    for (int y = static_cast<int>(begin); y < static_cast<int>(end); ++y)
      for (int x = (y + colour) & 1; x < width; x += 2) fn(x, y);
  });
}

// Sizes the state to the reference image with no hypothesis yet (depth 0, the largest cost).
void reset_state(int w, int h, PatchMatchState& state) {
  const size_t n = static_cast<size_t>(w) * h;
  state.width = w;
  state.height = h;
  state.depth.assign(n, 0.0f);
  state.normal.assign(3 * n, 0.0f);
  state.cost.assign(n, kMaxCost);
  state.photo_cost.assign(n, kMaxCost);
  state.selected.assign(n, 0u);
}

}  // namespace

void patch_match_initialize(const PatchMatchProblem& problem, const MvsOptions& options,
                            ThreadPool& pool, PatchMatchState& state) {
  check_problem(problem);
  const int w = problem.ref.width, h = problem.ref.height;
  reset_state(w, h, state);
  const PixelSolver solver(problem, options, state);
  for (int colour = 0; colour < 2; ++colour)
    for_colour(pool, w, h, colour, [&](int x, int y) { solver.initialize(x, y); });
}

void patch_match_initialize_from_coarse(const PatchMatchProblem& problem, const MvsOptions& options,
                                        const Intrinsics& coarse_intrinsics,
                                        const PatchMatchState& coarse, ThreadPool& pool,
                                        PatchMatchState& state) {
  check_problem(problem);
  GLIMPSE_CHECK(coarse.width > 0 && coarse.height > 0 &&
                coarse.depth.size() == static_cast<size_t>(coarse.width) * coarse.height)
      << "patch match: empty coarse state";
  const int w = problem.ref.width, h = problem.ref.height;
  reset_state(w, h, state);
  const PixelSolver solver(problem, options, state);
  pool.parallel_for(h, 2, [&](int64_t begin, int64_t end, int) {
    for (int y = static_cast<int>(begin); y < static_cast<int>(end); ++y)
      for (int x = 0; x < w; ++x) solver.initialize_from(x, y, coarse_intrinsics, coarse);
  });
}

void patch_match_iterate(const PatchMatchProblem& problem, const MvsOptions& options, int iteration,
                         bool geometric, ThreadPool& pool, PatchMatchState& state) {
  check_problem(problem);
  GLIMPSE_CHECK(state.width == problem.ref.width && state.height == problem.ref.height)
      << "patch match: state of " << state.width << "x" << state.height << " for a "
      << problem.ref.width << "x" << problem.ref.height << " reference";
  const PixelSolver solver(problem, options, state);
  for (int colour = 0; colour < 2; ++colour)
    for_colour(pool, state.width, state.height, colour,
               [&](int x, int y) { solver.update(x, y, iteration, geometric); });
}

}  // namespace glimpse::mvs
