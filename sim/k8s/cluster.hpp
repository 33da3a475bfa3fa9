// A Kubernetes cluster over time, on the engine: the scheduler (queue with backoff,
// the framework's cycle, preemption with nominated nodes, gang Permit), the kubelet's
// pod lifecycle (image pull from a registry host over the fabric, serialized per node as
// the kubelet does by default; container start; model weights from a storage host over
// the fabric then host to GPU through the calibrated host link; warm-up; readiness;
// termination with the grace period), the controllers (ReplicaSet and Deployment with
// rolling updates, Job with backoffLimit, HorizontalPodAutoscaler, Kueue admission) and
// the records every pod leaves behind.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "gpu/model_card.hpp"
#include "k8s/manifest.hpp"
#include "k8s/node_pool.hpp"
#include "k8s/queue.hpp"
#include "k8s/scheduler.hpp"
#include "metrics/serving_metrics.hpp"
#include "serving/service.hpp"
#include "workload/request_source.hpp"
#include "platform/topology.hpp"

namespace aifsim::gpu {
class GpuModel;
}

namespace aifsim::k8s {

// What a pod's start costs on its node. Each cost is modelled only when its input is
// given: no registry, no pulls; no storage, no weight loads.
struct LifecycleConfig {
  std::string registry;  // service host the images come from
  std::string storage;   // service host the model weights come from
  std::map<std::string, double> image_bytes;  // image -> compressed size
  std::map<std::string, double> model_bytes;  // aifsim.io/model annotation value -> weight bytes
  bool serialize_image_pulls = true;           // the kubelet's default
  double container_start_s = 0;
  double engine_warmup_s = 0;                  // after the weights reach the GPUs
  double shutdown_s = 0;                       // how long a container takes to exit on SIGTERM
};

// A piecewise-linear total of a metric over a Deployment's ready pods (what the metrics
// pipeline would report), e.g. cpu usage in cores or requests per second.
struct LoadCurve {
  std::string deployment;  // namespace/name
  std::string metric;      // a Resource name (cpu, memory) or a Pods/External metric name
  std::vector<std::pair<double, double>> points;  // (time_s, total)
  double at(double t) const;
};

// Something that happens to the cluster at a given time.
struct ClusterEvent {
  double at_s = 0;
  std::string action;  // scale | set_image | delete
  std::string target;  // Deployment/name, ReplicaSet/name, Job/name (namespace/ optional)
  int replicas = 0;
  std::string image;
};

// A cluster-autoscaler-like loop (kubernetes/autoscaler defaults, facts.md §2): every
// scan it adds nodes to a pool for pods that failed scheduling and would fit a fresh node,
// and removes nodes whose requests stay under the utilization threshold (GPUs for GPU
// nodes, else the larger of cpu and memory) for the unneeded time, draining them first.
// The nodes come from the pool's platform nodes not yet in the cluster, each after
// provision_s; in a dual-stack factory the broker is the provider.
struct PoolLimits {
  int min_nodes = 0, max_nodes = 0;
  double provision_s = 0;
};

struct AutoscalerConfig {
  std::map<std::string, PoolLimits> pools;  // pools not named keep all their nodes
  double scan_interval_s = 10;
  double scale_down_unneeded_s = 600;
  double scale_down_delay_after_add_s = 600;
  double scale_down_utilization_threshold = 0.5;
  int max_empty_bulk_delete = 10;
};

// An inference service whose replicas are a Deployment's ready pods: a pod joins the
// router when it becomes ready, leaves it when it is deleted, finishes what it holds
// until its grace period ends, and is killed with the rest (those requests: aborted).
// Its HPA can scale on the replicas' own load: Pods metrics named requests_in_flight,
// num_requests_running or num_requests_waiting (vLLM's gauges, with or without the
// "vllm:" prefix) read each ready pod's replica.
struct ServiceBinding {
  std::string name;
  std::string deployment;  // namespace/name
  gpu::ModelCard card;
  int tp = 0;  // 0: the pod's GPU count
  serving::ServiceConfig service;  // replicas: set by the Deployment
  std::function<std::unique_ptr<workload::RequestSource>()> requests;
  metrics::ServingMetricsOptions metrics;
};

// Where the autoscaler's nodes come from in a dual-stack factory: the broker that owns
// every node. It answers by announcing nodes (Cluster::expect_node, then join_node after
// the move) or not at all; the autoscaler asks again at its next scan.
class NodeProvider {
 public:
  virtual ~NodeProvider() = default;
  virtual void request_nodes(const std::string& pool, int count) = 0;
  // A node left the cluster, drained: the autoscaler's scale-down or a release_node.
  virtual void node_released(std::size_t node) = 0;
};

struct ClusterConfig {
  sched::ProfileConfig profile;
  QueueTiming queue;
  LifecycleConfig lifecycle;
  std::map<std::string, MigLayout> mig;  // pool -> layout
  AutoscalerConfig autoscaler;
  NodeProvider* provider = nullptr;            // none: pools grow from their own spare nodes
  std::optional<std::vector<bool>> members;    // platform node -> in the cluster at t = 0
  std::vector<LoadCurve> load;
  std::vector<ClusterEvent> events;
  std::vector<ServiceBinding> services;
  double duration_s = 0;
  double hpa_sync_period_s = 15;
  double gang_timeout_s = 60;  // coscheduling scheduleTimeoutSeconds default
  std::uint64_t seed = 1;
  std::string explain_pod;  // namespace/name or name: every scheduling attempt explained
};

struct PodRecord {
  std::string name, namespace_, owner, node, pool;
  int priority = 0;
  double created_s = 0;
  std::optional<double> scheduled_s, started_s, ready_s, deleted_s, terminated_s;  // deleted: SIGTERM sent
  double pull_s = 0, load_s = 0;  // time spent pulling images and loading weights
  std::string state;  // succeeded | failed | deleted | preempted | evicted | running | starting | pending | terminating
  int attempts = 0;
  int preemptions = 0;  // victims this pod's preemptions evicted
  std::string reason;
};

struct PoolUsage {
  std::string pool;
  int nodes = 0;
  double gpus = 0;             // the pool's platform nodes, joined or not
  double gpu_joined_s = 0;     // integral of GPUs on nodes in the cluster
  double gpu_allocated_s = 0;  // integral of GPUs held by bound pods
  double gpu_ready_s = 0;      // integral of GPUs held by ready pods
};

struct UtilisationSample {
  double time_s = 0;
  std::string pool;
  double gpus_joined = 0, gpus_allocated = 0, gpus_ready = 0;
};

struct NodeEvent {
  double time_s = 0;
  std::string node, pool, event;  // requested | joined | draining | removed
};

struct HpaSample {
  double time_s = 0;
  std::string hpa;
  int current = 0, desired = 0;
  std::vector<double> metrics;  // per metric, the value the HPA saw (average per pod or total)
};

struct ControllerRecord {
  std::string kind, name, state;  // Job: complete | failed | running | suspended
  int succeeded = 0, failed = 0;
  std::optional<double> admitted_s, finished_s;
};

struct ClusterResult {
  std::vector<PodRecord> pods;  // in creation order
  std::vector<ControllerRecord> jobs;
  std::vector<PoolUsage> pools;
  std::vector<UtilisationSample> utilisation;
  std::vector<HpaSample> hpa;
  std::vector<NodeEvent> node_events;
  std::map<std::string, int> unschedulable_reasons;
  std::uint64_t attempts = 0, scheduled = 0, preemptions = 0, gang_timeouts = 0;
  double duration_s = 0;
  std::vector<std::string> skipped;  // manifest kinds not simulated
  nlohmann::json explanation = nlohmann::json::array();  // attempts of ClusterConfig::explain_pod
  std::map<std::string, nlohmann::json> services;        // each service's serving summary
};

class Cluster {
 public:
  // `engine` must have the topology's platform built when pulls or loads are modelled.
  Cluster(engine::Engine& engine, const platform::Topology& topology, const ManifestSet& manifests,
          ClusterConfig config, const gpu::GpuModel* gpu_model);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Creates the manifests' objects at t = 0 and posts the timeline; then run the engine
  // until duration_s and call finish().
  void start();
  ClusterResult finish();

  // The broker's side (node indices are platform node indices).
  void expect_node(std::size_t node);   // announced: on its way (counts as coming)
  void join_node(std::size_t node);     // arrived: schedulable now
  void release_node(std::size_t node);  // drain it (pods evicted) and let it go
  bool has_node(std::size_t node) const;     // joined or draining
  int pending_pods() const;                  // pods that failed scheduling and wait

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs a whole cluster scenario: builds the engine, runs to the horizon, returns records.
ClusterResult simulate_cluster(const platform::PlatformSpec& platform, const ManifestSet& manifests,
                               const ClusterConfig& config, const gpu::GpuModel* gpu_model);

}  // namespace aifsim::k8s
