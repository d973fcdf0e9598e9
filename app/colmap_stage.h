// COLMAP as a source of geometry (Schönberger & Frahm, CVPR 2016): points triangulated from the
// training views with their known poses (the "SfM init" of sparse-view 3DGS papers), and
// structure from motion for a folder of unposed photographs. Writes the COLMAP inputs with io/,
// runs the program with priors/colmap_runner.h, and reads the models back with io/colmap.h. The
// workspace (usually <out>/colmap/) is reused: a stage whose inputs and settings are unchanged is
// skipped.
#pragma once

#include "core/dataset.h"
#include "core/point_cloud.h"
#include "io/colmap.h"
#include "priors/colmap_runner.h"

#include <string>
#include <vector>

namespace glimpse {

// What a COLMAP run did, for logs and reports.
struct ColmapReport {
  std::string colmap_version;             // first line of `colmap help`
  int num_images = 0;                     // images given to COLMAP
  int num_registered = 0;                 // images with a pose in the model read back
  std::vector<std::string> unregistered;  // SfM: the images it could not register, by file name
  int num_models = 0;                     // SfM: models the mapper made (the largest is used)
  size_t num_points = 0;
  double mean_track_length = 0.0;        // views per point
  double mean_reprojection_error = 0.0;  // pixels, COLMAP's per-point mean
  int stages_run = 0;                    // COLMAP commands run
  int stages_reused = 0;                 // stages skipped because the workspace had them
  double seconds = 0.0;                  // wall time of the whole call
  std::string model_dir;                 // the sparse model that was read back
};

// The model's points as a cloud: positions, RGB / 255, support = track length (no normals).
PointCloud colmap_point_cloud(const ColmapModel& model);

// Triangulates the training views with their poses and intrinsics held fixed: writes the images
// (at their loaded size, PNG) and a COLMAP text model of their pinhole cameras into
// <workspace>/images and <workspace>/known_poses, extracts SIFT features (CPU), matches every
// pair (guided), runs point_triangulator into <workspace>/triangulated and returns the points
// (world frame of the views) with colours and support = track length. Needs at least 2 views
// with loaded RGB images of their cameras' sizes (glimpse::Error otherwise). Throws ColmapError
// when COLMAP is missing or fails, or triangulates no point (the message ends with the tail of
// <workspace>/colmap.log): callers fall back to another initialiser.
PointCloud colmap_triangulate_known_poses(const std::vector<View>& train_views,
                                          const std::string& workspace,
                                          const ColmapOptions& options,
                                          ColmapReport* report = nullptr);

struct ColmapSfmOptions {
  int min_images = 3;   // fewer image files in the folder: an error
  int min_points = 50;  // a largest model with fewer points is a failure (degenerate)
  int downscale = 1;    // the returned views' images are divided by this (area filter);
                        // COLMAP itself sees the files as they are
  // Depth bounds: these percentiles of the depths of the points each registered view observes
  // (LLFF's imgs2poses takes 0.1 and 99.9 of many more points; with ~1000 points from 3-9 small
  // photographs those are single outliers: 4 fern photographs gave near 1.9 instead of 8.6).
  double near_percentile = 1.0;
  double far_percentile = 99.0;
  void check() const;
};

// The image files of a folder of photographs for structure from motion, sorted by name, checked:
// at least `min_images`, each decodable, all of the first one's size. Throws glimpse::Error
// naming the folder (too few images) or the file (unreadable, different size).
std::vector<std::string> sfm_image_files(const std::string& image_folder, int min_images = 3);

// Structure from motion on a folder of unposed photographs (3 to 9 is the intended use): one
// camera shared by all images (options.sfm_camera_model), SIFT on the CPU, exhaustive matching,
// the mapper set up for few images, into <workspace>/sparse/N; the model with the most
// registered images is read back as a Dataset (format "images", root = image_folder, views
// sorted by name with undistorted pinhole cameras and loaded images, no split, depth bounds from
// the points' depth percentiles). Logs how many images registered and names the others with
// what to do. `points`, when given, receives the model's points (colmap_point_cloud).
// Throws glimpse::Error for bad input (sfm_image_files), ColmapError when COLMAP is missing or
// fails, registers fewer than 2 images or reconstructs fewer than sfm.min_points points.
Dataset colmap_structure_from_motion(const std::string& image_folder, const std::string& workspace,
                                     const ColmapOptions& options, const ColmapSfmOptions& sfm = {},
                                     PointCloud* points = nullptr, ColmapReport* report = nullptr);

}  // namespace glimpse
