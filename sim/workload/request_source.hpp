// Streams of LLM inference requests: the interface the serving stack pulls from, and
// readers of the public request traces. A reader holds one line at a time, so memory
// does not grow with the trace.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "serving/request.hpp"

namespace aifsim::workload {

// Requests in non-decreasing arrival order; nullopt once exhausted.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  virtual std::optional<serving::Request> next() = 0;
  // One line for logs: where the requests come from and, for a trace, what was skipped.
  virtual std::string describe() const = 0;
};

struct TraceOptions {
  double rate_scale = 1;  // > 1 compresses time: arrival / rate_scale (1e-6 .. 1e6)
  // Window [start_s, end_s) on the trace's own clock (s since its first request),
  // applied before scaling; arrivals are re-based to 0 at the window start.
  std::optional<double> start_s, end_s;
  std::optional<std::uint64_t> max_requests;  // counts requests returned, not rows skipped
};

enum class TraceFormat : std::uint8_t {
  AZURE_CSV,       // TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM inference trace 2023)
  BURSTGPT_CSV,    // Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
  MOONCAKE_JSONL,  // {"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [...]}
};
const char* to_string(TraceFormat format);

// A request trace in any of the three formats, told apart by its first line (not the
// file name), plain or gzip. Arrival: seconds since the trace's first row. Ids are
// 1, 2, 3... in file order over the requests returned; session is 0. Every row needs a
// timestamp no earlier than the previous row's and token counts from 1 to 2^31 - 1.
// Zero output tokens: BurstGPT documents them as failed requests, so those rows are
// skipped and counted; Azure and Mooncake document no such marker (their published
// traces hold no such row), so a 0 there is an input error, not silently dropped data.
// Errors (InputError) start with "file:line".
class RequestTraceReader final : public RequestSource {
 public:
  RequestTraceReader(const std::filesystem::path& file, const TraceOptions& options = {});
  ~RequestTraceReader() override;
  std::optional<serving::Request> next() override;
  std::string describe() const override;

  TraceFormat format() const;
  // Rows dropped as failed requests so far (BurstGPT rows with 0 response tokens).
  std::uint64_t skipped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<RequestSource> open_request_trace(const std::filesystem::path& file, const TraceOptions& options);

}  // namespace aifsim::workload
