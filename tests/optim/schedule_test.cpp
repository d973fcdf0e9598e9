// ExponentialSchedule against 3DGS's get_expon_lr_func (utils/general_utils.py). Expected values
// come from the reference Python function evaluated with the float32-rounded inputs:
//   get_expon_lr_func(f32(1.6e-4), f32(1.6e-6), lr_delay_steps, f32(lr_delay_mult), 30000)(step)
#include "optim/schedule.h"

#include <gtest/gtest.h>

namespace glimpse {
namespace {

TEST(ExponentialSchedule, MatchesReferenceWithoutDelay) {
  ExponentialSchedule s;
  s.initial = 1.6e-4f;
  s.final = 1.6e-6f;
  s.max_steps = 30000;
  s.check();
  EXPECT_FLOAT_EQ(s.at(0), 0.0001599999959580601f);
  EXPECT_FLOAT_EQ(s.at(7500), 5.059644175188256e-05f);
  EXPECT_FLOAT_EQ(s.at(15000), 1.5999999891391795e-05f);  // geometric mean
  EXPECT_FLOAT_EQ(s.at(30000), 1.6000000186977555e-06f);
  EXPECT_FLOAT_EQ(s.at(40000), 1.6000000186977555e-06f);  // clamped after max_steps
  EXPECT_EQ(s.at(-1), 0.0f);
}

TEST(ExponentialSchedule, MatchesReferenceWithDelay) {
  ExponentialSchedule s;
  s.initial = 1.6e-4f;
  s.final = 1.6e-6f;
  s.max_steps = 30000;
  s.delay_steps = 1000;
  s.delay_mult = 0.01f;
  s.check();
  EXPECT_FLOAT_EQ(s.at(0), 1.5999999238178151e-06f);  // delay_mult * initial
  EXPECT_FLOAT_EQ(s.at(500), 0.00010521237688465415f);
  EXPECT_FLOAT_EQ(s.at(1000), 0.00013723134047680276f);
  EXPECT_FLOAT_EQ(s.at(15000), 1.5999999891391795e-05f);
  EXPECT_FLOAT_EQ(s.at(30000), 1.6000000186977555e-06f);
}

TEST(ExponentialSchedule, DisabledAndInvalid) {
  ExponentialSchedule off;
  off.initial = 0;
  off.final = 0;
  off.check();
  EXPECT_EQ(off.at(0), 0.0f);
  EXPECT_EQ(off.at(100), 0.0f);

  ExponentialSchedule bad;
  bad.final = 0;  // log(0): only both-zero is allowed
  EXPECT_THROW(bad.check(), Error);
  bad = ExponentialSchedule{};
  bad.max_steps = 0;
  EXPECT_THROW(bad.check(), Error);
  bad = ExponentialSchedule{};
  bad.delay_steps = -1;
  EXPECT_THROW(bad.check(), Error);
  bad = ExponentialSchedule{};
  bad.delay_mult = -0.5f;
  EXPECT_THROW(bad.check(), Error);
}

}  // namespace
}  // namespace glimpse
