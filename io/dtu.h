// DTU MVS scans (Aanæs et al., IJCV 2016) in the two layouts sparse-view papers use: IDR/NeuS
// (cameras_sphere.npz + image/ + mask/) and the original Rectified images with MVSNet cam.txt or
// Calibration/cal18 projection files and RegNeRF's idrmasks. Poses stay in DTU's world frame (mm).
#pragma once

#include "core/camera.h"
#include "core/dataset.h"

#include <array>
#include <iosfwd>
#include <string>
#include <vector>

namespace glimpse {

enum class DtuLayout {
  kAuto,       // IDR when the scan folder holds cameras_sphere.npz or cameras.npz, else Rectified
  kIdr,        // <scan>/cameras_sphere.npz (or cameras.npz), <scan>/image/ (or images/), mask/
  kRectified,  // Rectified/<scan>/rect_XXX_<light>_r5000.png, Cameras/ or Calibration/cal18/
};

enum class DtuMasks {
  kNone,       // do not read masks
  kIfPresent,  // read the masks that exist; views without one keep an empty View::mask
  kRequired,   // every view needs a mask (errors name the missing file)
};

// DTU's calibration frame: the full-resolution Rectified images the projection matrices refer to.
inline constexpr int kDtuCalibrationWidth = 1600;
inline constexpr int kDtuCalibrationHeight = 1200;
// Object radius assumed when no scale_mat is available, in DTU millimetres: IDR's scale_mat
// radii of DTU scans are 200..260 (scan24: 231, scan37: 256).
inline constexpr double kDtuDefaultRadiusMm = 250.0;

struct DtuOptions {
  DtuLayout layout = DtuLayout::kAuto;
  // Scan folder name, e.g. "scan24". IDR: the scan folder is <root>/<scan> (empty: <root> itself
  // is the scan folder). Rectified: <root>/Rectified/<scan> (required).
  std::string scan;
  // Output image size. The sparse-view protocol (RegNeRF/pixelNeRF split) uses 400x300, the
  // 1600x1200 frame downscaled by 4 with pixel-area averaging. 0 x 0 keeps the stored size.
  int width = 400;
  int height = 300;
  bool load_images = true;  // false: views get names, paths and cameras only
  DtuMasks masks = DtuMasks::kIfPresent;
  // Masks are binarised with threshold_mask (value > threshold -> 1) after resizing; DTU's IDR
  // masks are anti-aliased RGB. Negative: keep the soft values in [0, 1].
  float mask_threshold = 0.5f;
  // Rectified layout: lighting index of rect_XXX_<light>_r5000.png (3 in the RegNeRF protocol;
  // views 50..64 of the 64-view scans are _r7000).
  int light = 3;
  // Rectified layout: folder holding <scan>/ with the masks; empty searches <root>/idrmasks and
  // <root>/submission_data/idrmasks. Masks are <scan>/mask/XXX.png or <scan>/XXX.png, XXX the
  // 0-based view id.
  std::string mask_root;
  // Size of the frame the calibration (world_mat / cam.txt / pos_XXX.txt) refers to: DTU's
  // 1600x1200. Intrinsics are scaled from it to the output size.
  int calibration_width = kDtuCalibrationWidth;
  int calibration_height = kDtuCalibrationHeight;
  // Pixel convention of the calibration. false (default): continuous coordinates with the origin
  // at the image corner, so pixel (i, j) spans [i, i+1) and scaling multiplies cx, cy (what
  // shared/data/SOURCES.md, DVR's camera_mat mapping [0, W] -> [-1, 1] and RegNeRF's +0.5 ray
  // offsets assume). true: pixel centres at integers (Bouguet's toolbox, NeuS's ray grid), so
  // 0.5 is added to cx, cy before scaling. At 400x300 the two differ by 0.125 pixel.
  bool calibration_pixel_centers_at_integers = false;

  // Throws glimpse::Error when a field is out of range.
  void check() const;
};

// A DTU scan as read: the dataset plus what the DTU files say beyond it.
struct DtuScene {
  // Views ordered by DTU view id; format "dtu"; cameras at the output size in DTU's world frame
  // (millimetres, cam_from_world); near/far bound the object sphere (see read_dtu_scene). No
  // split is set: the pixelNeRF/RegNeRF view split belongs to the evaluation protocols.
  Dataset dataset;
  std::vector<int> view_ids;  // 0-based DTU view id of each view (image k is rect_{k+1:03d})
  DtuLayout layout = DtuLayout::kAuto;  // the layout found (kIdr or kRectified)
  // Object sphere in the world frame: x_world = scale_mat * x_normalized maps the unit sphere
  // onto it (row-major 4x4, IDR's scale_mat_0: diag(r, r, r, 1) with the centre in the last
  // column). From the file when has_scale_mat; otherwise centre = the point closest to all
  // optical axes and radius = kDtuDefaultRadiusMm.
  std::array<double, 16> scale_mat{};
  Vec3<double> center;
  double radius = 0.0;
  bool has_scale_mat = false;
};

// Reads a DTU scan. For every view the 3x4 projection P = K [R | t] (world mm -> pixels of the
// 1600x1200 frame) is decomposed like IDR's load_K_Rt_from_P (cv::decomposeProjectionMatrix,
// K / K[2][2], signs fixed so that fx, fy > 0 and det R = +1), then K is scaled to the output
// size. Poses are NOT normalised by scale_mat (IDR/NeuS multiply P by it): callers that want the
// unit-sphere frame use camera_in_normalized_frame with DtuScene::center and radius.
// near/far: with a scale_mat, min/max over views of |camera centre - sphere centre| -/+ radius
// (so the whole object sphere lies in range); without, the estimated centre -/+ 1.5 *
// kDtuDefaultRadiusMm. near is kept >= 1% of the smallest camera distance.
// Throws glimpse::Error naming the file and the problem (missing folder or calibration, missing
// world_mat_i, bad projection matrix, image size not matching the calibration aspect, a view
// without a mask under DtuMasks::kRequired).
DtuScene read_dtu_scene(const std::string& root, const DtuOptions& options = {});

// read_dtu_scene(root, options).dataset.
Dataset read_dtu(const std::string& root, const DtuOptions& options = {});

// Decomposes a 3x4 projection matrix (row-major, P = s K [R | t] with any s != 0) for a frame of
// calibration_width x calibration_height pixels into a camera of width x height pixels (the same
// frame resized). P is first scaled so that its left 3x3 block has a unit third row and positive
// determinant (OpenCV's RQ adds DBL_EPSILON under square roots, which costs precision on small
// entries). `what` names the source in errors: singular left block, skew above 1e-3 fx, or a
// principal point outside the middle half of the calibration frame (calibration for another
// image size, e.g. MVSNet's 160x128 Cameras/train/ files).
Camera camera_from_projection(const double* p_3x4, int calibration_width, int calibration_height,
                              int width, int height, bool pixel_centers_at_integers,
                              const std::string& what);

// An MVSNet camera file ({id:08d}_cam.txt):
//   extrinsic \n 4x4 cam_from_world \n\n intrinsic \n 3x3 K \n\n depth_min depth_interval
//   [depth_num depth_max]
struct MvsnetCam {
  std::array<double, 16> extrinsic{};            // row-major cam_from_world
  std::array<double, 9> intrinsic{};             // row-major K
  double depth_min = 0.0, depth_interval = 0.0;  // 0 when the line is absent
};
MvsnetCam read_mvsnet_cam(std::istream& in, const std::string& what);

// Camera from an MVSNet cam file: P = K [R | t] from the 3x4 top of the extrinsic, then as
// camera_from_projection.
Camera camera_from_mvsnet(const MvsnetCam& cam, int calibration_width, int calibration_height,
                          int width, int height, bool pixel_centers_at_integers,
                          const std::string& what);

// A DTU Calibration/cal18/pos_XXX.txt file: 12 numbers, the 3x4 projection row by row.
std::array<double, 12> read_projection_txt(std::istream& in, const std::string& what);

// The camera with its world frame replaced by the normalised one, x_norm = (x_world - center) /
// radius (IDR/NeuS's unit-sphere frame): same intrinsics and rotation, t' = (R center + t) /
// radius.
Camera camera_in_normalized_frame(const Camera& camera, const Vec3<double>& center, double radius);

}  // namespace glimpse
