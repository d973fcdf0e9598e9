// Per-thread subnormal flushing: MXCSR on x86-64, FPCR on AArch64 (see float_mode.h).
#include "core/float_mode.h"

#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__))
#include <xmmintrin.h>
#define GLIMPSE_FLOAT_MODE_X86 1
#elif defined(__aarch64__)
#define GLIMPSE_FLOAT_MODE_ARM64 1
#endif

namespace glimpse {
namespace {
#if defined(GLIMPSE_FLOAT_MODE_X86)
constexpr uint64_t kFlushBits = 0x8000u | 0x0040u;  // MXCSR FTZ (bit 15) | DAZ (bit 6)
#elif defined(GLIMPSE_FLOAT_MODE_ARM64)
constexpr uint64_t kFlushBits = uint64_t{1} << 24;  // FPCR.FZ
#else
constexpr uint64_t kFlushBits = 0;
#endif
}  // namespace

uint64_t float_control_word() {
#if defined(GLIMPSE_FLOAT_MODE_X86)
  return _mm_getcsr();
#elif defined(GLIMPSE_FLOAT_MODE_ARM64)
  uint64_t fpcr = 0;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  return fpcr;
#else
  return 0;
#endif
}

void set_float_control_word(uint64_t word) {
#if defined(GLIMPSE_FLOAT_MODE_X86)
  _mm_setcsr(static_cast<unsigned int>(word));
#elif defined(GLIMPSE_FLOAT_MODE_ARM64)
  __asm__ __volatile__("msr fpcr, %0" : : "r"(word));
#else
  (void)word;
#endif
}

uint64_t with_flush_denormals(uint64_t word, bool on) {
  return on ? (word | kFlushBits) : (word & ~kFlushBits);
}

bool flush_denormals_enabled() {
  return kFlushBits != 0 && (float_control_word() & kFlushBits) == kFlushBits;
}

bool flush_denormals_supported() { return kFlushBits != 0; }

}  // namespace glimpse
