#version 330 core
// Pass 1 of the splat display, once per Gaussian in back-to-front order (transform feedback, no
// rasterization): the screen-space ellipse of one 3D Gaussian (3D Gaussian Splatting, Kerbl et al.
// 2023). The mean is projected with the pinhole camera, the covariance with the perspective
// Jacobian (clamped near the frustum as renderer/kernels/projection.h does) plus the 0.3 px^2
// low-pass filter; the ellipse's axes reach where opacity * exp(-d^2 / 2) falls below 1/255.
// Doing this once per Gaussian rather than once per quad corner is what keeps a million of them
// drawable on a software renderer (llvmpipe shades vertices on one thread).

layout(location = 0) in vec4 a_mean_opacity;  // world mean, opacity
layout(location = 1) in vec4 a_cov_a;         // world covariance xx xy xz yy
layout(location = 2) in vec4 a_cov_b;         // yz zz, unused
layout(location = 3) in vec4 a_color;         // rgb (SH degree 0), unused

uniform mat3 u_rotation;    // cam_from_world
uniform vec3 u_translation;
uniform vec4 u_intrinsics;  // fx fy cx cy (pixels, pixel-corner origin)
uniform vec2 u_viewport;    // width height (pixels)
uniform float u_near;
uniform float u_scale;      // multiplies the standard deviations (1: exact)
uniform int u_crop;         // 1: hide the Gaussians whose centre lies outside the crop box
uniform vec3 u_crop_min;
uniform vec3 u_crop_max;

out vec4 f_center;  // ellipse centre (pixels), 0, 1 when drawn (0: culled)
out vec4 f_axes;    // the two half axes (pixels): x1 y1 x2 y2
out vec4 f_color;   // rgb, opacity
out vec4 f_sigma;   // the half axes in standard deviations, 0, 0

const float kAlphaMin = 1.0 / 255.0;
const float kBlur = 0.3;
const float kClampMargin = 0.3;

void cull() {
  f_center = vec4(0.0);
  f_axes = vec4(0.0);
  f_color = vec4(0.0);
  f_sigma = vec4(0.0);
}

void main() {
  vec3 mean = a_mean_opacity.xyz;
  float opacity = a_mean_opacity.w;
  if (opacity < kAlphaMin) { cull(); return; }
  if (u_crop == 1 && (any(lessThan(mean, u_crop_min)) || any(greaterThan(mean, u_crop_max)))) {
    cull();
    return;
  }
  vec3 p = u_rotation * mean + u_translation;
  if (p.z < u_near) { cull(); return; }

  float fx = u_intrinsics.x, fy = u_intrinsics.y, cx = u_intrinsics.z, cy = u_intrinsics.w;
  float rz = 1.0 / p.z;
  vec2 center = vec2(fx * p.x * rz + cx, fy * p.y * rz + cy);
  float tan_x = 0.5 * u_viewport.x / fx, tan_y = 0.5 * u_viewport.y / fy;
  float tx = p.z * clamp(p.x * rz, -(cx / fx + kClampMargin * tan_x),
                         (u_viewport.x - cx) / fx + kClampMargin * tan_x);
  float ty = p.z * clamp(p.y * rz, -(cy / fy + kClampMargin * tan_y),
                         (u_viewport.y - cy) / fy + kClampMargin * tan_y);
  // T = J R (2 x 3, rows t0 t1) with J = [[fx/z, 0, -fx tx/z^2], [0, fy/z, -fy ty/z^2]]; the 2D
  // covariance is T Sigma T^T (Sigma symmetric: column-major and row-major read alike).
  mat3 rt = transpose(u_rotation);  // columns: the rows of R
  vec3 t0 = rt * vec3(fx * rz, 0.0, -fx * tx * rz * rz);
  vec3 t1 = rt * vec3(0.0, fy * rz, -fy * ty * rz * rz);
  mat3 sigma = mat3(a_cov_a.x, a_cov_a.y, a_cov_a.z, a_cov_a.y, a_cov_a.w, a_cov_b.x, a_cov_a.z,
                    a_cov_b.x, a_cov_b.y) * (u_scale * u_scale);
  vec3 st0 = sigma * t0, st1 = sigma * t1;
  float a = dot(t0, st0) + kBlur, b = dot(t0, st1), c = dot(t1, st1) + kBlur;

  // Eigen-decomposition of [[a, b], [b, c]].
  float mid = 0.5 * (a + c);
  float disc = sqrt(max(0.25 * (a - c) * (a - c) + b * b, 0.0));
  float l1 = mid + disc, l2 = max(mid - disc, 1e-8);
  vec2 e1 = abs(b) > 1e-12 ? normalize(vec2(b, l1 - a)) : (a >= c ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
  vec2 e2 = vec2(-e1.y, e1.x);

  // Opacity-aware extent in standard deviations; a splat around the camera fills the view.
  float k = sqrt(2.0 * log(opacity / kAlphaMin));
  float limit = 2.0 * max(u_viewport.x, u_viewport.y);
  vec2 sd = sqrt(vec2(l1, l2));
  vec2 half_axes = min(k * sd, vec2(limit));
  // Entirely outside the view: culled.
  vec2 reach = abs(e1) * half_axes.x + abs(e2) * half_axes.y;
  if (any(lessThan(center + reach, vec2(0.0))) || any(greaterThan(center - reach, u_viewport))) {
    cull();
    return;
  }
  f_center = vec4(center, 0.0, 1.0);
  f_axes = vec4(e1 * half_axes.x, e2 * half_axes.y);
  f_color = vec4(a_color.rgb, opacity);
  f_sigma = vec4(half_axes / sd, 0.0, 0.0);
}
