// `glimpse metrics`: PSNR / SSIM_gs / SSIM_sk / LPIPS / average error between two images or two
// folders paired by file name (DTU-style masked variants with --mask), see metrics_command.h.
#include "app/metrics_command.h"

#include "app/report_values.h"
#include "core/check.h"
#include "core/log.h"
#include "eval/metrics.h"
#include "io/image_io.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

namespace glimpse {
namespace {

namespace fs = std::filesystem;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
         ext == ".tiff" || ext == ".exr" || ext == ".webp";
}

// The image files of a folder, sorted by name.
std::vector<fs::path> list_images(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && is_image_file(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The mask of `image_name` in a mask folder: the file with the same stem, any image extension.
fs::path mask_in_folder(const fs::path& dir, const fs::path& image_name) {
  for (const fs::path& m : list_images(dir))
    if (m.stem() == image_name.stem()) return m;
  GLIMPSE_FAIL() << "metrics: no mask for " << image_name.string() << " in " << dir.string()
                 << " (expected a file named " << image_name.stem().string() << ".<image ext>)";
  return {};
}

struct PairFiles {
  std::string name;
  fs::path a, b, mask;  // mask empty: unmasked
};

std::vector<PairFiles> pair_files(const MetricsCommandOptions& o) {
  std::error_code ec;
  for (const std::string& p : {o.a, o.b})
    GLIMPSE_CHECK(fs::exists(p, ec)) << "metrics: " << p << " does not exist";
  if (!o.mask.empty()) {
    GLIMPSE_CHECK(fs::exists(o.mask, ec)) << "metrics: mask " << o.mask << " does not exist";
  }
  const bool a_dir = fs::is_directory(o.a, ec), b_dir = fs::is_directory(o.b, ec);
  GLIMPSE_CHECK(a_dir == b_dir) << "metrics: compare two images or two folders, not "
                                << (a_dir ? "a folder (" + o.a + ") and an image (" + o.b + ")"
                                          : "an image (" + o.a + ") and a folder (" + o.b + ")");
  std::vector<PairFiles> pairs;
  if (!a_dir) {
    GLIMPSE_CHECK(o.mask.empty() || !fs::is_directory(o.mask, ec))
        << "metrics: for two images --mask must be one mask image, not the folder " << o.mask;
    pairs.push_back({fs::path(o.a).filename().string() + " vs " + fs::path(o.b).filename().string(),
                     o.a, o.b, o.mask});
    return pairs;
  }
  GLIMPSE_CHECK(o.mask.empty() || fs::is_directory(o.mask, ec))
      << "metrics: for two folders --mask must be a folder of masks, not the file " << o.mask;
  const std::vector<fs::path> files = list_images(o.a);
  GLIMPSE_CHECK(!files.empty()) << "metrics: no image files in " << o.a;
  std::vector<std::string> missing;
  for (const fs::path& f : files) {
    const fs::path partner = fs::path(o.b) / f.filename();
    if (!fs::is_regular_file(partner, ec)) {
      missing.push_back(f.filename().string());
      continue;
    }
    pairs.push_back({f.filename().string(), f, partner,
                     o.mask.empty() ? fs::path() : mask_in_folder(o.mask, f.filename())});
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    GLIMPSE_FAIL() << "metrics: " << missing.size() << " image(s) of " << o.a
                   << " have no file of the same name in " << o.b << " (" << list
                   << (missing.size() > 5 ? ", ..." : "") << ")";
  }
  const size_t extra = list_images(o.b).size() - pairs.size();
  if (extra > 0) {
    GLIMPSE_LOG(Warning) << "metrics: " << extra << " image(s) of " << o.b << " have no partner in "
                         << o.a << " and are not scored";
  }
  return pairs;
}

Image<float> binarised(const Image<float>& mask) {
  Image<float> out = mask;
  for (float& v : out.vector()) v = v > 0.5f ? 1.0f : 0.0f;
  return out;
}

std::string metric_names(const MetricsCommandResult& r) {
  std::ostringstream s;
  s << (r.masked ? "PSNR over the mask; SSIM and LPIPS on images composited onto white outside it"
                 : "full images")
    << "; SSIM = SSIM_gs (3DGS), SSIM_sk = scikit-image; LPIPS " << r.lpips;
  return s.str();
}

}  // namespace

void MetricsCommandOptions::check() const {
  GLIMPSE_CHECK(!a.empty() && !b.empty()) << "metrics: give two images or two folders";
  GLIMPSE_CHECK(threads >= 0) << "metrics: threads must be >= 0, got " << threads;
  lpips.check();
}

MetricsCommandResult run_metrics_command(const MetricsCommandOptions& options) {
  options.check();
  MetricsCommandResult result;
  const std::vector<PairFiles> files = pair_files(options);
  result.masked = !options.mask.empty();
  LpipsOptions lpips_options = options.lpips;
  lpips_options.threads = options.threads;
  std::optional<Lpips> lpips =
      find_and_load_lpips(options.lpips_model, lpips_options, result.lpips);
  if (!lpips && options.lpips_model != kLpipsModelNone) {
    GLIMPSE_LOG(Warning) << "metrics: LPIPS " << result.lpips;
  }

  std::vector<double> psnrs, ssims, ssims_sk, lpipss, avg_errors;
  for (const PairFiles& f : files) {
    const Image<float> a = read_image_rgb(f.a.string());
    const Image<float> b = read_image_rgb(f.b.string());
    GLIMPSE_CHECK(a.width() == b.width() && a.height() == b.height())
        << "metrics: " << f.a.string() << " is " << a.width() << "x" << a.height() << ", "
        << f.b.string() << " is " << b.width() << "x" << b.height() << ": sizes must match";
    PairMetrics m;
    m.name = f.name;
    m.width = a.width();
    m.height = a.height();
    Image<float> a_cmp = a, b_cmp = b;
    try {
      if (!f.mask.empty()) {
        const Image<float> mask = binarised(read_mask(f.mask.string()));
        GLIMPSE_CHECK(mask.width() == a.width() && mask.height() == a.height())
            << "the mask " << f.mask.string() << " is " << mask.width() << "x" << mask.height()
            << ", the images " << a.width() << "x" << a.height();
        m.psnr = psnr_masked(a, b, mask);
        a_cmp = composite_background(a, mask);
        b_cmp = composite_background(b, mask);
      } else {
        m.psnr = psnr(a, b);
      }
      m.ssim = ssim_3dgs(a_cmp, b_cmp);
      m.ssim_sk = ssim_skimage(a_cmp, b_cmp);
      if (lpips) {
        m.lpips = lpips->distance(a_cmp, b_cmp);
        m.avg_error = average_error(m.psnr, m.ssim, m.lpips);
      }
    } catch (const Error& e) {
      GLIMPSE_FAIL() << "metrics: " << f.a.string() << " vs " << f.b.string() << ": "
                     << error_message_without_location(e.what());
    }
    psnrs.push_back(m.psnr);
    ssims.push_back(m.ssim);
    ssims_sk.push_back(m.ssim_sk);
    lpipss.push_back(m.lpips);
    avg_errors.push_back(m.avg_error);
    result.pairs.push_back(m);
  }
  result.mean.name = "mean";
  result.mean.psnr = finite_mean(psnrs);
  result.mean.ssim = finite_mean(ssims);
  result.mean.ssim_sk = finite_mean(ssims_sk);
  result.mean.lpips = finite_mean(lpipss);
  result.mean.avg_error = finite_mean(avg_errors);
  return result;
}

nlohmann::json MetricsCommandResult::to_json() const {
  auto row = [](const PairMetrics& m) {
    nlohmann::json j = {{"name", m.name},
                        {"psnr", finite_or_null(m.psnr)},
                        {"ssim", finite_or_null(m.ssim)},
                        {"ssim_sk", finite_or_null(m.ssim_sk)},
                        {"lpips", finite_or_null(m.lpips)},
                        {"avg_error", finite_or_null(m.avg_error)}};
    if (m.width > 0) j["width"] = m.width, j["height"] = m.height;
    if (std::isinf(m.psnr)) j["psnr_identical"] = true;
    return j;
  };
  nlohmann::json pairs_json = nlohmann::json::array();
  for (const PairMetrics& m : pairs) pairs_json.push_back(row(m));
  return {{"metrics", metric_names(*this)},
          {"masked", masked},
          {"lpips", lpips},
          {"pairs", pairs_json},
          {"mean", row(mean)}};
}

std::string MetricsCommandResult::to_text() const {
  std::ostringstream s;
  s << "metrics: " << metric_names(*this) << "\n";
  size_t width = 4;
  for (const PairMetrics& m : pairs) width = std::max(width, m.name.size());
  auto line = [&](const std::string& name, const std::string& psnr, const std::string& ssim,
                  const std::string& ssim_sk, const std::string& lpips_v, const std::string& avg) {
    s << std::left << std::setw(static_cast<int>(width)) << name << std::right << "  "
      << std::setw(8) << psnr << "  " << std::setw(7) << ssim << "  " << std::setw(7) << ssim_sk
      << "  " << std::setw(7) << lpips_v << "  " << std::setw(9) << avg << "\n";
  };
  auto psnr_text = [](double v) { return std::isinf(v) ? std::string("inf") : fixed_or_na(v, 2); };
  line("pair", "PSNR", "SSIM", "SSIM_sk", "LPIPS", "avg error");
  for (const PairMetrics& m : pairs)
    line(m.name, psnr_text(m.psnr), fixed_or_na(m.ssim, 4), fixed_or_na(m.ssim_sk, 4),
         fixed_or_na(m.lpips, 4), fixed_or_na(m.avg_error, 4));
  if (pairs.size() > 1)
    line("mean", psnr_text(mean.psnr), fixed_or_na(mean.ssim, 4), fixed_or_na(mean.ssim_sk, 4),
         fixed_or_na(mean.lpips, 4), fixed_or_na(mean.avg_error, 4));
  return s.str();
}

MetricsCli add_metrics_subcommand(CLI::App& app) {
  MetricsCli cli;
  cli.options = std::make_shared<MetricsCommandOptions>();
  cli.net = std::make_shared<std::string>("vgg");
  cli.inputs = std::make_shared<std::string>("01");
  cli.json = std::make_shared<bool>(false);
  MetricsCommandOptions& o = *cli.options;
  CLI::App* cmd = app.add_subcommand(
      "metrics",
      "Image metrics between two images, or two folders paired by file name: PSNR (masked with "
      "--mask), SSIM_gs, SSIM_sk, LPIPS and RegNeRF's average error, per pair and as a mean");
  cli.command = cmd;
  cmd->add_option("a", o.a, "An image or a folder of images (e.g. renders)")->required();
  cmd->add_option("b", o.b, "An image or a folder of images (e.g. ground truth)")->required();
  cmd->add_option("--mask", o.mask,
                  "Object mask (an image, or a folder with one mask per image stem): PSNR over "
                  "it, SSIM/LPIPS composited onto white outside it (the DTU protocol)");
  cmd->add_option("--lpips-net", *cli.net, "LPIPS backbone: vgg (the papers') or alex")
      ->check(CLI::IsMember({"vgg", "alex"}))
      ->capture_default_str();
  cmd->add_option("--lpips-inputs", *cli.inputs,
                  "LPIPS input convention: 01 (the [0,1] values as they are: DNGaussian, FSGS, "
                  "CoR-GS) or 11 (2x-1, LPIPS's own [-1,1])")
      ->check(CLI::IsMember({"01", "11"}))
      ->capture_default_str();
  cmd->add_option("--lpips-model", o.lpips_model,
                  "LPIPS weights (lpips_<net>.npz or a folder holding it; default "
                  "$GLIMPSE_LPIPS_DIR, then the user cache; none: off)");
  cmd->add_option("--threads", o.threads, "LPIPS threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--json", *cli.json, "Print the result as JSON");
  return cli;
}

int run_metrics_cli(const MetricsCli& cli) {
  MetricsCommandOptions o = *cli.options;
  o.lpips.net = lpips_net_from_name(*cli.net);
  o.lpips.inputs = lpips_inputs_from_name(*cli.inputs);
  const MetricsCommandResult r = run_metrics_command(o);
  if (*cli.json)
    std::cout << r.to_json().dump(1) << "\n";
  else
    std::cout << r.to_text();
  return 0;
}

}  // namespace glimpse
