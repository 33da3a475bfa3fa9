// A scheduling cycle as data: the nodes evaluated, which plugin filtered each out and why,
// and every scoring plugin's raw, normalized and weighted score on the others.
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

#include "k8s/scheduler.hpp"

namespace aifsim::k8s {

// `time_s`: when the attempt was made, for a cluster over time (none at a single instant).
nlohmann::json explain_cycle(const sched::CycleResult& cycle, int attempt, std::optional<double> time_s = std::nullopt);

}  // namespace aifsim::k8s
