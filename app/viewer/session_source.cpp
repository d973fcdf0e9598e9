// Opening datasets, models and remote sessions for the viewer (see session_source.h).
#include "app/viewer/session_source.h"

#include "app/export_command.h"
#include "app/http_link.h"
#include "app/model_session.h"
#include "core/check.h"
#include "io/splat_formats.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace glimpse::viewer {

namespace fs = std::filesystem;

std::string classify_path(const std::string& path) {
  GLIMPSE_CHECK(!path.empty()) << "nothing to open: give a dataset folder, a folder of photos or "
                                  "a splat file (.ply, .splat, .spz)";
  std::error_code ec;
  GLIMPSE_CHECK(fs::exists(path, ec)) << path << " does not exist";
  if (fs::is_directory(path, ec))
    return fs::is_directory(fs::path(path) / "point_cloud", ec) ? "model" : "dataset";
  if (splat_format_from_path(path)) return "model";
  std::ifstream in(path, std::ios::binary);
  GLIMPSE_CHECK(in.good()) << path << " cannot be read";
  GLIMPSE_CHECK(sniff_splat_format(in).has_value())
      << path << " is neither a folder (dataset, photos, run) nor a splat file (.ply, .splat, "
      << ".spz, .compressed.ply)";
  return "model";
}

std::string default_output_for(const std::string& dataset) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  std::string name = fs::path(dataset).lexically_normal().filename().string();
  if (name.empty() || name == ".") name = fs::absolute(dataset).parent_path().filename().string();
  if (name.empty()) name = "run";
  std::ostringstream s;
  s << name << "-" << std::put_time(&tm, "%Y%m%d-%H%M%S");
  return (fs::temp_directory_path() / "glimpse-viewer" / s.str()).string();
}

OpenedSession open_path(const std::string& path, const TrainConfig& base, int render_threads) {
  const std::string kind = classify_path(path);
  OpenedSession opened;
  opened.kind = kind;
  if (kind == "model") {
    std::error_code ec;
    const bool run_folder = fs::is_directory(path, ec);
    const std::string file = run_folder ? find_run_model(path, -1) : path;
    auto model = std::make_shared<ModelSession>(file, render_threads);
    // A run folder's cameras: frustums to draw and views to snap to.
    if (run_folder && fs::is_regular_file(fs::path(path) / "cameras.json", ec))
      model->load_cameras((fs::path(path) / "cameras.json").string());
    opened.client = std::move(model);
    return opened;
  }
  SessionOptions options;
  options.config = base;
  options.config.dataset = path;
  if (options.config.output.empty()) options.config.output = default_output_for(path);
  options.run.progress = ProgressMode::Silent;
  options.start = false;
  auto session = std::make_shared<Session>(std::move(options));
  opened.local = session.get();
  opened.client = std::move(session);
  return opened;
}

OpenedSession connect_remote(const std::string& url, const std::string& token) {
  OpenedSession opened;
  opened.kind = "remote";
  opened.client = std::make_shared<RemoteSession>(url, token);
  return opened;
}

}  // namespace glimpse::viewer
