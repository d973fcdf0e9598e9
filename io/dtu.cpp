// DTU reader: IDR/NeuS npz and Rectified/MVSNet/Calibration layouts -> OpenCV cameras in DTU's
// world frame, images resized to the protocol size, binarised masks, object-sphere depth bounds.
#include "io/dtu.h"

#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "io/depth_io.h"
#include "io/image_io.h"
#include "io/npz.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

namespace glimpse {

namespace {

constexpr int kDtuProtocolViews = 49;  // the scans' 49 views (eval/protocols.h kDtuNumImages)

namespace fs = std::filesystem;

// The integer a file stem spells ("000012.png" -> 12), or nullopt.
std::optional<int> numeric_stem(const std::string& name) {
  const std::string stem = fs::path(name).stem().string();
  if (stem.empty() || stem.size() > 9) return std::nullopt;
  for (char c : stem) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return std::stoi(stem);
}

std::string format_id(const char* pattern, int value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), pattern, value);
  return buffer;
}

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}
bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Reads N whitespace-separated finite numbers.
template <size_t N>
void read_numbers(std::istream& in, std::array<double, N>& out, const std::string& what,
                  const char* block) {
  for (size_t i = 0; i < N; ++i) {
    double v = 0;
    GLIMPSE_CHECK(static_cast<bool>(in >> v))
        << what << ": expected " << N << " numbers in the " << block << ", found " << i;
    GLIMPSE_CHECK(std::isfinite(v)) << what << ": " << block << " value " << i << " is " << v;
    out[i] = v;
  }
}

void expect_word(std::istream& in, const std::string& word, const std::string& what) {
  std::string token;
  GLIMPSE_CHECK(static_cast<bool>(in >> token))
      << what << ": expected '" << word << "', the file ends first";
  GLIMPSE_CHECK(token == word) << what << ": expected '" << word << "', found '" << token << "'";
}

// The scene centre: where the optical axes meet (core/dataset.h optical_axes_center), or for
// parallel axes (one view, a degenerate rig) a point in front of the cameras at DTU's typical
// distance.
Vec3<double> axes_center(const std::vector<View>& views) {
  Vec3<double> center;
  if (optical_axes_center(views, center)) return center;
  Vec3<double> x;
  for (const View& v : views) {
    const Vec3<double> d(v.camera.rotation.m[2][0], v.camera.rotation.m[2][1],
                         v.camera.rotation.m[2][2]);
    x += v.camera.center() + d * (2.6 * kDtuDefaultRadiusMm);
  }
  return x * (1.0 / static_cast<double>(views.size()));
}

// P = K [R | t] from an MVSNet cam file (the top 3x4 of the extrinsic).
std::array<double, 12> mvsnet_projection(const MvsnetCam& cam) {
  std::array<double, 12> p{};
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < 4; ++k) {
      double s = 0;
      for (int j = 0; j < 3; ++j) s += cam.intrinsic[r * 3 + j] * cam.extrinsic[j * 4 + k];
      p[r * 4 + k] = s;
    }
  }
  return p;
}

// What one view is read from.
struct ViewSource {
  int id = 0;        // DTU view id, 0-based
  std::string name;  // image file name
  std::string image_path;
  std::string mask_path;                // empty when none
  std::array<double, 12> projection{};  // P for the calibration frame, row-major
  std::string projection_what;          // file (and key) it came from, for errors
};

// IDR/NeuS: fills the view sources and, when the npz has it, the scene's scale_mat.
void list_idr(const fs::path& scan_dir, const DtuOptions& options, std::vector<ViewSource>& views,
              DtuScene& scene) {
  fs::path npz_path = scan_dir / "cameras_sphere.npz";
  if (!path_exists(npz_path)) npz_path = scan_dir / "cameras.npz";
  GLIMPSE_CHECK(path_exists(npz_path)) << "DTU (IDR layout) " << scan_dir.string()
                                       << ": neither cameras_sphere.npz nor cameras.npz exists";
  fs::path image_dir = scan_dir / "image";
  if (!is_dir(image_dir)) image_dir = scan_dir / "images";
  GLIMPSE_CHECK(is_dir(image_dir))
      << "DTU (IDR layout) " << scan_dir.string() << ": no image/ (or images/) folder";
  const std::vector<std::string> names = list_image_files(image_dir.string());
  GLIMPSE_CHECK(!names.empty()) << "DTU (IDR layout): " << image_dir.string()
                                << " holds no png/jpg images";
  const std::string npz_file = npz_path.string();
  const std::map<std::string, NpyArray> cameras = read_npz(npz_file);

  auto matrix = [&](const std::string& key, const std::string& for_what) -> const NpyArray& {
    const auto it = cameras.find(key);
    GLIMPSE_CHECK(it != cameras.end())
        << npz_file << ": no '" << key << "' (needed for " << for_what << ")";
    GLIMPSE_CHECK(it->second.ndim() == 2 && it->second.shape[0] >= 3 && it->second.shape[0] <= 4 &&
                  it->second.shape[1] == 4)
        << npz_file << ": '" << key << "' must be a 4x4 (or 3x4) matrix";
    for (double v : it->second.data) {
      GLIMPSE_CHECK(std::isfinite(v)) << npz_file << ": '" << key << "' contains " << v;
    }
    return it->second;
  };

  // Masks by id: mask/000.png (NeuS) or any numeric name.
  std::map<int, std::string> mask_by_id;
  const fs::path mask_dir = scan_dir / "mask";
  if (options.masks != DtuMasks::kNone && is_dir(mask_dir)) {
    for (const std::string& m : list_image_files(mask_dir.string())) {
      if (const auto id = numeric_stem(m)) mask_by_id[*id] = (mask_dir / m).string();
    }
  }

  for (size_t i = 0; i < names.size(); ++i) {
    ViewSource v;
    // Numeric names give the DTU view id (and the world_mat index); others pair by sorted order,
    // as NeuS does.
    v.id = numeric_stem(names[i]).value_or(static_cast<int>(i));
    v.name = names[i];
    v.image_path = (image_dir / names[i]).string();
    const std::string key = "world_mat_" + std::to_string(v.id);
    const NpyArray& p = matrix(key, v.image_path);
    std::copy(p.data.begin(), p.data.begin() + 12, v.projection.begin());
    v.projection_what = npz_file + " '" + key + "'";
    if (const auto it = mask_by_id.find(v.id); it != mask_by_id.end()) v.mask_path = it->second;
    views.push_back(v);
  }
  // Cameras without an image: a scan that silently lost a view would shift every protocol index.
  {
    std::set<int> have;
    for (const ViewSource& v : views) have.insert(v.id);
    std::vector<int> missing;
    for (const auto& [key, array] : cameras) {
      const std::string prefix = "world_mat_";
      if (key.rfind(prefix, 0) != 0 || key.find("_inv") != std::string::npos) continue;
      int id = 0;
      try {
        size_t used = 0;
        id = std::stoi(key.substr(prefix.size()), &used);
        if (used != key.size() - prefix.size()) continue;
      } catch (const std::exception&) {
        continue;
      }
      if (!have.count(id)) missing.push_back(id);
    }
    std::sort(missing.begin(), missing.end());
    if (!missing.empty()) {
      // Name the files as the others are named (000012.png, like 000000.png).
      const std::string& first = names.front();
      const size_t digits = std::min<size_t>(first.find_first_not_of("0123456789"), 9);
      const std::string extension = fs::path(first).extension().string();
      std::ostringstream list;
      for (size_t k = 0; k < missing.size() && k < 8; ++k) {
        std::string number = std::to_string(missing[k]);
        if (number.size() < digits) number.insert(0, digits - number.size(), '0');
        list << (k ? ", " : "") << (image_dir / (number + extension)).string();
      }
      if (missing.size() > 8) list << " and " << missing.size() - 8 << " more";
      GLIMPSE_LOG(Warning) << "DTU: " << npz_file << " has cameras for "
                           << views.size() + missing.size() << " views but " << missing.size()
                           << " image(s) are missing: " << list.str() << "; the scan is read with "
                           << views.size() << " views (the DTU protocol needs all "
                           << kDtuProtocolViews << ")";
    }
  }

  const auto scale_it = cameras.find("scale_mat_0");
  if (scale_it != cameras.end()) {
    const NpyArray& s = matrix("scale_mat_0", "the object sphere");
    GLIMPSE_CHECK(s.shape[0] == 4) << npz_file << ": 'scale_mat_0' must be 4x4";
    std::copy(s.data.begin(), s.data.end(), scene.scale_mat.begin());
    const double r = s.data[0];
    double off_diagonal = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        off_diagonal = std::max(off_diagonal, std::abs(s.data[i * 4 + j] - (i == j ? r : 0.0)));
    GLIMPSE_CHECK(r > 0 && off_diagonal <= 1e-6 * r && s.data[12] == 0 && s.data[13] == 0 &&
                  s.data[14] == 0 && s.data[15] == 1)
        << npz_file << ": 'scale_mat_0' is not a uniform scale plus translation "
        << "(diag(r, r, r, 1) with the centre in the last column)";
    scene.center = Vec3<double>(s.data[3], s.data[7], s.data[11]);
    scene.radius = r;
    scene.has_scale_mat = true;
  }
}

// Rectified: Rectified/<scan>/rect_XXX_<light>_r5000.png + Cameras/ or Calibration/cal18/.
void list_rectified(const fs::path& root, const DtuOptions& options,
                    std::vector<ViewSource>& views) {
  const fs::path image_dir = root / "Rectified" / options.scan;
  GLIMPSE_CHECK(is_dir(image_dir))
      << "DTU (Rectified layout): " << image_dir.string() << " does not exist";
  // rect_XXX_<light>_r5000.png, XXX = view id + 1; DTU's 64-view scans name views 50..64
  // _r7000 (RegNeRF's loader does the same). Sorted names put r5000 first if both exist.
  const std::string light = "_" + std::to_string(options.light) + "_r";
  std::map<int, std::string> images;
  for (const std::string& name : list_image_files(image_dir.string())) {
    if (name.size() != 8 + light.size() + 8 || name.compare(0, 5, "rect_") != 0 ||
        name.compare(8, light.size(), light) != 0 ||
        !numeric_stem(name.substr(8 + light.size(), 4) + ".png") ||
        name.compare(name.size() - 4, 4, ".png") != 0) {
      continue;
    }
    const auto number = numeric_stem(name.substr(5, 3) + ".png");
    if (number && *number >= 1) images.emplace(*number - 1, name);
  }
  GLIMPSE_CHECK(!images.empty()) << "DTU (Rectified layout): " << image_dir.string()
                                 << " holds no rect_XXX" << light << "5000.png images (light "
                                 << options.light << ")";

  const fs::path cams_dir = root / "Cameras";
  const fs::path calib_dir = root / "Calibration" / "cal18";
  const bool use_cams = is_dir(cams_dir);
  GLIMPSE_CHECK(use_cams || is_dir(calib_dir))
      << "DTU (Rectified layout) " << root.string()
      << ": no calibration: expected Cameras/{id:08d}_cam.txt (MVSNet) or "
      << "Calibration/cal18/pos_{id+1:03d}.txt";

  fs::path mask_dir;
  if (options.masks != DtuMasks::kNone) {
    std::vector<fs::path> candidates;
    if (!options.mask_root.empty()) {
      candidates.push_back(fs::path(options.mask_root) / options.scan);
    } else {
      candidates.push_back(root / "idrmasks" / options.scan);
      candidates.push_back(root / "submission_data" / "idrmasks" / options.scan);
    }
    for (const fs::path& c : candidates) {
      if (is_dir(c / "mask")) {
        mask_dir = c / "mask";
        break;
      }
      if (is_dir(c)) {
        mask_dir = c;
        break;
      }
    }
    GLIMPSE_CHECK(!mask_dir.empty() || options.masks != DtuMasks::kRequired)
        << "DTU (Rectified layout): masks are required but " << candidates.front().string()
        << (candidates.size() > 1 ? " (nor " + candidates.back().string() + ")" : "")
        << " does not exist";
  }

  for (const auto& [id, name] : images) {
    ViewSource v;
    v.id = id;
    v.name = name;
    v.image_path = (image_dir / name).string();
    if (use_cams) {
      const fs::path cam = cams_dir / format_id("%08d_cam.txt", id);
      std::ifstream in(cam);
      GLIMPSE_CHECK(in.is_open()) << "DTU: " << cam.string() << " is missing (the camera of "
                                  << v.image_path << ")";
      v.projection = mvsnet_projection(read_mvsnet_cam(in, cam.string()));
      v.projection_what = cam.string();
    } else {
      const fs::path pos = calib_dir / format_id("pos_%03d.txt", id + 1);
      std::ifstream in(pos);
      GLIMPSE_CHECK(in.is_open()) << "DTU: " << pos.string() << " is missing (the camera of "
                                  << v.image_path << ")";
      v.projection = read_projection_txt(in, pos.string());
      v.projection_what = pos.string();
    }
    if (!mask_dir.empty()) {
      const fs::path m = mask_dir / format_id("%03d.png", id);
      if (path_exists(m)) v.mask_path = m.string();
    }
    views.push_back(v);
  }
}

}  // namespace

void DtuOptions::check() const {
  GLIMPSE_CHECK((width == 0 && height == 0) || (width > 0 && height > 0))
      << "DTU image size must be positive (or 0 x 0 to keep the stored size), got " << width << "x"
      << height;
  GLIMPSE_CHECK(calibration_width > 0 && calibration_height > 0)
      << "DTU calibration size must be positive, got " << calibration_width << "x"
      << calibration_height;
  GLIMPSE_CHECK(layout != DtuLayout::kRectified || !scan.empty())
      << "DTU Rectified layout needs the scan name (e.g. \"scan24\")";
  GLIMPSE_CHECK(light >= 0 && light <= 9) << "DTU light index must be 0..9, got " << light;
  GLIMPSE_CHECK(std::isfinite(mask_threshold) && mask_threshold < 1.0f)
      << "DTU mask_threshold must be < 1 (negative keeps soft masks), got " << mask_threshold;
}

Camera camera_from_projection(const double* p_3x4, int calibration_width, int calibration_height,
                              int width, int height, bool pixel_centers_at_integers,
                              const std::string& what) {
  GLIMPSE_CHECK(calibration_width > 0 && calibration_height > 0 && width > 0 && height > 0)
      << what << ": image sizes must be positive";
  cv::Mat p(3, 4, CV_64F);
  for (int i = 0; i < 12; ++i) {
    GLIMPSE_CHECK(std::isfinite(p_3x4[i]))
        << what << ": projection value " << i << " is " << p_3x4[i];
    p.at<double>(i / 4, i % 4) = p_3x4[i];
  }
  // P is defined up to scale: make det(M) > 0 so that points in front of the camera have
  // positive depth once K's diagonal is positive.
  const double det_m = cv::determinant(p(cv::Rect(0, 0, 3, 3)));
  const double m_norm = cv::norm(p(cv::Rect(0, 0, 3, 3)));
  GLIMPSE_CHECK(std::abs(det_m) > 1e-12 * m_norm * m_norm * m_norm)
      << what << ": the left 3x3 block of the projection matrix is singular (not a camera)";
  // Scale P so that the third row of M has unit norm (K[2] = (0, 0, 1) then): OpenCV's RQ adds
  // DBL_EPSILON under its square roots, which costs precision when P's entries are small.
  const double row_norm = cv::norm(p(cv::Rect(0, 2, 3, 1)));
  p *= (det_m < 0 ? -1.0 : 1.0) / row_norm;
  cv::Mat k, r, c;
  cv::decomposeProjectionMatrix(p, k, r, c);
  // RQ leaves one sign per axis free: make the diagonal of K positive (K R is unchanged).
  for (int i = 0; i < 3; ++i) {
    if (k.at<double>(i, i) < 0) {
      k.col(i) *= -1.0;
      r.row(i) *= -1.0;
    }
  }
  k /= k.at<double>(2, 2);
  GLIMPSE_CHECK(std::abs(c.at<double>(3)) > 0) << what << ": camera centre at infinity";
  const double skew = k.at<double>(0, 1);
  GLIMPSE_CHECK(std::abs(skew) <= 1e-3 * k.at<double>(0, 0))
      << what << ": intrinsics have skew " << skew << " (fx " << k.at<double>(0, 0)
      << "); a pinhole camera without skew is required";

  double cx = k.at<double>(0, 2), cy = k.at<double>(1, 2);
  GLIMPSE_CHECK(cx > 0.25 * calibration_width && cx < 0.75 * calibration_width &&
                cy > 0.25 * calibration_height && cy < 0.75 * calibration_height)
      << what << ": principal point (" << cx << ", " << cy << ") is far from the middle of the "
      << calibration_width << "x" << calibration_height
      << " calibration frame: the calibration is for another image size (MVSNet's "
      << "Cameras/train/ files are for 160x128 crops); set calibration_width/height";
  if (pixel_centers_at_integers) {
    cx += 0.5;
    cy += 0.5;
  }
  const double sx = static_cast<double>(width) / calibration_width;
  const double sy = static_cast<double>(height) / calibration_height;
  Camera camera;
  camera.width = width;
  camera.height = height;
  camera.fx = k.at<double>(0, 0) * sx;
  camera.fy = k.at<double>(1, 1) * sy;
  camera.cx = cx * sx;
  camera.cy = cy * sy;
  Vec3<double> center;
  for (int i = 0; i < 3; ++i) {
    center[i] = c.at<double>(i) / c.at<double>(3);
    for (int j = 0; j < 3; ++j) camera.rotation.m[i][j] = r.at<double>(i, j);
  }
  camera.translation = -(camera.rotation * center);
  check_camera(camera, what);
  return camera;
}

MvsnetCam read_mvsnet_cam(std::istream& in, const std::string& what) {
  MvsnetCam cam;
  expect_word(in, "extrinsic", what);
  read_numbers(in, cam.extrinsic, what, "extrinsic 4x4");
  expect_word(in, "intrinsic", what);
  read_numbers(in, cam.intrinsic, what, "intrinsic 3x3");
  double depth_min = 0, depth_interval = 0;
  if (in >> depth_min) {
    GLIMPSE_CHECK(static_cast<bool>(in >> depth_interval) && std::isfinite(depth_min) &&
                  std::isfinite(depth_interval))
        << what << ": the depth line must hold depth_min and depth_interval";
    cam.depth_min = depth_min;
    cam.depth_interval = depth_interval;
  }
  const auto& e = cam.extrinsic;
  GLIMPSE_CHECK(e[12] == 0 && e[13] == 0 && e[14] == 0 && e[15] == 1)
      << what << ": the extrinsic's last row must be 0 0 0 1";
  return cam;
}

Camera camera_from_mvsnet(const MvsnetCam& cam, int calibration_width, int calibration_height,
                          int width, int height, bool pixel_centers_at_integers,
                          const std::string& what) {
  const std::array<double, 12> p = mvsnet_projection(cam);
  return camera_from_projection(p.data(), calibration_width, calibration_height, width, height,
                                pixel_centers_at_integers, what);
}

std::array<double, 12> read_projection_txt(std::istream& in, const std::string& what) {
  std::array<double, 12> p{};
  read_numbers(in, p, what, "3x4 projection matrix");
  return p;
}

Camera camera_in_normalized_frame(const Camera& camera, const Vec3<double>& center, double radius) {
  GLIMPSE_CHECK(std::isfinite(radius) && radius > 0)
      << "camera_in_normalized_frame: radius must be positive, got " << radius;
  Camera c = camera;
  c.translation = (camera.rotation * center + camera.translation) * (1.0 / radius);
  return c;
}

DtuScene read_dtu_scene(const std::string& root, const DtuOptions& options) {
  options.check();
  const fs::path root_path(root);
  GLIMPSE_CHECK(is_dir(root_path)) << "DTU folder " << root << " does not exist";
  const fs::path idr_dir = options.scan.empty() ? root_path : root_path / options.scan;

  DtuScene scene;
  scene.layout = options.layout;
  if (scene.layout == DtuLayout::kAuto) {
    const bool idr =
        path_exists(idr_dir / "cameras_sphere.npz") || path_exists(idr_dir / "cameras.npz");
    GLIMPSE_CHECK(idr || !options.scan.empty())
        << "DTU folder " << root << ": no cameras_sphere.npz or cameras.npz (IDR layout); for "
        << "the Rectified layout give the scan name";
    scene.layout = idr ? DtuLayout::kIdr : DtuLayout::kRectified;
  }
  std::vector<ViewSource> sources;
  if (scene.layout == DtuLayout::kIdr) {
    list_idr(idr_dir, options, sources, scene);
  } else {
    GLIMPSE_CHECK(!options.scan.empty()) << "DTU Rectified layout needs the scan name";
    list_rectified(root_path, options, sources);
  }
  std::sort(sources.begin(), sources.end(),
            [](const ViewSource& a, const ViewSource& b) { return a.id < b.id; });
  for (size_t i = 1; i < sources.size(); ++i) {
    GLIMPSE_CHECK(sources[i].id != sources[i - 1].id)
        << "DTU: " << sources[i - 1].image_path << " and " << sources[i].image_path
        << " have the same view id " << sources[i].id;
  }
  const size_t n = sources.size();
  if (options.masks == DtuMasks::kRequired) {
    for (const ViewSource& s : sources) {
      GLIMPSE_CHECK(!s.mask_path.empty())
          << "DTU: no mask for view " << s.id << " (" << s.image_path << "); expected mask/"
          << format_id("%03d.png", s.id);
    }
  }

  Dataset& dataset = scene.dataset;
  dataset.root = root;
  dataset.format = "dtu";
  dataset.views.resize(n);
  for (size_t i = 0; i < n; ++i) {
    dataset.views[i].name = sources[i].name;
    dataset.views[i].image_path = sources[i].image_path;
    scene.view_ids.push_back(sources[i].id);
  }

  // Stored size: from the first image (all are checked when loaded).
  int stored_width = 0, stored_height = 0;
  if (options.load_images) {
    read_view_images(dataset.views);
    stored_width = dataset.views[0].image.width();
    stored_height = dataset.views[0].image.height();
  } else if (options.width == 0) {
    const Image<float> first = read_image_rgb(sources[0].image_path);
    stored_width = first.width();
    stored_height = first.height();
  }
  const int width = options.width > 0 ? options.width : stored_width;
  const int height = options.height > 0 ? options.height : stored_height;

  for (size_t i = 0; i < n; ++i) {
    View& v = dataset.views[i];
    if (options.load_images) {
      GLIMPSE_CHECK(v.image.width() == stored_width && v.image.height() == stored_height)
          << v.image_path << ": image is " << v.image.width() << "x" << v.image.height() << " but "
          << dataset.views[0].image_path << " is " << stored_width << "x" << stored_height
          << " (all DTU images must have the same size)";
    }
    v.camera = camera_from_projection(
        sources[i].projection.data(), options.calibration_width, options.calibration_height, width,
        height, options.calibration_pixel_centers_at_integers, sources[i].projection_what);
  }
  if (stored_width > 0) {
    // The stored images must be the calibration frame resized, not cropped or rotated.
    const double ax = static_cast<double>(stored_width) / options.calibration_width;
    const double ay = static_cast<double>(stored_height) / options.calibration_height;
    GLIMPSE_CHECK(std::abs(ax - ay) <= 0.01 * std::max(ax, ay))
        << dataset.views[0].image_path << ": image size " << stored_width << "x" << stored_height
        << " is not the " << options.calibration_width << "x" << options.calibration_height
        << " calibration frame resized (cropped images?)";
  }
  {
    const double ax = static_cast<double>(width) / options.calibration_width;
    const double ay = static_cast<double>(height) / options.calibration_height;
    GLIMPSE_CHECK(std::abs(ax - ay) <= 0.01 * std::max(ax, ay))
        << "DTU: output size " << width << "x" << height << " does not keep the "
        << options.calibration_width << "x" << options.calibration_height << " aspect ratio";
  }

  // Resize images, read and resize masks.
  std::vector<char> resized_masks(n, 0);
  size_t masked = 0;
  for (const ViewSource& s : sources) masked += s.mask_path.empty() ? 0 : 1;
  ThreadPool::global().parallel_for(
      static_cast<int64_t>(n), 1, [&](int64_t begin, int64_t end, int /*thread*/) {
        for (int64_t i = begin; i < end; ++i) {
          View& v = dataset.views[static_cast<size_t>(i)];
          if (options.load_images && (v.image.width() != width || v.image.height() != height)) {
            v.image = resize_image_area(v.image, width, height);
          }
          const std::string& mask_path = sources[static_cast<size_t>(i)].mask_path;
          if (mask_path.empty()) continue;
          Image<float> mask = read_mask(mask_path);
          const double mx = static_cast<double>(mask.width()) / width;
          const double my = static_cast<double>(mask.height()) / height;
          GLIMPSE_CHECK(std::abs(mx - my) <= 0.01 * std::max(mx, my))
              << mask_path << ": mask size " << mask.width() << "x" << mask.height()
              << " does not have the aspect ratio of the " << width << "x" << height << " images";
          if (mask.width() != width || mask.height() != height) {
            // Masks are expected at the images' stored size (or the size read at); any other
            // size of the same aspect is resampled, and said so.
            if (stored_width > 0 &&
                (mask.width() != stored_width || mask.height() != stored_height))
              resized_masks[static_cast<size_t>(i)] = 1;
            mask = resize_image_area(mask, width, height);
          }
          v.mask = options.mask_threshold >= 0 ? threshold_mask(mask, options.mask_threshold)
                                               : std::move(mask);
        }
      });
  {
    std::vector<std::string> resized;
    int mask_width = 0, mask_height = 0;
    for (size_t i = 0; i < n; ++i)
      if (resized_masks[i]) resized.push_back(sources[i].mask_path);
    if (!resized.empty()) {
      const Image<float> probe = read_mask(resized.front());
      mask_width = probe.width();
      mask_height = probe.height();
      GLIMPSE_LOG(Warning) << "DTU: " << resized.size() << " mask(s) differ in size from the "
                           << stored_width << "x" << stored_height
                           << " images and are resampled to " << width << "x" << height << ", e.g. "
                           << resized.front() << " (" << mask_width << "x" << mask_height
                           << "); check that they belong to these images";
    }
  }

  // Object sphere and depth bounds.
  double margin = 1.0;
  if (!scene.has_scale_mat) {
    scene.center = axes_center(dataset.views);
    scene.radius = kDtuDefaultRadiusMm;
    scene.scale_mat = {scene.radius,
                       0,
                       0,
                       scene.center.x,
                       0,
                       scene.radius,
                       0,
                       scene.center.y,
                       0,
                       0,
                       scene.radius,
                       scene.center.z,
                       0,
                       0,
                       0,
                       1};
    margin = 1.5;
  }
  double nearest = std::numeric_limits<double>::infinity(), farthest = 0;
  for (const View& v : dataset.views) {
    const double d = norm(v.camera.center() - scene.center);
    nearest = std::min(nearest, d);
    farthest = std::max(farthest, d);
  }
  dataset.near_depth = std::max(nearest - margin * scene.radius, 0.01 * nearest);
  dataset.far_depth = farthest + margin * scene.radius;

  GLIMPSE_LOG(Info) << "DTU (" << (scene.layout == DtuLayout::kIdr ? "IDR" : "Rectified")
                    << "): " << n << " views " << width << "x" << height << " from " << root
                    << (options.scan.empty() ? "" : "/" + options.scan) << ", " << masked
                    << " masks, object sphere centre (" << scene.center.x << ", " << scene.center.y
                    << ", " << scene.center.z << ") radius " << scene.radius
                    << (scene.has_scale_mat ? " (scale_mat_0)" : " (estimated)") << ", depth "
                    << dataset.near_depth << " .. " << dataset.far_depth;
  return scene;
}

Dataset read_dtu(const std::string& root, const DtuOptions& options) {
  return read_dtu_scene(root, options).dataset;
}

}  // namespace glimpse
