#include "scenario/runner.hpp"

#include <chrono>
#include <fstream>
#include <iostream>

#include "core/error.hpp"
#include "core/process.hpp"
#include "engine/engine.hpp"
#include "gpu/gpu_model.hpp"
#include "hpc/batch_stack.hpp"
#include "k8s/cluster.hpp"
#include "k8s/manifest.hpp"
#include "metrics/k8s_outputs.hpp"
#include "metrics/batch_metrics.hpp"
#include "platform/platform.hpp"
#include "workload/swf.hpp"
#include "workload/swf_source.hpp"

#ifndef AIFSIM_VERSION
#define AIFSIM_VERSION "unknown"
#endif

namespace aifsim::scenario {

BatchMachine resolve_batch_machine(const Scenario& s) {
  BatchMachine m;
  const auto unit = s.batch.unit;
  if (s.platform_file) {
    auto p = platform::load_platform(*s.platform_file);
    int cores = -1;
    for (const auto& g : p.groups) {
      int c = p.type_of(g).cpu_cores;
      if (cores >= 0 && c != cores && unit == hpc::ResourceUnit::NODES)
        throw InputError(s.file + ": at $.batch.resource_unit",
                         "\"nodes\" needs nodes of one core count to turn processors into nodes; " +
                             s.platform_file->string() + " mixes " + std::to_string(cores) + " and " + std::to_string(c));
      cores = c;
    }
    m.procs_per_node = cores;
    m.description = p.name;
    if (unit == hpc::ResourceUnit::PROCS) m.capacity = static_cast<int>(p.total_cores());
    if (unit == hpc::ResourceUnit::GPUS) m.capacity = static_cast<int>(p.total_gpus());
    if (unit == hpc::ResourceUnit::NODES) m.capacity = p.node_count();
    if (m.capacity == 0)
      throw InputError(s.file + ": at $.batch.resource_unit", "platform " + p.name + " has no " + hpc::to_string(unit));
  } else {
    // The machine the trace itself describes.
    workload::SwfReader reader(s.batch.workload.swf);
    const auto& h = reader.header();
    auto nodes = h.max_nodes ? h.max_nodes : h.max_procs;
    auto procs = h.max_procs ? h.max_procs : h.max_nodes;
    if (!nodes && !s.batch.capacity)
      throw InputError(s.batch.workload.swf.string(),
                       "the trace header gives neither MaxProcs nor MaxNodes; give the machine size (--procs N, or "
                       "batch.capacity, or a platform)");
    if (nodes && procs) {
      if (*nodes <= 0 || *procs % *nodes != 0)
        throw InputError(s.batch.workload.swf.string(), "header MaxProcs " + std::to_string(*procs) +
                                                            " is not a multiple of MaxNodes " + std::to_string(*nodes));
      m.procs_per_node = static_cast<int>(*procs / *nodes);
      m.capacity = static_cast<int>(unit == hpc::ResourceUnit::NODES ? *nodes : *procs);
      m.description = "trace header: " + std::to_string(*nodes) + " nodes, " + std::to_string(*procs) + " procs";
    }
    if (unit == hpc::ResourceUnit::GPUS)
      throw InputError(s.file + ": at $.batch.resource_unit", "\"gpus\" needs a platform with GPUs; an SWF header describes processors");
  }
  if (s.batch.capacity) {
    m.capacity = *s.batch.capacity;
    m.description += (m.description.empty() ? "" : "; ") + std::string("capacity set to ") + std::to_string(m.capacity);
  }
  return m;
}

namespace {
void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path.string(), "cannot create output file");
  out << j.dump(2) << '\n';
  if (!out) throw SimulationError("cannot write " + path.string());
}
}  // namespace

namespace {

nlohmann::json run_kubernetes(const Scenario& s, const std::filesystem::path& out_dir,
                              std::chrono::steady_clock::time_point wall_start) {
  const KubernetesSpec& spec = *s.kubernetes;
  const auto platform = platform::load_platform(*s.platform_file);
  k8s::ManifestSet manifests;
  for (const auto& file : spec.manifests) k8s::load_manifests(file, manifests);
  k8s::ClusterConfig config = spec.cluster;
  config.profile = spec.scheduler_config ? k8s::sched::load_scheduler_config(*spec.scheduler_config)
                                         : k8s::sched::default_profile();
  std::optional<gpu::GpuModel> gpu_model;
  if (spec.gpu_profile) gpu_model.emplace(gpu::load_profile(*spec.gpu_profile));
  const auto result = k8s::simulate_cluster(platform, manifests, config, gpu_model ? &*gpu_model : nullptr);
  if (!config.explain_pod.empty() && result.explanation.empty())
    throw InputError(s.file + ": at $.kubernetes.explain",
                     "no pod named \"" + config.explain_pod + "\" was ever scheduled (use NAMESPACE/NAME or NAME)");

  nlohmann::json summary;
  summary["aifsim_version"] = AIFSIM_VERSION;
  summary["scenario"] = {{"file", s.file}, {"name", s.name}, {"seed", s.seed}, {"effective", s.effective}};
  summary["kubernetes"] = metrics::write_cluster_outputs(result, out_dir);
  summary["kubernetes"]["platform"] = platform.name;
  summary["simulated_time_s"] = result.duration_s;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  summary["performance"] = {{"wall_time_s", wall_s},
                            {"pods_per_s", wall_s > 0 ? result.pods.size() / wall_s : 0.0},
                            {"peak_rss_bytes", peak_rss_bytes()}};
  write_json(out_dir / "summary.json", summary);
  return summary;
}

}  // namespace

nlohmann::json run_scenario(const Scenario& s, const std::filesystem::path& out_dir, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw InputError(out_dir.string(), "cannot create output directory: " + ec.message());
  if (s.kubernetes) return run_kubernetes(s, out_dir, wall_start);

  BatchMachine machine = resolve_batch_machine(s);
  engine::Engine engine;
  workload::SwfJobSource source(s.batch.workload.swf, s.batch.workload.max_jobs);
  metrics::BatchMetrics metrics(metrics::BatchMetricsOptions{out_dir, false, s.slowdown_tau_s});
  hpc::BatchConfig config;
  config.scheduler = s.batch.scheduler;
  config.unit = s.batch.unit;
  config.capacity = machine.capacity;
  config.procs_per_node = machine.procs_per_node;
  config.kill_at_limit = s.batch.kill_at_limit;
  config.strict = s.batch.strict;
  hpc::BatchStack stack(engine, config, source, metrics);
  stack.start();
  engine.run();
  stack.check_drained();
  metrics.finish(stack.stats().jobs_entered);

  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  nlohmann::json summary;
  summary["aifsim_version"] = AIFSIM_VERSION;
  summary["scenario"] = {{"file", s.file}, {"name", s.name}, {"seed", s.seed}, {"effective", s.effective}};
  nlohmann::json batch = metrics.summary();
  batch["scheduler"] = s.batch.scheduler;
  batch["resource_unit"] = hpc::to_string(s.batch.unit);
  batch["overrun"] = s.batch.kill_at_limit ? "kill" : "run";
  batch["machine"] = machine.description;
  const auto& header = source.header();
  batch["trace"] = {{"file", s.batch.workload.swf.string()},
                    {"computer", header.fields.count("Computer") ? header.fields.at("Computer") : ""},
                    {"unix_start_time", header.unix_start_time ? nlohmann::json(*header.unix_start_time) : nlohmann::json(nullptr)}};
  batch["scheduling_passes"] = stack.stats().scheduling_passes;
  batch["peak_queue_length"] = stack.stats().peak_queue;
  summary["batch"] = batch;
  const auto& es = engine.stats();
  summary["simulated_time_s"] = engine.now();
  summary["engine"] = {{"events_dispatched", es.events_dispatched}, {"peak_pending_events", es.peak_pending_events},
                       {"simgrid_activities", es.activities_started}};
  // Wall-clock figures differ between runs by nature; everything else is deterministic.
  summary["performance"] = {{"wall_time_s", wall_s},
                            {"jobs_per_s", wall_s > 0 ? stack.stats().jobs_entered / wall_s : 0.0},
                            {"events_per_s", wall_s > 0 ? es.events_dispatched / wall_s : 0.0},
                            {"peak_rss_bytes", peak_rss_bytes()}};
  write_json(out_dir / "summary.json", summary);

  const auto& rejected = batch["jobs"]["rejected"];
  if (!options.quiet && rejected.get<std::uint64_t>() > 0)
    std::cerr << "aifsim: warning: " << rejected.get<std::uint64_t>()
              << " jobs can never run on this machine and were recorded as rejected (see "
              << (out_dir / "rejections.csv").string() << "; --strict makes this an error)\n";
  return summary;
}

}  // namespace aifsim::scenario
