// NodeName (after kube-scheduler's pkg/scheduler/framework/plugins/nodename/node_name.go):
// a pod that names a node in spec.nodeName may only go to that node; a pod that names
// none may go anywhere. The rejection is unresolvable: preempting pods elsewhere cannot
// make another node's name match.
//
// Example: a pod pinned to "gpu-3" passes on gpu-3 and fails on gpu-1 and gpu-2 with
// "node(s) didn't match the requested node name"; an unpinned pod passes on all three.
#include <memory>
#include <string>

#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formula, defined at the bottom.
bool node_name_fits(const std::string& pod_node_name, const std::string& node_name);

namespace {

constexpr const char* NAME = "NodeName";
constexpr const char* ERR_REASON = "node(s) didn't match the requested node name";

class NodeName final : public FilterPlugin {
 public:
  // Upstream takes no arguments; any key given is a mistake worth reporting.
  NodeName(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader(args.is_null() ? empty : args, where).finish();
  }

  std::string name() const override { return NAME; }

  Status filter(const CycleState& /*state*/, const Pod& pod, const NodeInfo& node) const override {
    if (node_name_fits(pod.spec.node_name, node.name())) return Status::success();
    return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_REASON);
  }
};

}  // namespace

std::unique_ptr<Plugin> make_node_name(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<NodeName>(args, where);
}

// Fits: an empty spec.nodeName places no constraint. E.g. ("", "a") -> true, ("a", "a") ->
// true, ("a", "b") -> false.
bool node_name_fits(const std::string& pod_node_name, const std::string& node_name) {
  return pod_node_name.empty() || pod_node_name == node_name;
}

}  // namespace aifsim::k8s::sched
