// Admission of a manifest set's pods: controllers (Deployments, ReplicaSets, Jobs) are
// expanded into their pods, and every pod's priority is resolved from its PriorityClass
// (or the global default, or 0), as the API server's Priority admission plugin does.
#pragma once
#include <string>
#include <vector>

#include "k8s/manifest.hpp"

namespace aifsim::k8s {

// Unknown PriorityClass names and two global defaults are input errors.
std::vector<Pod> admit(const ManifestSet& manifests);

// The Priority admission plugin: spec.priority from the pod's PriorityClass, or the
// global default, or 0. The classes must outlive the resolver.
class PriorityResolver {
 public:
  explicit PriorityResolver(const std::vector<PriorityClass>& classes);
  void apply(Pod& pod) const;

 private:
  const std::vector<PriorityClass>& classes_;
  const PriorityClass* global_default_ = nullptr;
};

// A controller's pod: the template's metadata and spec under `name`, owned by the controller.
Pod from_template(const PodTemplate& t, const std::string& name, const std::string& ns, const std::string& owner_kind,
                  const std::string& owner_name, const std::string& source);
std::string full_name(const Pod& pod);  // "namespace/name"

}  // namespace aifsim::k8s
