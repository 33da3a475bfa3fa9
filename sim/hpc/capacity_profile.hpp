// Free capacity over time as a step function: the timeline at the heart of every
// backfilling scheduler. Segment k covers [time_k, time_{k+1}); the last one extends to
// infinity.
//
// Example: capacity 10 from t=0, a job of 4 running until t=5, a reservation of 8 over
// [5, 9): breakpoints (0:6) (5:2) (9:10). A job of 3 for 2 s fits earliest at t=0; a
// job of 6 for 6 s at t=9 (6 free on [0,5), but only 2 on [5,9)).
#pragma once
#include <vector>

namespace aifsim::hpc {

class CapacityProfile {
 public:
  CapacityProfile() = default;
  CapacityProfile(double origin_s, int free) { reset(origin_s, free); }

  void reset(double origin_s, int free);
  // Adds `delta` units over [from_s, to_s) (negative to take them); from_s >= origin.
  void add(double from_s, double to_s, int delta);
  // Earliest start >= from_s at which `width` units are free for `duration_s`;
  // infinity if never.
  double earliest_start(double from_s, double duration_s, int width) const;
  int free_at(double time_s) const;
  std::size_t size() const { return time_.size(); }

 private:
  std::size_t split_at(double time_s);  // index of the segment starting exactly at time_s
  std::vector<double> time_;
  std::vector<int> free_;
};

}  // namespace aifsim::hpc
