// Device allocation and transfers behind DeviceBuffer<T> (device_buffer.h).
#include "renderer/cuda/cuda_check.cuh"
#include "renderer/cuda/device_buffer.h"

#include <cuda_runtime.h>

#include <string>

namespace glimpse::gpu::detail {

void* device_alloc(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* ptr = nullptr;
  const cudaError_t err = cudaMalloc(&ptr, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so later calls do not see it
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    throw OutOfMemory("CUDA out of memory allocating " + std::to_string(bytes >> 20) + " MiB for " +
                      what + " (" + std::to_string(free_bytes >> 20) + " of " +
                      std::to_string(total_bytes >> 20) + " MiB free)");
  }
  if (err != cudaSuccess) throw_cuda_error(err, "cudaMalloc", __FILE__, __LINE__);
  return ptr;
}

void device_free(void* ptr) noexcept {
  if (ptr != nullptr) cudaFree(ptr);
}

void copy_to_device(void* dst, const void* src, size_t bytes, Stream stream) {
  GLIMPSE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
}

void copy_to_host(void* dst, const void* src, size_t bytes, Stream stream) {
  GLIMPSE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
  GLIMPSE_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void fill_bytes(void* dst, int value, size_t bytes, Stream stream) {
  GLIMPSE_CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, stream));
}

}  // namespace glimpse::gpu::detail
