// The training loop, its checks and its checkpoints.
#include "optim/trainer.h"

#include "core/float_mode.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "optim/losses.h"
#include "optim/schedule.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <istream>
#include <numeric>
#include <optional>
#include <ostream>
#include <sstream>
#include <zlib.h>

namespace glimpse {
namespace {

constexpr char kCheckpointMagic[8] = {'G', 'L', 'M', 'P', 'C', 'K', 'P', 'T'};
// Version 2 added the CRC-32 trailer: 4 bytes, little-endian, over every byte before it; version 3
// the loss terms' states (a count, then each term's name and state) after the densification's.
constexpr uint32_t kCheckpointVersion = 3;

// Forwards writes to another stream buffer and keeps the CRC-32 (zlib) of everything written.
class Crc32WriteBuffer : public std::streambuf {
 public:
  explicit Crc32WriteBuffer(std::streambuf* sink) : sink_(sink) {}
  uint32_t crc() const { return static_cast<uint32_t>(crc_); }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const std::streamsize written = sink_->sputn(s, n);
    // Not for 0 bytes: an empty vector's data() may be null, and crc32_z(crc, Z_NULL, 0) returns
    // the initial value, resetting the sum.
    if (written > 0)
      crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(s), static_cast<z_size_t>(written));
    return written;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }

 private:
  std::streambuf* sink_;
  uLong crc_ = crc32_z(0L, Z_NULL, 0);
};

// Checks the magic, the version and the trailer of a checkpoint stream and returns the payload
// size (the bytes before the trailer), leaving the stream just after the version. Reads the stream
// once in chunks, so a checkpoint of any size costs no extra memory.
uint64_t verify_checkpoint_crc(std::istream& in, const std::string& what) {
  const std::istream::pos_type start = in.tellg();
  in.seekg(0, std::ios::end);
  const std::istream::pos_type end = in.tellg();
  GLIMPSE_CHECK(start != std::istream::pos_type(-1) && end != std::istream::pos_type(-1))
      << what << ": cannot determine the checkpoint's size";
  in.seekg(start);
  const auto size = static_cast<uint64_t>(end - start);
  GLIMPSE_CHECK(size >= sizeof(kCheckpointMagic) + 8)
      << what << ": not a Glimpse checkpoint (" << size << " bytes)";
  const uint64_t payload = size - 4;
  uLong crc = crc32_z(0L, Z_NULL, 0);
  std::vector<char> chunk(size_t{1} << 20);
  for (uint64_t done = 0; done < payload;) {
    const auto take =
        static_cast<std::streamsize>(std::min<uint64_t>(chunk.size(), payload - done));
    in.read(chunk.data(), take);
    GLIMPSE_CHECK(in.gcount() == take) << what << ": the checkpoint could not be read";
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(chunk.data()), static_cast<z_size_t>(take));
    done += static_cast<uint64_t>(take);
  }
  unsigned char trailer[4];
  in.read(reinterpret_cast<char*>(trailer), 4);
  GLIMPSE_CHECK(in.gcount() == 4) << what << ": the checkpoint could not be read";
  const uint32_t stored = uint32_t{trailer[0]} | uint32_t{trailer[1]} << 8 |
                          uint32_t{trailer[2]} << 16 | uint32_t{trailer[3]} << 24;
  // The magic and version first, so that an older or foreign file gets its own message.
  in.seekg(start);
  char magic[8];
  in.read(magic, sizeof(magic));
  GLIMPSE_CHECK(in && std::equal(magic, magic + 8, kCheckpointMagic))
      << what << ": not a Glimpse checkpoint";
  uint32_t version = 0;
  in.read(reinterpret_cast<char*>(&version), sizeof(version));
  GLIMPSE_CHECK(version == kCheckpointVersion)
      << what << ": checkpoint version " << version << " is not supported (expected "
      << kCheckpointVersion
      << "; it was written by another Glimpse version: train without --resume)";
  GLIMPSE_CHECK(stored == static_cast<uint32_t>(crc))
      << what << ": the checkpoint is corrupt (its CRC-32 checksum does not match: stored "
      << std::hex << stored << ", computed " << static_cast<uint32_t>(crc) << std::dec
      << "); it was damaged after it was written; train without --resume";
  in.clear();
  in.seekg(start + static_cast<std::streamoff>(sizeof(kCheckpointMagic) + sizeof(version)));
  return payload;
}

template <typename V>
void write_pod(std::ostream& out, const V& v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof(V));
}
template <typename V>
void read_pod(std::istream& in, V& v, const std::string& what, const char* field) {
  in.read(reinterpret_cast<char*>(&v), sizeof(V));
  GLIMPSE_CHECK(in) << what << ": checkpoint is truncated (reading " << field << ")";
}
void write_string(std::ostream& out, const std::string& s) {
  write_pod(out, static_cast<uint64_t>(s.size()));
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}
// Reads a length-prefixed array in chunks, so that a corrupt length fails as truncation rather
// than as one huge allocation.
template <typename T>
void read_array(std::istream& in, T& v, uint64_t limit, const std::string& what,
                const char* field) {
  uint64_t n = 0;
  read_pod(in, n, what, field);
  GLIMPSE_CHECK(n < limit) << what << ": checkpoint field " << field << " is corrupt (" << n
                           << " elements)";
  using Element = typename T::value_type;
  constexpr uint64_t kChunk = (uint64_t{1} << 22) / sizeof(Element);
  v.clear();
  for (uint64_t done = 0; done < n;) {
    const uint64_t take = std::min(kChunk, n - done);
    v.resize(done + take);
    in.read(reinterpret_cast<char*>(v.data() + done),
            static_cast<std::streamsize>(take * sizeof(Element)));
    GLIMPSE_CHECK(in) << what << ": checkpoint is truncated (reading " << field << ")";
    done += take;
  }
}
std::string read_string(std::istream& in, const std::string& what, const char* field) {
  std::string s;
  read_array(in, s, uint64_t{1} << 32, what, field);
  return s;
}
void write_floats(std::ostream& out, const std::vector<float>& v) {
  write_pod(out, static_cast<uint64_t>(v.size()));
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
}
void read_floats(std::istream& in, std::vector<float>& v, const std::string& what,
                 const char* field) {
  read_array(in, v, uint64_t{1} << 34, what, field);
}

// True when every value is finite; else `bad` is the first one that is not. The test is an OR
// over the exponent bits (all ones: NaN or infinite), which vectorises, in parallel chunks; the
// index is looked for only after a failure.
bool all_finite(const std::vector<float>& v, size_t& bad) {
  constexpr int64_t kGrain = int64_t{1} << 16;
  std::atomic<bool> finite{true};
  ThreadPool::global().parallel_for(
      static_cast<int64_t>(v.size()), kGrain, [&](int64_t begin, int64_t end, int) {
        uint32_t special = 0;
        for (int64_t i = begin; i < end; ++i)
          special |=
              static_cast<uint32_t>((std::bit_cast<uint32_t>(v[i]) & 0x7f800000u) == 0x7f800000u);
        if (special != 0) finite = false;
      });
  if (finite) return true;
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) {
      bad = i;
      return false;
    }
  return true;
}

}  // namespace

void LearningRateOptions::check() const {
  for (float v : {means_initial, means_final, sh_dc, sh_rest, opacity, scales, quats})
    GLIMPSE_CHECK(std::isfinite(v) && v >= 0)
        << "learning rates must be finite and >= 0, got " << v;
  GLIMPSE_CHECK(means_initial > 0 && means_final > 0)
      << "position learning rates must be > 0 (exponential schedule)";
  GLIMPSE_CHECK(means_max_steps >= 0)
      << "means_max_steps must be >= 0 (0: the run's iterations), got " << means_max_steps;
}

void TrainerOptions::check() const {
  GLIMPSE_CHECK(iterations > 0) << "iterations must be > 0, got " << iterations;
  GLIMPSE_CHECK(dssim_lambda >= 0 && dssim_lambda <= 1)
      << "dssim_lambda must be in [0, 1], got " << dssim_lambda;
  GLIMPSE_CHECK(dropout_rate >= 0.f && dropout_rate < 1.f)
      << "dropout_rate must be in [0, 1), got " << dropout_rate;
  GLIMPSE_CHECK(dropout_ramp >= 0) << "dropout_ramp must be >= 0, got " << dropout_ramp;
  GLIMPSE_CHECK(opacity_decay > 0.f && opacity_decay <= 1.f)
      << "opacity_decay must be in (0, 1], got " << opacity_decay;
  GLIMPSE_CHECK(opacity_decay_until >= 0)
      << "opacity_decay_until must be >= 0, got " << opacity_decay_until;
  GLIMPSE_CHECK(std::isfinite(opacity_reg) && opacity_reg >= 0.f && std::isfinite(scale_reg) &&
                scale_reg >= 0.f)
      << "opacity_reg and scale_reg must be >= 0, got " << opacity_reg << " and " << scale_reg;
  GLIMPSE_CHECK(std::isfinite(needle_reg) && needle_reg >= 0.f)
      << "needle_reg must be >= 0, got " << needle_reg;
  GLIMPSE_CHECK(std::isfinite(needle_ratio) && needle_ratio >= 1.f)
      << "needle_ratio must be >= 1, got " << needle_ratio;
  GLIMPSE_CHECK(prune_opacity >= 0.f && prune_opacity < 1.f)
      << "prune_opacity must be in [0, 1), got " << prune_opacity;
  GLIMPSE_CHECK(prune_every > 0) << "prune_every must be > 0, got " << prune_every;
  GLIMPSE_CHECK(std::isfinite(scene_extent) && scene_extent >= 0.f)
      << "scene_extent must be finite and >= 0 (0: from the cameras), got " << scene_extent;
  lr.check();
  adam.check();
  adc.check();
  mcmc.check();
  GLIMPSE_CHECK(sh_degree >= 0 && sh_degree <= kMaxShDegree)
      << "sh_degree must be 0..3, got " << sh_degree;
  GLIMPSE_CHECK(sh_increase_every > 0) << "sh_increase_every must be > 0";
  for (int c = 0; c < 3; ++c)
    GLIMPSE_CHECK(background[c] >= 0 && background[c] <= 1) << "background must be in [0, 1]";
  render.check();
}

float scene_extent_of(const std::vector<View>& views) {
  if (views.size() < 2) return 1.f;
  Vec3<double> mean{0, 0, 0};
  for (const View& v : views) mean += v.camera.center();
  mean = mean * (1.0 / static_cast<double>(views.size()));
  double radius = 0;
  for (const View& v : views) radius = std::max(radius, norm(v.camera.center() - mean));
  return radius > 0 ? static_cast<float>(1.1 * radius) : 1.f;
}

float scene_depth_of(const std::vector<View>& views, const Gaussians& gaussians) {
  std::vector<float> depths;
  const size_t n = gaussians.size();
  // At most ~200k samples: a deterministic stride over the Gaussians.
  const size_t stride = std::max<size_t>(1, n * views.size() / 200000);
  for (const View& v : views)
    for (size_t i = 0; i < n; i += stride) {
      const float* m = &gaussians.means[3 * i];
      const Vec3<double> p = v.camera.cam_from_world({m[0], m[1], m[2]});
      if (p.z > 0 && std::isfinite(p.z)) depths.push_back(static_cast<float>(p.z));
    }
  if (depths.empty()) return 0.f;
  std::nth_element(depths.begin(), depths.begin() + depths.size() / 2, depths.end());
  return depths[depths.size() / 2];
}

double psnr_of(const Image<float>& a, const Image<float>& b) {
  GLIMPSE_CHECK(a.size() == b.size()) << "psnr: images differ in size";
  // Squared error in fixed chunks summed in chunk order (deterministic for any thread count),
  // each over 4 independent lanes so the adds do not wait on one another.
  constexpr int64_t kGrain = int64_t{1} << 15;
  const int64_t n = static_cast<int64_t>(a.size());
  std::vector<double> partial((n + kGrain - 1) / kGrain, 0.0);
  ThreadPool::global().parallel_for((n + kGrain - 1) / kGrain, 1, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t begin = c * kGrain, end = std::min(n, begin + kGrain);
      double lane[4] = {0, 0, 0, 0};
      int64_t i = begin;
      for (; i + 4 <= end; i += 4)
        for (int l = 0; l < 4; ++l) {
          const double d = static_cast<double>(a.data()[i + l]) - b.data()[i + l];
          lane[l] += d * d;
        }
      for (; i < end; ++i) {
        const double d = static_cast<double>(a.data()[i]) - b.data()[i];
        lane[0] += d * d;
      }
      partial[c] = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    }
  });
  double se = 0;
  for (double p : partial) se += p;
  const double mse = se / static_cast<double>(std::max<size_t>(1, a.size()));
  return mse > 0 ? -10.0 * std::log10(mse) : 99.0;
}

Trainer::Trainer(std::vector<View> views, Gaussians init, const TrainerOptions& options,
                 std::unique_ptr<Rasterizer> rasterizer)
    : views_(std::move(views)),
      gaussians_(std::move(init)),
      options_(options),
      rasterizer_(std::move(rasterizer)),
      rng_(options.seed),
      adam_(options.adam) {
  options_.check();
  GLIMPSE_CHECK(rasterizer_ != nullptr) << "trainer: no rasterizer";
  GLIMPSE_CHECK(!views_.empty()) << "trainer: no training views";
  for (size_t i = 0; i < views_.size(); ++i) {
    const View& v = views_[i];
    GLIMPSE_CHECK(v.image.width() == v.camera.width && v.image.height() == v.camera.height &&
                  v.image.channels() == 3)
        << "trainer: training view " << v.name << " has no RGB image of its camera's size";
  }
  gaussians_.check("initial Gaussians");
  GLIMPSE_CHECK(gaussians_.size() > 0) << "trainer: the initial model has no Gaussians";
  // The model carries the final SH degree from the start; higher bands stay zero until used.
  if (gaussians_.sh_degree != options_.sh_degree) {
    Gaussians g = gaussians_;
    g.sh_degree = options_.sh_degree;
    g.sh.assign(g.size() * 3 * g.sh_coeffs(), 0.f);
    const int k_old = gaussians_.sh_coeffs(), k_new = g.sh_coeffs(), k = std::min(k_old, k_new);
    for (size_t i = 0; i < g.size(); ++i)
      std::copy_n(&gaussians_.sh[i * 3 * k_old], 3 * k, &g.sh[i * 3 * k_new]);
    gaussians_ = std::move(g);
  }
  extent_ = options_.scene_extent > 0.f ? options_.scene_extent : scene_extent_of(views_);
  // The position rates are relative to the scene: catch a product that overflows float here,
  // with the figures, rather than as Adam's complaint at the first step.
  for (const float rate : {options_.lr.means_initial, options_.lr.means_final})
    GLIMPSE_CHECK(std::isfinite(rate * extent_))
        << "trainer: the position learning rate " << rate << " times the scene extent " << extent_
        << " is not a finite float (are the camera positions or depths in a sane unit?)";
  if (options_.strategy == DensifyStrategy::AdaptiveDensityControl)
    adc_ = std::make_unique<AdaptiveDensityControl>(options_.adc, extent_);
  if (options_.strategy == DensifyStrategy::Mcmc)
    mcmc_ = std::make_unique<McmcDensifier>(options_.mcmc, extent_);
}

void Trainer::add_loss_term(std::unique_ptr<LossTerm> term) {
  GLIMPSE_CHECK(term != nullptr) << "trainer: null loss term";
  loss_terms_.push_back(std::move(term));
}

int Trainer::active_sh_degree() const {
  return std::min(options_.sh_degree, iteration_ / options_.sh_increase_every);
}

int Trainer::next_view() {
  if (view_stack_.empty()) {
    view_stack_.resize(views_.size());
    std::iota(view_stack_.begin(), view_stack_.end(), 0);
    // Fisher-Yates with the engine's raw output (std::shuffle is library-specific).
    for (size_t i = view_stack_.size(); i > 1; --i)
      std::swap(view_stack_[i - 1], view_stack_[rng_() % i]);
  }
  const int v = view_stack_.back();
  view_stack_.pop_back();
  return v;
}

float Trainer::means_lr(int iteration) const {
  ExponentialSchedule schedule;
  schedule.initial = options_.lr.means_initial * extent_;
  schedule.final = options_.lr.means_final * extent_;
  schedule.max_steps =
      options_.lr.means_max_steps > 0 ? options_.lr.means_max_steps : options_.iterations;
  return schedule.at(iteration);
}

void Trainer::check_finite_gradients(const GaussianGradients& grads) const {
  const std::pair<const char*, const std::vector<float>*> groups[] = {
      {"means", &grads.means},
      {"log_scales", &grads.log_scales},
      {"quats", &grads.quats},
      {"opacity_logits", &grads.opacity_logits},
      {"sh", &grads.sh}};
  for (const auto& [name, v] : groups) {
    size_t bad = 0;
    if (!all_finite(*v, bad)) {
      std::ostringstream msg;
      msg << "training diverged at iteration " << iteration_ << ": the gradient of '" << name
          << "' is not finite (Gaussian "
          << bad / std::max<size_t>(1, v->size() / grads.opacity_logits.size()) << ")";
      throw DivergenceError(msg.str(), iteration_, name);
    }
  }
}

void Trainer::apply_densify_result(const DensifyResult& result) {
  if (!result.source.empty()) adam_.resize(result.source);
  for (AdamGroup group : kAdamGroups)
    if (!result.reset_moments.empty() && adam_.initialized())
      adam_.reset_moments(group, result.reset_moments);
  if (result.reset_opacity_moments && adam_.initialized())
    adam_.reset_moments(AdamGroup::kOpacityLogits);
}

// [SECTION] regularisers
// ---------------------------------------------------------------------------
namespace {
constexpr float kDroppedLogit = -30.f;  // opacity ~1e-13: below every alpha threshold
float sigmoidf(float x) { return 1.f / (1.f + std::exp(-x)); }
float logitf(float p) { return std::log(p / (1.f - p)); }
}  // namespace

// Replaces the opacity logits for this step's render (the true ones are kept aside) and returns
// the rate used.
double Trainer::apply_dropout() {
  if (options_.dropout_rate <= 0.f) return 0.0;
  const int ramp = options_.dropout_ramp > 0 ? options_.dropout_ramp : options_.iterations;
  const double rate =
      options_.dropout_rate * std::min(1.0, static_cast<double>(iteration_) / std::max(1, ramp));
  if (rate <= 0.0) return 0.0;
  const size_t n = gaussians_.size();
  kept_logits_ = gaussians_.opacity_logits;
  dropped_.assign(n, 0);
  // One 64-bit draw per Gaussian: deterministic for the seed, stored with the engine's state.
  const uint64_t threshold = static_cast<uint64_t>(rate * 18446744073709551615.0);
  const float compensation = static_cast<float>(1.0 / (1.0 - rate));
  for (size_t i = 0; i < n; ++i) {
    if (rng_() < threshold) {
      dropped_[i] = 1;
      gaussians_.opacity_logits[i] = kDroppedLogit;
    } else {
      gaussians_.opacity_logits[i] = compensated_logit(kept_logits_[i], compensation);
    }
  }
  return rate;
}

// Chains the opacity gradient through the compensation (o' = o / (1 - r), clamped) and restores
// the true logits.
void Trainer::dropout_backward(double rate) {
  if (rate <= 0.0) return;
  const float compensation = static_cast<float>(1.0 / (1.0 - rate));
  for (size_t i = 0; i < gaussians_.size(); ++i) {
    float& g = grads_.opacity_logits[i];
    if (dropped_[i]) {
      g = 0.f;
      continue;
    }
    g = compensated_logit_vjp(kept_logits_[i], compensation, g);
  }
  gaussians_.opacity_logits = kept_logits_;
}

// The loss terms' pruning (e.g. floaters in front of the depth prior) and, without
// densification, the opacity threshold; every prune_every iterations.
int64_t Trainer::prune_after_step() {
  if (iteration_ % options_.prune_every != 0) return 0;
  const size_t n = gaussians_.size();
  std::vector<uint8_t> remove(n, 0);
  bool ran = false;
  for (auto& term : loss_terms_) ran |= term->prune(iteration_, gaussians_, views_, remove);
  if (options_.prune_opacity > 0.f && options_.strategy == DensifyStrategy::None) {
    for (size_t i = 0; i < n; ++i)
      if (sigmoidf(gaussians_.opacity_logits[i]) < options_.prune_opacity) remove[i] = 1;
    ran = true;
  }
  if (!ran) return 0;
  DensifyResult result;
  for (size_t i = 0; i < n; ++i)
    if (!remove[i]) result.source.push_back(static_cast<int64_t>(i));
  const int64_t pruned = static_cast<int64_t>(n - result.source.size());
  // Never prune the model away entirely: a view with nothing in it cannot recover.
  if (pruned == 0 || result.source.empty()) return 0;
  gaussians_ = gather_gaussians(gaussians_, result.source);
  apply_densify_result(result);
  return pruned;
}

std::array<double, 8> StepPhases::values() const {
  std::array<double, 8> v{};
  const auto f = fields_of(*this);
  for (size_t k = 0; k < f.size(); ++k) v[k] = *f[k];
  return v;
}

void StepPhases::set_values(const std::array<double, 8>& v) {
  const auto f = fields_of(*this);
  for (size_t k = 0; k < f.size(); ++k) *f[k] = v[k];
}

double StepPhases::total() const {
  double sum = 0;
  for (double v : values()) sum += v;
  return sum;
}

StepPhases& StepPhases::operator+=(const StepPhases& p) {
  const auto mine = fields_of(*this);
  const auto theirs = fields_of(p);
  for (size_t k = 0; k < mine.size(); ++k) *mine[k] += *theirs[k];
  return *this;
}

StepPhases& StepPhases::operator/=(double n) {
  for (double* f : fields_of(*this)) *f /= n;
  return *this;
}

StepStats Trainer::step() {
  // The whole step, the thread pool's workers included (they take the caller's mode).
  std::optional<FlushDenormalsScope> flush;
  if (options_.flush_denormals) flush.emplace();
  Timer timer;
  // Lap timer: each call charges the time since the previous one to a phase.
  Timer lap_timer;
  StepPhases ph;
  auto lap = [&lap_timer](double& phase) {
    phase += lap_timer.seconds();
    lap_timer.restart();
  };
  ++iteration_;
  StepStats stats;
  stats.iteration = iteration_;
  for (auto& term : loss_terms_) term->before_step(iteration_, gaussians_);
  lap(ph.terms);
  const int vi = next_view();
  const View& view = views_[vi];
  stats.view_index = vi;

  RenderOptions ro = options_.render;
  ro.sh_degree = active_sh_degree();
  stats.active_sh_degree = ro.sh_degree;
  Vec3<float> bg = options_.background;
  if (options_.random_background)
    for (int c = 0; c < 3; ++c) bg[c] = static_cast<float>((rng_() >> 40) * (1.0 / 16777216.0));
  ro.background = bg;

  const double dropout = apply_dropout();
  stats.dropout_rate = dropout;
  // Until dropout_backward restores them, a throw must put the true opacities back.
  struct RestoreLogits {
    Trainer* t;
    bool armed;
    ~RestoreLogits() {
      if (armed) t->gaussians_.opacity_logits = t->kept_logits_;
    }
  } restore{this, dropout > 0.0};
  lap(ph.other);
  rasterizer_->forward(gaussians_, view.camera, ro, render_);
  lap(ph.render_forward);

  // Target: the image, composited over the step's background where a mask says "background".
  const Image<float>* target = &view.image;
  if (!view.mask.empty()) {
    composited_ = view.image;  // reuses the buffer of the last masked step
    for (size_t p = 0; p < composited_.num_pixels(); ++p) {
      const float m = view.mask.data()[p];
      for (int c = 0; c < 3; ++c)
        composited_.data()[3 * p + c] = composited_.data()[3 * p + c] * m + bg[c] * (1.f - m);
    }
    target = &composited_;
  }

  // The RGB gradient is sized and overwritten by the photometric loss. The alpha and depth
  // gradients come from the loss terms only: empty (zero) without terms, else zeroed in place
  // (no per-step allocation either way).
  const int w = view.camera.width, h = view.camera.height;
  for (Image<float>* image : {&v_render_.alpha, &v_render_.depth, &v_render_.median_depth}) {
    if (loss_terms_.empty())
      *image = Image<float>();
    else if (image->width() != w || image->height() != h || image->channels() != 1)
      *image = Image<float>(w, h, 1);
    else
      std::fill(image->vector().begin(), image->vector().end(), 0.f);
  }
  lap(ph.other);
  const PhotometricLoss photo =
      photometric_loss(render_.rgb, *target, options_.dssim_lambda, &v_render_.rgb);
  stats.l1 = photo.l1;
  stats.ssim = photo.ssim;
  stats.loss = photo.loss;
  stats.psnr = psnr_of(render_.rgb, *target);
  lap(ph.photometric);

  // grads_ is sized and overwritten by the rasterizer's backward: no zero fill here.
  GaussianGradients& extra = extra_grads_;
  if (!loss_terms_.empty()) {
    extra.resize_like(gaussians_);  // zeroed: the terms add into it (capacity kept)
    LossContext ctx{iteration_, vi,      &view,         &render_, &gaussians_,
                    &views_,    extent_, options_.seed, &ro};
    for (auto& term : loss_terms_) stats.loss += term->evaluate(ctx, v_render_, extra);
  }
  if (!std::isfinite(stats.loss))
    throw DivergenceError(
        "training diverged at iteration " + std::to_string(iteration_) + ": the loss is not finite",
        iteration_, "loss");
  lap(ph.terms);

  // The densification statistics are added by the backward pass as it writes the 2D-mean
  // gradients (the terms below add none to those).
  rasterizer_->backward(gaussians_, view.camera, ro, v_render_, grads_,
                        adc_ ? adc_->screen_stats() : nullptr);
  lap(ph.render_backward);
  // The terms' parameter gradients are taken at the rendered (dropped-out) opacities too, so
  // they join before the dropout chain rule.
  if (!loss_terms_.empty()) grads_.add_parameter_gradients(extra);
  restore.armed = false;
  dropout_backward(dropout);
  if (mcmc_) stats.loss += mcmc_->add_regularizers(gaussians_, grads_);
  if (options_.opacity_reg > 0.f || options_.scale_reg > 0.f)
    stats.loss += add_opacity_scale_regularizers(gaussians_, options_.opacity_reg,
                                                 options_.scale_reg, extent_, grads_);
  if (options_.needle_reg > 0.f)
    stats.loss +=
        add_needle_regularizer(gaussians_, options_.needle_reg, options_.needle_ratio, grads_);
  check_finite_gradients(grads_);
  lap(ph.gradients);

  // Optimiser step on a copy, so a diverging update leaves the model untouched.
  const float lr_means = means_lr(iteration_);
  GroupLearningRates lr;
  lr.means = lr_means;
  lr.log_scales = options_.lr.scales;
  lr.quats = options_.lr.quats;
  lr.opacity_logits = options_.lr.opacity;
  lr.sh_dc = options_.lr.sh_dc;
  lr.sh_rest = options_.lr.sh_rest;
  std::vector<uint8_t> visible;
  if (options_.visible_adam) {
    visible.resize(gaussians_.size());
    for (size_t i = 0; i < visible.size(); ++i) visible[i] = render_.radii[i] > 0;
  }
  lap(ph.other);
  // SH bands the ramp-up has not reached yet have zero gradients and moments: Adam skips them.
  const AdamStepResult updated =
      adam_.step(gaussians_, grads_, lr, options_.visible_adam ? &visible : nullptr,
                 sh_coeffs_for_degree(ro.sh_degree));
  if (!updated.finite) {
    std::ostringstream msg;
    msg << "training diverged at iteration " << iteration_ << ": parameter group '"
        << adam_group_name(updated.group) << "' became NaN or infinite (Gaussian "
        << updated.gaussian << ")";
    throw DivergenceError(msg.str(), iteration_, adam_group_name(updated.group));
  }
  lap(ph.adam);

  DensifyResult dr;
  if (adc_) dr = adc_->step(iteration_, gaussians_, rng_);
  if (mcmc_) dr = mcmc_->step(iteration_, lr_means, gaussians_, rng_);
  apply_densify_result(dr);
  stats.densify = dr.stats;
  if (options_.opacity_decay < 1.f &&
      (options_.opacity_decay_until == 0 || iteration_ <= options_.opacity_decay_until))
    for (float& l : gaussians_.opacity_logits)
      l = logitf(std::max(sigmoidf(l) * options_.opacity_decay, 1e-7f));
  stats.pruned = prune_after_step();
  stats.num_gaussians = static_cast<int64_t>(gaussians_.size());
  lap(ph.densify);
  stats.phases = ph;
  stats.seconds = timer.seconds();
  return stats;
}

// [SECTION] checkpoints ---------------------------------------------------------------------------
void Trainer::save_checkpoint(std::ostream& sink, const std::string& metadata) const {
  Crc32WriteBuffer buffer(sink.rdbuf());
  std::ostream out(&buffer);
  out.write(kCheckpointMagic, sizeof(kCheckpointMagic));
  write_pod(out, kCheckpointVersion);
  write_string(out, metadata);
  write_pod(out, static_cast<int32_t>(iteration_));
  std::ostringstream rng_state;
  rng_state << rng_;
  write_string(out, rng_state.str());
  write_pod(out, static_cast<uint64_t>(view_stack_.size()));
  for (int v : view_stack_) write_pod(out, static_cast<int32_t>(v));
  write_pod(out, static_cast<int32_t>(gaussians_.sh_degree));
  write_floats(out, gaussians_.means);
  write_floats(out, gaussians_.log_scales);
  write_floats(out, gaussians_.quats);
  write_floats(out, gaussians_.opacity_logits);
  write_floats(out, gaussians_.sh);
  adam_.save(out);
  const uint8_t has_adc = adc_ != nullptr;
  write_pod(out, has_adc);
  if (adc_) adc_->save(out);
  std::vector<const LossTerm*> stateful;
  for (const auto& term : loss_terms_)
    if (term->has_state()) stateful.push_back(term.get());
  write_pod(out, static_cast<uint32_t>(stateful.size()));
  for (const LossTerm* term : stateful) {
    write_string(out, term->name());
    std::ostringstream state;
    term->save_state(state);
    write_string(out, state.str());
  }
  GLIMPSE_CHECK(out) << "checkpoint: write failed";
  const uint32_t crc = buffer.crc();
  const char trailer[4] = {static_cast<char>(crc & 0xff), static_cast<char>((crc >> 8) & 0xff),
                           static_cast<char>((crc >> 16) & 0xff), static_cast<char>(crc >> 24)};
  sink.write(trailer, 4);
  GLIMPSE_CHECK(sink) << "checkpoint: write failed";
}

namespace {

// The fields after the magic and version: the metadata and the iteration.
CheckpointHeader read_header_fields(std::istream& in, const std::string& what) {
  CheckpointHeader header;
  header.metadata = read_string(in, what, "metadata");
  int32_t iteration = 0;
  read_pod(in, iteration, what, "iteration");
  GLIMPSE_CHECK(iteration >= 0) << what << ": negative iteration";
  header.iteration = iteration;
  return header;
}

}  // namespace

CheckpointHeader read_checkpoint_header(std::istream& in, const std::string& what) {
  verify_checkpoint_crc(in, what);  // magic and version checked too
  return read_header_fields(in, what);
}

std::string Trainer::load_checkpoint(std::istream& in, const std::string& what) {
  const std::istream::pos_type start = in.tellg();
  const uint64_t payload = verify_checkpoint_crc(in, what);  // magic and version checked too
  CheckpointHeader header = read_header_fields(in, what);
  const int iteration = header.iteration;
  std::istringstream rng_state(read_string(in, what, "random state"));
  std::mt19937_64 rng;
  rng_state >> rng;
  GLIMPSE_CHECK(!rng_state.fail()) << what << ": corrupt random state";
  uint64_t stack_size = 0;
  read_pod(in, stack_size, what, "view order");
  GLIMPSE_CHECK(stack_size <= views_.size())
      << what << ": checkpoint has " << stack_size << " pending views but the run has "
      << views_.size() << " training views";
  std::vector<int> stack(stack_size);
  for (auto& v : stack) {
    int32_t x = 0;
    read_pod(in, x, what, "view order");
    GLIMPSE_CHECK(x >= 0 && static_cast<size_t>(x) < views_.size())
        << what << ": view index " << x << " out of range";
    v = x;
  }
  Gaussians g;
  int32_t degree = 0;
  read_pod(in, degree, what, "SH degree");
  g.sh_degree = degree;
  read_floats(in, g.means, what, "means");
  read_floats(in, g.log_scales, what, "log_scales");
  read_floats(in, g.quats, what, "quats");
  read_floats(in, g.opacity_logits, what, "opacity_logits");
  read_floats(in, g.sh, what, "sh");
  g.check(what);
  GLIMPSE_CHECK(g.sh_degree == options_.sh_degree)
      << what << ": checkpoint SH degree " << g.sh_degree << " differs from the configured "
      << options_.sh_degree;
  Adam adam(options_.adam);
  uint8_t has_adc = 0;
  std::vector<std::string> term_states;
  try {
    adam.load(in);
    read_pod(in, has_adc, what, "densification flag");
    GLIMPSE_CHECK(static_cast<bool>(has_adc) == (adc_ != nullptr))
        << "checkpoint densification strategy differs from the configured one";
    if (adc_) adc_->load(in, g.size());
    std::vector<LossTerm*> stateful;
    for (const auto& term : loss_terms_)
      if (term->has_state()) stateful.push_back(term.get());
    uint32_t num_terms = 0;
    read_pod(in, num_terms, what, "loss terms");
    GLIMPSE_CHECK(num_terms == stateful.size())
        << "the checkpoint holds the state of " << num_terms << " loss term(s), the run has "
        << stateful.size() << " (it was written with other priors)";
    for (const LossTerm* term : stateful) {
      const std::string name = read_string(in, what, "loss term name");
      GLIMPSE_CHECK(name == term->name()) << "the checkpoint holds the state of the loss term '"
                                          << name << "', the run has '" << term->name() << "'";
      term_states.push_back(read_string(in, what, "loss term state"));
    }
    GLIMPSE_CHECK(static_cast<uint64_t>(in.tellg() - start) == payload)
        << "the checkpoint has " << payload - static_cast<uint64_t>(in.tellg() - start)
        << " bytes of unknown data after its last field";
    for (size_t k = 0; k < stateful.size(); ++k) {
      std::istringstream state(term_states[k]);
      stateful[k]->load_state(state, what + " (" + stateful[k]->name() + ")");
    }
  } catch (const Error& e) {
    const std::string message = error_message_without_location(e.what());
    throw Error(message.rfind(what, 0) == 0 ? message : what + ": " + message);
  }
  // Commit only after everything was read.
  iteration_ = iteration;
  rng_ = rng;
  view_stack_ = std::move(stack);
  gaussians_ = std::move(g);
  adam_ = std::move(adam);
  return std::move(header.metadata);
}

}  // namespace glimpse
