// Monocular depth networks through OpenCV DNN: the references' resize and normalisation, the
// forward pass, the output's shape check and its resampling to the view (priors/depth_model.h).
#include "priors/depth_model.h"

#include "core/check.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <utility>

namespace glimpse {

namespace {

// The first line of an OpenCV message, without trailing blanks: errors stay one line.
std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

std::string shape_string(const cv::Mat& m) {
  std::ostringstream s;
  s << "[";
  for (int d = 0; d < m.dims; ++d) s << (d ? ", " : "") << m.size[d];
  s << "]";
  return s.str();
}

// Resize.constrain_to_multiple_of of the references: round to the nearest multiple (numpy's
// round, half to even, is std::nearbyint in the default rounding mode), floor when that exceeds
// max_value, ceil when it falls below min_value (< 0: no bound).
int constrain_to_multiple_of(double x, int multiple, int min_value, int max_value) {
  const double m = multiple;
  int y = static_cast<int>(std::nearbyint(x / m)) * multiple;
  if (max_value >= 0 && y > max_value) y = static_cast<int>(std::floor(x / m)) * multiple;
  if (y < min_value) y = static_cast<int>(std::ceil(x / m)) * multiple;
  return y;
}

}  // namespace

const char* depth_model_convention_name(DepthModelConvention convention) {
  switch (convention) {
    case DepthModelConvention::Midas:
      return "midas";
    case DepthModelConvention::Dpt:
      return "dpt";
    case DepthModelConvention::DepthAnything:
      return "depth-anything";
  }
  return "?";
}

DepthModelConvention parse_depth_model_convention(const std::string& name) {
  for (DepthModelConvention c : {DepthModelConvention::Midas, DepthModelConvention::Dpt,
                                 DepthModelConvention::DepthAnything})
    if (name == depth_model_convention_name(c)) return c;
  GLIMPSE_FAIL() << "unknown depth model convention '" << name
                 << "' (choices: midas, dpt, depth-anything)";
  return DepthModelConvention::DepthAnything;
}

DepthModelPreprocessing depth_model_preprocessing(DepthModelConvention convention) {
  DepthModelPreprocessing p;
  const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
  const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
  switch (convention) {
    case DepthModelConvention::Midas:
      p.width = p.height = 384;
      p.multiple_of = 32;
      p.resize = DepthModelResize::UpperBound;
      std::copy(imagenet_mean, imagenet_mean + 3, p.mean);
      std::copy(imagenet_std, imagenet_std + 3, p.std);
      break;
    case DepthModelConvention::Dpt:
      p.width = p.height = 384;
      p.multiple_of = 32;
      p.resize = DepthModelResize::Minimal;
      std::fill(p.mean, p.mean + 3, 0.5f);
      std::fill(p.std, p.std + 3, 0.5f);
      break;
    case DepthModelConvention::DepthAnything:
      p.width = p.height = 518;
      p.multiple_of = 14;
      p.resize = DepthModelResize::LowerBound;
      std::copy(imagenet_mean, imagenet_mean + 3, p.mean);
      std::copy(imagenet_std, imagenet_std + 3, p.std);
      break;
  }
  return p;
}

void DepthModelOptions::check() const {
  GLIMPSE_CHECK(!path.empty()) << "depth model: no ONNX file given (path is empty)";
  const int stride = depth_model_preprocessing(convention).multiple_of;
  GLIMPSE_CHECK((input_width == 0) == (input_height == 0))
      << "depth model " << path << ": input_width and input_height must both be 0 (the "
      << depth_model_convention_name(convention) << " default) or both be set, got " << input_width
      << "x" << input_height;
  GLIMPSE_CHECK(input_width == 0 || (input_width >= stride && input_height >= stride))
      << "depth model " << path << ": input size " << input_width << "x" << input_height
      << " is below the " << depth_model_convention_name(convention) << " stride " << stride;
}

DepthModelInputSize depth_model_input_size(const DepthModelOptions& options, int image_width,
                                           int image_height) {
  GLIMPSE_CHECK(image_width > 0 && image_height > 0)
      << "depth model: empty image (" << image_width << "x" << image_height << ")";
  const DepthModelPreprocessing p = depth_model_preprocessing(options.convention);
  const int target_w = options.input_width > 0 ? options.input_width : p.width;
  const int target_h = options.input_height > 0 ? options.input_height : p.height;
  // Resize.get_size, in double like the reference.
  double scale_h = static_cast<double>(target_h) / image_height;
  double scale_w = static_cast<double>(target_w) / image_width;
  if (options.keep_aspect_ratio) {
    switch (p.resize) {
      case DepthModelResize::LowerBound:
        if (scale_w > scale_h)
          scale_h = scale_w;
        else
          scale_w = scale_h;
        break;
      case DepthModelResize::UpperBound:
        if (scale_w < scale_h)
          scale_h = scale_w;
        else
          scale_w = scale_h;
        break;
      case DepthModelResize::Minimal:
        if (std::abs(1 - scale_w) < std::abs(1 - scale_h))
          scale_h = scale_w;
        else
          scale_w = scale_h;
        break;
    }
  }
  const int m = p.multiple_of;
  DepthModelInputSize size;
  switch (p.resize) {
    case DepthModelResize::LowerBound:
      size.height = constrain_to_multiple_of(scale_h * image_height, m, target_h, -1);
      size.width = constrain_to_multiple_of(scale_w * image_width, m, target_w, -1);
      break;
    case DepthModelResize::UpperBound:
      size.height = constrain_to_multiple_of(scale_h * image_height, m, 0, target_h);
      size.width = constrain_to_multiple_of(scale_w * image_width, m, 0, target_w);
      break;
    case DepthModelResize::Minimal:
      size.height = constrain_to_multiple_of(scale_h * image_height, m, 0, -1);
      size.width = constrain_to_multiple_of(scale_w * image_width, m, 0, -1);
      break;
  }
  // The reference would hand the network a 0-pixel side for a very thin image; keep one stride.
  size.width = std::max(size.width, m);
  size.height = std::max(size.height, m);
  return size;
}

struct MonocularDepthModel::Impl {
  DepthModelOptions options;
  DepthModelPreprocessing pre;
  cv::dnn::Net net;
  std::mutex mutex;  // one forward pass at a time on `net`
};

MonocularDepthModel::MonocularDepthModel(const DepthModelOptions& options)
    : impl_(std::make_unique<Impl>()) {
  options.check();
  impl_->options = options;
  impl_->pre = depth_model_preprocessing(options.convention);
  std::error_code ec;
  GLIMPSE_CHECK(std::filesystem::is_regular_file(options.path, ec))
      << "depth model " << options.path << ": no such file";
  try {
    impl_->net = cv::dnn::readNetFromONNX(options.path);
  } catch (const cv::Exception& e) {
    GLIMPSE_FAIL() << "cannot read the depth model " << options.path
                   << " as ONNX: OpenCV: " << first_line(e.err);
  }
  GLIMPSE_CHECK(!impl_->net.empty())
      << "cannot read the depth model " << options.path << " as ONNX: OpenCV found no layers";
  impl_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  impl_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
}

MonocularDepthModel::~MonocularDepthModel() = default;
MonocularDepthModel::MonocularDepthModel(MonocularDepthModel&&) noexcept = default;
MonocularDepthModel& MonocularDepthModel::operator=(MonocularDepthModel&&) noexcept = default;

const DepthModelOptions& MonocularDepthModel::options() const { return impl_->options; }

DepthPrior MonocularDepthModel::predict(const Image<float>& rgb,
                                        const std::string& view_name) const {
  GLIMPSE_CHECK(impl_ != nullptr) << "MonocularDepthModel::predict on a moved-from object";
  const std::string& path = impl_->options.path;
  GLIMPSE_CHECK(rgb.channels() == 3 && !rgb.empty())
      << "depth model " << path << " on " << view_name << ": the image must be RGB (3 channels), "
      << "got " << rgb.width() << "x" << rgb.height() << "x" << rgb.channels();
  const auto bad = std::find_if(rgb.vector().begin(), rgb.vector().end(),
                                [](float v) { return !std::isfinite(v); });
  GLIMPSE_CHECK(bad == rgb.vector().end())
      << "depth model " << path << " on " << view_name << ": non-finite colour at pixel "
      << (bad - rgb.vector().begin()) / 3 % rgb.width() << ", "
      << (bad - rgb.vector().begin()) / 3 / rgb.width();

  // Resize (INTER_CUBIC, as all three references), normalise, NCHW.
  const DepthModelInputSize in = depth_model_input_size(impl_->options, rgb.width(), rgb.height());
  const cv::Mat image(rgb.height(), rgb.width(), CV_32FC3, const_cast<float*>(rgb.data()));
  cv::Mat resized = image;
  if (in.width != rgb.width() || in.height != rgb.height())
    cv::resize(image, resized, cv::Size(in.width, in.height), 0, 0, cv::INTER_CUBIC);
  const int sizes[4] = {1, 3, in.height, in.width};
  cv::Mat blob(4, sizes, CV_32F);
  const size_t plane = static_cast<size_t>(in.width) * in.height;
  float* dst = blob.ptr<float>();
  const DepthModelPreprocessing& pre = impl_->pre;
  for (int y = 0; y < in.height; ++y) {
    const float* row = resized.ptr<float>(y);
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c)  // in double, then float, as the references (float64 numpy)
        dst[c * plane + static_cast<size_t>(y) * in.width + x] = static_cast<float>(
            (static_cast<double>(row[3 * x + c]) - pre.mean[c]) / static_cast<double>(pre.std[c]));
  }

  cv::Mat out;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    try {
      impl_->net.setInput(blob);
      out = impl_->net.forward().clone();
    } catch (const cv::Exception& e) {
      GLIMPSE_FAIL() << "depth model " << path << " failed on " << view_name << " (input "
                     << in.width << "x" << in.height << "): OpenCV: " << first_line(e.err)
                     << (impl_->options.keep_aspect_ratio
                             ? " (a model exported with a fixed input size needs "
                               "keep_aspect_ratio off and input_width/height set to that size)"
                             : "");
    }
  }

  // [1, 1, H, W], [1, H, W] or [H, W].
  const int d = out.dims;
  const bool shape_ok = out.type() == CV_32F &&
                        ((d == 4 && out.size[0] == 1 && out.size[1] == 1) ||
                         (d == 3 && out.size[0] == 1) || d == 2) &&
                        out.size[d - 1] > 0 && out.size[d - 2] > 0;
  GLIMPSE_CHECK(shape_ok) << "depth model " << path << ": output shape " << shape_string(out)
                          << (out.type() == CV_32F ? "" : " (not float32)")
                          << " is not one depth map ([1, 1, H, W], [1, H, W] or [H, W])";
  const int out_w = out.size[d - 1], out_h = out.size[d - 2];

  DepthPrior prior;
  prior.kind = DepthPriorKind::InverseDepth;
  prior.metric = false;
  prior.source = path + " on " + view_name;
  prior.values = Image<float>(out_w, out_h, 1);
  prior.confidence = Image<float>(out_w, out_h, 1);
  const float* src = out.ptr<float>();  // continuous: a fresh clone
  for (size_t i = 0; i < prior.values.num_pixels(); ++i) {
    const bool valid = std::isfinite(src[i]) && src[i] >= 0.f;
    prior.values.data()[i] = valid ? src[i] : 0.f;
    prior.confidence.data()[i] = valid ? 1.f : 0.f;
  }
  if (out_w != rgb.width() || out_h != rgb.height())
    prior = resize_depth_prior(prior, rgb.width(), rgb.height());
  return prior;
}

}  // namespace glimpse
