// aifsim k8s schedule: places a manifest set's pods with the scheduler and explains why.
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "k8s/manifest.hpp"
#include "k8s/placement.hpp"
#include "k8s/scheduler.hpp"

namespace aifsim::cli {

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
}  // namespace

int command_k8s_schedule(const K8sScheduleArgs& args) {
  k8s::ManifestSet manifests;
  for (const auto& f : args.manifests) k8s::load_manifests(f, manifests);
  if (manifests.nodes.empty()) throw InputError(args.manifests.front(), "the manifests define no Node to schedule onto");
  k8s::sched::ProfileConfig profile =
      args.scheduler_config.empty() ? k8s::sched::default_profile() : k8s::sched::load_scheduler_config(args.scheduler_config);
  auto result = k8s::place(manifests, profile, args.seed, args.explain);
  if (!args.explain.empty() && result.explanation.empty())
    throw InputError("--explain", "no pod named \"" + args.explain + "\" (use NAMESPACE/NAME or NAME)");

  std::error_code ec;
  std::filesystem::create_directories(args.output, ec);
  if (ec) throw InputError(args.output, "cannot create output directory: " + ec.message());
  const std::filesystem::path out(args.output);
  {
    std::ofstream csv(out / "placements.csv", std::ios::binary | std::ios::trunc);
    csv << "pod,namespace,owner,priority,node,state,attempts,reason\n";
    for (const auto& p : result.pods)
      csv << csv_field(p.name) << ',' << csv_field(p.namespace_) << ',' << csv_field(p.owner) << ',' << p.priority << ','
          << p.node << ',' << p.state << ',' << p.attempts << ',' << csv_field(p.reason) << '\n';
  }
  std::map<std::string, int> states;
  for (const auto& p : result.pods) ++states[p.state];
  nlohmann::json summary;
  summary["pods"] = states;
  summary["nodes"] = manifests.nodes.size();
  summary["scheduler"] = {{"profile", profile.scheduler_name},
                          {"plugins", profile.plugins},
                          {"score_weights", profile.score_weights},
                          {"attempts", result.attempts},
                          {"preemptions", result.preemptions},
                          {"unschedulable_reasons", result.unschedulable_reasons},
                          {"seed", args.seed}};
  summary["skipped"] = manifests.skipped;
  {
    std::ofstream s(out / "summary.json", std::ios::binary | std::ios::trunc);
    s << summary.dump(2) << '\n';
  }
  if (!args.explain.empty()) {
    std::ofstream e(out / "explain.json", std::ios::binary | std::ios::trunc);
    e << nlohmann::json{{"pod", args.explain}, {"attempts", result.explanation}}.dump(2) << '\n';
    std::cout << nlohmann::json{{"pod", args.explain}, {"attempts", result.explanation}}.dump(2) << '\n';
  }
  if (!args.quiet) {
    std::cout << "pods        ";
    for (const auto& [state, n] : states) std::cout << n << " " << state << "  ";
    std::cout << "\nscheduler   " << result.attempts << " attempts, " << result.preemptions << " preemptions\n";
    for (const auto& [reason, n] : result.unschedulable_reasons) std::cout << "unschedulable " << n << ": " << reason << '\n';
    for (const auto& s : manifests.skipped) std::cout << "skipped     " << s << '\n';
    std::cout << "outputs     " << args.output << "/{placements.csv,summary.json" << (args.explain.empty() ? "" : ",explain.json")
              << "}\n";
  }
  return 0;
}

}  // namespace aifsim::cli
