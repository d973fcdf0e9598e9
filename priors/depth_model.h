// Monocular depth networks (MiDaS v2.1, DPT, Depth Anything) exported to ONNX and run through
// OpenCV DNN as a depth source: each network's reference preprocessing, its relative inverse depth
// returned as a DepthPrior (Ranftl et al. 2020, 2021; Yang et al. 2024).
#pragma once

#include "core/image.h"
#include "priors/depth_prior.h"

#include <memory>
#include <string>

namespace glimpse {

// The family a network comes from, which fixes its input size, its normalisation and the
// meaning of its output. All three output relative inverse depth (disparity up to an unknown
// scale and shift, >= 0: each ends in a ReLU). Checked against the reference code, where every
// one resizes with the same `Resize` transform (midas/transforms.py; a copy in
// depth_anything/util/transform.py), image RGB in [0, 1] (img / 255), INTER_CUBIC for the image,
// then (x - mean) / std per channel, then NCHW:
//
//  Midas          MiDaS v2.1. isl-org/MiDaS hubconf.py transforms() (default_transform and
//                 small_transform) and DPT's run_monodepth.py "midas_v21": target 384x384 for the
//                 large model (model-f6b98070), 256x256 for the small one (model-small-70d6b9c8:
//                 set input_width/height to 256); keep aspect ratio, resize_method
//                 "upper_bound" (the long side becomes 384), sides a multiple of 32; ImageNet
//                 mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225). Output [N, H, W].
//  Dpt            DPT-Hybrid / DPT-Large (MiDaS v3). isl-org/MiDaS hubconf.py dpt_transform and
//                 isl-org/DPT run_monodepth.py: target 384x384, keep aspect ratio, resize_method
//                 "minimal" (the side whose scale is nearer 1 becomes 384), multiple of 32;
//                 mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5). Output [N, H, W].
//  DepthAnything  Depth Anything (v1; V2 keeps it). LiheYoung/Depth-Anything run.py: target
//                 518x518, keep aspect ratio, resize_method "lower_bound" (the SHORT side becomes
//                 518, the long side follows the aspect ratio, rounded to the nearest multiple of
//                 14 and never below 518: a 4:3 image gives 686x518), ImageNet mean/std.
//                 Output [N, H, W] (depth_anything/dpt.py ends in F.relu, then squeeze(1)).
//
// Rounding to the stride, as `Resize.constrain_to_multiple_of` does: y = round(x / m) * m with
// numpy's round (half to even); "lower_bound" takes ceil when y falls below the target,
// "upper_bound" takes floor when y exceeds it. Exports with a FIXED input (MiDaS's own
// model-f6b98070.onnx is 384x384) are fed by stretching to the target size instead, as MiDaS's
// tf/run_onnx.py does (keep_aspect_ratio=False): set DepthModelOptions::keep_aspect_ratio = false.
//
// The references bring the output back to the image size with bicubic (MiDaS, DPT) or bilinear
// (Depth Anything) interpolation; here it is always bilinear (pixel centres aligned, as
// align_corners=False), which never overshoots below 0.
enum class DepthModelConvention { Midas, Dpt, DepthAnything };

const char* depth_model_convention_name(DepthModelConvention convention);  // "midas", "dpt", ...
// "midas", "dpt", "depth-anything"; anything else throws glimpse::Error listing the choices.
DepthModelConvention parse_depth_model_convention(const std::string& name);

// How the reference's Resize picks the scale when it keeps the aspect ratio.
enum class DepthModelResize {
  UpperBound,  // the output fits inside the target (MiDaS v2.1)
  Minimal,     // the scale nearer 1 of the two sides' scales (DPT)
  LowerBound,  // the output covers the target (Depth Anything)
};

// A convention's preprocessing, the values documented above.
struct DepthModelPreprocessing {
  int width = 0, height = 0;  // the target size of the reference's Resize
  int multiple_of = 1;        // both input sides are multiples of this (the network's stride)
  DepthModelResize resize = DepthModelResize::LowerBound;
  float mean[3] = {0.f, 0.f, 0.f};  // per channel R, G, B, subtracted from RGB in [0, 1] ...
  float std[3] = {1.f, 1.f, 1.f};   // ... then divided by this
};

DepthModelPreprocessing depth_model_preprocessing(DepthModelConvention convention);

struct DepthModelOptions {
  std::string path;  // the ONNX file: one input [1, 3, H, W], one output (see predict)
  DepthModelConvention convention = DepthModelConvention::DepthAnything;
  // The target size of the resize (the reference's net_w, net_h); 0 = the convention's default
  // (384, 384, 518). Both 0 or both at least the convention's stride (32, 32, 14).
  int input_width = 0, input_height = 0;
  // true: keep the image's aspect ratio (the references' run scripts; needs an export with
  // dynamic H and W). false: stretch to the target size rounded to the stride (fixed-size
  // exports, MiDaS's tf/run_onnx.py).
  bool keep_aspect_ratio = true;

  void check() const;  // throws glimpse::Error naming the bad field
};

struct DepthModelInputSize {
  int width = 0, height = 0;
};

// The network input size for an image_width x image_height image: the reference's
// Resize.get_size with the options' target, stride, resize method and keep_aspect_ratio.
DepthModelInputSize depth_model_input_size(const DepthModelOptions& options, int image_width,
                                           int image_height);

// One loaded network. predict() is const and serialised internally (OpenCV's Net is not safe to
// run from two threads at once); OpenCV DNN parallelises each forward pass itself.
class MonocularDepthModel {
 public:
  // Loads options.path with cv::dnn::readNetFromONNX (CPU backend). Throws glimpse::Error naming
  // the file when the options are bad, the file is missing or OpenCV cannot read it.
  explicit MonocularDepthModel(const DepthModelOptions& options);
  ~MonocularDepthModel();
  MonocularDepthModel(MonocularDepthModel&&) noexcept;
  MonocularDepthModel& operator=(MonocularDepthModel&&) noexcept;

  // The prior of one view: rgb is RGB in [0, 1], 3 channels interleaved, finite. Resized to the
  // network input (depth_model_input_size, INTER_CUBIC), normalised per convention, run; the
  // output must be [1, 1, H, W], [1, H, W] or [H, W] (else glimpse::Error naming the model file
  // and the shape) and is resampled bilinearly to the image size (resize_depth_prior). Kind
  // InverseDepth, metric false, confidence 1 where the output is finite and >= 0, else 0 (with
  // value 0), also at image pixels whose bilinear taps include such an output pixel.
  // source = "<model path> on <view_name>".
  DepthPrior predict(const Image<float>& rgb, const std::string& view_name) const;

  const DepthModelOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glimpse
