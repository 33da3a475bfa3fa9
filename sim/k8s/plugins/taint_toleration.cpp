// TaintToleration (after kube-scheduler's pkg/scheduler/framework/plugins/tainttoleration/
// taint_toleration.go, with helper.DefaultNormalizeScore from plugins/helper/
// normalize_score.go): a node's NoSchedule and NoExecute taints keep off every pod that
// does not tolerate them (unresolvable: preemption removes pods, not taints), and its
// PreferNoSchedule taints push pods away softly.
//
// Filter rejects on the first hard taint, in the node's order, that no toleration of the
// pod tolerates: "node(s) had untolerated taint {key: value}". Score counts the node's
// PreferNoSchedule taints not tolerated by the pod's tolerations whose effect is
// PreferNoSchedule or empty; NormalizeScore reverses the counts onto [0, 100]: the node
// with the most such taints gets 0, nodes with none get 100, the rest
// 100 - 100 x count / maxCount, all 100 when no node has any.
//
// Example: nodes a (no taints), b (one untolerated PreferNoSchedule taint) and c (two):
// raw 0, 1, 2; normalized 100, 100 - 100x1/2 = 50, 0.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formula, defined at the bottom.
std::int64_t taint_toleration_normalized_score(std::int64_t count, std::int64_t max_count);

namespace {

constexpr const char* NAME = "TaintToleration";
constexpr const char* PRE_SCORE_KEY = "PreScoreTaintToleration";

bool tolerated(const std::vector<Toleration>& tolerations, const Taint& taint) {
  return std::any_of(tolerations.begin(), tolerations.end(), [&](const Toleration& t) { return tolerates(t, taint); });
}

// An empty effect tolerates every effect, PreferNoSchedule included.
std::vector<Toleration> prefer_no_schedule_tolerations(const std::vector<Toleration>& tolerations) {
  std::vector<Toleration> out;
  for (const auto& t : tolerations)
    if (!t.effect || *t.effect == TaintEffect::PREFER_NO_SCHEDULE) out.push_back(t);
  return out;
}

std::int64_t count_intolerable_prefer_no_schedule(const std::vector<Taint>& taints,
                                                  const std::vector<Toleration>& tolerations) {
  std::int64_t n = 0;
  for (const auto& taint : taints)
    if (taint.effect == TaintEffect::PREFER_NO_SCHEDULE && !tolerated(tolerations, taint)) ++n;
  return n;
}

struct PreScoreState final : StateData {
  std::vector<Toleration> tolerations_prefer_no_schedule;
};

class TaintToleration final : public FilterPlugin, public PreScorePlugin, public ScorePlugin {
 public:
  // Upstream takes no arguments; any key given is a mistake worth reporting.
  TaintToleration(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader(args.is_null() ? empty : args, where).finish();
  }

  std::string name() const override { return NAME; }

  Status filter(const CycleState& /*state*/, const Pod& pod, const NodeInfo& node) const override {
    for (const auto& taint : node.node->taints) {
      if (taint.effect == TaintEffect::PREFER_NO_SCHEDULE) continue;
      if (tolerated(pod.spec.tolerations, taint)) continue;
      return Status::make(Code::UNSCHEDULABLE_AND_UNRESOLVABLE, NAME,
                          "node(s) had untolerated taint {" + taint.key + ": " + taint.value + "}");
    }
    return Status::success();
  }

  Status pre_score(CycleState& state, const Pod& pod, const Snapshot& /*snapshot*/,
                   const std::vector<const NodeInfo*>& /*feasible*/) const override {
    auto s = std::make_unique<PreScoreState>();
    s->tolerations_prefer_no_schedule = prefer_no_schedule_tolerations(pod.spec.tolerations);
    state.put(PRE_SCORE_KEY, std::move(s));
    return Status::success();
  }

  std::int64_t score(const CycleState& state, const Pod& pod, const NodeInfo& node) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    if (s) return count_intolerable_prefer_no_schedule(node.node->taints, s->tolerations_prefer_no_schedule);
    return count_intolerable_prefer_no_schedule(node.node->taints, prefer_no_schedule_tolerations(pod.spec.tolerations));
  }

  void normalize(const CycleState& /*state*/, const Pod& /*pod*/, std::vector<NodeScore>& scores) const override {
    std::int64_t max_count = 0;
    for (const auto& n : scores) max_count = std::max(max_count, n.score);
    for (auto& n : scores) n.score = taint_toleration_normalized_score(n.score, max_count);
  }
};

}  // namespace

std::unique_ptr<Plugin> make_taint_toleration(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<TaintToleration>(args, where);
}

// DefaultNormalizeScore(MaxNodeScore, reverse = true) for one node: 100 - 100 x count /
// maxCount in integer arithmetic, 100 when maxCount is 0. E.g. count 1 of max 3:
// 100 - 100/3 = 100 - 33 = 67.
std::int64_t taint_toleration_normalized_score(std::int64_t count, std::int64_t max_count) {
  if (max_count == 0) return MAX_NODE_SCORE;
  return MAX_NODE_SCORE - MAX_NODE_SCORE * count / max_count;
}

}  // namespace aifsim::k8s::sched
