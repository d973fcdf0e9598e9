// The CUDA rasterizer behind the Rasterizer interface: the CPU backend's math
// (renderer/kernels/*.h) on the GPU, with depth and tile radix sorts, per-bucket checkpoints and a
// per-splat backward (renderer/cuda/README.md). No CUDA headers: any C++ file may include this.
#pragma once

#include "renderer/rasterizer.h"

#include <memory>
#include <string>

namespace glimpse {

// Device times of the last call, from CUDA events on the rasterizer's stream (milliseconds).
struct CudaTimings {
  double upload_ms = 0;    // host to device: parameters (forward) or output gradients (backward)
  double compute_ms = 0;   // kernels, sorts and scans (includes the waits for the counts)
  double download_ms = 0;  // device to host: images and radii, or gradients
  double total_ms() const { return upload_ms + compute_ms + download_ms; }
};

class CudaRasterizer final : public Rasterizer {
 public:
  // Uses the current CUDA device; throws glimpse::Error when there is none.
  CudaRasterizer();
  ~CudaRasterizer() override;
  CudaRasterizer(const CudaRasterizer&) = delete;
  CudaRasterizer& operator=(const CudaRasterizer&) = delete;

  Backend backend() const override { return Backend::Cuda; }
  std::string name() const override;
  // Throws glimpse::Error for bad inputs, and when the device runs out of memory (the message
  // names the Gaussian count and the image size).
  void forward(const Gaussians& gaussians, const Camera& camera, const RenderOptions& options,
               RenderOutput& out) override;
  void backward(const Gaussians& gaussians, const Camera& camera, const RenderOptions& options,
                const RenderOutputGradients& v_out, GaussianGradients& grads,
                ScreenGradientStats* stats) override;

  const CudaTimings& last_forward_timings() const;
  const CudaTimings& last_backward_timings() const;
  // Device memory held for reuse across calls (bytes).
  size_t device_bytes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The factory behind make_cuda_rasterizer() (renderer/backends.cpp).
std::unique_ptr<Rasterizer> make_cuda_rasterizer_impl();

}  // namespace glimpse
