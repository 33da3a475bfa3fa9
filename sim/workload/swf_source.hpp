// SWF records as batch job requests: the width is the requested processors (field 8)
// where known, else the allocated processors (field 5); the limit is field 9.
#pragma once
#include <filesystem>
#include <optional>

#include "workload/job_request.hpp"
#include "workload/swf.hpp"

namespace aifsim::workload {

class SwfJobSource final : public JobSource {
 public:
  // Reads at most `max_jobs` records (all when nullopt).
  explicit SwfJobSource(const std::filesystem::path& file, std::optional<std::uint64_t> max_jobs = std::nullopt);
  std::optional<JobRequest> next() override;
  const SwfHeader& header() const { return reader_.header(); }

 private:
  SwfReader reader_;
  std::optional<std::uint64_t> max_jobs_;
  std::uint64_t count_ = 0;
};

}  // namespace aifsim::workload
