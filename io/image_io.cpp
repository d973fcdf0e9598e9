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
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>
#include <zlib.h>

namespace glimpse {

namespace {

namespace fs = std::filesystem;

// Why a PNG or JPEG file is incomplete or damaged, or "" when its structure is whole. Decoders
// are lenient: libjpeg decodes a JPEG cut short as grey with only a warning on stderr ("Premature
// end of JPEG file", without the file's name), so the structure is checked before decoding:
// - PNG: every chunk complete with a matching CRC-32, up to IEND;
// - JPEG: every marker segment complete and the entropy-coded data ending in a marker, up to EOI.
// Other formats go to the decoder as they are. Bytes after the end (IEND, EOI) are allowed.
std::string png_damage(const std::vector<unsigned char>& b) {
  auto be32 = [&](size_t at) {
    return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 |
           uint32_t{b[at + 3]};
  };
  for (size_t at = 8;;) {
    if (at + 12 > b.size()) return "the file ends before the PNG's end chunk (IEND): truncated";
    const uint32_t length = be32(at);
    const std::string type(reinterpret_cast<const char*>(&b[at + 4]), 4);
    const bool printable = std::all_of(type.begin(), type.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    });
    if (!printable) return "a PNG chunk at byte " + std::to_string(at) + " has no valid type";
    if (length > b.size() - at - 12)
      return "the file ends inside the PNG's " + type + " chunk at byte " + std::to_string(at) +
             ": truncated";
    const uLong crc = crc32_z(crc32_z(0L, Z_NULL, 0), &b[at + 4], length + 4);
    if (crc != be32(at + 8 + length))
      return "the PNG's " + type + " chunk at byte " + std::to_string(at) +
             " fails its CRC-32 check: the file is corrupt";
    if (type == "IEND") return "";
    at += 12 + length;
  }
}

std::string jpeg_damage(const std::vector<unsigned char>& b) {
  const std::string truncated = "the file ends before the JPEG's end-of-image marker: truncated";
  size_t at = 2;  // after SOI
  while (true) {
    if (at >= b.size()) return truncated;
    if (b[at] != 0xFF)
      return "a JPEG marker is missing at byte " + std::to_string(at) + ": the file is corrupt";
    while (at < b.size() && b[at] == 0xFF) ++at;  // fill bytes
    if (at >= b.size()) return truncated;
    const unsigned char marker = b[at++];
    if (marker == 0xD9) return "";                                       // EOI
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // no length
    if (at + 2 > b.size()) return truncated;
    const size_t length = size_t{b[at]} << 8 | b[at + 1];
    if (length < 2)
      return "a JPEG segment at byte " + std::to_string(at) + " has length " +
             std::to_string(length) + ": the file is corrupt";
    if (at + length > b.size()) return truncated;
    at += length;
    if (marker != 0xDA) continue;
    // Entropy-coded data after SOS: runs to the next marker other than a stuffed 0xFF00 or a
    // restart marker.
    while (true) {
      if (at + 1 >= b.size()) return truncated;
      if (b[at] != 0xFF) {
        ++at;
        continue;
      }
      const unsigned char next = b[at + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        at += 2;
      } else if (next == 0xFF) {
        ++at;
      } else {
        break;  // a marker: back to the segment loop
      }
    }
  }
}

// Decodes `path` as stored (bit depth, channels, alpha; no EXIF rotation), after checking that
// a PNG or JPEG file is complete and undamaged.
cv::Mat decode_image(const std::string& path) {
  std::error_code ec;
  GLIMPSE_CHECK(fs::exists(path, ec)) << "cannot read image " << path << ": file does not exist";
  GLIMPSE_CHECK(fs::is_regular_file(path, ec))
      << "cannot read image " << path << ": not a regular file";
  std::vector<unsigned char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    GLIMPSE_CHECK(in.is_open()) << "cannot read image " << path << ": cannot open the file";
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    GLIMPSE_CHECK(size > 0) << "cannot read image " << path << ": the file is empty";
    in.seekg(0);
    bytes.resize(static_cast<size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), size);
    GLIMPSE_CHECK(in.gcount() == size) << "cannot read image " << path << ": read error";
  }
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::string damage;
  if (bytes.size() >= 8 && std::equal(kPng, kPng + 8, bytes.begin()))
    damage = png_damage(bytes);
  else if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    damage = jpeg_damage(bytes);
  GLIMPSE_CHECK(damage.empty()) << "cannot read image " << path << ": " << damage;
  cv::Mat m;
  try {
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
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

Image<uint8_t> to_bytes(const Image<float>& image) {
  Image<uint8_t> out(image.width(), image.height(), image.channels());
  for (size_t i = 0; i < image.size(); ++i) out.data()[i] = to_byte(image.data()[i]);
  return out;
}

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

Image<float> depth_preview(const Image<float>& depth, double near, double far, bool with_scale) {
  GLIMPSE_CHECK(depth.channels() == 1)
      << "depth_preview: expected a 1-channel depth map, got " << depth.channels() << " channels";
  GLIMPSE_CHECK(std::isfinite(near) && std::isfinite(far) && near > 0.0 && near < far)
      << "depth_preview: need 0 < near < far, got near=" << near << " far=" << far;
  const double inv_near = 1.0 / near, inv_far = 1.0 / far;
  // s in [1, 2]: 1 at near, 2 at far, linear in 1 / depth; 0 (black) for invalid pixels.
  auto position = [&](double d) {
    return 1.0 + std::clamp((inv_near - 1.0 / d) / (inv_near - inv_far), 0.0, 1.0);
  };
  Image<float> s(depth.width(), depth.height(), 1);
  for (size_t i = 0; i < depth.num_pixels(); ++i) {
    const float d = depth.data()[i];
    if (std::isfinite(d) && d > 0.0f) s.data()[i] = static_cast<float>(position(d));
  }
  const Image<float> colour = colorize_depth(s, 1.0f, 2.0f);
  if (!with_scale || depth.empty()) return colour;

  // The bar: 5 % of the width (at least 8 px) beside the image, then the labels.
  const int w = depth.width(), h = depth.height();
  const int gap = std::max(4, w / 100), bar = std::max(8, w / 20);
  const double font = std::clamp(h / 700.0, 0.3, 1.0);
  const int thickness = font > 0.6 ? 2 : 1;
  int baseline = 0;
  const cv::Size text =
      cv::getTextSize("0.000e+00", cv::FONT_HERSHEY_SIMPLEX, font, thickness, &baseline);
  const int label_width = text.width + 2 * gap;
  const int total_width = w + gap + bar + label_width;
  cv::Mat canvas(h, total_width, CV_8UC3, cv::Scalar(24, 24, 24));  // BGR
  // Top row = near (blue), bottom row = far (red), linear in inverse depth like the image.
  cv::Mat index(h, 1, CV_8UC1);
  for (int y = 0; y < h; ++y)
    index.at<uint8_t>(y) = to_byte(h > 1 ? static_cast<float>(y) / (h - 1) : 0.0f);
  cv::Mat ramp;
  cv::applyColorMap(index, ramp, cv::COLORMAP_TURBO);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < bar; ++x) canvas.at<cv::Vec3b>(y, w + gap + x) = ramp.at<cv::Vec3b>(y);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) canvas.at<cv::Vec3b>(y, x)[2 - k] = to_byte(colour.at(x, y, k));
  for (int t = 0; t <= 4; ++t) {
    const double f = t / 4.0;
    const double d = 1.0 / (inv_near - f * (inv_near - inv_far));
    char label[32];
    std::snprintf(label, sizeof(label), "%.3g", d);
    const int y = static_cast<int>(std::lround(f * (h - 1)));
    const int text_y =
        std::clamp(y + text.height / 2, text.height + 3, std::max(text.height + 3, h - 4));
    cv::line(canvas, {w + gap + bar, y}, {w + gap + bar + gap / 2 + 1, y}, cv::Scalar::all(255));
    cv::putText(canvas, label, {w + 2 * gap + bar, text_y}, cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar::all(255), thickness, cv::LINE_AA);
  }
  Image<float> out(total_width, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < total_width; ++x)
      for (int k = 0; k < 3; ++k) out.at(x, y, k) = canvas.at<cv::Vec3b>(y, x)[2 - k] / 255.0f;
  return out;
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
