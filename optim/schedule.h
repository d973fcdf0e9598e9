// Learning-rate schedules of 3D Gaussian Splatting (Kerbl et al. 2023, utils/general_utils.py
// get_expon_lr_func, itself from Mip-NeRF): log-linear decay with an optional sine warm-up.
#pragma once

#include "core/check.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace glimpse {

// lr(step) = delay(step) * exp((1 - t) log(initial) + t log(final)), t = clamp(step / max_steps,
// 0, 1); delay(step) = delay_mult + (1 - delay_mult) sin(pi/2 clamp(step / delay_steps, 0, 1))
// when delay_steps > 0, else 1. Returns 0 for step < 0 or when initial and final are both 0 (a
// disabled parameter). Evaluated in double, like the reference's numpy.
struct ExponentialSchedule {
  float initial = 1.6e-4f;  // rate at step 0 before the delay factor (3DGS position_lr_init)
  float final = 1.6e-6f;    // rate at max_steps and after (3DGS position_lr_final)
  int max_steps = 30000;    // steps of the log-linear decay (3DGS position_lr_max_steps)
  float delay_mult = 1;     // delay factor at step 0, rising to 1 by delay_steps
  int delay_steps = 0;      // length of the sine warm-up (0: none)

  // Throws glimpse::Error unless initial and final are both > 0 (or both 0), max_steps > 0,
  // delay_steps >= 0 and delay_mult >= 0 (all finite).
  void check() const {
    GLIMPSE_CHECK(std::isfinite(initial) && std::isfinite(final) &&
                  ((initial > 0 && final > 0) || (initial == 0 && final == 0)))
        << "ExponentialSchedule: initial and final rates must both be > 0 (or both 0), got "
        << initial << " and " << final;
    GLIMPSE_CHECK(max_steps > 0) << "ExponentialSchedule: max_steps must be > 0, got " << max_steps;
    GLIMPSE_CHECK(delay_steps >= 0)
        << "ExponentialSchedule: delay_steps must be >= 0, got " << delay_steps;
    GLIMPSE_CHECK(std::isfinite(delay_mult) && delay_mult >= 0)
        << "ExponentialSchedule: delay_mult must be >= 0, got " << delay_mult;
  }

  float at(int step) const {
    if (step < 0 || (initial == 0 && final == 0)) return 0.0f;
    double delay_rate = 1.0;
    if (delay_steps > 0) {
      const double r = std::clamp(static_cast<double>(step) / delay_steps, 0.0, 1.0);
      delay_rate = delay_mult + (1.0 - delay_mult) * std::sin(0.5 * std::numbers::pi * r);
    }
    const double t = std::clamp(static_cast<double>(step) / max_steps, 0.0, 1.0);
    const double log_lerp = std::exp(std::log(static_cast<double>(initial)) * (1.0 - t) +
                                     std::log(static_cast<double>(final)) * t);
    return static_cast<float>(delay_rate * log_lerp);
  }
};

}  // namespace glimpse
