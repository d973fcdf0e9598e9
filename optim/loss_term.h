// The plug-in point for losses beyond the photometric one (depth priors, regularisers): the
// trainer hands each term the rendered view and collects gradients, without knowing the details.
#pragma once

#include "core/dataset.h"
#include "renderer/gaussians.h"
#include "renderer/rasterizer.h"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace glimpse {

struct LossContext {
  int iteration = 0;   // 1-based iteration being computed
  int view_index = 0;  // index into the trainer's training views
  const View* view = nullptr;
  const RenderOutput* render = nullptr;
  const Gaussians* gaussians = nullptr;
  const std::vector<View>* views = nullptr;       // every training view (neighbours for warping)
  float scene_scale = 1.f;                        // the trainer's scene extent (its units)
  uint64_t seed = 0;                              // the run's seed (terms derive their own streams)
  const RenderOptions* render_options = nullptr;  // how the step rendered (SH degree, background)
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
  // Called at the start of each step (`iteration` 1-based), before the step touches `gaussians`
  // (the trainer's, as they are after the previous step).
  virtual void before_step(int iteration, const Gaussians& gaussians) {
    (void)iteration, (void)gaussians;
  }
  // State that a resumed run needs besides the trainer's, for terms with has_state(): the
  // checkpoint stores it under the term's name. load_state throws glimpse::Error naming `what` on
  // a bad blob and leaves the term as it was.
  virtual bool has_state() const { return false; }
  virtual void save_state(std::ostream& out) const { (void)out; }
  virtual void load_state(std::istream& in, const std::string& what) { (void)in, (void)what; }
  // Optional pruning after the optimiser step of `iteration`: sets remove[i] = 1 for Gaussians to
  // delete (`remove` arrives sized like `gaussians`, all 0). Returns false when it did not run.
  virtual bool prune(int iteration, const Gaussians& gaussians, const std::vector<View>& views,
                     std::vector<uint8_t>& remove) {
    (void)iteration, (void)gaussians, (void)views, (void)remove;
    return false;
  }
};

}  // namespace glimpse
