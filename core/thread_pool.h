// A small persistent thread pool with a blocking parallel_for over index ranges.
//
// Why our own and not TBB or OpenMP: core may depend on the C++ standard library only (it must
// build on a bare CUDA machine and under any host compiler nvcc uses); the rasterizer needs an
// explicit thread count per call (benchmarks at 1 and 2 threads, deterministic runs for a given
// count) and a stable thread index for per-thread scratch; and the viewer and the trainer call it
// from different threads, which a process-global OpenMP runtime handles poorly. Work is handed
// out in dynamic chunks through an atomic counter; results that must be deterministic are written
// to per-item slots, never summed in scheduling order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace glimpse {

class ThreadPool {
 public:
  // Range callback: process items [begin, end) on thread `thread` (0 .. num_threads()-1).
  using RangeFn = std::function<void(int64_t begin, int64_t end, int thread)>;

  // num_threads <= 0 uses std::thread::hardware_concurrency(). The calling thread counts as one.
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn over [0, n) in chunks of `grain` items, blocking until all are done. The first
  // exception thrown by fn is rethrown here. Calls from several threads are serialised; a call
  // from inside fn runs serially on the calling thread. Every chunk runs in the caller's
  // floating-point mode (subnormal flushing, core/float_mode.h).
  void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);

  // A process-wide pool with hardware_concurrency() threads.
  static ThreadPool& global();

 private:
  void worker_loop(int thread);
  void run_chunks(int thread);

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int active_ = 0;
  // Current job.
  const RangeFn* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  std::atomic<int64_t> next_{0};
  uint64_t float_word_ = 0;  // the caller's floating-point control word (core/float_mode.h)
  std::exception_ptr error_;
};

// Number of hardware threads (at least 1).
int hardware_threads();

}  // namespace glimpse
