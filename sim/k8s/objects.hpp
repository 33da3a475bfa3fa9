// Kubernetes API objects as plain values: the subset of fields that scheduling, the
// controllers and the pod lifecycle read. Field names follow the API (snake_case).
// Quantities are exact thousandths (k8s::Milli); times are seconds.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8s/quantity.hpp"

namespace aifsim::k8s {

using ResourceList = std::map<std::string, Milli>;  // "cpu", "memory", "nvidia.com/gpu", ...
using Labels = std::map<std::string, std::string>;

inline constexpr const char* CPU = "cpu";
inline constexpr const char* MEMORY = "memory";
inline constexpr const char* GPU = "nvidia.com/gpu";
inline constexpr const char* PODS = "pods";

struct ObjectMeta {
  std::string name;
  std::string namespace_ = "default";
  Labels labels;
  Labels annotations;
  std::string source;  // "file:line" of the manifest it came from
};

enum class TaintEffect { NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE };

struct Taint {
  std::string key, value;
  TaintEffect effect = TaintEffect::NO_SCHEDULE;
};

struct Toleration {
  std::string key;
  bool exists = false;  // operator Exists (else Equal)
  std::string value;
  std::optional<TaintEffect> effect;  // none: tolerates every effect
  std::optional<double> toleration_seconds;
};

enum class SelectorOp { IN, NOT_IN, EXISTS, DOES_NOT_EXIST, GT, LT };

struct Requirement {
  std::string key;
  SelectorOp op = SelectorOp::IN;
  std::vector<std::string> values;
};

struct NodeSelectorTerm {
  std::vector<Requirement> match_expressions;
  std::vector<Requirement> match_fields;  // only metadata.name is defined
};

struct PreferredSchedulingTerm {
  int weight = 0;
  NodeSelectorTerm preference;
};

struct NodeAffinity {
  std::optional<std::vector<NodeSelectorTerm>> required;  // terms are ORed
  std::vector<PreferredSchedulingTerm> preferred;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<Requirement> match_expressions;
};

struct PodAffinityTerm {
  std::optional<LabelSelector> selector;  // none selects no pod
  std::vector<std::string> namespaces;    // empty: the pod's own namespace
  std::string topology_key;
};

struct WeightedPodAffinityTerm {
  int weight = 0;
  PodAffinityTerm term;
};

struct PodAffinityRules {
  std::vector<PodAffinityTerm> required;
  std::vector<WeightedPodAffinityTerm> preferred;
};

struct Affinity {
  std::optional<NodeAffinity> node_affinity;
  std::optional<PodAffinityRules> pod_affinity;
  std::optional<PodAffinityRules> pod_anti_affinity;
};

enum class WhenUnsatisfiable { DO_NOT_SCHEDULE, SCHEDULE_ANYWAY };

struct TopologySpreadConstraint {
  int max_skew = 1;
  std::string topology_key;
  WhenUnsatisfiable when_unsatisfiable = WhenUnsatisfiable::DO_NOT_SCHEDULE;
  std::optional<LabelSelector> selector;
  std::optional<int> min_domains;
};

struct Container {
  std::string name, image;
  ResourceList requests, limits;
};

struct PodSpec {
  std::vector<Container> containers, init_containers;
  Labels node_selector;
  Affinity affinity;
  std::vector<Toleration> tolerations;
  std::vector<TopologySpreadConstraint> topology_spread_constraints;
  std::string priority_class_name;
  std::optional<int> priority;  // resolved from the PriorityClass at admission
  std::string preemption_policy = "PreemptLowerPriority";
  double termination_grace_period_s = 30;
  std::string scheduler_name = "default-scheduler";
  std::string node_name;  // set: bound (or pinned by the manifest)
};

struct Pod {
  ObjectMeta meta;
  PodSpec spec;
  std::string owner_kind, owner_name;  // controller that made it, if any
  std::string pod_group;               // gang (scheduling.x-k8s.io/pod-group label)
};

// Requests the scheduler accounts for: max(sum of app containers, each init container),
// per resource (as kube-scheduler's computePodResourceRequest).
ResourceList effective_requests(const PodSpec& spec);

struct ImageState {
  std::string name;
  double size_bytes = 0;
};

struct Node {
  ObjectMeta meta;
  ResourceList capacity, allocatable;
  std::vector<Taint> taints;
  bool unschedulable = false;
  std::vector<ImageState> images;  // cached on the node
};

struct PriorityClass {
  std::string name;
  int value = 0;
  bool global_default = false;
  std::string preemption_policy = "PreemptLowerPriority";
};

struct PodTemplate {
  ObjectMeta meta;
  PodSpec spec;
};

struct IntOrPercent {
  bool percent = false;
  int value = 0;
  // Against a total: percentages round up for surge and down for unavailability.
  int resolve(int total, bool round_up) const;
};

struct Deployment {
  ObjectMeta meta;
  int replicas = 1;
  LabelSelector selector;
  PodTemplate pod_template;
  bool recreate = false;  // strategy Recreate, else RollingUpdate
  IntOrPercent max_surge{true, 25}, max_unavailable{true, 25};
};

struct ReplicaSet {
  ObjectMeta meta;
  int replicas = 1;
  LabelSelector selector;
  PodTemplate pod_template;
};

struct Job {
  ObjectMeta meta;
  int parallelism = 1;
  std::optional<int> completions = 1;
  int backoff_limit = 6;
  std::optional<double> active_deadline_s;
  PodTemplate pod_template;
};

struct MetricTarget {
  std::string type;  // Utilization | AverageValue | Value
  std::optional<int> average_utilization;
  std::optional<Milli> average_value, value;
};

struct HpaMetric {
  std::string type;  // Resource | Pods | External
  std::string name;  // resource name or metric name
  MetricTarget target;
};

struct HpaPolicy {
  std::string type;  // Pods | Percent
  int value = 0;
  double period_s = 0;
};

struct HpaScalingRules {
  std::optional<double> stabilization_window_s;
  std::string select_policy = "Max";  // Max | Min | Disabled
  std::vector<HpaPolicy> policies;
};

struct HorizontalPodAutoscaler {
  ObjectMeta meta;
  std::string target_kind, target_name;
  std::optional<int> min_replicas;
  int max_replicas = 1;
  std::vector<HpaMetric> metrics;
  HpaScalingRules scale_up, scale_down;
};

struct PodGroup {
  ObjectMeta meta;
  int min_member = 1;
  std::optional<double> schedule_timeout_s;
};

struct ResourceQuota {  // one flavor's nominal quota in a ClusterQueue
  std::string flavor;
  ResourceList nominal;
  ResourceList borrowing_limit;
};

struct ClusterQueue {
  ObjectMeta meta;
  std::string cohort;
  std::vector<ResourceQuota> quotas;
  std::string within_cluster_queue_preemption = "Never";  // Never | LowerPriority
  std::string reclaim_within_cohort = "Never";             // Never | LowerPriority | Any
};

struct LocalQueue {
  ObjectMeta meta;
  std::string cluster_queue;
};

}  // namespace aifsim::k8s
