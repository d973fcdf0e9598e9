// The multithreaded CPU rasterizer: the same math as the CUDA backend (renderer/kernels/*.h), a
// 16x16 tile pipeline (preprocess, depth sort, tile binning, blending) with the pixel loops
// written as 16-wide rows the compiler vectorises, and an exact backward pass. Templated on the
// scalar: float for use, double for the gradient checks.
#pragma once

#include "core/camera.h"
#include "core/thread_pool.h"
#include "renderer/gaussians.h"
#include "renderer/kernels/gaussian_chain.h"  // kSlotSize
#include "renderer/rasterizer.h"

#include <cstdint>
#include <vector>

namespace glimpse {

template <typename T>
class CpuRasterizerT {
 public:
  // num_threads <= 0: all hardware threads.
  explicit CpuRasterizerT(int num_threads = 0);

  int num_threads() const { return pool_.num_threads(); }

  // Inputs are not validated here (the Rasterizer wrapper does that).
  void forward(const GaussiansT<T>& gaussians, const CameraT<T>& camera,
               const RenderOptions& options, RenderOutputT<T>& out);
  // Requires the preceding forward() with the same arguments. With `stats`, adds the view's
  // densification statistics as the 2D-mean gradients are written (Rasterizer::backward).
  void backward(const GaussiansT<T>& gaussians, const CameraT<T>& camera,
                const RenderOptions& options, const RenderOutputGradientsT<T>& v_out,
                GaussianGradientsT<T>& grads, ScreenGradientStats* stats = nullptr);

  // Screen-space splat of one visible Gaussian, as blended.
  struct Splat {
    T mx, my;                // 2D mean, pixels
    T ca, cb, cc;            // conic of the blurred 2D covariance
    T opacity;               // sigmoid(logit), times the anti-aliasing compensation
    T r, g, b;               // colour
    T z;                     // camera depth
    T sigma_max;             // support: pixels with falloff exponent sigma <= sigma_max
    int32_t radius;          // screen radius in pixels (RenderOutput::radii)
    uint32_t slot;           // first backward gradient slot (slots are per (Gaussian, tile))
    int16_t x0, y0, x1, y1;  // inclusive pixel bounding box, clipped to the image
  };
  // Images are limited to this size by the int16 pixel boxes of the splats.
  static constexpr int kMaxImageSize = 32767;

 private:
  void preprocess(const GaussiansT<T>& g, const CameraT<T>& camera, const RenderOptions& options,
                  RenderOutputT<T>& out);
  void bin_tiles();
  void rasterize_tiles(const RenderOptions& options, RenderOutputT<T>& out);

  ThreadPool pool_;
  // State of the last forward pass, read by backward.
  int width_ = 0, height_ = 0, tiles_x_ = 0, tiles_y_ = 0;
  std::vector<Splat> splats_;        // [N]
  std::vector<int32_t> tile_count_;  // [N] tiles touched (0: culled)
  // Inclusive tile box of each visible Gaussian: [N] by index (preprocess), then [visible] in
  // depth order (bin_tiles), so the binning passes read 8 bytes per splat sequentially instead of
  // gathering whole splat records.
  struct TileBox {
    uint16_t x0, y0, x1, y1;
  };
  std::vector<TileBox> tile_box_, ordered_box_;
  std::vector<uint32_t> depth_order_;  // visible Gaussians, front to back
  std::vector<uint32_t> sort_keys_, sort_keys_tmp_, sort_values_tmp_;  // depth sort scratch
  std::vector<int64_t> tile_offsets_;                                  // [tiles + 1]
  std::vector<uint32_t> tile_list_;        // [instances] Gaussian ids, per tile in depth order
  std::vector<T> final_t_;                 // [H * W] final transmittance
  std::vector<T> depth_sum_;               // [H * W] sum of w z
  std::vector<int32_t> last_;              // [H * W] 1 + list index of the last blended fragment
  std::vector<int32_t> median_;            // [H * W] list index of the median fragment (-1: none)
  std::vector<T> slot_grads_;              // [instances, kSlotSize] per (Gaussian, tile) gradients
  std::vector<int64_t> tile_evaluations_;  // [tiles]
};

}  // namespace glimpse
