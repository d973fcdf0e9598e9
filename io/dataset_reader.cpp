// Dataset layout detection and dispatch.
#include "io/dataset_reader.h"

#include "core/check.h"
#include "io/colmap.h"
#include "io/dtu.h"
#include "io/llff.h"
#include "io/transforms_json.h"

#include <cmath>
#include <filesystem>

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
  }
  return "?";
}

DatasetFormat dataset_format_from_name(const std::string& name) {
  for (DatasetFormat f : {DatasetFormat::Auto, DatasetFormat::Llff, DatasetFormat::Colmap,
                          DatasetFormat::Dtu, DatasetFormat::Transforms})
    if (name == dataset_format_name(f)) return f;
  GLIMPSE_FAIL() << "unknown dataset format '" << name
                 << "' (expected auto, llff, colmap, dtu or transforms)";
  return DatasetFormat::Auto;
}

DatasetFormat detect_dataset_format(const std::string& root) {
  const fs::path r(root);
  GLIMPSE_CHECK(fs::is_directory(r)) << "dataset " << root << " is not a folder";
  if (fs::exists(r / "poses_bounds.npy")) return DatasetFormat::Llff;
  for (const char* dir : {"sparse/0", "sparse"})
    if (fs::exists(r / dir / "cameras.bin") || fs::exists(r / dir / "cameras.txt"))
      return DatasetFormat::Colmap;
  if (fs::exists(r / "cameras_sphere.npz") || fs::exists(r / "cameras.npz") ||
      fs::exists(r / "Rectified"))
    return DatasetFormat::Dtu;
  if (fs::exists(r / "transforms.json") || fs::exists(r / "transforms_train.json"))
    return DatasetFormat::Transforms;
  GLIMPSE_FAIL() << "cannot tell the layout of dataset " << root
                 << ": found none of poses_bounds.npy (LLFF), sparse/0/cameras.{bin,txt} "
                    "(COLMAP), cameras_sphere.npz / cameras.npz / Rectified/ (DTU), "
                    "transforms.json / transforms_train.json (Blender, nerfstudio)";
  return DatasetFormat::Auto;
}

void DatasetReadOptions::check() const {
  GLIMPSE_CHECK(llff_factor >= 1) << "dataset: LLFF factor must be >= 1, got " << llff_factor;
  GLIMPSE_CHECK(std::isfinite(llff_bd_factor) && llff_bd_factor >= 0)
      << "dataset: LLFF bd_factor must be >= 0 (0: no rescaling), got " << llff_bd_factor;
  GLIMPSE_CHECK(dtu_width > 0 && dtu_height > 0)
      << "dataset: DTU image size must be positive, got " << dtu_width << "x" << dtu_height;
}

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
    case DatasetFormat::Colmap:
      return read_colmap_dataset(root);
    case DatasetFormat::Dtu: {
      DtuOptions o;
      o.width = options.dtu_width;
      o.height = options.dtu_height;
      return read_dtu(root, o);
    }
    case DatasetFormat::Transforms:
      return read_transforms_json(root);
    case DatasetFormat::Auto:
      break;
  }
  GLIMPSE_FAIL() << "dataset " << root << ": no reader";
  return {};
}

}  // namespace glimpse
