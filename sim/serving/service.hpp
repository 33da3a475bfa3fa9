// An inference service: replicas of one model behind a router. Requests are streamed in
// from a source (one pending arrival at a time, so memory does not grow with the trace),
// routed when they arrive, and every one ends in a recorded state.
#pragma once
#include <cstdint>
#include <functional>
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

class Service {
 public:
  Service(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu, ServiceConfig config,
          RequestSink& sink);

  // Routes a request arriving now; with no replica it is rejected.
  void submit(const Request& request);
  // Replicas come and go (autoscaling): a removed replica takes no new request and leaves
  // once its requests are done; `on_drained` runs then.
  int add_replica();
  void remove_replica(int index, std::function<void()> on_drained = {});
  int active_replicas() const { return static_cast<int>(active_.size()); }
  int outstanding() const;
  const std::vector<std::unique_ptr<Replica>>& replicas() const { return replicas_; }

  // Feeds `next` (arrivals in non-decreasing time) into the service; `next` returns
  // nothing at the end. Throws InputError when an arrival goes back in time.
  void stream(std::function<std::optional<Request>()> next);

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
  std::function<std::optional<Request>()> next_;
  std::optional<Request> pending_;
  double last_arrival_s_ = 0;
};

}  // namespace aifsim::serving
