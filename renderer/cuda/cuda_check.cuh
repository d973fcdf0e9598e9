// Error checking for CUDA runtime calls inside renderer/cuda (private: includes cuda_runtime.h).
#pragma once

#include "core/check.h"
#include "renderer/cuda/device_buffer.h"

#include <cuda_runtime.h>

#include <string>

namespace glimpse::gpu {

// Throws OutOfMemory for cudaErrorMemoryAllocation (clearing it: it is not sticky) and Error with
// the CUDA message for anything else.
inline void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  const std::string where = std::string(file) + ":" + std::to_string(line) + ": ";
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw OutOfMemory(where + expr + ": " + cudaGetErrorString(err));
  }
  throw Error(where + expr + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

}  // namespace glimpse::gpu

#define GLIMPSE_CUDA_CHECK(expr)                                                      \
  do {                                                                                \
    const cudaError_t glimpse_cuda_err_ = (expr);                                     \
    if (glimpse_cuda_err_ != cudaSuccess)                                             \
      ::glimpse::gpu::throw_cuda_error(glimpse_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: reports bad launch configurations without synchronising.
#define GLIMPSE_CUDA_CHECK_LAUNCH() GLIMPSE_CUDA_CHECK(cudaGetLastError())
