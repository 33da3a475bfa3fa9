// Every state change of the batch stack is reported here; writers turn the records
// into files. The stack never writes files itself.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace aifsim::metrics {

struct JobRecord {
  std::uint64_t index = 0;  // trace order
  std::int64_t id = 0;
  double submit_s = 0;
  std::optional<double> start_s;  // none when rejected
  std::optional<double> end_s;
  std::int64_t procs = 0;         // as the trace states them (0 if unknown)
  int width = 0;                  // resource units used
  std::optional<double> requested_s;  // the limit the scheduler planned with
  std::optional<double> runtime_s;    // the trace's runtime
  std::string state;              // completed | timeout | rejected
  std::string reason;             // why rejected
  std::string origin;             // file:line
};

struct ClusterSample {
  double time_s = 0;
  int allocated = 0;
  int capacity = 0;
  int running_jobs = 0;
  int queued_jobs = 0;
  int external_allocated = 0;  // of `allocated`, held by the factory's pilot jobs
};

class BatchRecorder {
 public:
  virtual ~BatchRecorder() = default;
  virtual void job_ended(const JobRecord& record) = 0;  // terminal state reached
  virtual void sample(const ClusterSample& sample) = 0;  // after each scheduling instant
};

}  // namespace aifsim::metrics
