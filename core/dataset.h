// A posed image collection as every module sees it (readers in io/ produce it; optim and eval
// consume it without knowing the file layout).
#pragma once

#include "core/camera.h"
#include "core/image.h"

#include <string>
#include <vector>

namespace glimpse {

struct View {
  std::string name;        // file name of the image, e.g. "image000.png"
  std::string image_path;  // full path it was read from
  Camera camera;           // intrinsics at the loaded image size, cam_from_world pose
  Image<float> image;      // RGB in [0, 1], camera.width x camera.height (empty until loaded)
  Image<float> mask;       // optional single-channel mask in [0, 1] (empty when none)
};

struct Dataset {
  std::string root;         // folder it was read from
  std::string format;       // "llff", "colmap", "dtu", "blender", ...
  std::vector<View> views;  // in the dataset's canonical order (sorted file names for LLFF)
  double near_depth = 0.0;  // scene depth bounds over all views (0 when unknown)
  double far_depth = 0.0;
  std::vector<int> train_ids;  // indices into views, empty when the reader sets no split
  std::vector<int> test_ids;
};

// The widest depth range accepted (far / near): bounds beyond it are not scene depths (a near
// bound of 1e-300 once set the world scale to 1e300 and left no Gaussian).
inline constexpr double kMaxFarOverNear = 1e6;

// Throws glimpse::Error (messages start with `who`, e.g. "train", and name `dir`) unless the
// dataset has views, finite positive depth bounds with near < far <= kMaxFarOverNear * near, an
// RGB image of its camera's size for every view, and a split whose indices are in range, each
// listed once, none both a training and a test view.
void check_dataset_for_rendering(const Dataset& dataset, const std::string& dir,
                                 const std::string& who);

// The point closest (least squares) to all the views' optical axes: the centre of the scene a
// ring or arc of cameras looks at. False (centre unchanged) when the axes are (nearly) parallel,
// e.g. a single view or a forward-facing capture.
bool optical_axes_center(const std::vector<View>& views, Vec3<double>& center);

// Depth bounds for a capture that gives none (transforms.json): from the depth d_i of the
// optical-axes centre in each view, near = 0.5 min d_i and far = 1.5 max d_i (NeRF's Blender
// scenes: cameras at distance 4 -> near 2, far 6, their fixed bounds). False when no centre is
// found or it lies behind a camera.
bool estimate_depth_bounds_from_cameras(const std::vector<View>& views, double& near, double& far);

}  // namespace glimpse
