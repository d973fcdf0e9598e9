// Depth-prior and multi-view loss terms for the trainer.
#include "optim/prior_terms.h"

#include "core/check.h"
#include "core/hash.h"

#include <algorithm>
#include <cmath>

namespace glimpse {
namespace {

bool active(int iteration, int start, int stop) {
  return iteration >= start && (stop == 0 || iteration <= stop);
}

}  // namespace

void DepthLossOptions::check() const {
  for (float v : {ranking_weight, continuity, ranking_margin, pearson_weight, patch_pearson_weight,
                  depth_l1_weight})
    GLIMPSE_CHECK(std::isfinite(v) && v >= 0.f)
        << "depth losses: weights and margins must be finite and >= 0, got " << v;
  ranking.check();
  GLIMPSE_CHECK(patch >= 4) << "depth losses: patch must be >= 4 pixels, got " << patch;
  GLIMPSE_CHECK(min_alpha >= 0.f && min_alpha < 1.f)
      << "depth losses: min_alpha must be in [0, 1), got " << min_alpha;
  GLIMPSE_CHECK(start_iteration >= 0 && stop_iteration >= 0 && prune_until >= 0)
      << "depth losses: iterations must be >= 0";
  GLIMPSE_CHECK(prune_margin >= 0.f && prune_margin < 1.f)
      << "depth losses: prune_margin must be in [0, 1), got " << prune_margin;
  GLIMPSE_CHECK(prune_min_confidence > 0.f && prune_min_confidence <= 1.f)
      << "depth losses: prune_min_confidence must be in (0, 1], got " << prune_min_confidence;
}

void WarpLossOptions::check() const {
  GLIMPSE_CHECK(std::isfinite(weight) && weight >= 0.f)
      << "warp consistency: weight must be >= 0, got " << weight;
  GLIMPSE_CHECK(neighbours >= 1) << "warp consistency: neighbours must be >= 1";
  GLIMPSE_CHECK(delta > 0.f) << "warp consistency: delta must be > 0";
  GLIMPSE_CHECK(min_alpha >= 0.f && min_alpha < 1.f)
      << "warp consistency: min_alpha must be in [0, 1)";
  GLIMPSE_CHECK(start_iteration >= 0 && stop_iteration >= 0)
      << "warp consistency: iterations must be >= 0";
  GLIMPSE_CHECK(occlusion_tolerance >= 0.f) << "warp consistency: occlusion_tolerance >= 0";
}

void SelfConsistencyOptions::check() const {
  GLIMPSE_CHECK(std::isfinite(weight) && weight >= 0.f)
      << "self-consistency: weight must be >= 0, got " << weight;
  GLIMPSE_CHECK(std::isfinite(baseline) && baseline > 0.f)
      << "self-consistency: baseline must be > 0, got " << baseline;
  GLIMPSE_CHECK(every >= 1) << "self-consistency: every must be >= 1, got " << every;
  GLIMPSE_CHECK(delta > 0.f) << "self-consistency: delta must be > 0";
  GLIMPSE_CHECK(min_alpha >= 0.f && min_alpha < 1.f)
      << "self-consistency: min_alpha must be in [0, 1)";
  GLIMPSE_CHECK(start_iteration >= 0 && stop_iteration >= 0)
      << "self-consistency: iterations must be >= 0";
}

// [SECTION] depth priors -------------------------------------------------------------------------
DepthPriorLoss::DepthPriorLoss(std::vector<DepthPrior> priors, const DepthLossOptions& options)
    : priors_(std::move(priors)), options_(options) {
  options_.check();
  nearness_.resize(priors_.size());
  prior_depth_.resize(priors_.size());
  alignment_.resize(priors_.size());
  for (size_t i = 0; i < priors_.size(); ++i) {
    const DepthPrior& p = priors_[i];
    if (p.empty()) continue;
    check_depth_prior(p, p.values.width(), p.values.height());
    nearness_[i] = nearness_of(p);
    // Depth-like: the values for depth, their negation for inverse depth (FSGS's -D~).
    prior_depth_[i] = nearness_[i];
    for (size_t k = 0; k < prior_depth_[i].size(); ++k)
      prior_depth_[i].data()[k] = -prior_depth_[i].data()[k];
    if (p.metric && p.kind == DepthPriorKind::Depth) alignment_[i] = {true, 1.0, 0.0};
  }
}

double DepthPriorLoss::evaluate(const LossContext& ctx, RenderOutputGradients& v_render,
                                GaussianGradients& /*v_params*/) {
  last_ranking_ = last_pearson_ = last_patch_pearson_ = last_depth_l1_ = 0;
  const int vi = ctx.view_index;
  if (vi < 0 || static_cast<size_t>(vi) >= priors_.size() || priors_[vi].empty()) return 0.0;
  if (!active(ctx.iteration, options_.start_iteration, options_.stop_iteration)) return 0.0;
  const DepthPrior& prior = priors_[vi];
  const RenderOutput& r = *ctx.render;
  GLIMPSE_CHECK(r.depth.width() == prior.values.width() &&
                r.depth.height() == prior.values.height())
      << prior.source << ": the depth prior is " << prior.values.width() << "x"
      << prior.values.height() << " but the view renders at " << r.depth.width() << "x"
      << r.depth.height();
  const int w = r.depth.width(), h = r.depth.height();
  // Compared where the render is opaque and the prior confident.
  Image<float> weight(w, h, 1);
  for (size_t p = 0; p < weight.size(); ++p)
    weight.data()[p] = r.alpha.data()[p] >= options_.min_alpha ? prior.confidence.data()[p] : 0.f;
  std::mt19937_64 rng(mix_seed(ctx.seed, static_cast<uint64_t>(ctx.iteration), 0x5eed));
  double total = 0;
  if (options_.ranking_weight > 0.f) {
    std::vector<RankingPair> pairs =
        sample_ranking_pairs(nearness_[vi], weight, options_.ranking, rng);
    // The hinge is in depth units: measured in scene scales, so that a weight means the same
    // in every scene (the photometric gradients scale with 1 / scene scale too).
    const float s = std::max(ctx.scene_scale, 1e-12f);
    last_ranking_ =
        depth_ranking_loss<float>(r.depth, pairs, options_.ranking_margin * s, options_.continuity,
                                  options_.ranking_weight / s, &v_render.depth) /
        s;
    total += options_.ranking_weight * last_ranking_;
  }
  // Pearson is invariant to the render's scale; its gradient scales with 1 / scale like the
  // photometric one.
  if (options_.pearson_weight > 0.f) {
    last_pearson_ = pearson_depth_loss<float>(r.depth, prior_depth_[vi], weight,
                                              options_.pearson_weight, &v_render.depth);
    total += options_.pearson_weight * last_pearson_;
  }
  if (options_.patch_pearson_weight > 0.f) {
    const int ox = static_cast<int>(rng() % static_cast<uint64_t>(options_.patch));
    const int oy = static_cast<int>(rng() % static_cast<uint64_t>(options_.patch));
    last_patch_pearson_ =
        patch_pearson_depth_loss<float>(r.depth, prior_depth_[vi], weight, options_.patch, ox, oy,
                                        options_.patch_pearson_weight, &v_render.depth);
    total += options_.patch_pearson_weight * last_patch_pearson_;
  }
  if (options_.depth_l1_weight > 0.f && prior.metric && prior.kind == DepthPriorKind::Depth) {
    last_depth_l1_ = relative_depth_l1_loss<float>(r.depth, prior.values, weight,
                                                   options_.depth_l1_weight, &v_render.depth);
    total += options_.depth_l1_weight * last_depth_l1_;
  }
  // Alignment of a non-metric prior to the render, for pruning: least squares over the weighted
  // pixels, in depth (Depth) or inverse depth (InverseDepth).
  if (!prior.metric && options_.prune_until > 0) {
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t p = 0; p < weight.size(); ++p) {
      const double wt = weight.data()[p];
      const double d = r.depth.data()[p];
      if (wt <= 0 || !(d > 0)) continue;
      const double x = prior.values.data()[p];
      const double y = prior.kind == DepthPriorKind::Depth ? d : 1.0 / d;
      sw += wt, sx += wt * x, sy += wt * y, sxx += wt * x * x, sxy += wt * x * y;
    }
    const double det = sw * sxx - sx * sx;
    if (sw > 100 && std::abs(det) > 1e-12 * sw * sxx) {
      const double a = (sw * sxy - sx * sy) / det;
      alignment_[vi] = {a > 0, a, (sy - a * sx) / sw};
    }
  }
  return total;
}

bool DepthPriorLoss::prune(int iteration, const Gaussians& g, const std::vector<View>& views,
                           std::vector<uint8_t>& remove) {
  if (options_.prune_until <= 0 || iteration > options_.prune_until) return false;
  bool ran = false;
  const size_t n = g.size();
  for (size_t vi = 0; vi < priors_.size() && vi < views.size(); ++vi) {
    const DepthPrior& prior = priors_[vi];
    const Alignment& al = alignment_[vi];
    if (prior.empty() || !al.valid) continue;
    ran = true;
    const Camera& cam = views[vi].camera;
    const int w = prior.values.width(), h = prior.values.height();
    for (size_t i = 0; i < n; ++i) {
      if (remove[i]) continue;
      const Vec3<double> p =
          cam.cam_from_world({g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]});
      if (!(p.z > 0)) continue;
      const double u = cam.fx * p.x / p.z + cam.cx, v = cam.fy * p.y / p.z + cam.cy;
      if (!(u >= 0 && v >= 0 && u < w && v < h)) continue;
      const int x = static_cast<int>(u), y = static_cast<int>(v);
      if (prior.confidence.at(x, y) < options_.prune_min_confidence) continue;
      const double val = prior.values.at(x, y);
      double depth = al.a * val + al.b;
      if (prior.kind == DepthPriorKind::InverseDepth) depth = depth > 0 ? 1.0 / depth : 0.0;
      if (depth > 0 && p.z < depth * (1.0 - options_.prune_margin)) remove[i] = 1;
    }
  }
  return ran;
}

// [SECTION] multi-view consistency ---------------------------------------------------------------
WarpConsistencyLoss::WarpConsistencyLoss(const std::vector<View>& views,
                                         std::vector<DepthPrior> priors,
                                         const WarpLossOptions& options)
    : options_(options) {
  options_.check();
  const size_t n = views.size();
  neighbours_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::pair<double, int>> by_distance;
    for (size_t j = 0; j < n; ++j)
      if (j != i)
        by_distance.push_back(
            {norm(views[i].camera.center() - views[j].camera.center()), static_cast<int>(j)});
    std::sort(by_distance.begin(), by_distance.end());
    for (size_t k = 0; k < by_distance.size() && static_cast<int>(k) < options_.neighbours; ++k)
      neighbours_[i].push_back(by_distance[k].second);
  }
  occlusion_depth_.resize(n);
  for (size_t i = 0; i < priors.size() && i < n; ++i) {
    const DepthPrior& p = priors[i];
    if (p.empty() || !p.metric || p.kind != DepthPriorKind::Depth) continue;
    occlusion_depth_[i] = Image<float>(p.values.width(), p.values.height(), 1);
    for (size_t k = 0; k < p.values.size(); ++k)
      occlusion_depth_[i].data()[k] = p.confidence.data()[k] > 0.f ? p.values.data()[k] : 0.f;
  }
}

double WarpConsistencyLoss::evaluate(const LossContext& ctx, RenderOutputGradients& v_render,
                                     GaussianGradients& /*v_params*/) {
  if (options_.weight <= 0.f || ctx.views == nullptr) return 0.0;
  if (!active(ctx.iteration, options_.start_iteration, options_.stop_iteration)) return 0.0;
  const int vi = ctx.view_index;
  if (vi < 0 || static_cast<size_t>(vi) >= neighbours_.size()) return 0.0;
  const RenderOutput& r = *ctx.render;
  const int w = r.depth.width(), h = r.depth.height();
  Image<float> weight(w, h, 1);
  const Image<float>& mask = ctx.view->mask;
  for (size_t p = 0; p < weight.size(); ++p) {
    float wt = r.alpha.data()[p] >= options_.min_alpha ? 1.f : 0.f;
    if (!mask.empty()) wt *= mask.data()[p];
    weight.data()[p] = wt;
  }
  double total = 0;
  const float per = options_.weight / static_cast<float>(neighbours_[vi].size());
  for (int j : neighbours_[vi]) {
    const View& target_view = (*ctx.views)[j];
    WarpTarget<float> target{&target_view.image, &target_view.camera,
                             occlusion_depth_[j].empty() ? nullptr : &occlusion_depth_[j],
                             options_.occlusion_tolerance};
    total += per * warp_consistency_loss<float>(r.depth, weight, ctx.view->image, ctx.view->camera,
                                                target, options_.delta, per, &v_render.depth);
  }
  return total;
}

// [SECTION] self-consistency ----------------------------------------------------------------------
SelfConsistencyLoss::SelfConsistencyLoss(std::unique_ptr<Rasterizer> rasterizer,
                                         const SelfConsistencyOptions& options)
    : rasterizer_(std::move(rasterizer)), options_(options) {
  options_.check();
  GLIMPSE_CHECK(rasterizer_ != nullptr) << "self-consistency: no rasterizer";
}

double SelfConsistencyLoss::evaluate(const LossContext& ctx, RenderOutputGradients& v_render,
                                     GaussianGradients& v_params) {
  if (options_.weight <= 0.f || ctx.render_options == nullptr) return 0.0;
  if (!active(ctx.iteration, options_.start_iteration, options_.stop_iteration)) return 0.0;
  if (ctx.iteration % options_.every != 0) return 0.0;
  std::mt19937_64 rng(mix_seed(ctx.seed, static_cast<uint64_t>(ctx.iteration), 0xb1c0));
  const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  const double sign = (rng() & 1) ? 1.0 : -1.0;
  const double shift = sign * (0.5 + 0.5 * u) * options_.baseline * ctx.scene_scale;
  // The centre moves by `shift` along the camera's own x axis: p_virtual = p_cam - (shift, 0, 0).
  Camera virtual_camera = ctx.view->camera;
  virtual_camera.translation.x -= shift;
  rasterizer_->forward(*ctx.gaussians, virtual_camera, *ctx.render_options, virtual_render_);
  const RenderOutput& r = *ctx.render;
  const int w = r.depth.width(), h = r.depth.height();
  Image<float> weight(w, h, 1);
  const Image<float>& mask = ctx.view->mask;
  for (size_t p = 0; p < weight.size(); ++p) {
    float wt = r.alpha.data()[p] >= options_.min_alpha ? 1.f : 0.f;
    if (!mask.empty()) wt *= mask.data()[p];
    weight.data()[p] = wt;
  }
  v_virtual_.rgb = Image<float>(w, h, 3);
  v_virtual_.alpha = Image<float>();
  v_virtual_.depth = Image<float>();
  v_virtual_.median_depth = Image<float>();
  WarpTarget<float> target{&virtual_render_.rgb, &virtual_camera, nullptr};
  const double loss = warp_consistency_loss<float>(
      r.depth, weight, ctx.view->image, ctx.view->camera, target, options_.delta, options_.weight,
      &v_render.depth, nullptr, &v_virtual_.rgb);
  rasterizer_->backward(*ctx.gaussians, virtual_camera, *ctx.render_options, v_virtual_, grads_);
  v_params.add_parameter_gradients(grads_);
  return options_.weight * loss;
}

}  // namespace glimpse
