// transforms.json reader: JSON -> frames (OpenGL camera-to-world -> OpenCV cam_from_world),
// intrinsics -> COLMAP camera model, images -> alpha-flattened, undistorted, downscaled views.
#include "io/transforms_json.h"

#include "core/check.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "io/image_io.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <istream>
#include <numbers>
#include <system_error>

namespace glimpse {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<double> optional_number(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  GLIMPSE_CHECK(it->is_number()) << where << ": \"" << key << "\" must be a number, got "
                                 << it->dump();
  const double v = it->get<double>();
  GLIMPSE_CHECK(std::isfinite(v)) << where << ": \"" << key << "\" is not finite";
  return v;
}

// Overrides `intrinsics` with the keys present in `obj` (the top level, then each frame).
void read_intrinsics(const json& obj, const std::string& where, TransformsIntrinsics* intrinsics) {
  TransformsIntrinsics& in = *intrinsics;
  const std::pair<const char*, std::optional<double>*> optional_keys[] = {
      {"fl_x", &in.fl_x},
      {"fl_y", &in.fl_y},
      {"cx", &in.cx},
      {"cy", &in.cy},
      {"camera_angle_x", &in.camera_angle_x},
      {"camera_angle_y", &in.camera_angle_y},
      {"w", &in.w},
      {"h", &in.h}};
  for (const auto& [key, field] : optional_keys) {
    if (const auto v = optional_number(obj, key, where)) *field = v;
  }
  const std::pair<const char*, double*> distortion_keys[] = {
      {"k1", &in.k1}, {"k2", &in.k2}, {"k3", &in.k3}, {"k4", &in.k4},
      {"k5", &in.k5}, {"k6", &in.k6}, {"p1", &in.p1}, {"p2", &in.p2}};
  for (const auto& [key, field] : distortion_keys) {
    if (const auto v = optional_number(obj, key, where)) *field = *v;
  }
  if (const auto it = obj.find("is_fisheye"); it != obj.end() && !it->is_null()) {
    GLIMPSE_CHECK(it->is_boolean()) << where << ": \"is_fisheye\" must be true or false";
    in.fisheye = it->get<bool>();
  }
  if (const auto it = obj.find("camera_model"); it != obj.end() && !it->is_null()) {
    GLIMPSE_CHECK(it->is_string()) << where << ": \"camera_model\" must be a string";
    const std::string model = it->get<std::string>();
    if (model == "OPENCV_FISHEYE") {
      in.fisheye = true;
    } else if (model == "OPENCV" || model == "PINHOLE" || model == "SIMPLE_PINHOLE" ||
               model == "SIMPLE_RADIAL" || model == "RADIAL" || model == "FULL_OPENCV") {
      in.fisheye = false;
    } else {
      GLIMPSE_FAIL() << where << ": unsupported \"camera_model\": \"" << model
                     << "\" (supported: OPENCV, OPENCV_FISHEYE and the pinhole/radial models)";
    }
  }
}

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

struct LoadedImage {
  Image<float> rgb;
  Image<float> alpha;  // kMask and an alpha channel only, else empty
};

// RGB (flattened, or with its alpha for kMask) of an image file. Only formats that can carry alpha
// are probed for it.
LoadedImage load_image(const std::string& path, AlphaBackground background) {
  const std::string ext = lower_extension(path);
  if (ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".webp" || ext == ".exr") {
    const cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
    if (!m.empty() && m.channels() == 4) {
      const double scale = m.depth() == CV_8U    ? 1.0 / 255.0
                           : m.depth() == CV_16U ? 1.0 / 65535.0
                                                 : 1.0;
      cv::Mat f;
      m.convertTo(f, CV_32F, scale);
      const bool keep = background == AlphaBackground::kMask;
      LoadedImage out{Image<float>(m.cols, m.rows, 3),
                      keep ? Image<float>(m.cols, m.rows, 1) : Image<float>()};
      const float bg = background == AlphaBackground::kWhite ? 1.f : 0.f;
      for (int y = 0; y < m.rows; ++y) {
        const float* row = f.ptr<float>(y);  // B G R A
        for (int x = 0; x < m.cols; ++x) {
          const float a = std::clamp(row[4 * x + 3], 0.f, 1.f);
          if (keep) out.alpha.at(x, y) = a;
          for (int c = 0; c < 3; ++c) {
            const float v = row[4 * x + 2 - c];
            out.rgb.at(x, y, c) = keep ? v : v * a + bg * (1 - a);
          }
        }
      }
      return out;
    }
  }
  return {read_image_rgb(path), {}};
}

// The image a frame names: file_path as is, else with an image extension appended.
fs::path resolve_image(const fs::path& folder, const std::string& file_path,
                       const std::string& what, std::string* name) {
  const fs::path rel(file_path);
  std::error_code ec;
  for (const char* ext : {"", ".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}) {
    const fs::path candidate = rel.string() + ext;
    const fs::path p = candidate.is_absolute() ? candidate : folder / candidate;
    if (fs::is_regular_file(p, ec)) {
      *name = candidate.is_absolute() ? candidate.filename().generic_string()
                                      : candidate.lexically_normal().generic_string();
      return p;
    }
  }
  GLIMPSE_FAIL() << what
                 << ": image not found: " << (rel.is_absolute() ? rel : folder / rel).string()
                 << " does not exist, with or without a .png/.jpg/.jpeg extension";
  return {};  // unreachable
}

}  // namespace

void TransformsOptions::check() const {
  GLIMPSE_CHECK(downscale >= 1) << "transforms.json options: downscale must be >= 1, got "
                                << downscale;
}

std::vector<TransformsFrame> parse_transforms_json(std::istream& in, const std::string& what) {
  GLIMPSE_CHECK(in.good()) << what << ": cannot read the file";
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    GLIMPSE_FAIL() << what << ": invalid JSON: " << e.what();
  }
  GLIMPSE_CHECK(j.is_object()) << what << ": expected a JSON object with a \"frames\" list";
  GLIMPSE_CHECK(j.contains("frames") && j["frames"].is_array())
      << what << ": \"frames\" is missing or not a list";
  const json& frames = j["frames"];
  GLIMPSE_CHECK(!frames.empty()) << what << ": \"frames\" is empty";

  TransformsIntrinsics shared;
  read_intrinsics(j, what, &shared);

  std::vector<TransformsFrame> out(frames.size());
  for (size_t k = 0; k < frames.size(); ++k) {
    const json& f = frames[k];
    std::string where = what + " frame " + std::to_string(k);
    GLIMPSE_CHECK(f.is_object()) << where << ": a frame must be a JSON object";
    GLIMPSE_CHECK(f.contains("file_path") && f["file_path"].is_string())
        << where << ": \"file_path\" is missing or not a string";
    TransformsFrame& frame = out[k];
    frame.file_path = f["file_path"].get<std::string>();
    where += " (\"" + frame.file_path + "\")";
    frame.intrinsics = shared;
    read_intrinsics(f, where, &frame.intrinsics);

    // 4x4 (or 3x4) camera-to-world, OpenGL camera axes.
    GLIMPSE_CHECK(f.contains("transform_matrix") && f["transform_matrix"].is_array())
        << where << ": \"transform_matrix\" is missing or not a list";
    const json& m = f["transform_matrix"];
    GLIMPSE_CHECK(m.size() == 4 || m.size() == 3)
        << where << ": \"transform_matrix\" must have 4 (or 3) rows, has " << m.size();
    double c2w[4][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 1}};
    for (size_t r = 0; r < m.size(); ++r) {
      GLIMPSE_CHECK(m[r].is_array() && m[r].size() == 4)
          << where << ": \"transform_matrix\" row " << r << " must hold 4 numbers";
      for (size_t c = 0; c < 4; ++c) {
        GLIMPSE_CHECK(m[r][c].is_number())
            << where << ": \"transform_matrix\"[" << r << "][" << c << "] is not a number";
        c2w[r][c] = m[r][c].get<double>();
        GLIMPSE_CHECK(std::isfinite(c2w[r][c]))
            << where << ": \"transform_matrix\"[" << r << "][" << c << "] is not finite";
      }
    }
    GLIMPSE_CHECK(std::abs(c2w[3][0]) < 1e-6 && std::abs(c2w[3][1]) < 1e-6 &&
                  std::abs(c2w[3][2]) < 1e-6 && std::abs(c2w[3][3] - 1) < 1e-6)
        << where << ": the last row of \"transform_matrix\" must be 0 0 0 1, got " << c2w[3][0]
        << " " << c2w[3][1] << " " << c2w[3][2] << " " << c2w[3][3];

    // OpenCV camera axes are OpenGL's with y and z negated: x right, y down, z forward.
    Mat3<double> cam_to_world;
    Vec3<double> centre;
    for (int r = 0; r < 3; ++r) {
      cam_to_world.m[r][0] = c2w[r][0];
      cam_to_world.m[r][1] = -c2w[r][1];
      cam_to_world.m[r][2] = -c2w[r][2];
      centre[r] = c2w[r][3];
    }
    frame.rotation = cam_to_world.transposed();
    frame.translation = -(frame.rotation * centre);
  }
  return out;
}

ColmapCamera transforms_camera(const TransformsIntrinsics& in, int image_width, int image_height,
                               const std::string& what) {
  GLIMPSE_CHECK(image_width > 0 && image_height > 0)
      << what << ": image size " << image_width << "x" << image_height << " is empty";
  const double ref_w = in.w.value_or(image_width), ref_h = in.h.value_or(image_height);
  GLIMPSE_CHECK(ref_w > 0 && ref_h > 0)
      << what << ": \"w\" and \"h\" must be positive, got " << ref_w << " and " << ref_h;
  const auto focal_from_angle = [&](double angle, double size, const char* key) {
    GLIMPSE_CHECK(angle > 0 && angle < std::numbers::pi)
        << what << ": \"" << key << "\" must be a field of view in (0, pi) radians, got " << angle;
    return 0.5 * size / std::tan(0.5 * angle);
  };
  double fx = 0, fy = 0;
  if (in.fl_x) {
    fx = *in.fl_x;
  } else {
    GLIMPSE_CHECK(in.camera_angle_x.has_value())
        << what << ": no focal length (give \"fl_x\" or \"camera_angle_x\")";
    fx = focal_from_angle(*in.camera_angle_x, ref_w, "camera_angle_x");
  }
  if (in.fl_y) {
    fy = *in.fl_y;
  } else if (in.camera_angle_y) {
    fy = focal_from_angle(*in.camera_angle_y, ref_h, "camera_angle_y");
  } else {
    fy = fx;
  }
  GLIMPSE_CHECK(fx > 0 && fy > 0) << what << ": focal lengths must be positive, got fx=" << fx
                                  << " fy=" << fy;
  const double cx = in.cx.value_or(0.5 * ref_w), cy = in.cy.value_or(0.5 * ref_h);

  // The image may be a resized copy of the w x h frame, never cropped or rotated.
  const double scale = image_width / ref_w;
  GLIMPSE_CHECK(std::abs(image_height - ref_h * scale) <= 1.0 + 1e-9)
      << what << ": image is " << image_width << "x" << image_height
      << " but the file says w x h = " << ref_w << "x" << ref_h
      << " (not the same aspect ratio: rotated or cropped image?)";

  ColmapCamera camera;
  camera.width = image_width;
  camera.height = image_height;
  const double sx = image_width / ref_w, sy = image_height / ref_h;
  std::vector<double> intrinsics = {fx * sx, fy * sy, cx * sx, cy * sy};
  if (in.fisheye) {
    GLIMPSE_CHECK(in.p1 == 0 && in.p2 == 0 && in.k5 == 0 && in.k6 == 0)
        << what << ": a fisheye camera takes k1..k4 only (p1, p2, k5, k6 must be 0)";
    camera.model = ColmapCameraModel::kOpenCVFisheye;
    intrinsics.insert(intrinsics.end(), {in.k1, in.k2, in.k3, in.k4});
  } else if (in.k3 != 0 || in.k4 != 0 || in.k5 != 0 || in.k6 != 0) {
    camera.model = ColmapCameraModel::kFullOpenCV;
    intrinsics.insert(intrinsics.end(), {in.k1, in.k2, in.p1, in.p2, in.k3, in.k4, in.k5, in.k6});
  } else if (in.k1 != 0 || in.k2 != 0 || in.p1 != 0 || in.p2 != 0) {
    camera.model = ColmapCameraModel::kOpenCV;
    intrinsics.insert(intrinsics.end(), {in.k1, in.k2, in.p1, in.p2});
  } else {
    camera.model = ColmapCameraModel::kPinhole;
  }
  camera.params = std::move(intrinsics);
  return camera;
}

Dataset read_transforms_json(const std::string& path_or_dir, const TransformsOptions& options) {
  options.check();
  const fs::path path(path_or_dir);
  std::error_code ec;
  std::vector<fs::path> files;
  bool split = false;
  if (fs::is_directory(path, ec)) {
    if (fs::is_regular_file(path / "transforms_train.json", ec) &&
        fs::is_regular_file(path / "transforms_test.json", ec)) {
      files = {path / "transforms_train.json", path / "transforms_test.json"};
      split = true;
    } else if (fs::is_regular_file(path / "transforms.json", ec)) {
      files = {path / "transforms.json"};
    } else {
      GLIMPSE_FAIL() << path_or_dir << ": holds neither transforms.json nor "
                     << "transforms_train.json + transforms_test.json";
    }
  } else {
    GLIMPSE_CHECK(fs::is_regular_file(path, ec)) << path_or_dir << ": file does not exist";
    files = {path};
  }

  struct Job {
    TransformsFrame frame;
    std::string what;
  };
  std::vector<Job> jobs;
  Dataset dataset;
  dataset.root = fs::is_directory(path, ec) ? path.string() : path.parent_path().string();
  bool angle_only = true;  // every frame's focal length comes from camera_angle_x (Blender)
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string file = files[f].string();
    std::ifstream in(files[f], std::ios::binary);
    GLIMPSE_CHECK(in.is_open()) << "cannot read " << file;
    std::vector<TransformsFrame> frames = parse_transforms_json(in, file);
    const fs::path folder = files[f].parent_path();
    for (size_t k = 0; k < frames.size(); ++k) {
      Job job{std::move(frames[k]), file + " frame " + std::to_string(k)};
      job.what += " (\"" + job.frame.file_path + "\")";
      View view;
      view.image_path = resolve_image(folder, job.frame.file_path, job.what, &view.name).string();
      angle_only = angle_only && !job.frame.intrinsics.fl_x.has_value();
      if (split)
        (f == 0 ? dataset.train_ids : dataset.test_ids).push_back(static_cast<int>(jobs.size()));
      dataset.views.push_back(std::move(view));
      jobs.push_back(std::move(job));
    }
  }
  dataset.format = split || angle_only ? "blender" : "transforms";

  const auto load_view = [&](size_t i) {
    const Job& job = jobs[i];
    const TransformsIntrinsics& intr = job.frame.intrinsics;
    View& view = dataset.views[i];
    int width = 0, height = 0;
    if (options.load_images) {
      LoadedImage loaded = load_image(view.image_path, options.background);
      view.image = std::move(loaded.rgb);
      view.mask = std::move(loaded.alpha);
      width = view.image.width();
      height = view.image.height();
    } else if (intr.w && intr.h) {
      width = static_cast<int>(std::lround(*intr.w));
      height = static_cast<int>(std::lround(*intr.h));
    } else {
      const Image<float> probe = read_image_rgb(view.image_path);  // only to learn its size
      width = probe.width();
      height = probe.height();
    }
    const ColmapCamera camera = transforms_camera(intr, width, height, job.what);
    check_colmap_distortion(camera, job.what);
    if (options.load_images && !colmap_is_pinhole(camera)) {
      view.image = undistort_colmap_image(view.image, camera);
      if (!view.mask.empty()) view.mask = undistort_colmap_image(view.mask, camera);
    }
    view.camera = colmap_pinhole_camera(camera);
    view.camera.rotation = job.frame.rotation;
    view.camera.translation = job.frame.translation;
    if (options.downscale > 1) {
      const int w = std::max(
          1, static_cast<int>(std::lround(static_cast<double>(width) / options.downscale)));
      const int h = std::max(
          1, static_cast<int>(std::lround(static_cast<double>(height) / options.downscale)));
      if (options.load_images) {
        view.image = resize_image_area(view.image, w, h);
        if (!view.mask.empty()) view.mask = resize_image_area(view.mask, w, h);
      }
      view.camera = scaled_camera(view.camera, static_cast<double>(w) / width,
                                  static_cast<double>(h) / height, w, h);
    }
    check_camera(view.camera, job.what);
  };
  ThreadPool::global().parallel_for(static_cast<int64_t>(jobs.size()), 1,
                                    [&](int64_t begin, int64_t end, int /*thread*/) {
                                      for (int64_t i = begin; i < end; ++i)
                                        load_view(static_cast<size_t>(i));
                                    });

  GLIMPSE_LOG(Info) << "transforms.json (" << dataset.format << "): " << dataset.views.size()
                    << " views from " << path_or_dir
                    << (split ? ", " + std::to_string(dataset.train_ids.size()) + " train / " +
                                    std::to_string(dataset.test_ids.size()) + " test"
                              : std::string());
  if (estimate_depth_bounds_from_cameras(dataset.views, dataset.near_depth, dataset.far_depth)) {
    GLIMPSE_LOG(Info) << "transforms.json: no depth bounds in the file; estimated from the "
                         "cameras (0.5x / 1.5x the depths of the point their axes meet): "
                      << dataset.near_depth << " .. " << dataset.far_depth;
  } else {
    GLIMPSE_LOG(Warning) << "transforms.json: no depth bounds in the file, and the cameras' axes "
                            "do not meet in front of them: bounds unknown";
  }
  return dataset;
}

}  // namespace glimpse
