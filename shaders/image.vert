#version 330 core
// Textured quads in the world (a view's thumbnail on its frustum's image plane).

layout(location = 0) in vec3 a_position;
layout(location = 1) in vec2 a_uv;
uniform mat4 u_clip_from_world;
out vec2 v_uv;

void main() {
  gl_Position = u_clip_from_world * vec4(a_position, 1.0);
  v_uv = a_uv;
}
