// Exact summary statistics of a sample.
#pragma once
#include <vector>

namespace aifsim::metrics {

class Distribution {
 public:
  explicit Distribution(std::vector<double> values);
  double mean() const;
  double max() const;
  // Linear interpolation between closest ranks (NumPy's default, "type 7"); 0 when empty.
  double quantile(double q) const;
  std::size_t size() const { return sorted_.size(); }

 private:
  std::vector<double> sorted_;
  double sum_ = 0;
};

}  // namespace aifsim::metrics
