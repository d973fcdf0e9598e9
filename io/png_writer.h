// io-internal: writes an OpenCV matrix as a PNG atomically (temporary sibling file, then rename),
// with errors naming the file. Shared by the 8-bit image writer and the 16-bit depth writer.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace glimpse {

// Throws glimpse::Error when the folder does not exist or the encoder fails (nothing is left
// behind then).
void write_mat_png_atomically(const std::string& path, const cv::Mat& m);

}  // namespace glimpse
