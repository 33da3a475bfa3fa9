#include "serving/service.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace aifsim::serving {

Service::Service(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu, ServiceConfig config,
                 RequestSink& sink)
    : engine_(engine), cost_(cost), gpu_(gpu), config_(std::move(config)), sink_(sink),
      router_(make_router(config_.router, config_.seed)) {
  if (config_.replicas < 0) throw InputError("service", "replicas must be non-negative");
  for (int i = 0; i < config_.replicas; ++i) add_replica();
}

int Service::add_replica() {
  replicas_.push_back(std::make_unique<Replica>(engine_, cost_, gpu_, config_.replica, static_cast<int>(replicas_.size()), sink_));
  active_.push_back(replicas_.back().get());
  return static_cast<int>(replicas_.size()) - 1;
}

void Service::remove_replica(int index, std::function<void()> on_drained) {
  Replica* r = replicas_.at(index).get();
  std::erase(active_, r);
  if (on_drained) r->when_empty(std::move(on_drained));
}

int Service::outstanding() const {
  int n = 0;
  for (const Replica* r : active_) n += r->outstanding();
  return n;
}

void Service::reject_no_replica(const Request& request, double first_scheduled_s, double first_token_s) {
  RequestResult r;
  r.request = request;
  r.outcome = Outcome::REJECTED_NO_REPLICA;
  r.first_scheduled_s = first_scheduled_s;
  r.first_token_s = first_token_s;
  r.finish_s = engine_.now();
  sink_.on_request_done(r);
}

void Service::submit(const Request& request) {
  if (active_.empty()) return reject_no_replica(request, NOT_YET, NOT_YET);
  active_[router_->pick(request, active_)]->submit(request);
}

void Service::submit_prefilled(const Request& request, double first_scheduled_s, double first_token_s) {
  if (active_.empty()) return reject_no_replica(request, first_scheduled_s, first_token_s);
  active_[router_->pick(request, active_)]->submit_prefilled(request, first_scheduled_s, first_token_s);
}

void feed(engine::Engine& engine, std::function<std::optional<Request>()> next, std::function<void(const Request&)> submit) {
  struct Feeder {
    engine::Engine& engine;
    std::function<std::optional<Request>()> next;
    std::function<void(const Request&)> submit;
    double last_arrival_s = 0;
    void post(std::shared_ptr<Feeder> self) {
      std::optional<Request> r = next();
      if (!r) return;
      if (r->arrival_s < last_arrival_s || r->arrival_s < engine.now())
        throw InputError("requests", "request " + std::to_string(r->id) + " arrives at " + std::to_string(r->arrival_s) +
                                         " s, before the one before it");
      last_arrival_s = r->arrival_s;
      engine.at(r->arrival_s, [self, request = *r] {
        self->submit(request);
        self->post(self);
      });
    }
  };
  auto feeder = std::make_shared<Feeder>(Feeder{engine, std::move(next), std::move(submit)});
  feeder->post(feeder);
}

DisaggregatedService::DisaggregatedService(engine::Engine& engine, const gpu::TransformerCost& cost, const gpu::GpuModel& gpu,
                                           ServiceConfig config, DisaggregationConfig disaggregation, RequestSink& sink)
    : engine_(engine), cost_(cost), config_(disaggregation), sink_(sink) {
  if (config_.prefill_replicas < 1 || config_.decode_replicas < 1)
    throw InputError("disaggregation", "expected at least one prefill and one decode replica");
  if (!(config_.kv_transfer_bw_Bps > 0)) throw InputError("disaggregation", "kv_transfer_bw_Bps must be positive");
  if (!(config_.kv_transfer_latency_s >= 0)) throw InputError("disaggregation", "kv_transfer_latency_s must be non-negative");
  ServiceConfig p = config, d = config;
  p.replicas = config_.prefill_replicas;
  d.replicas = config_.decode_replicas;
  d.seed = config.seed + 1;
  prefill_ = std::make_unique<Service>(engine, cost, gpu, p, static_cast<RequestSink&>(*this));
  decode_ = std::make_unique<Service>(engine, cost, gpu, d, sink);
}

void DisaggregatedService::submit(const Request& request) {
  in_prefill_[request.id] = request;
  Request prompt_only = request;
  prompt_only.output_tokens = 1;
  prefill_->submit(prompt_only);
}

void DisaggregatedService::on_request_done(const RequestResult& result) {
  auto it = in_prefill_.find(result.request.id);
  AIFSIM_CHECK(it != in_prefill_.end(), "disaggregated service: unknown request back from prefill");
  const Request original = it->second;
  in_prefill_.erase(it);
  if (result.outcome != Outcome::COMPLETED || original.output_tokens == 1) {
    RequestResult r = result;
    r.request = original;
    sink_.on_request_done(r);
    return;
  }
  const double kv_bytes = original.prompt_tokens * cost_.kv_bytes_per_token();
  const double transfer_s = config_.kv_transfer_latency_s + kv_bytes / config_.kv_transfer_bw_Bps;
  ++in_transfer_;
  engine_.after(transfer_s, [this, original, first_scheduled = result.first_scheduled_s, first_token = result.first_token_s] {
    --in_transfer_;
    decode_->submit_prefilled(original, first_scheduled, first_token);
  });
}

}  // namespace aifsim::serving
