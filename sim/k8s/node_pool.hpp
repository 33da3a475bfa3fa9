// Kubernetes nodes made from a platform's compute nodes: one Node per platform node,
// its pool the node group's prefix, its allocatable resources the node type's cores,
// memory and GPUs (whole GPUs as nvidia.com/gpu, or MIG instances as
// nvidia.com/mig-<profile> when the pool's GPUs are partitioned), its labels those the
// GPU operator and the cloud provider set. Manifest Node objects of the same name add
// labels and taints or mark the node unschedulable.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "k8s/objects.hpp"
#include "platform/platform.hpp"

namespace aifsim::k8s {

// MIG instances per GPU, by profile ("1g.10gb" -> 7).
using MigLayout = std::map<std::string, int>;

struct PoolNode {
  Node node;
  std::string pool;  // the platform group's prefix
  std::size_t host = 0;  // engine host index (= platform node index)
  int gpus = 0;          // physical GPUs
  std::string gpu_model;
  MigLayout mig;         // empty: whole GPUs
};

// The compute and memory slices of a MIG profile on the given GPU model; throws
// InputError (naming `where`) for an unknown profile or a GPU without MIG.
struct MigProfile {
  int compute_slices = 0, memory_slices = 0, max_instances = 0;
};
MigProfile mig_profile(const std::string& gpu_model, const std::string& profile, const std::string& where);
// Checks a layout fits one GPU (at most 7 compute and 8 memory slices, per-profile limits).
void validate_mig_layout(const std::string& gpu_model, const MigLayout& layout, const std::string& where);
// A GPU's worth of each allocated MIG resource (its compute slices over 7), for utilisation.
double gpu_equivalents(const ResourceList& requests);

std::vector<PoolNode> nodes_from_platform(const platform::PlatformSpec& spec,
                                          const std::map<std::string, MigLayout>& mig_by_pool,
                                          const std::vector<Node>& manifest_nodes);

}  // namespace aifsim::k8s
