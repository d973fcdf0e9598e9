#version 330 core
// A splat's footprint: alpha = opacity * exp(-d^T Sigma^-1 d / 2) (d^T Sigma^-1 d is |v_sigma|^2
// in the ellipse's axes), clamped to 0.99 and dropped below 1/255 as the rasterizer does, written
// premultiplied for back-to-front "over" blending (ONE, ONE_MINUS_SRC_ALPHA).

in vec2 v_sigma;
in vec4 v_color;
out vec4 frag_color;

void main() {
  float alpha = min(0.99, v_color.a * exp(-0.5 * dot(v_sigma, v_sigma)));
  if (alpha < 1.0 / 255.0) discard;
  frag_color = vec4(v_color.rgb * alpha, alpha);
}
