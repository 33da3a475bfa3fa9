// InterPodAffinity (after kube-scheduler's pkg/scheduler/framework/plugins/interpodaffinity/
// filtering.go, scoring.go and plugin.go; args validation from pkg/scheduler/apis/config/
// validation/validation_pluginargs.go): places a pod relative to the pods already running.
//
// PreFilter counts, per topology pair (key, value of the node hosting an existing pod):
// existing pods whose required anti-affinity matches the incoming pod, and existing pods
// matching the incoming pod's required affinity (all terms) and anti-affinity (any term).
// Filter then rejects a node whose pair for a required affinity term has no match (the
// first pod of a group, which matches its own terms while nothing else does, may go to any
// node that has the keys), and a node sharing a pair with an anti-affinity match either way.
// PreScore sums weights per pair: the pod's preferred terms (+weight affinity, -weight
// anti-affinity) over matching existing pods, and existing pods' preferred terms and, with
// hardPodAffinityWeight, their required affinity terms, that match the pod. A node scores the
// sum over its labels' pairs; NormalizeScore maps [min, max] onto [0, 100].
//
// Example: nodes a, b in zone z1, c in z2; pod cache (app=cache) on a. A pod that requires
// affinity to app=cache on topology.kubernetes.io/zone counts {(zone, z1): 1}: a and b pass,
// c fails "node(s) didn't match pod affinity rules". With a preferred term of weight 80
// instead, a and b score 80 and c 0, normalized 100, 100, 0.
//
// Simplifications: no namespaceSelector (the manifest reader rejects it, so a term's
// namespaces are its list or, empty, the owning pod's namespace); no matchLabelKeys /
// mismatchLabelKeys (also rejected there); no PreFilterExtensions AddPod/RemovePod, since
// preemption here re-runs PreFilter on the modified snapshot, which gives the same counts.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formula, defined at the bottom.
std::int64_t inter_pod_affinity_normalized_score(std::int64_t raw, std::int64_t min_raw, std::int64_t max_raw);

namespace {

constexpr const char* NAME = "InterPodAffinity";
constexpr const char* PRE_FILTER_KEY = "PreFilterInterPodAffinity";
constexpr const char* PRE_SCORE_KEY = "PreScoreInterPodAffinity";
constexpr const char* ERR_AFFINITY = "node(s) didn't match pod affinity rules";
constexpr const char* ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
constexpr const char* ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

using TopologyPair = std::pair<std::string, std::string>;  // (topology key, the node's value)
using TopologyCounts = std::map<TopologyPair, std::int64_t>;

const PodAffinityRules& rules(const std::optional<PodAffinityRules>& r) {
  static const PodAffinityRules NONE;
  return r ? *r : NONE;
}

// AffinityTerm.Matches: `target` is in one of the term's namespaces (none listed: the
// namespace of the pod owning the term) and matches its selector (no selector: no pod).
bool term_matches(const PodAffinityTerm& term, const std::string& owner_namespace, const Pod& target) {
  const std::string& ns = target.meta.namespace_;
  const bool in_namespace = term.namespaces.empty()
                                ? ns == owner_namespace
                                : std::find(term.namespaces.begin(), term.namespaces.end(), ns) != term.namespaces.end();
  return in_namespace && term.selector && matches(*term.selector, target.meta.labels);
}

// podMatchesAllAffinityTerms: false for no terms.
bool matches_all(const std::vector<PodAffinityTerm>& terms, const std::string& owner_namespace, const Pod& target) {
  if (terms.empty()) return false;
  for (const auto& t : terms)
    if (!term_matches(t, owner_namespace, target)) return false;
  return true;
}

void count_pair(TopologyCounts& counts, const Node& node, const std::string& key) {
  auto it = node.meta.labels.find(key);
  if (it != node.meta.labels.end()) ++counts[{key, it->second}];
}

std::int64_t count_of(const TopologyCounts& counts, const std::string& key, const std::string& value) {
  auto it = counts.find({key, value});
  return it == counts.end() ? 0 : it->second;
}

struct PreFilterState final : StateData {
  TopologyCounts existing_anti_affinity;  // existing pods whose required anti-affinity matches the pod
  TopologyCounts affinity;                // existing pods matching all the pod's required affinity terms
  TopologyCounts anti_affinity;           // existing pods matching one of its required anti-affinity terms
};

struct PreScoreState final : StateData {
  std::map<std::string, std::map<std::string, std::int64_t>> topology_score;  // key -> value -> score
};

// satisfyPodAffinity: every required term's key on the node with a match in its pair; else
// the first-pod-of-a-group exception.
bool satisfies_pod_affinity(const PreFilterState& s, const Pod& pod, const Labels& labels) {
  const auto& terms = rules(pod.spec.affinity.pod_affinity).required;
  bool pods_exist = true;
  for (const auto& t : terms) {
    auto it = labels.find(t.topology_key);
    if (it == labels.end()) return false;  // every topology key must be on the node
    if (count_of(s.affinity, t.topology_key, it->second) <= 0) pods_exist = false;
  }
  if (pods_exist) return true;
  return s.affinity.empty() && matches_all(terms, pod.meta.namespace_, pod);
}

bool satisfies_pod_anti_affinity(const PreFilterState& s, const Pod& pod, const Labels& labels) {
  if (s.anti_affinity.empty()) return true;
  for (const auto& t : rules(pod.spec.affinity.pod_anti_affinity).required) {
    auto it = labels.find(t.topology_key);
    if (it != labels.end() && count_of(s.anti_affinity, t.topology_key, it->second) > 0) return false;
  }
  return true;
}

bool satisfies_existing_anti_affinity(const PreFilterState& s, const Labels& labels) {
  if (s.existing_anti_affinity.empty()) return true;
  for (const auto& [key, value] : labels)
    if (count_of(s.existing_anti_affinity, key, value) > 0) return false;
  return true;
}

class InterPodAffinity final : public PreFilterPlugin, public FilterPlugin, public PreScorePlugin, public ScorePlugin {
 public:
  InterPodAffinity(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader r(args.is_null() ? empty : args, where);
    const std::int64_t w = r.integer_or("hardPodAffinityWeight", 1);
    if (w < 0 || w > 100) r.fail("hardPodAffinityWeight", "not in valid range [0, 100], got " + std::to_string(w));
    hard_pod_affinity_weight_ = w;
    ignore_preferred_terms_of_existing_pods_ = r.boolean_or("ignorePreferredTermsOfExistingPods", false);
    r.finish();
  }

  std::string name() const override { return NAME; }

  Status pre_filter(CycleState& state, const Pod& pod, const Snapshot& snapshot) const override {
    const auto& affinity = rules(pod.spec.affinity.pod_affinity).required;
    const auto& anti_affinity = rules(pod.spec.affinity.pod_anti_affinity).required;
    const std::string& ns = pod.meta.namespace_;
    auto s = std::make_unique<PreFilterState>();
    auto visit = [&](const Pod& existing, const NodeInfo& info) {
      for (const auto& t : rules(existing.spec.affinity.pod_anti_affinity).required)
        if (term_matches(t, existing.meta.namespace_, pod)) count_pair(s->existing_anti_affinity, *info.node, t.topology_key);
      if (matches_all(affinity, ns, existing))
        for (const auto& t : affinity) count_pair(s->affinity, *info.node, t.topology_key);
      for (const auto& t : anti_affinity)
        if (term_matches(t, ns, existing)) count_pair(s->anti_affinity, *info.node, t.topology_key);
    };
    // Without required terms of its own, only existing pods with required anti-affinity
    // can count (matches_all is false for no terms): visit those, as upstream does, not
    // every pod. The counts are sums, so the order of visits does not matter.
    const bool own_terms = !affinity.empty() || !anti_affinity.empty();
    for (const auto& info : snapshot.nodes)
      for (const Pod* existing :
           own_terms || !info.pod_caches_current() ? info.pods : info.pods_with_required_anti_affinity)
        visit(*existing, info);
    if (s->existing_anti_affinity.empty() && affinity.empty() && anti_affinity.empty())
      return Status{Code::SKIP, NAME, {}};
    state.put(PRE_FILTER_KEY, std::move(s));
    return Status::success();
  }

  Status filter(const CycleState& state, const Pod& pod, const NodeInfo& node) const override {
    const auto* s = state.get<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status::make(Code::ERROR, NAME, "no PreFilter state (PreFilter was not run)");
    const Labels& labels = node.node->meta.labels;
    if (!satisfies_pod_affinity(*s, pod, labels)) return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_AFFINITY);
    if (!satisfies_pod_anti_affinity(*s, pod, labels)) return Status::make(Code::UNSCHEDULABLE, NAME, ERR_ANTI_AFFINITY);
    if (!satisfies_existing_anti_affinity(*s, labels))
      return Status::make(Code::UNSCHEDULABLE, NAME, ERR_EXISTING_ANTI_AFFINITY);
    return Status::success();
  }

  Status pre_score(CycleState& state, const Pod& pod, const Snapshot& snapshot,
                   const std::vector<const NodeInfo*>& /*feasible*/) const override {
    const auto& preferred = rules(pod.spec.affinity.pod_affinity).preferred;
    const auto& preferred_anti = rules(pod.spec.affinity.pod_anti_affinity).preferred;
    const bool has_constraints = !preferred.empty() || !preferred_anti.empty();
    if (ignore_preferred_terms_of_existing_pods_ && !has_constraints) return Status{Code::SKIP, NAME, {}};
    const std::string& ns = pod.meta.namespace_;
    auto s = std::make_unique<PreScoreState>();
    bool touched = false;  // upstream skips scoring when no term matched anywhere
    // processTerm: +weight on the existing pod's node's pair when `target` matches the term.
    auto process = [&](const PodAffinityTerm& term, std::int64_t weight, const std::string& owner_ns, const Pod& target,
                       const Node& node) {
      if (!term_matches(term, owner_ns, target)) return;
      auto it = node.meta.labels.find(term.topology_key);
      if (it == node.meta.labels.end()) return;
      s->topology_score[term.topology_key][it->second] += weight;
      touched = true;
    };
    auto visit = [&](const Pod& existing, const NodeInfo& info) {
      const Node& node = *info.node;
      if (node.meta.labels.empty()) return;
      const std::string& existing_ns = existing.meta.namespace_;
      for (const auto& w : preferred) process(w.term, w.weight, ns, existing, node);
      for (const auto& w : preferred_anti) process(w.term, -w.weight, ns, existing, node);
      if (hard_pod_affinity_weight_ > 0)
        for (const auto& t : rules(existing.spec.affinity.pod_affinity).required)
          process(t, hard_pod_affinity_weight_, existing_ns, pod, node);
      for (const auto& w : rules(existing.spec.affinity.pod_affinity).preferred)
        process(w.term, w.weight, existing_ns, pod, node);
      for (const auto& w : rules(existing.spec.affinity.pod_anti_affinity).preferred)
        process(w.term, -w.weight, existing_ns, pod, node);
    };
    // Without preferred terms of its own, only existing pods with pod (anti-)affinity can
    // add a weight: visit those (upstream's PodsWithAffinity), not every pod. Sums again.
    for (const auto& info : snapshot.nodes)
      for (const Pod* existing : has_constraints || !info.pod_caches_current() ? info.pods : info.pods_with_affinity)
        visit(*existing, info);
    if (!touched) return Status{Code::SKIP, NAME, {}};
    state.put(PRE_SCORE_KEY, std::move(s));
    return Status::success();
  }

  std::int64_t score(const CycleState& state, const Pod& /*pod*/, const NodeInfo& node) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return 0;
    std::int64_t total = 0;
    const Labels& labels = node.node->meta.labels;
    for (const auto& [key, values] : s->topology_score) {
      auto label = labels.find(key);
      if (label == labels.end()) continue;
      auto v = values.find(label->second);
      if (v != values.end()) total += v->second;
    }
    return total;
  }

  void normalize(const CycleState& state, const Pod& /*pod*/, std::vector<NodeScore>& scores) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    if (!s || s->topology_score.empty() || scores.empty()) return;
    std::int64_t lo = scores[0].score, hi = scores[0].score;
    for (const auto& n : scores) lo = std::min(lo, n.score), hi = std::max(hi, n.score);
    for (auto& n : scores) n.score = inter_pod_affinity_normalized_score(n.score, lo, hi);
  }

 private:
  std::int64_t hard_pod_affinity_weight_ = 1;
  bool ignore_preferred_terms_of_existing_pods_ = false;
};

}  // namespace

std::unique_ptr<Plugin> make_inter_pod_affinity(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<InterPodAffinity>(args, where);
}

// NormalizeScore: MAX_NODE_SCORE x (raw - min) / (max - min), in floating point and truncated;
// every node 0 when max == min. E.g. raw 0 with min -30, max 80: 100 x 30/110 = 27.27 -> 27.
std::int64_t inter_pod_affinity_normalized_score(std::int64_t raw, std::int64_t min_raw, std::int64_t max_raw) {
  const std::int64_t diff = max_raw - min_raw;
  if (diff <= 0) return 0;
  const double f = static_cast<double>(MAX_NODE_SCORE) * (static_cast<double>(raw - min_raw) / static_cast<double>(diff));
  return static_cast<std::int64_t>(f);
}

}  // namespace aifsim::k8s::sched
