#version 330 core
// Pass 2 of the splat display: one triangle per Gaussian (in the back-to-front order pass 1 wrote
// them in) around the ellipse that shaders/splat_project.vert computed.

uniform samplerBuffer u_ellipses;  // 4 texels per Gaussian, in drawing order: centre (pixels, 0,
                                   // 1 when drawn, 0: culled), half axes (x1 y1 x2 y2), colour
                                   // (rgb, opacity), the half axes in standard deviations
uniform vec2 u_viewport;  // width height (pixels)

out vec2 v_sigma;  // position in the quad in standard deviations along the ellipse's axes
out vec4 v_color;

void main() {
  // One triangle per Gaussian, not instanced: a software renderer (llvmpipe) pays mostly per
  // primitive and per instance, far less per pixel. Vertex 3 i + c is corner c of the i-th
  // Gaussian drawn.
  int base = (gl_VertexID / 3) * 4;
  vec4 a_center = texelFetch(u_ellipses, base);
  if (a_center.w == 0.0) {
    gl_Position = vec4(0.0, 0.0, 2.0, 1.0);  // outside the clip volume
    v_sigma = vec2(0.0);
    v_color = vec4(0.0);
    return;
  }
  vec4 a_axes = texelFetch(u_ellipses, base + 1);
  // The equilateral triangle around the unit circle (the ellipse in its axes' units).
  int c = gl_VertexID % 3;
  vec2 corner = c == 0 ? vec2(0.0, 2.0) : vec2(c == 1 ? -1.7320508 : 1.7320508, -1.0);
  vec2 pixel = a_center.xy + corner.x * a_axes.xy + corner.y * a_axes.zw;
  gl_Position = vec4(2.0 * pixel.x / u_viewport.x - 1.0, 1.0 - 2.0 * pixel.y / u_viewport.y, 0.0, 1.0);
  v_sigma = corner * texelFetch(u_ellipses, base + 3).xy;
  v_color = texelFetch(u_ellipses, base + 2);
}
