// Image losses of 3D Gaussian Splatting (Kerbl et al. 2023, utils/loss_utils.py): L1, SSIM with the
// 11x11 Gaussian window (Wang et al. 2004) and L = (1 - lambda) L1 + lambda (1 - SSIM), each with
// its exact gradient with respect to the rendered image.
#pragma once

#include "core/image.h"

namespace glimpse {

// SSIM window: 11x11 Gaussian, sigma 1.5, normalised, applied as two 1D passes with zero padding
// (the reference's conv2d(padding = 5)); stabilisers C1 = (0.01 L)^2, C2 = (0.03 L)^2 for L = 1.
inline constexpr int kSsimWindowRadius = 5;
inline constexpr int kSsimWindowSize = 2 * kSsimWindowRadius + 1;
inline constexpr double kSsimSigma = 1.5;
inline constexpr double kSsimC1 = 0.01 * 0.01;
inline constexpr double kSsimC2 = 0.03 * 0.03;
// Weight of D-SSIM in the 3DGS photometric loss.
inline constexpr double kDefaultDssimLambda = 0.2;

// All losses take two images of the same non-empty shape (throws glimpse::Error otherwise) and
// return a mean over every value (pixels x channels), accumulated in double in a fixed order, so
// results do not depend on the thread count. When `grad_a` is given it is reshaped to a's shape
// if needed and overwritten with d loss / d a. Rows run in parallel on ThreadPool::global().

// mean |a - b|; gradient sign(a - b) / n with sign(0) = 0 (torch's abs backward).
template <typename T>
double l1_loss(const Image<T>& a, const Image<T>& b, Image<T>* grad_a = nullptr);

// Mean SSIM map of the reference 3DGS ssim(): local means, variances and covariance under the
// window (zero padded at the borders), SSIM = (2 mu_a mu_b + C1)(2 s_ab + C2) /
// ((mu_a^2 + mu_b^2 + C1)(s_aa + s_bb + C2)) per pixel and channel, averaged. 1 for a == b.
template <typename T>
double ssim(const Image<T>& a, const Image<T>& b, Image<T>* grad_a = nullptr);

// Terms of a photometric loss (means over every value).
struct PhotometricLoss {
  double loss = 0;  // l1_weight * l1 + dssim_weight * (1 - ssim)
  double l1 = 0;    // mean |render - target|
  double ssim = 0;  // mean SSIM
};

// 3DGS loss (1 - lambda) L1 + lambda (1 - SSIM), lambda = 0.2 in the reference, and its gradient
// with respect to the render; L1 and SSIM are computed in one fused pass.
template <typename T>
PhotometricLoss photometric_loss(const Image<T>& render, const Image<T>& target,
                                 double lambda = kDefaultDssimLambda,
                                 Image<T>* grad_render = nullptr);

// The general form l1_weight L1 + dssim_weight (1 - SSIM), for methods whose loss is
// L1 + lambda D-SSIM (DNGaussian, DropGaussian: not (1 - lambda) L1).
template <typename T>
PhotometricLoss weighted_photometric_loss(const Image<T>& render, const Image<T>& target,
                                          double l1_weight, double dssim_weight,
                                          Image<T>* grad_render = nullptr);

}  // namespace glimpse
