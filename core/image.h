// Image<T>: an owning, interleaved (height x width x channels) image. Colour images in Glimpse are
// float RGB in [0, 1], linear in the stored values (no gamma handling: the metrics of the
// published protocols compare stored sRGB values directly).
#pragma once

#include "core/check.h"

#include <cstddef>
#include <vector>

namespace glimpse {

template <typename T>
class Image {
 public:
  Image() = default;
  Image(int width, int height, int channels, T fill = T{})
      : width_(width), height_(height), channels_(channels) {
    GLIMPSE_CHECK(width >= 0 && height >= 0 && channels > 0)
        << "invalid image shape " << width << "x" << height << "x" << channels;
    data_.assign(static_cast<size_t>(width) * height * channels, fill);
  }

  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  size_t num_pixels() const { return static_cast<size_t>(width_) * height_; }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::vector<T>& vector() { return data_; }
  const std::vector<T>& vector() const { return data_; }

  T& at(int x, int y, int c = 0) {
    return data_[(static_cast<size_t>(y) * width_ + x) * channels_ + c];
  }
  const T& at(int x, int y, int c = 0) const {
    return data_[(static_cast<size_t>(y) * width_ + x) * channels_ + c];
  }

 private:
  int width_ = 0, height_ = 0, channels_ = 0;
  std::vector<T> data_;
};

}  // namespace glimpse
