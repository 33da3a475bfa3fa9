#include <gtest/gtest.h>

#include <limits>

#include "hpc/capacity_profile.hpp"

using aifsim::hpc::CapacityProfile;

namespace {
constexpr double INF = std::numeric_limits<double>::infinity();
}

// The worked example of capacity_profile.hpp: capacity 10 from t=0, a job of 4 running
// until t=5, a reservation of 8 over [5, 9): breakpoints (0:6) (5:2) (9:10).
TEST(CapacityProfile, HeaderExample) {
  CapacityProfile p(0, 10);
  p.add(0, 5, -4);
  p.add(5, 9, -8);
  EXPECT_EQ(p.free_at(0), 6);
  EXPECT_EQ(p.free_at(4.99), 6);
  EXPECT_EQ(p.free_at(5), 2);
  EXPECT_EQ(p.free_at(9), 10);
  EXPECT_EQ(p.earliest_start(0, 2, 3), 0);    // 6 free on [0,2)
  EXPECT_EQ(p.earliest_start(0, 6, 6), 9);    // [0,5) has 6 but [5,9) only 2
  EXPECT_EQ(p.earliest_start(0, 5, 6), 0);    // exactly fits before t=5
  EXPECT_EQ(p.earliest_start(0, 1, 11), INF); // wider than the machine
  EXPECT_EQ(p.earliest_start(6, 1, 2), 6);    // from inside a segment
}

TEST(CapacityProfile, AddingBackRestoresTheProfile) {
  CapacityProfile p(0, 8);
  p.add(2, 7, -5);
  p.add(2, 7, 5);
  EXPECT_EQ(p.earliest_start(0, 100, 8), 0);
}

TEST(CapacityProfile, ZeroDurationFitsAtFirstFreeInstant) {
  CapacityProfile p(0, 4);
  p.add(0, 3, -4);
  EXPECT_EQ(p.earliest_start(0, 0, 4), 3);
}

TEST(CapacityProfile, HoleBetweenReservations) {
  // free: [0,10) 2, [10,20) 6, [20,inf) 1... then back to 6 at 30
  CapacityProfile p(0, 6);
  p.add(0, 10, -4);
  p.add(20, 30, -5);
  EXPECT_EQ(p.earliest_start(0, 10, 6), 10);   // [10,20) exactly
  EXPECT_EQ(p.earliest_start(0, 11, 6), 30);   // would run into [20,30)
  EXPECT_EQ(p.earliest_start(0, 100, 1), 0);
}
