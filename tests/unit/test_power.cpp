#include <gtest/gtest.h>

#include "core/error.hpp"
#include "gpu/power.hpp"

using namespace aifsim;
using namespace aifsim::gpu;

// 8 GPUs, 70 W idle, 700 W busy. 0-10 s: all idle = 8 x 70 x 10 = 5600 J.
// 10-30 s: 4 busy = (4 x 700 + 4 x 70) x 20 = 61600 J. 30-40 s: 8 busy = 8 x 700 x 10 =
// 56000 J. Total 123200 J.
TEST(Energy, IntegralOfPowerWorkedByHand) {
  EnergyMeter m({70.0, 700.0}, 8);
  m.set_busy(10, 4);
  EXPECT_DOUBLE_EQ(m.power_w(), 4 * 700 + 4 * 70);
  m.set_busy(30, 8);
  EXPECT_DOUBLE_EQ(*m.energy_j(40), 5600 + 61600 + 56000);
  // Never below idle power x time.
  EXPECT_GE(*m.energy_j(40), 8 * 70 * 40);
}

TEST(Energy, UnknownIdlePowerGivesUnknownEnergyOnlyWhenSomethingIdled) {
  EnergyMeter busy({std::nullopt, 700.0}, 2);
  busy.set_busy(0, 2);
  EXPECT_DOUBLE_EQ(*busy.energy_j(5), 2 * 700 * 5);
  busy.set_busy(5, 1);
  EXPECT_FALSE(busy.energy_j(6));
}

TEST(Energy, BadInput) {
  EXPECT_THROW(EnergyMeter({800.0, 700.0}, 1), InputError);
  EnergyMeter m({1.0, 2.0}, 1);
  m.set_busy(5, 1);
  EXPECT_THROW(m.set_busy(4, 0), SimulationError);
  EXPECT_THROW(m.set_busy(6, 2), SimulationError);
}
