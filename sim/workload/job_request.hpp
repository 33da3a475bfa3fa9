// A batch job as a trace states it, before any machine has judged it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace aifsim::workload {

struct JobRequest {
  std::uint64_t index = 0;                // 0-based position in the trace
  std::int64_t id = 0;                    // the trace's job number
  double submit_s = 0;                    // relative to the trace start
  std::optional<double> runtime_s;        // actual runtime, if the trace knows it
  std::optional<double> requested_s;      // time limit, if stated
  std::optional<std::int64_t> procs;      // processors requested (else allocated)
  std::string origin;                     // "file:line", for messages
};

// A stream of job requests in non-decreasing submit order.
class JobSource {
 public:
  virtual ~JobSource() = default;
  virtual std::optional<JobRequest> next() = 0;
};

}  // namespace aifsim::workload
