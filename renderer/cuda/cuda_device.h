// CUDA device queries (no CUDA headers here: callers need not be compiled by nvcc).
#pragma once

#include <string>

namespace glimpse {

// Number of CUDA devices (0 when the driver or a device is missing).
int cuda_device_count();
// "name (sm_XY, N MiB)" of device 0, or the CUDA error message.
std::string cuda_device_description();

}  // namespace glimpse
