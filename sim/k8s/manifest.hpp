// Kubernetes manifests: multi-document YAML files, as kubectl apply takes them, read into
// the API objects of objects.hpp. Kinds aifsim does not simulate are listed as skipped;
// unknown fields of known kinds are errors naming file:line:column and the field path;
// quantities are parsed exactly.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "k8s/objects.hpp"

namespace aifsim::k8s {

struct ManifestSet {
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  std::vector<PriorityClass> priority_classes;
  std::vector<Deployment> deployments;
  std::vector<ReplicaSet> replica_sets;
  std::vector<Job> jobs;
  std::vector<HorizontalPodAutoscaler> hpas;
  std::vector<PodGroup> pod_groups;
  std::vector<ClusterQueue> cluster_queues;
  std::vector<LocalQueue> local_queues;
  std::vector<std::string> skipped;  // "file:line: Service/web (kind not simulated)"
};

// Appends the objects of one file (YAML, one or more documents separated by ---; a
// `kind: List` document's items are read too). Throws InputError on malformed input.
void load_manifests(const std::filesystem::path& file, ManifestSet& into);
ManifestSet load_manifests(const std::filesystem::path& file);
// The same from text already in memory (`where` names it in messages).
void parse_manifests(const std::string& text, const std::string& where, ManifestSet& into);

}  // namespace aifsim::k8s
