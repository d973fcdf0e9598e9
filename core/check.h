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
// GLIMPSE_CHECK(x) << "a" << b; reads like a stream. The Error's text is "file:line: message":
// the condition is code, not words for a user, so it only appears when a check carries no message
// (an internal invariant: "internal error: check failed (cond)"). GLIMPSE_CHECK_EQ and friends put
// the compared values after the message: "message (3 vs 4)".
class CheckThrower {
 public:
  CheckThrower(const char* file, int line, const char* condition)
      : condition_(condition != nullptr ? condition : "") {
    location_ << file << ":" << line << ": ";
  }
  CheckThrower(const CheckThrower&) = delete;
  CheckThrower& operator=(const CheckThrower&) = delete;
  ~CheckThrower() noexcept(false) {
    std::string message = stream_.str();
    if (message.empty())
      message = condition_.empty() ? "internal error"
                                   : "internal error: check failed (" + condition_ + ")";
    throw Error(location_.str() + message + values_);
  }
  template <typename V>
  CheckThrower& operator<<(const V& v) {
    stream_ << v;
    return *this;
  }
  template <typename A, typename B>
  CheckThrower& values(const A& a, const B& b) {
    std::ostringstream s;
    s << " (" << a << " vs " << b << ")";
    values_ = s.str();
    return *this;
  }

 private:
  std::string condition_;
  std::ostringstream location_, stream_;
  std::string values_;
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

#define GLIMPSE_CHECK_OP(a, op, b) GLIMPSE_CHECK((a)op(b)).values((a), (b))
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
