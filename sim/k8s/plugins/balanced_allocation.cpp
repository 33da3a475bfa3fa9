// NodeResourcesBalancedAllocation (after kube-scheduler's pkg/scheduler/framework/plugins/
// noderesources/balanced_allocation.go and resource_allocation.go as released up to
// v1.35; args defaults and validation from pkg/scheduler/apis/config/v1/defaults.go and
// validation/validation_pluginargs.go): favours nodes whose resources would be used in
// even proportions once the pod is there, so that no resource is exhausted while others
// idle.
//
// For each configured resource (default cpu and memory) the fraction (requested by the
// node's pods + by this pod) / allocatable, capped at 1; resources the node lacks, and
// extended resources the pod does not request, are left out. Score =
// (1 - std) x 100, truncated, std being the population standard deviation of the
// fractions (|f1 - f2| / 2 for two, 0 for fewer). As upstream (useRequested) it counts
// the actual requests, without the 100m / 200 MiB defaults that NodeResourcesFit adds,
// and it skips best-effort pods, requesting none of the resources (kubernetes#129138:
// the defaults made such pods pile onto one node).
//
// Example: node 4 cpu / 8 Gi with 1 cpu / 4 Gi requested, pod 1 cpu / 0: cpu 2/4 = 0.5,
// memory 4/8 = 0.5, std 0, score 100. With the pod asking 1 cpu / 2 Gi instead:
// 0.5 and 0.75, std 0.125, score 87.
//
// Not followed: kubernetes#135573 (merged for v1.36), which scores the change in balance
// rather than the balance with the pod.
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

// The pure formula, defined at the bottom.
std::int64_t balanced_resource_score(const std::vector<std::int64_t>& requested, const std::vector<std::int64_t>& allocatable);

namespace {

constexpr const char* NAME = "NodeResourcesBalancedAllocation";
constexpr const char* PRE_SCORE_KEY = "PreScoreNodeResourcesBalancedAllocation";
constexpr const char* EPHEMERAL_STORAGE = "ephemeral-storage";

// Resources kube tracks beyond cpu, memory and ephemeral-storage (extended resources such
// as nvidia.com/gpu, hugepages, kubernetes.io/ prefixed names).
bool is_scalar(const std::string& name) {
  const bool extended = name.find('/') != std::string::npos && name.find("kubernetes.io/") == std::string::npos &&
                        name.rfind("requests.", 0) != 0;
  return extended || name.rfind("hugepages-", 0) == 0 || name.rfind("attachable-volumes-", 0) == 0 ||
         name.find("kubernetes.io/") != std::string::npos;
}

std::int64_t balanced_score(const std::int64_t* requested, const std::int64_t* allocatable, std::size_t n);

// A configured resource with what Score needs to know of it, found once.
struct Resource {
  std::string name;
  int slot = -1;         // NodeInfo slot (not pods, which Score leaves out), -1: by name
  bool scalar = false;   // is_scalar(name)
  bool tracked = false;  // cpu, memory, ephemeral-storage or scalar
};

Resource resolve(const std::string& r) {
  const bool scalar = is_scalar(r);
  const bool tracked = r == CPU || r == MEMORY || r == EPHEMERAL_STORAGE || scalar;
  const int slot = resource_slot(r);
  return {r, slot == SLOT_PODS ? -1 : slot, scalar, tracked};
}

struct PreScoreState final : StateData {
  std::vector<Milli> pod_requests;  // in the order of the configured resources
};

class BalancedAllocation final : public PreScorePlugin, public ScorePlugin {
 public:
  BalancedAllocation(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader r(args.is_null() ? empty : args, where);
    if (r.has("resources")) {
      const auto& items = r.array("resources");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < items.size(); ++i) {
        JsonReader e(items[i], where, r.path_of("resources") + "[" + std::to_string(i) + "]");
        const std::string resource = e.string("name");
        if (resource.empty()) e.fail("name", "expected a resource name such as \"cpu\" or \"nvidia.com/gpu\"");
        if (!seen.insert(resource).second) e.fail("name", "duplicate resource \"" + resource + "\"");
        // Weights are accepted for symmetry with NodeResourcesFit but must be 1 (unset or 0
        // defaults to 1): the standard deviation treats resources alike.
        const std::int64_t weight = e.integer_or("weight", 0);
        if (weight != 0 && weight != 1) e.fail("weight", "must be 1, got " + std::to_string(weight));
        e.finish();
        resources_.push_back(resolve(resource));
      }
    }
    if (resources_.empty()) resources_ = {resolve(CPU), resolve(MEMORY)};
    r.finish();
  }

  std::string name() const override { return NAME; }

  Status pre_score(CycleState& state, const Pod& pod, const Snapshot& /*snapshot*/,
                   const std::vector<const NodeInfo*>& /*feasible*/) const override {
    auto s = std::make_unique<PreScoreState>();
    s->pod_requests = pod_requests(pod);
    bool best_effort = true;
    for (Milli r : s->pod_requests) best_effort = best_effort && r == 0;
    if (best_effort) return Status{Code::SKIP, NAME, {}};
    state.put(PRE_SCORE_KEY, std::move(s));
    return Status::success();
  }

  std::int64_t score(const CycleState& state, const Pod& pod, const NodeInfo& node) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    std::vector<Milli> computed;
    const std::vector<Milli>& requests = s ? s->pod_requests : (computed = pod_requests(pod));
    const AllocatableSlots& alloc = node.allocatable_slots();
    // On the stack for the usual few resources (the slots equal the maps' entries).
    constexpr std::size_t INLINE = 8;
    std::int64_t requested_inline[INLINE] = {}, allocatable_inline[INLINE] = {};
    std::vector<std::int64_t> requested_heap, allocatable_heap;
    std::int64_t* requested = requested_inline;
    std::int64_t* allocatable = allocatable_inline;
    if (resources_.size() > INLINE) {
      requested_heap.assign(resources_.size(), 0);
      allocatable_heap.assign(resources_.size(), 0);
      requested = requested_heap.data();
      allocatable = allocatable_heap.data();
    }
    for (std::size_t i = 0; i < resources_.size(); ++i) {
      const Resource& r = resources_[i];
      // calculateResourceAllocatableRequest with useRequested: (0, 0) leaves r out.
      if (requests[i] == 0 && r.scalar) continue;
      if (!r.tracked) continue;
      if (r.slot >= 0) {
        if (!alloc.has[r.slot]) continue;
        allocatable[i] = alloc.value[r.slot];
        requested[i] = node.requested_slot[r.slot] + requests[i];
      } else {
        if (!node.node->allocatable.count(r.name)) continue;
        allocatable[i] = node.allocatable(r.name);
        requested[i] = node.requested_of(r.name) + requests[i];
      }
    }
    return balanced_score(requested, allocatable, resources_.size());
  }

 private:
  std::vector<Milli> pod_requests(const Pod& pod) const {
    const ResourceList effective = effective_requests(pod.spec);
    std::vector<Milli> out;
    for (const auto& r : resources_) {
      auto it = effective.find(r.name);
      out.push_back(it == effective.end() ? 0 : it->second);
    }
    return out;
  }

  std::vector<Resource> resources_;
};

}  // namespace

std::unique_ptr<Plugin> make_balanced_allocation(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<BalancedAllocation>(args, where);
}

// balancedResourceScorer: fractions requested / allocatable (allocatable 0 left out,
// capped at 1), std = |f1 - f2| / 2 for two, the population standard deviation for more,
// 0 for fewer; (1 - std) x 100 truncated. E.g. fractions 0.5, 0.75: std 0.125, 87.
std::int64_t balanced_resource_score(const std::vector<std::int64_t>& requested, const std::vector<std::int64_t>& allocatable) {
  return balanced_score(requested.data(), allocatable.data(), std::min(requested.size(), allocatable.size()));
}

namespace {
// The same arithmetic as before on arrays, the fractions kept on the stack when few.
std::int64_t balanced_score(const std::int64_t* requested, const std::int64_t* allocatable, std::size_t n) {
  constexpr std::size_t INLINE = 8;
  double fractions_inline[INLINE];
  std::vector<double> fractions_heap;
  double* fractions = fractions_inline;
  if (n > INLINE) {
    fractions_heap.resize(n);
    fractions = fractions_heap.data();
  }
  std::size_t count = 0;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (allocatable[i] == 0) continue;
    const double f = std::min(1.0, static_cast<double>(requested[i]) / static_cast<double>(allocatable[i]));
    fractions[count++] = f;
    total += f;
  }
  double std_dev = 0;
  if (count == 2) {
    std_dev = std::abs((fractions[0] - fractions[1]) / 2);
  } else if (count > 2) {
    const double mean = total / static_cast<double>(count);
    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += (fractions[i] - mean) * (fractions[i] - mean);
    std_dev = std::sqrt(sum / static_cast<double>(count));
  }
  return static_cast<std::int64_t>((1 - std_dev) * static_cast<double>(MAX_NODE_SCORE));
}
}  // namespace

}  // namespace aifsim::k8s::sched
