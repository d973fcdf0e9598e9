// The single host/device switch: GLIMPSE_HD marks functions that compile for both the C++ host
// compiler and nvcc (cf. tiny-cuda-nn's TCNN_HOST_DEVICE).
#pragma once

#if defined(__CUDACC__) || (defined(__clang__) && defined(__CUDA__))
#define GLIMPSE_HD __host__ __device__
#define GLIMPSE_DEVICE_COMPILE 1
#else
#define GLIMPSE_HD
#define GLIMPSE_DEVICE_COMPILE 0
#endif

#if defined(__CUDA_ARCH__)
#define GLIMPSE_ON_DEVICE 1
#else
#define GLIMPSE_ON_DEVICE 0
#endif

#define GLIMPSE_INLINE GLIMPSE_HD inline
