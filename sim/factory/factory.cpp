#include "factory/factory.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::factory {

const char* to_string(Owner owner) {
  switch (owner) {
    case Owner::HPC: return "hpc";
    case Owner::K8S: return "k8s";
    case Owner::MOVING: return "moving";
  }
  return "?";
}

namespace {

// The initial split, for good: nodes the cluster lets go stay Kubernetes'.
class StaticPolicy : public BrokerPolicy {
 public:
  void on_request(Broker&, const std::string&, int) override {}
  void on_tick(Broker&) override {}
  void on_released(Broker&, std::size_t) override {}
};

class LendPolicy : public BrokerPolicy {
 public:
  void on_request(Broker& b, const std::string& pool, int count) override {
    auto& batch = b.batch();
    // Only capacity the waiting batch jobs do not need is lent.
    int free_units = batch.free_units() - batch.queued_units();
    int hpc = b.count(Owner::HPC);
    const double now = b.engine().now();
    for (std::size_t n = 0; n < b.nodes() && count > 0; ++n) {
      if (b.owner(n) != Owner::HPC || b.hosts_pilot(n) || b.pool_of(n) != pool) continue;
      if (hpc <= b.config().min_hpc_nodes) break;
      if (b.batch_units(n) > free_units) break;  // the node's share of the partition is busy
      if (now - b.last_reclaim_s(n) < b.config().lend_cooldown_s) continue;
      free_units -= b.batch_units(n);
      --hpc;
      --count;
      lent_.push_back(n);
      b.move_to_k8s(n);
    }
  }

  void on_tick(Broker& b) override {
    auto& batch = b.batch();
    const double now = b.engine().now();
    const int deficit = batch.queued_units() - batch.free_units();
    if (deficit <= 0) {
      pressure_since_.reset();
      return;
    }
    if (!pressure_since_) pressure_since_ = now;
    if (now - *pressure_since_ < b.config().reclaim_after_s) return;
    // Take back the most recently lent nodes until the waiting jobs' shortfall is covered
    // (counting those already on their way back), keeping Kubernetes' minimum.
    int coming = 0;
    for (std::size_t n : reclaiming_) coming += b.batch_units(n);
    int k8s = b.count(Owner::K8S) - static_cast<int>(reclaiming_.size());
    while (coming < deficit && !lent_.empty() && k8s > b.config().min_k8s_nodes) {
      const std::size_t n = lent_.back();
      lent_.pop_back();
      if (b.owner(n) != Owner::K8S || !b.cluster().has_node(n)) continue;
      reclaiming_.push_back(n);
      coming += b.batch_units(n);
      --k8s;
      b.release_from_k8s(n);
    }
    pressure_since_ = now;  // hysteresis: judge again a full period later
  }

  void on_released(Broker& b, std::size_t node) override {
    // Lent nodes go home, whether reclaimed or let go by the autoscaler.
    const bool was_lent = std::find(lent_.begin(), lent_.end(), node) != lent_.end() ||
                          std::find(reclaiming_.begin(), reclaiming_.end(), node) != reclaiming_.end();
    std::erase(lent_, node);
    std::erase(reclaiming_, node);
    if (was_lent) b.move_to_hpc(node);
  }

 private:
  std::vector<std::size_t> lent_, reclaiming_;
  std::optional<double> pressure_since_;
};

// Kubelets inside batch allocations: every request is a batch job of whole nodes that
// waits in the batch queue like any other.
class PilotPolicy : public BrokerPolicy {
 public:
  void on_request(Broker& b, const std::string& pool, int count) override {
    const int wanted = count - pending_nodes_;
    if (wanted <= 0) return;
    // One pilot job per request, as wide as the nodes asked for (all batch nodes have the
    // same units here; the first HPC node of the pool tells how many).
    int units_per_node = 0;
    for (std::size_t n = 0; n < b.nodes() && units_per_node == 0; ++n)
      if (b.owner(n) == Owner::HPC && b.pool_of(n) == pool) units_per_node = b.batch_units(n);
    if (units_per_node == 0) return;
    pending_nodes_ += wanted;
    const double submitted = b.engine().now();
    auto nodes = std::make_shared<std::vector<std::size_t>>();
    const double walltime = b.config().pilot_walltime_s;
    b.batch().submit_external(
        wanted * units_per_node, walltime,
        [this, &b, wanted, nodes, submitted, pool] {
          pending_nodes_ -= wanted;
          b.pilot_waits.push_back(b.engine().now() - submitted);
          for (std::size_t n = 0; n < b.nodes() && static_cast<int>(nodes->size()) < wanted; ++n)
            if (b.owner(n) == Owner::HPC && !b.hosts_pilot(n) && b.pool_of(n) == pool) nodes->push_back(n);
          b.start_pilot(*nodes);
          // Drained before the allocation ends, so no node serves both stacks.
          const double release_in = std::max(0.0, b.config().pilot_walltime_s - b.config().pilot_drain_s);
          b.engine().after(release_in, [&b, nodes] { b.end_pilot(*nodes); });
        },
        [] {});
  }
  void on_tick(Broker&) override {}
  void on_released(Broker&, std::size_t) override {}

 private:
  int pending_nodes_ = 0;
};

const std::map<std::string, std::function<std::unique_ptr<BrokerPolicy>()>>& registry() {
  static const std::map<std::string, std::function<std::unique_ptr<BrokerPolicy>()>> r = {
      {"static", [] { return std::make_unique<StaticPolicy>(); }},
      {"lend", [] { return std::make_unique<LendPolicy>(); }},
      {"pilot", [] { return std::make_unique<PilotPolicy>(); }},
  };
  return r;
}

}  // namespace

std::vector<std::string> broker_policy_names() {
  std::vector<std::string> names;
  for (const auto& [name, f] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<BrokerPolicy> make_broker_policy(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    auto names = broker_policy_names();
    const std::string near = nearest_name(name, names);
    throw InputError("factory", "unknown policy \"" + name + "\": expected " + join_alternatives(names) +
                                    (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
  }
  return it->second();
}

Broker::Broker(engine::Engine& engine, const platform::PlatformSpec& platform, FactoryConfig config,
               std::vector<int> batch_units_per_node)
    : engine_(engine), config_(std::move(config)), policy_(make_broker_policy(config_.policy)), units_(std::move(batch_units_per_node)) {
  for (const auto& g : platform.groups)
    for (int i = 0; i < g.count; ++i) {
      pool_.push_back(g.prefix);
      gpus_.push_back(platform.type_of(g).gpus);
    }
  AIFSIM_CHECK(config_.initial_k8s.size() == pool_.size() && units_.size() == pool_.size(),
               "factory: the split and the units must cover every platform node");
  for (std::size_t n = 0; n < pool_.size(); ++n) {
    owner_.push_back(config_.initial_k8s[n] ? Owner::K8S : Owner::HPC);
    gpus_by_owner_[static_cast<int>(owner_.back())] += gpus_[n];
  }
  pilot_.assign(pool_.size(), false);
  last_reclaim_s_.assign(pool_.size(), -1e300);
  samples_.push_back(OwnershipSample{0, count(Owner::HPC), count(Owner::K8S), 0});
}

void Broker::attach(hpc::BatchStack& batch, k8s::Cluster& cluster) {
  batch_ = &batch;
  cluster_ = &cluster;
}

void Broker::start() {
  AIFSIM_CHECK(batch_ && cluster_, "factory: broker started before the stacks were attached");
  engine_.at(config_.interval_s, [this] { tick(); });
}

void Broker::tick() {
  check_invariants();
  policy_->on_tick(*this);
  engine_.after(config_.interval_s, [this] { tick(); });
}

int Broker::count(Owner owner) const {
  return static_cast<int>(std::count(owner_.begin(), owner_.end(), owner));
}

void Broker::set_owner(std::size_t node, Owner owner) {
  const double now = engine_.now();
  for (int o = 0; o < 3; ++o) owned_gpu_s_[o] += gpus_by_owner_[o] * (now - last_s_);
  last_s_ = now;
  gpus_by_owner_[static_cast<int>(owner_[node])] -= gpus_[node];
  gpus_by_owner_[static_cast<int>(owner)] += gpus_[node];
  owner_[node] = owner;
  const OwnershipSample s{now, count(Owner::HPC), count(Owner::K8S), count(Owner::MOVING)};
  if (samples_.back().time_s == now) samples_.back() = s;
  else samples_.push_back(s);
}

void Broker::finish() {
  const double now = engine_.now();
  for (int o = 0; o < 3; ++o) owned_gpu_s_[o] += gpus_by_owner_[o] * (now - last_s_);
  last_s_ = now;
  // The series ends at the horizon, so that a plot of it spans the whole run.
  if (samples_.back().time_s < now) samples_.push_back(OwnershipSample{now, count(Owner::HPC), count(Owner::K8S), count(Owner::MOVING)});
}

void Broker::request_nodes(const std::string& pool, int count) {
  // Kubernetes' own nodes that its autoscaler let go come back first, at no move cost
  // beyond joining.
  for (std::size_t n = 0; n < owner_.size() && count > 0; ++n) {
    if (owner_[n] != Owner::K8S || pool_[n] != pool || cluster_->has_node(n) || joining_.count(n)) continue;
    joining_.insert(n);
    cluster_->expect_node(n);
    engine_.after(config_.to_k8s.join_s, [this, n] {
      joining_.erase(n);
      cluster_->join_node(n);
    });
    --count;
  }
  if (count > 0) policy_->on_request(*this, pool, count);
}

void Broker::node_released(std::size_t node) {
  if (pilot_[node]) {
    pilot_[node] = false;  // the pilot job ends on its own; the node stays the partition's
    return;
  }
  policy_->on_released(*this, node);
}

void Broker::move_to_k8s(std::size_t node) {
  AIFSIM_CHECK(owner_[node] == Owner::HPC && !pilot_[node], "factory: only a free batch node moves to Kubernetes");
  batch_->shrink(units_[node]);
  set_owner(node, Owner::MOVING);
  ++moves_;
  cluster_->expect_node(node);
  engine_.after(config_.to_k8s.reprovision_s + config_.to_k8s.join_s, [this, node] {
    set_owner(node, Owner::K8S);
    cluster_->join_node(node);
  });
}

void Broker::move_to_hpc(std::size_t node) {
  AIFSIM_CHECK(owner_[node] == Owner::K8S && !cluster_->has_node(node), "factory: only a released Kubernetes node moves to batch");
  set_owner(node, Owner::MOVING);
  ++moves_;
  last_reclaim_s_[node] = engine_.now();
  engine_.after(config_.to_hpc.reprovision_s + config_.to_hpc.join_s, [this, node] {
    set_owner(node, Owner::HPC);
    batch_->grow(units_[node]);
  });
}

void Broker::release_from_k8s(std::size_t node) { cluster_->release_node(node); }

void Broker::start_pilot(const std::vector<std::size_t>& nodes) {
  for (std::size_t n : nodes) {
    AIFSIM_CHECK(owner_[n] == Owner::HPC && !pilot_[n], "factory: a pilot on a node that is not the partition's");
    pilot_[n] = true;
    cluster_->expect_node(n);
    engine_.after(config_.to_k8s.join_s, [this, n] {
      if (pilot_[n]) cluster_->join_node(n);
    });
  }
}

void Broker::end_pilot(const std::vector<std::size_t>& nodes) {
  for (std::size_t n : nodes) {
    if (!pilot_[n]) continue;
    if (cluster_->has_node(n)) cluster_->release_node(n);
    else pilot_[n] = false;  // its kubelet never joined
  }
}

void Broker::check_invariants() const {
  int hpc_units = 0;
  for (std::size_t n = 0; n < owner_.size(); ++n) {
    if (owner_[n] == Owner::HPC) hpc_units += units_[n];
    const bool member = cluster_->has_node(n);
    if (member && owner_[n] == Owner::HPC && !pilot_[n])
      throw SimulationError("factory: node " + std::to_string(n) + " is in the cluster but owned by the batch partition");
  }
  if (hpc_units != batch_->capacity())
    throw SimulationError("factory: the batch partition has " + std::to_string(batch_->capacity()) + " units but owns " +
                          std::to_string(hpc_units));
  double owned = owned_gpu_s_[0] + owned_gpu_s_[1] + owned_gpu_s_[2];
  double gpus = 0;
  for (int g : gpus_) gpus += g;
  if (std::abs(owned - gpus * last_s_) > 1e-6 * std::max(1.0, gpus * last_s_))
    throw SimulationError("factory: ownership time does not add up to the GPUs x the time");
}

nlohmann::json Broker::summary() const {
  nlohmann::json j;
  j["policy"] = config_.policy;
  j["moves"] = moves_;
  j["owned_gpu_hours"] = {{"hpc", owned_gpu_s_[0] / 3600}, {"k8s", owned_gpu_s_[1] / 3600}, {"moving", owned_gpu_s_[2] / 3600}};
  j["nodes_at_end"] = {{"hpc", count(Owner::HPC)}, {"k8s", count(Owner::K8S)}, {"moving", count(Owner::MOVING)}};
  if (!pilot_waits.empty()) {
    double sum = 0;
    for (double w : pilot_waits) sum += w;
    j["pilot_jobs"] = {{"started", pilot_waits.size()}, {"mean_wait_s", sum / pilot_waits.size()},
                       {"max_wait_s", *std::max_element(pilot_waits.begin(), pilot_waits.end())}};
  }
  return j;
}

}  // namespace aifsim::factory
