// Image metrics of the sparse-view benchmarks (RegNeRF, FreeNeRF, DNGaussian, FSGS, CoR-GS eval
// code): PSNR and DTU's masked PSNR, both SSIM implementations in circulation (3DGS and
// scikit-image), white compositing for DTU's masked SSIM/LPIPS, RegNeRF's average error, LPIPS-VGG.
#pragma once

#include "core/image.h"
#include "core/math.h"

#include <memory>
#include <optional>
#include <string>

namespace glimpse {

// [SECTION] PSNR ---------------------------------------------------------------------------------

// -10 log10(MSE) with the MSE over every value (pixels x channels), as 3DGS utils/image_utils.psnr.
// Images are expected in [0, 1] and used as given: clamp or quantise renders first where the
// protocol does (3DGS metrics.py scores the saved 8-bit PNGs). Returns +infinity when the images
// are equal (-10 log10(0), as numpy and torch return): averages over views must skip or cap it.
// Shapes must match and be non-empty (throws glimpse::Error naming both shapes).
double psnr(const Image<float>& a, const Image<float>& b);

// DTU protocol PSNR (RegNeRF eval.py): the MSE over the pixels whose 1-channel mask value is
// > 0.5, all channels of each such pixel. Binarise masks as the protocol does before the call
// (RegNeRF's idrmasks: value / 255 == 1). Throws glimpse::Error when the mask is not 1-channel,
// does not match the images' size, or selects no pixel. +infinity when equal on the mask.
double psnr_masked(const Image<float>& a, const Image<float>& b, const Image<float>& mask);

// [SECTION] SSIM ---------------------------------------------------------------------------------

// Names of the two SSIM variants, for reports ("SSIM_gs" / "SSIM_sk" as DNGaussian and CoR-GS
// label them); a report must say which one a figure is.
inline constexpr const char* kSsim3dgsName =
    "SSIM_gs (3DGS loss_utils.ssim: 11x11 Gaussian window sigma 1.5, zero-padded, C1 0.01^2, "
    "C2 0.03^2, mean over all pixels and channels)";
inline constexpr const char* kSsimSkimageName =
    "SSIM_sk (skimage structural_similarity, channel_axis=2, data_range=1: 7x7 uniform window, "
    "sample covariance, K1 0.01, K2 0.03, 3-pixel border cropped, mean over channels)";

// SSIM_gs: the 3DGS SSIM of optim/losses.h (the training loss's ssim(), evaluated in double).
// Used for the published numbers of FSGS, CoR-GS, DropGaussian and most 3DGS papers.
double ssim_3dgs(const Image<float>& a, const Image<float>& b);

struct SsimSkimageOptions {
  // Dynamic range L of the values: C1 = (0.01 L)^2, C2 = (0.03 L)^2. 1 for images in [0, 1] (what
  // FreeNeRF/SparseNeRF/DNGaussian/CoR-GS pass). RegNeRF's released eval.py omits data_range, so
  // scikit-image takes the float dtype range [-1, 1], i.e. L = 2; use 2 only to reproduce that.
  double data_range = 1.0;

  // Throws glimpse::Error unless data_range is finite and > 0.
  void check() const;
};

// SSIM_sk: scikit-image's structural_similarity(a, b, channel_axis=2, data_range=L) with its
// defaults (win_size 7, gaussian_weights=False, use_sample_covariance=True, K1 0.01, K2 0.03):
// per channel, means/variances/covariance under a 7x7 box window, variances scaled by 49/48
// (sample covariance), the SSIM map cropped by 3 pixels on each side and averaged; then the mean
// over channels. Used by FreeNeRF/SparseNeRF eval.py; DNGaussian and CoR-GS also report it.
// Computed in double. Throws glimpse::Error on a shape mismatch or when width or height < 7
// (scikit-image raises "win_size exceeds image extent").
double ssim_skimage(const Image<float>& a, const Image<float>& b,
                    const SsimSkimageOptions& options = {});

// [SECTION] DTU compositing and the average error ------------------------------------------------

// img * mask + background * (1 - mask) per pixel: the DTU protocol composites both the render and
// the ground truth onto WHITE outside the object mask before SSIM and LPIPS (RegNeRF eval.py,
// DNGaussian/CoR-GS metrics_dtu.py). img has 3 channels, mask 1 channel of the same size (binary
// in the protocol; fractional values blend). Throws glimpse::Error otherwise.
Image<float> composite_background(const Image<float>& img, const Image<float>& mask,
                                  Vec3<float> background = {1.0f, 1.0f, 1.0f});

// RegNeRF's "average" error (internal/math.compute_avg_error, CoR-GS image_utils.avge): the
// geometric mean exp(mean(log([10^(-PSNR/10), sqrt(1 - SSIM), LPIPS]))) of one image's metrics;
// the protocol averages it over images like the other metrics. 1 - SSIM is clamped at 0 against
// rounding. PSNR = +inf or LPIPS = 0 give 0. Throws glimpse::Error when an input is NaN or LPIPS
// is negative (an unavailable LPIPS has no average error).
double average_error(double psnr, double ssim, double lpips);

// [SECTION] LPIPS --------------------------------------------------------------------------------

// What the network receives for images in [0, 1].
enum class LpipsInputScaling {
  // The values unchanged. LPIPS expects [-1, 1], but DNGaussian, FSGS, CoR-GS (lpipsPyTorch) and
  // FreeNeRF/SparseNeRF (lpips.LPIPS without normalize) all pass [0, 1] images: this reproduces
  // the published numbers (sparse_view_methods.md section 2.3).
  PublishedZeroOne,
  // 2 x - 1: the range LPIPS was trained on (lpips normalize=True). Not comparable to papers.
  MinusOneToOne,
};

struct LpipsOptions {
  LpipsInputScaling input_scaling = LpipsInputScaling::PublishedZeroOne;

  // Throws glimpse::Error on an enum value outside the list.
  void check() const;
};

// LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
// Metric", v0.1) with the VGG-16 backbone, run through OpenCV DNN from ONNX.
//
// Expected model file: the WHOLE LPIPS-VGG network (scaling layer, VGG-16 relu1_2..relu5_3, unit
// normalisation over channels, the five v0.1 linear heads, spatial average, sum) in ONNX with
//   inputs  "in0", "in1": float32 [1, 3, H, W] (NCHW, RGB), in LPIPS's [-1, 1] convention;
//   output  one value (shape [1, 1, 1, 1] or [1]): the distance.
// eval/export_lpips_onnx.py produces it from the `lpips` Python package (torchvision's VGG-16
// ImageNet weights + lpips' weights/v0.1/vgg.pth) on a machine that has them, written with ops
// OpenCV 4.6 evaluates correctly: a plain torch export of lpips.LPIPS is NOT usable with OpenCV
// 4.6 (its ReduceSum over channels fails to import, its ReduceMean over H, W returns NaN, and a
// Div by a constant shared by the two inputs' scaling layers silently gives wrong values). The
// script also writes "<model>.reference.json": PyTorch's distance on a fixed probe pair, which
// load() compares with OpenCV's (see verified()). The heads alone (e.g. lpips_v0.1_lin/*.pth)
// are not enough: without the VGG backbone LPIPS cannot be computed, and Glimpse never estimates
// it; load() then reports it unavailable.
class Lpips {
 public:
  // Reference-value file next to a model: model_path + ".reference.json", holding
  //   {"probe": "glimpse-lpips-probe-v1", "width": W, "height": H, "distance": d}
  // with d the exporter's distance for the probe pair fed to the network as is (no scaling):
  //   in0[c][y][x] = 0.5 + 0.45 sin(0.31 x + 0.17 y + 1.3 c)
  //   in1[c][y][x] = 0.5 + 0.45 sin(0.29 x + 0.19 y + 1.3 c + 0.5)      (computed in double).
  static std::string reference_path(const std::string& model_path);

  // Loads and checks the model: reads it with cv::dnn::readNetFromONNX, runs it on a random
  // 64x64 pair and on an identical pair (must give a finite value >= 0, and ~0 for the identical
  // pair), and, when the reference file exists, on its probe pair (must match its distance to
  // 1e-3; a malformed reference file is an error too). Returns std::nullopt when LPIPS is
  // unavailable and, if why_unavailable is given, stores the reason: the file does not exist / is
  // a folder / is not an ONNX network OpenCV can read / does not follow the contract above / does
  // not reproduce the reference value. Throws only on invalid options.
  static std::optional<Lpips> load(const std::string& model_path,
                                   std::string* why_unavailable = nullptr,
                                   const LpipsOptions& options = {});

  Lpips(Lpips&&) noexcept;
  Lpips& operator=(Lpips&&) noexcept;
  ~Lpips();

  // LPIPS distance between two RGB images in [0, 1] of the same shape (scaled per the options).
  // Throws glimpse::Error on a shape mismatch, a non-RGB image, or when the network fails on this
  // size. Not thread-safe (one forward pass at a time per Lpips object).
  double distance(const Image<float>& a, const Image<float>& b);

  const std::string& model_path() const;
  const LpipsOptions& options() const;
  // True when load() found the reference file and OpenCV reproduced its distance; false when
  // there was none (the network passed the contract checks but is not proven to be LPIPS:
  // reports should say so).
  bool verified() const;

 private:
  struct Impl;
  explicit Lpips(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace glimpse
