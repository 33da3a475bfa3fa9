// Machine descriptions: platform JSON -> PlatformSpec (plain values, validated once).
// The fabric is turned into a graph by topology.hpp.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aifsim::platform {

struct NodeType {
  std::string name;
  int cpu_cores = 1;
  double core_speed_flops = 1e9;  // per core, for compute modelled on the host
  double memory_bytes = 0;
  std::string gpu_model;  // "" when the node has no GPU
  int gpus = 0;
  int nvlink_domain_gpus = 0;  // GPUs sharing one NVLink/NVSwitch domain
  double nic_bw_Bps = 0;       // aggregate of the node's fabric ports
  std::optional<double> idle_power_w;  // whole node; unknown unless the file states it
  std::optional<double> peak_power_w;
  std::optional<double> gpu_idle_power_w;  // per GPU
  std::optional<double> gpu_busy_power_w;
};

struct NodeGroup {
  std::string prefix;  // nodes are named prefix0001, prefix0002, ...
  std::string type;
  int count = 0;
};

// A host on the fabric that is not a compute node: a container registry or a storage
// system, attached to the top switch by one link of `bw_Bps` (per direction), its
// aggregate bandwidth.
struct ServiceHost {
  std::string name;
  std::string kind;  // registry | storage
  double bw_Bps = 0;
};

enum class FabricKind { SINGLE_SWITCH, FAT_TREE };

struct FabricSpec {
  FabricKind kind = FabricKind::SINGLE_SWITCH;
  int levels = 2;             // fat-tree: 2 (leaf, spine) or 3 (leaf, pod, core)
  int nodes_per_leaf = 0;     // fat-tree
  int leaves_per_pod = 0;     // 3-level fat-tree
  // Down-bandwidth over up-bandwidth at each switch level above the nodes (1 = non-blocking).
  std::vector<double> oversubscription;
  double link_latency_s = 0;
};

struct PlatformSpec {
  std::string name;
  std::string description;
  std::string source;  // where the figures come from
  std::vector<NodeType> node_types;
  std::vector<NodeGroup> groups;
  FabricSpec fabric;
  std::vector<ServiceHost> services;

  const NodeType& type_of(const NodeGroup& group) const;
  int node_count() const;
  long long total_cores() const;
  long long total_gpus() const;
};

PlatformSpec load_platform(const std::filesystem::path& file);
PlatformSpec parse_platform(const nlohmann::json& json, const std::string& file);

// A homogeneous machine behind one switch: what an SWF trace describes by its header.
PlatformSpec make_uniform_platform(const std::string& name, int nodes, int cores_per_node);

}  // namespace aifsim::platform
