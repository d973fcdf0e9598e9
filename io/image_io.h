// Image files <-> Image<float>: RGB and mask reading (8/16-bit PNG, JPEG, ...), atomic 8-bit PNG
// writing, depth colourisation for previews, and area resampling. OpenCV stays inside io/.
#pragma once

#include "core/dataset.h"
#include "core/image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

// Reads an image as 3-channel RGB floats in [0, 1]. 8-bit values are divided by 255, 16-bit by
// 65535, 32-bit float images are kept as stored. Gray is replicated to RGB; the alpha channel of
// RGBA/gray+alpha images is dropped (not composited). EXIF orientation is ignored: poses are
// computed on the stored pixel grid (COLMAP and LLFF do the same). Throws glimpse::Error
// "cannot read image <path>: file does not exist / not a decodable image / ...".
Image<float> read_image_rgb(const std::string& path);

// Reads every view's image_path into its image (read_image_rgb), in parallel on the global pool.
// Throws the first reader error.
void read_view_images(std::vector<View>& views);

// Reads a mask as 1 channel in [0, 1]: gray as is, RGB as the mean of the channels, RGBA as the
// alpha channel (a cut-out's alpha is its mask). Same scaling and errors as read_image_rgb.
Image<float> read_mask(const std::string& path);

// Writes a 1-channel (gray) or 3-channel (RGB) image as an 8-bit PNG: values clamped to [0, 1],
// scaled by 255 and rounded (NaN -> 0). Atomic: writes "<path>.tmp.<pid>.png" in the same folder,
// then renames it to `path`; on failure the temporary is removed and an Error names `path`.
void write_png(const std::string& path, const Image<float>& image);

// Colourises a 1-channel depth map with OpenCV's COLORMAP_TURBO: `near` maps to the blue end, `far`
// to the red end (values outside are clamped); invalid pixels (<= 0 or not finite) are black.
// Returns RGB in [0, 1]. Requires 0 <= near < far, both finite.
Image<float> colorize_depth(const Image<float>& depth, float near, float far);

// A depth map for people to look at, readable for forward-facing scenes whose far bound is many
// times the near one: TURBO linear in inverse depth, blue at `near`, red at `far` (clamped),
// invalid pixels (<= 0, not finite) black, and, when `with_scale`, a colour bar to the right of
// the image labelled with the depths at five points (the scale written beside the image). The
// result is wider than the depth map by the bar. Requires 0 < near < far, both finite.
Image<float> depth_preview(const Image<float>& depth, double near, double far,
                           bool with_scale = true);

// The image with 8 bits per value: [0, 1] rounded to 0..255 (below 0 and NaN: 0; above 1: 255),
// the quantisation write_png uses.
Image<uint8_t> to_bytes(const Image<float>& image);

// Resamples to width x height with pixel-area averaging (cv::INTER_AREA; a box filter when
// shrinking by an integer factor), any channel count.
Image<float> resize_image_area(const Image<float>& image, int width, int height);

// Image files (.png, .jpg, .jpeg, any case) of `folder`, sorted by name in byte order (like
// Python's sorted()); hidden files (".DS_Store", "._image000.png") are skipped. Throws
// glimpse::Error naming the folder when it cannot be listed.
std::vector<std::string> list_image_files(const std::string& folder);

}  // namespace glimpse
