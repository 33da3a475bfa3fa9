#include "cli/commands.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/text.hpp"
#include "engine/engine.hpp"
#include "k8s/admission.hpp"
#include "k8s/manifest.hpp"
#include "k8s/scheduler.hpp"
#include "platform/platform.hpp"
#include "platform/topology.hpp"
#include "scenario/runner.hpp"
#include "scenario/scenario.hpp"
#include "workload/swf.hpp"

namespace aifsim::cli {

namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void print_kubernetes_summary(const nlohmann::json& s, const std::string& out_dir) {
  const auto& k = s["kubernetes"];
  std::cout << "scenario    " << s["scenario"]["name"].get<std::string>() << "  (kubernetes on "
            << k["platform"].get<std::string>() << ", " << fixed(k["duration_s"].get<double>(), 0) << " s)\n";
  std::cout << "pods        " << k["pods"]["total"] << " total:";
  for (const auto& [state, n] : k["pods"]["by_state"].items()) std::cout << ' ' << n << ' ' << state;
  std::cout << '\n';
  auto dist = [](const nlohmann::json& d) {
    if (d["count"].get<int>() == 0) return std::string("none");
    return "mean " + fixed(d["mean"], 1) + "  p50 " + fixed(d["p50"], 1) + "  p99 " + fixed(d["p99"], 1);
  };
  std::cout << "pending_s   " << dist(k["pending_s"]) << '\n';
  std::cout << "startup_s   " << dist(k["startup_s"]) << "  (created to ready)\n";
  const auto& sc = k["scheduler"];
  std::cout << "scheduler   " << sc["attempts"] << " attempts, " << sc["scheduled"] << " bound, " << sc["preemptions"]
            << " preemptions\n";
  for (const auto& p : k["pools"])
    std::cout << "pool " << p["pool"].get<std::string>() << "  " << p["nodes"] << " nodes, GPUs allocated "
              << fixed(p["gpu_allocated_fraction"].get<double>() * 100, 1) << " %, ready "
              << fixed(p["gpu_ready_fraction"].get<double>() * 100, 1) << " %\n";
  std::cout << "wall time   " << fixed(s["performance"]["wall_time_s"], 3) << " s\n";
  std::cout << "outputs     " << out_dir << "/{summary.json,pods.csv,k8s_jobs.csv,k8s_nodes.csv,k8s_utilisation.csv,hpa.csv,trace.json}\n";
}

void print_factory_summary(const nlohmann::json& s, const std::string& out_dir) {
  const auto& f = s["factory"];
  const auto& b = s["batch"];
  std::cout << "scenario    " << s["scenario"]["name"].get<std::string>() << "  (factory, policy "
            << f["policy"].get<std::string>() << ", " << f["gpus"] << " GPUs, "
            << fixed(s["simulated_time_s"].get<double>() / 3600, 1) << " h)\n";
  std::cout << "utilisation " << fixed(f["utilisation"].get<double>() * 100, 1) << " % of GPU-hours allocated (batch "
            << fixed(f["allocated_gpu_hours"]["hpc"].get<double>(), 0) << ", kubernetes "
            << fixed(f["allocated_gpu_hours"]["k8s"].get<double>(), 0) << " of " << fixed(f["gpu_hours"].get<double>(), 0)
            << ")\n";
  std::cout << "ownership   batch " << fixed(f["owned_gpu_hours"]["hpc"].get<double>(), 0) << ", kubernetes "
            << fixed(f["owned_gpu_hours"]["k8s"].get<double>(), 0) << ", moving "
            << fixed(f["owned_gpu_hours"]["moving"].get<double>(), 0) << " GPU-hours; " << f["moves"] << " moves\n";
  std::cout << "batch       " << b["jobs_total"] << " jobs: wait mean " << fixed(b["wait_s"]["mean"], 0) << " s, bounded slowdown "
            << fixed(b["bounded_slowdown"]["mean"], 2) << '\n';
  if (s["kubernetes"].contains("services"))
    for (const auto& [name, v] : s["kubernetes"]["services"].items())
      std::cout << "service     " << name << ": " << v["requests"]["total"] << " requests, " << v["requests"]["completed"]
                << " completed, SLO attainment " << fixed(v["slo"]["attainment"].get<double>() * 100, 1) << " %, goodput "
                << fixed(v["goodput_rps"], 2) << " req/s\n";
  if (f.contains("serverless")) {
    const auto& c = f["serverless"];
    std::cout << "serverless  " << c["name"].get<std::string>() << ": " << c["calls"] << " calls, latency p50 "
              << fixed(c["latency_s"]["p50"], 1) << " s, p99 " << fixed(c["latency_s"]["p99"], 1) << " s\n";
  }
  std::cout << "wall time   " << fixed(s["performance"]["wall_time_s"], 3) << " s\n";
  std::cout << "outputs     " << out_dir << "/{summary.json,ownership.csv,jobs.csv,pods.csv,...}\n";
}

void print_summary(const nlohmann::json& s, const std::string& out_dir) {
  if (s.contains("factory")) {
    print_factory_summary(s, out_dir);
    return;
  }
  if (s.contains("kubernetes")) {
    print_kubernetes_summary(s, out_dir);
    return;
  }
  const auto& b = s["batch"];
  std::cout << "scenario    " << s["scenario"]["name"].get<std::string>() << "  (" << b["scheduler"].get<std::string>()
            << ", " << b["machine"].get<std::string>() << ")\n";
  std::cout << "jobs        " << b["jobs_total"] << " total: " << b["jobs"]["completed"] << " completed, "
            << b["jobs"]["timeout"] << " timeout, " << b["jobs"]["rejected"] << " rejected\n";
  std::cout << "wait_s      mean " << fixed(b["wait_s"]["mean"], 1) << "  median " << fixed(b["wait_s"]["median"], 1)
            << "  p95 " << fixed(b["wait_s"]["p95"], 1) << "  max " << fixed(b["wait_s"]["max"], 1) << '\n';
  std::cout << "slowdown    bounded mean " << fixed(b["bounded_slowdown"]["mean"], 2) << " (tau 10 s)\n";
  std::cout << "utilisation " << fixed(b["utilisation"].get<double>() * 100, 1) << " %   makespan "
            << fixed(b["makespan_s"].get<double>() / 86400, 2) << " days\n";
  std::cout << "wall time   " << fixed(s["performance"]["wall_time_s"], 3) << " s ("
            << fixed(s["performance"]["jobs_per_s"].get<double>(), 0) << " jobs/s)\n";
  std::cout << "outputs     " << out_dir << "/{summary.json,jobs.csv,utilisation.csv,rejections.csv}\n";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int command_run(const RunArgs& args) {
  auto scenario = scenario::load_scenario(args.scenario, args.overrides);
  auto summary = scenario::run_scenario(scenario, args.output, {args.quiet});
  if (!args.quiet) print_summary(summary, args.output);
  return 0;
}

int command_batch(const BatchArgs& args) {
  nlohmann::json doc;
  doc["name"] = "batch " + std::filesystem::path(args.swf).filename().string();
  doc["batch"] = {{"scheduler", args.scheduler}, {"resource_unit", args.unit}, {"overrun", args.overrun},
                  {"strict", args.strict}, {"workload", {{"swf", std::filesystem::absolute(args.swf).string()}}}};
  if (args.procs) doc["batch"]["capacity"] = *args.procs;
  if (args.max_jobs) doc["batch"]["workload"]["max_jobs"] = *args.max_jobs;
  auto scenario = scenario::parse_scenario(doc, "command line", std::filesystem::current_path());
  auto summary = scenario::run_scenario(scenario, args.output, {args.quiet});
  if (!args.quiet) print_summary(summary, args.output);
  return 0;
}

int command_validate(const std::string& file) {
  if (ends_with(file, ".yaml") || ends_with(file, ".yml")) {
    k8s::ManifestSet m = k8s::load_manifests(file);
    auto pods = k8s::admit(m);  // resolves priorities and controllers' pods: catches dangling references
    std::cout << file << ": valid manifests: " << m.nodes.size() << " nodes, " << pods.size() << " pods ("
              << m.deployments.size() << " deployments, " << m.replica_sets.size() << " replica sets, " << m.jobs.size()
              << " jobs), " << m.priority_classes.size() << " priority classes, " << m.hpas.size() << " autoscalers, "
              << m.pod_groups.size() << " pod groups, " << m.cluster_queues.size() << " cluster queues\n";
    for (const auto& s : m.skipped) std::cout << "skipped: " << s << '\n';
    return 0;
  }
  if (ends_with(file, ".swf") || ends_with(file, ".swf.gz")) {
    workload::SwfReader reader(file);
    std::uint64_t n = 0;
    while (reader.next()) ++n;
    std::cout << file << ": valid SWF, " << n << " jobs\n";
    return 0;
  }
  auto doc = load_json_file(file);
  if (doc.is_object() && doc.contains("node_types")) {
    auto p = platform::parse_platform(doc, file);
    std::cout << file << ": valid platform \"" << p.name << "\", " << p.node_count() << " nodes\n";
    return 0;
  }
  auto s = scenario::parse_scenario(doc, file, std::filesystem::path(file).parent_path());
  // Check what the scenario points at, too.
  if (s.kubernetes) {
    auto platform = platform::load_platform(*s.platform_file);
    k8s::ManifestSet m;
    for (const auto& f : s.kubernetes->manifests) k8s::load_manifests(f, m);
    auto pods = k8s::admit(m);
    if (s.kubernetes->scheduler_config) k8s::sched::load_scheduler_config(*s.kubernetes->scheduler_config);
    if (s.factory)
      std::cout << file << ": valid scenario \"" << s.name << "\" (dual-stack factory, policy " << s.factory->config.policy
                << ", on " << platform.name << ", " << platform.node_count() << " nodes; batch trace "
                << s.batch.workload.swf.filename().string() << ", " << pods.size() << " pods at start, "
                << s.kubernetes->services.size() << " services)\n";
    else
      std::cout << file << ": valid scenario \"" << s.name << "\" (kubernetes on " << platform.name << ", "
                << platform.node_count() << " nodes; " << pods.size() << " pods at start)\n";
    return 0;
  }
  auto machine = scenario::resolve_batch_machine(s);
  workload::SwfReader reader(s.batch.workload.swf);
  std::uint64_t n = 0;
  while (reader.next()) ++n;
  std::cout << file << ": valid scenario \"" << s.name << "\" (" << machine.capacity << " "
            << hpc::to_string(s.batch.unit) << ", " << n << " jobs in the trace)\n";
  return 0;
}

int command_platform_info(const PlatformInfoArgs& args) {
  auto spec = platform::load_platform(args.file);
  platform::Topology topology(spec);
  auto s = topology.summarize();
  nlohmann::json j;
  j["name"] = spec.name;
  j["nodes"] = s.nodes;
  j["switches"] = s.switches;
  j["links"] = s.links;
  j["cpu_cores"] = s.cpu_cores;
  j["gpus"] = nlohmann::json::object();
  long long gpus = 0;
  for (const auto& [model, n] : s.gpus_by_model) j["gpus"][model] = n, gpus += n;
  j["gpus_total"] = gpus;
  j["bisection_bw_Bps"] = s.bisection_bw_Bps ? nlohmann::json(*s.bisection_bw_Bps) : nlohmann::json(nullptr);
  j["diameter_hops"] = s.diameter_hops;
  nlohmann::json hops = nlohmann::json::object();
  for (const auto& [h, n] : s.hop_distribution) hops[std::to_string(h)] = n;
  j["hop_distribution"] = hops;
  j["idle_power_w"] = s.idle_power_w ? nlohmann::json(*s.idle_power_w) : nlohmann::json(nullptr);
  j["peak_power_w"] = s.peak_power_w ? nlohmann::json(*s.peak_power_w) : nlohmann::json(nullptr);
  j["services"] = nlohmann::json::array();
  for (const auto& sv : spec.services) j["services"].push_back({{"name", sv.name}, {"kind", sv.kind}, {"bw_Bps", sv.bw_Bps}});
  if (args.simgrid) {
    auto t0 = std::chrono::steady_clock::now();
    engine::Engine engine;
    engine.build_platform(topology);
    double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    j["simgrid"] = {{"hosts", engine.host_count()}, {"links", engine.link_count()}, {"build_s", build_s}};
  }
  if (args.json) {
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  std::cout << "platform     " << spec.name << (spec.description.empty() ? "" : "  (" + spec.description + ")") << '\n';
  std::cout << "nodes        " << s.nodes << "   switches " << s.switches << "   links " << s.links << '\n';
  std::cout << "cpu cores    " << s.cpu_cores << '\n';
  std::cout << "gpus         " << gpus;
  for (const auto& [model, n] : s.gpus_by_model) std::cout << "  " << model << ": " << n;
  std::cout << '\n';
  if (s.bisection_bw_Bps)
    std::cout << "bisection    " << format_number(*s.bisection_bw_Bps) << " B/s (" << fixed(*s.bisection_bw_Bps * 8 / 1e12, 2)
              << " Tb/s, one direction)\n";
  else
    std::cout << "bisection    unknown (the platform does not model its fabric)\n";
  if (!s.hop_distribution.empty()) {
    std::cout << "diameter     " << s.diameter_hops << " links\n";
    std::cout << "hops         ";
    for (const auto& [h, n] : s.hop_distribution) std::cout << h << " links: " << n << " pairs   ";
    std::cout << '\n';
  }
  auto power = [](const std::optional<double>& w) { return w ? fixed(*w / 1e3, 1) + " kW" : std::string("unknown"); };
  std::cout << "power        idle " << power(s.idle_power_w) << "   peak " << power(s.peak_power_w) << '\n';
  for (const auto& sv : spec.services)
    std::cout << "service      " << sv.name << " (" << sv.kind << "), " << format_number(sv.bw_Bps) << " B/s to the top switch\n";
  if (args.simgrid)
    std::cout << "simgrid      " << j["simgrid"]["hosts"] << " hosts, " << j["simgrid"]["links"] << " links, built in "
              << fixed(j["simgrid"]["build_s"], 3) << " s\n";
  return 0;
}

}  // namespace aifsim::cli
