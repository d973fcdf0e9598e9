// COLMAP triangulation with known poses and structure from motion on unposed photographs: the
// workspace layout, stage keys for resume, and reading the models back as glimpse types.
#include "app/colmap_stage.h"

#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "io/image_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <set>
#include <sstream>

namespace glimpse {
namespace fs = std::filesystem;

namespace {

// Bump when the workspace layout or a stage's meaning changes: old workspaces are then redone.
constexpr const char* kWorkspaceVersion = "glimpse-colmap-1";

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

void remove_path(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  GLIMPSE_CHECK(!ec) << "cannot remove " << p.string() << ": " << ec.message();
}

// The database and its SQLite side files.
void remove_database(const fs::path& db) {
  for (const char* suffix : {"", "-shm", "-wal", "-journal"})
    remove_path(fs::path(db.string() + suffix));
}

bool model_exists(const fs::path& dir) {
  std::error_code ec;
  for (const char* ext : {".bin", ".txt"}) {
    bool all = true;
    for (const char* f : {"cameras", "images", "points3D"})
      all = all && fs::is_regular_file(dir / (std::string(f) + ext), ec);
    if (all) return true;
  }
  return false;
}

// "image001.png" -> "000_image001.png": workspace names whose byte order is the views' order (so
// COLMAP's image ids, given in name order, are 1..N in view order) and that stay readable.
std::vector<std::string> workspace_image_names(const std::vector<View>& views) {
  std::vector<std::string> names;
  for (size_t k = 0; k < views.size(); ++k) {
    std::string stem = fs::path(views[k].name).stem().string();
    for (char& c : stem)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
        c = '_';
    std::ostringstream s;
    s << std::setw(3) << std::setfill('0') << k << "_" << (stem.empty() ? "view" : stem) << ".png";
    names.push_back(s.str());
  }
  return names;
}

std::string image_key(const std::vector<View>& views, const std::vector<std::string>& names) {
  std::string all = kWorkspaceVersion;
  for (size_t k = 0; k < views.size(); ++k) {
    const Image<float>& im = views[k].image;
    all += "\n" + names[k] + " " + std::to_string(im.width()) + "x" + std::to_string(im.height()) +
           "x" + std::to_string(im.channels()) + " ";
    all += hash_hex(
        std::string_view(reinterpret_cast<const char*>(im.data()), im.size() * sizeof(float)));
  }
  return hash_hex(all);
}

std::string options_key(const ColmapOptions& o, const std::string& version) {
  std::ostringstream s;
  s << version << "|" << o.max_image_size << "|" << o.max_num_features << "|" << o.peak_threshold
    << "|" << o.guided_matching << "|" << o.match_max_ratio << "|" << o.match_min_num_inliers << "|"
    << o.sfm_match_max_ratio << "|" << o.sfm_match_min_num_inliers << "|" << o.min_num_matches
    << "|" << o.sfm_camera_model;
  return s.str();
}

void summarize_points(const ColmapModel& model, ColmapReport& r) {
  r.num_points = model.points3D.size();
  double track = 0, error = 0;
  size_t with_error = 0;
  for (const ColmapPoint3D& p : model.points3D) {
    track += static_cast<double>(p.track.size());
    if (p.error >= 0) error += p.error, ++with_error;
  }
  r.mean_track_length = r.num_points ? track / r.num_points : 0.0;
  r.mean_reprojection_error = with_error ? error / with_error : 0.0;
}

// Runs a stage unless the workspace holds its outputs and its key matches; counts either way.
// `outputs_present` is checked only when the key matches.
template <typename Run, typename Present>
bool run_stage(ColmapRunner& runner, ColmapReport& report, const std::string& stage,
               const std::string& label, const std::string& key, Present outputs_present, Run run) {
  if (runner.stage_done(stage, key) && outputs_present()) {
    GLIMPSE_LOG(Info) << "COLMAP " << label << ": reused from " << runner.workspace()
                      << " (inputs unchanged)";
    ++report.stages_reused;
    return false;
  }
  runner.clear_stage(stage);
  run();
  runner.mark_stage_done(stage, key);
  ++report.stages_run;
  return true;
}

ColmapError colmap_failure(const ColmapRunner& runner, const std::string& why) {
  return ColmapError(
      why + "; full log: " + runner.log_path() + "; last lines:\n" +
      file_tail(runner.log_path(), static_cast<size_t>(runner.options().log_tail_lines)));
}

std::string join(const std::vector<std::string>& items, size_t max_items = 20) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > max_items) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

}  // namespace

PointCloud colmap_point_cloud(const ColmapModel& model) {
  PointCloud cloud;
  const size_t n = model.points3D.size();
  cloud.positions.reserve(3 * n);
  cloud.colors.reserve(3 * n);
  cloud.support.reserve(n);
  for (const ColmapPoint3D& p : model.points3D) {
    for (int i = 0; i < 3; ++i) {
      cloud.positions.push_back(static_cast<float>(p.xyz[i]));
      cloud.colors.push_back(static_cast<float>(p.rgb[static_cast<size_t>(i)]) / 255.f);
    }
    cloud.support.push_back(static_cast<float>(p.track.size()));
  }
  return cloud;
}

// [SECTION] known poses
// -----------------------------------------------------------------------------------

PointCloud colmap_triangulate_known_poses(const std::vector<View>& train_views,
                                          const std::string& workspace,
                                          const ColmapOptions& options, ColmapReport* report) {
  const Timer timer;
  GLIMPSE_CHECK(train_views.size() >= 2)
      << "COLMAP triangulation needs at least 2 training views, got " << train_views.size();
  for (size_t k = 0; k < train_views.size(); ++k) {
    const View& v = train_views[k];
    const std::string what =
        "COLMAP triangulation: view " + std::to_string(k) + " ('" + v.name + "')";
    check_camera(v.camera, what);
    GLIMPSE_CHECK(!v.image.empty() && v.image.channels() == 3 &&
                  v.image.width() == v.camera.width && v.image.height() == v.camera.height)
        << what << ": needs its RGB image loaded at the camera's size " << v.camera.width << "x"
        << v.camera.height << " (got " << v.image.width() << "x" << v.image.height() << "x"
        << v.image.channels() << ")";
  }
  ColmapRunner runner(workspace, options);
  ColmapReport r;
  r.colmap_version = runner.version();
  r.num_images = static_cast<int>(train_views.size());
  const fs::path ws(runner.workspace());
  const fs::path images_dir = ws / "images", input_model = ws / "known_poses",
                 output_model = ws / "triangulated", database = ws / "database.db";

  // Images and the model of the known cameras (cheap; rewritten when they changed).
  const std::vector<std::string> names = workspace_image_names(train_views);
  const std::string images_key = image_key(train_views, names);
  const auto images_present = [&] {
    std::error_code ec;
    for (const std::string& name : names)
      if (!fs::is_regular_file(images_dir / name, ec)) return false;
    return true;
  };
  if (runner.stage_done("images", images_key) && images_present()) {
    ++r.stages_reused;
  } else {
    runner.clear_stage("images");
    remove_path(images_dir);
    std::error_code ec;
    fs::create_directories(images_dir, ec);
    GLIMPSE_CHECK(!ec) << "cannot create " << images_dir.string() << ": " << ec.message();
    for (size_t k = 0; k < train_views.size(); ++k)
      write_png((images_dir / names[k]).string(), train_views[k].image);
    runner.mark_stage_done("images", images_key);
  }
  const ColmapModel known = colmap_model_from_views(train_views, names);
  remove_path(input_model);
  write_colmap_model_text(input_model.string(), known);
  const std::string model_key =
      hash_files({(input_model / "cameras.txt").string(), (input_model / "images.txt").string()});

  // Features and matches share the database: when either must be redone, both are. One
  // extraction per view, so that the database numbers the images as the model does and each
  // has its own exact camera (the matcher verifies pairs with calibrated geometry).
  std::vector<std::vector<double>> params;
  for (const View& v : train_views)
    params.push_back({v.camera.fx, v.camera.fy, v.camera.cx, v.camera.cy});
  const std::string opts = options_key(options, r.colmap_version);
  const std::string features_key = hash_hex(images_key + "|" + opts + "|" + model_key);
  const std::string matches_key = hash_hex(features_key + "|matches");
  const auto db_present = [&] { return fs::is_regular_file(database); };
  if (!(runner.stage_done("features", features_key) && runner.stage_done("matches", matches_key) &&
        db_present())) {
    runner.clear_stage("features");
    runner.clear_stage("matches");
    remove_database(database);
  }
  run_stage(runner, r, "features", "feature extraction", features_key, db_present, [&] {
    runner.extract_features_in_order(database.string(), images_dir.string(), "PINHOLE", params,
                                     names);
  });
  run_stage(runner, r, "matches", "exhaustive matching", matches_key, db_present, [&] {
    runner.match_exhaustive(database.string(), options.match_max_ratio,
                            options.match_min_num_inliers);
  });
  const std::string triangulation_key = hash_hex(matches_key + "|" + model_key + "|triangulate");
  run_stage(
      runner, r, "triangulation", "triangulation", triangulation_key,
      [&] { return model_exists(output_model); },
      [&] {
        remove_path(output_model);
        runner.triangulate(database.string(), images_dir.string(), input_model.string(),
                           output_model.string());
        if (!model_exists(output_model))
          throw colmap_failure(
              runner, "COLMAP point_triangulator wrote no model into " + output_model.string());
      });

  ColmapModel model;
  try {
    model = read_colmap_model(output_model.string());
  } catch (const ColmapError&) {
    throw;
  } catch (const Error& e) {
    runner.clear_stage("triangulation");
    throw colmap_failure(runner, "cannot read COLMAP's triangulated model: " +
                                     error_message_without_location(e.what()));
  }
  // The model must still be ours: each image under its id and name with its pose unchanged
  // (COLMAP leaves out images that no point was triangulated in).
  for (const auto& [id, image] : model.images) {
    const auto it = known.images.find(id);
    if (it == known.images.end() || it->second.name != image.name) {
      runner.clear_stage("triangulation");
      throw colmap_failure(runner, "COLMAP's triangulated model in " + output_model.string() +
                                       " holds image " + std::to_string(id) + " ('" + image.name +
                                       "'), which is not the known camera of that id");
    }
    const Vec3<double>& t = it->second.cam_from_world_translation;
    const Vec3<double> d = image.cam_from_world_translation - t;
    if (std::sqrt(dot(d, d)) > 1e-6 * (1.0 + std::sqrt(dot(t, t)))) {
      runner.clear_stage("triangulation");
      throw colmap_failure(runner, "COLMAP moved the known pose of image '" + image.name + "' in " +
                                       output_model.string());
    }
  }
  summarize_points(model, r);
  r.num_registered = static_cast<int>(model.images.size());
  r.model_dir = output_model.string();
  r.seconds = timer.seconds();
  if (model.points3D.empty()) {
    runner.clear_stage("triangulation");
    throw colmap_failure(runner, "COLMAP triangulated no point from the " +
                                     std::to_string(train_views.size()) +
                                     " training views (too few feature matches between them)");
  }
  GLIMPSE_LOG(Info) << "COLMAP: " << r.num_points << " points triangulated from "
                    << train_views.size() << " views with known poses (mean track length "
                    << fixed(r.mean_track_length, 2) << ", mean reprojection error "
                    << fixed(r.mean_reprojection_error, 2) << " px) in " << fixed(r.seconds, 1)
                    << " s" << (r.stages_run == 0 ? " (workspace reused)" : "");
  if (report != nullptr) *report = r;
  return colmap_point_cloud(model);
}

// [SECTION] structure from motion
// ------------------------------------------------------------------------------

void ColmapSfmOptions::check() const {
  GLIMPSE_CHECK(min_images >= 2) << "SfM: min_images must be >= 2, got " << min_images;
  GLIMPSE_CHECK(downscale >= 1) << "SfM: downscale must be >= 1, got " << downscale;
  GLIMPSE_CHECK(min_points >= 1) << "SfM: min_points must be >= 1, got " << min_points;
  GLIMPSE_CHECK(near_percentile >= 0 && near_percentile < far_percentile && far_percentile <= 100)
      << "SfM: need 0 <= near_percentile < far_percentile <= 100, got " << near_percentile
      << " and " << far_percentile;
}

std::vector<std::string> sfm_image_files(const std::string& image_folder, int min_images) {
  std::error_code ec;
  GLIMPSE_CHECK(fs::is_directory(image_folder, ec))
      << "structure from motion: " << image_folder << " is not a folder of photographs";
  const std::vector<std::string> names = list_image_files(image_folder);
  std::vector<std::string> files;
  for (const std::string& name : names) files.push_back((fs::path(image_folder) / name).string());
  GLIMPSE_CHECK(static_cast<int>(files.size()) >= min_images)
      << "structure from motion: folder " << image_folder << " holds " << files.size()
      << " image file(s)" << (names.empty() ? std::string() : " (" + join(names) + ")")
      << "; it needs at least " << min_images
      << " overlapping photographs (.png, .jpg, .jpeg) of the scene";
  int width = 0, height = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const Image<float> image = read_image_rgb(files[i]);  // throws naming the file
    if (i == 0) {
      width = image.width(), height = image.height();
      continue;
    }
    GLIMPSE_CHECK(image.width() == width && image.height() == height)
        << "structure from motion: " << files[i] << " is " << image.width() << "x" << image.height()
        << " but " << files.front() << " is " << width << "x" << height
        << ": the photographs must share one camera and size (resize or crop them alike, or "
           "remove the odd one)";
  }
  return files;
}

Dataset colmap_structure_from_motion(const std::string& image_folder, const std::string& workspace,
                                     const ColmapOptions& options, const ColmapSfmOptions& sfm,
                                     PointCloud* points, ColmapReport* report) {
  const Timer timer;
  sfm.check();
  const std::vector<std::string> files = sfm_image_files(image_folder, sfm.min_images);
  std::vector<std::string> names;
  for (const std::string& f : files) names.push_back(fs::path(f).filename().string());
  const std::string folder = fs::absolute(image_folder).lexically_normal().string();

  ColmapRunner runner(workspace, options);
  ColmapReport r;
  r.colmap_version = runner.version();
  r.num_images = static_cast<int>(files.size());
  GLIMPSE_LOG(Info) << "COLMAP: structure from motion on " << files.size() << " photographs in "
                    << folder << " (" << r.colmap_version.substr(0, r.colmap_version.find(" --"))
                    << ", log " << runner.log_path() << ")";
  const fs::path ws(runner.workspace());
  const fs::path database = ws / "sfm_database.db", sparse = ws / "sparse";

  const std::string images_key =
      hash_hex(std::string(kWorkspaceVersion) + "|" + folder + "|" + hash_files(files));
  const std::string features_key =
      hash_hex(images_key + "|" + options_key(options, r.colmap_version) + "|sfm");
  const std::string matches_key = hash_hex(features_key + "|matches");
  const std::string mapper_key = hash_hex(matches_key + "|mapper");
  const auto db_present = [&] { return fs::is_regular_file(database); };
  if (!(runner.stage_done("sfm_features", features_key) &&
        runner.stage_done("sfm_matches", matches_key) && db_present())) {
    runner.clear_stage("sfm_features");
    runner.clear_stage("sfm_matches");
    remove_database(database);
  }
  run_stage(runner, r, "sfm_features", "feature extraction", features_key, db_present, [&] {
    runner.extract_features(database.string(), folder, options.sfm_camera_model, {}, true, names);
  });
  run_stage(runner, r, "sfm_matches", "exhaustive matching", matches_key, db_present, [&] {
    runner.match_exhaustive(database.string(), options.sfm_match_max_ratio,
                            options.sfm_match_min_num_inliers);
  });
  run_stage(
      runner, r, "sfm_mapper", "mapping (structure from motion)", mapper_key,
      [&] { return model_exists(sparse / "0"); },
      [&] {
        remove_path(sparse);
        runner.map(database.string(), folder, sparse.string());
      });

  // The model with the most registered images (then the most points).
  std::vector<std::pair<std::string, ColmapModel>> models;
  std::error_code ec;
  if (fs::is_directory(sparse, ec)) {
    for (const auto& entry : fs::directory_iterator(sparse)) {
      if (!entry.is_directory() || !model_exists(entry.path())) continue;
      try {
        models.emplace_back(entry.path().filename().string(),
                            read_colmap_model(entry.path().string()));
      } catch (const Error& e) {
        runner.clear_stage("sfm_mapper");
        throw colmap_failure(runner, "cannot read COLMAP's model " + entry.path().string() + ": " +
                                         error_message_without_location(e.what()));
      }
    }
  }
  r.num_models = static_cast<int>(models.size());
  const auto best =
      std::max_element(models.begin(), models.end(), [](const auto& a, const auto& b) {
        return std::make_pair(a.second.images.size(), a.second.points3D.size()) <
               std::make_pair(b.second.images.size(), b.second.points3D.size());
      });
  if (best == models.end() || best->second.images.size() < 2 ||
      static_cast<int>(best->second.points3D.size()) < sfm.min_points) {
    runner.clear_stage("sfm_mapper");
    throw colmap_failure(
        runner, "COLMAP structure from motion could not register the photographs in " + folder +
                    " (no model of 2 or more images and " + std::to_string(sfm.min_points) +
                    " or more points): they share too few matching features. "
                    "Take photographs with more overlap (neighbouring views should share most "
                    "of the scene), of a textured, static scene, or add photographs in between");
  }
  const ColmapModel& model = best->second;
  r.model_dir = (sparse / best->first).string();
  std::set<std::string> registered;
  for (const auto& [id, image] : model.images) registered.insert(image.name);
  for (const std::string& name : names)
    if (!registered.count(name)) r.unregistered.push_back(name);
  r.num_registered = static_cast<int>(model.images.size());
  summarize_points(model, r);

  ColmapDatasetOptions read;
  read.images = folder;
  read.sparse_dir = r.model_dir;
  read.resolution_scale = 1.0 / sfm.downscale;
  read.near_percentile = sfm.near_percentile;
  read.far_percentile = sfm.far_percentile;
  Dataset dataset = read_colmap_dataset(runner.workspace(), read);
  dataset.root = image_folder;
  dataset.format = "images";
  r.seconds = timer.seconds();

  GLIMPSE_LOG(Info) << "COLMAP: structure from motion registered " << r.num_registered << " of "
                    << r.num_images << " images (" << r.num_points << " points, mean track length "
                    << fixed(r.mean_track_length, 2) << ", mean reprojection error "
                    << fixed(r.mean_reprojection_error, 2) << " px, " << r.num_models
                    << " model(s); using " << r.model_dir << ") in " << fixed(r.seconds, 1) << " s";
  if (!r.unregistered.empty()) {
    GLIMPSE_LOG(Warning) << "COLMAP: " << r.unregistered.size() << " of " << r.num_images
                         << " images could not be registered and are left out: "
                         << join(r.unregistered)
                         << ". To use them, take more photographs with more overlap between "
                            "neighbouring views (or in between these), avoid blur and "
                            "textureless or moving content; training goes on with the "
                         << r.num_registered << " registered images";
  }
  if (points != nullptr) *points = colmap_point_cloud(model);
  if (report != nullptr) *report = r;
  return dataset;
}

}  // namespace glimpse
