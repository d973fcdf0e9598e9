// Backend selection: the only place that knows whether the CUDA backend was built.
#include "core/check.h"
#include "renderer/rasterizer.h"

#if defined(GLIMPSE_WITH_CUDA)
#include "renderer/cuda/cuda_device.h"
#include "renderer/cuda/cuda_rasterizer.h"
#endif

namespace glimpse {

bool cuda_backend_available() {
#if defined(GLIMPSE_WITH_CUDA)
  return cuda_device_count() > 0;
#else
  return false;
#endif
}

std::unique_ptr<Rasterizer> make_cuda_rasterizer() {
#if defined(GLIMPSE_WITH_CUDA)
  GLIMPSE_CHECK(cuda_device_count() > 0) << "no CUDA device is available";
  return make_cuda_rasterizer_impl();
#else
  GLIMPSE_FAIL() << "Glimpse was built without CUDA; use the CPU backend";
#endif
  return nullptr;
}

}  // namespace glimpse
