// LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
// Metric", v0.1) with the VGG-16 or AlexNet backbone, computed from the weights in an .npz file
// (io/npz.h) with OpenCV DNN layers built in code (VGG's 3x3 convolutions as Winograd F(2x2, 3x3),
// Lavin and Gray 2016); and where those weights are looked for.
#pragma once

#include "core/image.h"
#include "io/npy.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace glimpse {

// [SECTION] options ------------------------------------------------------------------------------

// The backbone: torchvision's ImageNet VGG-16 (features after relu1_2, relu2_2, relu3_3, relu4_3,
// relu5_3; the papers' "LPIPS (VGG)") or AlexNet (relu1..relu5; lpips' own default).
enum class LpipsNet { Vgg, Alex };

// What the network receives for images with values in [0, 1].
enum class LpipsInputs {
  // "[0,1]": the values as they are. LPIPS expects [-1, 1], but DNGaussian, FSGS, CoR-GS
  // (lpipsPyTorch) and FreeNeRF/SparseNeRF (lpips.LPIPS without normalize) all pass [0, 1]
  // images: this reproduces the published numbers, so it is the default for the protocols.
  ZeroOne,
  // "[-1,1]": 2 x - 1, the range LPIPS was trained on (lpips normalize=True). Not comparable with
  // the sparse-view papers' figures.
  MinusOneToOne,
};

// "vgg" / "alex"; "[0,1]" / "[-1,1]": the names reports print next to every LPIPS figure.
std::string_view lpips_net_name(LpipsNet net);
std::string_view lpips_inputs_name(LpipsInputs inputs);
// Parses "vgg" | "alex" and "01" | "[0,1]" | "11" | "[-1,1]"; throws glimpse::Error otherwise.
LpipsNet lpips_net_from_name(std::string_view name);
LpipsInputs lpips_inputs_from_name(std::string_view name);
// The weights file name of a backbone: "lpips_vgg.npz" / "lpips_alex.npz".
std::string lpips_weights_file_name(LpipsNet net);

struct LpipsOptions {
  LpipsNet net = LpipsNet::Vgg;
  LpipsInputs inputs = LpipsInputs::ZeroOne;
  // Threads of OpenCV's parallel framework for the convolutions (cv::setNumThreads, a process-wide
  // setting, applied before each distance()); 0 leaves OpenCV's setting alone (all cores).
  int threads = 0;
  // VGG: the 3x3 convolutions after conv1_1 as Winograd F(2x2, 3x3) (2.25x fewer multiplications,
  // same results up to float rounding); false: OpenCV DNN's direct convolution for all of them.
  // AlexNet always runs direct.
  bool winograd = true;

  // Throws glimpse::Error on an enum value outside the list or threads < 0.
  void check() const;
};

// [SECTION] where the weights are ----------------------------------------------------------------

// The places looked at, in order: an explicit model path, the GLIMPSE_LPIPS_DIR folder, the user
// cache folder (tools/get_lpips_weights.sh fills it).
struct LpipsSearchPaths {
  std::string model;      // --lpips-model: an .npz file, or a folder holding lpips_<net>.npz
  std::string env_dir;    // $GLIMPSE_LPIPS_DIR (empty when unset)
  std::string cache_dir;  // ${XDG_CACHE_HOME:-$HOME/.cache}/glimpse/lpips (empty without either)
};

// The search paths for `model` with the folders from this process's environment.
LpipsSearchPaths lpips_search_paths(const std::string& model);

struct LpipsWeightsLookup {
  std::string path;      // the weights file to load; empty when none was found
  std::string source;    // where it came from: "--lpips-model", "GLIMPSE_LPIPS_DIR", "cache"
  std::string searched;  // every candidate looked at and why it was passed over (for messages)
};

// Finds the weights of `net`: `model` if given (a file is taken as it is; a folder must hold
// lpips_<net>.npz), else env_dir/lpips_<net>.npz, else cache_dir/lpips_<net>.npz. An explicit
// model that does not exist, or a folder without the file, throws glimpse::Error naming it (the
// user asked for that file); a missing file in env_dir or cache_dir moves on to the next place.
// Returns an empty path when nothing was found: LPIPS is then unavailable, never estimated.
LpipsWeightsLookup find_lpips_weights(const LpipsSearchPaths& paths, LpipsNet net);

// [SECTION] the metric ---------------------------------------------------------------------------

// LPIPS distance between two RGB images:
//   x -> (x' - shift) / scale with x' = x ("[0,1]") or 2x - 1 ("[-1,1]"),
//        shift (-0.030, -0.088, -0.188), scale (0.458, 0.448, 0.450) (lpips ScalingLayer);
//   features f_l of the backbone (VGG-16 relu1_2 .. relu5_3 with 2x2 stride-2 max pooling between
//        stages; AlexNet relu1 .. relu5: conv1 11x11 stride 4 pad 2, 3x3 stride-2 max pooling,
//        conv2 5x5 pad 2, 3x3 stride-2 max pooling, conv3..5 3x3 pad 1; pooling floors);
//   per pixel f / (sqrt(sum_c f^2) + 1e-10), squared difference, the 1x1 head lin_l (no bias),
//        mean over the pixels, sum over the 5 layers.
// Weights (.npz, float32, (out, in, kh, kw)): VGG conv1_1 .. conv5_3, AlexNet conv1 .. conv5, each
// ".weight" and ".bias", and lin0 .. lin4 ".weight" of shape (1, C, 1, 1).
class Lpips {
 public:
  // Reads the .npz with io/npz.h and builds the network. Throws glimpse::Error naming the file
  // (and the key) when it is missing, not a zip/npz, truncated, or lacks an array or has one of
  // the wrong shape; and on invalid options.
  static Lpips load(const std::string& npz_path, const LpipsOptions& options = {});
  // The same from arrays already in memory (keys as in the file); `what` names them in errors.
  static Lpips from_arrays(const std::map<std::string, NpyArray>& arrays, const std::string& what,
                           const LpipsOptions& options = {});

  Lpips(Lpips&&) noexcept;
  Lpips& operator=(Lpips&&) noexcept;
  ~Lpips();

  // The distance between two RGB images of the same size with values in [0, 1] (scaled per the
  // options), computed in float32 with the per-layer reductions in double. Throws glimpse::Error on
  // a non-RGB image, different sizes, an image smaller than min_size() on a side, or a NaN or
  // infinite value. Not thread-safe (one forward pass at a time per Lpips object). The VGG path
  // keeps its activation buffers between calls (about 0.4 GB for a 504x378 pair).
  double distance(const Image<float>& a, const Image<float>& b);

  // The smallest width and height the backbone accepts (every pooling keeps >= 1 pixel): 16 for
  // VGG-16, 31 for AlexNet.
  int min_size() const;
  const LpipsOptions& options() const;
  const std::string& weights_path() const;
  // "LPIPS-VGG v0.1, inputs [0,1], weights <path>": what reports print.
  std::string description() const;

 private:
  struct Impl;
  explicit Lpips(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// [SECTION] for reports --------------------------------------------------------------------------

// The --lpips-model value that turns LPIPS off (reported unavailable, no lookup).
inline constexpr const char* kLpipsModelNone = "none";

// The LPIPS a report uses: the weights find_lpips_weights finds for `model` with this process's
// environment, loaded with `options`; `status` becomes description(). Returns nullopt with
// `status` = "unavailable: <why>" (what was searched) when no weights are found or `model` is
// "none": LPIPS is then never estimated. Throws glimpse::Error when an explicit model does not
// exist or a weights file is corrupt (see Lpips::load): a bad file is an error, not a silent gap.
std::optional<Lpips> find_and_load_lpips(const std::string& model, const LpipsOptions& options,
                                         std::string& status);

}  // namespace glimpse
