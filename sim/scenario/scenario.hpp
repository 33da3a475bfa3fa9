// Scenario files: what to simulate, validated once into plain values. Paths inside a
// scenario are relative to the scenario file. Overrides (--set a.b=c) apply to the JSON
// before validation, so they are checked exactly like the file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hpc/job.hpp"
#include "k8s/cluster.hpp"

namespace aifsim::scenario {

struct BatchWorkloadSpec {
  std::filesystem::path swf;
  std::optional<std::uint64_t> max_jobs;
};

struct BatchSpec {
  std::string scheduler = "easy";
  hpc::ResourceUnit unit = hpc::ResourceUnit::PROCS;
  bool kill_at_limit = true;
  bool strict = false;
  std::optional<int> capacity;  // units; default: the platform's (or the trace header's)
  BatchWorkloadSpec workload;
};

// A Kubernetes cluster on the platform's nodes: manifests, scheduler profile, lifecycle
// costs, load on the services, and a timeline of changes.
struct KubernetesSpec {
  std::vector<std::filesystem::path> manifests;
  std::optional<std::filesystem::path> scheduler_config;
  std::optional<std::filesystem::path> gpu_profile;
  k8s::ClusterConfig cluster;  // profile filled at run time from scheduler_config
};

struct Scenario {
  std::string file;  // where it came from ("" when built in memory)
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  std::optional<std::filesystem::path> platform_file;
  BatchSpec batch;
  bool has_batch = true;
  std::optional<KubernetesSpec> kubernetes;
  double slowdown_tau_s = 10.0;
  nlohmann::json effective;  // the scenario as run, after overrides
};

// "a.b.c=value": value is JSON if it parses as JSON, else a string.
void apply_override(nlohmann::json& doc, const std::string& assignment);

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});
Scenario parse_scenario(const nlohmann::json& doc, const std::string& file, const std::filesystem::path& base_dir);

}  // namespace aifsim::scenario
