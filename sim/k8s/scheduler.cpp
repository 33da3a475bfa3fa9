#include "k8s/scheduler.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/text.hpp"
#include "k8s/yaml_json.hpp"

namespace aifsim::k8s::sched {

namespace {
// kube-scheduler (pkg/scheduler/schedule_one.go): below this many nodes every node is
// evaluated; otherwise a percentage, adaptive by default, of at least this many.
constexpr int MIN_FEASIBLE_NODES_TO_FIND = 100;
constexpr int MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
constexpr int BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50;
}  // namespace

int pod_priority(const Pod& pod) { return pod.spec.priority.value_or(0); }

ProfileConfig default_profile() {
  ProfileConfig p;
  // Filter order as in kube's default plugin set; a node's first failing filter is its reason.
  p.plugins = {"NodeUnschedulable", "NodeName",         "TaintToleration",  "NodeAffinity",
               "NodeResourcesFit",  "PodTopologySpread", "InterPodAffinity", "NodeResourcesBalancedAllocation",
               "ImageLocality"};
  p.score_weights = {{"TaintToleration", 3},   {"NodeAffinity", 2}, {"PodTopologySpread", 2},
                     {"InterPodAffinity", 2},  {"NodeResourcesFit", 1}, {"NodeResourcesBalancedAllocation", 1},
                     {"ImageLocality", 1}};
  return p;
}

ProfileConfig parse_scheduler_config(const nlohmann::json& doc, const std::string& where) {
  JsonReader r(doc, where);
  std::string api = r.string("apiVersion");
  if (api != "kubescheduler.config.k8s.io/v1") r.fail("apiVersion", "expected kubescheduler.config.k8s.io/v1, got " + api);
  if (r.string("kind") != "KubeSchedulerConfiguration") r.fail("kind", "expected KubeSchedulerConfiguration");
  ProfileConfig p = default_profile();
  auto percentage = [&](JsonReader& reader) {
    auto v = reader.integer("percentageOfNodesToScore");
    if (v < 0 || v > 100) reader.fail("percentageOfNodesToScore", "expected 0..100");
    return static_cast<int>(v);
  };
  if (r.has("percentageOfNodesToScore")) p.percentage_of_nodes_to_score = percentage(r);
  std::vector<std::string> known;
  for (const auto& [name, factory] : plugin_registry()) known.push_back(name);
  known.push_back("DefaultPreemption");
  known.push_back("PrioritySort");
  known.push_back("DefaultBinder");
  if (r.has("profiles")) {
    const auto& profiles = r.array("profiles");
    if (profiles.size() != 1) r.fail("profiles", "exactly one profile is supported");
    JsonReader pr(profiles[0], where, "$.profiles[0]");
    p.scheduler_name = pr.string_or("schedulerName", p.scheduler_name);
    if (pr.has("percentageOfNodesToScore")) p.percentage_of_nodes_to_score = percentage(pr);
    if (pr.has("plugins")) {
      JsonReader plugins = pr.object("plugins");
      for (const char* point : {"multiPoint", "preFilter", "filter", "postFilter", "preScore", "score", "reserve",
                                "permit", "bind", "queueSort"}) {
        if (!plugins.has(point)) continue;
        JsonReader set = plugins.object(point);
        auto check_name = [&](const std::string& name, const std::string& path) {
          if (name == "*" || std::find(known.begin(), known.end(), name) != known.end()) return;
          std::string near = nearest_name(name, known);
          throw InputError(where + ": at " + path, "unknown plugin \"" + name + "\"" +
                                                       (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
        };
        if (set.has("disabled")) {
          const auto& disabled = set.array("disabled");
          for (std::size_t i = 0; i < disabled.size(); ++i) {
            JsonReader d(disabled[i], where, set.path_of("disabled") + "[" + std::to_string(i) + "]");
            std::string name = d.string("name");
            d.finish();
            check_name(name, d.path_of("name"));
            bool whole = std::string(point) == "multiPoint";
            if (name == "DefaultPreemption" && (whole || std::string(point) == "postFilter")) {
              p.preemption = false;
            } else if (whole && name == "*") {
              p.plugins.clear();
              p.preemption = false;
            } else if (whole) {
              p.plugins.erase(std::remove(p.plugins.begin(), p.plugins.end(), name), p.plugins.end());
            } else if (std::string(point) == "score") {
              if (name == "*") p.score_weights.clear();
              else p.score_weights.erase(name);
            } else {
              throw InputError(d.where("name"), std::string("disabling a plugin at ") + point +
                                                    " only is not supported; disable it under multiPoint");
            }
          }
        }
        if (set.has("enabled")) {
          const auto& enabled = set.array("enabled");
          for (std::size_t i = 0; i < enabled.size(); ++i) {
            JsonReader e(enabled[i], where, set.path_of("enabled") + "[" + std::to_string(i) + "]");
            std::string name = e.string("name");
            check_name(name, e.path_of("name"));
            if (e.has("weight")) {
              auto w = e.integer("weight");
              if (w < 1 || w > 100) e.fail("weight", "expected 1..100");
              p.score_weights[name] = static_cast<int>(w);
            } else if (std::string(point) == "score" || std::string(point) == "multiPoint") {
              p.score_weights.emplace(name, 1);
            }
            e.finish();
            if (name == "DefaultPreemption") p.preemption = true;
            else if (std::find(p.plugins.begin(), p.plugins.end(), name) == p.plugins.end() &&
                     plugin_registry().count(name))
              p.plugins.push_back(name);
          }
        }
        set.finish();
      }
      plugins.finish();
    }
    if (pr.has("pluginConfig")) {
      const auto& configs = pr.array("pluginConfig");
      for (std::size_t i = 0; i < configs.size(); ++i) {
        JsonReader c(configs[i], where, "$.profiles[0].pluginConfig[" + std::to_string(i) + "]");
        std::string name = c.string("name");
        const auto& args = c.raw("args");
        c.finish();
        if (name == "DefaultPreemption") {
          JsonReader a(args, where, c.path_of("args"));
          p.min_candidate_nodes_percentage = static_cast<int>(a.integer_or("minCandidateNodesPercentage", 10));
          p.min_candidate_nodes_absolute = static_cast<int>(a.integer_or("minCandidateNodesAbsolute", 100));
          if (p.min_candidate_nodes_percentage < 0 || p.min_candidate_nodes_percentage > 100)
            a.fail("minCandidateNodesPercentage", "expected 0..100");
          if (p.min_candidate_nodes_absolute < 0) a.fail("minCandidateNodesAbsolute", "expected >= 0");
          a.finish();
          continue;
        }
        if (!plugin_registry().count(name)) {
          std::string near = nearest_name(name, known);
          throw InputError(c.where("name"), "unknown plugin \"" + name + "\"" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
        }
        p.plugin_args[name] = args;
      }
    }
    pr.finish();
  }
  r.finish();
  return p;
}

ProfileConfig load_scheduler_config(const std::filesystem::path& file) {
  return parse_scheduler_config(load_yaml_or_json(file), file.string());
}

Profile::Profile(const ProfileConfig& config, std::uint64_t seed) : config_(config), rng_(seed) {
  for (const auto& name : config_.plugins) {
    auto it = plugin_registry().find(name);
    if (it == plugin_registry().end()) throw InputError("scheduler profile", "unknown plugin \"" + name + "\"");
    auto args_it = config_.plugin_args.find(name);
    nlohmann::json args = args_it == config_.plugin_args.end() ? nlohmann::json::object() : args_it->second;
    auto plugin = it->second(args, "pluginConfig." + name);
    if (auto* p = dynamic_cast<const PreFilterPlugin*>(plugin.get())) pre_filter_.push_back(p);
    if (auto* p = dynamic_cast<const FilterPlugin*>(plugin.get())) filter_.push_back(p);
    if (auto* p = dynamic_cast<const PreScorePlugin*>(plugin.get())) pre_score_.push_back(p);
    if (auto* p = dynamic_cast<const ScorePlugin*>(plugin.get())) {
      auto w = config_.score_weights.find(name);
      if (w != config_.score_weights.end()) score_.push_back({p, w->second});
    }
    plugins_.push_back(std::move(plugin));
  }
  for (const auto* pre : pre_filter_) {
    auto& skips = pre_filter_skips_.emplace_back();
    for (std::size_t i = 0; i < filter_.size(); ++i)
      if (filter_[i]->name() == pre->name()) skips.push_back(i);
  }
  for (const auto* pre : pre_score_) {
    auto& skips = pre_score_skips_.emplace_back();
    for (std::size_t i = 0; i < score_.size(); ++i)
      if (score_[i].first->name() == pre->name()) skips.push_back(i);
  }
}

int Profile::nodes_to_find(int all_nodes) const {
  if (all_nodes < MIN_FEASIBLE_NODES_TO_FIND || config_.percentage_of_nodes_to_score >= 100) return all_nodes;
  int percentage = config_.percentage_of_nodes_to_score;
  if (percentage == 0) {
    percentage = BASE_PERCENTAGE_OF_NODES_TO_SCORE - all_nodes / 125;
    percentage = std::max(percentage, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
  }
  int num = static_cast<int>(static_cast<long long>(all_nodes) * percentage / 100);
  return std::max(num, MIN_FEASIBLE_NODES_TO_FIND);
}

Status Profile::run_pre_filter(CycleState& state, const Pod& pod, const Snapshot& snapshot,
                               std::vector<bool>& skip_filter) const {
  skip_filter.assign(filter_.size(), false);
  for (std::size_t p = 0; p < pre_filter_.size(); ++p) {
    const auto* plugin = pre_filter_[p];
    Status s = plugin->pre_filter(state, pod, snapshot);
    if (s.skip()) {
      for (std::size_t i : pre_filter_skips_[p]) skip_filter[i] = true;
      continue;
    }
    if (!s.ok()) {
      if (s.plugin.empty()) s.plugin = plugin->name();
      return s;
    }
  }
  return Status::success();
}

Status Profile::run_filters(const CycleState& state, const Pod& pod, const NodeInfo& node,
                            const std::vector<bool>& skip_filter) const {
  for (std::size_t i = 0; i < filter_.size(); ++i) {
    if (skip_filter[i]) continue;
    Status s = filter_[i]->filter(state, pod, node);
    if (!s.ok()) {
      if (s.plugin.empty()) s.plugin = filter_[i]->name();
      return s;
    }
  }
  return Status::success();
}

bool Profile::fits_on(const Pod& pod, const Snapshot& snapshot, const std::string& node) const {
  CycleState state;
  std::vector<bool> skip;
  if (!run_pre_filter(state, pod, snapshot, skip).ok()) return false;
  const NodeInfo* info = snapshot.find(node);
  return info && run_filters(state, pod, *info, skip).ok();
}

namespace {
// "0/5 nodes are available: 2 Insufficient nvidia.com/gpu, 3 node(s) had untolerated taint ..."
Status summarize(const std::vector<std::pair<const NodeInfo*, Status>>& failed, int nodes) {
  // Few distinct reasons over many nodes: count them in a short list, then order them by
  // reason as the std::map this replaces did.
  std::vector<std::pair<const std::string*, int>> counts;
  bool resolvable = false;
  for (const auto& [node, s] : failed) {
    resolvable = resolvable || s.code == Code::UNSCHEDULABLE;
    for (const auto& reason : s.reasons) {
      auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return *c.first == reason; });
      if (it == counts.end()) counts.emplace_back(&reason, 1);
      else ++it->second;
    }
  }
  std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::string msg = "0/" + std::to_string(nodes) + " nodes are available";
  std::string sep = ": ";
  for (const auto& [reason, n] : counts) {
    msg += sep + std::to_string(n) + " " + *reason;
    sep = ", ";
  }
  msg += ".";
  return Status{resolvable ? Code::UNSCHEDULABLE : Code::UNSCHEDULABLE_AND_UNRESOLVABLE, "", {msg}};
}
}  // namespace

namespace {
// Marks a scheduling cycle for the NodeInfo caches (checked once per node per cycle),
// restoring the outer mark on the way out, exceptions included.
class CycleMark {
 public:
  CycleMark() : outer_(NodeInfo::begin_cycle()) {}
  ~CycleMark() { NodeInfo::end_cycle(outer_); }
  CycleMark(const CycleMark&) = delete;
  CycleMark& operator=(const CycleMark&) = delete;

 private:
  std::uint64_t outer_;
};
}  // namespace

CycleResult Profile::schedule(const Pod& pod, const Snapshot& snapshot, bool explain) {
  CycleResult result;
  const int n = static_cast<int>(snapshot.nodes.size());
  if (n == 0) {
    result.status = Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, "", "no nodes available to schedule pods");
    return result;
  }
  CycleMark mark;
  CycleState state;
  std::vector<bool> skip;
  std::vector<std::pair<const NodeInfo*, Status>> failed;  // the node (not a copy of its name) and why
  Status pre = run_pre_filter(state, pod, snapshot, skip);
  std::vector<const NodeInfo*> feasible;
  if (!pre.ok()) {
    for (const auto& node : snapshot.nodes) failed.push_back({&node, pre});
    result.nodes_evaluated = n;
  } else {
    const int to_find = nodes_to_find(n);
    feasible.reserve(static_cast<std::size_t>(std::min(to_find, n)));
    int evaluated = 0;
    for (; evaluated < n && static_cast<int>(feasible.size()) < to_find; ++evaluated) {
      const NodeInfo& node = snapshot.nodes[(next_start_node_ + evaluated) % n];
      Status s = run_filters(state, pod, node, skip);
      if (s.ok()) {
        feasible.push_back(&node);
        continue;
      }
      if (explain) result.explanation.push_back({node.name(), s, {}, 0});
      failed.emplace_back(&node, std::move(s));
    }
    next_start_node_ = (next_start_node_ + evaluated) % n;
    result.nodes_evaluated = evaluated;
  }
  result.feasible = static_cast<int>(feasible.size());
  if (feasible.empty()) {
    result.status = summarize(failed, n);
    if (config_.preemption && pod.spec.preemption_policy != "Never" && result.status.code == Code::UNSCHEDULABLE)
      result.preemption = preempt(pod, snapshot, failed);
    return result;
  }
  if (feasible.size() == 1 && !explain) {  // kube skips scoring a single feasible node
    result.node = feasible[0]->name();
    return result;
  }
  std::vector<bool> skip_score(score_.size(), false);
  for (std::size_t p = 0; p < pre_score_.size(); ++p) {
    Status s = pre_score_[p]->pre_score(state, pod, snapshot, feasible);
    if (s.skip()) {
      for (std::size_t i : pre_score_skips_[p]) skip_score[i] = true;
    } else if (!s.ok()) {
      result.status = s;
      return result;
    }
  }
  std::vector<std::int64_t> totals(feasible.size(), 0);
  std::vector<std::vector<PluginScore>> detail(explain ? feasible.size() : 0);
  // The node names are written once; each plugin only rewrites the scores.
  std::vector<NodeScore> scores(feasible.size());
  for (std::size_t i = 0; i < feasible.size(); ++i) scores[i].node = feasible[i]->name();
  std::vector<std::int64_t> raw;
  for (std::size_t p = 0; p < score_.size(); ++p) {
    if (skip_score[p]) continue;
    const auto* plugin = score_[p].first;
    for (std::size_t i = 0; i < feasible.size(); ++i) scores[i].score = plugin->score(state, pod, *feasible[i]);
    if (explain) {
      raw.clear();
      for (const auto& s : scores) raw.push_back(s.score);
    }
    plugin->normalize(state, pod, scores);
    for (std::size_t i = 0; i < feasible.size(); ++i) {
      AIFSIM_CHECK(scores[i].score >= MIN_NODE_SCORE && scores[i].score <= MAX_NODE_SCORE,
                   plugin->name() + " scored outside [0, 100]");
      totals[i] += scores[i].score * score_[p].second;
      if (explain) detail[i].push_back({plugin->name(), raw[i], scores[i].score, score_[p].second});
    }
  }
  // Highest total; among equal totals a uniform draw (kube's selectHost reservoir sampling).
  std::size_t best = 0;
  int ties = 1;
  for (std::size_t i = 1; i < feasible.size(); ++i) {
    if (totals[i] > totals[best]) {
      best = i;
      ties = 1;
    } else if (totals[i] == totals[best]) {
      ++ties;
      if (std::uniform_int_distribution<int>(0, ties - 1)(rng_) == 0) best = i;
    }
  }
  result.node = feasible[best]->name();
  if (explain)
    for (std::size_t i = 0; i < feasible.size(); ++i)
      result.explanation.push_back({feasible[i]->name(), std::nullopt, detail[i], totals[i]});
  return result;
}

std::optional<Preemption> Profile::preempt(const Pod& pod, const Snapshot& snapshot,
                                           const std::vector<std::pair<const NodeInfo*, Status>>& failed) {
  // DefaultPreemption (pkg/scheduler/framework/plugins/defaultpreemption): on nodes that
  // failed with a resolvable reason, remove every lower-priority pod; where the pod then
  // fits, add victims back from the most important down while it still fits (reprieve).
  const int priority = pod_priority(pod);
  std::vector<const NodeInfo*> candidates_nodes;
  for (const auto& [node, s] : failed)
    if (s.code == Code::UNSCHEDULABLE) candidates_nodes.push_back(node);
  if (candidates_nodes.empty()) return std::nullopt;
  const int all = static_cast<int>(snapshot.nodes.size());
  int wanted = std::max(all * config_.min_candidate_nodes_percentage / 100, config_.min_candidate_nodes_absolute);
  wanted = std::min<int>(wanted, static_cast<int>(candidates_nodes.size()));
  const std::size_t offset = std::uniform_int_distribution<std::size_t>(0, candidates_nodes.size() - 1)(rng_);
  // The nodes are tried on a copy of the snapshot, made when the first node with
  // lower-priority pods comes up: nodes without any are skipped untouched, and copying
  // every node for every unschedulable pod cost more than the rest of its cycle.
  std::optional<Snapshot> sim;
  const bool unique = snapshot.names_unique();
  struct Candidate {
    std::string node;
    std::vector<const Pod*> victims;
  };
  std::vector<Candidate> candidates;
  for (std::size_t k = 0; k < candidates_nodes.size() && static_cast<int>(candidates.size()) < wanted; ++k) {
    const std::string& name = candidates_nodes[(offset + k) % candidates_nodes.size()]->name();
    // The node by name, as before (the first of that name); with unique names, the one
    // that failed, found without a lookup. Each node comes up once, so until now its pods
    // in the copy are those of the snapshot.
    const NodeInfo* original = unique ? candidates_nodes[(offset + k) % candidates_nodes.size()] : snapshot.find(name);
    if (original->lowest_priority() >= priority) continue;  // no pod to evict
    std::vector<const Pod*> potential;
    for (const Pod* p : original->pods)
      if (pod_priority(*p) < priority) potential.push_back(p);
    if (potential.empty()) continue;
    if (!sim) sim.emplace(snapshot);
    NodeInfo* node = unique ? &sim->nodes[static_cast<std::size_t>(original - snapshot.nodes.data())] : sim->find(name);
    for (const Pod* v : potential) node->remove_pod(*v);
    if (!fits_on(pod, *sim, name)) {
      for (const Pod* v : potential) node->add_pod(*v);
      continue;
    }
    std::stable_sort(potential.begin(), potential.end(),
                     [](const Pod* a, const Pod* b) { return pod_priority(*a) > pod_priority(*b); });
    std::vector<const Pod*> victims;
    for (const Pod* v : potential) {
      node->add_pod(*v);
      if (!fits_on(pod, *sim, name)) {
        node->remove_pod(*v);
        victims.push_back(v);
      }
    }
    for (const Pod* v : victims) node->add_pod(*v);
    candidates.push_back({name, victims});
  }
  if (candidates.empty()) return std::nullopt;
  // pickOneNodeForPreemption: fewest PDB violations (no PDBs here), then the lowest
  // highest-priority victim, the lowest sum of priorities, the fewest victims, then the first.
  auto key = [](const Candidate& c) {
    std::int64_t highest = std::numeric_limits<std::int32_t>::min(), sum = 0;
    for (const Pod* v : c.victims) {
      highest = std::max<std::int64_t>(highest, pod_priority(*v));
      sum += static_cast<std::int64_t>(pod_priority(*v)) + std::numeric_limits<std::int32_t>::max() + 1;
    }
    return std::make_tuple(highest, sum, c.victims.size());
  };
  const Candidate* best = &candidates[0];
  for (const auto& c : candidates)
    if (key(c) < key(*best)) best = &c;
  return Preemption{best->node, best->victims};
}

}  // namespace aifsim::k8s::sched
