// Image metrics of the sparse-view benchmarks (RegNeRF, FreeNeRF, DNGaussian, FSGS, CoR-GS eval
// code): PSNR and DTU's masked PSNR, both SSIM implementations in circulation (3DGS and
// scikit-image), white compositing for DTU's masked SSIM/LPIPS, RegNeRF's average error. LPIPS
// itself: eval/lpips.h.
#pragma once

#include "core/image.h"
#include "core/math.h"

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

}  // namespace glimpse
