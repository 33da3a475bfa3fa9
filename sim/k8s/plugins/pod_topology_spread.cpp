// PodTopologySpread (after kube-scheduler's pkg/scheduler/framework/plugins/podtopologyspread/
// plugin.go, common.go, filtering.go and scoring.go; args validation from pkg/scheduler/apis/
// config/validation/validation_pluginargs.go, defaults from apis/config/v1/defaults.go):
// spreads matching pods evenly over topology domains.
//
// Filter (DoNotSchedule constraints): PreFilter counts, per constraint, the pods matching its
// selector in the pod's namespace on every eligible node (the pod's nodeSelector / required
// node affinity holds, the node has every constraint's key), per domain; the global minimum
// is the lowest domain count, or 0 while there are fewer domains than minDomains. A node is
// rejected when count(its domain) + (1 if the pod matches the selector) - minimum > maxSkew.
// Score (ScheduleAnyway constraints): a feasible node scores, per constraint, count(its
// domain) x ln(domains among feasible nodes + 2) + (maxSkew - 1), rounded; NormalizeScore
// gives 100 x (max + min - score) / max (integer), 0 to nodes missing a key.
//
// Example: zones A (2 matching pods) and B (0), maxSkew 1, the pod matches: minimum 0, a node
// in A gives skew 2 + 1 - 0 = 3 > 1 and fails, a node in B gives 0 + 1 - 0 = 1 and passes.
//
// Pods without constraints get the default ones: defaultingType System (the default) gives
// {hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway}, List the configured ones. Upstream
// selects the pods of the services / ReplicationController / ReplicaSet / StatefulSet that
// select or own the pod; services are not simulated, so here the defaults apply to pods owned
// by a ReplicaSet, Deployment (its ReplicaSet), StatefulSet or ReplicationController, with the
// pod's own labels as the selector (the controller's selector is not in the snapshot; a
// template's labels include it, so this selects the same sibling pods or fewer).
//
// Simplifications: nodeAffinityPolicy is always Honor and nodeTaintsPolicy always Ignore
// (their defaults; other values and matchLabelKeys are rejected by the manifest reader and
// here in defaultConstraints); no PreFilterExtensions (preemption re-runs PreFilter); no
// terminating pods to skip.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formulas, defined at the bottom.
std::int64_t spread_global_minimum(std::size_t domains, int min_domains, std::int64_t min_count);
bool spread_skew_fits(std::int64_t count, bool self_match, std::int64_t global_minimum, int max_skew);
double topology_normalizing_weight(std::size_t domains);
double spread_score_for_count(std::int64_t count, int max_skew, double weight);
std::int64_t spread_normalized_score(std::int64_t raw, std::int64_t min_raw, std::int64_t max_raw);

namespace {

constexpr const char* NAME = "PodTopologySpread";
constexpr const char* PRE_FILTER_KEY = "PreFilterPodTopologySpread";
constexpr const char* PRE_SCORE_KEY = "PreScorePodTopologySpread";
constexpr const char* HOSTNAME = "kubernetes.io/hostname";
constexpr const char* ZONE = "topology.kubernetes.io/zone";
constexpr const char* ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
constexpr const char* ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

// A constraint with its selector resolved and minDomains defaulted to 1.
struct Constraint {
  int max_skew = 1;
  std::string topology_key;
  std::optional<LabelSelector> selector;  // none selects no pod
  int min_domains = 1;
};

bool is_empty(const LabelSelector& s) { return s.match_labels.empty() && s.match_expressions.empty(); }

// labels.Selector.Matches: no selector matches nothing, an empty one everything.
bool selects(const std::optional<LabelSelector>& s, const Labels& labels) { return s && matches(*s, labels); }

// countPodsMatchSelector: pods of the namespace matching a non-empty selector.
std::int64_t count_matching(const std::vector<const Pod*>& pods, const std::optional<LabelSelector>& selector,
                            const std::string& ns) {
  if (!selector || is_empty(*selector)) return 0;
  std::int64_t n = 0;
  for (const Pod* p : pods) n += p->meta.namespace_ == ns && matches(*selector, p->meta.labels);
  return n;
}

// nodeLabelsMatchSpreadConstraints: the node has every constraint's key.
bool has_all_keys(const Labels& labels, const std::vector<Constraint>& constraints) {
  for (const auto& c : constraints)
    if (!labels.count(c.topology_key)) return false;
  return true;
}

std::string label_or_empty(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

// nodeAffinityPolicy Honor: the pod's nodeSelector and required node affinity hold on the node.
bool node_is_included(const Pod& pod, const Node& node) {
  for (const auto& [key, value] : pod.spec.node_selector) {
    auto it = node.meta.labels.find(key);
    if (it == node.meta.labels.end() || it->second != value) return false;
  }
  const auto& na = pod.spec.affinity.node_affinity;
  if (!na || !na->required) return true;
  for (const auto& term : *na->required)
    if (matches(term, node)) return true;
  return false;
}

struct PreFilterState final : StateData {
  std::vector<Constraint> constraints;
  std::vector<std::map<std::string, std::int64_t>> match_num;  // per constraint: domain -> matching pods
  std::vector<std::int64_t> min_match_num;                     // per constraint: lowest domain count
};

struct PreScoreState final : StateData {
  std::vector<Constraint> constraints;
  std::set<std::string> ignored_nodes;                       // feasible nodes missing a key
  std::vector<std::map<std::string, std::int64_t>> counts;  // per constraint (not hostname): domain -> pods
  std::vector<double> weights;                               // topologyNormalizingWeight per constraint
};

// validation.IsQualifiedName, as ValidateLabelName checks a topologyKey: [prefix/]name.
bool is_qualified_name(const std::string& key) {
  auto slash = key.find('/');
  std::string prefix = slash == std::string::npos ? "" : key.substr(0, slash);
  std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  auto alnum = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  if (name.empty() || name.size() > 63 || !alnum(name.front()) || !alnum(name.back())) return false;
  for (char ch : name)
    if (!alnum(ch) && ch != '-' && ch != '_' && ch != '.') return false;
  if (slash == std::string::npos) return true;
  if (prefix.empty() || prefix.size() > 253 || !alnum(prefix.front()) || !alnum(prefix.back())) return false;
  for (char ch : prefix)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '-' ||
          ch == '.'))
      return false;
  return true;
}

class PodTopologySpread final : public PreFilterPlugin, public FilterPlugin, public PreScorePlugin, public ScorePlugin {
 public:
  PodTopologySpread(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader r(args.is_null() ? empty : args, where);
    system_defaulted_ = r.choice("defaultingType", {"System", "List"}, "System") == "System";
    if (r.has("defaultConstraints")) {
      const auto& list = r.array("defaultConstraints");
      for (std::size_t i = 0; i < list.size(); ++i) read_default(list[i], where, r.path_of("defaultConstraints"), i);
    }
    if (system_defaulted_ && !default_constraints_.empty())
      r.fail("defaultingType", "\"List\" when defaultConstraints are given (the default, System, uses the built-in "
                               "constraints and takes none)");
    if (system_defaulted_)
      default_constraints_ = {{3, HOSTNAME, WhenUnsatisfiable::SCHEDULE_ANYWAY, std::nullopt, std::nullopt},
                              {5, ZONE, WhenUnsatisfiable::SCHEDULE_ANYWAY, std::nullopt, std::nullopt}};
    r.finish();
  }

  std::string name() const override { return NAME; }

  Status pre_filter(CycleState& state, const Pod& pod, const Snapshot& snapshot) const override {
    auto s = std::make_unique<PreFilterState>();
    s->constraints = constraints_for(pod, WhenUnsatisfiable::DO_NOT_SCHEDULE);
    if (s->constraints.empty()) return Status{Code::SKIP, NAME, {}};
    const std::size_t n = s->constraints.size();
    s->match_num.resize(n);
    for (const auto& info : snapshot.nodes) {
      const Labels& labels = info.node->meta.labels;
      if (!has_all_keys(labels, s->constraints) || !node_is_included(pod, *info.node)) continue;
      for (std::size_t i = 0; i < n; ++i)
        s->match_num[i][labels.at(s->constraints[i].topology_key)] +=
            count_matching(info.pods, s->constraints[i].selector, pod.meta.namespace_);
    }
    for (std::size_t i = 0; i < n; ++i) {
      std::int64_t lowest = std::numeric_limits<std::int32_t>::max();  // upstream's value with no domain
      for (const auto& [domain, count] : s->match_num[i]) lowest = std::min(lowest, count);
      s->min_match_num.push_back(lowest);
    }
    state.put(PRE_FILTER_KEY, std::move(s));
    return Status::success();
  }

  Status filter(const CycleState& state, const Pod& pod, const NodeInfo& node) const override {
    const auto* s = state.get<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status::make(Code::ERROR, NAME, "no PreFilter state (PreFilter was not run)");
    const Labels& labels = node.node->meta.labels;
    for (std::size_t i = 0; i < s->constraints.size(); ++i) {
      const Constraint& c = s->constraints[i];
      auto value = labels.find(c.topology_key);
      if (value == labels.end()) return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_MISSING_LABEL);
      const auto& domains = s->match_num[i];
      auto count = domains.find(value->second);
      const std::int64_t global_min = spread_global_minimum(domains.size(), c.min_domains, s->min_match_num[i]);
      if (!spread_skew_fits(count == domains.end() ? 0 : count->second, selects(c.selector, pod.meta.labels), global_min,
                            c.max_skew))
        return Status::make(Code::UNSCHEDULABLE, NAME, ERR_CONSTRAINTS);
    }
    return Status::success();
  }

  Status pre_score(CycleState& state, const Pod& pod, const Snapshot& snapshot,
                   const std::vector<const NodeInfo*>& feasible) const override {
    if (snapshot.nodes.empty()) return Status{Code::SKIP, NAME, {}};
    auto s = std::make_unique<PreScoreState>();
    s->constraints = constraints_for(pod, WhenUnsatisfiable::SCHEDULE_ANYWAY);
    if (s->constraints.empty()) return Status{Code::SKIP, NAME, {}};
    // Only the System defaults let nodes without a zone label keep hostname spreading.
    const bool require_all = !pod.spec.topology_spread_constraints.empty() || !system_defaulted_;
    const std::size_t n = s->constraints.size();
    s->counts.resize(n);
    std::vector<std::size_t> domains(n, 0);
    for (const NodeInfo* info : feasible) {
      const Labels& labels = info->node->meta.labels;
      if (require_all && !has_all_keys(labels, s->constraints)) {
        s->ignored_nodes.insert(info->name());
        continue;
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (s->constraints[i].topology_key == HOSTNAME) continue;  // counted per node in Score
        if (s->counts[i].emplace(label_or_empty(labels, s->constraints[i].topology_key), 0).second) ++domains[i];
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      const bool hostname = s->constraints[i].topology_key == HOSTNAME;
      s->weights.push_back(topology_normalizing_weight(hostname ? feasible.size() - s->ignored_nodes.size() : domains[i]));
    }
    // Pods on every node (not only the feasible ones) count toward the feasible nodes' domains.
    for (const auto& info : snapshot.nodes) {
      const Labels& labels = info.node->meta.labels;
      if (require_all && !has_all_keys(labels, s->constraints)) continue;
      if (!node_is_included(pod, *info.node)) continue;
      for (std::size_t i = 0; i < n; ++i) {
        auto domain = s->counts[i].find(label_or_empty(labels, s->constraints[i].topology_key));
        if (domain != s->counts[i].end())
          domain->second += count_matching(info.pods, s->constraints[i].selector, pod.meta.namespace_);
      }
    }
    state.put(PRE_SCORE_KEY, std::move(s));
    return Status::success();
  }

  std::int64_t score(const CycleState& state, const Pod& pod, const NodeInfo& node) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    if (!s || s->ignored_nodes.count(node.name())) return 0;
    const Labels& labels = node.node->meta.labels;
    double total = 0;
    for (std::size_t i = 0; i < s->constraints.size(); ++i) {
      const Constraint& c = s->constraints[i];
      auto value = labels.find(c.topology_key);
      if (value == labels.end()) continue;
      std::int64_t count = 0;
      if (c.topology_key == HOSTNAME) {
        count = count_matching(node.pods, c.selector, pod.meta.namespace_);
      } else if (auto d = s->counts[i].find(value->second); d != s->counts[i].end()) {
        count = d->second;
      }
      total += spread_score_for_count(count, c.max_skew, s->weights[i]);
    }
    return std::llround(total);
  }

  void normalize(const CycleState& state, const Pod& /*pod*/, std::vector<NodeScore>& scores) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return;
    std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = 0;
    for (const auto& n : scores)
      if (!s->ignored_nodes.count(n.node)) lo = std::min(lo, n.score), hi = std::max(hi, n.score);
    for (auto& n : scores) n.score = s->ignored_nodes.count(n.node) ? 0 : spread_normalized_score(n.score, lo, hi);
  }

 private:
  // getConstraints / initPreScoreState: the pod's own constraints of `action`, or, when it has
  // none at all, the default ones of `action` with the pod's default selector.
  std::vector<Constraint> constraints_for(const Pod& pod, WhenUnsatisfiable action) const {
    std::vector<Constraint> out;
    if (!pod.spec.topology_spread_constraints.empty()) {
      for (const auto& c : pod.spec.topology_spread_constraints)
        if (c.when_unsatisfiable == action) out.push_back({c.max_skew, c.topology_key, c.selector, c.min_domains.value_or(1)});
      return out;
    }
    static const std::set<std::string> CONTROLLERS = {"ReplicaSet", "Deployment", "StatefulSet", "ReplicationController"};
    if (!CONTROLLERS.count(pod.owner_kind) || pod.meta.labels.empty()) return out;  // helper.DefaultSelector empty
    const LabelSelector selector{pod.meta.labels, {}};
    for (const auto& c : default_constraints_)
      if (c.when_unsatisfiable == action) out.push_back({c.max_skew, c.topology_key, selector, c.min_domains.value_or(1)});
    return out;
  }

  void read_default(const nlohmann::json& item, const std::string& where, const std::string& path, std::size_t i) {
    JsonReader c(item, where, path + "[" + std::to_string(i) + "]");
    TopologySpreadConstraint t;
    const std::int64_t skew = c.integer("maxSkew");
    if (skew <= 0 || skew > std::numeric_limits<std::int32_t>::max())
      c.fail("maxSkew", "not in valid range (0, inf), got " + std::to_string(skew));
    t.max_skew = static_cast<int>(skew);
    t.topology_key = c.string("topologyKey");
    if (!is_qualified_name(t.topology_key))
      c.fail("topologyKey", "a label name such as topology.kubernetes.io/zone, got \"" + t.topology_key + "\"");
    t.when_unsatisfiable = c.choice("whenUnsatisfiable", {"DoNotSchedule", "ScheduleAnyway"}) == "DoNotSchedule"
                               ? WhenUnsatisfiable::DO_NOT_SCHEDULE
                               : WhenUnsatisfiable::SCHEDULE_ANYWAY;
    if (c.has("labelSelector"))
      c.fail("labelSelector", "no labelSelector: default constraints must not define a selector, as it is deduced for each pod");
    if (c.has("matchLabelKeys")) c.fail("matchLabelKeys", "no matchLabelKeys (not simulated)");
    if (c.has("minDomains")) {
      const std::int64_t d = c.integer("minDomains");
      if (d < 1 || d > std::numeric_limits<std::int32_t>::max()) c.fail("minDomains", "expected >= 1, got " + std::to_string(d));
      if (t.when_unsatisfiable != WhenUnsatisfiable::DO_NOT_SCHEDULE)
        c.fail("minDomains", "no minDomains unless whenUnsatisfiable is DoNotSchedule");
      t.min_domains = static_cast<int>(d);
    }
    if (c.choice("nodeAffinityPolicy", {"Honor", "Ignore"}, "Honor") != "Honor")
      c.fail("nodeAffinityPolicy", "Honor (nodeAffinityPolicy Ignore is not simulated)");
    if (c.choice("nodeTaintsPolicy", {"Honor", "Ignore"}, "Ignore") != "Ignore")
      c.fail("nodeTaintsPolicy", "Ignore (nodeTaintsPolicy Honor is not simulated)");
    c.finish();
    for (const auto& other : default_constraints_)
      if (other.topology_key == t.topology_key && other.when_unsatisfiable == t.when_unsatisfiable)
        c.fail("topologyKey", "no duplicate {topologyKey, whenUnsatisfiable} pair, \"" + t.topology_key + "\" repeats");
    default_constraints_.push_back(t);
  }

  std::vector<TopologySpreadConstraint> default_constraints_;
  bool system_defaulted_ = true;
};

}  // namespace

std::unique_ptr<Plugin> make_pod_topology_spread(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<PodTopologySpread>(args, where);
}

// preFilterState.minMatchNum: 0 while fewer domains than minDomains, else the lowest count.
// E.g. 2 domains holding 1 and 1 pods: minDomains 1 or 2 -> 1; minDomains 3 -> 0.
std::int64_t spread_global_minimum(std::size_t domains, int min_domains, std::int64_t min_count) {
  return domains < static_cast<std::size_t>(std::max(min_domains, 0)) ? 0 : min_count;
}

// Filter: count + (1 if the pod matches its selector) - global minimum <= maxSkew.
// E.g. 2 + 1 - 0 = 3 > 1 fails; 0 + 1 - 0 = 1 passes.
bool spread_skew_fits(std::int64_t count, bool self_match, std::int64_t global_minimum, int max_skew) {
  return count + (self_match ? 1 : 0) - global_minimum <= max_skew;
}

// topologyNormalizingWeight: ln(domains + 2), so counts in a topology with few domains are
// not watered down by a topology with many. E.g. 3 zones: ln 5 = 1.609.
double topology_normalizing_weight(std::size_t domains) { return std::log(static_cast<double>(domains) + 2.0); }

// scoreForCount: count x weight + (maxSkew - 1); the offset tolerates skew within maxSkew.
// E.g. 2 pods, weight ln 5, maxSkew 1: 2 x 1.609 + 0 = 3.219.
double spread_score_for_count(std::int64_t count, int max_skew, double weight) {
  return static_cast<double>(count) * weight + static_cast<double>(max_skew - 1);
}

// NormalizeScore: MAX_NODE_SCORE x (max + min - raw) / max, integer division; every node
// MAX_NODE_SCORE when max == 0. E.g. raw 2, min 0, max 3: 100 x 1 / 3 = 33.
std::int64_t spread_normalized_score(std::int64_t raw, std::int64_t min_raw, std::int64_t max_raw) {
  if (max_raw == 0) return MAX_NODE_SCORE;
  return MAX_NODE_SCORE * (max_raw + min_raw - raw) / max_raw;
}

}  // namespace aifsim::k8s::sched
