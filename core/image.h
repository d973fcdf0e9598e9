// Image<T>: an owning, interleaved (height x width x channels) image. Colour images in Glimpse are
// float RGB in [0, 1], linear in the stored values (no gamma handling: the metrics of the
// published protocols compare stored sRGB values directly).
#pragma once

#include "core/check.h"

#include <algorithm>
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

// Copies `part` into `into` with its top-left corner at (x0, y0) (figure sheets: panels side by
// side). Throws glimpse::Error when the channel counts differ or `part` does not fit.
template <typename T>
void paste_image(Image<T>& into, const Image<T>& part, int x0, int y0) {
  GLIMPSE_CHECK(part.channels() == into.channels() && x0 >= 0 && y0 >= 0 &&
                x0 + part.width() <= into.width() && y0 + part.height() <= into.height())
      << "paste_image: a " << part.width() << "x" << part.height() << "x" << part.channels()
      << " image does not fit at (" << x0 << ", " << y0 << ") into " << into.width() << "x"
      << into.height() << "x" << into.channels();
  const size_t row = static_cast<size_t>(part.width()) * part.channels();
  for (int y = 0; y < part.height(); ++y)
    std::copy_n(&part.at(0, y, 0), row, &into.at(x0, y0 + y, 0));
}

}  // namespace glimpse
