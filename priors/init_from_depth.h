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

// A width x height 1-channel depth map filled with `depth` (finite). Throws for non-positive sizes.
Image<float> constant_depth(int width, int height, float depth);

}  // namespace glimpse
