#include "serving/replica.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.hpp"

namespace aifsim::serving {

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::COMPLETED: return "completed";
    case Outcome::REJECTED_TOO_LONG: return "rejected_too_long";
    case Outcome::REJECTED_NO_REPLICA: return "rejected_no_replica";
    case Outcome::TIMED_OUT: return "timed_out";
    case Outcome::ABORTED: return "aborted";
    case Outcome::UNFINISHED: return "unfinished";
  }
  return "?";
}

Replica::Replica(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu, ReplicaConfig config,
                 int index, RequestSink& sink)
    : engine_(engine), cost_(cost), gpu_(gpu), config_(config), index_(index), sink_(sink) {
  if (config_.max_model_len <= 0) config_.max_model_len = cost_.card().max_context;
  if (config_.max_num_seqs <= 0 || config_.max_num_batched_tokens <= 0 || config_.block_size <= 0)
    throw InputError("replica", "max_num_seqs, max_num_batched_tokens and block_size must be positive");
  if (!(config_.gpu_memory_utilization > 0 && config_.gpu_memory_utilization <= 1))
    throw InputError("replica", "gpu_memory_utilization must be in (0, 1]");
  if (!config_.chunked_prefill && config_.max_num_batched_tokens < config_.max_model_len)
    throw InputError("replica", "without chunked prefill, max_num_batched_tokens (" +
                                    std::to_string(config_.max_num_batched_tokens) +
                                    ") must be at least max_model_len (" + std::to_string(config_.max_model_len) +
                                    "), as vLLM requires");
  // vLLM sizes the cache after a profiling forward pass of max_num_batched_tokens tokens:
  // what is left of the memory budget after the weights and that pass's activations.
  const double memory = gpu_.profile().device.memory_bytes * config_.gpu_memory_utilization;
  const double n = config_.max_num_batched_tokens;
  const gpu::PrefillChunk probe{n, 0};
  const double activations =
      cost_.mixed(std::span(&probe, 1), 0, 0).memory_bytes - cost_.weight_bytes() - cost_.kv_bytes_per_token() * n;
  const double kv_memory = memory - cost_.weight_bytes() - std::max(0.0, activations);
  total_blocks_ = static_cast<int>(std::floor(kv_memory / (config_.block_size * cost_.kv_bytes_per_token())));
  if (total_blocks_ <= 0)
    throw InputError("replica", "the model's weights (" + std::to_string(cost_.weight_bytes() / 1e9) +
                                    " GB per GPU) leave no room for the KV cache; use more tensor parallelism");
  free_blocks_ = total_blocks_;
}

bool Replica::can_serve(const Request& r) const {
  const int tokens = r.prompt_tokens + r.output_tokens;
  return r.prompt_tokens >= 1 && r.output_tokens >= 1 && tokens <= config_.max_model_len &&
         blocks_for(tokens) <= total_blocks_;
}

void Replica::record_done(Seq& seq, Outcome outcome, double time_s) {
  RequestResult r;
  r.request = seq.request;
  r.outcome = outcome;
  r.replica = index_;
  r.first_scheduled_s = seq.first_scheduled_s;
  r.first_token_s = seq.first_token_s;
  r.finish_s = time_s;
  r.preemptions = seq.preemptions;
  sink_.on_request_done(r);
}

void Replica::submit(const Request& request) {
  Seq seq;
  seq.request = request;
  AIFSIM_CHECK(!stopped_, "replica: request sent to a stopped replica");
  if (!can_serve(request)) {
    record_done(seq, Outcome::REJECTED_TOO_LONG, engine_.now());
    return;
  }
  enqueue(std::move(seq));
}

void Replica::enqueue(Seq seq) {
  const bool was_waiting = !waiting_.empty();
  waiting_.push_back(std::move(seq));
  if (!busy_) {
    // An idle replica starts at this instant's end, once every arrival of the instant is in.
    busy_ = true;
    engine_.at(engine_.now(), [this] { schedule_and_run(); }, engine::Phase::END_OF_INSTANT);
    return;
  }
  // A waiting head that could not be admitted keeps everything behind it waiting too.
  if (stretch_ && !was_waiting) cut_stretch();
}

void Replica::submit_prefilled(const Request& request, double first_scheduled_s, double first_token_s) {
  AIFSIM_CHECK(!stopped_, "replica: request sent to a stopped replica");
  Seq seq;
  seq.request = request;
  seq.computed = request.prompt_tokens;
  seq.generated = 1;
  seq.first_scheduled_s = first_scheduled_s;
  seq.first_token_s = first_token_s;
  if (!can_serve(request)) {
    record_done(seq, Outcome::REJECTED_TOO_LONG, engine_.now());
    return;
  }
  enqueue(std::move(seq));
}

double Replica::kv_usage() const {
  if (!stretch_) return static_cast<double>(total_blocks_ - free_blocks_) / total_blocks_;
  // Boundaries already passed (strictly before now: one at this very instant is not yet processed).
  const auto done = std::lower_bound(stretch_ends_.begin(), stretch_ends_.end(), engine_.now()) - stretch_ends_.begin();
  const int in_use = total_blocks_ - free_blocks_ + stretch_new_blocks_[done + 1];
  return static_cast<double>(in_use) / total_blocks_;
}

bool Replica::allocate(Seq& seq, int tokens) {
  const int need = blocks_for(seq.computed + tokens) - seq.blocks;
  if (need > free_blocks_) return false;
  if (need > 0) {
    seq.blocks += need;
    free_blocks_ -= need;
  }
  return true;
}

// vLLM frees the most recently admitted request's blocks and puts it back at the head of
// the queue: recomputed from scratch, or (swap) its blocks copied to host memory.
void Replica::preempt_last() {
  Seq seq = std::move(running_.back());
  running_.pop_back();
  free_blocks_ += seq.blocks;
  if (config_.preemption == PreemptionMode::SWAP) {
    swap_s_ += gpu_.host_link_time(seq.blocks * config_.block_size * cost_.kv_bytes_per_token(), gpu::Direction::D2H,
                                   gpu::HostMemory::PINNED);
    seq.swapped_blocks = seq.blocks;
  } else {
    seq.computed = 0;
  }
  seq.blocks = 0;
  ++seq.preemptions;
  ++stats_.preemptions;
  preempted_this_step_ = true;
  waiting_.push_front(std::move(seq));
}

void Replica::stop(Outcome outcome) {
  if (end_event_) engine_.cancel(*end_event_);
  end_event_.reset();
  stretch_ = false;
  busy_ = false;
  for (auto& s : running_) record_done(s, outcome, engine_.now());
  for (auto& s : waiting_) record_done(s, outcome, engine_.now());
  running_.clear();
  waiting_.clear();
  free_blocks_ = total_blocks_;
  stopped_ = true;
}

void Replica::when_empty(std::function<void()> callback) {
  if (outstanding() == 0) {
    callback();
    return;
  }
  on_empty_ = std::move(callback);
}

void Replica::expire_waiting() {
  if (config_.queue_timeout_s <= 0) return;
  const double now = engine_.now();
  while (!waiting_.empty() && std::isnan(waiting_.front().first_scheduled_s) &&
         now - waiting_.front().request.arrival_s > config_.queue_timeout_s) {
    record_done(waiting_.front(), Outcome::TIMED_OUT, waiting_.front().request.arrival_s + config_.queue_timeout_s);
    waiting_.pop_front();
  }
}

void Replica::schedule_and_run() {
  const double now = engine_.now();
  expire_waiting();
  planned_.clear();
  preempted_this_step_ = false;
  swap_s_ = 0;
  if (running_.empty() && waiting_.empty()) {
    busy_ = false;
    if (on_empty_) std::exchange(on_empty_, nullptr)();
    return;
  }
  busy_ = true;
  int budget = config_.max_num_batched_tokens;
  const int cap = config_.prefill_chunk_tokens > 0 ? config_.prefill_chunk_tokens : budget;

  auto schedule_running = [&] {
    for (std::size_t i = 0; i < running_.size(); ++i) {
      Seq& s = running_[i];
      const int remaining = s.known() - s.computed;
      int n = std::min(remaining, budget);
      if (remaining > 1) n = std::min(n, cap);
      if (n <= 0) break;
      bool self_preempted = false;
      while (!allocate(running_[i], n)) {
        const bool last = i + 1 == running_.size();
        preempt_last();
        if (last) {
          self_preempted = true;
          break;
        }
      }
      if (self_preempted) break;
      planned_.push_back({static_cast<std::uint32_t>(i), n});
      budget -= n;
    }
  };
  auto schedule_waiting = [&] {
    while (!waiting_.empty() && static_cast<int>(running_.size()) < config_.max_num_seqs && budget > 0) {
      Seq& w = waiting_.front();
      const int remaining = w.known() - w.computed;
      int n = remaining;
      if (config_.chunked_prefill) n = std::min({n, budget, cap});
      else if (n > budget) break;
      if (!allocate(w, n)) break;
      if (w.swapped_blocks > 0) {
        swap_s_ += gpu_.host_link_time(w.swapped_blocks * config_.block_size * cost_.kv_bytes_per_token(),
                                       gpu::Direction::H2D, gpu::HostMemory::PINNED);
        w.swapped_blocks = 0;
      }
      if (std::isnan(w.first_scheduled_s)) w.first_scheduled_s = now;
      running_.push_back(std::move(w));
      waiting_.pop_front();
      planned_.push_back({static_cast<std::uint32_t>(running_.size() - 1), n});
      budget -= n;
    }
  };
  if (config_.policy == SchedulePolicy::DECODE_FIRST) {
    schedule_running();
    if (!preempted_this_step_) schedule_waiting();
  } else {
    // vLLM V0 without chunked prefill: an iteration with prompts runs prompts only.
    schedule_waiting();
    if (planned_.empty()) schedule_running();
  }
  AIFSIM_CHECK(!planned_.empty(), "replica: nothing schedulable although requests are present");

  // The batch's composition: prompt chunks (with their cached context) and decodes.
  chunks_.clear();
  int decodes = 0;
  double decode_context = 0;
  for (const auto& p : planned_) {
    const Seq& s = running_[p.seq];
    if (p.tokens == 1 && s.computed > 0) {
      ++decodes;
      decode_context += s.computed;
    } else {
      chunks_.push_back(gpu::PrefillChunk{static_cast<double>(p.tokens), static_cast<double>(s.computed)});
    }
  }
  const bool pure_decode = chunks_.empty() && !preempted_this_step_ && swap_s_ == 0 &&
                           planned_.size() == running_.size();
  started_s_ = now;
  if (pure_decode && !config_.stepping) {
    start_stretch(decode_context);
    return;
  }
  stretch_ = false;
  const double compute_s = chunks_.empty() ? cost_.decode_time(decodes, decode_context)
                                           : cost_.mixed(chunks_, decodes, decode_context).time_s;
  const double duration = compute_s + swap_s_;
  iteration_tokens_ = decodes;
  stats_.batch_size_time_integral += static_cast<double>(planned_.size()) * duration;
  stats_.kv_blocks_time_integral += static_cast<double>(total_blocks_ - free_blocks_) * duration;
  stats_.busy_s += duration;
  ++stats_.iterations;
  end_event_ = engine_.at(now + duration, [this] { finish_iteration(); }, engine::Phase::END_OF_INSTANT);
}

// The decode iterations that follow are the same batch, each with one more token of
// context per sequence, until a request finishes, the cache would need a block it does
// not have, or (with a queue timeout) the waiting head expires and the queue may move.
void Replica::start_stretch(double decode_context) {
  stretch_ = true;
  const int b = static_cast<int>(running_.size());
  const int B = config_.block_size;
  int steps = std::numeric_limits<int>::max();
  phase_count_.assign(B, 0);
  for (const auto& s : running_) {
    steps = std::min(steps, s.request.output_tokens - s.generated);
    // Step 0's block is allocated; from step j >= 1 the sequence writes token computed + j,
    // which needs a new block when that position starts one.
    ++phase_count_[s.computed % B];
  }
  std::optional<double> head_expiry;
  if (config_.queue_timeout_s > 0 && !waiting_.empty() && std::isnan(waiting_.front().first_scheduled_s))
    head_expiry = waiting_.front().request.arrival_s + config_.queue_timeout_s;
  stretch_ends_.clear();
  stretch_new_blocks_.assign(1, 0);
  double t = started_s_;
  int cumulative = 0;
  for (int j = 0; j < steps; ++j) {
    if (j > 0) {
      const int need = phase_count_[(B - j % B) % B];
      if (cumulative + need > free_blocks_) break;  // step j would preempt: run it on its own
      cumulative += need;
    }
    const double d = cost_.decode_time(b, decode_context + static_cast<double>(j) * b);
    t += d;
    stretch_ends_.push_back(t);
    stretch_new_blocks_.push_back(cumulative);
    if (head_expiry && t > *head_expiry) break;
  }
  stretch_steps_ = static_cast<int>(stretch_ends_.size());
  ++stats_.stretches;
  end_event_ = engine_.at(stretch_ends_.back(), [this] { finish_iteration(); }, engine::Phase::END_OF_INSTANT);
}

void Replica::cut_stretch() {
  // The first boundary at or after now sees the arrival (boundaries run at the instant's end).
  const auto j = std::lower_bound(stretch_ends_.begin(), stretch_ends_.end(), engine_.now()) - stretch_ends_.begin();
  const int steps = static_cast<int>(j) + 1;
  if (steps >= stretch_steps_) return;
  stretch_steps_ = steps;
  stretch_ends_.resize(steps);
  stretch_new_blocks_.resize(steps + 1);
  engine_.cancel(*end_event_);
  end_event_ = engine_.at(stretch_ends_.back(), [this] { finish_iteration(); }, engine::Phase::END_OF_INSTANT);
}

void Replica::apply_decode_steps(int steps) {
  const int b = static_cast<int>(running_.size());
  double previous = started_s_;
  for (int k = 0; k < steps; ++k) {
    const double d = stretch_ends_[k] - previous;
    previous = stretch_ends_[k];
    stats_.kv_blocks_time_integral += static_cast<double>(total_blocks_ - free_blocks_ + stretch_new_blocks_[k + 1]) * d;
    stats_.batch_size_time_integral += static_cast<double>(b) * d;
    sink_.on_token_gaps(d, b);
  }
  stats_.busy_s += previous - started_s_;
  stats_.iterations += static_cast<std::uint64_t>(steps);
  stats_.output_tokens += static_cast<std::uint64_t>(steps) * b;
  // Waiting requests hold no blocks (new, recomputed or swapped out), so the running ones
  // account for all that are in use.
  int used = 0;
  for (auto& s : running_) {
    s.computed += steps;
    s.generated += steps;
    s.blocks = blocks_for(s.computed);
    used += s.blocks;
  }
  free_blocks_ = total_blocks_ - used;
}

void Replica::finish_iteration() {
  const double now = engine_.now();
  ++stats_.end_events;
  end_event_.reset();
  if (stretch_) {
    apply_decode_steps(stretch_steps_);
    stretch_ = false;
  } else {
    if (iteration_tokens_ > 0) sink_.on_token_gaps(now - started_s_, iteration_tokens_);
    for (const auto& p : planned_) {
      Seq& s = running_[p.seq];
      if (s.computed < s.request.prompt_tokens)
        stats_.prompt_tokens += static_cast<std::uint64_t>(std::min(p.tokens, s.request.prompt_tokens - s.computed));
      s.computed += p.tokens;
      if (s.computed == s.known()) {
        ++s.generated;
        ++stats_.output_tokens;
        if (std::isnan(s.first_token_s)) s.first_token_s = now;
      }
    }
  }
  // Finished requests leave, their blocks freed; the others keep their order.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < running_.size(); ++i) {
    Seq& s = running_[i];
    if (s.generated >= s.request.output_tokens) {
      free_blocks_ += s.blocks;
      record_done(s, Outcome::COMPLETED, now);
      continue;
    }
    if (kept != i) running_[kept] = std::move(s);
    ++kept;
  }
  running_.resize(kept);
  schedule_and_run();
}

}  // namespace aifsim::serving
