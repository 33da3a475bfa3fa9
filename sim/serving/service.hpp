// An inference service: replicas of one model behind a router. Requests are streamed in
// from a source (one pending arrival at a time, so memory does not grow with the trace),
// routed when they arrive, and every one ends in a recorded state.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "serving/replica.hpp"
#include "serving/router.hpp"

namespace aifsim::serving {

struct ServiceConfig {
  ReplicaConfig replica;
  int replicas = 1;
  std::string router = "least_outstanding";
  std::uint64_t seed = 1;
};

// Posts each request of `next` (non-decreasing arrival times; nothing at the end) at its
// arrival time and hands it to `submit`, one pending arrival at a time. Throws InputError
// when an arrival goes back in time.
void feed(engine::Engine& engine, std::function<std::optional<Request>()> next, std::function<void(const Request&)> submit);

class Service {
 public:
  Service(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu, ServiceConfig config,
          RequestSink& sink);

  // Routes a request arriving now; with no replica it is rejected.
  void submit(const Request& request);
  // Routes a request whose prompt was computed elsewhere (its KV cache arrives with it).
  void submit_prefilled(const Request& request, double first_scheduled_s, double first_token_s);
  // Replicas come and go (autoscaling): a removed replica takes no new request and leaves
  // once its requests are done; `on_drained` runs then.
  int add_replica();
  void remove_replica(int index, std::function<void()> on_drained = {});
  int active_replicas() const { return static_cast<int>(active_.size()); }
  int outstanding() const;
  const std::vector<std::unique_ptr<Replica>>& replicas() const { return replicas_; }
  Replica& replica(int index) { return *replicas_.at(index); }
  bool is_active(int index) const { return std::find(active_.begin(), active_.end(), replicas_.at(index).get()) != active_.end(); }

  void stream(std::function<std::optional<Request>()> next) {
    feed(engine_, std::move(next), [this](const Request& r) { submit(r); });
  }

 private:
  void post_next();

  engine::Engine& engine_;
  const gpu::TransformerCost& cost_;
  const gpu::GpuModel& gpu_;
  ServiceConfig config_;
  RequestSink& sink_;
  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<Replica*> active_;

  void reject_no_replica(const Request& request, double first_scheduled_s, double first_token_s);
};

// Disaggregated serving: a prefill pool computes each prompt and its first token, the KV
// cache moves to a decode pool (prompt tokens x KV bytes per token per GPU, every GPU of
// the tensor-parallel group sending its shard at once, at kv_transfer_bw_Bps after
// kv_transfer_latency_s), which generates the rest.
struct DisaggregationConfig {
  int prefill_replicas = 1, decode_replicas = 1;
  double kv_transfer_bw_Bps = 0;
  double kv_transfer_latency_s = 0;
};

class DisaggregatedService : public RequestSink {
 public:
  DisaggregatedService(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu,
                       ServiceConfig config, DisaggregationConfig disaggregation, RequestSink& sink);
  void submit(const Request& request);
  void stream(std::function<std::optional<Request>()> next) {
    feed(engine_, std::move(next), [this](const Request& r) { submit(r); });
  }
  // Requests between the pools (prefilled, their KV cache on its way).
  std::size_t in_flight() const { return in_transfer_; }
  const Service& prefill() const { return *prefill_; }
  const Service& decode() const { return *decode_; }
  // The prefill pool reports here (the decode pool reports to the caller's sink).
  void on_request_done(const RequestResult& result) override;
  void on_token_gaps(double gap_s, int tokens) override { sink_.on_token_gaps(gap_s, tokens); }

 private:

  engine::Engine& engine_;
  const gpu::TransformerCost& cost_;
  DisaggregationConfig config_;
  RequestSink& sink_;
  std::unique_ptr<Service> prefill_, decode_;
  std::map<std::uint64_t, Request> in_prefill_;  // the original requests (their full output)
  std::size_t in_transfer_ = 0;
};

}  // namespace aifsim::serving
