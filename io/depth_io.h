// Depth maps on disk <-> Image<float> (1 channel): 16-bit PNG with a scale, .npy (float32/64),
// PFM (Netpbm-style float maps, as MVSNet and Middlebury write them), EXR through OpenCV; and mask
// binarisation for anti-aliased masks (DTU's IDR masks).
#pragma once

#include "core/image.h"

#include <iosfwd>
#include <string>

namespace glimpse {

enum class DepthFormat {
  kAuto,   // from the extension: .png, .npy, .pfm, .exr (any case)
  kPng16,  // 16-bit (or 8-bit) single-channel PNG, depth = value / png_scale
  kNpy,    // H x W, H x W x 1 or 1 x H x W array of any numeric dtype read_npy supports
  kPfm,    // 'Pf' (1 channel), or 'PF' (3 channels) whose channels are all equal
  kExr,    // OpenEXR, first channel, through OpenCV (IMREAD_ANYDEPTH)
};

struct DepthReadOptions {
  DepthFormat format = DepthFormat::kAuto;
  // PNG only: stored value / png_scale = depth. 1000 reads millimetre PNGs as metres (the
  // convention of most RGB-D datasets); SparseNeRF's 16-bit DPT PNGs are relative: use 1.
  double png_scale = 1000.0;

  // Throws glimpse::Error when png_scale is not positive and finite.
  void check() const;
};

// Reads a depth map as a 1-channel float image. Invalid pixels keep the value the file stores
// (0 in PNGs; NaN or inf may come from PFM/NPY/EXR). Throws glimpse::Error naming the file and
// the problem (missing, unknown extension, wrong channel count or bit depth, truncated data).
Image<float> read_depth(const std::string& path, const DepthReadOptions& options = {});

// PFM: "Pf\n<width> <height>\n<scale>\n" then width*height float32 rows, BOTTOM row first;
// scale < 0 means little-endian data, > 0 big-endian (|scale| is otherwise ignored). 'PF' files
// have 3 interleaved channels and are returned with 3 channels. Whitespace in the header may be
// any mix of spaces and newlines, with exactly one whitespace byte before the data.
Image<float> read_pfm(std::istream& in, const std::string& what);
Image<float> read_pfm(const std::string& path);

// Writes a 1-channel ('Pf') or 3-channel ('PF') image as little-endian PFM (scale -1), bottom row
// first; atomically for the path overload.
void write_pfm(std::ostream& out, const Image<float>& image);
void write_pfm(const std::string& path, const Image<float>& image);

// .npy depth: any numeric dtype (float32 and float64 are the usual ones), converted to float.
Image<float> read_depth_npy(std::istream& in, const std::string& what);
Image<float> read_depth_npy(const std::string& path);

// Writes a 1-channel image as an H x W '<f4' .npy (what numpy.save writes for float32); atomic.
void write_depth_npy(std::ostream& out, const Image<float>& depth);
void write_depth_npy(const std::string& path, const Image<float>& depth);

// 16-bit PNG: depth = value / scale. Integer PNGs only (8 or 16 bits, one channel).
Image<float> read_depth_png16(const std::string& path, double scale);

// Writes round(depth * scale) as a 16-bit single-channel PNG, atomically. Pixels that are not
// finite or <= 0 are written as 0 (invalid). Throws, writing nothing, when a value would exceed
// 65535 (names the largest depth and the largest scale that would fit).
void write_depth_png16(const std::string& path, const Image<float>& depth, double scale);

// OpenEXR depth (first channel) through OpenCV. OpenCV 4.x disables its EXR codec unless the
// environment variable OPENCV_IO_ENABLE_OPENEXR is set when it first touches EXR; this sets it to
// 1 for the process (unless already set) before reading, and reports a clear error if the codec
// is still unavailable (built without OpenEXR, or disabled explicitly by the environment).
Image<float> read_depth_exr(const std::string& path);

// Binarises a 1-channel mask: 1 where value > threshold, else 0 (NaN -> 0). DTU's IDR masks are
// anti-aliased RGB, read by read_mask as the mean of the channels: 0.5 keeps the pixels that are
// mostly object; RegNeRF's `mask == 1` test is threshold 254.5 / 255.
Image<float> threshold_mask(const Image<float>& mask, float threshold);

}  // namespace glimpse
