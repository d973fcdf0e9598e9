// LLFF reader: poses_bounds.npy rows -> OpenCV cameras, images_<factor>/ -> views, split.json.
#include "io/llff.h"

#include "core/check.h"
#include "core/log.h"
#include "io/image_io.h"
#include "io/npy.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <system_error>
#include <vector>

namespace glimpse {

namespace {

namespace fs = std::filesystem;

constexpr size_t kRowSize = 17;  // 15 pose values + near + far

std::vector<int> split_ids(const nlohmann::json& j, const char* key,
                           const std::map<std::string, int>& index, const std::string& file,
                           const std::string& folder) {
  GLIMPSE_CHECK(j.contains(key) && j[key].is_array())
      << file << ": expected {\"train\": [names], \"test\": [names]}, but \"" << key
      << "\" is missing or not a list";
  std::vector<int> ids;
  std::set<int> seen;
  for (const auto& item : j[key]) {
    GLIMPSE_CHECK(item.is_string())
        << file << ": \"" << key << "\" must list image file names, found " << item.dump();
    const std::string name = item.get<std::string>();
    const auto it = index.find(name);
    GLIMPSE_CHECK(it != index.end()) << file << ": unknown image name '" << name << "' in \"" << key
                                     << "\" (no such image in " << folder << ")";
    GLIMPSE_CHECK(seen.insert(it->second).second)
        << file << ": image '" << name << "' is listed twice in \"" << key << "\"";
    ids.push_back(it->second);
  }
  return ids;
}

void read_split(const fs::path& file, const std::string& folder, Dataset& dataset) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < dataset.views.size(); ++i) {
    index[dataset.views[i].name] = static_cast<int>(i);
  }
  std::ifstream in(file);
  GLIMPSE_CHECK(in.is_open()) << "cannot read " << file.string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << file.string() << ": invalid JSON: " << e.what();
  }
  GLIMPSE_CHECK(j.is_object()) << file.string()
                               << ": expected {\"train\": [names], \"test\": [names]}";
  dataset.train_ids = split_ids(j, "train", index, file.string(), folder);
  dataset.test_ids = split_ids(j, "test", index, file.string(), folder);
  // An empty list is an error, not "no split": an empty "train" used to train on every view,
  // test views included, and report a test PSNR on views it had trained on.
  for (const char* key : {"train", "test"})
    GLIMPSE_CHECK(!(key[1] == 'r' ? dataset.train_ids : dataset.test_ids).empty())
        << file.string() << ": the \"" << key
        << "\" list is empty (delete split.json to train on every view without a test split)";
  const std::set<int> train(dataset.train_ids.begin(), dataset.train_ids.end());
  for (int id : dataset.test_ids)
    GLIMPSE_CHECK(!train.count(id))
        << file.string() << ": image '" << dataset.views[id].name
        << "' is listed in both \"train\" and \"test\" (a test view must be held out)";
}

}  // namespace

void LlffOptions::check() const {
  GLIMPSE_CHECK(factor >= 1) << "LLFF factor must be >= 1 (1 reads images/, 8 reads images_8/), "
                             << "got " << factor;
  GLIMPSE_CHECK(std::isfinite(bd_factor) && bd_factor >= 0)
      << "LLFF bd_factor must be >= 0 (0: no rescaling), got " << bd_factor;
}

Camera camera_from_llff_row(const double* row, int width, int height) {
  // 3x5 row-major: m(r, c) = row[r * 5 + c]; columns: down, right, back, centre, hwf.
  auto m = [row](int r, int c) { return row[r * 5 + c]; };
  Mat3<double> cam_to_world;  // columns x = right, y = down, z = forward = -back
  for (int r = 0; r < 3; ++r) {
    cam_to_world.m[r][0] = m(r, 1);
    cam_to_world.m[r][1] = m(r, 0);
    cam_to_world.m[r][2] = -m(r, 2);
  }
  const Vec3<double> centre(m(0, 3), m(1, 3), m(2, 3));
  const double full_width = m(1, 4), focal = m(2, 4);

  Camera camera;
  camera.width = width;
  camera.height = height;
  camera.fx = camera.fy = focal * static_cast<double>(width) / full_width;
  camera.cx = 0.5 * width;
  camera.cy = 0.5 * height;
  camera.rotation = cam_to_world.transposed();
  camera.translation = -(camera.rotation * centre);
  return camera;
}

Dataset read_llff(const std::string& root, const LlffOptions& options) {
  options.check();
  const fs::path root_path(root);
  std::error_code ec;
  GLIMPSE_CHECK(fs::is_directory(root_path, ec)) << "LLFF folder " << root << " does not exist";

  const fs::path poses_path = root_path / "poses_bounds.npy";
  const std::string poses_file = poses_path.string();
  GLIMPSE_CHECK(fs::exists(poses_path, ec))
      << poses_file << ": file does not exist (an LLFF scene needs poses_bounds.npy)";
  const NpyArray poses = read_npy(poses_file);
  GLIMPSE_CHECK(poses.ndim() == 2 && poses.shape[0] > 0 && poses.shape[1] == kRowSize)
      << poses_file << ": expected an N x 17 array (3x5 pose, near, far per image), got "
      << poses.ndim() << "-d shape with " << poses.size() << " values";
  GLIMPSE_CHECK(poses.dtype.size() >= 2 && poses.dtype[1] == 'f')
      << poses_file << ": the array's type is " << poses.dtype
      << ", not floating point (float32 '<f4' or float64 '<f8'): poses and bounds written as "
         "integers have lost their values";
  const size_t n = poses.shape[0];

  const std::string folder_name =
      options.factor == 1 ? "images" : "images_" + std::to_string(options.factor);
  const fs::path folder = root_path / folder_name;
  GLIMPSE_CHECK(fs::is_directory(folder, ec))
      << "LLFF image folder " << folder.string() << " does not exist (factor " << options.factor
      << " reads " << folder_name << "/; downsample images/ into it or choose another factor)";
  const std::vector<std::string> names = list_image_files(folder.string());
  GLIMPSE_CHECK(names.size() == n)
      << "LLFF image count mismatch: " << folder.string() << " holds " << names.size()
      << " images (png/jpg/jpeg) but " << poses_file << " has " << n
      << " rows (one per image, in sorted file name order)";

  // Validate every row before touching the images.
  for (size_t i = 0; i < n; ++i) {
    const double* row = poses.data.data() + i * kRowSize;
    const std::string what = poses_file + " row " + std::to_string(i);
    for (size_t k = 0; k < kRowSize; ++k) {
      GLIMPSE_CHECK(std::isfinite(row[k])) << what << " (" << names[i] << "): value " << k << " is "
                                           << row[k] << " (poses must be finite numbers)";
    }
    GLIMPSE_CHECK(row[4] > 0 && row[9] > 0 && row[14] > 0)
        << what << " (" << names[i] << "): height, width and focal must be positive, got " << row[4]
        << ", " << row[9] << ", " << row[14];
    GLIMPSE_CHECK(row[15] > 0 && row[16] > row[15])
        << what << " (" << names[i]
        << "): depth bounds must satisfy 0 < near < far, got near=" << row[15]
        << " far=" << row[16];
    GLIMPSE_CHECK(row[16] <= kMaxFarOverNear * row[15])
        << what << " (" << names[i] << "): depth bounds near=" << row[15] << " far=" << row[16]
        << " span more than " << kMaxFarOverNear
        << " times: the near bound is not a scene depth (it sets the world scale)";
  }

  Dataset dataset;
  dataset.root = root;
  dataset.format = "llff";
  dataset.views.resize(n);
  for (size_t i = 0; i < n; ++i) {
    dataset.views[i].name = names[i];
    dataset.views[i].image_path = (folder / names[i]).string();
  }

  int width = 0, height = 0;
  if (options.load_images) {
    read_view_images(dataset.views);
    width = dataset.views[0].image.width();
    height = dataset.views[0].image.height();
    for (const View& v : dataset.views) {
      GLIMPSE_CHECK(v.image.width() == width && v.image.height() == height)
          << v.image_path << ": image is " << v.image.width() << "x" << v.image.height() << " but "
          << dataset.views[0].image_path << " is " << width << "x" << height
          << " (all LLFF images must have the same size)";
    }
  } else {
    width = static_cast<int>(std::lround(poses.data[9] / options.factor));
    height = static_cast<int>(std::lround(poses.data[4] / options.factor));
  }

  dataset.near_depth = poses.data[15];
  dataset.far_depth = poses.data[16];
  for (size_t i = 0; i < n; ++i) {
    const double* row = poses.data.data() + i * kRowSize;
    const std::string what = poses_file + " row " + std::to_string(i);
    // The images must be the full-resolution frame scaled down, not rotated or cropped.
    const double scale = width / row[9];
    GLIMPSE_CHECK(std::abs(height - row[4] * scale) <= 1.0 + 0.01 * height)
        << dataset.views[i].image_path << ": image size " << width << "x" << height
        << " does not match the full-resolution size " << row[9] << "x" << row[4] << " of " << what
        << " scaled by " << scale << " (rotated or cropped images?)";
    Camera camera = camera_from_llff_row(row, width, height);
    check_camera(camera, what);
    dataset.views[i].camera = camera;
    dataset.near_depth = std::min(dataset.near_depth, row[15]);
    dataset.far_depth = std::max(dataset.far_depth, row[16]);
  }

  if (options.bd_factor > 0) {
    // World scaled by sc: centres and translations scale with it, rotations do not.
    const double sc = 1.0 / (dataset.near_depth * options.bd_factor);
    for (View& v : dataset.views) v.camera.translation = v.camera.translation * sc;
    dataset.near_depth *= sc;
    dataset.far_depth *= sc;
  }

  const fs::path split_path = root_path / "split.json";
  if (fs::exists(split_path, ec)) read_split(split_path, folder.string(), dataset);

  GLIMPSE_LOG(Info) << "LLFF: " << n << " views " << width << "x" << height << " from "
                    << folder.string() << ", depth " << dataset.near_depth << " .. "
                    << dataset.far_depth
                    << (dataset.train_ids.empty() && dataset.test_ids.empty()
                            ? std::string()
                            : ", split.json: " + std::to_string(dataset.train_ids.size()) +
                                  " train / " + std::to_string(dataset.test_ids.size()) + " test");
  return dataset;
}

}  // namespace glimpse
