// `glimpse export` (see export_command.h).
#include "app/export_command.h"

#include "app/train_config.h"
#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "io/atomic_file.h"
#include "io/cameras_json.h"
#include "io/dataset_reader.h"
#include "io/image_io.h"
#include "io/mesh_io.h"
#include "io/plot.h"
#include "io/splat_formats.h"
#include "optim/densify.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mesh/mesh_preview.h"
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace glimpse {

namespace fs = std::filesystem;

Gaussians crop_gaussians(const Gaussians& g, const WorldBox& box) {
  std::vector<int64_t> inside;
  for (size_t i = 0; i < g.size(); ++i)
    if (box.contains({g.means[3 * i], g.means[3 * i + 1], g.means[3 * i + 2]}))
      inside.push_back(static_cast<int64_t>(i));
  return gather_gaussians(g, inside);
}

namespace {

// The mesh preview's side views: the first training view turned this far to either side.
constexpr double kPreviewOrbitDegrees = 25.0;
constexpr int kMinCaptionedWidth = 240;  // narrower preview panels carry no caption

std::string stem_of(const std::string& name) { return fs::path(name).stem().string(); }

// The names of the run's training views (metrics.json "train"), empty when it has none.
std::set<std::string> training_view_stems(const fs::path& run) {
  std::set<std::string> stems;
  const fs::path metrics = run / "metrics.json";
  if (!fs::is_regular_file(metrics)) return stems;
  try {
    std::ifstream in(metrics);
    const nlohmann::json j = nlohmann::json::parse(in);
    for (const nlohmann::json& v : j.at("train").at("views"))
      stems.insert(stem_of(v.at("name").get<std::string>()));
  } catch (const nlohmann::json::exception& e) {
    GLIMPSE_FAIL() << metrics.string() << ": cannot tell the training views (" << e.what() << ")";
  }
  return stems;
}

// Comma-separated numbers; throws naming `what` (the option) and `text` otherwise.
std::vector<double> parse_numbers(const std::string& text, const std::string& what) {
  std::vector<double> v;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) {
    size_t used = 0;
    double x = 0;
    try {
      x = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    GLIMPSE_CHECK(used > 0 && used == item.size())
        << what << " takes comma-separated numbers, got '" << text << "'";
    v.push_back(x);
  }
  return v;
}

WorldBox parse_box(const std::string& text) {
  const std::vector<double> v = parse_numbers(text, "export: --crop");
  GLIMPSE_CHECK(v.size() == 6)
      << "export: --crop takes 6 numbers xmin,ymin,zmin,xmax,ymax,zmax, got " << v.size() << " in '"
      << text << "'";
  WorldBox box{{v[0], v[1], v[2]}, {v[3], v[4], v[5]}};
  for (int a = 0; a < 3; ++a)
    GLIMPSE_CHECK(std::isfinite(box.min[a]) && std::isfinite(box.max[a]) && box.min[a] < box.max[a])
        << "export: --crop needs min < max on every axis, got '" << text << "'";
  return box;
}

}  // namespace

void ExportOptions::check() const {
  GLIMPSE_CHECK(!input.empty()) << "export: no run folder or splat file given";
  GLIMPSE_CHECK(!output.empty()) << "export: no output file given (-o)";
  GLIMPSE_CHECK(format.empty() || format == "mesh" || format == "ply" || format == "splat" ||
                format == "spz" || format == "compressed-ply")
      << "export: unknown format '" << format << "' (ply, splat, spz, compressed-ply or mesh)";
  GLIMPSE_CHECK(threads >= 0) << "export: threads must be >= 0, got " << threads;
  GLIMPSE_CHECK(spz_version >= 2 && spz_version <= 4)
      << "export: --spz-version must be 2, 3 or 4, got " << spz_version;
  mesh.check();
}

std::string find_run_model(const std::string& run_dir, int iteration) {
  const fs::path root = fs::path(run_dir) / "point_cloud";
  std::map<int, fs::path> saved;
  std::error_code ec;
  if (fs::is_directory(root, ec))
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("iteration_", 0) != 0) continue;
      try {
        size_t used = 0;
        const int n = std::stoi(name.substr(10), &used);
        if (used == name.size() - 10 && fs::is_regular_file(entry.path() / "point_cloud.ply"))
          saved[n] = entry.path() / "point_cloud.ply";
      } catch (const std::exception&) {
      }
    }
  GLIMPSE_CHECK(!saved.empty()) << "export: " << run_dir
                                << " holds no trained model (point_cloud/iteration_N/"
                                   "point_cloud.ply); train first or give a splat file";
  if (iteration < 0) return saved.rbegin()->second.string();
  const auto it = saved.find(iteration);
  if (it == saved.end()) {
    std::ostringstream have;
    for (const auto& [n, path] : saved) have << (have.tellp() > 0 ? ", " : "") << n;
    GLIMPSE_FAIL() << "export: " << run_dir << " has no model of iteration " << iteration
                   << " (saved iterations: " << have.str() << ")";
  }
  return it->second.string();
}

ExportReport run_export(const ExportOptions& options) {
  const Timer timer;
  options.check();
  ExportReport report;
  std::error_code ec;
  GLIMPSE_CHECK(fs::exists(options.input, ec)) << "export: " << options.input << " does not exist";
  const bool from_run = fs::is_directory(options.input, ec);
  report.model = from_run ? find_run_model(options.input, options.iteration) : options.input;

  // What to write: --format, else the output's name (.obj: a mesh).
  std::string format = options.format;
  const std::optional<SplatFormat> named = splat_format_from_path(options.output);
  const bool obj = fs::path(options.output).extension() == ".obj";
  if (format.empty()) {
    GLIMPSE_CHECK(named || obj) << "export: cannot tell the format from " << options.output
                                << "; give --format ply|splat|spz|compressed-ply|mesh";
    format = obj ? "mesh" : splat_format_name(*named);
  }
  if (format == "mesh") {
    mesh_format_from_path(options.output);  // .ply or .obj, else an error naming the file
  } else {
    const SplatFormat wanted = splat_format_from_name(format);
    GLIMPSE_CHECK(!named || *named == wanted || (wanted == SplatFormat::Ply && obj))
        << "export: " << options.output << " is named like a " << splat_format_name(*named)
        << " file but --format is " << format << "; rename it or change --format";
    GLIMPSE_CHECK(!obj) << "export: " << options.output << " is an OBJ name but --format is "
                        << format;
  }
  report.format = format;

  Gaussians g = read_splat_file(report.model);
  report.gaussians = g.size();
  GLIMPSE_CHECK(g.size() > 0) << "export: " << report.model << " holds no Gaussians";
  GLIMPSE_LOG(Info) << "export: " << g.size() << " Gaussians (SH degree " << g.sh_degree
                    << ") from " << report.model;

  if (format != "mesh") {
    if (options.crop) {
      g = crop_gaussians(g, *options.crop);
      GLIMPSE_CHECK(g.size() > 0) << "export: the crop box keeps none of the " << report.gaussians
                                  << " Gaussians of " << report.model;
    }
    SpzOptions spz;
    spz.version = options.spz_version;
    write_splat_file(options.output, g, splat_format_from_name(format), spz);
    report.exported = g.size();
    report.seconds = timer.seconds();
    return report;
  }

  // Mesh: the cameras of the run (its training views), or a cameras.json given.
  std::string cameras_path = options.cameras;
  if (cameras_path.empty()) {
    GLIMPSE_CHECK(from_run) << "export: a mesh needs cameras: give --cameras FILE (cameras.json) "
                               "with a splat file, or export from a run folder";
    cameras_path = (fs::path(options.input) / "cameras.json").string();
  }
  const std::vector<CamerasJsonEntry> entries = read_cameras_json_entries(cameras_path);
  const std::set<std::string> train =
      from_run ? training_view_stems(options.input) : std::set<std::string>{};
  std::vector<Camera> cameras;
  std::vector<std::string> names;
  for (const CamerasJsonEntry& e : entries)
    if (train.empty() || train.count(e.img_name)) {
      cameras.push_back(e.camera);
      names.push_back(e.img_name);
    }
  GLIMPSE_CHECK(!cameras.empty()) << "export: none of the cameras in " << cameras_path
                                  << " is a training view of the run";

  MeshOptions mesh = options.mesh;
  if (options.crop) mesh.crop = options.crop;
  if (options.mesh_hull) {
    GLIMPSE_CHECK(from_run) << "export: --mesh-hull reads the masks of the run's dataset: export "
                               "from a run folder";
    const TrainConfig config =
        load_train_config((fs::path(options.input) / "config.json").string());
    DatasetReadOptions read;
    read.format = dataset_format_from_name(config.format);
    read.llff_factor = config.factor;
    read.llff_bd_factor = config.llff_bd_factor;
    read.downscale = config.downscale;
    const Dataset dataset = read_dataset(config.dataset, read);
    for (const View& v : dataset.views) {
      const auto it = std::find(names.begin(), names.end(), stem_of(v.name));
      if (it == names.end()) continue;
      GLIMPSE_CHECK(!v.mask.empty()) << "export: --mesh-hull, but view " << v.image_path << " of "
                                     << config.dataset << " has no mask";
      mesh.hull.push_back({cameras[static_cast<size_t>(it - names.begin())], v.mask});
    }
  }
  auto rasterizer = make_cpu_rasterizer(options.threads);
  MeshReport mesh_report;
  int last_logged = -1;
  const Mesh result = extract_mesh(g, cameras, *rasterizer, mesh, &mesh_report,
                                   [&](int done, int total, const std::string& stage) {
                                     const int percent = total > 0 ? 100 * done / total : 0;
                                     if (percent / 10 != last_logged / 10 || done == total) {
                                       GLIMPSE_LOG(Info)
                                           << "export: " << stage << " " << done << "/" << total
                                           << " (" << percent << "%), " << std::fixed
                                           << std::setprecision(1) << timer.seconds() << " s";
                                       last_logged = percent;
                                     }
                                   });
  write_mesh(options.output, result);
  if (!options.preview.empty()) {
    // Top: coloured and clay seen from the first training view, at up to 800 px wide. Bottom:
    // clay seen from that view turned kPreviewOrbitDegrees to either side about the mesh's median
    // depth, where a surface at the wrong depth shows (from the input view it looks right).
    const Camera& first = cameras.front();
    const double s = std::min(1.0, 800.0 / first.width);
    const int pw = std::max(1, static_cast<int>(std::lround(first.width * s)));
    const int ph = std::max(1, static_cast<int>(std::lround(first.height * s)));
    const Camera view = scaled_camera(first, static_cast<double>(pw) / first.width,
                                      static_cast<double>(ph) / first.height, pw, ph);
    const Vec3<double> target = preview_target(result, view);
    const double turn = kPreviewOrbitDegrees * 3.14159265358979323846 / 180.0;
    Image<float> panels[4] = {render_mesh_preview(result, view, true),
                              render_mesh_preview(result, view, false),
                              render_mesh_preview(result, orbit_camera(view, target, -turn), false),
                              render_mesh_preview(result, orbit_camera(view, target, turn), false)};
    const std::string degrees = std::to_string(static_cast<int>(kPreviewOrbitDegrees));
    const std::string captions[4] = {"colours, first training view", "clay, first training view",
                                     "clay, turned -" + degrees + " deg",
                                     "clay, turned +" + degrees + " deg"};
    if (pw >= kMinCaptionedWidth)  // on small panels a caption would hide the mesh
      for (int k = 0; k < 4; ++k) caption_image(panels[k], captions[k]);
    Image<float> sheet(2 * pw, 2 * ph, 3);
    for (int k = 0; k < 4; ++k) paste_image(sheet, panels[k], (k % 2) * pw, (k / 2) * ph);
    write_png(options.preview, sheet);
  }
  report.exported = result.num_vertices();
  report.triangles = result.num_triangles();
  report.fusion_views = mesh_report.fused_views;
  report.voxel_size = mesh_report.voxel_size;
  report.seconds = timer.seconds();
  GLIMPSE_LOG(Info) << "export: mesh of " << report.triangles << " triangles from "
                    << cameras.size() << " training views (" << report.fusion_views
                    << " fused), voxel " << report.voxel_size << ", " << mesh_report.raw_triangles
                    << " triangles before clean-up, " << mesh_report.removed_components
                    << " small components removed";
  return report;
}

ExportCli add_export_subcommand(CLI::App& app) {
  ExportCli cli;
  cli.options = std::make_shared<ExportOptions>();
  cli.crop = std::make_shared<std::string>();
  cli.mesh_depth = std::make_shared<std::string>("median");
  ExportOptions& o = *cli.options;
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Export a trained run (or a splat file) as a splat file every viewer opens (reference PLY, "
      ".splat, SPZ, compressed PLY) or as a mesh (TSDF fusion of the rendered depth, PLY/OBJ)");
  cli.command = cmd;
  cmd->add_option("input", o.input, "Run folder (point_cloud/iteration_N/) or a splat file")
      ->required();
  cmd->add_option("-o,--output", o.output,
                  "File to write (.ply, .splat, .spz, .compressed.ply, "
                  ".obj)")
      ->required();
  cmd->add_option("--format", o.format,
                  "ply, splat, spz, compressed-ply or mesh (default: from the output's name; "
                  ".obj is a mesh)")
      ->check(CLI::IsMember({"ply", "splat", "spz", "compressed-ply", "mesh"}));
  cmd->add_option("--spz-version", o.spz_version,
                  "SPZ: the version written, 2 or 3 (gzip) or 4 (ZSTD streams; default 3)")
      ->check(CLI::IsMember({2, 3, 4}));
  cmd->add_option("--iteration", o.iteration, "Saved iteration to export (default: the last)");
  cmd->add_option("--crop", *cli.crop,
                  "Keep what lies in the world box xmin,ymin,zmin,xmax,ymax,zmax (splats: their "
                  "centres; meshes: the fused region and the triangles)");
  cmd->add_option("--threads", o.threads, "Render threads for the mesh (0: all)");
  cmd->add_option("--cameras", o.cameras, "Mesh: cameras.json to fuse from (default: the run's)");
  cmd->add_option("--mesh-resolution", o.mesh.resolution,
                  "Mesh: voxels along the longest side of the fused region")
      ->capture_default_str();
  cmd->add_option("--mesh-depth", *cli.mesh_depth, "Mesh: median or expected depth")
      ->check(CLI::IsMember({"median", "expected"}))
      ->capture_default_str();
  cmd->add_option("--mesh-views-between", o.mesh.views_between,
                  "Mesh: views interpolated between consecutive training views")
      ->capture_default_str();
  cmd->add_option("--mesh-target-triangles", o.mesh.target_triangles,
                  "Mesh: decimate to about this many triangles (0: keep all)")
      ->capture_default_str();
  cmd->add_option("--mesh-min-component", o.mesh.min_component_fraction,
                  "Mesh: remove components with fewer triangles than this fraction of the largest")
      ->capture_default_str();
  cmd->add_option("--preview", o.preview,
                  "Mesh: also write a PNG of it: vertex colours | clay from the first training "
                  "view, and clay from that view turned 25 degrees to either side");
  cmd->add_flag("--mesh-hull", o.mesh_hull,
                "Mesh: keep only the visual hull of the training views' masks (object scans)");
  return cli;
}

int run_export_cli(const ExportCli& cli) {
  ExportOptions options = *cli.options;
  if (!cli.crop->empty()) options.crop = parse_box(*cli.crop);
  options.mesh.depth = *cli.mesh_depth == "expected" ? MeshDepth::Expected : MeshDepth::Median;
  const ExportReport r = run_export(options);
  std::cout << std::fixed << std::setprecision(1);
  if (r.format == "mesh")
    std::cout << "mesh: " << r.exported << " vertices, " << r.triangles << " triangles from "
              << r.fusion_views << " views (voxel " << std::setprecision(4) << r.voxel_size
              << std::setprecision(1) << ") in " << r.seconds << " s -> " << options.output << "\n";
  else
    std::cout << r.format << ": " << r.exported << " of " << r.gaussians << " Gaussians in "
              << r.seconds << " s -> " << options.output << "\n";
  return 0;
}

MeshCompareCli add_mesh_compare_subcommand(CLI::App& app) {
  MeshCompareCli cli;
  cli.predicted = std::make_shared<std::string>();
  cli.reference = std::make_shared<std::string>();
  cli.json = std::make_shared<std::string>();
  cli.thresholds = std::make_shared<std::string>("1,2");
  cli.spacing = std::make_shared<double>(0.2);
  cli.max_distance = std::make_shared<double>(20.0);
  CLI::App* cmd = app.add_subcommand(
      "mesh-compare",
      "Accuracy and completeness of a mesh against a reference mesh (DTU's measure: sampled "
      "surfaces, nearest distances both ways, in the meshes' units)");
  cli.command = cmd;
  cmd->add_option("predicted", *cli.predicted, "Mesh to evaluate (PLY, OBJ)")->required();
  cmd->add_option("reference", *cli.reference, "Reference mesh (PLY, OBJ)")->required();
  cmd->add_option("--spacing", *cli.spacing, "Sample spacing on both surfaces")
      ->capture_default_str();
  cmd->add_option("--max-distance", *cli.max_distance,
                  "Distances at or above this are left out of the means (outliers)")
      ->capture_default_str();
  cmd->add_option("--thresholds", *cli.thresholds, "Comma-separated distances for the fractions")
      ->capture_default_str();
  cmd->add_option("--json", *cli.json, "Also write the figures to this JSON file");
  return cli;
}

int run_mesh_compare_cli(const MeshCompareCli& cli) {
  const std::vector<double> thresholds =
      parse_numbers(*cli.thresholds, "mesh-compare: --thresholds");
  const Timer timer;
  const Mesh predicted = read_mesh_file(*cli.predicted);
  const Mesh reference = read_mesh_file(*cli.reference);
  const SurfaceDistance d =
      compare_surfaces(predicted, reference, *cli.spacing, *cli.max_distance, thresholds);
  std::cout << std::fixed << std::setprecision(3) << "accuracy " << d.accuracy << ", completeness "
            << d.completeness << ", chamfer " << d.chamfer << " (" << d.predicted_samples << " and "
            << d.reference_samples << " samples, " << std::setprecision(1) << timer.seconds()
            << " s)\n";
  nlohmann::json j = {{"predicted", *cli.predicted},
                      {"reference", *cli.reference},
                      {"predicted_vertices", predicted.num_vertices()},
                      {"predicted_triangles", predicted.num_triangles()},
                      {"spacing", *cli.spacing},
                      {"max_distance", *cli.max_distance},
                      {"accuracy", d.accuracy},
                      {"completeness", d.completeness},
                      {"chamfer", d.chamfer},
                      {"predicted_samples", d.predicted_samples},
                      {"reference_samples", d.reference_samples}};
  for (size_t k = 0; k < thresholds.size(); ++k) {
    std::cout << std::setprecision(3) << "within " << thresholds[k] << ": accuracy "
              << d.accuracy_within[k] << ", completeness " << d.completeness_within[k] << "\n";
    j["within"].push_back({{"distance", thresholds[k]},
                           {"accuracy", d.accuracy_within[k]},
                           {"completeness", d.completeness_within[k]}});
  }
  if (!cli.json->empty())
    write_file_atomically(*cli.json, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
  return 0;
}

}  // namespace glimpse
