#include "scenario/runner.hpp"

#include <chrono>
#include <random>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <unistd.h>
#include <fstream>
#include <iostream>

#include "core/error.hpp"
#include "core/process.hpp"
#include "core/text.hpp"
#include "engine/engine.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"
#include "hpc/batch_stack.hpp"
#include "factory/factory.hpp"
#include "k8s/cluster.hpp"
#include "platform/topology.hpp"
#include "k8s/manifest.hpp"
#include "metrics/k8s_outputs.hpp"
#include "metrics/serving_metrics.hpp"
#include "metrics/stats.hpp"
#include "serving/service.hpp"
#include "workload/request_source.hpp"
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

std::unique_ptr<workload::RequestSource> open_requests(const RequestsSpec& spec, std::uint64_t seed, const std::string& where) {
  if (spec.trace) {
    workload::TraceOptions options;
    options.rate_scale = spec.rate_scale;
    options.start_s = spec.start_s;
    options.end_s = spec.end_s;
    options.max_requests = spec.max_requests;
    return workload::open_request_trace(*spec.trace, options);
  }
  return std::make_unique<workload::RequestGenerator>(*spec.generator, seed, where);
}

metrics::ServingMetricsOptions metrics_options(const ServingSpec& spec, const std::filesystem::path& csv) {
  constexpr std::uint64_t CSV_AUTO_LIMIT = 100000;
  metrics::ServingMetricsOptions mo;
  mo.ttft_slo_s = spec.ttft_slo_s;
  mo.tpot_slo_s = spec.tpot_slo_s;
  if (spec.requests_csv != "never") mo.requests_csv = csv;
  if (spec.requests_csv == "auto") mo.csv_limit = CSV_AUTO_LIMIT;
  return mo;
}

// The cluster's configuration from the scenario: scheduler profile and services bound to
// their Deployments (requests.csv per service in out_dir).
k8s::ClusterConfig cluster_config(const Scenario& s, const std::filesystem::path& out_dir) {
  const KubernetesSpec& spec = *s.kubernetes;
  k8s::ClusterConfig config = spec.cluster;
  config.profile = spec.scheduler_config ? k8s::sched::load_scheduler_config(*spec.scheduler_config)
                                         : k8s::sched::default_profile();
  for (std::size_t i = 0; i < spec.services.size(); ++i) {
    const auto& sv = spec.services[i];
    k8s::ServiceBinding b;
    b.name = sv.name;
    b.deployment = sv.deployment;
    b.card = gpu::load_model_card(sv.serving.model_card);
    b.tp = sv.serving.tp;
    b.service = sv.serving.service;
    b.service.seed = s.seed + i;
    const std::string where = s.file + ": at $.kubernetes.services[" + std::to_string(i) + "].requests.generator";
    b.requests = [&sv, seed = s.seed + i, where] { return open_requests(sv.serving.requests, seed, where); };
    b.metrics = metrics_options(sv.serving, out_dir / ("requests-" + sv.name + ".csv"));
    config.services.push_back(std::move(b));
  }
  return config;
}

nlohmann::json run_kubernetes(const Scenario& s, const std::filesystem::path& out_dir,
                              std::chrono::steady_clock::time_point wall_start) {
  const KubernetesSpec& spec = *s.kubernetes;
  const auto platform = platform::load_platform(*s.platform_file);
  k8s::ManifestSet manifests;
  for (const auto& file : spec.manifests) k8s::load_manifests(file, manifests);
  k8s::ClusterConfig config = cluster_config(s, out_dir);
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

nlohmann::json run_serving(const Scenario& s, const std::filesystem::path& out_dir,
                           std::chrono::steady_clock::time_point wall_start) {
  const ServingSpec& spec = *s.serving;
  const auto card = gpu::load_model_card(spec.model_card);
  const gpu::GpuModel gpu_model(gpu::load_profile(spec.gpu_profile));
  const gpu::TransformerCost cost(gpu_model, card, spec.tp);
  auto source = open_requests(spec.requests, s.seed, s.file + ": at $.serving.requests.generator");
  metrics::ServingMetrics metrics(metrics_options(spec, out_dir / "requests.csv"));
  engine::Engine engine;
  std::optional<serving::Service> colocated;
  std::optional<serving::DisaggregatedService> disaggregated;
  std::vector<std::pair<std::string, const serving::Service*>> pools;
  bool source_done = false;
  auto next = [&] {
    auto r = source->next();
    source_done = !r;
    return r;
  };
  if (spec.disaggregation) {
    disaggregated.emplace(engine, cost, gpu_model, spec.service, *spec.disaggregation, metrics);
    disaggregated->stream(next);
    pools = {{"prefill", &disaggregated->prefill()}, {"decode", &disaggregated->decode()}};
  } else {
    colocated.emplace(engine, cost, gpu_model, spec.service, metrics);
    colocated->stream(next);
    pools = {{"replicas", &*colocated}};
  }
  // Each replica's state over time, sampled while requests keep arriving or running.
  std::optional<std::ofstream> samples;
  // Lives in this scope until the run ends; the events hold copies capturing it by reference.
  std::function<void()> sample;
  if (spec.sample_interval_s > 0) {
    samples.emplace(out_dir / "replicas.csv", std::ios::binary | std::ios::trunc);
    if (!*samples) throw InputError((out_dir / "replicas.csv").string(), "cannot create output file");
    *samples << "time_s,pool,replica,running,waiting,kv_usage\n";
    sample = [&] {
      int outstanding = 0;
      for (const auto& [pool, service] : pools)
        for (const auto& r : service->replicas()) {
          *samples << format_number(engine.now()) << ',' << pool << ',' << r->index() << ',' << r->running() << ','
                   << r->waiting() << ',' << format_number(r->kv_usage()) << '\n';
          outstanding += r->outstanding();
        }
      // Stop once every request has arrived and none is left (KV transfers between the
      // pools of a disaggregated service count as left: they are in flight).
      const bool transfers = disaggregated && disaggregated->in_flight() > 0;
      if (!source_done || outstanding > 0 || transfers) engine.after(spec.sample_interval_s, sample);
    };
    engine.at(0, sample);
  }
  engine.run();

  nlohmann::json summary;
  summary["aifsim_version"] = AIFSIM_VERSION;
  summary["scenario"] = {{"file", s.file}, {"name", s.name}, {"seed", s.seed}, {"effective", s.effective}};
  nlohmann::json sv = metrics.summary();
  const auto& first_pool = *pools.front().second;
  const auto& rc = first_pool.replicas().empty() ? spec.service.replica : first_pool.replicas()[0]->config();
  sv["model"] = card.name;
  sv["gpu"] = gpu_model.profile().device.name;
  sv["tp"] = spec.tp;
  sv["replicas"] = spec.disaggregation ? spec.disaggregation->prefill_replicas + spec.disaggregation->decode_replicas
                                       : spec.service.replicas;
  if (spec.disaggregation)
    sv["disaggregation"] = {{"prefill_replicas", spec.disaggregation->prefill_replicas},
                            {"decode_replicas", spec.disaggregation->decode_replicas},
                            {"kv_transfer_bw_Bps", spec.disaggregation->kv_transfer_bw_Bps},
                            {"kv_transfer_latency_s", spec.disaggregation->kv_transfer_latency_s}};
  sv["router"] = spec.service.router;
  sv["requests_source"] = source->describe();
  sv["engine"] = {{"max_num_seqs", rc.max_num_seqs}, {"max_num_batched_tokens", rc.max_num_batched_tokens},
                  {"chunked_prefill", rc.chunked_prefill}, {"block_size", rc.block_size},
                  {"gpu_memory_utilization", rc.gpu_memory_utilization}, {"max_model_len", rc.max_model_len},
                  {"preemption", rc.preemption == serving::PreemptionMode::SWAP ? "swap" : "recompute"},
                  {"policy", rc.policy == serving::SchedulePolicy::DECODE_FIRST ? "decode_first" : "prefill_first"}};
  nlohmann::json per_replica = nlohmann::json::array();
  std::uint64_t iterations = 0, events = 0;
  const double span = sv["span_s"].get<double>();
  for (const auto& [pool, service] : pools)
  for (const auto& r : service->replicas()) {
    const auto& st = r->stats();
    iterations += st.iterations;
    events += st.end_events;
    per_replica.push_back({{"pool", pool},
                           {"replica", r->index()},
                           {"kv_cache_tokens", static_cast<std::int64_t>(r->total_blocks()) * rc.block_size},
                           {"iterations", st.iterations},
                           {"preemptions", st.preemptions},
                           {"busy_fraction", span > 0 ? st.busy_s / span : 0.0},
                           {"mean_batch_size", st.busy_s > 0 ? st.batch_size_time_integral / st.busy_s : 0.0},
                           {"mean_kv_usage", st.busy_s > 0 ? st.kv_blocks_time_integral / st.busy_s / r->total_blocks() : 0.0}});
  }
  sv["per_replica"] = per_replica;
  summary["serving"] = sv;
  summary["simulated_time_s"] = engine.now();
  summary["engine"] = {{"events_dispatched", engine.stats().events_dispatched}, {"iterations", iterations},
                       {"iteration_events", events}};
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  summary["performance"] = {{"wall_time_s", wall_s},
                            {"requests_per_s", wall_s > 0 ? metrics.requests() / wall_s : 0.0},
                            {"peak_rss_bytes", peak_rss_bytes()}};
  write_json(out_dir / "summary.json", summary);
  return summary;
}

// A progress line on stderr, when it is a terminal, every 1 % of the simulated time. The
// events it posts change no state, so outputs stay the same.
void progress_tick(engine::Engine& engine, double duration_s, double step) {
  const double now = engine.now();
  std::fprintf(stderr, "\raifsim: %3.0f %% of %.1f h simulated", 100 * now / duration_s, duration_s / 3600);
  if (now + step < duration_s) engine.after(step, [&engine, duration_s, step] { progress_tick(engine, duration_s, step); });
  else std::fprintf(stderr, "\n");
}

void show_progress(engine::Engine& engine, double duration_s, bool quiet) {
  if (quiet || !isatty(fileno(stderr)) || !(duration_s > 0)) return;
  const double step = duration_s / 100;
  engine.at(step, [&engine, duration_s, step] { progress_tick(engine, duration_s, step); });
}

// Passes the batch stack's records on, integrating the units its own jobs hold over time.
class AllocationIntegral : public metrics::BatchRecorder {
 public:
  explicit AllocationIntegral(metrics::BatchRecorder& next) : next_(next) {}
  void job_ended(const metrics::JobRecord& r) override { next_.job_ended(r); }
  void sample(const metrics::ClusterSample& s) override {
    unit_s_ += allocated_ * (s.time_s - last_s_);
    last_s_ = s.time_s;
    // Pilot jobs' units serve Kubernetes: the cluster counts what its pods hold there.
    const int allocated = s.allocated - s.external_allocated;
    if (changes.empty() || changes.back().second != allocated) {
      if (!changes.empty() && changes.back().first == s.time_s) changes.back().second = allocated;
      else changes.emplace_back(s.time_s, allocated);
    }
    allocated_ = allocated;
    next_.sample(s);
  }
  double unit_seconds(double now) const { return unit_s_ + allocated_ * (now - last_s_); }
  // (time, units) at every change, for the timeline.
  std::vector<std::pair<double, int>> changes;

 private:
  metrics::BatchRecorder& next_;
  double unit_s_ = 0, last_s_ = 0;
  int allocated_ = 0;
};

nlohmann::json run_factory(const Scenario& s, const std::filesystem::path& out_dir,
                           std::chrono::steady_clock::time_point wall_start, bool quiet) {
  const FactorySpec& fs = *s.factory;
  const auto platform = platform::load_platform(*s.platform_file);
  const int n = platform.node_count();
  if (fs.k8s_nodes > n)
    throw InputError(s.file + ": at $.factory.k8s_nodes", "the platform has " + std::to_string(n) + " nodes");
  // Batch units per node, and the split: the last k8s_nodes nodes start as Kubernetes'.
  std::vector<int> units;
  int gpus_total = 0;
  for (const auto& g : platform.groups) {
    const auto& t = platform.type_of(g);
    const int u = s.batch.unit == hpc::ResourceUnit::NODES ? 1 : s.batch.unit == hpc::ResourceUnit::GPUS ? t.gpus : t.cpu_cores;
    if (u <= 0)
      throw InputError(s.file + ": at $.batch.resource_unit", "nodes of type " + t.name + " have no " + hpc::to_string(s.batch.unit));
    for (int i = 0; i < g.count; ++i) units.push_back(u);
    gpus_total += t.gpus * g.count;
  }
  factory::FactoryConfig fc = fs.config;
  fc.initial_k8s.assign(n, false);
  for (int i = n - fs.k8s_nodes; i < n; ++i) fc.initial_k8s[i] = true;
  int hpc_units = 0, all_units = 0;
  for (int i = 0; i < n; ++i) {
    all_units += units[i];
    if (!fc.initial_k8s[i]) hpc_units += units[i];
  }
  // A batch unit in GPUs, for the GPU-hours the batch stack allocates.
  const double gpus_per_unit = all_units > 0 ? static_cast<double>(gpus_total) / all_units : 0.0;

  engine::Engine engine;
  platform::Topology topology(platform);
  const auto& lifecycle = s.kubernetes->cluster.lifecycle;
  if (!lifecycle.registry.empty() || !lifecycle.storage.empty()) {
    if (!topology.fabric_modelled())
      throw InputError(platform.name, "image pulls and weight loads need the fabric: give every node type nic_bw_Bps");
    engine.build_platform(topology);
  }
  factory::Broker broker(engine, platform, fc, units);

  k8s::ManifestSet manifests;
  for (const auto& file : s.kubernetes->manifests) k8s::load_manifests(file, manifests);
  k8s::ClusterConfig cc = cluster_config(s, out_dir);
  cc.members = fc.initial_k8s;
  cc.provider = &broker;
  // The cluster asks the broker for nodes through its autoscaler: every pool may grow to
  // the whole machine unless the scenario limits it.
  if (cc.autoscaler.pools.empty())
    for (const auto& g : platform.groups) cc.autoscaler.pools[g.prefix] = k8s::PoolLimits{0, g.count, 0};
  std::optional<gpu::GpuModel> gpu_model;
  if (s.kubernetes->gpu_profile) gpu_model.emplace(gpu::load_profile(*s.kubernetes->gpu_profile));
  k8s::Cluster cluster(engine, topology, manifests, cc, gpu_model ? &*gpu_model : nullptr);

  workload::SwfJobSource source(s.batch.workload.swf, s.batch.workload.max_jobs);
  metrics::BatchMetrics batch_metrics(metrics::BatchMetricsOptions{out_dir, false, s.slowdown_tau_s});
  AllocationIntegral allocation(batch_metrics);
  hpc::BatchConfig bc;
  bc.scheduler = s.batch.scheduler;
  bc.unit = s.batch.unit;
  bc.capacity = hpc_units;
  bc.max_capacity = all_units;
  bc.procs_per_node = platform.type_of(platform.groups.front()).cpu_cores;
  bc.kill_at_limit = s.batch.kill_at_limit;
  bc.strict = s.batch.strict;
  hpc::BatchStack batch(engine, bc, source, allocation);

  broker.attach(batch, cluster);
  cluster.start();
  batch.start();
  broker.start();
  // Serverless HPC calls: Poisson arrivals, each a short batch job through the queue.
  struct CallStats {
    std::uint64_t submitted = 0, finished = 0;
    std::vector<double> queue_s, latency_s;
  } calls;
  std::mt19937_64 rng(s.seed ^ 0x73657276ULL);
  std::function<void()> arrive;  // lives until the run ends; events capture it by reference
  if (fs.serverless) {
    const ServerlessSpec sv = *fs.serverless;
    const double until = sv.duration_s > 0 ? sv.duration_s : fs.duration_s;
    arrive = [&engine, &batch, &calls, &rng, &arrive, sv, until] {
      const double submitted = engine.now();
      ++calls.submitted;
      auto started = std::make_shared<double>(0);
      batch.submit_external(
          sv.units, sv.runtime_s, [&engine, started] { *started = engine.now(); },
          [&engine, &calls, submitted, started] {
            ++calls.finished;
            calls.queue_s.push_back(*started - submitted);
            calls.latency_s.push_back(engine.now() - submitted);
          });
      // Exponential gaps by inversion of one uniform draw: the same on every library.
      const double u = std::ldexp(static_cast<double>(rng() >> 11), -53);
      const double next = engine.now() - std::log1p(-u) / sv.rate_rps;
      if (next < until) engine.at(next, [&arrive] { arrive(); });
    };
    const double u = std::ldexp(static_cast<double>(rng() >> 11), -53);
    const double first = -std::log1p(-u) / sv.rate_rps;
    if (first < until) engine.at(first, [&arrive] { arrive(); });
  }
  show_progress(engine, fs.duration_s, quiet);
  engine.run_until(fs.duration_s);
  batch.stop_at_horizon();
  batch_metrics.finish(batch.stats().jobs_entered);
  const auto k8s_result = cluster.finish();
  broker.finish();
  broker.check_invariants();

  nlohmann::json summary;
  summary["aifsim_version"] = AIFSIM_VERSION;
  summary["scenario"] = {{"file", s.file}, {"name", s.name}, {"seed", s.seed}, {"effective", s.effective}};
  nlohmann::json b = batch_metrics.summary();
  b["scheduler"] = s.batch.scheduler;
  b["resource_unit"] = hpc::to_string(s.batch.unit);
  summary["batch"] = b;
  // The timeline: who owns how many nodes, and the GPUs batch jobs hold, beside the pods.
  nlohmann::json extra = nlohmann::json::array();
  extra.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 0}, {"args", {{"name", "factory"}}}});
  for (const auto& o : broker.samples())
    extra.push_back({{"ph", "C"}, {"name", "nodes owned"}, {"pid", 0}, {"ts", std::llround(o.time_s * 1e6)},
                     {"args", {{"hpc", o.hpc}, {"k8s", o.k8s}, {"moving", o.moving}}}});
  for (const auto& [t, held] : allocation.changes)
    extra.push_back({{"ph", "C"}, {"name", "batch GPUs allocated"}, {"pid", 0}, {"ts", std::llround(t * 1e6)},
                     {"args", {{"gpus", held * gpus_per_unit}}}});
  summary["kubernetes"] = metrics::write_cluster_outputs(k8s_result, out_dir, extra);
  nlohmann::json f = broker.summary();
  const double hours = fs.duration_s / 3600;
  double k8s_allocated = 0, k8s_ready = 0;
  for (const auto& p : k8s_result.pools) {
    k8s_allocated += p.gpu_allocated_s / 3600;
    k8s_ready += p.gpu_ready_s / 3600;
  }
  const double batch_allocated = allocation.unit_seconds(fs.duration_s) * gpus_per_unit / 3600;
  f["gpus"] = gpus_total;
  f["gpu_hours"] = gpus_total * hours;
  f["allocated_gpu_hours"] = {{"hpc", batch_allocated}, {"k8s", k8s_allocated}, {"total", batch_allocated + k8s_allocated}};
  f["busy_gpu_hours"] = {{"hpc", batch_allocated}, {"k8s", k8s_ready}};
  f["utilisation"] = gpus_total > 0 ? (batch_allocated + k8s_allocated) / (gpus_total * hours) : 0.0;
  const auto& owned = f["owned_gpu_hours"];
  f["gpu_hours_in_moves"] = owned["moving"];
  if (fs.serverless) {
    // Calls not finished at the horizon are counted, not dropped.
    metrics::Distribution q(calls.queue_s), l(calls.latency_s);
    f["serverless"] = {{"name", fs.serverless->name},
                       {"calls", calls.submitted},
                       {"finished", calls.finished},
                       {"unfinished", calls.submitted - calls.finished},
                       {"queue_s", {{"mean", q.mean()}, {"p50", q.quantile(0.5)}, {"p99", q.quantile(0.99)}, {"max", q.max()}}},
                       {"latency_s", {{"mean", l.mean()}, {"p50", l.quantile(0.5)}, {"p99", l.quantile(0.99)}, {"max", l.max()}}}};
  }
  summary["factory"] = f;
  {
    std::ofstream out(out_dir / "ownership.csv", std::ios::binary | std::ios::trunc);
    out << "time_s,hpc_nodes,k8s_nodes,moving_nodes\n";
    for (const auto& o : broker.samples()) out << format_number(o.time_s) << ',' << o.hpc << ',' << o.k8s << ',' << o.moving << '\n';
  }
  summary["simulated_time_s"] = fs.duration_s;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  summary["performance"] = {{"wall_time_s", wall_s}, {"peak_rss_bytes", peak_rss_bytes()}};
  write_json(out_dir / "summary.json", summary);
  return summary;
}

}  // namespace

nlohmann::json run_scenario(const Scenario& s, const std::filesystem::path& out_dir, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw InputError(out_dir.string(), "cannot create output directory: " + ec.message());
  if (s.factory) return run_factory(s, out_dir, wall_start, options.quiet);
  if (s.kubernetes) return run_kubernetes(s, out_dir, wall_start);
  if (s.serving) return run_serving(s, out_dir, wall_start);

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
