// Checks that throw at module boundaries (I/O, configuration, shapes): GLIMPSE_CHECK(cond) << msg
// throws glimpse::Error carrying file:line, the failed condition and the streamed message
// (the shape of COLMAP's THROW_CHECK and tiny-cuda-nn's CHECK_THROW, without glog).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace glimpse {

// The one exception type Glimpse throws for bad input, bad options and failed invariants.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// Collects a message and throws from its destructor (noexcept(false)), so that
// GLIMPSE_CHECK(x) << "a" << b; reads like a stream.
class CheckThrower {
 public:
  CheckThrower(const char* file, int line, const char* condition) {
    stream_ << file << ":" << line << ": ";
    if (condition != nullptr && condition[0] != '\0')
      stream_ << "check failed (" << condition << "): ";
  }
  CheckThrower(const CheckThrower&) = delete;
  CheckThrower& operator=(const CheckThrower&) = delete;
  ~CheckThrower() noexcept(false) { throw Error(stream_.str()); }
  template <typename V>
  CheckThrower& operator<<(const V& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

}  // namespace detail

// User-facing message of an Error: the text after "file:line: " (the location stays in the log).
std::string error_message_without_location(const std::string& what);

}  // namespace glimpse

#define GLIMPSE_CHECK(cond) \
  if (cond) {               \
  } else                    \
    ::glimpse::detail::CheckThrower(__FILE__, __LINE__, #cond)

// Unconditional failure with a message: GLIMPSE_FAIL() << "unsupported " << x;
#define GLIMPSE_FAIL() ::glimpse::detail::CheckThrower(__FILE__, __LINE__, "")

#define GLIMPSE_CHECK_OP(a, op, b) GLIMPSE_CHECK((a)op(b)) << "(" << (a) << " vs " << (b) << ") "
#define GLIMPSE_CHECK_EQ(a, b) GLIMPSE_CHECK_OP(a, ==, b)
#define GLIMPSE_CHECK_NE(a, b) GLIMPSE_CHECK_OP(a, !=, b)
#define GLIMPSE_CHECK_LT(a, b) GLIMPSE_CHECK_OP(a, <, b)
#define GLIMPSE_CHECK_LE(a, b) GLIMPSE_CHECK_OP(a, <=, b)
#define GLIMPSE_CHECK_GT(a, b) GLIMPSE_CHECK_OP(a, >, b)
#define GLIMPSE_CHECK_GE(a, b) GLIMPSE_CHECK_OP(a, >=, b)

// Hot-loop assertions: compiled out unless GLIMPSE_DEBUG_ASSERTS is defined; never throw.
#if defined(GLIMPSE_DEBUG_ASSERTS)
#include <cassert>
#define GLIMPSE_ASSERT(cond) assert(cond)
#else
#define GLIMPSE_ASSERT(cond) ((void)0)
#endif
