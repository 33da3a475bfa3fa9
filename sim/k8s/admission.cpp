#include "k8s/admission.hpp"

#include "core/error.hpp"

namespace aifsim::k8s {

Pod from_template(const PodTemplate& t, const std::string& name, const std::string& ns, const std::string& owner_kind,
                  const std::string& owner_name, const std::string& source) {
  Pod p;
  p.meta = t.meta;
  p.meta.name = name;
  p.meta.namespace_ = ns;
  p.meta.source = source;
  p.spec = t.spec;
  p.owner_kind = owner_kind;
  p.owner_name = owner_name;
  auto group = p.meta.labels.find("scheduling.x-k8s.io/pod-group");
  if (group != p.meta.labels.end()) p.pod_group = group->second;
  return p;
}

std::string full_name(const Pod& p) { return p.meta.namespace_ + "/" + p.meta.name; }

PriorityResolver::PriorityResolver(const std::vector<PriorityClass>& classes) : classes_(classes) {
  for (const auto& pc : classes_)
    if (pc.global_default) {
      if (global_default_)
        throw InputError(pc.name, "two PriorityClasses are globalDefault (" + global_default_->name + " and " + pc.name + ")");
      global_default_ = &pc;
    }
}

void PriorityResolver::apply(Pod& pod) const {
  const PriorityClass* pc = nullptr;
  if (!pod.spec.priority_class_name.empty()) {
    for (const auto& c : classes_)
      if (c.name == pod.spec.priority_class_name) pc = &c;
    if (!pc && pod.spec.priority_class_name != "system-cluster-critical" &&
        pod.spec.priority_class_name != "system-node-critical")
      throw InputError(pod.meta.source, "pod " + full_name(pod) + ": no PriorityClass named \"" +
                                            pod.spec.priority_class_name + "\"");
    if (!pc)  // built-in classes
      pod.spec.priority = pod.spec.priority_class_name == "system-node-critical" ? 2000001000 : 2000000000;
  } else {
    pc = global_default_;
  }
  if (pc) {
    pod.spec.priority = pc->value;
    if (pod.spec.preemption_policy == "PreemptLowerPriority") pod.spec.preemption_policy = pc->preemption_policy;
  } else if (!pod.spec.priority) {
    pod.spec.priority = 0;
  }
}

std::vector<Pod> admit(const ManifestSet& m) {
  std::vector<Pod> pods = m.pods;
  for (const auto& d : m.deployments)
    for (int i = 0; i < d.replicas; ++i)
      pods.push_back(from_template(d.pod_template, d.meta.name + "-" + std::to_string(i), d.meta.namespace_, "Deployment",
                                   d.meta.name, d.meta.source));
  for (const auto& rs : m.replica_sets)
    for (int i = 0; i < rs.replicas; ++i)
      pods.push_back(from_template(rs.pod_template, rs.meta.name + "-" + std::to_string(i), rs.meta.namespace_,
                                   "ReplicaSet", rs.meta.name, rs.meta.source));
  for (const auto& j : m.jobs) {
    int n = j.completions ? std::min(j.parallelism, *j.completions) : j.parallelism;
    for (int i = 0; i < n; ++i)
      pods.push_back(from_template(j.pod_template, j.meta.name + "-" + std::to_string(i), j.meta.namespace_, "Job",
                                   j.meta.name, j.meta.source));
  }
  PriorityResolver resolver(m.priority_classes);
  for (auto& pod : pods) resolver.apply(pod);
  return pods;
}

}  // namespace aifsim::k8s
