// The depth-prior stage: MVS maps, imported files or a monocular network, per training view.
#include "app/depth_stage.h"

#include "app/cli.h"
#include "app/mvs_command.h"
#include "core/check.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/timer.h"
#include "io/depth_io.h"
#include "io/image_io.h"
#include "priors/depth_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

namespace glimpse {
namespace fs = std::filesystem;
namespace {

// The depth-like values of a prior (larger is farther) at its confident pixels, for the images.
void write_prior_images(const DepthPrior& prior, const fs::path& dir, const std::string& stem) {
  // Depth as is; inverse depth as (its maximum - value), linear in disparity, larger farther.
  float max_value = 0.f;
  for (size_t i = 0; i < prior.values.size(); ++i)
    if (prior.confidence.data()[i] > 0.f) max_value = std::max(max_value, prior.values.data()[i]);
  std::vector<float> values;
  Image<float> depthlike(prior.values.width(), prior.values.height(), 1);
  for (size_t i = 0; i < depthlike.size(); ++i) {
    if (prior.confidence.data()[i] <= 0.f) continue;
    depthlike.data()[i] = prior.kind == DepthPriorKind::Depth ? prior.values.data()[i]
                                                              : max_value - prior.values.data()[i];
    values.push_back(depthlike.data()[i]);
  }
  if (values.empty()) return;
  std::sort(values.begin(), values.end());
  const float lo = values[values.size() / 50], hi = values[values.size() - 1 - values.size() / 50];
  Image<float> colour = colorize_depth(depthlike, lo, hi > lo ? hi : lo + 1.f);
  for (size_t i = 0; i < depthlike.num_pixels(); ++i)
    if (prior.confidence.data()[i] <= 0.f)
      for (int c = 0; c < 3; ++c) colour.data()[3 * i + c] = 0.f;
  write_png((dir / (stem + ".png")).string(), colour);
  Image<float> confidence(prior.confidence.width(), prior.confidence.height(), 3);
  for (size_t i = 0; i < prior.confidence.num_pixels(); ++i)
    for (int c = 0; c < 3; ++c) confidence.data()[3 * i + c] = prior.confidence.data()[i];
  write_png((dir / (stem + ".confidence.png")).string(), confidence);
}

std::string stem_of(const View& view) { return fs::path(view.name).stem().string(); }

// The cache key of a network's prediction for one view: the model file (path, size, time),
// the convention and the view's name and pixels.
std::string model_cache_key(const PriorsConfig& pc, const View& view) {
  Fnv64 h;
  std::error_code ec;
  const fs::path model = fs::absolute(pc.depth_model, ec);
  h.str(model.string());
  h.num(static_cast<double>(fs::file_size(model, ec)));
  h.num(static_cast<double>(fs::last_write_time(model, ec).time_since_epoch().count()));
  h.str(pc.depth_model_convention);
  h.str(view.name);
  h.num(view.image.width());
  h.num(view.image.height());
  h.bytes(view.image.data(), view.image.size() * sizeof(float));
  return h.hex();
}

}  // namespace

DepthSource resolve_depth_source(const PriorsConfig& priors) {
  if (priors.depth_source != DepthSource::Auto) return priors.depth_source;
  if (!priors.depth_dir.empty()) return DepthSource::Files;
  if (!priors.depth_model.empty()) return DepthSource::Model;
  return DepthSource::Mvs;
}

DepthPrior read_depth_prior_file(const std::string& depth_dir, const View& view,
                                 DepthPriorKind kind, double png_scale) {
  const std::string stem = stem_of(view);
  fs::path path;
  for (const char* ext : {".npy", ".pfm", ".exr", ".png"}) {
    const fs::path p = fs::path(depth_dir) / (stem + ext);
    if (fs::is_regular_file(p)) {
      path = p;
      break;
    }
  }
  GLIMPSE_CHECK(!path.empty()) << depth_dir << ": no depth map for view " << view.name
                               << " (looked for " << stem << ".npy, .pfm, .exr and .png)";
  DepthReadOptions options;
  options.png_scale = png_scale;
  DepthPrior prior;
  prior.kind = kind;
  prior.metric = false;
  prior.source = path.string();
  prior.values = read_depth(path.string(), options);
  const int w = view.camera.width, h = view.camera.height;
  const int mw = prior.values.width(), mh = prior.values.height();
  prior.confidence = Image<float>(mw, mh, 1, 1.f);
  const fs::path conf_path = fs::path(depth_dir) / (stem + ".confidence.npy");
  if (fs::is_regular_file(conf_path)) {
    prior.confidence = read_depth(conf_path.string(), options);
    GLIMPSE_CHECK(prior.confidence.width() == mw && prior.confidence.height() == mh)
        << conf_path.string() << ": the confidence map is " << prior.confidence.width() << "x"
        << prior.confidence.height() << " but its depth map is " << mw << "x" << mh;
  }
  // Values: NaN, infinity or negative numbers are refused (a wrong file or declaration), 0 is
  // "no depth" for depth maps.
  for (int y = 0; y < mh; ++y)
    for (int x = 0; x < mw; ++x) {
      const float v = prior.values.at(x, y);
      GLIMPSE_CHECK(std::isfinite(v)) << path.string() << ": value " << v << " at pixel (" << x
                                      << ", " << y << ") is not a finite number";
      GLIMPSE_CHECK(v >= 0.f) << path.string() << ": value " << v << " at pixel (" << x << ", " << y
                              << ") is negative (declared as "
                              << (kind == DepthPriorKind::Depth ? "depth" : "inverse depth") << ")";
      if (kind == DepthPriorKind::Depth && v == 0.f) prior.confidence.at(x, y) = 0.f;
    }
  if (mw != w || mh != h) {
    const double aspect = static_cast<double>(mw) / mh, view_aspect = static_cast<double>(w) / h;
    GLIMPSE_CHECK(std::abs(aspect / view_aspect - 1.0) < 0.01)
        << path.string() << ": the depth map is " << mw << "x" << mh << " but view " << view.name
        << " is " << w << "x" << h << " (another aspect ratio: not this view's map?)";
    prior = resize_depth_prior(prior, w, h);
  }
  check_depth_prior(prior, w, h);
  return prior;
}

DepthStageResult run_depth_stage(const TrainConfig& config, const Dataset& dataset,
                                 const std::vector<View>& train_views,
                                 const std::string& mvs_folder, const std::string& out_dir) {
  const Timer timer;
  DepthStageResult result;
  const PriorsConfig& pc = config.priors;
  result.priors.resize(train_views.size());
  if (!pc.uses_depth() && pc.warp.weight <= 0.f) return result;
  const DepthSource source = resolve_depth_source(pc);
  if (source == DepthSource::None) return result;
  auto fail = [&](const std::string& what) {
    GLIMPSE_CHECK(!pc.depth_required) << what;
    GLIMPSE_LOG(Warning) << "depth prior: " << what << "; continuing without it";
    result.notes.push_back(what);
  };

  if (source == DepthSource::Mvs) {
    try {
      const MvsStageResult mvs = run_mvs_stage(train_views, dataset.near_depth, dataset.far_depth,
                                               MvsOptions{}, mvs_folder, config.threads);
      for (size_t i = 0; i < train_views.size(); ++i) {
        DepthPrior& p = result.priors[i];
        p.kind = DepthPriorKind::Depth;
        p.metric = true;
        p.source = "mvs " + train_views[i].name;
        p.values = mvs.depths[i];
        p.confidence = mvs.confidences[i];
        if (check_depth_prior(p, train_views[i].camera.width, train_views[i].camera.height) == 0) {
          fail("multi-view stereo found no confident depth in view " + train_views[i].name);
          p = DepthPrior{};
        }
      }
    } catch (const Error& e) {
      fail("multi-view stereo failed: " + user_error_message(e.what()));
      for (DepthPrior& p : result.priors) p = DepthPrior{};
    }
  } else if (source == DepthSource::Files) {
    for (size_t i = 0; i < train_views.size(); ++i) {
      try {
        result.priors[i] =
            read_depth_prior_file(pc.depth_dir, train_views[i], pc.depth_kind, pc.depth_png_scale);
      } catch (const Error& e) {
        fail(user_error_message(e.what()));
      }
    }
  } else if (source == DepthSource::Model) {
    std::unique_ptr<MonocularDepthModel> model;
    try {
      DepthModelOptions options;
      options.path = pc.depth_model;
      options.convention = parse_depth_model_convention(pc.depth_model_convention);
      model = std::make_unique<MonocularDepthModel>(options);
    } catch (const Error& e) {
      fail(user_error_message(e.what()));
    }
    // Predictions are cached per view in <cache_dir or out>/depth_model/<key>.npy.
    const fs::path cache =
        fs::path(config.cache_dir.empty() ? out_dir : config.cache_dir) / "depth_model";
    for (size_t i = 0; model && i < train_views.size(); ++i) {
      try {
        const fs::path cached = cache / (model_cache_key(pc, train_views[i]) + ".npy");
        if (fs::is_regular_file(cached)) {
          DepthPrior& p = result.priors[i];
          p.kind = DepthPriorKind::InverseDepth;
          p.source = pc.depth_model + " on " + train_views[i].name + " (cached)";
          p.values = read_depth_npy(cached.string());
          p.confidence = Image<float>(p.values.width(), p.values.height(), 1);
          for (size_t k = 0; k < p.values.size(); ++k)
            p.confidence.data()[k] = p.values.data()[k] >= 0.f ? 1.f : 0.f;
          for (size_t k = 0; k < p.values.size(); ++k)
            if (p.confidence.data()[k] == 0.f) p.values.data()[k] = 0.f;
        } else {
          result.priors[i] = model->predict(train_views[i].image, train_views[i].name);
          // Cached with -1 where the network gave no confident value.
          Image<float> stored = result.priors[i].values;
          for (size_t k = 0; k < stored.size(); ++k)
            if (result.priors[i].confidence.data()[k] <= 0.f) stored.data()[k] = -1.f;
          std::error_code ec;
          fs::create_directories(cache, ec);
          if (!ec) write_depth_npy(cached.string(), stored);
        }
        check_depth_prior(result.priors[i], train_views[i].camera.width,
                          train_views[i].camera.height);
      } catch (const Error& e) {
        fail(user_error_message(e.what()));
        result.priors[i] = DepthPrior{};
      }
    }
  }

  const fs::path dir = fs::path(out_dir) / "depth_prior";
  for (size_t i = 0; i < result.priors.size(); ++i) {
    if (result.priors[i].empty()) continue;
    ++result.views_with_prior;
    std::error_code ec;
    fs::create_directories(dir, ec);
    GLIMPSE_CHECK(!ec) << "depth prior: cannot create " << dir.string() << ": " << ec.message();
    write_prior_images(result.priors[i], dir, stem_of(train_views[i]));
  }
  result.source = result.views_with_prior > 0 ? source : DepthSource::None;
  result.seconds = timer.seconds();
  GLIMPSE_LOG(Info) << "depth prior: " << depth_source_name(source) << " for "
                    << result.views_with_prior << " of " << train_views.size()
                    << " training views in " << result.seconds << " s (images in " << dir.string()
                    << ")";
  return result;
}

}  // namespace glimpse
