// The splat display's depth sorter (see depth_sorter.h): an LSD radix sort on 32-bit keys.
#include "app/viewer/depth_sorter.h"

#include "core/timer.h"

#include <cstring>

namespace glimpse::viewer {

namespace {

// Order-preserving map of a float to an unsigned integer, inverted so that larger depths come
// first in ascending key order.
uint32_t far_first_key(float depth) {
  uint32_t bits;
  std::memcpy(&bits, &depth, sizeof bits);
  bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);  // ascending with depth
  return ~bits;
}

}  // namespace

void sort_back_to_front(const float* means, size_t n, const Vec3<float>& eye,
                        const Vec3<float>& forward, std::vector<uint32_t>& order,
                        std::vector<uint32_t>& keys, std::vector<uint32_t>& scratch) {
  order.resize(n);
  keys.resize(n);
  scratch.resize(2 * n);  // keys and indices of the other buffer
  for (size_t i = 0; i < n; ++i) {
    const float d = (means[3 * i] - eye.x) * forward.x + (means[3 * i + 1] - eye.y) * forward.y +
                    (means[3 * i + 2] - eye.z) * forward.z;
    keys[i] = far_first_key(d == d ? d : 0.f);
    order[i] = static_cast<uint32_t>(i);
  }
  // Three passes of 11 bits; a stable counting sort each, ping-ponging between the buffers.
  uint32_t* key_in = keys.data();
  uint32_t* idx_in = order.data();
  uint32_t* key_out = scratch.data();
  uint32_t* idx_out = scratch.data() + n;
  constexpr int kBits = 11;
  constexpr uint32_t kMask = (1u << kBits) - 1;
  std::vector<uint32_t> count(size_t{1} << kBits);
  for (int shift = 0; shift < 32; shift += kBits) {
    std::fill(count.begin(), count.end(), 0u);
    for (size_t i = 0; i < n; ++i) ++count[(key_in[i] >> shift) & kMask];
    uint32_t sum = 0;
    for (uint32_t& c : count) {
      const uint32_t v = c;
      c = sum;
      sum += v;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint32_t slot = count[(key_in[i] >> shift) & kMask]++;
      key_out[slot] = key_in[i];
      idx_out[slot] = idx_in[i];
    }
    std::swap(key_in, key_out);
    std::swap(idx_in, idx_out);
  }
  // Three passes: the result sits in the scratch buffer.
  if (idx_in != order.data()) std::memcpy(order.data(), idx_in, n * sizeof(uint32_t));
}

DepthSorter::DepthSorter() : thread_([this] { loop(); }) {}

DepthSorter::~DepthSorter() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DepthSorter::set_points(std::shared_ptr<const std::vector<float>> means, uint64_t generation) {
  const std::lock_guard lock(mutex_);
  means_ = std::move(means);
  generation_ = generation;
  if (result_ && result_->generation != generation_) result_.reset();
}

void DepthSorter::request(const Vec3<float>& eye, const Vec3<float>& forward) {
  {
    const std::lock_guard lock(mutex_);
    pending_.emplace(eye, forward);
  }
  wake_.notify_one();
}

std::shared_ptr<const DepthSorter::Result> DepthSorter::take() {
  const std::lock_guard lock(mutex_);
  std::shared_ptr<const Result> r = std::move(result_);
  result_.reset();
  if (r && r->generation != generation_) return nullptr;
  return r;
}

void DepthSorter::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return !busy_ && (!pending_ || !means_); });
}

void DepthSorter::loop() {
  std::vector<uint32_t> keys, scratch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || (pending_ && means_); });
    if (stop_) return;
    const auto [eye, forward] = *pending_;
    pending_.reset();
    const std::shared_ptr<const std::vector<float>> means = means_;
    const uint64_t generation = generation_;
    busy_ = true;
    lock.unlock();

    auto result = std::make_shared<Result>();
    const Timer timer;
    sort_back_to_front(means->data(), means->size() / 3, eye, forward, result->order, keys,
                       scratch);
    result->milliseconds = timer.milliseconds();
    result->generation = generation;
    result->eye = eye;
    result->forward = forward;

    lock.lock();
    busy_ = false;
    if (generation == generation_) result_ = std::move(result);
    if (!pending_) idle_.notify_all();
  }
}

}  // namespace glimpse::viewer
