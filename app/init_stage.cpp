// The initialisation stage (see init_stage.h).
#include "app/init_stage.h"

#include "app/colmap_stage.h"
#include "app/mvs_command.h"
#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "io/point_cloud_ply.h"
#include "io/splat_formats.h"
#include "priors/colmap_runner.h"
#include "priors/init_from_depth.h"
#include "priors/point_init.h"
#include "priors/visual_hull.h"

#include <filesystem>

namespace glimpse {

namespace fs = std::filesystem;

namespace {

// Fewer fused points than this is a failed MVS (nothing matched), not an initialisation.
constexpr size_t kMinMvsPoints = 1000;

bool has_masks(const std::vector<View>& views) {
  for (const View& v : views)
    if (v.mask.empty()) return false;
  return !views.empty();
}

// The points that fall inside the object mask of every view whose image they project into (an
// object capture's background is not scored and would take Gaussians from the object).
PointCloud inside_masks(const PointCloud& cloud, const std::vector<View>& views) {
  PointCloud kept;
  for (size_t i = 0; i < cloud.size(); ++i) {
    const Vec3<double> p{cloud.positions[3 * i], cloud.positions[3 * i + 1],
                         cloud.positions[3 * i + 2]};
    bool inside = true;
    for (const View& v : views) {
      const Vec3<double> q = v.camera.cam_from_world(p);
      if (q.z <= 0) continue;
      const double u = v.camera.fx * q.x / q.z + v.camera.cx;
      const double w = v.camera.fy * q.y / q.z + v.camera.cy;
      if (!(u >= 0 && w >= 0 && u < v.camera.width && w < v.camera.height)) continue;
      if (v.mask.at(static_cast<int>(u), static_cast<int>(w)) < 0.5f) {
        inside = false;
        break;
      }
    }
    if (!inside) continue;
    kept.add(cloud.positions[3 * i], cloud.positions[3 * i + 1], cloud.positions[3 * i + 2],
             cloud.colors[3 * i], cloud.colors[3 * i + 1], cloud.colors[3 * i + 2]);
    if (!cloud.normals.empty())
      kept.normals.insert(kept.normals.end(), cloud.normals.begin() + 3 * i,
                          cloud.normals.begin() + 3 * i + 3);
    if (!cloud.support.empty()) kept.support.push_back(cloud.support[i]);
  }
  return kept;
}

Gaussians depth_init(const TrainConfig& config, const Dataset& dataset,
                     const std::vector<View>& views) {
  const double depth = 2.0 / (1.0 / dataset.near_depth + 1.0 / dataset.far_depth);
  std::vector<Image<float>> depths;
  for (const View& v : views)
    depths.push_back(constant_depth(v.camera.width, v.camera.height, static_cast<float>(depth)));
  DepthInitOptions options;
  options.stride = config.init_stride;
  options.opacity = config.init_opacity;
  options.scale_factor = config.init_scale;
  GLIMPSE_LOG(Info) << "init: back-projecting " << views.size() << " training view(s) at depth "
                    << depth << " (harmonic mean of the bounds " << dataset.near_depth << ", "
                    << dataset.far_depth << "), stride " << config.init_stride;
  return init_from_depth(views, depths, options, config.trainer.sh_degree);
}

PointInitOptions point_options(const TrainConfig& config) {
  PointInitOptions options;
  options.opacity = config.init_opacity;
  options.max_points = config.init_max_points;
  return options;
}

// Writes the cloud for inspection; a failure to write it is logged, not fatal.
void save_cloud(const fs::path& path, const PointCloud& cloud) {
  try {
    fs::create_directories(path.parent_path());
    write_point_cloud_ply(path.string(), cloud);
  } catch (const std::exception& e) {
    GLIMPSE_LOG(Warning) << "init: could not write " << path.string() << ": " << e.what();
  }
}

void append_gaussians(Gaussians& to, const Gaussians& more) {
  GLIMPSE_CHECK_EQ(to.sh_degree, more.sh_degree) << "init: SH degrees differ";
  auto add = [](std::vector<float>& a, const std::vector<float>& b) {
    a.insert(a.end(), b.begin(), b.end());
  };
  add(to.means, more.means);
  add(to.log_scales, more.log_scales);
  add(to.quats, more.quats);
  add(to.opacity_logits, more.opacity_logits);
  add(to.sh, more.sh);
}

// One initialiser; throws glimpse::Error (with the reason) when it cannot run here.
Gaussians run_one(InitMethod method, const TrainConfig& config, const Dataset& dataset,
                  const std::vector<View>& views, const fs::path& out, const PointCloud& sfm_points,
                  int64_t& points) {
  switch (method) {
    case InitMethod::Depth: {
      Gaussians g = depth_init(config, dataset, views);
      points = static_cast<int64_t>(g.size());
      return g;
    }
    case InitMethod::Random:
      points = config.random_count;
      GLIMPSE_LOG(Info) << "init: " << config.random_count
                        << " random points in the training cameras' frustums";
      return random_frustum_init(views, dataset.near_depth, dataset.far_depth, config.random_count,
                                 config.init_opacity, config.trainer.seed,
                                 config.trainer.sh_degree);
    case InitMethod::Hull: {
      GLIMPSE_CHECK(has_masks(views))
          << "the capture has no object masks for the training views (the visual hull needs them)";
      VisualHullOptions options;
      options.resolution = config.hull_resolution;
      options.misses = views.size() > 3 ? 1 : 0;
      options.threads = config.threads;
      const VisualHullResult hull =
          visual_hull(views, dataset.near_depth, dataset.far_depth, options);
      GLIMPSE_LOG(Info) << "init: visual hull of " << views.size()
                        << " masks: " << hull.volume_voxels << " voxels of " << hull.voxel_size
                        << ", " << hull.cloud.size() << " surface points";
      save_cloud(out / "init" / "hull.ply", hull.cloud);
      points = static_cast<int64_t>(hull.cloud.size());
      return gaussians_from_points(hull.cloud, point_options(config), config.trainer.sh_degree);
    }
    case InitMethod::Points: {
      GLIMPSE_CHECK(!config.init_points.empty())
          << "--init points needs a point-cloud PLY (--init-points FILE)";
      const PointCloud cloud = read_point_cloud_ply(config.init_points);
      GLIMPSE_CHECK(!cloud.empty()) << config.init_points << ": the point cloud has no points";
      GLIMPSE_LOG(Info) << "init: " << cloud.size() << " points from " << config.init_points;
      points = static_cast<int64_t>(cloud.size());
      return gaussians_from_points(cloud, point_options(config), config.trainer.sh_degree);
    }
    case InitMethod::Ply: {
      GLIMPSE_CHECK(!config.init_ply.empty()) << "--init ply needs a splat file (--init-ply FILE)";
      Gaussians g = read_splat_file(config.init_ply);
      GLIMPSE_CHECK(g.size() > 0) << config.init_ply << ": the file holds no Gaussians";
      GLIMPSE_LOG(Info) << "init: " << g.size() << " Gaussians (SH degree " << g.sh_degree
                        << ") from " << config.init_ply;
      points = static_cast<int64_t>(g.size());
      return with_sh_degree(g, config.trainer.sh_degree);
    }
    case InitMethod::Mvs: {
      const MvsStageResult mvs =
          run_mvs_stage(views, dataset.near_depth, dataset.far_depth, MvsOptions{},
                        mvs_stage_folder(config, dataset, views, out.string()), config.threads);
      PointCloud cloud = mvs.cloud;
      const size_t fused = cloud.size();
      if (has_masks(views)) cloud = inside_masks(cloud, views);
      GLIMPSE_LOG(Info) << "init: multi-view stereo on " << views.size() << " views: " << fused
                        << " fused points" << (has_masks(views) ? ", " : "")
                        << (has_masks(views) ? std::to_string(cloud.size()) + " inside the masks"
                                             : std::string())
                        << (mvs.from_cache ? " (from the cache, " : " (") << mvs.mvs_seconds
                        << " s of MVS)";
      GLIMPSE_CHECK(cloud.size() >= kMinMvsPoints)
          << "multi-view stereo fused only " << cloud.size() << " consistent points (at least "
          << kMinMvsPoints << " needed): too little texture or overlap between the views";
      save_cloud(out / "init" / "mvs.ply", cloud);
      points = static_cast<int64_t>(cloud.size());
      Gaussians g = gaussians_from_points(cloud, point_options(config), config.trainer.sh_degree);
      if (config.init_fill) {
        DepthInitOptions fill_options;
        fill_options.stride = config.init_stride;
        fill_options.opacity = config.init_opacity;
        fill_options.scale_factor = config.init_scale;
        const Gaussians fill = init_from_depth(
            views, uncovered_pixel_depths(views, mvs.depths, config.init_fill_behind), fill_options,
            config.trainer.sh_degree);
        GLIMPSE_LOG(Info) << "init: " << fill.size()
                          << " Gaussians for the pixels without multi-view depth (hole-filled "
                             "depth, behind the "
                          << config.init_fill_behind << " quantile)";
        append_gaussians(g, fill);
        points += static_cast<int64_t>(fill.size());
      }
      return g;
    }
    case InitMethod::Colmap: {
      PointCloud cloud;
      if (!sfm_points.empty()) {
        cloud = sfm_points;
        GLIMPSE_LOG(Info) << "init: " << cloud.size()
                          << " points of the structure from motion that posed the capture";
      } else {
        ColmapOptions options;
        options.executable = config.colmap_path;
        options.num_threads = config.threads;
        ColmapReport report;
        cloud = colmap_triangulate_known_poses(views, (out / "colmap").string(), options, &report);
        GLIMPSE_LOG(Info) << "init: COLMAP triangulated " << cloud.size() << " points from "
                          << views.size() << " views (mean track " << report.mean_track_length
                          << ", error " << report.mean_reprojection_error << " px, "
                          << report.seconds << " s)";
      }
      GLIMPSE_CHECK(cloud.size() >= 3) << "COLMAP gave only " << cloud.size() << " points";
      save_cloud(out / "init" / "colmap.ply", cloud);
      points = static_cast<int64_t>(cloud.size());
      return gaussians_from_points(cloud, point_options(config), config.trainer.sh_degree);
    }
    case InitMethod::Auto:
      break;
  }
  GLIMPSE_FAIL() << "init: no initialiser for method " << init_method_name(method);
  return {};
}

}  // namespace

std::string mvs_stage_folder(const TrainConfig& config, const Dataset& dataset,
                             const std::vector<View>& train_views, const std::string& out_dir) {
  // A run keeps its maps in <out>/mvs; a shared cache holds one folder per view set and
  // settings (bench: every scene, seed and variant).
  if (config.cache_dir.empty()) return (fs::path(out_dir) / "mvs").string();
  return (fs::path(config.cache_dir) / "mvs" /
          mvs_cache_key(train_views, dataset.near_depth, dataset.far_depth, MvsOptions{}))
      .string();
}

std::vector<InitMethod> auto_init_order(const Dataset& dataset) {
  (void)dataset;
  return {InitMethod::Mvs, InitMethod::Colmap, InitMethod::Hull, InitMethod::Depth};
}

bool init_guesses_geometry(InitMethod method) {
  return method == InitMethod::Depth || method == InitMethod::Random || method == InitMethod::Hull;
}

InitStageResult run_init_stage(const TrainConfig& config, const Dataset& dataset,
                               const std::vector<View>& train_views, const std::string& out_dir,
                               const PointCloud& sfm_points) {
  const Timer timer;
  InitStageResult result;
  const fs::path out(out_dir);
  if (config.init != InitMethod::Auto) {
    try {
      result.gaussians =
          run_one(config.init, config, dataset, train_views, out, sfm_points, result.points);
    } catch (const Error& e) {
      GLIMPSE_FAIL() << "train: --init " << init_method_name(config.init)
                     << " failed: " << error_message_without_location(e.what());
    }
    result.method = config.init;
  } else {
    bool done = false;
    for (InitMethod method : auto_init_order(dataset)) {
      if (method == InitMethod::Hull && !has_masks(train_views)) {
        result.notes.push_back("hull: skipped, the capture has no masks");
        continue;
      }
      try {
        result.gaussians =
            run_one(method, config, dataset, train_views, out, sfm_points, result.points);
        result.method = method;
        done = true;
        break;
      } catch (const Error& e) {
        const std::string note =
            std::string(init_method_name(method)) + ": " + error_message_without_location(e.what());
        GLIMPSE_LOG(Warning) << "init: " << note << "; trying the next initialiser";
        result.notes.push_back(note);
      }
    }
    GLIMPSE_CHECK(done) << "train: every initialiser failed";
  }
  result.seconds = timer.seconds();
  GLIMPSE_LOG(Info) << "init: " << init_method_name(result.method) << ", " << result.points
                    << " points -> " << result.gaussians.size() << " Gaussians in "
                    << result.seconds << " s";
  return result;
}

}  // namespace glimpse
