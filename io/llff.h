// LLFF forward-facing scenes (Mildenhall et al., "Local Light Field Fusion", SIGGRAPH 2019):
// poses_bounds.npy + images_<factor>/, converted at load time to OpenCV cameras (x right, y down,
// z forward) and an optional split.json naming the train and test views.
#pragma once

#include "core/camera.h"
#include "core/dataset.h"

#include <string>

namespace glimpse {

struct LlffOptions {
  int factor = 8;           // read images from images_<factor>/; 1 means images/
  bool load_images = true;  // false: views get names, paths and cameras only (size = full / factor)
  // > 0: scale the world so the smallest near bound becomes 1 / bd_factor, as the reference
  // NeRF loader (load_llff_data, bd_factor = 0.75) does; 0 keeps the stored (COLMAP) scale.
  double bd_factor = 0.0;

  // Throws glimpse::Error when a field is out of range (factor < 1, bd_factor < 0 or not finite).
  void check() const;
};

// Reads an LLFF scene folder:
//   <root>/poses_bounds.npy  N x 17 float64, row i for the i-th image in sorted name order:
//                            3x5 [down right back | centre | (height, width, focal)] camera-to-
//                            world at FULL resolution, then the near and far depth bounds;
//   <root>/images_<factor>/  N images (png/jpg/jpeg, any case), all the same size;
//   <root>/split.json        optional {"train": [names], "test": [names]} -> train_ids/test_ids.
// Intrinsics are scaled to the loaded image size (fx = fy = focal * width / full_width, principal
// point at the image centre). Every problem throws glimpse::Error naming the file and what is
// wrong (missing folder, count mismatch, NaN or non-orthonormal pose, bad bounds, odd image size,
// unknown name in split.json).
Dataset read_llff(const std::string& root, const LlffOptions& options = {});

// Converts the first 15 values of one poses_bounds row (the 3x5 matrix, row-major) to an OpenCV
// camera for an image of width x height pixels: camera-to-world rotation columns (x, y, z) =
// (right, down, -back), centre = column 3, cam_from_world = (R^T, -R^T c); fx = fy = focal *
// width / full_width, (cx, cy) = (width / 2, height / 2). Does not validate (see check_camera).
Camera camera_from_llff_row(const double* row, int width, int height);

}  // namespace glimpse
