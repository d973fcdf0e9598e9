// LPIPS-VGG (Zhang et al. 2018) through OpenCV DNN: loading and probing the ONNX network, and the
// distance between two RGB images (input contract in eval/metrics.h). OpenCV stays in this file.
#include "core/check.h"
#include "eval/metrics.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>
#include <utility>

namespace glimpse {
namespace {

constexpr const char* kInput0 = "in0";
constexpr const char* kInput1 = "in1";
constexpr int kProbeSize = 64;                // probe image side: VGG-16 needs >= 32 px
constexpr double kIdenticalTolerance = 1e-5;  // LPIPS(x, x) is 0 up to float rounding
constexpr double kReferenceTolerance = 1e-3;  // OpenCV vs the exporter on the probe pair
constexpr const char* kProbeName = "glimpse-lpips-probe-v1";

// OpenCV's exception text without its trailing newline.
std::string cv_message(const cv::Exception& e) {
  std::string m = e.what();
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// The reference probe pair of Lpips::reference_path, as NCHW blobs fed to the network as is.
std::pair<cv::Mat, cv::Mat> reference_probe(int width, int height) {
  const int sizes[4] = {1, 3, height, width};
  cv::Mat in0(4, sizes, CV_32F), in1(4, sizes, CV_32F);
  float* p0 = in0.ptr<float>();
  float* p1 = in1.ptr<float>();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const size_t i = (static_cast<size_t>(c) * height + y) * width + x;
        p0[i] = static_cast<float>(0.5 + 0.45 * std::sin(0.31 * x + 0.17 * y + 1.3 * c));
        p1[i] = static_cast<float>(0.5 + 0.45 * std::sin(0.29 * x + 0.19 * y + 1.3 * c + 0.5));
      }
  return {in0, in1};
}

// NCHW float blob [1, 3, H, W] from an interleaved RGB image, values mapped per the options.
cv::Mat to_blob(const Image<float>& img, LpipsInputScaling scaling) {
  const int sizes[4] = {1, 3, img.height(), img.width()};
  cv::Mat blob(4, sizes, CV_32F);
  float* out = blob.ptr<float>();
  const size_t plane = img.num_pixels();
  const bool rescale = scaling == LpipsInputScaling::MinusOneToOne;
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) {
      const float v = img.data()[p * 3 + c];
      out[c * plane + p] = rescale ? 2.0f * v - 1.0f : v;
    }
  return blob;
}

// One forward pass; throws cv::Exception from OpenCV and glimpse::Error on a bad output.
double run_network(cv::dnn::Net& net, const cv::Mat& blob0, const cv::Mat& blob1) {
  net.setInput(blob0, kInput0);
  net.setInput(blob1, kInput1);
  const cv::Mat out = net.forward();
  GLIMPSE_CHECK(out.total() == 1 && out.type() == CV_32F)
      << "the network's output has " << out.total() << " values of type " << out.type()
      << ", expected one float32 distance";
  return static_cast<double>(*out.ptr<float>());
}

std::optional<std::string> probe(cv::dnn::Net& net, LpipsInputScaling scaling) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Image<float> x(kProbeSize, kProbeSize, 3), y(kProbeSize, kProbeSize, 3);
  for (float& v : x.vector()) v = u(rng);
  for (float& v : y.vector()) v = u(rng);
  const double different = run_network(net, to_blob(x, scaling), to_blob(y, scaling));
  if (!std::isfinite(different) || different < 0)
    return "the network gave " + std::to_string(different) +
           " for two different 64x64 images (expected a finite distance >= 0)";
  const double same = run_network(net, to_blob(x, scaling), to_blob(x, scaling));
  if (!(std::abs(same) <= kIdenticalTolerance))
    return "the network gave " + std::to_string(same) +
           " for two identical images (expected 0): not a distance network";
  return std::nullopt;
}

// Compares the network with the reference file's distance; nullopt when it matches. Throws
// glimpse::Error on a malformed file and cv::Exception when the network fails on the probe.
std::optional<std::string> check_reference(cv::dnn::Net& net, const std::string& path) {
  std::ifstream in(path);
  GLIMPSE_CHECK(in.good()) << "cannot read the LPIPS reference file " << path;
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << "LPIPS reference file " << path << " is not valid JSON: " << e.what();
  }
  GLIMPSE_CHECK(j.is_object() && j.value("probe", "") == kProbeName && j.contains("width") &&
                j.contains("height") && j.contains("distance") && j["width"].is_number_integer() &&
                j["height"].is_number_integer() && j["distance"].is_number())
      << "LPIPS reference file " << path << " must hold {\"probe\": \"" << kProbeName
      << "\", \"width\": int, \"height\": int, \"distance\": number}";
  const int width = j["width"].get<int>(), height = j["height"].get<int>();
  GLIMPSE_CHECK(width >= 32 && height >= 32 && width <= 4096 && height <= 4096)
      << "LPIPS reference file " << path << ": probe size " << width << "x" << height
      << " outside [32, 4096]";
  const double expected = j["distance"].get<double>();
  const auto [in0, in1] = reference_probe(width, height);
  const double got = run_network(net, in0, in1);
  if (std::abs(got - expected) <= kReferenceTolerance) return std::nullopt;
  return "OpenCV DNN gives " + std::to_string(got) + " on the reference probe pair, the exporter " +
         std::to_string(expected) + " (" + path +
         "): the graph uses an op OpenCV evaluates differently; re-export it with "
         "eval/export_lpips_onnx.py";
}

}  // namespace

struct Lpips::Impl {
  std::string model_path;
  LpipsOptions options;
  cv::dnn::Net net;
  bool verified = false;
};

std::string Lpips::reference_path(const std::string& model_path) {
  return model_path + ".reference.json";
}

void LpipsOptions::check() const {
  GLIMPSE_CHECK(input_scaling == LpipsInputScaling::PublishedZeroOne ||
                input_scaling == LpipsInputScaling::MinusOneToOne)
      << "LpipsOptions: unknown input_scaling " << static_cast<int>(input_scaling);
}

std::optional<Lpips> Lpips::load(const std::string& model_path, std::string* why_unavailable,
                                 const LpipsOptions& options) {
  options.check();
  auto unavailable = [&](const std::string& reason) -> std::optional<Lpips> {
    if (why_unavailable != nullptr)
      *why_unavailable = "LPIPS unavailable: " + reason + " (model: \"" + model_path + "\")";
    return std::nullopt;
  };
  namespace fs = std::filesystem;
  std::error_code ec;
  if (model_path.empty()) return unavailable("no model file given");
  if (!fs::exists(model_path, ec)) return unavailable("the model file does not exist");
  if (!fs::is_directory(model_path, ec)) {
    const std::string ext = fs::path(model_path).extension().string();
    if (ext == ".pth" || ext == ".pt")
      return unavailable(
          "a PyTorch checkpoint, not an ONNX network (lpips_v0.1_lin/*.pth hold only the linear "
          "heads; export the whole network with eval/export_lpips_onnx.py)");
  }
  if (fs::is_directory(model_path, ec))
    return unavailable(
        "the path is a folder; expected one ONNX file of the whole LPIPS-VGG network (VGG-16 "
        "backbone + linear heads, see eval/export_lpips_onnx.py)");

  auto impl = std::make_unique<Impl>();
  impl->model_path = model_path;
  impl->options = options;
  try {
    impl->net = cv::dnn::readNetFromONNX(model_path);
  } catch (const cv::Exception& e) {
    return unavailable("not an ONNX network OpenCV DNN can read: " + cv_message(e));
  }
  if (impl->net.empty()) return unavailable("OpenCV DNN read an empty network");
  impl->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  impl->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  try {
    if (auto problem = probe(impl->net, options.input_scaling)) return unavailable(*problem);
  } catch (const cv::Exception& e) {
    return unavailable(
        "the network does not run as LPIPS (inputs \"in0\", \"in1\" of shape [1, 3, H, W], one "
        "output value): " +
        cv_message(e));
  } catch (const Error& e) {
    return unavailable(error_message_without_location(e.what()));
  }
  const std::string reference = reference_path(model_path);
  if (fs::exists(reference, ec)) {
    try {
      if (auto problem = check_reference(impl->net, reference)) return unavailable(*problem);
    } catch (const cv::Exception& e) {
      return unavailable("the network fails on the reference probe pair: " + cv_message(e));
    } catch (const Error& e) {
      return unavailable(error_message_without_location(e.what()));
    }
    impl->verified = true;
  }
  if (why_unavailable != nullptr) why_unavailable->clear();
  return Lpips(std::move(impl));
}

Lpips::Lpips(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lpips::Lpips(Lpips&&) noexcept = default;
Lpips& Lpips::operator=(Lpips&&) noexcept = default;
Lpips::~Lpips() = default;

double Lpips::distance(const Image<float>& a, const Image<float>& b) {
  GLIMPSE_CHECK(impl_ != nullptr) << "Lpips::distance on a moved-from object";
  GLIMPSE_CHECK(a.channels() == 3 && b.channels() == 3)
      << "Lpips::distance: images must be RGB (3 channels), got " << a.channels() << " and "
      << b.channels();
  GLIMPSE_CHECK(a.width() == b.width() && a.height() == b.height() && !a.empty())
      << "Lpips::distance: images differ in size or are empty (" << a.width() << "x" << a.height()
      << " vs " << b.width() << "x" << b.height() << ")";
  try {
    return run_network(impl_->net, to_blob(a, impl_->options.input_scaling),
                       to_blob(b, impl_->options.input_scaling));
  } catch (const cv::Exception& e) {
    GLIMPSE_FAIL() << "Lpips::distance: the network failed on a " << a.width() << "x" << a.height()
                   << " pair (" << impl_->model_path << "): " << e.what();
  }
  return 0.0;  // not reached: GLIMPSE_FAIL throws
}

const std::string& Lpips::model_path() const { return impl_->model_path; }
const LpipsOptions& Lpips::options() const { return impl_->options; }
bool Lpips::verified() const { return impl_->verified; }

}  // namespace glimpse
