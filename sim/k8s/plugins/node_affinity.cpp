// NodeAffinity (after kube-scheduler's pkg/scheduler/framework/plugins/nodeaffinity/
// node_affinity.go, with helper.DefaultNormalizeScore from plugins/helper/normalize_score.go
// and the args validation of pkg/scheduler/apis/config/validation/validation_pluginargs.go):
// places a pod by node labels.
//
// Filter: every spec.nodeSelector label must be on the node with that value, AND, when the
// pod has required node affinity, one of its terms must match (terms are ORed, a term's
// requirements ANDed, an empty term matches nothing); else "node(s) didn't match Pod's
// node affinity/selector", unresolvable. PreFilter skips the Filter for pods with neither,
// and fails at once when every required term pins metadata.name and no name survives
// ("pod affinity terms conflict"). Score sums the weights of the preferred terms the node
// matches; NormalizeScore maps [0, max] onto [0, 100] (100 x score / max, integer).
// The args' addedAffinity applies to every pod: its required selector as an extra filter
// ("node(s) didn't match scheduler-enforced node affinity"), its preferred terms as
// extra weight.
//
// Example: a pod with nodeSelector {pool: gpu} and preferred terms {zone In [a]} weight
// 80 and {gen Gt 3} weight 20; nodes n1 {pool: gpu, zone: a, gen: 4}, n2 {pool: gpu,
// zone: b, gen: 5}, n3 {pool: cpu}. n3 fails the filter; n1 scores 100, n2 20;
// normalized 100 and 100 x 20/100 = 20.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/json_reader.hpp"
#include "core/text.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formula, defined at the bottom.
std::int64_t node_affinity_normalized_score(std::int64_t score, std::int64_t max_score);

namespace {

constexpr const char* NAME = "NodeAffinity";
constexpr const char* ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
constexpr const char* ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
constexpr const char* ERR_REASON_CONFLICT = "pod affinity terms conflict";

bool any_term_matches(const std::vector<NodeSelectorTerm>& terms, const Node& node) {
  return std::any_of(terms.begin(), terms.end(), [&](const NodeSelectorTerm& t) { return matches(t, node); });
}

std::int64_t preferred_score(const std::vector<PreferredSchedulingTerm>& terms, const Node& node) {
  std::int64_t sum = 0;
  for (const auto& t : terms)
    if (t.weight != 0 && matches(t.preference, node)) sum += t.weight;
  return sum;
}

// True when every required term pins metadata.name (In) and no name survives: the
// intersection within each term, the union across terms, is empty.
bool required_names_conflict(const std::vector<NodeSelectorTerm>& terms) {
  if (terms.empty()) return false;
  for (const auto& term : terms) {
    std::optional<std::set<std::string>> names;
    for (const auto& r : term.match_fields) {
      if (r.key != "metadata.name" || r.op != SelectorOp::IN) continue;
      std::set<std::string> values(r.values.begin(), r.values.end()), kept;
      if (!names) names = values;
      for (const auto& n : *names)
        if (values.count(n)) kept.insert(n);
      names = kept;
    }
    if (!names || !names->empty()) return false;  // this term leaves some node (or all) eligible
  }
  return true;
}

// addedAffinity, read like a pod's nodeAffinity and validated as the API server would.
Requirement read_requirement(const nlohmann::json& v, const std::string& where, const std::string& path, bool field) {
  JsonReader r(v, where, path);
  Requirement q;
  q.key = r.string("key");
  if (q.key.empty()) r.fail("key", "expected a non-empty key");
  if (field && q.key != "metadata.name") r.fail("key", "expected \"metadata.name\" (the only field a term can match)");
  const std::vector<std::string> ops = field ? std::vector<std::string>{"In", "NotIn"}
                                             : std::vector<std::string>{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
  const std::string op = r.choice("operator", ops);
  q.op = op == "In" ? SelectorOp::IN
         : op == "NotIn" ? SelectorOp::NOT_IN
         : op == "Exists" ? SelectorOp::EXISTS
         : op == "DoesNotExist" ? SelectorOp::DOES_NOT_EXIST
         : op == "Gt" ? SelectorOp::GT
                      : SelectorOp::LT;
  if (r.has("values"))
    for (const auto& value : r.array("values")) {
      if (!value.is_string()) r.fail("values", "expected strings, got " + value.dump());
      q.values.push_back(value.get<std::string>());
    }
  const bool exists = q.op == SelectorOp::EXISTS || q.op == SelectorOp::DOES_NOT_EXIST;
  if (exists && !q.values.empty()) r.fail("values", "expected no values for operator " + op);
  if (!exists && q.values.empty()) r.fail("values", "expected at least one value for operator " + op);
  if (field && q.values.size() != 1) r.fail("values", "expected exactly one value for matchFields");
  if ((q.op == SelectorOp::GT || q.op == SelectorOp::LT) && (q.values.size() != 1 || !parse_int(q.values[0])))
    r.fail("values", "expected exactly one integer such as \"4\" for operator " + op);
  r.finish();
  return q;
}

NodeSelectorTerm read_term(const nlohmann::json& v, const std::string& where, const std::string& path) {
  JsonReader r(v, where, path);
  NodeSelectorTerm t;
  for (const char* key : {"matchExpressions", "matchFields"}) {
    if (!r.has(key)) continue;
    const auto& items = r.array(key);
    const bool field = std::string(key) == "matchFields";
    for (std::size_t i = 0; i < items.size(); ++i) {
      Requirement q = read_requirement(items[i], where, r.path_of(key) + "[" + std::to_string(i) + "]", field);
      (field ? t.match_fields : t.match_expressions).push_back(std::move(q));
    }
  }
  r.finish();
  return t;
}

NodeAffinity read_added_affinity(JsonReader& args) {
  JsonReader a = args.object("addedAffinity");
  const std::string where = a.file();
  NodeAffinity out;
  if (a.has("requiredDuringSchedulingIgnoredDuringExecution")) {
    JsonReader sel = a.object("requiredDuringSchedulingIgnoredDuringExecution");
    const auto& terms = sel.array("nodeSelectorTerms");
    if (terms.empty()) sel.fail("nodeSelectorTerms", "expected at least one node selector term");
    out.required.emplace();
    for (std::size_t i = 0; i < terms.size(); ++i)
      out.required->push_back(read_term(terms[i], where, sel.path_of("nodeSelectorTerms") + "[" + std::to_string(i) + "]"));
    sel.finish();
  }
  if (a.has("preferredDuringSchedulingIgnoredDuringExecution")) {
    const std::string key = "preferredDuringSchedulingIgnoredDuringExecution";
    const auto& items = a.array(key);
    for (std::size_t i = 0; i < items.size(); ++i) {
      JsonReader p(items[i], where, a.path_of(key) + "[" + std::to_string(i) + "]");
      PreferredSchedulingTerm t;
      const std::int64_t w = p.integer("weight");
      if (w < 1 || w > 100) p.fail("weight", "not in valid range [1, 100], got " + std::to_string(w));
      t.weight = static_cast<int>(w);
      t.preference = read_term(p.raw("preference"), where, p.path_of("preference"));
      p.finish();
      out.preferred.push_back(std::move(t));
    }
  }
  a.finish();
  return out;
}

class NodeAffinityPlugin final : public PreFilterPlugin, public FilterPlugin, public PreScorePlugin, public ScorePlugin {
 public:
  NodeAffinityPlugin(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader r(args.is_null() ? empty : args, where);
    if (r.has("addedAffinity")) added_ = read_added_affinity(r);
    r.finish();
  }

  std::string name() const override { return NAME; }

  Status pre_filter(CycleState& /*state*/, const Pod& pod, const Snapshot& /*snapshot*/) const override {
    const auto& affinity = pod.spec.affinity.node_affinity;
    const bool no_required = !affinity || !affinity->required;
    if (no_required && !added_.required && pod.spec.node_selector.empty()) return Status{Code::SKIP, NAME, {}};
    if (!no_required && required_names_conflict(*affinity->required))
      return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_REASON_CONFLICT);
    return Status::success();
  }

  Status filter(const CycleState& /*state*/, const Pod& pod, const NodeInfo& info) const override {
    const Node& node = *info.node;
    if (added_.required && !any_term_matches(*added_.required, node))
      return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_REASON_ENFORCED);
    bool ok = true;
    for (const auto& [key, value] : pod.spec.node_selector) {
      auto it = node.meta.labels.find(key);
      ok = ok && it != node.meta.labels.end() && it->second == value;
    }
    const auto& affinity = pod.spec.affinity.node_affinity;
    if (ok && affinity && affinity->required) ok = any_term_matches(*affinity->required, node);
    if (ok) return Status::success();
    return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME, ERR_REASON_POD);
  }

  Status pre_score(CycleState& /*state*/, const Pod& pod, const Snapshot& /*snapshot*/,
                   const std::vector<const NodeInfo*>& /*feasible*/) const override {
    const auto& affinity = pod.spec.affinity.node_affinity;
    if ((!affinity || affinity->preferred.empty()) && added_.preferred.empty()) return Status{Code::SKIP, NAME, {}};
    return Status::success();
  }

  std::int64_t score(const CycleState& /*state*/, const Pod& pod, const NodeInfo& info) const override {
    std::int64_t sum = preferred_score(added_.preferred, *info.node);
    const auto& affinity = pod.spec.affinity.node_affinity;
    if (affinity) sum += preferred_score(affinity->preferred, *info.node);
    return sum;
  }

  void normalize(const CycleState& /*state*/, const Pod& /*pod*/, std::vector<NodeScore>& scores) const override {
    std::int64_t max_score = 0;
    for (const auto& n : scores) max_score = std::max(max_score, n.score);
    for (auto& n : scores) n.score = node_affinity_normalized_score(n.score, max_score);
  }

 private:
  NodeAffinity added_;  // addedAffinity from the args: applies to every pod
};

}  // namespace

std::unique_ptr<Plugin> make_node_affinity(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<NodeAffinityPlugin>(args, where);
}

// DefaultNormalizeScore(MaxNodeScore, reverse = false) for one node: 100 x score / max in
// integer arithmetic; scores stay (all 0) when max is 0. E.g. 20 of max 30: 2000/30 = 66.
std::int64_t node_affinity_normalized_score(std::int64_t score, std::int64_t max_score) {
  if (max_score == 0) return score;
  return MAX_NODE_SCORE * score / max_score;
}

}  // namespace aifsim::k8s::sched
