// Places a manifest set's pods on its nodes with the scheduler, as a cluster would at
// one instant: controllers' pods are created (Deployments, ReplicaSets, Jobs), priorities
// are resolved from PriorityClasses at admission, and the scheduling queue runs until no
// pod can move (preemption evicts lower-priority pods; evicted pods end as `preempted`).
// No time passes: the pod lifecycle and the controllers over time live in the cluster
// simulation, not here.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8s/admission.hpp"
#include "k8s/manifest.hpp"
#include "k8s/scheduler.hpp"

namespace aifsim::k8s {

struct PodOutcome {
  std::string name, namespace_, owner;
  int priority = 0;
  std::string node;   // empty unless scheduled (or scheduled before being preempted)
  std::string state;  // scheduled | unschedulable | preempted
  int attempts = 0;
  std::string reason;  // last unschedulable message, or who preempted it
};

struct PlacementResult {
  std::vector<PodOutcome> pods;  // in creation order
  std::map<std::string, int> unschedulable_reasons;  // reason -> pods
  int attempts = 0, preemptions = 0;
  nlohmann::json explanation;  // for the pod asked about, every attempt
};

PlacementResult place(const ManifestSet& manifests, const sched::ProfileConfig& profile, std::uint64_t seed,
                      const std::string& explain_pod = "");

}  // namespace aifsim::k8s
