// The batch stack's outputs: jobs.csv (trace order), rejections.csv, utilisation.csv
// and the figures of summary.json. Rows are streamed: jobs.csv keeps only the jobs
// that ended before an earlier trace job, to write them in trace order.
#pragma once
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/batch_recorder.hpp"

namespace aifsim::metrics {

struct BatchMetricsOptions {
  std::optional<std::filesystem::path> output_dir;  // none: no files (tests)
  bool keep_records = false;                         // keep every JobRecord in memory
  double slowdown_tau_s = 10.0;                      // bounded slowdown threshold
};

class BatchMetrics final : public BatchRecorder {
 public:
  explicit BatchMetrics(BatchMetricsOptions options);
  ~BatchMetrics() override;

  void job_ended(const JobRecord& record) override;
  void sample(const ClusterSample& sample) override;

  // Flushes pending rows; call once the simulation has ended. Checks that every job
  // that entered left (throws SimulationError otherwise).
  void finish(std::uint64_t jobs_entered);
  nlohmann::json summary() const;  // after finish()
  const std::vector<JobRecord>& records() const { return records_; }
  const std::vector<ClusterSample>& samples() const { return kept_samples_; }

 private:
  void write_job_row(const JobRecord& r);
  void write_sample_row(const ClusterSample& s);

  BatchMetricsOptions options_;
  std::ofstream jobs_csv_, rejections_csv_, utilisation_csv_;
  std::deque<std::optional<JobRecord>> reorder_;  // trace positions from next_to_write_ on
  std::uint64_t next_to_write_ = 0;
  std::vector<JobRecord> records_;
  std::vector<ClusterSample> kept_samples_;
  std::optional<ClusterSample> pending_sample_;

  std::map<std::string, std::uint64_t> states_;
  std::map<std::string, std::uint64_t> reasons_;
  std::vector<double> waits_;
  double slowdown_sum_ = 0;
  double used_unit_s_ = 0;
  double first_submit_s_ = 0, last_end_s_ = 0;
  bool any_run_ = false;
  int capacity_ = 0;
  std::uint64_t ended_ = 0;
  bool finished_ = false;
};

}  // namespace aifsim::metrics
