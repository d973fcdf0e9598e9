#version 330 core
// A texture at a constant opacity, premultiplied.

in vec2 v_uv;
uniform sampler2D u_image;
uniform float u_opacity;
out vec4 frag_color;

void main() {
  vec3 rgb = texture(u_image, v_uv).rgb;
  frag_color = vec4(rgb * u_opacity, u_opacity);
}
