#include "metrics/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace aifsim::metrics {

namespace {
constexpr double LOWEST = 1e-6;
constexpr double GROWTH = 1.01;
constexpr std::size_t BINS = 2800;  // 1e-6 x 1.01^2800 is about 1.2e6 s
const double LOG_GROWTH = std::log(GROWTH);
}  // namespace

LogHistogram::LogHistogram() : bins_(BINS, 0) {}

void LogHistogram::add(double value, std::uint64_t count) {
  if (count == 0 || !(value >= 0)) return;
  std::size_t bin = 0;
  if (value > LOWEST) bin = std::min<std::size_t>(BINS - 1, 1 + static_cast<std::size_t>(std::log(value / LOWEST) / LOG_GROWTH));
  bins_[bin] += count;
  count_ += count;
  sum_ += value * static_cast<double>(count);
  max_ = std::max(max_, value);
}

void LogHistogram::merge(const LogHistogram& other) {
  for (std::size_t i = 0; i < BINS; ++i) bins_[i] += other.bins_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

double LogHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count_ - 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < BINS; ++i) {
    seen += bins_[i];
    if (static_cast<double>(seen) > rank) {
      if (i == 0) return LOWEST;
      const double lower = LOWEST * std::pow(GROWTH, static_cast<double>(i - 1));
      return std::min(max_, lower * std::sqrt(GROWTH));
    }
  }
  return max_;
}

}  // namespace aifsim::metrics
