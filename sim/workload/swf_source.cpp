#include "workload/swf_source.hpp"

#include "core/error.hpp"

namespace aifsim::workload {

SwfJobSource::SwfJobSource(const std::filesystem::path& file, std::optional<std::uint64_t> max_jobs)
    : reader_(file), max_jobs_(max_jobs) {}

std::optional<JobRequest> SwfJobSource::next() {
  if (max_jobs_ && count_ >= *max_jobs_) return std::nullopt;
  auto record = reader_.next();
  if (!record) return std::nullopt;
  JobRequest r;
  r.index = count_++;
  r.id = record->job_number;
  r.submit_s = record->submit_s;
  r.runtime_s = record->runtime_s;
  r.requested_s = record->requested_time_s;
  r.procs = record->requested_procs ? record->requested_procs : record->allocated_procs;
  r.origin = reader_.file() + ":" + std::to_string(record->line);
  if (r.procs && *r.procs == 0)
    throw InputError(r.origin, std::string("field ") + (record->requested_procs ? "8 (requested processors)" : "5 (allocated processors)") +
                                   " is 0: a job needs at least one processor (-1 marks an unknown count)");
  return r;
}

}  // namespace aifsim::workload
