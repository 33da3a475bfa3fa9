// What users of an inference service see, request by request: time to first token (TTFT),
// time per output token after the first (TPOT), inter-token latency (ITL), end-to-end
// latency and queueing delay, as mean and percentiles; SLO attainment and goodput (requests
// per second meeting both the TTFT and the TPOT target); token throughput; and every
// request's terminal state. Exact percentiles up to `exact_limit` requests, then the
// mergeable 1 % histograms; requests.csv is written as requests end, when asked for.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/histogram.hpp"
#include "serving/request.hpp"

namespace aifsim::metrics {

struct ServingMetricsOptions {
  std::optional<std::filesystem::path> requests_csv;  // none: not written
  double ttft_slo_s = 0;  // 0: no target
  double tpot_slo_s = 0;
  std::uint64_t exact_limit = 200000;
  std::uint64_t csv_limit = 0;  // more requests than this: requests.csv is removed (0: no limit)
};

class ServingMetrics : public serving::RequestSink {
 public:
  explicit ServingMetrics(ServingMetricsOptions options);
  void on_request_done(const serving::RequestResult& result) override;
  void on_token_gaps(double gap_s, int tokens) override;

  std::uint64_t requests() const { return total_; }
  std::uint64_t count(serving::Outcome outcome) const;
  // The summary block: requests per terminal state, latency distributions, throughput,
  // SLO attainment and goodput over the span from the first arrival to the last end.
  nlohmann::json summary() const;

 private:
  struct Series {
    LogHistogram histogram;
    std::vector<double> exact;
    void add(double v, std::uint64_t exact_limit);
    nlohmann::json describe(bool exact_valid) const;
  };

  ServingMetricsOptions options_;
  std::optional<std::ofstream> csv_;
  std::uint64_t total_ = 0;
  std::map<serving::Outcome, std::uint64_t> outcomes_;
  Series ttft_, tpot_, e2e_, queue_;
  LogHistogram itl_;
  std::uint64_t completed_ = 0, slo_met_ = 0, ttft_met_ = 0, tpot_met_ = 0;
  std::uint64_t prompt_tokens_ = 0, output_tokens_ = 0, preemptions_ = 0;
  double first_arrival_s_ = 0, last_end_s_ = 0;
  bool exact_valid_ = true;
  bool csv_dropped_ = false;
};

}  // namespace aifsim::metrics
