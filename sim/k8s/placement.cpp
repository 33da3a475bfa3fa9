#include "k8s/placement.hpp"

#include "k8s/admission.hpp"
#include "k8s/explain.hpp"

#include <algorithm>
#include <deque>

#include "core/error.hpp"

namespace aifsim::k8s {

PlacementResult place(const ManifestSet& manifests, const sched::ProfileConfig& config, std::uint64_t seed,
                      const std::string& explain_pod) {
  std::vector<Pod> pods = admit(manifests);
  std::vector<Node> nodes = manifests.nodes;
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.meta.name < b.meta.name; });
  sched::Snapshot snapshot;
  for (const auto& n : nodes) {
    snapshot.nodes.push_back(sched::NodeInfo{&n, {}, {}, {}});
    for (const auto& image : n.images) ++snapshot.nodes_with_image[image.name];
  }
  sched::Profile profile(config, seed);
  PlacementResult result;
  result.pods.resize(pods.size());
  for (std::size_t i = 0; i < pods.size(); ++i)
    result.pods[i] = PodOutcome{pods[i].meta.name, pods[i].meta.namespace_,
                                pods[i].owner_kind.empty() ? "" : pods[i].owner_kind + "/" + pods[i].owner_name,
                                sched::pod_priority(pods[i]), "", "pending", 0, ""};
  // A pod whose spec.nodeName is set never reaches the scheduler: the kubelet of that
  // node admits it if its requests fit (else it fails with OutOf<resource>).
  std::vector<std::size_t> queue;  // active queue: priority, then creation order
  for (std::size_t i = 0; i < pods.size(); ++i) {
    if (!pods[i].spec.node_name.empty()) {
      sched::NodeInfo* n = snapshot.find(pods[i].spec.node_name);
      std::string refused;
      if (!n) refused = "node " + pods[i].spec.node_name + " does not exist";
      else
        for (const auto& [resource, amount] : effective_requests(pods[i].spec))
          if (amount > 0 && n->allocatable(resource) - n->requested_of(resource) < amount && refused.empty())
            refused = "OutOf" + resource;
      if (refused.empty()) {
        n->add_pod(pods[i]);
        result.pods[i].node = n->name();
        result.pods[i].state = "scheduled";
      } else {
        result.pods[i].state = "unschedulable";
        result.pods[i].reason = refused;
        ++result.unschedulable_reasons[refused];
      }
      continue;
    }
    if (pods[i].spec.scheduler_name != config.scheduler_name) {
      result.pods[i].state = "unschedulable";
      result.pods[i].reason = "schedulerName " + pods[i].spec.scheduler_name + " is not " + config.scheduler_name;
      ++result.unschedulable_reasons[result.pods[i].reason];
      continue;
    }
    queue.push_back(i);
  }
  auto by_priority = [&](std::size_t a, std::size_t b) {
    int pa = sched::pod_priority(pods[a]), pb = sched::pod_priority(pods[b]);
    return pa != pb ? pa > pb : a < b;
  };
  std::stable_sort(queue.begin(), queue.end(), by_priority);
  std::deque<std::size_t> active(queue.begin(), queue.end());
  std::vector<std::size_t> unschedulable;
  // The snapshot's name index (built once: the nodes do not change here), not a scan.
  auto index_of_node = [&](const std::string& name) { return snapshot.index_of(name); };
  while (!active.empty()) {
    std::size_t i = active.front();
    active.pop_front();
    ++result.attempts;
    ++result.pods[i].attempts;
    const bool explain = !explain_pod.empty() && (explain_pod == full_name(pods[i]) || explain_pod == pods[i].meta.name);
    sched::CycleResult cycle = profile.schedule(pods[i], snapshot, explain);
    if (explain) result.explanation.push_back(explain_cycle(cycle, result.pods[i].attempts));
    if (cycle.node) {
      int k = index_of_node(*cycle.node);
      AIFSIM_CHECK(k >= 0, "scheduler chose an unknown node");
      snapshot.nodes[k].add_pod(pods[i]);
      result.pods[i].node = *cycle.node;
      result.pods[i].state = "scheduled";
      result.pods[i].reason.clear();
      continue;
    }
    result.pods[i].reason = cycle.status.reasons.empty() ? "" : cycle.status.reasons.front();
    if (cycle.preemption) {
      ++result.preemptions;
      int k = index_of_node(cycle.preemption->node);
      for (const Pod* victim : cycle.preemption->victims) {
        std::size_t v = static_cast<std::size_t>(victim - pods.data());
        snapshot.nodes[k].remove_pod(*victim);
        result.pods[v].state = "preempted";
        result.pods[v].reason = "preempted by " + full_name(pods[i]);
      }
      // Capacity came back: every waiting pod gets another try, the preemptor first.
      active.push_front(i);
      for (std::size_t u : unschedulable) active.push_back(u);
      unschedulable.clear();
      std::stable_sort(active.begin(), active.end(), by_priority);
      continue;
    }
    unschedulable.push_back(i);
  }
  for (std::size_t u : unschedulable) {
    result.pods[u].state = "unschedulable";
    ++result.unschedulable_reasons[result.pods[u].reason];
  }
  return result;
}

}  // namespace aifsim::k8s
