// COLMAP sparse models (Schönberger & Frahm, "Structure-from-Motion Revisited", CVPR 2016): the
// binary and text cameras/images/points3D files, every COLMAP camera model's projection, and the
// 3DGS scene layout (images/ + sparse/0/) as a Dataset of views undistorted to pinhole cameras.
#pragma once

#include "core/camera.h"
#include "core/dataset.h"
#include "core/image.h"
#include "core/math.h"

#include <array>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace glimpse {

// [SECTION] camera models -----------------------------------------------------------------------

// COLMAP's camera model ids and parameter lists (src/colmap/sensor/models.h). Ids 0-10 are stable
// since COLMAP 3.0; 11-17 come from newer releases and the main branch. Focal lengths and the
// principal point are in pixels with COLMAP's pixel convention, which is ours: the top-left
// corner is (0, 0), the centre of pixel (i, j) is (i + 0.5, j + 0.5).
enum class ColmapCameraModel : int {
  kSimplePinhole = 0,            // f, cx, cy
  kPinhole = 1,                  // fx, fy, cx, cy
  kSimpleRadial = 2,             // f, cx, cy, k
  kRadial = 3,                   // f, cx, cy, k1, k2
  kOpenCV = 4,                   // fx, fy, cx, cy, k1, k2, p1, p2
  kOpenCVFisheye = 5,            // fx, fy, cx, cy, k1, k2, k3, k4
  kFullOpenCV = 6,               // fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, k5, k6
  kFov = 7,                      // fx, fy, cx, cy, omega
  kSimpleRadialFisheye = 8,      // f, cx, cy, k
  kRadialFisheye = 9,            // f, cx, cy, k1, k2
  kThinPrismFisheye = 10,        // fx, fy, cx, cy, k1, k2, p1, p2, k3, k4, sx1, sy1
  kRadTanThinPrismFisheye = 11,  // fx, fy, cx, cy, k0, k1, k2, k3, k4, k5, p0, p1, s0, s1, s2, s3
  kSimpleDivision = 12,          // f, cx, cy, k
  kDivision = 13,                // fx, fy, cx, cy, k
  kSimpleFisheye = 14,           // f, cx, cy
  kFisheye = 15,                 // fx, fy, cx, cy
  kEucm = 16,                    // fx, fy, cx, cy, alpha, beta
  kEquirectangular = 17,         // w, h (spherical: readable, but no pinhole view can be made)
};

// Every model above, in id order.
const std::vector<ColmapCameraModel>& colmap_camera_models();
// The model's name as COLMAP writes it in cameras.txt ("SIMPLE_RADIAL").
const char* colmap_model_name(ColmapCameraModel model);
// Number of parameters the model stores (cameras.bin has no count: it follows from the model).
int colmap_model_num_params(ColmapCameraModel model);
// The parameter list in COLMAP's words ("fx, fy, cx, cy, k1, k2, p1, p2").
const char* colmap_model_params_info(ColmapCameraModel model);
// The model of a file's numeric id or name. Throws glimpse::Error naming `what` (the file and
// record) and the unknown id or name.
ColmapCameraModel colmap_model_from_id(int id, const std::string& what);
ColmapCameraModel colmap_model_from_name(const std::string& name, const std::string& what);

struct ColmapCamera {
  uint32_t id = 0;
  ColmapCameraModel model = ColmapCameraModel::kPinhole;
  int width = 0, height = 0;   // the size the parameters refer to
  std::vector<double> params;  // colmap_model_num_params(model) values, in the model's order
};

// True when the model is a plain pinhole (SIMPLE_PINHOLE, PINHOLE) or a distortion model whose
// distortion parameters are all zero and whose projection then reduces to a pinhole (radial,
// OpenCV, division, FOV and EUCM models; never the fisheye ones).
bool colmap_is_pinhole(const ColmapCamera& camera);

// The pinhole camera (identity pose) with the model's focal lengths and principal point at the
// camera's size: fx = fy = f for single-focal models. Throws for EQUIRECTANGULAR, which has none.
Camera colmap_pinhole_camera(const ColmapCamera& camera);

// The camera for an image resized to width x height, as COLMAP rescales: fx, cx by width /
// camera.width, fy, cy by height / camera.height, a single focal length by their mean;
// distortion parameters are resolution independent.
ColmapCamera scaled_colmap_camera(const ColmapCamera& camera, int width, int height);

// COLMAP's ImgFromCam: projects a point in the camera frame to pixel coordinates through the
// model (distortion included). Returns false when the model cannot project it (behind a
// perspective camera, outside a division model's domain, ...).
bool colmap_img_from_cam(const ColmapCamera& camera, const Vec3<double>& p_in_cam,
                         Vec2<double>* pixel);

// Resamples an image taken by `camera` (a perspective model at the image's size) to the pinhole
// camera colmap_pinhole_camera(camera): same size, same fx, fy, cx, cy, no distortion. Every
// output pixel centre is lifted to its ray, projected with colmap_img_from_cam and sampled
// bilinearly (cv::remap); pixels whose ray lands outside the source image are 0. Keeping the
// intrinsics (rather than fitting a new camera like COLMAP's image_undistorter) keeps the
// resolution at the image centre, the pixel grid of the input and any downsampling factor; the
// cost is a black border where the distortion pushes the frame's edge out of the photo
// (pincushion, k1 > 0), or the photo's outer rim left out of the frame (barrel, k1 < 0). Any
// number of channels from 1 to 4; a pinhole camera returns the image unchanged.
Image<float> undistort_colmap_image(const Image<float>& image, const ColmapCamera& camera);

// Refuses distortion parameters that undistort_colmap_image cannot turn into a usable picture
// (throws glimpse::Error naming `what`, the model and its parameters): less than half of the
// pinhole frame maps back inside the photograph (e.g. "k1": 1e6, which used to give black images
// that trained to "47 dB"), or the distortion folds within the frame (the radius it maps to stops
// growing along a ray from the principal point: the polynomial is used outside its valid range).
// Pinhole cameras and the equirectangular model pass.
void check_colmap_distortion(const ColmapCamera& camera, const std::string& what);

// [SECTION] sparse model ------------------------------------------------------------------------

struct ColmapImage {
  uint32_t id = 0;
  std::string name;  // path relative to the image folder, e.g. "DSC_5283.jpg" or "cam0/0001.png"
  uint32_t camera_id = 0;
  Quat<double> cam_from_world_rotation;     // (qw, qx, qy, qz) as stored (world-to-camera)
  Vec3<double> cam_from_world_translation;  // (tx, ty, tz): p_in_cam = R p_in_world + t
  std::vector<Vec2<double>> points2D;       // keypoints in pixels (same convention as ours)
  std::vector<int64_t> point3D_ids;         // per keypoint: its 3D point id, -1 when none
};

struct ColmapTrackElement {
  uint32_t image_id = 0;
  uint32_t point2D_idx = 0;  // index into that image's points2D
};

struct ColmapPoint3D {
  uint64_t id = 0;
  Vec3<double> xyz;  // world position
  std::array<uint8_t, 3> rgb{};
  double error = 0.0;  // mean reprojection error in pixels (-1 when unknown)
  std::vector<ColmapTrackElement> track;
};

struct ColmapModel {
  std::map<uint32_t, ColmapCamera> cameras;  // by camera id
  std::map<uint32_t, ColmapImage> images;    // by image id
  std::vector<ColmapPoint3D> points3D;       // in file order
};

// Readers of one file each. `what` names the file in errors. Binary files are read with exact
// sizes: a truncated file throws glimpse::Error naming the file, the record and the field being
// read; bytes after the last record also throw. Text files skip empty lines and '#' comments
// (except the POINTS2D line after each images.txt entry, which may be empty) and throw naming
// the file and line for a malformed line. Both throw for an unknown camera model, a wrong
// parameter count, a non-positive size and a duplicate id.
std::map<uint32_t, ColmapCamera> read_colmap_cameras_binary(std::istream& in,
                                                            const std::string& what);
std::map<uint32_t, ColmapCamera> read_colmap_cameras_text(std::istream& in,
                                                          const std::string& what);
std::map<uint32_t, ColmapImage> read_colmap_images_binary(std::istream& in,
                                                          const std::string& what);
std::map<uint32_t, ColmapImage> read_colmap_images_text(std::istream& in, const std::string& what);
std::vector<ColmapPoint3D> read_colmap_points3D_binary(std::istream& in, const std::string& what);
std::vector<ColmapPoint3D> read_colmap_points3D_text(std::istream& in, const std::string& what);

// Reads <sparse_dir>/{cameras,images,points3D}.bin, or the .txt files when cameras.bin is absent
// (COLMAP's own rule). Files newer COLMAP versions add (rigs, frames) are ignored: images.* still
// holds each image's cam_from_world. Throws when a file is missing or an image names a camera id
// that cameras.* does not define.
ColmapModel read_colmap_model(const std::string& sparse_dir);

// The pinhole view camera of an image: intrinsics of colmap_pinhole_camera(camera), rotation
// from the normalised quaternion, translation as stored. Throws naming `what` when the pose is
// not finite or the quaternion's norm is not 1 (within 1e-2, then normalised).
Camera colmap_view_camera(const ColmapImage& image, const ColmapCamera& camera,
                          const std::string& what);

// [SECTION] 3DGS scene layout -------------------------------------------------------------------

struct ColmapDatasetOptions {
  std::string images = "images";  // image folder, relative to the root
  int images_factor = 1;          // > 1 reads <images>_<factor>/ (3DGS convert.py --resize)
  double resolution_scale = 1.0;  // then resample by this factor, in (0, 1] (area filter)
  bool load_images = true;        // false: cameras only, sized from cameras.* / factor * scale
  std::string sparse_dir;         // empty: <root>/sparse/0, else <root>/sparse; relative to root
  double near_percentile = 1.0;   // near/far: these percentiles of the point depths per view
  double far_percentile = 99.0;

  // Throws glimpse::Error when a field is out of range.
  void check() const;
};

// The sparse point cloud as plain arrays (the 3DGS initialisation).
struct ColmapPoints {
  std::vector<float> xyz;  // [N, 3] world positions
  std::vector<float> rgb;  // [N, 3] colours in [0, 1]
  size_t size() const { return xyz.size() / 3; }
};

ColmapPoints colmap_points(const ColmapModel& model);

// The sparse model folder of a scene: <root>/<sparse_dir> when given, else <root>/sparse/0 when
// it holds cameras.bin or cameras.txt, else <root>/sparse. Throws naming the folders tried.
std::string find_colmap_sparse_dir(const std::string& root, const std::string& sparse_dir = "");

// Reads a COLMAP scene in the 3DGS layout (<root>/images/ + <root>/sparse/0/). Views are the
// registered images sorted by name; each image is loaded, rescaled from the camera's size to the
// size found on disk, undistorted to its pinhole camera when the model has distortion
// (undistort_colmap_image), then resampled by resolution_scale. near_depth / far_depth are the
// smallest near_percentile and largest far_percentile of the depths, per view, of the 3D points
// that view observes (of the points in front of it that project inside it when the model has no
// observations); 0 when there are no points. `points`, when given, receives the sparse cloud.
// Throws glimpse::Error naming the file and the problem: missing folder or model file, an image
// listed in the model but missing on disk, an image whose aspect ratio differs from its camera's,
// a missing camera id, a NaN or non-unit pose, a spherical camera.
Dataset read_colmap_dataset(const std::string& root, const ColmapDatasetOptions& options = {},
                            ColmapPoints* points = nullptr);

// [SECTION] text writers ------------------------------------------------------------------------

// Writers of COLMAP's text files, in the layout COLMAP writes (header comments, one record per
// line, images.txt with a POINTS2D line after each image, empty when it has no keypoints).
// Numbers are written with 17 significant digits, so the readers above give back the same
// doubles. Each throws glimpse::Error naming `what` for a record the format cannot hold: a wrong
// parameter count, a non-finite value, an image name that is empty, has a line break or starts
// or ends with a space, mismatched points2D / point3D_ids lengths.
void write_colmap_cameras_text(std::ostream& out, const std::map<uint32_t, ColmapCamera>& cameras,
                               const std::string& what);
void write_colmap_images_text(std::ostream& out, const std::map<uint32_t, ColmapImage>& images,
                              const std::string& what);
void write_colmap_points3D_text(std::ostream& out, const std::vector<ColmapPoint3D>& points,
                                const std::string& what);

// Writes <sparse_dir>/{cameras,images,points3D}.txt (the folder is created), each atomically.
void write_colmap_model_text(const std::string& sparse_dir, const ColmapModel& model);

// A sparse model of posed views with no points (the input of COLMAP's point_triangulator): camera
// k + 1 is view k's PINHOLE camera (fx, fy, cx, cy at the view's size), image k + 1 is named
// names[k] and has view k's cam_from_world pose and camera k + 1. Throws glimpse::Error when the
// counts differ or a name is repeated or invalid (see the writers).
ColmapModel colmap_model_from_views(const std::vector<View>& views,
                                    const std::vector<std::string>& names);

}  // namespace glimpse
