// Persistent worker threads with dynamic chunking for parallel loops.
#include "core/thread_pool.h"

#include "core/float_mode.h"

#include <algorithm>

namespace glimpse {
namespace {
thread_local bool tl_inside_pool = false;
}

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool::ThreadPool(int num_threads) {
  const int total = num_threads > 0 ? num_threads : hardware_threads();
  workers_.reserve(total - 1);
  for (int t = 1; t < total; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(0);
  return pool;
}

void ThreadPool::run_chunks(int thread) {
  // The caller's floating-point mode (subnormal flushing) holds for every chunk of its job,
  // whichever thread runs it: results do not depend on the thread count or the schedule.
  const FloatControlScope float_mode(float_word_);
  const bool was_inside = tl_inside_pool;
  tl_inside_pool = true;
  for (;;) {
    const int64_t begin = next_.fetch_add(grain_);
    if (begin >= n_) break;
    const int64_t end = std::min(n_, begin + grain_);
    try {
      (*fn_)(begin, end, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      next_ = n_;  // stop handing out work
    }
  }
  tl_inside_pool = was_inside;
}

void ThreadPool::worker_loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunks(thread);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (workers_.empty() || tl_inside_pool || n <= grain) {
    for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain), 0);
    return;
  }
  std::lock_guard<std::mutex> call_lock(call_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    n_ = n;
    grain_ = grain;
    next_ = 0;
    float_word_ = float_control_word();
    error_ = nullptr;
    active_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  run_chunks(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return active_ == 0; });
    fn_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace glimpse
