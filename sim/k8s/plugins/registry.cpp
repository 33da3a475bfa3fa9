// Every scheduler plugin, by its kube-scheduler name. Adding a plugin is one file and
// one line here.
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

const std::map<std::string, PluginFactory>& plugin_registry() {
  static const std::map<std::string, PluginFactory> registry = {
      {"NodeName", &make_node_name},
      {"NodeUnschedulable", &make_node_unschedulable},
      {"NodeResourcesFit", &make_node_resources_fit},
      {"NodeResourcesBalancedAllocation", &make_balanced_allocation},
      {"TaintToleration", &make_taint_toleration},
      {"NodeAffinity", &make_node_affinity},
      {"ImageLocality", &make_image_locality},
      {"InterPodAffinity", &make_inter_pod_affinity},
      {"PodTopologySpread", &make_pod_topology_spread},
  };
  return registry;
}

}  // namespace aifsim::k8s::sched
