// `glimpse export`: a trained run (or a splat file) to the splat formats every viewer opens
// (reference PLY, .splat, SPZ, compressed PLY) or to a mesh (TSDF fusion of the splats' rendered
// depth, mesh/tsdf_mesh.h), with an optional crop box, progress and atomic output.
#pragma once

#include "mesh/tsdf_mesh.h"
#include <memory>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace glimpse {

struct ExportOptions {
  std::string input;   // a run folder (point_cloud/iteration_N/point_cloud.ply) or a splat file
  std::string output;  // the file to write
  std::string format;  // ply, splat, spz, compressed-ply, mesh; empty: from the output's name
  int iteration = -1;  // run folders: the saved iteration to export (-1: the last)
  std::optional<WorldBox> crop;  // splats: keep the Gaussians whose centre lies inside
  int threads = 0;               // renders for the mesh (0: all hardware threads)
  MeshOptions mesh;              // mesh: fusion options (mesh.crop is set from crop)
  bool mesh_hull = false;        // mesh: carve with the training views' masks (DTU, alpha)
  std::string cameras;           // mesh: a cameras.json to fuse from (default: the run's)
  // Mesh: also write this PNG (colours | clay from the first training view; below, clay from
  // that view turned to either side).
  std::string preview;
  int spz_version = 3;  // spz: the SPZ version written (2, 3: gzip; 4: ZSTD streams)

  void check() const;
};

struct ExportReport {
  std::string model;      // the file the Gaussians came from
  std::string format;     // what was written
  size_t gaussians = 0;   // Gaussians read
  size_t exported = 0;    // Gaussians written (after the crop), or mesh vertices
  size_t triangles = 0;   // mesh only
  int fusion_views = 0;   // mesh only: the views fused (input and interpolated)
  double voxel_size = 0;  // mesh only
  double seconds = 0;
};

// The Gaussians whose centre lies inside `box` (faces included), in their order.
Gaussians crop_gaussians(const Gaussians& g, const WorldBox& box);

// The saved model of a run folder: <run>/point_cloud/iteration_N/point_cloud.ply for the given
// iteration (or the largest N when iteration < 0). Throws glimpse::Error naming the folder when
// it has none, or naming the iterations it has when the one asked for is missing.
std::string find_run_model(const std::string& run_dir, int iteration);

// Runs the export. Throws glimpse::Error (naming the file and the problem) before anything is
// written for a missing or unreadable model, an empty model or crop, a format the output's name
// contradicts; the output is written atomically.
ExportReport run_export(const ExportOptions& options);

struct ExportCli {
  CLI::App* command = nullptr;
  std::shared_ptr<ExportOptions> options;
  std::shared_ptr<std::string> crop, mesh_depth;
};
ExportCli add_export_subcommand(CLI::App& app);
int run_export_cli(const ExportCli& cli);

// `glimpse mesh-compare PREDICTED REFERENCE`: accuracy (predicted -> reference) and completeness
// (reference -> predicted) of two meshes in their own units (DTU: mm), DTU's way (surfaces
// sampled about every --spacing, means over distances below --max-distance, fractions within the
// thresholds); prints them and writes them as JSON with --json.
struct MeshCompareCli {
  CLI::App* command = nullptr;
  std::shared_ptr<std::string> predicted, reference, json, thresholds;
  std::shared_ptr<double> spacing, max_distance;
};
MeshCompareCli add_mesh_compare_subcommand(CLI::App& app);
int run_mesh_compare_cli(const MeshCompareCli& cli);

}  // namespace glimpse
