// One inference engine replica, scheduled the way vLLM's V1 scheduler does it: a waiting
// queue (FCFS) and a running list; each iteration first gives every running request its
// next tokens (one for a decode, a chunk for an unfinished prompt) within the token budget,
// preempting the most recently admitted request when the paged KV cache has no free block,
// then admits waiting requests while the budget, max_num_seqs and the cache allow. A
// request that has computed all its known tokens samples one more: its first is the
// time to first token. The iteration's duration is the transformer cost model's for that
// exact batch.
//
// Event skipping: no engine event per token or per iteration. When an iteration is pure
// decode and nothing waiting can be admitted, the iterations that follow are the same
// batch with one more token of context each until a request finishes or the cache runs
// out of blocks, so the replica computes them in one go and posts one event at the end.
// A new arrival cuts the stretch at the iteration boundary after it, exactly where an
// iteration-by-iteration run would have seen it (`stepping` runs that way, for tests).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "engine/engine.hpp"
#include "gpu/transformer.hpp"
#include "serving/request.hpp"

namespace aifsim::serving {

enum class SchedulePolicy { DECODE_FIRST, PREFILL_FIRST };
enum class PreemptionMode { RECOMPUTE, SWAP };

struct ReplicaConfig {
  // vLLM V1's defaults for the OpenAI server on GPUs of 70 GiB or more (engine/arg_utils.py).
  int max_num_seqs = 1024;
  int max_num_batched_tokens = 8192;
  bool chunked_prefill = true;
  int prefill_chunk_tokens = 0;  // per-request cap on a prompt chunk (0: the budget)
  SchedulePolicy policy = SchedulePolicy::DECODE_FIRST;
  int block_size = 16;
  double gpu_memory_utilization = 0.9;
  PreemptionMode preemption = PreemptionMode::RECOMPUTE;
  int max_model_len = 0;  // 0: the model card's context
  double queue_timeout_s = 0;  // 0: requests wait as long as it takes
  bool stepping = false;       // one engine event per iteration (reference mode)
};

struct ReplicaStats {
  std::uint64_t iterations = 0, stretches = 0, preemptions = 0;
  std::uint64_t end_events = 0;  // engine events the replica's iterations took
  double busy_s = 0;
  double batch_size_time_integral = 0;  // sum of batch size x iteration time
  double kv_blocks_time_integral = 0;   // sum of blocks in use x iteration time
  std::uint64_t prompt_tokens = 0, output_tokens = 0;
};

class Replica {
 public:
  Replica(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu, ReplicaConfig config,
          int index, RequestSink& sink);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Whether the request can ever run here (context and cache size).
  bool can_serve(const Request& request) const;
  // A new request, at engine.now().
  void submit(const Request& request);
  // A request whose prompt was computed elsewhere (disaggregated prefill): its KV cache
  // arrives with it, its first token is already out; it joins as a decode.
  void submit_prefilled(const Request& request, double first_scheduled_s, double first_token_s);
  // Ends every request still here with `outcome` (ABORTED when the pod is killed,
  // UNFINISHED at the end of the simulated time); the replica takes no more.
  void stop(Outcome outcome);

  int index() const { return index_; }
  int outstanding() const { return static_cast<int>(running_.size() + waiting_.size()); }
  int running() const { return static_cast<int>(running_.size()); }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  // Called once, as soon as the replica has no request left (at once if it has none).
  void when_empty(std::function<void()> callback);
  // Blocks in use over the cache's blocks, as of the last iteration boundary before now.
  double kv_usage() const;
  int total_blocks() const { return total_blocks_; }
  const ReplicaStats& stats() const { return stats_; }
  const ReplicaConfig& config() const { return config_; }

 private:
  struct Seq {
    Request request;
    int computed = 0;   // tokens in the KV cache
    int generated = 0;  // output tokens sampled
    int blocks = 0;     // KV blocks held
    int swapped_blocks = 0;  // held in host memory after a swap-out
    double first_scheduled_s = NOT_YET, first_token_s = NOT_YET;
    int preemptions = 0;
    int known() const { return request.prompt_tokens + generated; }
  };
  struct Planned {
    std::uint32_t seq;  // index into running_
    int tokens;
  };

  void enqueue(Seq seq);
  void schedule_and_run();        // at an iteration boundary
  void finish_iteration();        // the event at its end
  bool allocate(Seq& seq, int tokens);
  void preempt_last();
  void expire_waiting();
  void start_stretch(double decode_context);
  void cut_stretch();             // an arrival: stop at the next boundary
  void apply_decode_steps(int steps);
  void record_done(Seq& seq, Outcome outcome, double time_s);
  int blocks_for(int tokens) const { return (tokens + config_.block_size - 1) / config_.block_size; }

  engine::Engine& engine_;
  const gpu::TransformerCost& cost_;
  const gpu::GpuModel& gpu_;
  ReplicaConfig config_;
  int index_;
  RequestSink& sink_;
  int total_blocks_ = 0, free_blocks_ = 0;

  std::deque<Seq> waiting_;
  std::vector<Seq> running_;  // in admission order

  // The iteration (or stretch of decode iterations) under way.
  bool busy_ = false;
  std::optional<engine::TimerId> end_event_;
  double started_s_ = 0;
  std::vector<Planned> planned_;     // single iteration: what it computes
  double swap_s_ = 0;
  // Stretch: `steps` decode iterations of the whole running list from started_s_; the end
  // time of each, as an iteration-by-iteration run would add them up.
  bool stretch_ = false;
  int stretch_steps_ = 0;
  std::vector<double> stretch_ends_;
  std::vector<int> stretch_new_blocks_;  // [j + 1]: blocks added by steps 1..j (step 0's are allocated)
  std::vector<int> phase_count_;         // running sequences by computed tokens modulo the block size
  bool preempted_this_step_ = false;
  bool stopped_ = false;
  std::function<void()> on_empty_;
  std::vector<gpu::PrefillChunk> chunks_;
  int iteration_tokens_ = 0;  // decode tokens of the single iteration under way
  ReplicaStats stats_;
};

}  // namespace aifsim::serving
