// GPU memory as RAII (ARCHITECTURE.md rule 9) without CUDA headers: DeviceBuffer<T> is move-only,
// uploads and downloads are explicit and ordered on an explicit stream, and resize_discard() only
// reallocates when a buffer must grow, so scratch is reused across calls.
#pragma once

#include "core/check.h"

#include <cstddef>
#include <utility>
#include <vector>

// cudaStream_t is `CUstream_st*`; naming the struct keeps cuda_runtime.h out of this header.
struct CUstream_st;

namespace glimpse::gpu {

using Stream = CUstream_st*;

// Thrown when the device has no memory left for an allocation (callers add what was rendered).
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

namespace detail {
// cudaMalloc; throws OutOfMemory (or Error for other CUDA failures) naming `what` and the size.
void* device_alloc(size_t bytes, const char* what);
void device_free(void* ptr) noexcept;
// Ordered on `stream`. Device-to-host copies return when the data has arrived.
void copy_to_device(void* dst, const void* src, size_t bytes, Stream stream);
void copy_to_host(void* dst, const void* src, size_t bytes, Stream stream);
void fill_bytes(void* dst, int value, size_t bytes, Stream stream);
}  // namespace detail

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(const char* what = "device buffer") : what_(what) {}
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept { swap(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      swap(other);
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  size_t bytes() const { return size_ * sizeof(T); }

  // Sets the size to n elements. Contents are undefined afterwards when the buffer had to grow
  // (then it reallocates with 1/8 headroom, so slowly growing scenes do not reallocate each call).
  void resize_discard(size_t n) {
    if (n > capacity_) {
      release();
      const size_t cap = n + n / 8;
      data_ = static_cast<T*>(detail::device_alloc(cap * sizeof(T), what_));
      capacity_ = cap;
    }
    size_ = n;
  }
  void release() {
    detail::device_free(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  // Resizes to n and copies n host elements in.
  void upload(const T* src, size_t n, Stream stream) {
    resize_discard(n);
    if (n > 0) detail::copy_to_device(data_, src, n * sizeof(T), stream);
  }
  void upload(const std::vector<T>& src, Stream stream) { upload(src.data(), src.size(), stream); }
  // Copies the first n elements out (n <= size()).
  void download(T* dst, size_t n, Stream stream) const {
    GLIMPSE_CHECK_LE(n, size_) << "download of " << what_ << " past its end";
    if (n > 0) detail::copy_to_host(dst, data_, n * sizeof(T), stream);
  }
  // Copies elements [offset, offset + n) out.
  void download_range(T* dst, size_t offset, size_t n, Stream stream) const {
    GLIMPSE_CHECK_LE(offset + n, size_) << "download of " << what_ << " past its end";
    if (n > 0) detail::copy_to_host(dst, data_ + offset, n * sizeof(T), stream);
  }
  std::vector<T> download(Stream stream) const {
    std::vector<T> out(size_);
    download(out.data(), size_, stream);
    return out;
  }
  // Sets every byte of the current size to `value` (0: zeros, 0xFF: -1 for integers).
  void fill_bytes(int value, Stream stream) {
    if (size_ > 0) detail::fill_bytes(data_, value, bytes(), stream);
  }

 private:
  void swap(DeviceBuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    std::swap(what_, other.what_);
  }

  T* data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
  const char* what_ = "device buffer";
};

}  // namespace glimpse::gpu
