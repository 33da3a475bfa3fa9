// The scheduling framework (after kube-scheduler's pkg/scheduler/framework): one small
// interface per extension point, one Status type for every outcome, and a per-cycle
// state in which plugins pass data between their extension points, keyed by plugin name.
//
// A cycle for one pod: PreFilter (all plugins) -> Filter (each node, each plugin, until
// enough feasible nodes: percentageOfNodesToScore) -> PostFilter when none is feasible
// (preemption) -> PreScore -> Score -> NormalizeScore -> weighted sum -> host selection
// -> Reserve -> Permit -> Bind. Plugins never see the engine or the clock.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8s/objects.hpp"

namespace aifsim::k8s::sched {

inline constexpr std::int64_t MAX_NODE_SCORE = 100;
inline constexpr std::int64_t MIN_NODE_SCORE = 0;

enum class Code { SUCCESS, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, WAIT, SKIP, ERROR };

// An outcome with its reasons as data ("Insufficient nvidia.com/gpu", ...).
struct Status {
  Code code = Code::SUCCESS;
  std::string plugin;
  std::vector<std::string> reasons;

  bool ok() const { return code == Code::SUCCESS; }
  bool skip() const { return code == Code::SKIP; }
  static Status success() { return {}; }
  static Status make(Code code, std::string plugin, std::string reason) {
    return Status{code, std::move(plugin), {std::move(reason)}};
  }
};

// What the scheduler knows of one node: the node and the pods bound or reserved on it.
struct NodeInfo {
  const Node* node = nullptr;
  std::vector<const Pod*> pods;
  ResourceList requested;           // sum of the pods' effective requests
  ResourceList non_zero_requested;  // same, with kube's defaults for pods that request no cpu/memory
  const std::string& name() const { return node->meta.name; }
  Milli allocatable(const std::string& resource) const;
  Milli requested_of(const std::string& resource) const;
  void add_pod(const Pod& pod);
  void remove_pod(const Pod& pod);
};

// Defaults kube-scheduler assumes for scoring when a pod requests no cpu / memory
// (pkg/scheduler/util: DefaultMilliCPURequest 100m, DefaultMemoryRequest 200 MiB).
inline constexpr Milli DEFAULT_MILLI_CPU_REQUEST = 100;
inline constexpr Milli DEFAULT_MEMORY_REQUEST_MILLI = 200LL * 1024 * 1024 * 1000;

// The cluster as one cycle sees it. Nodes keep their order (by name).
struct Snapshot {
  std::vector<NodeInfo> nodes;
  std::map<std::string, int> nodes_with_image;  // image -> nodes that cache it
  const NodeInfo* find(const std::string& node_name) const;
  NodeInfo* find(const std::string& node_name);
  // Every pod on every node (for affinity and spreading): calls f(pod, node_info).
  void for_each_pod(const std::function<void(const Pod&, const NodeInfo&)>& f) const;
};

class StateData {
 public:
  virtual ~StateData() = default;
};

class CycleState {
 public:
  template <class T>
  T* get(const std::string& plugin) const {
    auto it = data_.find(plugin);
    return it == data_.end() ? nullptr : dynamic_cast<T*>(it->second.get());
  }
  void put(const std::string& plugin, std::unique_ptr<StateData> data) { data_[plugin] = std::move(data); }

 private:
  std::map<std::string, std::unique_ptr<StateData>> data_;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string name() const = 0;
};

class PreFilterPlugin : public virtual Plugin {
 public:
  // SKIP: the plugin's Filter has nothing to check for this pod.
  virtual Status pre_filter(CycleState& state, const Pod& pod, const Snapshot& snapshot) const = 0;
};

class FilterPlugin : public virtual Plugin {
 public:
  virtual Status filter(const CycleState& state, const Pod& pod, const NodeInfo& node) const = 0;
};

class PreScorePlugin : public virtual Plugin {
 public:
  virtual Status pre_score(CycleState& state, const Pod& pod, const Snapshot& snapshot,
                           const std::vector<const NodeInfo*>& feasible) const = 0;
};

struct NodeScore {
  std::string node;
  std::int64_t score = 0;
};

class ScorePlugin : public virtual Plugin {
 public:
  virtual std::int64_t score(const CycleState& state, const Pod& pod, const NodeInfo& node) const = 0;
  // Maps raw scores to [MIN_NODE_SCORE, MAX_NODE_SCORE]; the default leaves them.
  virtual void normalize(const CycleState& /*state*/, const Pod& /*pod*/, std::vector<NodeScore>& /*scores*/) const {}
};

class ReservePlugin : public virtual Plugin {
 public:
  virtual Status reserve(CycleState& state, const Pod& pod, const std::string& node) = 0;
  virtual void unreserve(CycleState& state, const Pod& pod, const std::string& node) = 0;
};

class PermitPlugin : public virtual Plugin {
 public:
  // SUCCESS binds now; WAIT holds the pod (with its node reserved) until allowed or timed out.
  virtual Status permit(CycleState& state, const Pod& pod, const std::string& node) = 0;
};

// Plugins are built by name from their arguments (KubeSchedulerConfiguration pluginConfig).
// A bad argument is an InputError naming the plugin and the field.
using PluginFactory = std::function<std::unique_ptr<Plugin>(const nlohmann::json& args, const std::string& where)>;
const std::map<std::string, PluginFactory>& plugin_registry();

// Helpers shared by plugins.
bool matches(const LabelSelector& selector, const Labels& labels);
bool matches(const Requirement& requirement, const Labels& labels);
bool matches(const NodeSelectorTerm& term, const Node& node);
bool tolerates(const Toleration& toleration, const Taint& taint);

}  // namespace aifsim::k8s::sched
