#version 330 core
// World-space lines (camera frustums, the crop box, axes) through the viewer camera's clip
// matrix (the pinhole camera in OpenCV axes as an OpenGL projection).

layout(location = 0) in vec3 a_position;
layout(location = 1) in vec4 a_color;
uniform mat4 u_clip_from_world;
out vec4 v_color;

void main() {
  gl_Position = u_clip_from_world * vec4(a_position, 1.0);
  v_color = a_color;
}
