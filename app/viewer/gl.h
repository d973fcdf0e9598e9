// OpenGL 3.3 core for the viewer: the prototypes of <GL/glcorearb.h>, resolved by linking the
// system libGL (Mesa and the vendor drivers export every core entry point on Linux), and GLFW
// without its own GL header. Include this instead of any GL or GLFW header.
#pragma once

#ifndef GL_GLEXT_PROTOTYPES
#define GL_GLEXT_PROTOTYPES 1
#endif
#include <GL/glcorearb.h>
#define GLFW_INCLUDE_NONE
#include "core/camera.h"

#include <GLFW/glfw3.h>

#include <array>
#include <string>

namespace glimpse::viewer {

// Compiles and links a vertex + fragment program; throws glimpse::Error with the driver's log
// naming `what` when either fails.
GLuint compile_program(const char* vertex_source, const char* fragment_source,
                       const std::string& what);

// A vertex-only program whose outputs `varyings` (interleaved, in that order) are captured by
// transform feedback; throws like compile_program.
GLuint compile_feedback_program(const char* vertex_source, const char* const* varyings,
                                int num_varyings, const std::string& what);

// The OpenGL clip matrix (row-major 4x4) of `camera` (OpenCV axes, pixel-corner principal point):
// the pinhole projection with depth mapped between `near` and `far`, times cam_from_world.
std::array<float, 16> clip_from_world(const Camera& camera, double near, double far);

// A texture for ImGui::Image and the frustum thumbnails (RGBA8, linear filtering).
class Texture {
 public:
  Texture() = default;
  ~Texture();
  Texture(const Texture&) = delete;
  Texture& operator=(const Texture&) = delete;
  Texture(Texture&& other) noexcept;
  Texture& operator=(Texture&& other) noexcept;

  // Uploads `channels` (1 or 3, or 4) interleaved 8-bit samples of a width x height image.
  void upload(const unsigned char* data, int width, int height, int channels);
  GLuint id() const { return id_; }
  int width() const { return width_; }
  int height() const { return height_; }
  bool empty() const { return id_ == 0; }

 private:
  GLuint id_ = 0;
  int width_ = 0, height_ = 0;
};

// An offscreen colour target (RGBA8) the splats are drawn into once per change and then copied
// to the window every frame, scaled up when drawn at a lower resolution.
class RenderTarget {
 public:
  RenderTarget() = default;
  ~RenderTarget();
  RenderTarget(const RenderTarget&) = delete;
  RenderTarget& operator=(const RenderTarget&) = delete;

  // Binds it for drawing at width x height (reallocated when the size changes) and sets the
  // viewport.
  void bind(int width, int height);
  // Copies it onto the window's framebuffer (bound afterwards) of width x height, filtered.
  void blit_to_window(int width, int height) const;
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  GLuint framebuffer_ = 0, texture_ = 0;
  int width_ = 0, height_ = 0;
};

}  // namespace glimpse::viewer
