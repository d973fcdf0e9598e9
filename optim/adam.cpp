// Adam over Gaussian parameter groups: torch.optim.Adam's update, selective (visible-only) steps
// as Taming 3DGS / gsplat, moment resizing after densification, versioned binary checkpoints.
#include "optim/adam.h"

#include "core/check.h"
#include "core/thread_pool.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <istream>
#include <mutex>
#include <ostream>

namespace glimpse {
namespace {

static_assert(std::endian::native == std::endian::little,
              "Adam checkpoints are stored little-endian");

constexpr int64_t kGaussianGrain = 4096;  // Gaussians per parallel chunk
constexpr char kCheckpointTag[8] = {'G', 'L', 'I', 'M', 'A', 'D', 'A', 'M'};
constexpr char kCheckpointEndTag[8] = {'A', 'D', 'A', 'M', '-', 'E', 'N', 'D'};
constexpr uint32_t kCheckpointVersion = 1;
constexpr uint64_t kMaxCheckpointGaussians = uint64_t{1} << 36;  // sanity bound on a stored count

// Where a group's values live inside the parameter (and gradient) arrays.
struct GroupLayout {
  int64_t stride = 0;  // values per Gaussian in the array
  int64_t offset = 0;  // first value of the group within a Gaussian
};

GroupLayout group_layout(AdamGroup group, int sh_coeffs) {
  switch (group) {
    case AdamGroup::kMeans:
    case AdamGroup::kLogScales:
      return {3, 0};
    case AdamGroup::kQuats:
      return {4, 0};
    case AdamGroup::kOpacityLogits:
      return {1, 0};
    case AdamGroup::kShDc:
      return {3 * int64_t{sh_coeffs}, 0};
    case AdamGroup::kShRest:
      return {3 * int64_t{sh_coeffs}, 3};
  }
  return {};
}

template <typename T>
std::vector<T>& param_array(GaussiansT<T>& g, AdamGroup group) {
  switch (group) {
    case AdamGroup::kMeans:
      return g.means;
    case AdamGroup::kLogScales:
      return g.log_scales;
    case AdamGroup::kQuats:
      return g.quats;
    case AdamGroup::kOpacityLogits:
      return g.opacity_logits;
    case AdamGroup::kShDc:
    case AdamGroup::kShRest:
      return g.sh;
  }
  return g.sh;
}

template <typename T>
const std::vector<T>& grad_array(const GaussianGradientsT<T>& g, AdamGroup group) {
  switch (group) {
    case AdamGroup::kMeans:
      return g.means;
    case AdamGroup::kLogScales:
      return g.log_scales;
    case AdamGroup::kQuats:
      return g.quats;
    case AdamGroup::kOpacityLogits:
      return g.opacity_logits;
    case AdamGroup::kShDc:
    case AdamGroup::kShRest:
      return g.sh;
  }
  return g.sh;
}

// [SECTION] binary I/O --------------------------------------------------------------------------
template <typename V>
void write_pod(std::ostream& out, const V& v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof(V));
}

template <typename V>
V read_pod(std::istream& in, const char* what) {
  V v{};
  in.read(reinterpret_cast<char*>(&v), sizeof(V));
  GLIMPSE_CHECK(in.gcount() == static_cast<std::streamsize>(sizeof(V)))
      << "Adam checkpoint: truncated while reading " << what;
  return v;
}

// Reads `count` scalars in bounded chunks, so a corrupt count fails on truncation instead of
// allocating a huge buffer first.
template <typename T>
std::vector<T> read_array(std::istream& in, uint64_t count, const char* what) {
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  std::vector<T> v;
  uint64_t done = 0;
  while (done < count) {
    const uint64_t take = std::min(kChunk, count - done);
    v.resize(done + take);
    in.read(reinterpret_cast<char*>(v.data() + done),
            static_cast<std::streamsize>(take * sizeof(T)));
    GLIMPSE_CHECK(in.gcount() == static_cast<std::streamsize>(take * sizeof(T)))
        << "Adam checkpoint: truncated while reading " << what << " (" << count
        << " values expected)";
    done += take;
  }
  return v;
}

}  // namespace

const char* adam_group_name(AdamGroup group) {
  switch (group) {
    case AdamGroup::kMeans:
      return "means";
    case AdamGroup::kLogScales:
      return "log_scales";
    case AdamGroup::kQuats:
      return "quats";
    case AdamGroup::kOpacityLogits:
      return "opacity_logits";
    case AdamGroup::kShDc:
      return "sh_dc";
    case AdamGroup::kShRest:
      return "sh_rest";
  }
  return "?";
}

int adam_group_width(AdamGroup group, int sh_coeffs) {
  switch (group) {
    case AdamGroup::kMeans:
    case AdamGroup::kLogScales:
    case AdamGroup::kShDc:
      return 3;
    case AdamGroup::kQuats:
      return 4;
    case AdamGroup::kOpacityLogits:
      return 1;
    case AdamGroup::kShRest:
      return 3 * (sh_coeffs - 1);
  }
  return 0;
}

void AdamOptions::check() const {
  GLIMPSE_CHECK(std::isfinite(beta1) && beta1 >= 0 && beta1 < 1)
      << "Adam: beta1 must be in [0, 1), got " << beta1;
  GLIMPSE_CHECK(std::isfinite(beta2) && beta2 >= 0 && beta2 < 1)
      << "Adam: beta2 must be in [0, 1), got " << beta2;
  GLIMPSE_CHECK(std::isfinite(eps) && eps >= 0) << "Adam: eps must be >= 0, got " << eps;
}

float GroupLearningRates::get(AdamGroup group) const {
  switch (group) {
    case AdamGroup::kMeans:
      return means;
    case AdamGroup::kLogScales:
      return log_scales;
    case AdamGroup::kQuats:
      return quats;
    case AdamGroup::kOpacityLogits:
      return opacity_logits;
    case AdamGroup::kShDc:
      return sh_dc;
    case AdamGroup::kShRest:
      return sh_rest;
  }
  return 0;
}

template <typename T>
AdamT<T>::AdamT(const AdamOptions& options) : options_(options) {
  options_.check();
}

template <typename T>
void AdamT<T>::initialize(size_t n, int sh_coeffs) {
  num_gaussians_ = n;
  sh_coeffs_ = sh_coeffs;
  for (AdamGroup g : kAdamGroups) {
    Group& s = group_state(g);
    s.width = adam_group_width(g, sh_coeffs);
    s.exp_avg.assign(n * s.width, T(0));
    s.exp_avg_sq.assign(n * s.width, T(0));
  }
  initialized_ = true;
}

template <typename T>
void AdamT<T>::clear() {
  *this = AdamT<T>(options_);
}

template <typename T>
AdamStepResult AdamT<T>::step(GaussiansT<T>& params, const GaussianGradientsT<T>& grads,
                              const GroupLearningRates& lr, const std::vector<uint8_t>* visible,
                              int active_sh_coeffs) {
  // Validate everything before touching any state.
  const size_t n = params.size();
  const int k = params.sh_coeffs();
  GLIMPSE_CHECK(params.means.size() == 3 * n && params.log_scales.size() == 3 * n &&
                params.quats.size() == 4 * n && params.sh.size() == 3 * size_t(k) * n)
      << "Adam: parameter arrays disagree on the Gaussian count " << n;
  if (initialized_) {
    GLIMPSE_CHECK(n == num_gaussians_ && k == sh_coeffs_)
        << "Adam: parameters have " << n << " Gaussians with " << k
        << " SH coefficients but the moments have " << num_gaussians_ << " with " << sh_coeffs_
        << " (call Adam::resize after densification)";
  }
  if (visible != nullptr) {
    GLIMPSE_CHECK(visible->size() == n)
        << "Adam: visibility mask has " << visible->size() << " entries for " << n << " Gaussians";
  }
  GLIMPSE_CHECK(active_sh_coeffs == -1 || active_sh_coeffs >= 1)
      << "Adam: active SH coefficients must be >= 1 (or -1: all), got " << active_sh_coeffs;
  const int active_k =
      (active_sh_coeffs < 0 || options_.eps == 0.f) ? k : std::min(k, active_sh_coeffs);

  struct Active {
    AdamGroup group;
    T* param;
    const T* grad;
    T* m;
    T* v;
    GroupLayout layout;
    int width;   // moments per Gaussian
    int update;  // of which the first `update` are updated (fewer for inactive SH bands)
    T neg_step_size, bias2_sqrt;
  };
  std::array<bool, kNumAdamGroups> active{};
  for (AdamGroup g : kAdamGroups) {
    const std::vector<T>& grad = grad_array(grads, g);
    if (grad.empty()) continue;
    GLIMPSE_CHECK(grad.size() == param_array(params, g).size())
        << "Adam: gradient of " << adam_group_name(g) << " has " << grad.size()
        << " values, the parameters " << param_array(params, g).size();
    const float rate = lr.get(g);
    GLIMPSE_CHECK(std::isfinite(rate) && rate >= 0)
        << "Adam: learning rate of " << adam_group_name(g) << " must be >= 0, got " << rate;
    active[static_cast<int>(g)] = true;
  }
  if (!initialized_) initialize(n, k);

  std::vector<Active> work;
  for (AdamGroup g : kAdamGroups) {
    if (!active[static_cast<int>(g)]) continue;
    Group& s = group_state(g);
    ++s.step;
    // torch.optim.Adam (single-tensor path): step_size = lr / (1 - beta1^t),
    // denom = sqrt(v) / sqrt(1 - beta2^t) + eps, computed in double then applied in T.
    const double t = static_cast<double>(s.step);
    const double bias1 = 1.0 - std::pow(static_cast<double>(options_.beta1), t);
    const double bias2 = 1.0 - std::pow(static_cast<double>(options_.beta2), t);
    Active a;
    a.group = g;
    a.param = param_array(params, g).data();
    a.grad = grad_array(grads, g).data();
    a.m = s.exp_avg.data();
    a.v = s.exp_avg_sq.data();
    a.layout = group_layout(g, k);
    a.width = s.width;
    a.update = g == AdamGroup::kShRest ? 3 * (active_k - 1) : s.width;
    a.neg_step_size = static_cast<T>(-(static_cast<double>(lr.get(g)) / bias1));
    a.bias2_sqrt = static_cast<T>(std::sqrt(bias2));
    if (a.update > 0) work.push_back(a);
  }
  AdamStepResult result;
  if (work.empty() || n == 0) return result;

  const T one_minus_beta1 = static_cast<T>(1.0 - static_cast<double>(options_.beta1));
  const T beta2 = static_cast<T>(options_.beta2);
  const T one_minus_beta2 = static_cast<T>(1.0 - static_cast<double>(options_.beta2));
  const T eps = static_cast<T>(options_.eps);
  const uint8_t* vis = visible != nullptr ? visible->data() : nullptr;
  // torch's update of `count` consecutive values; false when one came out NaN or infinite. The
  // arrays do not alias (parameters, gradients and moments are separate vectors), which lets
  // the compiler vectorise the loop.
  auto update = [&](T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                    int64_t count, T neg_step_size, T bias2_sqrt) {
    T check = 0;
    for (int64_t j = 0; j < count; ++j) {
      const T gj = g[j];
      const T mj = m[j] + one_minus_beta1 * (gj - m[j]);      // exp_avg.lerp_(grad, 1 - b1)
      const T vj = v[j] * beta2 + one_minus_beta2 * gj * gj;  // mul_(b2).addcmul_(g, g, 1-b2)
      const T denom = std::sqrt(vj) / bias2_sqrt + eps;
      const T pj = p[j] + neg_step_size * (mj / denom);  // addcdiv_(m, denom, -step_size)
      m[j] = mj;
      v[j] = vj;
      p[j] = pj;
      check += pj * T(0);  // NaN exactly when some pj is NaN or infinite
    }
    return check == T(0);
  };
  // First non-finite Gaussian per group, per chunk (the lowest index wins below).
  std::mutex bad_mutex;
  std::array<int64_t, kNumAdamGroups> bad;
  bad.fill(-1);
  ThreadPool::global().parallel_for(
      static_cast<int64_t>(n), kGaussianGrain, [&](int64_t begin, int64_t end, int) {
        std::array<int64_t, kNumAdamGroups> chunk_bad;
        chunk_bad.fill(-1);
        for (const Active& a : work) {
          const bool contiguous = a.layout.stride == a.width && a.layout.offset == 0;
          int64_t first_bad = -1;
          if (contiguous && vis == nullptr) {
            // One run over the chunk's values; locate the Gaussian only when something is wrong.
            const int64_t w = a.width;
            if (!update(a.param + begin * w, a.grad + begin * w, a.m + begin * w, a.v + begin * w,
                        (end - begin) * w, a.neg_step_size, a.bias2_sqrt)) {
              for (int64_t i = begin; i < end && first_bad < 0; ++i)
                for (int64_t j = 0; j < w; ++j)
                  if (!std::isfinite(a.param[i * w + j])) first_bad = i;
            }
          } else {
            for (int64_t i = begin; i < end; ++i) {
              if (vis != nullptr && vis[i] == 0) continue;
              const int64_t p = i * a.layout.stride + a.layout.offset;
              if (!update(a.param + p, a.grad + p, a.m + i * a.width, a.v + i * a.width, a.update,
                          a.neg_step_size, a.bias2_sqrt) &&
                  first_bad < 0)
                first_bad = i;
            }
          }
          chunk_bad[static_cast<int>(a.group)] = first_bad;
        }
        bool any = false;
        for (int64_t b : chunk_bad) any |= b >= 0;
        if (!any) return;
        std::lock_guard<std::mutex> lock(bad_mutex);
        for (int g = 0; g < kNumAdamGroups; ++g)
          if (chunk_bad[g] >= 0 && (bad[g] < 0 || chunk_bad[g] < bad[g])) bad[g] = chunk_bad[g];
      });
  for (AdamGroup g : kAdamGroups) {
    if (bad[static_cast<int>(g)] < 0) continue;
    result.finite = false;
    result.group = g;
    result.gaussian = bad[static_cast<int>(g)];
    break;
  }
  return result;
}

template <typename T>
void AdamT<T>::resize(const std::vector<int64_t>& source_index) {
  if (!initialized_) return;
  const int64_t old_n = static_cast<int64_t>(num_gaussians_);
  for (size_t k = 0; k < source_index.size(); ++k)
    GLIMPSE_CHECK(source_index[k] < old_n)
        << "Adam::resize: source index " << source_index[k] << " of new Gaussian " << k
        << " is out of range (" << old_n << " Gaussians)";
  const int64_t new_n = static_cast<int64_t>(source_index.size());
  for (AdamGroup g : kAdamGroups) {
    Group& s = group_state(g);
    const int w = s.width;
    std::vector<T> m(new_n * w), v(new_n * w);
    ThreadPool::global().parallel_for(new_n, kGaussianGrain, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t src = source_index[i];
        for (int j = 0; j < w; ++j) {
          m[i * w + j] = src >= 0 ? s.exp_avg[src * w + j] : T(0);
          v[i * w + j] = src >= 0 ? s.exp_avg_sq[src * w + j] : T(0);
        }
      }
    });
    s.exp_avg.swap(m);
    s.exp_avg_sq.swap(v);
  }
  num_gaussians_ = static_cast<size_t>(new_n);
}

template <typename T>
void AdamT<T>::reset_moments(AdamGroup group) {
  Group& s = group_state(group);
  std::fill(s.exp_avg.begin(), s.exp_avg.end(), T(0));
  std::fill(s.exp_avg_sq.begin(), s.exp_avg_sq.end(), T(0));
}

template <typename T>
void AdamT<T>::reset_moments(AdamGroup group, const std::vector<int64_t>& indices) {
  if (!initialized_) return;
  const int64_t n = static_cast<int64_t>(num_gaussians_);
  for (int64_t i : indices)
    GLIMPSE_CHECK(i >= 0 && i < n)
        << "Adam::reset_moments: index " << i << " out of range (" << n << " Gaussians)";
  Group& s = group_state(group);
  for (int64_t i : indices) {
    std::fill_n(s.exp_avg.begin() + i * s.width, s.width, T(0));
    std::fill_n(s.exp_avg_sq.begin() + i * s.width, s.width, T(0));
  }
}

// Layout (version 1): tag[8], u32 version, u32 sizeof(T), f32 beta1, beta2, eps, u8 initialized,
// u64 num_gaussians, i32 sh_coeffs, then per group in AdamGroup order: i64 step, i32 width,
// exp_avg[N * width], exp_avg_sq[N * width] (T); end tag[8].
template <typename T>
void AdamT<T>::save(std::ostream& out) const {
  out.write(kCheckpointTag, sizeof(kCheckpointTag));
  write_pod(out, kCheckpointVersion);
  write_pod(out, static_cast<uint32_t>(sizeof(T)));
  write_pod(out, options_.beta1);
  write_pod(out, options_.beta2);
  write_pod(out, options_.eps);
  write_pod(out, static_cast<uint8_t>(initialized_ ? 1 : 0));
  write_pod(out, static_cast<uint64_t>(num_gaussians_));
  write_pod(out, static_cast<int32_t>(sh_coeffs_));
  for (const Group& s : groups_) {
    write_pod(out, static_cast<int64_t>(s.step));
    write_pod(out, static_cast<int32_t>(s.width));
    out.write(reinterpret_cast<const char*>(s.exp_avg.data()),
              static_cast<std::streamsize>(s.exp_avg.size() * sizeof(T)));
    out.write(reinterpret_cast<const char*>(s.exp_avg_sq.data()),
              static_cast<std::streamsize>(s.exp_avg_sq.size() * sizeof(T)));
  }
  out.write(kCheckpointEndTag, sizeof(kCheckpointEndTag));
  GLIMPSE_CHECK(out.good()) << "Adam checkpoint: write failed";
}

template <typename T>
void AdamT<T>::load(std::istream& in) {
  char tag[8] = {};
  in.read(tag, sizeof(tag));
  GLIMPSE_CHECK(in.gcount() == sizeof(tag)) << "Adam checkpoint: truncated while reading the tag";
  GLIMPSE_CHECK(std::memcmp(tag, kCheckpointTag, sizeof(tag)) == 0)
      << "Adam checkpoint: not an Adam state (wrong tag)";
  const auto version = read_pod<uint32_t>(in, "the version");
  GLIMPSE_CHECK(version == kCheckpointVersion)
      << "Adam checkpoint: version " << version << " is not supported (expected "
      << kCheckpointVersion << ")";
  const auto scalar = read_pod<uint32_t>(in, "the scalar size");
  GLIMPSE_CHECK(scalar == sizeof(T)) << "Adam checkpoint: stored with " << scalar
                                     << "-byte scalars, this optimiser uses " << sizeof(T);
  AdamT<T> loaded;
  loaded.options_.beta1 = read_pod<float>(in, "beta1");
  loaded.options_.beta2 = read_pod<float>(in, "beta2");
  loaded.options_.eps = read_pod<float>(in, "eps");
  loaded.options_.check();
  const auto initialized = read_pod<uint8_t>(in, "the initialised flag");
  GLIMPSE_CHECK(initialized <= 1) << "Adam checkpoint: bad initialised flag " << int{initialized};
  loaded.initialized_ = initialized == 1;
  const auto n = read_pod<uint64_t>(in, "the Gaussian count");
  GLIMPSE_CHECK(n <= kMaxCheckpointGaussians)
      << "Adam checkpoint: implausible Gaussian count " << n;
  const auto sh_coeffs = read_pod<int32_t>(in, "the SH coefficient count");
  GLIMPSE_CHECK(sh_coeffs == 0 || (sh_coeffs >= 1 && sh_coeffs <= kMaxShCoeffs))
      << "Adam checkpoint: bad SH coefficient count " << sh_coeffs;
  GLIMPSE_CHECK(loaded.initialized_ || (n == 0 && sh_coeffs == 0))
      << "Adam checkpoint: an uninitialised state must be empty";
  loaded.num_gaussians_ = static_cast<size_t>(n);
  loaded.sh_coeffs_ = sh_coeffs;
  for (AdamGroup g : kAdamGroups) {
    Group& s = loaded.group_state(g);
    s.step = read_pod<int64_t>(in, "a step count");
    GLIMPSE_CHECK(s.step >= 0) << "Adam checkpoint: negative step count of " << adam_group_name(g);
    s.width = read_pod<int32_t>(in, "a group width");
    const int expected = loaded.initialized_ ? adam_group_width(g, sh_coeffs) : 0;
    GLIMPSE_CHECK(s.width == expected)
        << "Adam checkpoint: group " << adam_group_name(g) << " has width " << s.width
        << ", expected " << expected << " for " << sh_coeffs << " SH coefficients";
    const uint64_t count = n * static_cast<uint64_t>(s.width);
    s.exp_avg = read_array<T>(in, count, adam_group_name(g));
    s.exp_avg_sq = read_array<T>(in, count, adam_group_name(g));
  }
  char end_tag[8] = {};
  in.read(end_tag, sizeof(end_tag));
  GLIMPSE_CHECK(in.gcount() == sizeof(end_tag) &&
                std::memcmp(end_tag, kCheckpointEndTag, sizeof(end_tag)) == 0)
      << "Adam checkpoint: missing end tag (truncated or corrupt)";
  *this = std::move(loaded);
}

template class AdamT<float>;
template class AdamT<double>;

}  // namespace glimpse
