// Back-to-front ordering of the splats for the display, on a thread of its own: the UI thread
// posts the newest camera, the sorter radix-sorts the splat indices by view depth and hands the
// order back; meanwhile the UI keeps drawing with the last order it got.
#pragma once

#include "core/math.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace glimpse::viewer {

// Indices of `n` points ([n, 3] in `means`) ordered by decreasing depth along `forward` from
// `eye` (farthest first, for "over" blending); ties keep index order. `keys` and `scratch` are
// reusable buffers.
void sort_back_to_front(const float* means, size_t n, const Vec3<float>& eye,
                        const Vec3<float>& forward, std::vector<uint32_t>& order,
                        std::vector<uint32_t>& keys, std::vector<uint32_t>& scratch);

class DepthSorter {
 public:
  struct Result {
    std::vector<uint32_t> order;  // indices into the points of `generation`
    uint64_t generation = 0;
    Vec3<float> eye, forward;  // the camera it was sorted for
    double milliseconds = 0;   // time of the sort
  };

  DepthSorter();
  ~DepthSorter();  // stops and joins the thread
  DepthSorter(const DepthSorter&) = delete;
  DepthSorter& operator=(const DepthSorter&) = delete;

  // New points ([N, 3]) under a new generation number; orders of older generations are dropped.
  void set_points(std::shared_ptr<const std::vector<float>> means, uint64_t generation);
  // Asks for the order seen from `eye` along `forward` (unit); only the newest request is kept.
  void request(const Vec3<float>& eye, const Vec3<float>& forward);
  // The newest order finished since the last call, for the current generation; null otherwise.
  std::shared_ptr<const Result> take();
  // Waits until no request is pending and the sorter is idle (benchmarks, tests).
  void wait_idle();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::shared_ptr<const std::vector<float>> means_;
  uint64_t generation_ = 0;
  std::optional<std::pair<Vec3<float>, Vec3<float>>> pending_;
  std::shared_ptr<const Result> result_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace glimpse::viewer
