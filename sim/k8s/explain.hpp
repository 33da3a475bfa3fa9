// A scheduling cycle as data: the nodes evaluated, which plugin filtered each out and why,
// and every scoring plugin's raw, normalized and weighted score on the others.
#pragma once
#include <nlohmann/json.hpp>

#include "k8s/scheduler.hpp"

namespace aifsim::k8s {

nlohmann::json explain_cycle(const sched::CycleResult& cycle, int attempt, double time_s);

}  // namespace aifsim::k8s
