// CoR-GS co-regularisation: the second field, pseudo cameras, the pseudo-view term, co-pruning.
#include "optim/co_regularization.h"

#include "core/check.h"
#include "core/hash.h"
#include "optim/losses.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace glimpse {
namespace {

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

// The second field's seed: another stream for its view order, backgrounds and dropout.
uint64_t partner_seed(uint64_t seed) { return mix_seed(seed, 0, 0xc02c5); }

// 21 bits per axis: far cells may share a key, which only adds candidates (distances are checked).
uint64_t cell_key(int64_t x, int64_t y, int64_t z) {
  constexpr uint64_t m = (1ull << 21) - 1;
  return ((static_cast<uint64_t>(x) & m) << 42) | ((static_cast<uint64_t>(y) & m) << 21) |
         (static_cast<uint64_t>(z) & m);
}

}  // namespace

void CoRegularizationOptions::check() const {
  GLIMPSE_CHECK(std::isfinite(weight) && weight >= 0.f)
      << "co-regularisation: weight must be finite and >= 0, got " << weight;
  GLIMPSE_CHECK(start_iteration >= 0 && stop_iteration >= 0 && prune_until >= 0)
      << "co-regularisation: iterations must be >= 0";
  GLIMPSE_CHECK(every >= 1) << "co-regularisation: every must be >= 1, got " << every;
  GLIMPSE_CHECK(downscale >= 1 && downscale <= 16)
      << "co-regularisation: downscale must be in [1, 16], got " << downscale;
  GLIMPSE_CHECK(std::isfinite(extrapolation) && extrapolation >= 0.f && extrapolation <= 1.f)
      << "co-regularisation: extrapolation must be in [0, 1], got " << extrapolation;
  GLIMPSE_CHECK(prune_every >= 0) << "co-regularisation: prune_every must be >= 0";
  GLIMPSE_CHECK(std::isfinite(prune_distance) && prune_distance > 0.f)
      << "co-regularisation: prune_distance must be > 0, got " << prune_distance;
}

Camera interpolated_camera(const Camera& a, const Camera& b, double t, int downscale) {
  GLIMPSE_CHECK(downscale >= 1) << "interpolated camera: downscale must be >= 1";
  Quat<double> qa = rotmat_to_quat(a.rotation), qb = rotmat_to_quat(b.rotation);
  double dot = qa.w * qb.w + qa.x * qb.x + qa.y * qb.y + qa.z * qb.z;
  if (dot < 0.0) qb = {-qb.w, -qb.x, -qb.y, -qb.z}, dot = -dot;
  double wa = 1.0 - t, wb = t;
  if (dot < 0.9995) {  // slerp; nearly equal rotations fall back to the normalised lerp
    const double theta = std::acos(std::min(1.0, dot));
    wa = std::sin((1.0 - t) * theta) / std::sin(theta);
    wb = std::sin(t * theta) / std::sin(theta);
  }
  Quat<double> q{wa * qa.w + wb * qb.w, wa * qa.x + wb * qb.x, wa * qa.y + wb * qb.y,
                 wa * qa.z + wb * qb.z};
  const double norm = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  q = {q.w / norm, q.x / norm, q.y / norm, q.z / norm};
  const Vec3<double> ca = a.center(), cb = b.center();
  const Vec3<double> c = ca + (cb - ca) * t;
  const int w = std::max(1, a.width / downscale), h = std::max(1, a.height / downscale);
  Camera cam =
      scaled_camera(a, static_cast<double>(w) / a.width, static_cast<double>(h) / a.height, w, h);
  cam.rotation = quat_to_rotmat(q);
  cam.translation = -(cam.rotation * c);
  return cam;
}

Camera pseudo_camera(const std::vector<View>& views, uint64_t seed, int iteration,
                     const CoRegularizationOptions& options) {
  GLIMPSE_CHECK(!views.empty()) << "pseudo camera: no training views";
  std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(iteration), 0xc0c0));
  const size_t n = views.size();
  const size_t i = static_cast<size_t>(rng() % n);
  const size_t j = n == 1 ? i : (i + 1 + static_cast<size_t>(rng() % (n - 1))) % n;
  const double e = options.extrapolation;
  const double t = -e + (1.0 + 2.0 * e) * uniform01(rng);
  return interpolated_camera(views[i].camera, views[j].camera, t, options.downscale);
}

std::vector<uint8_t> without_counterpart(const std::vector<float>& points,
                                         const std::vector<float>& others, float distance) {
  GLIMPSE_CHECK(distance > 0.f && std::isfinite(distance))
      << "co-pruning: the distance must be > 0, got " << distance;
  const size_t n = points.size() / 3, m = others.size() / 3;
  std::vector<uint8_t> lonely(n, 1);
  if (m == 0) return lonely;
  const double inv = 1.0 / distance;
  auto cell = [inv](float v) { return static_cast<int64_t>(std::floor(v * inv)); };
  std::vector<std::pair<uint64_t, uint32_t>> keyed(m);
  for (size_t k = 0; k < m; ++k)
    keyed[k] = {cell_key(cell(others[3 * k]), cell(others[3 * k + 1]), cell(others[3 * k + 2])),
                static_cast<uint32_t>(k)};
  std::sort(keyed.begin(), keyed.end());
  const float d2 = distance * distance;
  for (size_t i = 0; i < n; ++i) {
    const float px = points[3 * i], py = points[3 * i + 1], pz = points[3 * i + 2];
    const int64_t cx = cell(px), cy = cell(py), cz = cell(pz);
    bool found = false;
    for (int dx = -1; dx <= 1 && !found; ++dx)
      for (int dy = -1; dy <= 1 && !found; ++dy)
        for (int dz = -1; dz <= 1 && !found; ++dz) {
          const uint64_t key = cell_key(cx + dx, cy + dy, cz + dz);
          auto it = std::lower_bound(keyed.begin(), keyed.end(), std::make_pair(key, 0u));
          for (; it != keyed.end() && it->first == key; ++it) {
            const size_t k = it->second;
            const float ex = others[3 * k] - px, ey = others[3 * k + 1] - py,
                        ez = others[3 * k + 2] - pz;
            if (ex * ex + ey * ey + ez * ez <= d2) {
              found = true;
              break;
            }
          }
        }
    lonely[i] = found ? 0 : 1;
  }
  return lonely;
}

CoRegularizationLoss::CoRegularizationLoss(std::vector<View> views, Gaussians init,
                                           TrainerOptions run_options,
                                           std::unique_ptr<Rasterizer> partner_rasterizer,
                                           std::unique_ptr<Rasterizer> pseudo_rasterizer,
                                           std::unique_ptr<Rasterizer> follower_pseudo_rasterizer,
                                           const CoRegularizationOptions& options)
    : rasterizer_(std::move(pseudo_rasterizer)), options_(options), camera_seed_(run_options.seed) {
  options_.check();
  GLIMPSE_CHECK(rasterizer_ && partner_rasterizer && follower_pseudo_rasterizer)
      << "co-regularisation: missing rasterizer";
  TrainerOptions partner_options = run_options;
  partner_options.seed = partner_seed(run_options.seed);
  partner_ = std::make_unique<Trainer>(std::move(views), std::move(init), partner_options,
                                       std::move(partner_rasterizer));
  auto follower = std::unique_ptr<CoRegularizationLoss>(
      new CoRegularizationLoss(std::move(follower_pseudo_rasterizer), options_, camera_seed_));
  follower_ = follower.get();
  partner_->add_loss_term(std::move(follower));
  scene_scale_ = partner_->scene_extent();
  follower_->scene_scale_ = scene_scale_;
}

CoRegularizationLoss::CoRegularizationLoss(std::unique_ptr<Rasterizer> pseudo_rasterizer,
                                           const CoRegularizationOptions& options,
                                           uint64_t camera_seed)
    : rasterizer_(std::move(pseudo_rasterizer)), options_(options), camera_seed_(camera_seed) {}

CoRegularizationLoss::~CoRegularizationLoss() = default;

void CoRegularizationLoss::before_step(int iteration, const Gaussians& gaussians) {
  if (!partner_) return;  // the follower is stepped, it does not step anything
  GLIMPSE_CHECK(partner_->iteration() == iteration - 1)
      << "co-regularisation: the second field is at iteration " << partner_->iteration()
      << ", the run at " << iteration - 1;
  // The second field steps first: its target is this field before this step's update, as in
  // CoR-GS, where both fields render the pseudo view before either updates.
  follower_->other_ = &gaussians;
  other_ = &partner_->gaussians();
  partner_->step();
}

double CoRegularizationLoss::evaluate(const LossContext& ctx, RenderOutputGradients& v_render,
                                      GaussianGradients& v_params) {
  (void)v_render;
  if (options_.weight <= 0.f || other_ == nullptr || ctx.render_options == nullptr ||
      ctx.views == nullptr)
    return 0.0;
  const int it = ctx.iteration;
  if (it < options_.start_iteration ||
      (options_.stop_iteration > 0 && it > options_.stop_iteration))
    return 0.0;
  if (it % options_.every != 0) return 0.0;
  const Camera camera = pseudo_camera(*ctx.views, camera_seed_, it, options_);
  // The other field's render is the target (no gradient), under this step's background and SH
  // degree; then this field's render, its loss and backward.
  rasterizer_->forward(*other_, camera, *ctx.render_options, target_);
  rasterizer_->forward(*ctx.gaussians, camera, *ctx.render_options, own_);
  const PhotometricLoss loss =
      photometric_loss(own_.rgb, target_.rgb, kDefaultDssimLambda, &v_own_.rgb);
  for (float& g : v_own_.rgb.vector()) g *= options_.weight;
  v_own_.alpha = Image<float>();
  v_own_.depth = Image<float>();
  v_own_.median_depth = Image<float>();
  rasterizer_->backward(*ctx.gaussians, camera, *ctx.render_options, v_own_, grads_);
  v_params.add_parameter_gradients(grads_);
  return options_.weight * loss.loss;
}

void CoRegularizationLoss::save_state(std::ostream& out) const {
  if (partner_) partner_->save_checkpoint(out, "second field");
}

void CoRegularizationLoss::load_state(std::istream& in, const std::string& what) {
  if (partner_) partner_->load_checkpoint(in, what);
}

bool CoRegularizationLoss::prune(int iteration, const Gaussians& gaussians,
                                 const std::vector<View>& views, std::vector<uint8_t>& remove) {
  (void)views;
  if (options_.prune_every <= 0 || other_ == nullptr || iteration % options_.prune_every != 0)
    return false;
  if (options_.prune_until > 0 && iteration > options_.prune_until) return false;
  const std::vector<uint8_t> lonely =
      without_counterpart(gaussians.means, other_->means, options_.prune_distance * scene_scale_);
  for (size_t i = 0; i < lonely.size(); ++i) remove[i] |= lonely[i];
  return true;
}

}  // namespace glimpse
