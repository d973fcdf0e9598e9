// Depth map readers and writers (PNG16, NPY, PFM, EXR) and mask thresholding.
#include "io/depth_io.h"

#include "core/check.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "io/png_writer.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <ostream>
#include <system_error>
#include <vector>

namespace glimpse {

namespace {

namespace fs = std::filesystem;

// Largest PFM/NPY side accepted; a corrupt header must not ask for gigabytes.
constexpr long long kMaxSide = 1 << 16;

void check_readable(const std::string& path, const char* kind) {
  std::error_code ec;
  GLIMPSE_CHECK(fs::exists(path, ec))
      << "cannot read " << kind << " " << path << ": file does not exist";
  GLIMPSE_CHECK(fs::is_regular_file(path, ec))
      << "cannot read " << kind << " " << path << ": not a regular file";
}

std::ifstream open_binary(const std::string& path, const char* kind) {
  check_readable(path, kind);
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.is_open()) << "cannot read " << kind << " " << path
                              << ": cannot open it (permissions?)";
  return in;
}

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

uint32_t float_bits(float v) { return std::bit_cast<uint32_t>(v); }
float bits_float(uint32_t v) { return std::bit_cast<float>(v); }

// Reads one whitespace-delimited PFM header token and consumes the single byte that ends it.
std::string pfm_token(std::istream& in, const std::string& what, const char* name) {
  int c = in.get();
  while (c != EOF && std::isspace(c)) c = in.get();
  std::string token;
  while (c != EOF && !std::isspace(c) && token.size() < 64) {
    token.push_back(static_cast<char>(c));
    c = in.get();
  }
  GLIMPSE_CHECK(!token.empty() && c != EOF)
      << what << ": truncated PFM header: the file ends before the " << name;
  GLIMPSE_CHECK(std::isspace(c)) << what << ": malformed PFM header: the " << name
                                 << " is too long";
  return token;
}

long long parse_side(const std::string& token, const std::string& what, const char* name) {
  char* end = nullptr;
  const long long v = std::strtoll(token.c_str(), &end, 10);
  GLIMPSE_CHECK(end != token.c_str() && *end == '\0' && v > 0 && v <= kMaxSide)
      << what << ": malformed PFM header: " << name << " '" << token
      << "' is not an integer in [1, " << kMaxSide << "]";
  return v;
}

void write_f4_npy_header(std::ostream& out, int height, int width) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                     std::to_string(height) + ", " + std::to_string(width) + "), }";
  const size_t preamble = 10;  // magic (6) + version (2) + header length (2)
  const size_t padded = (preamble + dict.size() + 1 + 63) / 64 * 64;
  dict.append(padded - preamble - dict.size() - 1, ' ');
  dict.push_back('\n');
  out.write("\x93NUMPY\x01\x00", 8);
  const auto length = static_cast<uint16_t>(dict.size());
  out.put(static_cast<char>(length & 0xFF));
  out.put(static_cast<char>(length >> 8));
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
}

void put_le32(std::ostream& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF),
                         static_cast<char>((v >> 16) & 0xFF), static_cast<char>(v >> 24)};
  out.write(bytes, 4);
}

// OpenCV decode with the file's own depth and channels; errors name `kind` and the path.
cv::Mat imread_checked(const std::string& path, int flags, const char* kind,
                       const std::string& hint) {
  check_readable(path, kind);
  cv::Mat m;
  std::string reason;
  try {
    m = cv::imread(path, flags);
  } catch (const cv::Exception& e) {
    reason = e.what();
  }
  GLIMPSE_CHECK(!m.empty()) << "cannot read " << kind << " " << path << ": "
                            << (reason.empty() ? "OpenCV could not decode it" : reason) << hint;
  return m;
}

Image<float> single_channel(const cv::Mat& m, double scale) {
  Image<float> out(m.cols, m.rows, 1);
  cv::Mat view(m.rows, m.cols, CV_32FC1, out.data());
  m.convertTo(view, CV_32F, scale);
  GLIMPSE_CHECK(view.data == reinterpret_cast<uchar*>(out.data()))
      << "single_channel: OpenCV reallocated the output";
  return out;
}

}  // namespace

void DepthReadOptions::check() const {
  GLIMPSE_CHECK(std::isfinite(png_scale) && png_scale > 0)
      << "depth png_scale must be positive and finite (depth = value / png_scale), got "
      << png_scale;
}

Image<float> read_depth(const std::string& path, const DepthReadOptions& options) {
  options.check();
  DepthFormat format = options.format;
  if (format == DepthFormat::kAuto) {
    const std::string ext = lower_extension(path);
    if (ext == ".png") {
      format = DepthFormat::kPng16;
    } else if (ext == ".npy") {
      format = DepthFormat::kNpy;
    } else if (ext == ".pfm") {
      format = DepthFormat::kPfm;
    } else if (ext == ".exr") {
      format = DepthFormat::kExr;
    } else {
      GLIMPSE_FAIL() << "cannot read depth " << path << ": unknown extension '" << ext
                     << "' (expected .png, .npy, .pfm or .exr, or set the format)";
    }
  }
  switch (format) {
    case DepthFormat::kPng16:
      return read_depth_png16(path, options.png_scale);
    case DepthFormat::kNpy:
      return read_depth_npy(path);
    case DepthFormat::kPfm: {
      Image<float> image = read_pfm(path);
      if (image.channels() == 1) return image;
      Image<float> depth(image.width(), image.height(), 1);
      for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
          const float v = image.at(x, y, 0);
          const bool same = float_bits(v) == float_bits(image.at(x, y, 1)) &&
                            float_bits(v) == float_bits(image.at(x, y, 2));
          GLIMPSE_CHECK(same) << "cannot read depth " << path
                              << ": a 3-channel PFM ('PF') whose channels differ at pixel (" << x
                              << ", " << y << "); a depth map must be 'Pf' (1 channel)";
          depth.at(x, y) = v;
        }
      }
      return depth;
    }
    case DepthFormat::kExr:
      return read_depth_exr(path);
    case DepthFormat::kAuto:
      break;
  }
  GLIMPSE_FAIL() << "cannot read depth " << path << ": unknown format";
  return {};
}

Image<float> read_pfm(std::istream& in, const std::string& what) {
  char magic[2] = {};
  in.read(magic, 2);
  GLIMPSE_CHECK(in.gcount() == 2 && magic[0] == 'P' && (magic[1] == 'f' || magic[1] == 'F'))
      << what << ": not a PFM file (expected 'Pf' or 'PF' at the start)";
  const int channels = magic[1] == 'F' ? 3 : 1;
  const int c = in.get();
  GLIMPSE_CHECK(c != EOF && std::isspace(c))
      << what << ": malformed PFM header: expected whitespace after '" << magic[0] << magic[1]
      << "'";
  const long long width = parse_side(pfm_token(in, what, "width"), what, "width");
  const long long height = parse_side(pfm_token(in, what, "height"), what, "height");
  const std::string scale_token = pfm_token(in, what, "scale");
  char* end = nullptr;
  const double scale = std::strtod(scale_token.c_str(), &end);
  GLIMPSE_CHECK(end != scale_token.c_str() && *end == '\0' && std::isfinite(scale) && scale != 0)
      << what << ": malformed PFM header: scale '" << scale_token
      << "' must be a non-zero number (its sign gives the byte order)";
  const bool little_endian = scale < 0;

  Image<float> image(static_cast<int>(width), static_cast<int>(height), channels);
  const size_t row_values = static_cast<size_t>(width) * channels;
  std::vector<char> row(row_values * 4);
  for (long long r = 0; r < height; ++r) {
    in.read(row.data(), static_cast<std::streamsize>(row.size()));
    const auto got = static_cast<size_t>(in.gcount());
    GLIMPSE_CHECK(got == row.size())
        << what << ": truncated PFM data: expected " << width * height * channels * 4
        << " bytes of float32 for " << width << "x" << height << "x" << channels << ", got "
        << static_cast<size_t>(r) * row.size() + got;
    // Rows are stored bottom to top.
    float* dst = image.data() + static_cast<size_t>(height - 1 - r) * row_values;
    for (size_t i = 0; i < row_values; ++i) {
      const auto* b = reinterpret_cast<const unsigned char*>(row.data() + 4 * i);
      const uint32_t bits =
          little_endian
              ? (uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24)
              : (uint32_t{b[3]} | uint32_t{b[2]} << 8 | uint32_t{b[1]} << 16 |
                 uint32_t{b[0]} << 24);
      dst[i] = bits_float(bits);
    }
  }
  return image;
}

Image<float> read_pfm(const std::string& path) {
  std::ifstream in = open_binary(path, "PFM");
  return read_pfm(in, path);
}

void write_pfm(std::ostream& out, const Image<float>& image) {
  GLIMPSE_CHECK(image.channels() == 1 || image.channels() == 3)
      << "write_pfm: PFM holds 1 or 3 channels, got " << image.channels();
  GLIMPSE_CHECK(!image.empty()) << "write_pfm: the image is empty";
  const std::string header = std::string(image.channels() == 1 ? "Pf" : "PF") + "\n" +
                             std::to_string(image.width()) + " " + std::to_string(image.height()) +
                             "\n-1\n";
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const size_t row_values = static_cast<size_t>(image.width()) * image.channels();
  for (int r = image.height() - 1; r >= 0; --r) {
    const float* src = image.data() + static_cast<size_t>(r) * row_values;
    for (size_t i = 0; i < row_values; ++i) put_le32(out, float_bits(src[i]));
  }
  GLIMPSE_CHECK(out.good()) << "write_pfm: the output stream failed";
}

void write_pfm(const std::string& path, const Image<float>& image) {
  write_file_atomically(path, [&](std::ostream& out) { write_pfm(out, image); });
}

Image<float> read_depth_npy(std::istream& in, const std::string& what) {
  const NpyArray a = read_npy(in, what);
  size_t height = 0, width = 0;
  if (a.ndim() == 2) {
    height = a.shape[0], width = a.shape[1];
  } else if (a.ndim() == 3 && a.shape[2] == 1) {
    height = a.shape[0], width = a.shape[1];
  } else if (a.ndim() == 3 && a.shape[0] == 1) {
    height = a.shape[1], width = a.shape[2];
  } else {
    std::string shape;
    for (size_t i = 0; i < a.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
    GLIMPSE_FAIL() << what << ": a depth map must be H x W, H x W x 1 or 1 x H x W, got shape ("
                   << shape << ")";
  }
  GLIMPSE_CHECK(height > 0 && width > 0 && height <= static_cast<size_t>(kMaxSide) &&
                width <= static_cast<size_t>(kMaxSide))
      << what << ": depth map size " << width << "x" << height << " is empty or too large";
  Image<float> depth(static_cast<int>(width), static_cast<int>(height), 1);
  for (size_t i = 0; i < a.data.size(); ++i) depth.data()[i] = static_cast<float>(a.data[i]);
  return depth;
}

Image<float> read_depth_npy(const std::string& path) {
  std::ifstream in = open_binary(path, "depth");
  return read_depth_npy(in, path);
}

void write_depth_npy(std::ostream& out, const Image<float>& depth) {
  GLIMPSE_CHECK(depth.channels() == 1)
      << "write_depth_npy: expected a 1-channel depth map, got " << depth.channels() << " channels";
  write_f4_npy_header(out, depth.height(), depth.width());
  for (size_t i = 0; i < depth.size(); ++i) put_le32(out, float_bits(depth.data()[i]));
  GLIMPSE_CHECK(out.good()) << "write_depth_npy: the output stream failed";
}

void write_depth_npy(const std::string& path, const Image<float>& depth) {
  write_file_atomically(path, [&](std::ostream& out) { write_depth_npy(out, depth); });
}

Image<float> read_depth_png16(const std::string& path, double scale) {
  GLIMPSE_CHECK(std::isfinite(scale) && scale > 0)
      << "cannot read depth " << path << ": the PNG scale must be positive, got " << scale;
  const cv::Mat m = imread_checked(path, cv::IMREAD_UNCHANGED, "depth", "");
  GLIMPSE_CHECK(m.channels() == 1) << "cannot read depth " << path << ": " << m.channels()
                                   << " channels; a depth PNG must have one (gray) channel";
  GLIMPSE_CHECK(m.depth() == CV_16U || m.depth() == CV_8U)
      << "cannot read depth " << path << ": unsupported pixel type (OpenCV depth " << m.depth()
      << "); a depth PNG stores 16-bit (or 8-bit) integers";
  return single_channel(m, 1.0 / scale);
}

void write_depth_png16(const std::string& path, const Image<float>& depth, double scale) {
  GLIMPSE_CHECK(std::isfinite(scale) && scale > 0)
      << "cannot write " << path << ": the PNG scale must be positive, got " << scale;
  GLIMPSE_CHECK(depth.channels() == 1 && !depth.empty())
      << "cannot write " << path << ": expected a non-empty 1-channel depth map, got "
      << depth.width() << "x" << depth.height() << "x" << depth.channels();
  float largest = 0.0f;
  for (float v : depth.vector()) {
    if (std::isfinite(v)) largest = std::max(largest, v);
  }
  GLIMPSE_CHECK(static_cast<double>(largest) * scale < 65535.5)
      << "cannot write " << path << ": depth " << largest << " times scale " << scale
      << " exceeds 65535 (use a scale <= " << 65535.0 / largest << ")";
  cv::Mat m(depth.height(), depth.width(), CV_16UC1);
  for (int y = 0; y < depth.height(); ++y) {
    uint16_t* row = m.ptr<uint16_t>(y);
    for (int x = 0; x < depth.width(); ++x) {
      const float v = depth.at(x, y);
      row[x] = std::isfinite(v) && v > 0
                   ? static_cast<uint16_t>(std::lround(static_cast<double>(v) * scale))
                   : 0;
    }
  }
  write_mat_png_atomically(path, m);
}

Image<float> read_depth_exr(const std::string& path) {
  // OpenCV reads this variable once, the first time it touches EXR; do not override a user's
  // explicit choice.
  ::setenv("OPENCV_IO_ENABLE_OPENEXR", "1", /*overwrite=*/0);
  const char* setting = std::getenv("OPENCV_IO_ENABLE_OPENEXR");
  const std::string hint =
      std::string(
          " (a corrupt file, or OpenCV's OpenEXR codec is unavailable: OpenCV built "
          "without OpenEXR, or OPENCV_IO_ENABLE_OPENEXR=") +
      (setting ? setting : "") +
      " in the environment disables it; convert the depth to .pfm or "
      ".npy)";
  const cv::Mat m = imread_checked(path, cv::IMREAD_ANYDEPTH, "depth", hint);
  GLIMPSE_CHECK(m.channels() == 1) << "cannot read depth " << path << ": OpenCV returned "
                                   << m.channels() << " channels for an EXR depth map";
  return single_channel(m, 1.0);
}

Image<float> threshold_mask(const Image<float>& mask, float threshold) {
  GLIMPSE_CHECK(mask.channels() == 1)
      << "threshold_mask: expected a 1-channel mask, got " << mask.channels() << " channels";
  Image<float> out(mask.width(), mask.height(), 1);
  for (size_t i = 0; i < mask.size(); ++i) out.data()[i] = mask.data()[i] > threshold ? 1.f : 0.f;
  return out;
}

}  // namespace glimpse
