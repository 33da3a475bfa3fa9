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
std::string full_name(const Pod& pod);  // "namespace/name"

}  // namespace aifsim::k8s
