// The dual-stack factory: one broker owns every node at every instant, as the batch
// partition's, the Kubernetes cluster's, or moving between them (drain, then reprovision
// and join, each taking the scenario's time). The stacks only use what they own. A policy
// (one class behind BrokerPolicy, registered by name) decides the moves:
//   static  the initial split, for good;
//   lend    idle batch nodes go to Kubernetes when its autoscaler asks for nodes, and come
//           back when the batch queue has waited for capacity longer than reclaim_after_s
//           (hysteresis: a node reclaimed is not lent again for lend_cooldown_s), keeping
//           min_hpc_nodes and min_k8s_nodes;
//   pilot   Kubernetes capacity is obtained as batch jobs (kubelets inside batch
//           allocations): each request becomes a job of pilot_walltime_s through the
//           batch queue; its nodes join the cluster when it starts and are drained before
//           it ends.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "hpc/batch_stack.hpp"
#include "k8s/cluster.hpp"
#include "platform/platform.hpp"

namespace aifsim::factory {

enum class Owner : std::uint8_t { HPC, K8S, MOVING };
const char* to_string(Owner owner);

struct MoveCosts {
  double reprovision_s = 0;  // reboot or bare-metal reprovisioning into the other stack's image
  double join_s = 0;         // registering with the other stack (slurmd up, kubelet Ready)
};

struct FactoryConfig {
  std::string policy = "static";
  std::vector<bool> initial_k8s;  // by platform node: owned by Kubernetes at t = 0
  MoveCosts to_k8s, to_hpc;
  double interval_s = 60;  // the broker's control loop
  // lend
  int min_hpc_nodes = 0, min_k8s_nodes = 0;
  double reclaim_after_s = 300;
  double lend_cooldown_s = 600;
  // pilot
  double pilot_walltime_s = 4 * 3600;
  double pilot_drain_s = 60;  // released to Kubernetes' drain this long before the job ends
};

class Broker;

class BrokerPolicy {
 public:
  virtual ~BrokerPolicy() = default;
  // The Kubernetes autoscaler wants `count` more nodes of `pool`.
  virtual void on_request(Broker& broker, const std::string& pool, int count) = 0;
  // The control loop's period.
  virtual void on_tick(Broker& broker) = 0;
  // A node left the cluster (drained).
  virtual void on_released(Broker& broker, std::size_t node) = 0;
};

std::vector<std::string> broker_policy_names();
std::unique_ptr<BrokerPolicy> make_broker_policy(const std::string& name);

struct OwnershipSample {
  double time_s = 0;
  int hpc = 0, k8s = 0, moving = 0;  // nodes
};

class Broker : public k8s::NodeProvider {
 public:
  Broker(engine::Engine& engine, const platform::PlatformSpec& platform, FactoryConfig config,
         std::vector<int> batch_units_per_node);
  // The stacks, once built (they need the broker's initial split first).
  void attach(hpc::BatchStack& batch, k8s::Cluster& cluster);
  void start();
  void finish();  // closes the ownership integrals at now

  // k8s::NodeProvider
  void request_nodes(const std::string& pool, int count) override;
  void node_released(std::size_t node) override;

  // What policies use.
  const FactoryConfig& config() const { return config_; }
  engine::Engine& engine() { return engine_; }
  hpc::BatchStack& batch() { return *batch_; }
  k8s::Cluster& cluster() { return *cluster_; }
  Owner owner(std::size_t node) const { return owner_[node]; }
  std::size_t nodes() const { return owner_.size(); }
  int count(Owner owner) const;
  const std::string& pool_of(std::size_t node) const { return pool_[node]; }
  int batch_units(std::size_t node) const { return units_[node]; }
  bool hosts_pilot(std::size_t node) const { return pilot_[node]; }
  double last_reclaim_s(std::size_t node) const { return last_reclaim_s_[node]; }
  // Moves. The batch side of an HPC node must be free (its units leave the partition).
  void move_to_k8s(std::size_t node);
  void move_to_hpc(std::size_t node);  // a node the cluster has released
  // Pilots: nodes owned by the batch partition, lent to the cluster inside a batch job.
  void start_pilot(const std::vector<std::size_t>& nodes);
  void end_pilot(const std::vector<std::size_t>& nodes);
  void release_from_k8s(std::size_t node);  // ask the cluster to drain it

  // No node owned twice (by construction: one owner each), cluster members are
  // Kubernetes' or pilots', the batch partition's capacity is its nodes' units, and the
  // ownership time adds up to the GPUs x the time. Throws SimulationError otherwise.
  void check_invariants() const;

  // Figures for the summary.
  nlohmann::json summary() const;
  const std::vector<OwnershipSample>& samples() const { return samples_; }
  std::uint64_t moves() const { return moves_; }
  std::vector<double> pilot_waits;  // seconds each pilot job waited in the batch queue

 private:
  void set_owner(std::size_t node, Owner owner);
  void tick();

  engine::Engine& engine_;
  FactoryConfig config_;
  std::unique_ptr<BrokerPolicy> policy_;
  hpc::BatchStack* batch_ = nullptr;
  k8s::Cluster* cluster_ = nullptr;
  std::vector<Owner> owner_;
  std::vector<std::string> pool_;
  std::vector<int> units_, gpus_;
  std::vector<bool> pilot_;
  std::vector<double> last_reclaim_s_;
  std::vector<OwnershipSample> samples_;
  double owned_gpu_s_[3] = {0, 0, 0};
  double last_s_ = 0;
  int gpus_by_owner_[3] = {0, 0, 0};
  std::uint64_t moves_ = 0;
  std::set<std::size_t> joining_;  // Kubernetes' own nodes coming back to the cluster
};

}  // namespace aifsim::factory
