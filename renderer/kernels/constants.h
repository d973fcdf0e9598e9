// Numeric constants of the rasterizer, each with its reason, shared by the CPU and CUDA backends
// and the tests (values from 3D Gaussian Splatting, Kerbl et al. 2023, unless stated).
#pragma once

namespace glimpse {

// Fragments with alpha below 1/255 are skipped: they cannot change an 8-bit output.
inline constexpr float kAlphaMin = 1.0f / 255.0f;
// Alpha is clamped to 0.99 so that 1 - alpha stays invertible in the backward pass, which
// recovers transmittance by division.
inline constexpr float kAlphaMax = 0.99f;
// A pixel stops blending once its transmittance would drop below 1e-4 (the fragment that would
// cross it is not blended, as in the reference implementation).
inline constexpr float kTransmittanceMin = 1e-4f;
// Screen tiles are 16x16 pixels: 256 threads per tile on the GPU, 16-wide rows on the CPU.
inline constexpr int kTileSize = 16;
inline constexpr int kTilePixels = kTileSize * kTileSize;
// Low-pass filter added to the 2D covariance diagonal (pixels^2): every splat covers at least
// about one pixel. In anti-aliased mode the same filter is applied with opacity compensation
// (Mip-Splatting, Yu et al. 2024).
inline constexpr float kCov2dBlur = 0.3f;
// Extent of a splat in standard deviations in the classic mode.
inline constexpr float kExtentSigma = 3.0f;
// The projection Jacobian is evaluated at most this fraction of the half field of view outside
// the image (1.3x the FOV tangent in the reference), which keeps off-screen splats finite.
inline constexpr float kFrustumClampMargin = 0.3f;
// Default near plane (camera units): splats closer than this are culled.
inline constexpr float kDefaultNearPlane = 0.01f;
// Normalised expected depth is defined where accumulated alpha exceeds this; 0 elsewhere.
inline constexpr float kDepthAlphaMin = 1e-6f;

}  // namespace glimpse
