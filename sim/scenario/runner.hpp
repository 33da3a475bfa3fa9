// Runs a validated scenario and writes its outputs: summary.json, jobs.csv,
// rejections.csv, utilisation.csv.
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>

#include "scenario/scenario.hpp"

namespace aifsim::scenario {

struct RunOptions {
  bool quiet = false;  // no warnings on stderr
};

// Returns the summary (also written to out_dir/summary.json).
nlohmann::json run_scenario(const Scenario& scenario, const std::filesystem::path& out_dir, const RunOptions& options = {});

// The machine a batch scenario runs on: capacity in units and processors per node.
struct BatchMachine {
  std::string description;
  int capacity = 0;
  int procs_per_node = 1;
};
BatchMachine resolve_batch_machine(const Scenario& scenario);

}  // namespace aifsim::scenario
