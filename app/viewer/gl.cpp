// OpenGL helpers of the viewer (see gl.h).
#include "app/viewer/gl.h"

#include "core/check.h"

#include <algorithm>
#include <utility>

namespace glimpse::viewer {

namespace {

GLuint compile_shader(GLenum type, const char* source, const std::string& what) {
  const GLuint shader = glCreateShader(type);
  glShaderSource(shader, 1, &source, nullptr);
  glCompileShader(shader);
  GLint ok = GL_FALSE;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (ok != GL_TRUE) {
    GLint length = 0;
    glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
    std::string log(static_cast<size_t>(std::max(length, 1)), '\0');
    glGetShaderInfoLog(shader, length, nullptr, log.data());
    glDeleteShader(shader);
    GLIMPSE_FAIL() << what << ": the " << (type == GL_VERTEX_SHADER ? "vertex" : "fragment")
                   << " shader does not compile: " << log.c_str();
  }
  return shader;
}

// Links `program` (its shaders attached); throws with the link log, deleting it, when it fails.
GLuint linked(GLuint program, const std::string& what) {
  glLinkProgram(program);
  GLint ok = GL_FALSE;
  glGetProgramiv(program, GL_LINK_STATUS, &ok);
  if (ok != GL_TRUE) {
    GLint length = 0;
    glGetProgramiv(program, GL_INFO_LOG_LENGTH, &length);
    std::string log(static_cast<size_t>(std::max(length, 1)), '\0');
    glGetProgramInfoLog(program, length, nullptr, log.data());
    glDeleteProgram(program);
    GLIMPSE_FAIL() << what << ": the shader program does not link: " << log.c_str();
  }
  return program;
}

}  // namespace

GLuint compile_program(const char* vertex_source, const char* fragment_source,
                       const std::string& what) {
  const GLuint vs = compile_shader(GL_VERTEX_SHADER, vertex_source, what);
  GLuint fs = 0;
  try {
    fs = compile_shader(GL_FRAGMENT_SHADER, fragment_source, what);
  } catch (...) {
    glDeleteShader(vs);
    throw;
  }
  const GLuint program = glCreateProgram();
  glAttachShader(program, vs);
  glAttachShader(program, fs);
  glDeleteShader(vs);
  glDeleteShader(fs);
  return linked(program, what);
}

GLuint compile_feedback_program(const char* vertex_source, const char* const* varyings,
                                int num_varyings, const std::string& what) {
  const GLuint vs = compile_shader(GL_VERTEX_SHADER, vertex_source, what);
  const GLuint program = glCreateProgram();
  glAttachShader(program, vs);
  glTransformFeedbackVaryings(program, num_varyings, varyings, GL_INTERLEAVED_ATTRIBS);
  glDeleteShader(vs);
  return linked(program, what);
}

std::array<float, 16> clip_from_world(const Camera& c, double near, double far) {
  const double w = c.width, h = c.height;
  // Projection in OpenCV camera axes: x_clip = (2 fx x + (2 cx - W) z) / W, y_clip = z - 2 (fy y
  // + cy z) / H (image y runs down, OpenGL's up), w_clip = z.
  const double p[4][4] = {{2 * c.fx / w, 0, 2 * c.cx / w - 1, 0},
                          {0, -2 * c.fy / h, 1 - 2 * c.cy / h, 0},
                          {0, 0, (far + near) / (far - near), -2 * far * near / (far - near)},
                          {0, 0, 1, 0}};
  double v[4][4] = {};
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < 3; ++k) v[r][k] = c.rotation[r][k];
    v[r][3] = c.translation[r];
  }
  v[3][3] = 1;
  std::array<float, 16> m{};
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < 4; ++k) {
      double s = 0;
      for (int i = 0; i < 4; ++i) s += p[r][i] * v[i][k];
      m[4 * r + k] = static_cast<float>(s);
    }
  return m;
}

Texture::~Texture() {
  if (id_ != 0) glDeleteTextures(1, &id_);
}

Texture::Texture(Texture&& other) noexcept
    : id_(std::exchange(other.id_, 0)), width_(other.width_), height_(other.height_) {}

Texture& Texture::operator=(Texture&& other) noexcept {
  if (this != &other) {
    if (id_ != 0) glDeleteTextures(1, &id_);
    id_ = std::exchange(other.id_, 0);
    width_ = other.width_;
    height_ = other.height_;
  }
  return *this;
}

void Texture::upload(const unsigned char* data, int width, int height, int channels) {
  GLIMPSE_CHECK(width > 0 && height > 0 && (channels == 1 || channels == 3 || channels == 4))
      << "internal error: texture " << width << "x" << height << "x" << channels;
  if (id_ == 0) glGenTextures(1, &id_);
  glBindTexture(GL_TEXTURE_2D, id_);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  const GLenum format = channels == 1 ? GL_RED : (channels == 3 ? GL_RGB : GL_RGBA);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, format, GL_UNSIGNED_BYTE, data);
  if (channels == 1) {  // grey: red everywhere
    const GLint swizzle[4] = {GL_RED, GL_RED, GL_RED, GL_ONE};
    glTexParameteriv(GL_TEXTURE_2D, GL_TEXTURE_SWIZZLE_RGBA, swizzle);
  } else {
    const GLint swizzle[4] = {GL_RED, GL_GREEN, GL_BLUE, channels == 4 ? GL_ALPHA : GL_ONE};
    glTexParameteriv(GL_TEXTURE_2D, GL_TEXTURE_SWIZZLE_RGBA, swizzle);
  }
  glBindTexture(GL_TEXTURE_2D, 0);
  width_ = width;
  height_ = height;
}

RenderTarget::~RenderTarget() {
  if (framebuffer_ != 0) glDeleteFramebuffers(1, &framebuffer_);
  if (texture_ != 0) glDeleteTextures(1, &texture_);
}

void RenderTarget::bind(int width, int height) {
  if (framebuffer_ == 0) {
    glGenFramebuffers(1, &framebuffer_);
    glGenTextures(1, &texture_);
  }
  glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_);
  if (width != width_ || height != height_) {
    glBindTexture(GL_TEXTURE_2D, texture_);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glBindTexture(GL_TEXTURE_2D, 0);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture_, 0);
    GLIMPSE_CHECK(glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE)
        << "the OpenGL driver cannot draw into a " << width << "x" << height << " texture";
    width_ = width;
    height_ = height;
  }
  glViewport(0, 0, width, height);
}

void RenderTarget::blit_to_window(int width, int height) const {
  glBindFramebuffer(GL_READ_FRAMEBUFFER, framebuffer_);
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
  glBlitFramebuffer(0, 0, width_, height_, 0, 0, width, height, GL_COLOR_BUFFER_BIT,
                    width == width_ && height == height_ ? GL_NEAREST : GL_LINEAR);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glViewport(0, 0, width, height);
}

}  // namespace glimpse::viewer
