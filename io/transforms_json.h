// transforms.json scenes: Blender NeRF-synthetic (Mildenhall et al., "NeRF", ECCV 2020),
// instant-ngp (Müller et al., SIGGRAPH 2022) and nerfstudio (Tancik et al., SIGGRAPH 2023).
// Camera-to-world OpenGL poses become OpenCV cam_from_world; distorted images become pinhole.
#pragma once

#include "core/camera.h"
#include "core/dataset.h"
#include "core/math.h"
#include "io/colmap.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace glimpse {

// How an image with an alpha channel (Blender's RGBA PNGs) becomes a view.
enum class AlphaBackground {
  kWhite,  // image = rgb * alpha + (1 - alpha), no mask: the sparse-view Blender protocols
           // (DietNeRF, FreeNeRF, DNGaussian) train and evaluate on white
  kBlack,  // image = rgb * alpha, no mask (the 3DGS default background)
  kMask,   // image = rgb as stored, View::mask = alpha: the trainer composites the image over its
           // own (possibly random) background each step; never combined with the above, which
           // would composite twice at soft edges
};
struct TransformsOptions {
  bool load_images = true;  // false: cameras only (images are decoded only when the file has no
                            // "w"/"h" to size them)
  int downscale = 1;        // divide the image size by this (area filter, size rounded)
  AlphaBackground background = AlphaBackground::kWhite;

  // Throws glimpse::Error when a field is out of range (downscale < 1).
  void check() const;
};

// Intrinsic keys of a transforms file: the top-level values, overridden by a frame's own keys.
// Absent keys are empty; distortion coefficients default to 0.
struct TransformsIntrinsics {
  std::optional<double> fl_x, fl_y;  // focal lengths in pixels (instant-ngp, nerfstudio)
  std::optional<double> cx, cy;      // principal point in pixels (pixel-corner origin, like
                                     // COLMAP, from which these files are made); default w/2, h/2
  std::optional<double> camera_angle_x, camera_angle_y;  // Blender: full field of view (radians)
  std::optional<double> w, h;  // the image size the intrinsics refer to (default: the image's)
  // OpenCV distortion: radial k1 k2 k3 (r^2 r^4 r^6), rational k4 k5 k6 (denominator, OpenCV's
  // and COLMAP FULL_OPENCV's meaning; nerfstudio's reader instead reads k4 as an r^8 term),
  // tangential p1 p2. Fisheye: k1..k4 of OpenCV's equidistant model.
  double k1 = 0, k2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0, p1 = 0, p2 = 0;
  bool fisheye = false;  // "camera_model": "OPENCV_FISHEYE" or instant-ngp's "is_fisheye": true
};

struct TransformsFrame {
  std::string file_path;  // "file_path" as written: relative to the json's folder, extension
                          // optional (Blender writes "./train/r_0" for "./train/r_0.png")
  Mat3<double> rotation = Mat3<double>::identity();  // cam_from_world, OpenCV axes
  Vec3<double> translation;                          // cam_from_world: p_in_cam = R p + t
  TransformsIntrinsics intrinsics;
};

// Parses a transforms file. transform_matrix is camera-to-world with OpenGL camera axes (x right,
// y up, z backward), 4x4 or 3x4 row-major; the OpenCV camera-to-world rotation is its rotation
// with the y and z columns negated, and cam_from_world = (R^T, -R^T centre). Unknown keys
// ("aabb_scale", "sharpness", "applied_transform", ...) are ignored. Throws glimpse::Error naming
// `what` and the frame index for invalid JSON, a missing or mistyped key, a non-finite matrix or
// one whose last row is not (0, 0, 0, 1), an unsupported "camera_model".
std::vector<TransformsFrame> parse_transforms_json(std::istream& in, const std::string& what);

// The camera model of a frame for an image of image_width x image_height pixels: fx = fl_x, else
// 0.5 w / tan(0.5 camera_angle_x); fy = fl_y, else 0.5 h / tan(0.5 camera_angle_y), else fx;
// scaled from (w, h) to the image size. PINHOLE without distortion, OPENCV (k1 k2 p1 p2),
// FULL_OPENCV (any of k3..k6) or OPENCV_FISHEYE. Throws naming `what` when no focal length is
// given, a value is out of range or the image's aspect ratio differs from w / h.
ColmapCamera transforms_camera(const TransformsIntrinsics& intrinsics, int image_width,
                               int image_height, const std::string& what);

// Reads a transforms scene. `path_or_dir` is a json file, or a folder holding transforms.json or
// Blender's transforms_train.json + transforms_test.json (then both are read, train frames first,
// and train_ids / test_ids index them; transforms_val.json is not read). Views keep the file
// order; a view's name is its image path relative to the json's folder ("train/r_0.png"). Images
// are loaded, flattened or masked by `background` when they have alpha, undistorted to the pinhole
// camera with the same fx, fy, cx, cy (undistort_colmap_image) and downscaled. The format has no
// depth bounds: they are estimated from the cameras (core/dataset.h
// estimate_depth_bounds_from_cameras), and stay 0 (unknown) when the axes do not meet in front.
// Throws glimpse::Error naming the file and frame index for every problem, including an image that
// does not exist with or without a .png/.jpg/.jpeg extension.
Dataset read_transforms_json(const std::string& path_or_dir, const TransformsOptions& options = {});

}  // namespace glimpse
