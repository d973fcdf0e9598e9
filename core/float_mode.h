// Floating-point mode of the calling thread: flushing subnormal ("denormal") numbers to zero.
//
// Why: late in a sparse-view run many Gaussians carry tiny gradients (the opacity regulariser
// drives opacities towards zero), and Adam's second moments, the blending weights and the
// gradient sums of those Gaussians fall below FLT_MIN. On x86 every arithmetic operation on a
// subnormal operand or result takes a microcode assist of the order of a hundred cycles: on the
// 2-core Xeon of the twelfth session the default configuration's last 1000 steps of fern ran
// 1.6x slower for it (step 300 -> 184 ms, Adam 18 -> 7 ms), with the same test PSNR. Values that
// small change nothing in a render or an update (they are at most 1e-38 of a pixel), so the
// trainer flushes them, as GPUs do by default in graphics code and as -ffast-math would (which
// Glimpse does not use: it would also change the order of the sums).
//
// x86-64 sets MXCSR's FTZ (results) and DAZ (operands) bits; AArch64 sets FPCR.FZ. Elsewhere the
// calls do nothing and flush_denormals_supported() is false. The mode is per thread: ThreadPool
// runs each job's chunks in the mode of the thread that called parallel_for.
#pragma once

#include <cstdint>

namespace glimpse {

// The calling thread's floating-point control word (MXCSR or FPCR); 0 where unsupported.
uint64_t float_control_word();
// Restores a word from float_control_word() on the calling thread.
void set_float_control_word(uint64_t word);
// The calling thread's control word with subnormal flushing switched on or off.
uint64_t with_flush_denormals(uint64_t word, bool on);
// Whether subnormals are flushed on the calling thread now.
bool flush_denormals_enabled();
// Whether this build can flush subnormals at all (x86-64 with SSE, AArch64).
bool flush_denormals_supported();

// Runs in a given control word for the scope's lifetime (ThreadPool uses it to give workers
// the caller's mode), then restores the thread's own. Not movable: it belongs to its thread.
class FloatControlScope {
 public:
  explicit FloatControlScope(uint64_t word) : saved_(float_control_word()) {
    if (word != saved_) set_float_control_word(word);
  }
  ~FloatControlScope() { set_float_control_word(saved_); }
  FloatControlScope(const FloatControlScope&) = delete;
  FloatControlScope& operator=(const FloatControlScope&) = delete;

 private:
  uint64_t saved_;
};

// Flushes subnormals to zero on the calling thread for the scope's lifetime, then restores the
// previous mode (nesting is fine).
class FlushDenormalsScope : public FloatControlScope {
 public:
  FlushDenormalsScope() : FloatControlScope(with_flush_denormals(float_control_word(), true)) {}
};

}  // namespace glimpse
