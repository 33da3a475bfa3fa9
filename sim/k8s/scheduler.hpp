// The scheduler's runtime: a profile of plugins built from a KubeSchedulerConfiguration,
// one scheduling cycle per pod (filter with percentageOfNodesToScore, score, weighted
// sum, host selection among ties by a seeded random draw as kube-scheduler does), and
// DefaultPreemption as the PostFilter. Every decision can be explained: which nodes were
// filtered out by which plugin and why, and every plugin's score on every node.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8s/framework.hpp"

namespace aifsim::k8s::sched {

struct ProfileConfig {
  std::string scheduler_name = "default-scheduler";
  int percentage_of_nodes_to_score = 0;      // 0: kube's adaptive default
  std::vector<std::string> plugins;          // enabled, in order
  std::map<std::string, int> score_weights;  // per scoring plugin
  std::map<std::string, nlohmann::json> plugin_args;
  bool preemption = true;                    // DefaultPreemption enabled
  int min_candidate_nodes_percentage = 10;   // DefaultPreemption args
  int min_candidate_nodes_absolute = 100;
};

// kube-scheduler's default profile (v1.28+): plugins and score weights.
ProfileConfig default_profile();
// A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1), YAML or JSON; one profile.
ProfileConfig load_scheduler_config(const std::filesystem::path& file);
ProfileConfig parse_scheduler_config(const nlohmann::json& doc, const std::string& where);

struct PluginScore {
  std::string plugin;
  std::int64_t raw = 0, normalized = 0, weight = 0;
};

struct NodeExplanation {
  std::string node;
  std::optional<Status> filtered_out;  // why the node was infeasible
  std::vector<PluginScore> scores;     // when it was scored
  std::int64_t total = 0;
};

struct Preemption {
  std::string node;
  std::vector<const Pod*> victims;
};

struct CycleResult {
  std::optional<std::string> node;     // chosen node
  Status status;                       // why not, when no node
  std::optional<Preemption> preemption;  // from PostFilter, when no node fit
  int nodes_evaluated = 0, feasible = 0;
  std::vector<NodeExplanation> explanation;  // filled when explain is on
};

class Profile {
 public:
  Profile(const ProfileConfig& config, std::uint64_t seed);
  const ProfileConfig& config() const { return config_; }

  // One cycle for `pod` on `snapshot` (not modified). With `explain`, the result lists
  // every node evaluated with its filter outcome or its per-plugin scores.
  CycleResult schedule(const Pod& pod, const Snapshot& snapshot, bool explain = false);

  // Nodes to find feasible before scoring (kube's numFeasibleNodesToFind).
  int nodes_to_find(int all_nodes) const;

 private:
  Status run_pre_filter(CycleState& state, const Pod& pod, const Snapshot& snapshot,
                        std::vector<bool>& skip_filter) const;
  Status run_filters(const CycleState& state, const Pod& pod, const NodeInfo& node,
                     const std::vector<bool>& skip_filter) const;
  bool fits_on(const Pod& pod, const Snapshot& snapshot, const std::string& node) const;
  std::optional<Preemption> preempt(const Pod& pod, const Snapshot& snapshot,
                                    const std::vector<std::pair<const NodeInfo*, Status>>& failed);

  ProfileConfig config_;
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<const PreFilterPlugin*> pre_filter_;
  std::vector<const FilterPlugin*> filter_;
  std::vector<const PreScorePlugin*> pre_score_;
  std::vector<std::pair<const ScorePlugin*, std::int64_t>> score_;
  // For each PreFilter / PreScore plugin, the Filter / Score plugins of the same name (which
  // its SKIP turns off), found once here rather than by comparing names every cycle.
  std::vector<std::vector<std::size_t>> pre_filter_skips_, pre_score_skips_;
  std::mt19937_64 rng_;
  std::size_t next_start_node_ = 0;
};

int pod_priority(const Pod& pod);

}  // namespace aifsim::k8s::sched
