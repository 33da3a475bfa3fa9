// NodeResourcesFit (after kube-scheduler's pkg/scheduler/framework/plugins/noderesources/
// fit.go, resource_allocation.go, least_allocated.go, most_allocated.go and
// requested_to_capacity_ratio.go; helper.BuildBrokenLinearFunction from plugins/helper/
// shape_score.go; defaults and validation of NodeResourcesFitArgs from
// pkg/scheduler/apis/config/v1/defaults.go and validation/validation_pluginargs.go).
//
// Filter: the pod's effective requests (computed once in PreFilter) must fit what the
// node's pods leave of its allocatable, resource by resource; every shortfall is a reason
// ("Too many pods", "Insufficient cpu", "Insufficient nvidia.com/gpu", ...), and the
// status is Unschedulable, which preemption may resolve. Extended resources listed in
// ignoredResources, or whose domain is in ignoredResourceGroups, are not checked.
//
// Score, per configured resource (default cpu and memory, weight 1): requested = what the
// node's pods request + what the pod requests, where cpu and memory count a container that
// requests none as 100m / 200 MiB (so best-effort pods still occupy a node);
// extended resources the pod does not request, and resources the node lacks, are left out.
//   LeastAllocated: (capacity - requested) x 100 / capacity, 0 when over capacity;
//   MostAllocated:  requested x 100 / capacity, requested capped at capacity;
// both averaged with the weights in integer arithmetic.
//   RequestedToCapacityRatio: the shape (utilization 0-100 -> score 0-10, scaled x10) at
//   requested x 100 / capacity (at 100 when over capacity); resources scoring 0 are left
//   out of the weighted average, which is rounded.
//
// Example (LeastAllocated): node 4 cpu / 8 Gi with pods requesting 1 cpu / 2 Gi, pod
// 500m / 0: cpu (4000 - 1500) x 100 / 4000 = 62; memory (8 - 2 - 0.1953125) Gi x 100 / 8 Gi
// = 72; (62 + 72) / 2 = 67.
//
// Simplifications: no pod overhead, sidecar (restartable init) containers, pod-level
// resources or DRA-backed extended resources, which the object model does not carry.
// A node that does not report "pods" allocatable is not limited in pod count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formulas, defined at the bottom. A shape is (utilization, score) points with
// the score already on the 0-100 scale.
std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity);
std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity);
std::int64_t broken_linear_score(const std::vector<std::pair<std::int64_t, std::int64_t>>& shape, std::int64_t utilization);

namespace {

constexpr const char* NAME = "NodeResourcesFit";
constexpr const char* PRE_FILTER_KEY = "PreFilterNodeResourcesFit";
constexpr const char* PRE_SCORE_KEY = "PreScoreNodeResourcesFit";
constexpr const char* EPHEMERAL_STORAGE = "ephemeral-storage";
constexpr std::int64_t MAX_CUSTOM_PRIORITY_SCORE = 10;  // the shape's score scale
constexpr std::int64_t MAX_UTILIZATION = 100;

// Quantities are thousandths, so memory x 100 can pass 2^63 on nodes with many TiB where
// upstream, counting bytes, does not; the products are taken in 128 bits.
__extension__ typedef __int128 Wide;

std::int64_t mul_div(std::int64_t a, std::int64_t b, std::int64_t c) {
  return static_cast<std::int64_t>(static_cast<Wide>(a) * b / c);
}

enum class Strategy { LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO };

struct ResourceSpec {
  std::string name;
  std::int64_t weight = 1;
};

// Extended resources: names with a domain outside kubernetes.io (nvidia.com/gpu).
bool is_extended(const std::string& name) {
  return name.find('/') != std::string::npos && name.find("kubernetes.io/") == std::string::npos &&
         name.rfind("requests.", 0) != 0;
}

// Resources kube tracks beyond cpu, memory and ephemeral-storage; other names are ignored.
bool is_scalar(const std::string& name) {
  return is_extended(name) || name.rfind("hugepages-", 0) == 0 || name.rfind("attachable-volumes-", 0) == 0 ||
         name.find("kubernetes.io/") != std::string::npos;
}

Milli value_of(const ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? 0 : it->second;
}

// calculatePodResourceRequest with NonMissingContainerRequests: per container, a zero cpu
// or memory request counts as the default; app containers add up, init containers take
// the max.
Milli non_zero_pod_request(const PodSpec& spec, const std::string& resource) {
  const Milli fallback = resource == CPU ? DEFAULT_MILLI_CPU_REQUEST : resource == MEMORY ? DEFAULT_MEMORY_REQUEST_MILLI : 0;
  auto of = [&](const Container& c) {
    const Milli v = value_of(c.requests, resource);
    return v == 0 ? fallback : v;
  };
  Milli total = 0;
  for (const auto& c : spec.containers) total += of(c);
  for (const auto& c : spec.init_containers) total = std::max(total, of(c));
  return total;
}

// A resource to check beyond cpu, memory and ephemeral-storage, with its NodeInfo slot
// (-1: looked up by name).
struct ScalarRequest {
  std::string name;
  Milli request = 0;
  int slot = -1;
};

struct PreFilterState final : StateData {
  ResourceList requests;
  // From `requests`, for Filter on every node: cpu, memory, ephemeral-storage, and the
  // scalar resources Filter checks, in name order (the order of the reasons).
  Milli basic[3] = {};
  std::vector<ScalarRequest> scalars;
};

// The configured score resources with what Score needs to know of each, found once.
struct ScoreResource {
  std::string name;
  std::int64_t weight = 1;
  int slot = -1;        // NodeInfo slot, -1: looked up by name
  bool scalar = false;  // is_scalar(name)
};

struct PreScoreState final : StateData {
  std::vector<Milli> pod_requests;  // in the order of the configured resources
};

class NodeResourcesFit final : public PreFilterPlugin, public FilterPlugin, public PreScorePlugin, public ScorePlugin {
 public:
  NodeResourcesFit(const nlohmann::json& args, const std::string& where);

  std::string name() const override { return NAME; }

  Status pre_filter(CycleState& state, const Pod& pod, const Snapshot& /*snapshot*/) const override {
    auto s = std::make_unique<PreFilterState>();
    s->requests = effective_requests(pod.spec);
    s->basic[0] = value_of(s->requests, CPU);
    s->basic[1] = value_of(s->requests, MEMORY);
    s->basic[2] = value_of(s->requests, EPHEMERAL_STORAGE);
    for (const auto& [r, request] : s->requests) {  // by name: Go's map order is random
      if (request == 0 || !is_scalar(r) || ignored(r)) continue;
      s->scalars.push_back({r, request, resource_slot(r)});
    }
    state.put(PRE_FILTER_KEY, std::move(s));
    return Status::success();
  }

  Status filter(const CycleState& state, const Pod& /*pod*/, const NodeInfo& node) const override {
    const auto* s = state.get<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status::make(Code::ERROR, NAME, "no PreFilter state (PreFilter was not run)");
    // Slots hold what the maps hold (0 when absent), read without a lookup per resource.
    const AllocatableSlots& alloc = node.allocatable_slots();
    std::vector<std::string> reasons;
    if (alloc.has[SLOT_PODS]) {
      const std::int64_t allowed = (alloc.value[SLOT_PODS] + 999) / 1000;  // Quantity.Value() rounds up
      if (static_cast<std::int64_t>(node.pods.size()) + 1 > allowed) reasons.push_back("Too many pods");
    }
    static constexpr const char* BASIC[3] = {CPU, MEMORY, EPHEMERAL_STORAGE};
    static constexpr int BASIC_SLOT[3] = {SLOT_CPU, SLOT_MEMORY, SLOT_EPHEMERAL_STORAGE};
    for (int i = 0; i < 3; ++i) {
      const Milli request = s->basic[i];
      if (request > 0 && request > alloc.value[BASIC_SLOT[i]] - node.requested_slot[BASIC_SLOT[i]])
        reasons.push_back(std::string("Insufficient ") + BASIC[i]);
    }
    for (const auto& r : s->scalars) {
      const bool insufficient = r.slot >= 0 ? r.request > alloc.value[r.slot] - node.requested_slot[r.slot]
                                            : r.request > node.allocatable(r.name) - node.requested_of(r.name);
      if (insufficient) reasons.push_back("Insufficient " + r.name);
    }
    if (reasons.empty()) return Status::success();
    return Status{Code::UNSCHEDULABLE, NAME, std::move(reasons)};
  }

  Status pre_score(CycleState& state, const Pod& pod, const Snapshot& /*snapshot*/,
                   const std::vector<const NodeInfo*>& /*feasible*/) const override {
    auto s = std::make_unique<PreScoreState>();
    s->pod_requests = pod_requests(pod);
    state.put(PRE_SCORE_KEY, std::move(s));
    return Status::success();
  }

  std::int64_t score(const CycleState& state, const Pod& pod, const NodeInfo& node) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    std::vector<Milli> computed;
    const std::vector<Milli>& requests = s ? s->pod_requests : (computed = pod_requests(pod));
    const AllocatableSlots& alloc = node.allocatable_slots();
    std::int64_t node_score = 0, weight_sum = 0;
    for (std::size_t i = 0; i < resources_.size(); ++i) {
      const auto [allocatable, requested] = allocatable_and_requested(node, alloc, score_resources_[i], requests[i]);
      if (allocatable == 0) continue;
      std::int64_t resource_score = 0;
      switch (strategy_) {
        case Strategy::LEAST_ALLOCATED: resource_score = least_requested_score(requested, allocatable); break;
        case Strategy::MOST_ALLOCATED: resource_score = most_requested_score(requested, allocatable); break;
        case Strategy::REQUESTED_TO_CAPACITY_RATIO:
          resource_score = broken_linear_score(
              shape_, requested > allocatable ? MAX_UTILIZATION : mul_div(requested, MAX_UTILIZATION, allocatable));
          if (resource_score <= 0) continue;  // upstream leaves zero scores out of the average
          break;
      }
      node_score += resource_score * resources_[i].weight;
      weight_sum += resources_[i].weight;
    }
    if (weight_sum == 0) return 0;
    if (strategy_ == Strategy::REQUESTED_TO_CAPACITY_RATIO)
      return std::llround(static_cast<double>(node_score) / static_cast<double>(weight_sum));
    return node_score / weight_sum;
  }

 private:
  bool ignored(const std::string& resource) const {
    if (!is_extended(resource)) return false;
    return ignored_resources_.count(resource) || ignored_groups_.count(resource.substr(0, resource.find('/')));
  }

  std::vector<Milli> pod_requests(const Pod& pod) const {
    const ResourceList effective = effective_requests(pod.spec);
    std::vector<Milli> out;
    for (const auto& r : resources_)
      out.push_back(r.name == CPU || r.name == MEMORY ? non_zero_pod_request(pod.spec, r.name) : value_of(effective, r.name));
    return out;
  }

  // calculateResourceAllocatableRequest: (0, 0) leaves the resource out of the score.
  // cpu and memory count non-zero requests; the slots equal the maps' entries.
  static std::pair<Milli, Milli> allocatable_and_requested(const NodeInfo& node, const AllocatableSlots& alloc,
                                                           const ScoreResource& r, Milli pod) {
    if (pod == 0 && r.scalar) return {0, 0};
    if (r.slot == SLOT_CPU) return {alloc.value[SLOT_CPU], node.non_zero_cpu + pod};
    if (r.slot == SLOT_MEMORY) return {alloc.value[SLOT_MEMORY], node.non_zero_memory + pod};
    if (r.slot == SLOT_EPHEMERAL_STORAGE)
      return {alloc.value[SLOT_EPHEMERAL_STORAGE], node.requested_slot[SLOT_EPHEMERAL_STORAGE] + pod};
    if (!r.scalar) return {0, 0};
    if (r.slot >= 0) return alloc.has[r.slot] ? std::pair<Milli, Milli>{alloc.value[r.slot], node.requested_slot[r.slot] + pod}
                                              : std::pair<Milli, Milli>{0, 0};
    if (node.node->allocatable.count(r.name)) return {node.allocatable(r.name), node.requested_of(r.name) + pod};
    return {0, 0};
  }

  Strategy strategy_ = Strategy::LEAST_ALLOCATED;
  std::vector<ResourceSpec> resources_;
  std::vector<ScoreResource> score_resources_;  // resources_, resolved
  std::vector<std::pair<std::int64_t, std::int64_t>> shape_;  // scores scaled to 0-100
  std::set<std::string> ignored_resources_, ignored_groups_;
};

std::vector<ResourceSpec> read_resources(JsonReader& strategy, const std::string& where) {
  std::vector<ResourceSpec> out;
  if (!strategy.has("resources")) return out;
  const auto& items = strategy.array("resources");
  for (std::size_t i = 0; i < items.size(); ++i) {
    JsonReader e(items[i], where, strategy.path_of("resources") + "[" + std::to_string(i) + "]");
    ResourceSpec r;
    r.name = e.string("name");
    if (r.name.empty()) e.fail("name", "expected a resource name such as \"cpu\" or \"nvidia.com/gpu\"");
    r.weight = e.integer_or("weight", 0);
    if (r.weight == 0) r.weight = 1;  // unset or 0 defaults to 1
    if (r.weight < 1 || r.weight > 100)
      e.fail("weight", "resource weight of " + r.name + " not in valid range (0, 100], got " + std::to_string(r.weight));
    e.finish();
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::pair<std::int64_t, std::int64_t>> read_shape(JsonReader& ratio, const std::string& where) {
  const auto& points = ratio.array("shape");
  if (points.empty()) ratio.fail("shape", "expected at least one point");
  std::vector<std::pair<std::int64_t, std::int64_t>> shape;
  for (std::size_t i = 0; i < points.size(); ++i) {
    JsonReader p(points[i], where, ratio.path_of("shape") + "[" + std::to_string(i) + "]");
    const std::int64_t u = p.integer("utilization"), s = p.integer("score");
    if (u < 0 || u > MAX_UTILIZATION) p.fail("utilization", "not in valid range [0, 100], got " + std::to_string(u));
    if (!shape.empty() && u <= shape.back().first)
      p.fail("utilization", "values must be sorted in increasing order, got " + std::to_string(u) + " after " +
                                std::to_string(shape.back().first));
    if (s < 0 || s > MAX_CUSTOM_PRIORITY_SCORE) p.fail("score", "not in valid range [0, 10], got " + std::to_string(s));
    p.finish();
    shape.emplace_back(u, s * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE));
  }
  return shape;
}

std::set<std::string> read_names(JsonReader& r, const std::string& key, bool group) {
  std::set<std::string> out;
  if (!r.has(key)) return out;
  for (const auto& v : r.array(key)) {
    if (!v.is_string() || v.get<std::string>().empty()) r.fail(key, "expected non-empty strings, got " + v.dump());
    const std::string name = v.get<std::string>();
    if (group && name.find('/') != std::string::npos)
      r.fail(key, "resource group name can't contain '/', got \"" + name + "\"");
    out.insert(name);
  }
  return out;
}

NodeResourcesFit::NodeResourcesFit(const nlohmann::json& args, const std::string& where) {
  const nlohmann::json empty = nlohmann::json::object();
  JsonReader r(args.is_null() ? empty : args, where);
  if (r.has("scoringStrategy")) {
    JsonReader s = r.object("scoringStrategy");
    const std::string type = s.choice("type", {"LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"});
    strategy_ = type == "LeastAllocated"  ? Strategy::LEAST_ALLOCATED
                : type == "MostAllocated" ? Strategy::MOST_ALLOCATED
                                          : Strategy::REQUESTED_TO_CAPACITY_RATIO;
    resources_ = read_resources(s, where);
    if (s.has("requestedToCapacityRatio")) {
      JsonReader ratio = s.object("requestedToCapacityRatio");
      shape_ = read_shape(ratio, where);
      ratio.finish();
    }
    if (strategy_ == Strategy::REQUESTED_TO_CAPACITY_RATIO && shape_.empty())
      s.fail("requestedToCapacityRatio", "expected {\"shape\": [{\"utilization\": 0, \"score\": 0}, ...]} for type "
                                         "RequestedToCapacityRatio");
    s.finish();
  }
  if (resources_.empty()) resources_ = {{CPU, 1}, {MEMORY, 1}};
  for (const auto& spec : resources_)
    score_resources_.push_back({spec.name, spec.weight, resource_slot(spec.name), is_scalar(spec.name)});
  ignored_resources_ = read_names(r, "ignoredResources", false);
  ignored_groups_ = read_names(r, "ignoredResourceGroups", true);
  r.finish();
}

}  // namespace

std::unique_ptr<Plugin> make_node_resources_fit(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<NodeResourcesFit>(args, where);
}

// leastRequestedScore: the unused share on 0-100, integer. E.g. 1500 of 4000:
// (4000 - 1500) x 100 / 4000 = 62; 0 for a zero capacity or an overcommitted node.
std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity) {
  if (capacity == 0 || requested > capacity) return 0;
  return mul_div(capacity - requested, MAX_NODE_SCORE, capacity);
}

// mostRequestedScore: the used share on 0-100, integer, requested capped at capacity
// (default requests of best-effort pods may overshoot). E.g. 1500 of 4000: 37.
std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity) {
  if (capacity == 0) return 0;
  return mul_div(std::min(requested, capacity), MAX_NODE_SCORE, capacity);
}

// BuildBrokenLinearFunction: the first point's score below it, the last's above, linear
// (integer) in between. E.g. shape {(0, 0), (50, 100), (100, 20)} at 75:
// 100 + (20 - 100) x (75 - 50) / (100 - 50) = 100 - 40 = 60.
std::int64_t broken_linear_score(const std::vector<std::pair<std::int64_t, std::int64_t>>& shape, std::int64_t utilization) {
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (utilization > shape[i].first) continue;
    if (i == 0) return shape[0].second;
    const auto [u0, s0] = shape[i - 1];
    const auto [u1, s1] = shape[i];
    return s0 + (s1 - s0) * (utilization - u0) / (u1 - u0);
  }
  return shape.empty() ? 0 : shape.back().second;
}

}  // namespace aifsim::k8s::sched
