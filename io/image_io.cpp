// Image reading/writing through OpenCV imgcodecs, converted to and from Image<float>.
#include "io/image_io.h"

#include "core/check.h"
#include "core/thread_pool.h"
#include "io/atomic_file.h"
#include "io/png_writer.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <vector>

namespace glimpse {

namespace {

namespace fs = std::filesystem;

// Decodes `path` as stored (bit depth, channels, alpha; no EXIF rotation).
cv::Mat decode_image(const std::string& path) {
  std::error_code ec;
  GLIMPSE_CHECK(fs::exists(path, ec)) << "cannot read image " << path << ": file does not exist";
  GLIMPSE_CHECK(fs::is_regular_file(path, ec))
      << "cannot read image " << path << ": not a regular file";
  cv::Mat m;
  try {
    m = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    GLIMPSE_FAIL() << "cannot read image " << path << ": not a decodable image (" << e.what()
                   << ")";
  }
  GLIMPSE_CHECK(!m.empty()) << "cannot read image " << path
                            << ": not a decodable image (corrupt or unsupported format)";
  return m;
}

// Converts to 32-bit float in [0, 1] for integer images (8-bit / 255, 16-bit / 65535).
cv::Mat to_unit_float(const cv::Mat& m, const std::string& path) {
  cv::Mat f;
  switch (m.depth()) {
    case CV_8U:
      m.convertTo(f, CV_32F, 1.0 / 255.0);
      break;
    case CV_16U:
      m.convertTo(f, CV_32F, 1.0 / 65535.0);
      break;
    case CV_32F:
      f = m;
      break;
    case CV_64F:
      m.convertTo(f, CV_32F);
      break;
    default:
      GLIMPSE_FAIL() << "cannot read image " << path << ": unsupported pixel type (OpenCV depth "
                     << m.depth() << "); expected 8-bit, 16-bit or float";
  }
  return f;
}

Image<float> to_image(const cv::Mat& m) {
  Image<float> image(m.cols, m.rows, m.channels());
  cv::Mat view(m.rows, m.cols, CV_32FC(m.channels()), image.data());
  m.copyTo(view);  // same size and type: writes into image's buffer
  return image;
}

cv::Mat as_mat(const Image<float>& image) {
  return cv::Mat(image.height(), image.width(), CV_32FC(image.channels()),
                 const_cast<float*>(image.data()));
}

uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 1.0f) return 255;
  return static_cast<uint8_t>(std::lround(v * 255.0f));
}

}  // namespace

Image<float> read_image_rgb(const std::string& path) {
  const cv::Mat f = to_unit_float(decode_image(path), path);
  cv::Mat rgb;
  switch (f.channels()) {
    case 1:
      cv::cvtColor(f, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 2: {  // gray + alpha
      cv::Mat gray;
      cv::extractChannel(f, gray, 0);
      cv::cvtColor(gray, rgb, cv::COLOR_GRAY2RGB);
      break;
    }
    case 3:
      cv::cvtColor(f, rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(f, rgb, cv::COLOR_BGRA2RGB);
      break;
    default:
      GLIMPSE_FAIL() << "cannot read image " << path << ": " << f.channels()
                     << " channels (expected gray, gray+alpha, RGB or RGBA)";
  }
  return to_image(rgb);
}

Image<float> read_mask(const std::string& path) {
  const cv::Mat f = to_unit_float(decode_image(path), path);
  cv::Mat mask;
  switch (f.channels()) {
    case 1:
      mask = f;
      break;
    case 2:
      cv::extractChannel(f, mask, 1);
      break;   // gray + alpha: the alpha
    case 3: {  // the plain mean (not luma weights): a mask stored as RGB has equal channels
      std::vector<cv::Mat> planes;
      cv::split(f, planes);
      mask = (planes[0] + planes[1] + planes[2]) / 3.0;
      break;
    }
    case 4:
      cv::extractChannel(f, mask, 3);
      break;  // BGRA: the alpha
    default:
      GLIMPSE_FAIL() << "cannot read mask " << path << ": " << f.channels()
                     << " channels (expected gray, gray+alpha, RGB or RGBA)";
  }
  return to_image(mask);
}

void read_view_images(std::vector<View>& views) {
  ThreadPool::global().parallel_for(static_cast<int64_t>(views.size()), 1,
                                    [&](int64_t begin, int64_t end, int /*thread*/) {
                                      for (int64_t i = begin; i < end; ++i) {
                                        View& v = views[static_cast<size_t>(i)];
                                        v.image = read_image_rgb(v.image_path);
                                      }
                                    });
}

void write_png(const std::string& path, const Image<float>& image) {
  GLIMPSE_CHECK(image.channels() == 1 || image.channels() == 3)
      << "cannot write " << path << ": write_png takes 1 or 3 channels, got " << image.channels();
  GLIMPSE_CHECK(!image.empty()) << "cannot write " << path << ": the image is empty ("
                                << image.width() << "x" << image.height() << ")";
  const int c = image.channels();
  cv::Mat bytes(image.height(), image.width(), c == 1 ? CV_8UC1 : CV_8UC3);
  for (int y = 0; y < image.height(); ++y) {
    uint8_t* row = bytes.ptr<uint8_t>(y);
    for (int x = 0; x < image.width(); ++x) {
      for (int k = 0; k < c; ++k) {
        // OpenCV stores colour as BGR.
        row[x * c + (c == 3 ? 2 - k : k)] = to_byte(image.at(x, y, k));
      }
    }
  }

  write_mat_png_atomically(path, bytes);
}

void write_mat_png_atomically(const std::string& path, const cv::Mat& m) {
  const fs::path parent = fs::path(path).parent_path();
  GLIMPSE_CHECK(parent.empty() || fs::is_directory(parent))
      << "cannot write " << path << ": folder " << parent.string() << " does not exist";
  const std::string temporary = temporary_sibling_path(path, ".png");
  bool ok = false;
  std::string reason = "the PNG encoder failed";
  try {
    ok = cv::imwrite(temporary, m);
  } catch (const cv::Exception& e) {
    reason = e.what();
  }
  if (!ok) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    GLIMPSE_FAIL() << "cannot write " << path << ": " << reason;
  }
  commit_temporary_file(temporary, path);
}

Image<float> colorize_depth(const Image<float>& depth, float near, float far) {
  GLIMPSE_CHECK(depth.channels() == 1)
      << "colorize_depth: expected a 1-channel depth map, got " << depth.channels() << " channels";
  GLIMPSE_CHECK(std::isfinite(near) && std::isfinite(far) && near >= 0.0f && near < far)
      << "colorize_depth: need 0 <= near < far, got near=" << near << " far=" << far;
  Image<float> rgb(depth.width(), depth.height(), 3);
  if (depth.empty()) return rgb;
  cv::Mat index(depth.height(), depth.width(), CV_8UC1);
  const float scale = 1.0f / (far - near);
  for (int y = 0; y < depth.height(); ++y) {
    uint8_t* row = index.ptr<uint8_t>(y);
    for (int x = 0; x < depth.width(); ++x) row[x] = to_byte((depth.at(x, y) - near) * scale);
  }
  cv::Mat colored;
  cv::applyColorMap(index, colored, cv::COLORMAP_TURBO);  // BGR
  for (int y = 0; y < depth.height(); ++y) {
    const uint8_t* row = colored.ptr<uint8_t>(y);
    for (int x = 0; x < depth.width(); ++x) {
      const float d = depth.at(x, y);
      const bool valid = std::isfinite(d) && d > 0.0f;
      for (int k = 0; k < 3; ++k) rgb.at(x, y, k) = valid ? row[x * 3 + 2 - k] / 255.0f : 0.0f;
    }
  }
  return rgb;
}

Image<float> resize_image_area(const Image<float>& image, int width, int height) {
  GLIMPSE_CHECK(width > 0 && height > 0)
      << "resize_image_area: target size must be positive, got " << width << "x" << height;
  GLIMPSE_CHECK(!image.empty()) << "resize_image_area: the source image is empty";
  Image<float> out(width, height, image.channels());
  cv::Mat dst(height, width, CV_32FC(image.channels()), out.data());
  cv::resize(as_mat(image), dst, cv::Size(width, height), 0.0, 0.0, cv::INTER_AREA);
  GLIMPSE_CHECK(dst.data == reinterpret_cast<uchar*>(out.data()))
      << "resize_image_area: OpenCV reallocated the output";
  return out;
}

std::vector<std::string> list_image_files(const std::string& folder) {
  namespace fs = std::filesystem;
  auto is_image = [](const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
  };
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !is_image(it->path())) continue;
    if (!it->is_regular_file(ec)) continue;
    names.push_back(name);
  }
  GLIMPSE_CHECK(!ec) << "cannot list " << folder << ": " << ec.message();
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace glimpse
