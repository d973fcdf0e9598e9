// PSNR, masked PSNR, SSIM_gs / SSIM_sk, white compositing and the average error of the
// sparse-view protocols (RegNeRF eval.py, scikit-image structural_similarity, 3DGS loss_utils).
#include "eval/metrics.h"

#include "core/check.h"
#include "optim/losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace glimpse {
namespace {

void check_same_shape(const Image<float>& a, const Image<float>& b, const char* what) {
  GLIMPSE_CHECK(a.width() == b.width() && a.height() == b.height() && a.channels() == b.channels())
      << what << ": images differ in shape (" << a.width() << "x" << a.height() << "x"
      << a.channels() << " vs " << b.width() << "x" << b.height() << "x" << b.channels() << ")";
  GLIMPSE_CHECK(!a.empty()) << what << ": images are empty";
}

void check_mask(const Image<float>& image, const Image<float>& mask, const char* what) {
  GLIMPSE_CHECK(mask.channels() == 1)
      << what << ": the mask must have 1 channel, it has " << mask.channels();
  GLIMPSE_CHECK(mask.width() == image.width() && mask.height() == image.height())
      << what << ": mask is " << mask.width() << "x" << mask.height() << ", image is "
      << image.width() << "x" << image.height();
}

double psnr_from_mse(double mse) { return -10.0 * std::log10(mse); }

Image<double> to_double(const Image<float>& img) {
  Image<double> out(img.width(), img.height(), img.channels());
  for (size_t i = 0; i < img.size(); ++i) out.data()[i] = img.data()[i];
  return out;
}

}  // namespace

double psnr(const Image<float>& a, const Image<float>& b) {
  check_same_shape(a, b, "psnr");
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a.data()[i]) - b.data()[i];
    sum += d * d;
  }
  return psnr_from_mse(sum / static_cast<double>(a.size()));
}

double psnr_masked(const Image<float>& a, const Image<float>& b, const Image<float>& mask) {
  check_same_shape(a, b, "psnr_masked");
  check_mask(a, mask, "psnr_masked");
  const int channels = a.channels();
  double sum = 0.0;
  size_t selected = 0;
  for (size_t p = 0; p < a.num_pixels(); ++p) {
    if (!(mask.data()[p] > 0.5f)) continue;
    ++selected;
    for (int c = 0; c < channels; ++c) {
      const size_t i = p * channels + c;
      const double d = static_cast<double>(a.data()[i]) - b.data()[i];
      sum += d * d;
    }
  }
  GLIMPSE_CHECK(selected > 0) << "psnr_masked: the mask selects no pixel (no value > 0.5)";
  return psnr_from_mse(sum / (static_cast<double>(selected) * channels));
}

double ssim_3dgs(const Image<float>& a, const Image<float>& b) {
  check_same_shape(a, b, "ssim_3dgs");
  return ssim(to_double(a), to_double(b));
}

void SsimSkimageOptions::check() const {
  GLIMPSE_CHECK(std::isfinite(data_range) && data_range > 0)
      << "SsimSkimageOptions: data_range must be finite and > 0, got " << data_range;
}

double ssim_skimage(const Image<float>& a, const Image<float>& b,
                    const SsimSkimageOptions& options) {
  options.check();
  check_same_shape(a, b, "ssim_skimage");
  constexpr int kWin = 7, kPad = (kWin - 1) / 2;
  constexpr double kNp = kWin * kWin;
  constexpr double kCovNorm = kNp / (kNp - 1.0);  // use_sample_covariance=True
  GLIMPSE_CHECK(a.width() >= kWin && a.height() >= kWin)
      << "ssim_skimage: the 7x7 window exceeds the " << a.width() << "x" << a.height() << " image";
  const double c1 = (0.01 * options.data_range) * (0.01 * options.data_range);
  const double c2 = (0.03 * options.data_range) * (0.03 * options.data_range);
  const int w = a.width(), h = a.height(), channels = a.channels();
  const int out_w = w - 2 * kPad, out_h = h - 2 * kPad;

  // Horizontal 7-sums of a, b, a^2, b^2, ab for the cropped columns, then vertical 7-sums. The
  // crop keeps only windows fully inside the image, so scipy's boundary mode plays no part.
  constexpr int kMoments = 5;
  std::vector<double> rows(static_cast<size_t>(kMoments) * h * out_w);
  auto row_at = [&](int m, int y, int x) -> double& {
    return rows[(static_cast<size_t>(m) * h + y) * out_w + x];
  };
  double total = 0.0;
  for (int c = 0; c < channels; ++c) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < out_w; ++x) {
        double s[kMoments] = {0, 0, 0, 0, 0};
        for (int k = 0; k < kWin; ++k) {
          const double p = a.at(x + k, y, c), q = b.at(x + k, y, c);
          s[0] += p;
          s[1] += q;
          s[2] += p * p;
          s[3] += q * q;
          s[4] += p * q;
        }
        for (int m = 0; m < kMoments; ++m) row_at(m, y, x) = s[m];
      }
    double channel_sum = 0.0;
    for (int y = 0; y < out_h; ++y)
      for (int x = 0; x < out_w; ++x) {
        double s[kMoments] = {0, 0, 0, 0, 0};
        for (int k = 0; k < kWin; ++k)
          for (int m = 0; m < kMoments; ++m) s[m] += row_at(m, y + k, x);
        const double ux = s[0] / kNp, uy = s[1] / kNp;
        const double vx = kCovNorm * (s[2] / kNp - ux * ux);
        const double vy = kCovNorm * (s[3] / kNp - uy * uy);
        const double vxy = kCovNorm * (s[4] / kNp - ux * uy);
        const double num = (2 * ux * uy + c1) * (2 * vxy + c2);
        const double den = (ux * ux + uy * uy + c1) * (vx + vy + c2);
        channel_sum += num / den;
      }
    total += channel_sum / (static_cast<double>(out_w) * out_h);
  }
  return total / channels;
}

Image<float> composite_background(const Image<float>& img, const Image<float>& mask,
                                  Vec3<float> background) {
  GLIMPSE_CHECK(img.channels() == 3)
      << "composite_background: the image must be RGB (3 channels), it has " << img.channels();
  check_mask(img, mask, "composite_background");
  Image<float> out(img.width(), img.height(), 3);
  for (size_t p = 0; p < img.num_pixels(); ++p) {
    const float m = mask.data()[p];
    for (int c = 0; c < 3; ++c)
      out.data()[p * 3 + c] = img.data()[p * 3 + c] * m + background[c] * (1.0f - m);
  }
  return out;
}

double average_error(double psnr, double ssim, double lpips) {
  GLIMPSE_CHECK(!std::isnan(psnr) && !std::isnan(ssim) && !std::isnan(lpips))
      << "average_error: NaN input (PSNR " << psnr << ", SSIM " << ssim << ", LPIPS " << lpips
      << ")";
  GLIMPSE_CHECK(lpips >= 0) << "average_error: LPIPS must be >= 0, got " << lpips;
  const double mse = std::pow(10.0, -psnr / 10.0);
  const double dssim = std::sqrt(std::max(0.0, 1.0 - ssim));
  const double mean_log = (std::log(mse) + std::log(dssim) + std::log(lpips)) / 3.0;
  return std::exp(mean_log);
}

}  // namespace glimpse
