#include "k8s/explain.hpp"

#include "k8s/admission.hpp"

namespace aifsim::k8s {

nlohmann::json explain_cycle(const sched::CycleResult& cycle, int attempt, std::optional<double> time_s) {
  nlohmann::json a;
  a["attempt"] = attempt;
  if (time_s) a["time_s"] = *time_s;
  a["nodes_evaluated"] = cycle.nodes_evaluated;
  a["feasible"] = cycle.feasible;
  a["chosen"] = cycle.node ? nlohmann::json(*cycle.node) : nlohmann::json(nullptr);
  if (!cycle.node) a["status"] = cycle.status.reasons;
  for (const auto& e : cycle.explanation) {
    nlohmann::json n;
    n["node"] = e.node;
    if (e.filtered_out) {
      n["filtered_by"] = e.filtered_out->plugin;
      n["reasons"] = e.filtered_out->reasons;
    } else {
      n["total"] = e.total;
      for (const auto& s : e.scores)
        n["scores"][s.plugin] = {{"raw", s.raw}, {"normalized", s.normalized}, {"weight", s.weight}};
    }
    a["nodes"].push_back(n);
  }
  if (cycle.preemption) {
    a["preemption"]["node"] = cycle.preemption->node;
    for (const Pod* v : cycle.preemption->victims) a["preemption"]["victims"].push_back(full_name(*v));
  }
  return a;
}

}  // namespace aifsim::k8s
