// The records of a Kubernetes cluster run turned into files: pods.csv (one row per pod
// with its phase times and terminal state), k8s_jobs.csv, k8s_utilisation.csv (GPUs
// allocated and ready per node pool over time), hpa.csv (every autoscaler sync), and the
// `kubernetes` block of summary.json.
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>

#include "k8s/cluster.hpp"

namespace aifsim::metrics {

// `extra_trace_events` (Chrome trace events) join trace.json: the factory's node
// ownership and batch allocation counters.
nlohmann::json write_cluster_outputs(const k8s::ClusterResult& result, const std::filesystem::path& out_dir,
                                     const nlohmann::json& extra_trace_events = nlohmann::json::array());

}  // namespace aifsim::metrics
