// Build and machine information (see info.h). The GLIMPSE_* macros come from app/CMakeLists.txt.
#include "app/info.h"

#include "core/thread_pool.h"
#include "renderer/rasterizer.h"

#include <exception>
#include <sstream>

#ifndef GLIMPSE_VERSION
#define GLIMPSE_VERSION "unknown"
#endif
#ifndef GLIMPSE_BUILD_TYPE
#define GLIMPSE_BUILD_TYPE "unknown"
#endif
#ifndef GLIMPSE_CPU_ARCH_NAME
#define GLIMPSE_CPU_ARCH_NAME ""
#endif
#ifndef GLIMPSE_CUDA_BUILT
#define GLIMPSE_CUDA_BUILT 0
#endif

namespace glimpse {

const char* glimpse_version() { return GLIMPSE_VERSION; }

namespace {
std::string compiler_name() {
  std::ostringstream s;
#if defined(__clang__)
  s << "clang " << __clang_major__ << "." << __clang_minor__ << "." << __clang_patchlevel__;
#elif defined(__GNUC__)
  s << "gcc " << __GNUC__ << "." << __GNUC_MINOR__ << "." << __GNUC_PATCHLEVEL__;
#else
  s << "unknown";
#endif
  return s.str();
}

bool cuda_available_no_throw() {
  try {
    return cuda_backend_available();
  } catch (const std::exception&) {
    return false;
  }
}
}  // namespace

nlohmann::json build_info_json() {
  const std::string arch = GLIMPSE_CPU_ARCH_NAME;
  return {{"version", glimpse_version()},
          {"build_type", GLIMPSE_BUILD_TYPE},
          {"compiler", compiler_name()},
          {"cpu_arch", arch.empty() ? "compiler default" : arch},
          {"cuda_built", GLIMPSE_CUDA_BUILT != 0},
          {"cuda_available", cuda_available_no_throw()},
          {"hardware_threads", hardware_threads()}};
}

std::string build_info_text() {
  const nlohmann::json info = build_info_json();
  std::ostringstream s;
  s << "glimpse " << info["version"].get<std::string>() << "\n";
  s << "  build type:        " << info["build_type"].get<std::string>() << "\n";
  s << "  compiler:          " << info["compiler"].get<std::string>() << "\n";
  s << "  CPU instructions:  " << info["cpu_arch"].get<std::string>() << "\n";
  s << "  CPU backend:       built, " << info["hardware_threads"].get<int>()
    << " hardware thread(s)\n";
  s << "  CUDA backend:      " << (info["cuda_built"].get<bool>() ? "built" : "not built") << ", "
    << (info["cuda_available"].get<bool>() ? "a CUDA device is available" : "no usable device")
    << "\n";
  return s.str();
}

}  // namespace glimpse
