// Initialisation by depth back-projection: one isotropic Gaussian per pixel block of each view,
// placed at the block's depth and coloured from the image (the point-cloud-free start of
// sparse-view methods such as DNGaussian and FSGS when no SfM points exist).
#pragma once

#include "core/dataset.h"
#include "core/image.h"
#include "renderer/gaussians.h"

#include <vector>

namespace glimpse {

struct DepthInitOptions {
  int stride = 4;             // one Gaussian per stride x stride pixel block
  float opacity = 0.5f;       // initial opacity of every Gaussian, in (0, 1)
  float scale_factor = 1.0f;  // 3D std dev = scale_factor * stride * depth / f (f = sqrt(fx fy)):
                              // 1 makes the splat's 1-sigma footprint one block wide on screen

  // Throws glimpse::Error for stride < 1, opacity outside (0, 1), or a non-positive or non-finite
  // scale factor.
  void check() const;
};

// Back-projects each view's pixel blocks. For the block [x0, x0 + s) x [y0, y0 + s) (clipped at the
// image border) the Gaussian sits on the ray through the centre of the block's middle pixel
// (x0 + w/2, y0 + h/2 with integer division, w and h the clipped block size) at that pixel's depth;
// blocks whose depth is <= 0 or not finite are skipped. Its colour is the block's mean RGB, stored
// as the SH DC term (rgb - 0.5) / C0 with higher orders zero; its scale is isotropic, matched to
// the block's footprint (DepthInitOptions::scale_factor); its rotation is the identity.
// depths[i] is a 1-channel camera-z map of views[i]'s size; views must have RGB images loaded.
// sh_degree (0..3) sizes the SH arrays. Throws glimpse::Error on size mismatches or bad cameras.
Gaussians init_from_depth(const std::vector<View>& views, const std::vector<Image<float>>& depths,
                          const DepthInitOptions& options, int sh_degree);

// Fills the invalid pixels (<= 0 or not finite) of a 1-channel depth map from the valid ones by
// push-pull (Gortler et al. 1996): a pyramid of valid-weighted 2x2 means, then each level's holes
// take the bilinear value of the coarser level. Valid pixels keep their value. A map without any
// valid pixel comes back unchanged (all invalid).
Image<float> fill_depth_holes(const Image<float>& depth);

// Where the depth init places Gaussians for the pixels a fused point cloud leaves uncovered
// (textureless table tops, walls): for each view, the pixels without valid depth in depths[i]
// whose mask (when the view has one) keeps them get the hole-filled depth, pushed back to at
// least the `behind` quantile of the view's valid depths (0: the filled depth as is; 0.9: behind
// 90 % of the measured surface, where a guess is least likely to occlude it from other views);
// every other pixel is 0 (skipped by init_from_depth). Throws glimpse::Error for a `behind`
// outside [0, 1] or maps that do not match the views.
std::vector<Image<float>> uncovered_pixel_depths(const std::vector<View>& views,
                                                 const std::vector<Image<float>>& depths,
                                                 float behind);

// A width x height 1-channel depth map filled with `depth` (finite). Throws for non-positive sizes.
Image<float> constant_depth(int width, int height, float depth);

}  // namespace glimpse
