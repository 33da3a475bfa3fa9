#include "hpc/capacity_profile.hpp"

#include <algorithm>
#include <limits>

#include "core/error.hpp"

namespace aifsim::hpc {

void CapacityProfile::reset(double origin_s, int free) {
  time_.assign(1, origin_s);
  free_.assign(1, free);
}

std::size_t CapacityProfile::split_at(double time_s) {
  auto it = std::lower_bound(time_.begin(), time_.end(), time_s);
  std::size_t k = static_cast<std::size_t>(it - time_.begin());
  if (it != time_.end() && *it == time_s) return k;
  AIFSIM_CHECK(k > 0, "capacity profile: split before its origin");
  time_.insert(it, time_s);
  free_.insert(free_.begin() + static_cast<std::ptrdiff_t>(k), free_[k - 1]);
  return k;
}

void CapacityProfile::add(double from_s, double to_s, int delta) {
  if (!(to_s > from_s)) return;
  std::size_t first = split_at(from_s);
  std::size_t last = to_s == std::numeric_limits<double>::infinity() ? time_.size() : split_at(to_s);
  for (std::size_t k = first; k < last; ++k) free_[k] += delta;
}

double CapacityProfile::earliest_start(double from_s, double duration_s, int width) const {
  auto it = std::upper_bound(time_.begin(), time_.end(), from_s);
  std::size_t k = it == time_.begin() ? 0 : static_cast<std::size_t>(it - time_.begin()) - 1;
  const std::size_t n = time_.size();
  while (k < n) {
    if (free_[k] < width) {
      ++k;
      continue;
    }
    double start = std::max(time_[k], from_s);
    double end = start + duration_s;
    std::size_t j = k + 1;
    while (j < n && time_[j] < end && free_[j] >= width) ++j;
    if (j == n || time_[j] >= end) return start;
    k = j + 1;  // segment j blocks every start before it
  }
  return std::numeric_limits<double>::infinity();
}

int CapacityProfile::free_at(double time_s) const {
  auto it = std::upper_bound(time_.begin(), time_.end(), time_s);
  if (it == time_.begin()) return free_.front();
  return free_[static_cast<std::size_t>(it - time_.begin()) - 1];
}

}  // namespace aifsim::hpc
