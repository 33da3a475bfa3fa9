#include "k8s/node_pool.hpp"

#include <cstdio>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::k8s {

namespace {

struct MigRow {
  const char* profile;
  int compute, memory, max_instances;
};
// NVIDIA MIG user guide, supported profiles (facts.md §2): H100 80 GB has 7 compute and
// 8 memory slices of 10 GB; H200 141 GB the same slices of about 18 GB.
constexpr MigRow H100_80GB[] = {{"1g.10gb", 1, 1, 7}, {"1g.20gb", 1, 2, 4}, {"2g.20gb", 2, 2, 3},
                                {"3g.40gb", 3, 4, 2}, {"4g.40gb", 4, 4, 1}, {"7g.80gb", 7, 8, 1}};
constexpr MigRow H200_141GB[] = {{"1g.18gb", 1, 1, 7}, {"1g.35gb", 1, 2, 4}, {"2g.35gb", 2, 2, 3},
                                 {"3g.71gb", 3, 4, 2}, {"4g.71gb", 4, 4, 1}, {"7g.141gb", 7, 8, 1}};
constexpr const char* MIG_PREFIX = "nvidia.com/mig-";

template <std::size_t N>
const MigRow* find_row(const MigRow (&table)[N], const std::string& profile) {
  for (const auto& row : table)
    if (profile == row.profile) return &row;
  return nullptr;
}

template <std::size_t N>
std::vector<std::string> names(const MigRow (&table)[N]) {
  std::vector<std::string> out;
  for (const auto& row : table) out.push_back(row.profile);
  return out;
}

std::string suggestion(const std::string& name, const std::vector<std::string>& valid) {
  std::string near = nearest_name(name, valid);
  return near.empty() ? "" : " (did you mean \"" + near + "\"?)";
}

std::string node_name(const std::string& prefix, int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d", index);
  return prefix + buf;
}

}  // namespace

MigProfile mig_profile(const std::string& gpu_model, const std::string& profile, const std::string& where) {
  const bool h100 = gpu_model.find("H100") != std::string::npos;
  const bool h200 = gpu_model.find("H200") != std::string::npos;
  if (!h100 && !h200)
    throw InputError(where, "MIG profiles are known for H100 and H200 GPUs, not " + gpu_model);
  const MigRow* row = h100 ? find_row(H100_80GB, profile) : find_row(H200_141GB, profile);
  if (!row) {
    auto valid = h100 ? names(H100_80GB) : names(H200_141GB);
    throw InputError(where, "unknown MIG profile \"" + profile + "\" for " + gpu_model + ": expected " +
                                join_alternatives(valid) + suggestion(profile, valid));
  }
  return MigProfile{row->compute, row->memory, row->max_instances};
}

void validate_mig_layout(const std::string& gpu_model, const MigLayout& layout, const std::string& where) {
  int compute = 0, memory = 0;
  for (const auto& [profile, count] : layout) {
    MigProfile p = mig_profile(gpu_model, profile, where);
    if (count < 0 || count > p.max_instances)
      throw InputError(where, "MIG profile " + profile + ": at most " + std::to_string(p.max_instances) +
                                  " instances per GPU, got " + std::to_string(count));
    compute += count * p.compute_slices;
    memory += count * p.memory_slices;
  }
  if (compute > 7 || memory > 8)
    throw InputError(where, "MIG layout needs " + std::to_string(compute) + " compute and " + std::to_string(memory) +
                                " memory slices; a GPU has 7 and 8");
}

double gpu_equivalents(const ResourceList& requests) {
  double gpus = 0;
  for (const auto& [name, amount] : requests) {
    if (name == GPU) gpus += amount / 1000.0;
    else if (name.rfind(MIG_PREFIX, 0) == 0) {
      // "nvidia.com/mig-3g.40gb": the compute slices are the digit before 'g'.
      const std::string profile = name.substr(std::string(MIG_PREFIX).size());
      const int slices = profile.empty() ? 0 : profile[0] - '0';
      if (slices > 0 && slices <= 7) gpus += amount / 1000.0 * slices / 7.0;
    }
  }
  return gpus;
}

std::vector<PoolNode> nodes_from_platform(const platform::PlatformSpec& spec,
                                          const std::map<std::string, MigLayout>& mig_by_pool,
                                          const std::vector<Node>& manifest_nodes) {
  std::vector<PoolNode> out;
  std::map<std::string, std::size_t> index;
  for (const auto& [pool, layout] : mig_by_pool) {
    bool found = false;
    for (const auto& g : spec.groups) found |= g.prefix == pool;
    if (!found) throw InputError(spec.name, "MIG layout for unknown node pool \"" + pool + "\"");
  }
  std::size_t host = 0;
  for (const auto& group : spec.groups) {
    const auto& type = spec.type_of(group);
    MigLayout mig;
    if (auto it = mig_by_pool.find(group.prefix); it != mig_by_pool.end()) {
      if (type.gpus == 0) throw InputError(spec.name, "MIG layout for pool " + group.prefix + " whose nodes have no GPU");
      validate_mig_layout(type.gpu_model, it->second, "MIG layout of pool " + group.prefix);
      mig = it->second;
    }
    for (int i = 1; i <= group.count; ++i, ++host) {
      PoolNode p;
      p.pool = group.prefix;
      p.host = host;
      p.gpus = type.gpus;
      p.gpu_model = type.gpu_model;
      p.mig = mig;
      Node& n = p.node;
      n.meta.name = node_name(group.prefix, i);
      n.meta.labels = {{"kubernetes.io/hostname", n.meta.name},
                       {"kubernetes.io/os", "linux"},
                       {"node.kubernetes.io/instance-type", type.name},
                       {"aifsim.io/pool", group.prefix}};
      n.allocatable[CPU] = static_cast<Milli>(type.cpu_cores) * 1000;
      n.allocatable[MEMORY] = static_cast<Milli>(type.memory_bytes) * 1000;
      n.allocatable[PODS] = 110 * 1000;  // kubelet's default maxPods
      if (type.gpus > 0) {
        // The GPU operator's labels: the product, the count, and the MIG strategy.
        n.meta.labels["nvidia.com/gpu.product"] = type.gpu_model;
        n.meta.labels["nvidia.com/gpu.count"] = std::to_string(type.gpus);
        if (mig.empty()) {
          n.allocatable[GPU] = static_cast<Milli>(type.gpus) * 1000;
        } else {
          n.meta.labels["nvidia.com/mig.strategy"] = "mixed";
          for (const auto& [profile, count] : mig)
            if (count > 0) n.allocatable[MIG_PREFIX + profile] = static_cast<Milli>(count) * type.gpus * 1000;
        }
      }
      n.capacity = n.allocatable;
      index[n.meta.name] = out.size();
      out.push_back(std::move(p));
    }
  }
  for (const auto& m : manifest_nodes) {
    auto it = index.find(m.meta.name);
    if (it == index.end())
      throw InputError(m.meta.source, "Node " + m.meta.name + " is not a node of platform " + spec.name);
    Node& n = out[it->second].node;
    for (const auto& [k, v] : m.meta.labels) n.meta.labels[k] = v;
    n.taints.insert(n.taints.end(), m.taints.begin(), m.taints.end());
    n.unschedulable = n.unschedulable || m.unschedulable;
    n.images = m.images;
  }
  return out;
}

}  // namespace aifsim::k8s
