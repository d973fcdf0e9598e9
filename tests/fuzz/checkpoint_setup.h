// The tiny synthetic training run the checkpoint fuzz target loads into and its seed generator
// saves from: two 16x16 views of a small textured sphere, 16 Gaussians, SH degree 1, adaptive
// density control (so checkpoints carry Adam moments and densification statistics).
#pragma once

#include "optim/trainer.h"
#include "tests/support/synthetic_rig.h"

#include <memory>

namespace glimpse::fuzz {

inline TrainerOptions checkpoint_trainer_options() {
  TrainerOptions o;
  o.iterations = 20;
  o.sh_degree = 1;
  o.sh_increase_every = 2;
  o.lr.means_max_steps = 20;
  o.adc.start_iteration = 2;
  o.adc.every = 2;
  o.adc.stop_iteration = 10;
  return o;
}

inline std::unique_ptr<Trainer> make_checkpoint_trainer() {
  static const std::vector<View> views =
      testing::render_ring(testing::textured_sphere(64, 7), 2, 1, 0, 16);
  return std::make_unique<Trainer>(views, testing::random_init(16, 1), checkpoint_trainer_options(),
                                   make_cpu_rasterizer(1));
}

}  // namespace glimpse::fuzz
