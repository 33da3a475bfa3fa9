#include "metrics/stats.hpp"

#include <algorithm>
#include <cmath>

namespace aifsim::metrics {

Distribution::Distribution(std::vector<double> values) : sorted_(std::move(values)) {
  std::sort(sorted_.begin(), sorted_.end());
  // Summing in sorted order makes the mean independent of arrival order.
  for (double v : sorted_) sum_ += v;
}

double Distribution::mean() const { return sorted_.empty() ? 0.0 : sum_ / static_cast<double>(sorted_.size()); }

double Distribution::max() const { return sorted_.empty() ? 0.0 : sorted_.back(); }

double Distribution::quantile(double q) const {
  if (sorted_.empty()) return 0.0;
  double pos = q * static_cast<double>(sorted_.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  auto hi = std::min(lo + 1, sorted_.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted_[lo] + (sorted_[hi] - sorted_[lo]) * frac;
}

}  // namespace aifsim::metrics
