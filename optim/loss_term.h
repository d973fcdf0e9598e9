// The plug-in point for losses beyond the photometric one (depth priors, regularisers): the
// trainer hands each term the rendered view and collects gradients, without knowing the details.
#pragma once

#include "core/dataset.h"
#include "renderer/gaussians.h"
#include "renderer/rasterizer.h"

#include <string>

namespace glimpse {

struct LossContext {
  int iteration = 0;   // 1-based iteration being computed
  int view_index = 0;  // index into the trainer's training views
  const View* view = nullptr;
  const RenderOutput* render = nullptr;
  const Gaussians* gaussians = nullptr;
};

class LossTerm {
 public:
  virtual ~LossTerm() = default;
  virtual std::string name() const = 0;
  // Returns the term's (weighted) value and adds its gradients: with respect to the rendered
  // images into `v_render` (images already sized like the render, zero where unused) and, for
  // terms on the parameters themselves, into `v_params`.
  virtual double evaluate(const LossContext& context, RenderOutputGradients& v_render,
                          GaussianGradients& v_params) = 0;
};

}  // namespace glimpse
