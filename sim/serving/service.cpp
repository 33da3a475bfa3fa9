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
  if (!on_drained) return;
  // Checked at every instant's end until the replica has nothing left.
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [this, r, on_drained, poll] {
    if (r->outstanding() == 0) {
      on_drained();
      return;
    }
    engine_.after(1.0, *poll, engine::Phase::END_OF_INSTANT);
  };
  engine_.at(engine_.now(), *poll, engine::Phase::END_OF_INSTANT);
}

int Service::outstanding() const {
  int n = 0;
  for (const Replica* r : active_) n += r->outstanding();
  return n;
}

void Service::submit(const Request& request) {
  if (active_.empty()) {
    RequestResult r;
    r.request = request;
    r.outcome = Outcome::REJECTED_NO_REPLICA;
    r.finish_s = engine_.now();
    sink_.on_request_done(r);
    return;
  }
  active_[router_->pick(request, active_)]->submit(request);
}

void Service::stream(std::function<std::optional<Request>()> next) {
  next_ = std::move(next);
  post_next();
}

void Service::post_next() {
  pending_ = next_();
  if (!pending_) return;
  if (pending_->arrival_s < last_arrival_s_ || pending_->arrival_s < engine_.now())
    throw InputError("requests", "request " + std::to_string(pending_->id) + " arrives at " +
                                     std::to_string(pending_->arrival_s) + " s, before the one before it");
  last_arrival_s_ = pending_->arrival_s;
  engine_.at(pending_->arrival_s, [this] {
    submit(*pending_);
    post_next();
  });
}

}  // namespace aifsim::serving
