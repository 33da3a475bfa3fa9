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
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <utility>
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

// Resources the filter and score loops read on every node of every cycle get a fixed
// slot, so those loops index plain arrays instead of looking names up in std::maps.
enum ResourceSlot : int { SLOT_CPU, SLOT_MEMORY, SLOT_EPHEMERAL_STORAGE, SLOT_GPU, SLOT_PODS, NUM_SLOTS };
// The slot of a resource name, or -1 for the others (read from the maps as before).
int resource_slot(std::string_view resource);

// A node's allocatable in slots (node->allocatable as plain fields).
struct AllocatableSlots {
  Milli value[NUM_SLOTS] = {};
  bool has[NUM_SLOTS] = {};  // the node lists the resource
};

// What the scheduler knows of one node: the node and the pods bound or reserved on it.
// add_pod / remove_pod keep `requested`, `non_zero_requested` and the caches below in step
// (they are the only way to change `pods`, as before: `requested` relies on it too).
struct NodeInfo {
  const Node* node = nullptr;
  std::vector<const Pod*> pods;
  ResourceList requested;           // sum of the pods' effective requests
  ResourceList non_zero_requested;  // same, with kube's defaults for pods that request no cpu/memory

  // Caches, kept by add_pod / remove_pod (equal to the map entries of the same names).
  Milli requested_slot[NUM_SLOTS] = {};  // = requested[name] (SLOT_PODS unused: pods.size())
  Milli non_zero_cpu = 0, non_zero_memory = 0;  // = non_zero_requested[cpu / memory]
  // (Every member added here has a default initializer: NodeInfo{&node, {}, {}, {}} stays
  // warning-free.) Pods with pod (anti-)affinity, and with required anti-affinity (upstream's
  // PodsWithAffinity / PodsWithRequiredAntiAffinity): InterPodAffinity walks these
  // instead of every pod when the incoming pod has no terms of its own.
  std::vector<const Pod*> pods_with_affinity{};
  std::vector<const Pod*> pods_with_required_anti_affinity{};
  // The lowest priority among `pods` (INT_MAX for none), so that preemption passes over
  // nodes with nothing to evict without reading every pod. Pod priorities are fixed at
  // admission (immutable in Kubernetes too); add_pod lowers it, remove_pod of a pod at
  // the minimum makes lowest_priority() count again.
  int lowest_priority() const;
  mutable int lowest_priority_ = std::numeric_limits<int>::max();
  mutable bool lowest_priority_stale_ = false;
  // Pods that came through add_pod / remove_pod. When `pods` was filled otherwise (say by
  // aggregate initialization), the pod caches above are not trusted and users fall back
  // to reading `pods`.
  std::size_t pods_tracked_ = 0;
  bool pod_caches_current() const { return pods_tracked_ == pods.size(); }

  const std::string& name() const { return node->meta.name; }
  Milli allocatable(const std::string& resource) const;
  Milli requested_of(const std::string& resource) const;
  void add_pod(const Pod& pod);
  void remove_pod(const Pod& pod);

  // node->allocatable in slots. Cached: within a scheduling cycle (Profile::schedule) the
  // cache is checked once per node; outside one, on every call. Checking compares the map
  // with the copy taken when the cache was filled, entry by entry, so a node whose
  // allocatable changed (or a NodeInfo pointed at another node) is re-read.
  const AllocatableSlots& allocatable_slots() const {
    if (cycle_ == 0 || alloc_checked_in_ != cycle_) refresh_allocatable();
    return alloc_;
  }

  // Profile::schedule marks its cycles so that caches are checked once per cycle (no node
  // changes during one). 0: not in a cycle. begin_cycle returns the mark to restore.
  static std::uint64_t begin_cycle() {
    const std::uint64_t outer = cycle_;
    cycle_ = ++cycles_;
    return outer;
  }
  static void end_cycle(std::uint64_t outer) { cycle_ = outer; }

  // Internal (public only so that NodeInfo stays an aggregate: NodeInfo{&node, {}, {}, {}}).
  void refresh_allocatable() const;
  mutable AllocatableSlots alloc_{};
  mutable const Node* alloc_node_ = nullptr;
  mutable std::vector<std::pair<std::string, Milli>> alloc_copy_{};  // what alloc_ was read from
  mutable std::uint64_t alloc_checked_in_ = 0;
  // The simulator runs one thread per process (sweeps run processes), so plain statics.
  static inline std::uint64_t cycle_ = 0, cycles_ = 0;
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
  // Index of the named node in `nodes`, -1 if none.
  int index_of(const std::string& node_name) const;
  // Every pod on every node (for affinity and spreading): calls f(pod, node_info).
  void for_each_pod(const std::function<void(const Pod&, const NodeInfo&)>& f) const;

  // Whether no two nodes share a name (as the manifests and the cluster guarantee); with
  // duplicates find() answers the first, which callers holding a NodeInfo may need to know.
  bool names_unique() const;

  // Internal (public only so that Snapshot stays an aggregate).
  // find() by hashing instead of a scan of every node. `nodes` is public, so the index is
  // rebuilt when the vector moved or changed size, and a hit is checked against the name;
  // a miss rebuilds it once before answering "none". Copies start without an index.
  struct NameIndex {
    std::unordered_map<std::string, int> at;
    const NodeInfo* data = nullptr;
    std::size_t size = 0;
    NameIndex() = default;
    NameIndex(const NameIndex&) {}
    NameIndex& operator=(const NameIndex&) {
      at.clear();
      data = nullptr;
      size = 0;
      return *this;
    }
  };
  mutable NameIndex index_{};
  void refresh_index() const;
};

class StateData {
 public:
  virtual ~StateData() = default;
};

class CycleState {
 public:
  // A handful of entries per cycle: a flat vector searched by key beats a std::map, and
  // keys passed as string literals make no std::string. The exact type is checked with
  // typeid (a pointer compare) before falling back to dynamic_cast.
  template <class T>
  T* get(std::string_view plugin) const {
    for (const auto& [key, data] : data_)
      if (key == plugin) {
        StateData* d = data.get();
        if (!d) return nullptr;
        if (typeid(*d) == typeid(T)) return static_cast<T*>(d);
        return dynamic_cast<T*>(d);
      }
    return nullptr;
  }
  void put(std::string_view plugin, std::unique_ptr<StateData> data) {
    for (auto& [key, value] : data_)
      if (key == plugin) {
        value = std::move(data);
        return;
      }
    data_.emplace_back(std::string(plugin), std::move(data));
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<StateData>>> data_;
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
