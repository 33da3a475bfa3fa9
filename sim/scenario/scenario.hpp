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

#include "factory/factory.hpp"
#include "hpc/job.hpp"
#include "k8s/cluster.hpp"
#include "serving/service.hpp"
#include "workload/request_generator.hpp"

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

// Where a service's requests come from: a trace (Azure, BurstGPT, Mooncake formats), or a
// generator given as its JSON (validated by the workload module).
struct RequestsSpec {
  std::optional<std::filesystem::path> trace;
  double rate_scale = 1;
  std::optional<double> start_s, end_s;
  std::optional<std::uint64_t> max_requests;
  std::optional<workload::GeneratorSpec> generator;
};

// An inference service on its own: replicas of one model behind a router.
struct ServingSpec {
  std::filesystem::path model_card, gpu_profile;
  int tp = 1;
  serving::ServiceConfig service;
  std::optional<serving::DisaggregationConfig> disaggregation;  // prefill and decode pools
  RequestsSpec requests;
  double ttft_slo_s = 0, tpot_slo_s = 0;
  std::string requests_csv = "auto";  // auto (up to 100 000 requests) | always | never
  double sample_interval_s = 1;       // replicas.csv: each replica's batch, queue and KV usage; 0: none
};

// An inference service inside a Kubernetes scenario: its replicas are a Deployment's
// ready pods (model, router, engine settings, requests and SLOs as in `serving`).
struct ClusterServiceSpec {
  std::string name, deployment;
  ServingSpec serving;  // gpu_profile unused (the lifecycle's), replicas unused (the pods')
};

// A Kubernetes cluster on the platform's nodes: manifests, scheduler profile, lifecycle
// costs, load on the services, and a timeline of changes.
struct KubernetesSpec {
  std::vector<std::filesystem::path> manifests;
  std::optional<std::filesystem::path> scheduler_config;
  std::optional<std::filesystem::path> gpu_profile;
  k8s::ClusterConfig cluster;  // profile and services filled at run time
  std::vector<ClusterServiceSpec> services;
};

// Batch and Kubernetes on one machine: the broker's policy, the initial split (the last
// k8s_nodes platform nodes start as Kubernetes'), the moves' costs, and how long to run.
// Serverless HPC: a service's function-like calls (an agent's tool call, a batch-inference
// request) become short batch jobs; their latency through the batch queue is measured like
// a request's.
struct ServerlessSpec {
  std::string name = "calls";
  double rate_rps = 0;  // Poisson arrivals
  int units = 1;        // batch units per call
  double runtime_s = 0;
  double duration_s = 0;  // no call after this (0: the factory's duration)
};

struct FactorySpec {
  factory::FactoryConfig config;  // initial_k8s filled at run time from k8s_nodes
  int k8s_nodes = 0;
  double duration_s = 0;
  std::optional<ServerlessSpec> serverless;
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
  std::optional<ServingSpec> serving;
  std::optional<FactorySpec> factory;
  double slowdown_tau_s = 10.0;
  nlohmann::json effective;  // the scenario as run, after overrides
};

// "a.b.c=value": value is JSON if it parses as JSON, else a string.
void apply_override(nlohmann::json& doc, const std::string& assignment);

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});
// A request generator from its JSON (lengths: a number, {"uniform": [min, max]},
// {"lognormal": {"mu", "sigma", "min", "max"}}, {"empirical": TRACE, "column": ...} or
// {"fit": TRACE}); files are relative to base_dir.
workload::GeneratorSpec parse_generator(const nlohmann::json& doc, const std::string& file, const std::string& path,
                                        const std::filesystem::path& base_dir);
Scenario parse_scenario(const nlohmann::json& doc, const std::string& file, const std::filesystem::path& base_dir);

}  // namespace aifsim::scenario
