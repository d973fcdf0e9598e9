// The OpenGL splat display, lines and image quads (see splat_display.h).
#include "app/viewer/splat_display.h"

#include "core/check.h"
#include "renderer/kernels/covariance.h"
#include "renderer/kernels/sh.h"

#include "shaders/embedded_shaders.h"
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numeric>

namespace glimpse::viewer {

namespace {

constexpr int kTexelsPerSplat = 4;      // vec4 attributes per Gaussian
constexpr size_t kFeedbackFloats = 16;  // per ellipse: centre 4, axes 4, colour 4, sigma 2 + 2

Vec3<float> to_float(const Vec3<double>& v) {
  return {static_cast<float>(v.x), static_cast<float>(v.y), static_cast<float>(v.z)};
}

}  // namespace

// [SECTION] splats ------------------------------------------------------------------------------

SplatDisplay::SplatDisplay() {
  const char* const varyings[] = {"f_center", "f_axes", "f_color", "f_sigma"};
  project_program_ =
      compile_feedback_program(shaders::kShaderSplatProjectVert, varyings, 4, "splat projection");
  quad_program_ =
      compile_program(shaders::kShaderSplatVert, shaders::kShaderSplatFrag, "splat display");
  u_rotation_ = glGetUniformLocation(project_program_, "u_rotation");
  u_translation_ = glGetUniformLocation(project_program_, "u_translation");
  u_intrinsics_ = glGetUniformLocation(project_program_, "u_intrinsics");
  u_viewport_ = glGetUniformLocation(project_program_, "u_viewport");
  u_near_ = glGetUniformLocation(project_program_, "u_near");
  u_scale_ = glGetUniformLocation(project_program_, "u_scale");
  u_crop_ = glGetUniformLocation(project_program_, "u_crop");
  u_crop_min_ = glGetUniformLocation(project_program_, "u_crop_min");
  u_crop_max_ = glGetUniformLocation(project_program_, "u_crop_max");
  u_quad_viewport_ = glGetUniformLocation(quad_program_, "u_viewport");
  u_ellipses_ = glGetUniformLocation(quad_program_, "u_ellipses");

  glGenBuffers(1, &splat_buffer_);
  glGenBuffers(1, &order_buffer_);
  glGenBuffers(1, &feedback_buffer_);
  // Pass 1 reads 4 vec4 per Gaussian, indexed by the order (the element buffer).
  glGenVertexArrays(1, &project_vao_);
  glBindVertexArray(project_vao_);
  glBindBuffer(GL_ARRAY_BUFFER, splat_buffer_);
  for (GLuint a = 0; a < kTexelsPerSplat; ++a) {
    glEnableVertexAttribArray(a);
    glVertexAttribPointer(a, 4, GL_FLOAT, GL_FALSE, kTexelsPerSplat * 4 * sizeof(float),
                          reinterpret_cast<const void*>(a * 4 * sizeof(float)));
  }
  glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, order_buffer_);
  // Pass 2 reads the ellipses through a texture buffer, and needs a vertex array bound only.
  glGenVertexArrays(1, &quad_vao_);
  glGenTextures(1, &feedback_texture_);
  glBindVertexArray(0);
  glBindBuffer(GL_ARRAY_BUFFER, 0);
}

SplatDisplay::~SplatDisplay() {
  glDeleteVertexArrays(1, &quad_vao_);
  glDeleteTextures(1, &feedback_texture_);
  glDeleteVertexArrays(1, &project_vao_);
  glDeleteBuffers(1, &feedback_buffer_);
  glDeleteBuffers(1, &order_buffer_);
  glDeleteBuffers(1, &splat_buffer_);
  glDeleteProgram(quad_program_);
  glDeleteProgram(project_program_);
}

void SplatDisplay::set_gaussians(const Gaussians& g) {
  g.check_shapes("splat display");
  const size_t n = g.size();
  std::vector<float> texels(n * 4 * kTexelsPerSplat);
  auto means = std::make_shared<std::vector<float>>(g.means);
  const int k = g.sh_coeffs();
  for (size_t i = 0; i < n; ++i) {
    float* t = texels.data() + i * 4 * kTexelsPerSplat;
    const Quat<float> q(g.quats[4 * i], g.quats[4 * i + 1], g.quats[4 * i + 2], g.quats[4 * i + 3]);
    const Vec3<float> log_scale(g.log_scales[3 * i], g.log_scales[3 * i + 1],
                                g.log_scales[3 * i + 2]);
    const Mat3<float> cov = covariance_parts(q, log_scale).cov;
    const float opacity = 1.f / (1.f + std::exp(-g.opacity_logits[i]));
    t[0] = g.means[3 * i], t[1] = g.means[3 * i + 1], t[2] = g.means[3 * i + 2], t[3] = opacity;
    t[4] = cov[0][0], t[5] = cov[0][1], t[6] = cov[0][2], t[7] = cov[1][1];
    t[8] = cov[1][2], t[9] = cov[2][2], t[10] = 0, t[11] = 0;
    for (int c = 0; c < 3; ++c)
      t[12 + c] = std::max(
          0.f, 0.5f + static_cast<float>(kShC0) * g.sh[(i * static_cast<size_t>(k)) * 3 + c]);
    t[15] = 1;
  }
  glBindBuffer(GL_ARRAY_BUFFER, splat_buffer_);
  glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(texels.size() * sizeof(float)),
               texels.data(), GL_STATIC_DRAW);
  if (n != count_) {
    glBindBuffer(GL_ARRAY_BUFFER, feedback_buffer_);
    glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(n * kFeedbackFloats * sizeof(float)),
                 nullptr, GL_DYNAMIC_COPY);
    glBindTexture(GL_TEXTURE_BUFFER, feedback_texture_);
    glTexBuffer(GL_TEXTURE_BUFFER, GL_RGBA32F, feedback_buffer_);
    glBindTexture(GL_TEXTURE_BUFFER, 0);
  }
  glBindBuffer(GL_ARRAY_BUFFER, 0);

  // The last order stays valid while the count does (a snapshot of the same run); otherwise
  // the Gaussians are drawn unsorted until the sorter's order for them arrives.
  if (n != count_) {
    std::vector<uint32_t> identity(n);
    std::iota(identity.begin(), identity.end(), 0u);
    upload_order(identity);
  }
  count_ = n;
  means_ = std::move(means);
  sorter_.set_points(means_, ++generation_);
  have_request_ = false;
  changed_ = true;
}

void SplatDisplay::upload_order(const std::vector<uint32_t>& order) {
  // The element buffer belongs to the projection VAO.
  glBindVertexArray(project_vao_);
  glBufferData(GL_ELEMENT_ARRAY_BUFFER, static_cast<GLsizeiptr>(order.size() * sizeof(uint32_t)),
               order.data(), GL_STREAM_DRAW);
  glBindVertexArray(0);
  order_count_ = order.size();
  changed_ = true;
}

bool SplatDisplay::prepare(const Camera& camera) {
  if (count_ == 0) return changed_;
  // The sorter needs only the position and viewing direction (the order does not depend on
  // intrinsics or the in-plane rotation).
  const Vec3<float> eye = to_float(camera.center());
  const Vec3<float> forward = {static_cast<float>(camera.rotation[2][0]),
                               static_cast<float>(camera.rotation[2][1]),
                               static_cast<float>(camera.rotation[2][2])};
  if (!have_request_ || eye.x != requested_eye_.x || eye.y != requested_eye_.y ||
      eye.z != requested_eye_.z || forward.x != requested_forward_.x ||
      forward.y != requested_forward_.y || forward.z != requested_forward_.z) {
    sorter_.request(eye, forward);
    requested_eye_ = eye;
    requested_forward_ = forward;
    have_request_ = true;
  }
  if (const std::shared_ptr<const DepthSorter::Result> r = sorter_.take()) {
    upload_order(r->order);
    last_sort_ms_ = r->milliseconds;
  }
  return changed_;
}

void SplatDisplay::draw(const Camera& camera, const SplatDrawSettings& settings) {
  prepare(camera);
  changed_ = false;
  if (count_ == 0 || order_count_ == 0) return;
  // Pass 1: one ellipse per Gaussian, written in the sorted order.
  glUseProgram(project_program_);
  float rotation[9];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) rotation[3 * r + c] = static_cast<float>(camera.rotation[r][c]);
  glUniformMatrix3fv(u_rotation_, 1, GL_TRUE, rotation);
  glUniform3f(u_translation_, static_cast<float>(camera.translation.x),
              static_cast<float>(camera.translation.y), static_cast<float>(camera.translation.z));
  glUniform4f(u_intrinsics_, static_cast<float>(camera.fx), static_cast<float>(camera.fy),
              static_cast<float>(camera.cx), static_cast<float>(camera.cy));
  glUniform2f(u_viewport_, static_cast<float>(camera.width), static_cast<float>(camera.height));
  glUniform1f(u_near_, settings.near);
  glUniform1f(u_scale_, settings.scale);
  glUniform1i(u_crop_, settings.crop ? 1 : 0);
  glUniform3fv(u_crop_min_, 1, settings.crop_min.data());
  glUniform3fv(u_crop_max_, 1, settings.crop_max.data());
  glEnable(GL_RASTERIZER_DISCARD);
  glBindBufferBase(GL_TRANSFORM_FEEDBACK_BUFFER, 0, feedback_buffer_);
  glBindVertexArray(project_vao_);
  glBeginTransformFeedback(GL_POINTS);
  glDrawElements(GL_POINTS, static_cast<GLsizei>(order_count_), GL_UNSIGNED_INT, nullptr);
  glEndTransformFeedback();
  glBindBufferBase(GL_TRANSFORM_FEEDBACK_BUFFER, 0, 0);
  glDisable(GL_RASTERIZER_DISCARD);

  // Pass 2: the quads, back to front.
  glUseProgram(quad_program_);
  glUniform2f(u_quad_viewport_, static_cast<float>(camera.width),
              static_cast<float>(camera.height));
  glDisable(GL_DEPTH_TEST);
  glDisable(GL_CULL_FACE);
  glEnable(GL_BLEND);
  glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_BUFFER, feedback_texture_);
  glUniform1i(u_ellipses_, 0);
  glBindVertexArray(quad_vao_);
  glDrawArrays(GL_TRIANGLES, 0, static_cast<GLsizei>(3 * order_count_));
  glBindVertexArray(0);
  glBindTexture(GL_TEXTURE_BUFFER, 0);
  glUseProgram(0);
}

void SplatDisplay::finish_sort() {
  if (!have_request_) return;
  sorter_.wait_idle();
  if (const std::shared_ptr<const DepthSorter::Result> r = sorter_.take()) {
    upload_order(r->order);
    last_sort_ms_ = r->milliseconds;
  }
}

// [SECTION] lines -------------------------------------------------------------------------------

std::array<Vec3<double>, 4> image_corners_in_world(const Camera& c, double depth) {
  const double xs[4] = {0, static_cast<double>(c.width), static_cast<double>(c.width), 0};
  const double ys[4] = {0, 0, static_cast<double>(c.height), static_cast<double>(c.height)};
  std::array<Vec3<double>, 4> out;
  for (int i = 0; i < 4; ++i) {
    const Vec3<double> p_in_cam{(xs[i] - c.cx) / c.fx * depth, (ys[i] - c.cy) / c.fy * depth,
                                depth};
    out[i] = mul_transposed(c.rotation, p_in_cam - c.translation);
  }
  return out;
}

namespace {

// A vertex array over one new buffer of interleaved floats: attribute i has sizes[i] of them.
void make_interleaved_vertex_array(std::initializer_list<int> sizes, GLuint& vao, GLuint& buffer) {
  int stride = 0;
  for (int size : sizes) stride += size;
  glGenVertexArrays(1, &vao);
  glGenBuffers(1, &buffer);
  glBindVertexArray(vao);
  glBindBuffer(GL_ARRAY_BUFFER, buffer);
  GLuint location = 0;
  size_t offset = 0;
  for (int size : sizes) {
    glEnableVertexAttribArray(location);
    glVertexAttribPointer(location, size, GL_FLOAT, GL_FALSE, stride * sizeof(float),
                          reinterpret_cast<const void*>(offset * sizeof(float)));
    ++location;
    offset += size;
  }
  glBindVertexArray(0);
  glBindBuffer(GL_ARRAY_BUFFER, 0);
}

}  // namespace

LineBatch::LineBatch() {
  program_ = compile_program(shaders::kShaderLinesVert, shaders::kShaderLinesFrag, "line display");
  u_clip_ = glGetUniformLocation(program_, "u_clip_from_world");
  make_interleaved_vertex_array({3, 4}, vao_, buffer_);  // position, colour
}

LineBatch::~LineBatch() {
  glDeleteBuffers(1, &buffer_);
  glDeleteVertexArrays(1, &vao_);
  glDeleteProgram(program_);
}

void LineBatch::add(const Vec3<double>& a, const Vec3<double>& b,
                    const std::array<float, 4>& rgba) {
  for (const Vec3<double>& p : {a, b}) {
    vertices_.insert(vertices_.end(),
                     {static_cast<float>(p.x), static_cast<float>(p.y), static_cast<float>(p.z)});
    vertices_.insert(vertices_.end(), rgba.begin(), rgba.end());
  }
}

void LineBatch::add_frustum(const Camera& camera, double depth, const std::array<float, 4>& rgba) {
  const Vec3<double> apex = camera.center();
  const std::array<Vec3<double>, 4> corners = image_corners_in_world(camera, depth);
  for (int i = 0; i < 4; ++i) {
    add(apex, corners[i], rgba);
    add(corners[i], corners[(i + 1) % 4], rgba);
  }
  // A tick on the top edge shows which way is up in the image.
  const Vec3<double> top_mid = (corners[0] + corners[1]) * 0.5;
  const Vec3<double> lift = (corners[0] - corners[3]) * 0.15;
  add(corners[0] + (corners[1] - corners[0]) * 0.35, top_mid + lift, rgba);
  add(top_mid + lift, corners[0] + (corners[1] - corners[0]) * 0.65, rgba);
}

void LineBatch::draw(const Camera& camera) {
  if (vertices_.empty()) return;
  const std::array<float, 16> clip = clip_from_world(camera, 1e-3, 1e4);
  glUseProgram(program_);
  glUniformMatrix4fv(u_clip_, 1, GL_TRUE, clip.data());
  glBindBuffer(GL_ARRAY_BUFFER, buffer_);
  glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(vertices_.size() * sizeof(float)),
               vertices_.data(), GL_STREAM_DRAW);
  glBindBuffer(GL_ARRAY_BUFFER, 0);
  glDisable(GL_DEPTH_TEST);
  glEnable(GL_BLEND);
  glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
  glBindVertexArray(vao_);
  glDrawArrays(GL_LINES, 0, static_cast<GLsizei>(vertices_.size() / 7));
  glBindVertexArray(0);
  glUseProgram(0);
}

// [SECTION] image quads -------------------------------------------------------------------------

ImageQuads::ImageQuads() {
  program_ = compile_program(shaders::kShaderImageVert, shaders::kShaderImageFrag, "image display");
  u_clip_ = glGetUniformLocation(program_, "u_clip_from_world");
  u_image_ = glGetUniformLocation(program_, "u_image");
  u_opacity_ = glGetUniformLocation(program_, "u_opacity");
  make_interleaved_vertex_array({3, 2}, vao_, buffer_);  // position, texture coordinate
}

ImageQuads::~ImageQuads() {
  glDeleteBuffers(1, &buffer_);
  glDeleteVertexArrays(1, &vao_);
  glDeleteProgram(program_);
}

void ImageQuads::draw(const Camera& viewer, const Camera& camera, double depth,
                      const Texture& texture, float opacity) {
  if (texture.empty()) return;
  const std::array<Vec3<double>, 4> c = image_corners_in_world(camera, depth);
  // Triangle strip: top-left, top-right, bottom-left, bottom-right (uv: image rows run down).
  const int order[4] = {0, 1, 3, 2};
  const float uv[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  float vertices[4 * 5];
  for (int i = 0; i < 4; ++i) {
    const Vec3<double>& p = c[order[i]];
    float* v = vertices + 5 * i;
    v[0] = static_cast<float>(p.x), v[1] = static_cast<float>(p.y), v[2] = static_cast<float>(p.z);
    v[3] = uv[i][0], v[4] = uv[i][1];
  }
  const std::array<float, 16> clip = clip_from_world(viewer, 1e-3, 1e4);
  glUseProgram(program_);
  glUniformMatrix4fv(u_clip_, 1, GL_TRUE, clip.data());
  glUniform1f(u_opacity_, opacity);
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, texture.id());
  glUniform1i(u_image_, 0);
  glBindBuffer(GL_ARRAY_BUFFER, buffer_);
  glBufferData(GL_ARRAY_BUFFER, sizeof vertices, vertices, GL_STREAM_DRAW);
  glBindBuffer(GL_ARRAY_BUFFER, 0);
  glDisable(GL_DEPTH_TEST);
  glEnable(GL_BLEND);
  glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
  glBindVertexArray(vao_);
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray(0);
  glBindTexture(GL_TEXTURE_2D, 0);
  glUseProgram(0);
}

}  // namespace glimpse::viewer
