// The OpenGL splat display: the Gaussians as instanced screen-space quads of their projected 2D
// covariance, blended back to front in the order a DepthSorter thread computes off the UI thread.
// Two passes: shaders/splat_project.vert projects each Gaussian once (transform feedback, in the
// sorted order), shaders/splat.vert + splat.frag draw the quads. Plus world-space lines
// (frustums, crop box) and textured quads (thumbnails on the frustums). Needs a current OpenGL
// 3.3 core context.
#pragma once

#include "app/viewer/depth_sorter.h"
#include "app/viewer/gl.h"
#include "core/camera.h"
#include "renderer/gaussians.h"

#include <memory>
#include <vector>

namespace glimpse::viewer {

struct SplatDrawSettings {
  float scale = 1.0f;  // multiplies the splats' standard deviations
  bool crop = false;   // hide what lies outside [crop_min, crop_max]
  std::array<float, 3> crop_min{}, crop_max{};
  float near = 0.01f;  // Gaussians nearer the camera are not drawn
};

class SplatDisplay {
 public:
  // Compiles the shaders; throws glimpse::Error with the driver's log when they do not build.
  SplatDisplay();
  ~SplatDisplay();
  SplatDisplay(const SplatDisplay&) = delete;
  SplatDisplay& operator=(const SplatDisplay&) = delete;

  // Uploads the Gaussians: mean, opacity, world covariance (renderer/kernels/covariance.h) and
  // the SH DC colour 0.5 + 0.28209479 dc (clamped at 0).
  void set_gaussians(const Gaussians& g);
  size_t size() const { return count_; }
  // The centres ([N, 3]) of the Gaussians shown (shared with the sorter).
  std::shared_ptr<const std::vector<float>> means() const { return means_; }

  // Asks the sorter for this camera's order when it moved and takes a finished one (the last
  // order stays in use meanwhile). Returns whether what draw() shows changed since the last
  // draw (new Gaussians or a new order).
  bool prepare(const Camera& camera);
  // Draws into the current viewport, which must be camera.width x camera.height (calls prepare).
  void draw(const Camera& camera, const SplatDrawSettings& settings);
  // Blocks until the order for the last drawn camera is in use (screenshots, benchmarks).
  void finish_sort();
  double last_sort_ms() const { return last_sort_ms_; }

 private:
  void upload_order(const std::vector<uint32_t>& order);

  // Pass 1 (transform feedback): the splat attributes in, indexed by the order, the ellipses out.
  GLuint project_program_ = 0, project_vao_ = 0, splat_buffer_ = 0, order_buffer_ = 0;
  GLuint feedback_buffer_ = 0;
  // Pass 2: instanced quads over the ellipses.
  GLuint quad_program_ = 0, quad_vao_ = 0, feedback_texture_ = 0;
  GLint u_ellipses_ = -1;
  GLint u_rotation_ = -1, u_translation_ = -1, u_intrinsics_ = -1, u_viewport_ = -1, u_near_ = -1,
        u_scale_ = -1, u_crop_ = -1, u_crop_min_ = -1, u_crop_max_ = -1, u_quad_viewport_ = -1;
  size_t count_ = 0;
  size_t order_count_ = 0;  // indices in order_buffer_
  uint64_t generation_ = 0;
  std::shared_ptr<const std::vector<float>> means_;
  DepthSorter sorter_;
  bool have_request_ = false;
  bool changed_ = true;
  Vec3<float> requested_eye_, requested_forward_;
  double last_sort_ms_ = 0;
};

// Coloured world-space lines, rebuilt every frame.
class LineBatch {
 public:
  LineBatch();
  ~LineBatch();
  LineBatch(const LineBatch&) = delete;
  LineBatch& operator=(const LineBatch&) = delete;

  void clear() { vertices_.clear(); }
  void add(const Vec3<double>& a, const Vec3<double>& b, const std::array<float, 4>& rgba);
  // A camera's frustum: the apex at its centre and the image corners at depth `depth`.
  void add_frustum(const Camera& camera, double depth, const std::array<float, 4>& rgba);
  void draw(const Camera& camera);

 private:
  std::vector<float> vertices_;  // x y z r g b a
  GLuint program_ = 0, vao_ = 0, buffer_ = 0;
  GLint u_clip_ = -1;
};

// Textured world-space quads (thumbnails on the frustums' image planes).
class ImageQuads {
 public:
  ImageQuads();
  ~ImageQuads();
  ImageQuads(const ImageQuads&) = delete;
  ImageQuads& operator=(const ImageQuads&) = delete;

  // The image plane of `camera` at `depth`, showing `texture` at `opacity`.
  void draw(const Camera& viewer, const Camera& camera, double depth, const Texture& texture,
            float opacity);

 private:
  GLuint program_ = 0, vao_ = 0, buffer_ = 0;
  GLint u_clip_ = -1, u_image_ = -1, u_opacity_ = -1;
};

// The four image corners of `camera` at camera depth `depth`, in the world (top-left, top-right,
// bottom-right, bottom-left).
std::array<Vec3<double>, 4> image_corners_in_world(const Camera& camera, double depth);

}  // namespace glimpse::viewer
