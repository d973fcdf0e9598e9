// Subnormal flushing (core/float_mode.h): the scope switches it on and restores the previous
// mode, and a ThreadPool job runs every chunk in its caller's mode.
#include "core/float_mode.h"

#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <chrono>
#include <thread>
#include <vector>

namespace glimpse {
namespace {

// FLT_MIN * 2^-3 computed at run time: a subnormal under IEEE gradual underflow, zero when
// results are flushed. `volatile` keeps the compiler from folding it.
float tiny_product() {
  volatile float a = FLT_MIN;
  volatile float b = 0.125f;
  return a * b;
}

// A subnormal operand: under DAZ it reads as zero, so the sum is exactly 0 too.
float subnormal_plus_zero() {
  volatile float bits_min = 1e-45f;  // the smallest subnormal
  volatile float zero = 0.f;
  return bits_min + zero;
}

TEST(FloatMode, ScopeFlushesAndRestores) {
  if (!flush_denormals_supported()) GTEST_SKIP() << "no subnormal flushing on this target";
  ASSERT_FALSE(flush_denormals_enabled()) << "the test process starts in IEEE mode";
  EXPECT_EQ(tiny_product(), FLT_MIN / 8.f);
  EXPECT_GT(subnormal_plus_zero(), 0.f);
  const uint64_t before = float_control_word();
  {
    FlushDenormalsScope flush;
    EXPECT_TRUE(flush_denormals_enabled());
    EXPECT_EQ(tiny_product(), 0.f);
    EXPECT_EQ(subnormal_plus_zero(), 0.f);
    {
      FlushDenormalsScope nested;
      EXPECT_EQ(tiny_product(), 0.f);
    }
    EXPECT_TRUE(flush_denormals_enabled()) << "the inner scope restores the outer one's mode";
    // Normal numbers are untouched.
    volatile float x = 3.f;
    EXPECT_EQ(x * 0.5f, 1.5f);
  }
  EXPECT_EQ(float_control_word(), before);
  EXPECT_FALSE(flush_denormals_enabled());
  EXPECT_EQ(tiny_product(), FLT_MIN / 8.f);
}

TEST(FloatMode, WithFlushDenormalsSetsAndClearsOnlyItsBits) {
  if (!flush_denormals_supported()) GTEST_SKIP() << "no subnormal flushing on this target";
  const uint64_t word = float_control_word();
  const uint64_t on = with_flush_denormals(word, true);
  EXPECT_NE(on, word);
  EXPECT_EQ(with_flush_denormals(on, false), word);
  EXPECT_EQ(with_flush_denormals(on, true), on);
}

// Each chunk writes what it computed; with the caller flushing, every chunk (on any worker)
// gets zero, and without it every chunk gets the subnormal, for 1 to 4 threads. The workers
// were started in IEEE mode, so only the pool's hand-over can make them flush. The calling
// thread waits in its first chunk until a worker has taken one, so the workers do take part.
TEST(FloatMode, ThreadPoolJobsRunInTheCallersMode) {
  if (!flush_denormals_supported()) GTEST_SKIP() << "no subnormal flushing on this target";
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    for (const bool flush : {true, false, true}) {
      std::vector<float> out(256, -1.f);
      std::vector<int> by(256, -1);
      std::atomic<bool> worker_ran{false};
      {
        const uint64_t saved = float_control_word();
        set_float_control_word(with_flush_denormals(saved, flush));
        pool.parallel_for(static_cast<int64_t>(out.size()), 1, [&](int64_t b, int64_t e, int t) {
          if (t != 0) worker_ran = true;
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (t == 0 && threads > 1 && !worker_ran &&
                 std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
          for (int64_t i = b; i < e; ++i) {
            out[i] = tiny_product();
            by[i] = t;
          }
        });
        set_float_control_word(saved);
      }
      for (size_t i = 0; i < out.size(); ++i)
        ASSERT_EQ(out[i], flush ? 0.f : FLT_MIN / 8.f)
            << "item " << i << " on thread " << by[i] << " of " << threads << ", flush " << flush;
      EXPECT_FALSE(flush_denormals_enabled()) << "the caller's mode is its own again";
      if (threads > 1) {
        EXPECT_TRUE(worker_ran) << "no worker took part with " << threads;
      }
    }
  }
}

}  // namespace
}  // namespace glimpse
