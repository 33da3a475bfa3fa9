// Standard Workload Format (Parallel Workloads Archive, v2.2) reader: all 18 fields,
// the header comments, -1 as "unknown" per field, plain or gzip-compressed, streamed
// one record at a time (memory does not grow with the trace).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workload/line_reader.hpp"

namespace aifsim::workload {

// One SWF line. Unknown values (-1 in the file) are nullopt.
struct SwfRecord {
  std::int64_t job_number = 0;                 // 1
  double submit_s = 0;                         // 2, required (a job must enter at a known time)
  std::optional<double> wait_s;                // 3
  std::optional<double> runtime_s;             // 4
  std::optional<std::int64_t> allocated_procs; // 5
  std::optional<double> avg_cpu_time_s;        // 6
  std::optional<double> used_memory_kb;        // 7
  std::optional<std::int64_t> requested_procs; // 8
  std::optional<double> requested_time_s;      // 9
  std::optional<double> requested_memory_kb;   // 10
  std::optional<std::int64_t> status;          // 11: 0 failed, 1 completed, 5 cancelled, ...
  std::optional<std::int64_t> user_id;         // 12
  std::optional<std::int64_t> group_id;        // 13
  std::optional<std::int64_t> executable;      // 14
  std::optional<std::int64_t> queue;           // 15
  std::optional<std::int64_t> partition;       // 16
  std::optional<std::int64_t> preceding_job;   // 17
  std::optional<double> think_time_s;          // 18
  std::int64_t line = 0;                       // where it came from
};

// Header lines "; Key: value" before the first record.
struct SwfHeader {
  std::map<std::string, std::string> fields;
  std::optional<std::int64_t> max_nodes;
  std::optional<std::int64_t> max_procs;
  std::optional<std::int64_t> unix_start_time;
  std::optional<std::int64_t> max_jobs;
};

class SwfReader {
 public:
  // Opens the file and reads its header; throws InputError if it cannot be read or if
  // it holds no job at all.
  explicit SwfReader(const std::filesystem::path& file);
  ~SwfReader();
  SwfReader(const SwfReader&) = delete;
  SwfReader& operator=(const SwfReader&) = delete;

  const SwfHeader& header() const { return header_; }
  const std::string& file() const { return file_; }
  // The next record in file order; nullopt at the end. Throws InputError naming
  // file:line and the field for a malformed line, and for submit times that go backwards.
  std::optional<SwfRecord> next();

 private:
  bool read_line();
  void parse_header_line(std::int64_t line_number);
  SwfRecord parse_record() const;

  LineReader lines_;
  std::string file_;
  std::string_view line_;  // the current line, valid until the next read_line
  std::int64_t line_number_ = 0;
  SwfHeader header_;
  std::optional<SwfRecord> pending_;  // the first record, read while looking for the header's end
  double last_submit_s_ = 0;
  bool seen_record_ = false;
};

}  // namespace aifsim::workload
