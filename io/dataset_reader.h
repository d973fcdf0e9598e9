// One entry point for every dataset layout Glimpse reads: detects the layout of a folder (LLFF,
// COLMAP, DTU, Blender/nerfstudio transforms.json) and dispatches to its reader.
#pragma once

#include "core/dataset.h"

#include <string>

namespace glimpse {

// Images: a plain folder of photographs without cameras (structure from motion must pose them:
// app/colmap_stage.h colmap_structure_from_motion); read_dataset cannot read it.
enum class DatasetFormat { Auto, Llff, Colmap, Dtu, Transforms, Images };

const char* dataset_format_name(DatasetFormat format);  // "auto", "llff", "colmap", ...
// Throws glimpse::Error listing the valid names.
DatasetFormat dataset_format_from_name(const std::string& name);

// The layout of `root`, from the files it holds: poses_bounds.npy (LLFF), sparse/ with COLMAP
// cameras (COLMAP), cameras_sphere.npz / cameras.npz / Rectified/ (DTU; also a scan folder
// <dtu>/Rectified/scanN), transforms*.json; else Images when the folder holds image files
// (.png, .jpg, .jpeg) and no other files (hidden files and subfolders are ignored).
// Throws glimpse::Error naming the folder and what was looked for when none matches.
DatasetFormat detect_dataset_format(const std::string& root);

struct DatasetReadOptions {
  DatasetFormat format = DatasetFormat::Auto;  // Auto: detect_dataset_format
  int llff_factor = 8;                         // LLFF: images_<factor>/ (8: 504x378)
  double llff_bd_factor = 0.0;                 // LLFF: > 0 rescales bounds (see LlffOptions)
  int dtu_width = 400, dtu_height = 300;       // DTU: the sparse-view protocol's image size
  int downscale = 1;  // COLMAP, transforms.json: divide the image size by this (area filter)
  void check() const;
};

// DTU: an IDR/NeuS scan folder, a Rectified scan folder <dtu>/Rectified/scanN (cameras and
// idrmasks found from <dtu>), or <dtu> itself when its Rectified/ holds one scan. An Images
// folder throws glimpse::Error saying that its photographs have no poses and need structure from
// motion (the caller checks detect_dataset_format first and runs it).
Dataset read_dataset(const std::string& root, const DatasetReadOptions& options = {});

}  // namespace glimpse
