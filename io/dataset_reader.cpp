// Dataset layout detection and dispatch.
#include "io/dataset_reader.h"

#include "core/check.h"
#include "io/colmap.h"
#include "io/dtu.h"
#include "io/image_io.h"
#include "io/llff.h"
#include "io/transforms_json.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace glimpse {
namespace fs = std::filesystem;

const char* dataset_format_name(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::Auto:
      return "auto";
    case DatasetFormat::Llff:
      return "llff";
    case DatasetFormat::Colmap:
      return "colmap";
    case DatasetFormat::Dtu:
      return "dtu";
    case DatasetFormat::Transforms:
      return "transforms";
    case DatasetFormat::Images:
      return "images";
  }
  return "?";
}

DatasetFormat dataset_format_from_name(const std::string& name) {
  for (DatasetFormat f : {DatasetFormat::Auto, DatasetFormat::Llff, DatasetFormat::Colmap,
                          DatasetFormat::Dtu, DatasetFormat::Transforms, DatasetFormat::Images})
    if (name == dataset_format_name(f)) return f;
  GLIMPSE_FAIL() << "unknown dataset format '" << name
                 << "' (expected auto, llff, colmap, dtu, transforms or images)";
  return DatasetFormat::Auto;
}

namespace {

// Image files and nothing else besides hidden files and subfolders.
bool is_image_folder(const fs::path& dir) {
  size_t images = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_regular_file(ec)) continue;
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext != ".png" && ext != ".jpg" && ext != ".jpeg") return false;
    ++images;
  }
  return !ec && images > 0;
}

}  // namespace

DatasetFormat detect_dataset_format(const std::string& root) {
  const fs::path r(root);
  GLIMPSE_CHECK(fs::is_directory(r)) << "dataset " << root << " is not a folder";
  if (fs::exists(r / "poses_bounds.npy")) return DatasetFormat::Llff;
  if (fs::absolute(r).lexically_normal().parent_path().filename() == "Rectified")
    return DatasetFormat::Dtu;  // <dtu>/Rectified/scanN
  for (const char* dir : {"sparse/0", "sparse"})
    if (fs::exists(r / dir / "cameras.bin") || fs::exists(r / dir / "cameras.txt"))
      return DatasetFormat::Colmap;
  if (fs::exists(r / "cameras_sphere.npz") || fs::exists(r / "cameras.npz") ||
      fs::exists(r / "Rectified"))
    return DatasetFormat::Dtu;
  if (fs::exists(r / "transforms.json") || fs::exists(r / "transforms_train.json"))
    return DatasetFormat::Transforms;
  if (is_image_folder(r)) return DatasetFormat::Images;
  GLIMPSE_FAIL() << "cannot tell the layout of dataset " << root
                 << ": found none of poses_bounds.npy (LLFF), sparse/0/cameras.{bin,txt} "
                    "(COLMAP), cameras_sphere.npz / cameras.npz / Rectified/ (DTU), "
                    "transforms.json / transforms_train.json (Blender, nerfstudio), and it is "
                    "not a folder of photographs only (.png, .jpg, .jpeg) for structure from "
                    "motion";
  return DatasetFormat::Auto;
}

void DatasetReadOptions::check() const {
  GLIMPSE_CHECK(llff_factor >= 1) << "dataset: LLFF factor must be >= 1, got " << llff_factor;
  GLIMPSE_CHECK(std::isfinite(llff_bd_factor) && llff_bd_factor >= 0)
      << "dataset: LLFF bd_factor must be >= 0 (0: no rescaling), got " << llff_bd_factor;
  GLIMPSE_CHECK(dtu_width > 0 && dtu_height > 0)
      << "dataset: DTU image size must be positive, got " << dtu_width << "x" << dtu_height;
  GLIMPSE_CHECK(downscale >= 1) << "dataset: downscale must be >= 1, got " << downscale;
}

namespace {

// The DTU reader's root and scan for a dataset path: an IDR scan folder as it is; a Rectified
// scan folder <dtu>/Rectified/scanN as (<dtu>, scanN); a folder holding Rectified/ with exactly
// one scan as (folder, that scan). Several scans: an error listing them.
std::pair<std::string, std::string> dtu_root_and_scan(const std::string& root) {
  const fs::path r = fs::absolute(root).lexically_normal();
  const fs::path dir = r.filename().empty() ? r.parent_path() : r;
  if (dir.parent_path().filename() == "Rectified")
    return {dir.parent_path().parent_path().string(), dir.filename().string()};
  if (fs::exists(dir / "cameras_sphere.npz") || fs::exists(dir / "cameras.npz") ||
      !fs::is_directory(dir / "Rectified"))
    return {root, ""};
  std::vector<std::string> scans;
  for (const auto& entry : fs::directory_iterator(dir / "Rectified"))
    if (entry.is_directory()) scans.push_back(entry.path().filename().string());
  std::sort(scans.begin(), scans.end());
  GLIMPSE_CHECK(!scans.empty()) << "DTU dataset " << root << ": Rectified/ holds no scan folder";
  if (scans.size() == 1) return {root, scans.front()};
  std::string list;
  for (const std::string& s : scans) list += (list.empty() ? "" : ", ") + s;
  GLIMPSE_FAIL() << "DTU dataset " << root << " holds several scans (" << list
                 << "): give one scan folder, e.g. "
                 << (dir / "Rectified" / scans.front()).string();
  return {};
}

}  // namespace

Dataset read_dataset(const std::string& root, const DatasetReadOptions& options) {
  options.check();
  const DatasetFormat format =
      options.format == DatasetFormat::Auto ? detect_dataset_format(root) : options.format;
  switch (format) {
    case DatasetFormat::Llff: {
      LlffOptions o;
      o.factor = options.llff_factor;
      o.bd_factor = options.llff_bd_factor;
      return read_llff(root, o);
    }
    case DatasetFormat::Colmap: {
      ColmapDatasetOptions o;
      o.resolution_scale = 1.0 / options.downscale;
      return read_colmap_dataset(root, o);
    }
    case DatasetFormat::Dtu: {
      DtuOptions o;
      o.width = options.dtu_width;
      o.height = options.dtu_height;
      const auto [dtu_root, scan] = dtu_root_and_scan(root);
      o.scan = scan;
      return read_dtu(dtu_root, o);
    }
    case DatasetFormat::Transforms: {
      TransformsOptions o;
      o.downscale = options.downscale;
      return read_transforms_json(root, o);
    }
    case DatasetFormat::Images:
      GLIMPSE_FAIL() << "dataset " << root << " is a folder of " << list_image_files(root).size()
                     << " photographs without camera poses (format 'images'): they need "
                        "structure from motion first, which `glimpse train` runs with COLMAP "
                        "(--colmap PATH); the dataset readers read posed captures only";
      break;
    case DatasetFormat::Auto:
      break;
  }
  GLIMPSE_FAIL() << "dataset " << root << ": no reader";
  return {};
}

}  // namespace glimpse
