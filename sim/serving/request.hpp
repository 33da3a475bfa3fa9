// An LLM inference request and what became of it.
#pragma once
#include <cstdint>
#include <limits>
#include <string>

namespace aifsim::serving {

struct Request {
  std::uint64_t id = 0;
  double arrival_s = 0;
  int prompt_tokens = 0;
  int output_tokens = 1;
  std::uint64_t session = 0;  // conversation, for session-affinity routing; 0: none
};

enum class Outcome : std::uint8_t {
  COMPLETED,
  REJECTED_TOO_LONG,    // prompt + output beyond the model's context or the replica's KV cache
  REJECTED_NO_REPLICA,  // no replica to send it to
  TIMED_OUT,            // waited longer than the queue timeout before it started
  ABORTED,              // its replica was stopped (pod killed) before it finished
  UNFINISHED,           // still waiting or running when the simulated time ended
};
const char* to_string(Outcome outcome);

inline constexpr double NOT_YET = std::numeric_limits<double>::quiet_NaN();

struct RequestResult {
  Request request;
  Outcome outcome = Outcome::COMPLETED;
  int replica = -1;
  double first_scheduled_s = NOT_YET;  // first iteration that computed any of it
  double first_token_s = NOT_YET;
  double finish_s = NOT_YET;  // completion, rejection or time-out
  int preemptions = 0;
};

// Where every request's end is reported: completions, rejections and time-outs alike.
class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void on_request_done(const RequestResult& result) = 0;
  // One iteration's worth of inter-token gaps: `tokens` tokens each `gap_s` after the last.
  virtual void on_token_gaps(double /*gap_s*/, int /*tokens*/) {}
};

}  // namespace aifsim::serving
