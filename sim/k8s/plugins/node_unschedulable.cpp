// NodeUnschedulable (after kube-scheduler's pkg/scheduler/framework/plugins/
// nodeunschedulable/node_unschedulable.go): a cordoned node (spec.unschedulable, as
// `kubectl cordon` sets it) takes no new pods, except those that tolerate the taint
// node.kubernetes.io/unschedulable:NoSchedule, which is how DaemonSet pods get onto
// cordoned nodes. The rejection is unresolvable: preemption cannot uncordon a node.
//
// Example: on a cordoned node, a pod without tolerations fails "node(s) were
// unschedulable"; a pod with {key: node.kubernetes.io/unschedulable, operator: Exists,
// effect: NoSchedule} passes, and so does one with {operator: Exists} (tolerates all).
#include <memory>
#include <string>
#include <vector>

#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formula, defined at the bottom.
bool node_unschedulable_admits(bool node_unschedulable, const std::vector<Toleration>& tolerations);

namespace {

constexpr const char* NAME = "NodeUnschedulable";
constexpr const char* ERR_REASON = "node(s) were unschedulable";
constexpr const char* TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

class NodeUnschedulable final : public FilterPlugin {
 public:
  // Upstream takes no arguments; any key given is a mistake worth reporting.
  NodeUnschedulable(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader(args.is_null() ? empty : args, where).finish();
  }

  std::string name() const override { return NAME; }

  Status filter(const CycleState& /*state*/, const Pod& pod, const NodeInfo& node) const override {
    if (node_unschedulable_admits(node.node->unschedulable, pod.spec.tolerations)) return Status::success();
    return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_REASON);
  }
};

}  // namespace

std::unique_ptr<Plugin> make_node_unschedulable(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<NodeUnschedulable>(args, where);
}

// A schedulable node admits every pod; a cordoned one only pods tolerating
// node.kubernetes.io/unschedulable:NoSchedule (value empty, as the node lifecycle
// controller sets it).
bool node_unschedulable_admits(bool node_unschedulable, const std::vector<Toleration>& tolerations) {
  if (!node_unschedulable) return true;
  const Taint cordon{TAINT_NODE_UNSCHEDULABLE, "", TaintEffect::NO_SCHEDULE};
  for (const auto& t : tolerations)
    if (tolerates(t, cordon)) return true;
  return false;
}

}  // namespace aifsim::k8s::sched
