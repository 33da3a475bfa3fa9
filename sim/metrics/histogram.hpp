// A mergeable histogram of positive durations with logarithmic bins of 1 % relative
// width from 1 us to about 11 days: quantiles within 1 % of the exact ones, in memory
// that does not grow with the sample, and two histograms add up bin by bin (replicas,
// runs). Values at or below the first bin's lower edge (1 us) share bin 0.
#pragma once
#include <cstdint>
#include <vector>

namespace aifsim::metrics {

class LogHistogram {
 public:
  LogHistogram();
  void add(double value, std::uint64_t count = 1);
  void merge(const LogHistogram& other);
  std::uint64_t count() const { return count_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double max() const { return max_; }
  // The q-quantile (0..1): the geometric middle of the bin holding it, so within half a
  // bin (0.5 %) of a value in that bin.
  double quantile(double q) const;

 private:
  std::vector<std::uint64_t> bins_;
  std::uint64_t count_ = 0;
  double sum_ = 0, max_ = 0;
};

}  // namespace aifsim::metrics
