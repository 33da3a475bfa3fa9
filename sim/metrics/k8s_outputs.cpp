#include "metrics/k8s_outputs.hpp"

#include <cmath>
#include <fstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "metrics/stats.hpp"

namespace aifsim::metrics {

namespace {

std::ofstream open(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path.string(), "cannot create output file");
  return out;
}

std::string opt(const std::optional<double>& v) { return v ? format_number(*v) : ""; }

// CSV fields are names and messages: quote those that need it.
std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

nlohmann::json describe(const std::vector<double>& values) {
  Distribution d(values);
  if (d.size() == 0) return {{"count", 0}};
  return {{"count", d.size()}, {"mean", d.mean()}, {"p50", d.quantile(0.5)}, {"p90", d.quantile(0.9)},
          {"p99", d.quantile(0.99)}, {"max", d.max()}};
}

// Above this, trace.json would be too large to open in a browser.
constexpr std::size_t TRACE_MAX_PODS = 20000;

// Chrome trace events (ui.perfetto.dev): one process per node pool, one thread per node,
// one slice per phase of each pod's life on its node, and counters of GPUs per pool.
void write_trace(const k8s::ClusterResult& r, const std::filesystem::path& path, const nlohmann::json& extra) {
  std::map<std::string, int> pool_ids, node_ids;
  nlohmann::json events = nlohmann::json::array();
  auto us = [](double s) { return std::llround(s * 1e6); };
  auto pid_of = [&](const std::string& pool) {
    auto [it, fresh] = pool_ids.emplace(pool, static_cast<int>(pool_ids.size()) + 1);
    if (fresh)
      events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", it->second}, {"args", {{"name", "pool " + pool}}}});
    return it->second;
  };
  auto tid_of = [&](int pid, const std::string& node) {
    auto [it, fresh] = node_ids.emplace(node, static_cast<int>(node_ids.size()) + 1);
    if (fresh)
      events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", it->second}, {"args", {{"name", node}}}});
    return it->second;
  };
  for (const auto& p : r.pods) {
    if (!p.scheduled_s) continue;
    const int pid = pid_of(p.pool), tid = tid_of(pid, p.node);
    const double end = p.terminated_s.value_or(r.duration_s);
    const double stop = p.deleted_s.value_or(end);
    auto slice = [&](const char* phase, double from, std::optional<double> to) {
      const double t1 = std::min(to.value_or(stop), stop);
      if (t1 <= from) return;
      events.push_back({{"ph", "X"}, {"name", std::string(phase) + " " + p.name}, {"cat", phase}, {"pid", pid}, {"tid", tid},
                        {"ts", us(from)}, {"dur", us(t1) - us(from)}, {"args", {{"pod", p.namespace_ + "/" + p.name}}}});
    };
    const double pulled = *p.scheduled_s + p.pull_s;
    slice("pull", *p.scheduled_s, pulled);
    if (p.started_s) {
      slice("start", pulled, *p.started_s);
      slice("load", *p.started_s, *p.started_s + p.load_s);
      slice("warmup", *p.started_s + p.load_s, p.ready_s);
    }
    if (p.ready_s) slice("running", *p.ready_s, stop);
    if (p.deleted_s) {
      const double t0 = *p.deleted_s;
      if (end > t0)
        events.push_back({{"ph", "X"}, {"name", "terminating " + p.name}, {"cat", "terminating"}, {"pid", pid},
                          {"tid", tid}, {"ts", us(t0)}, {"dur", us(end) - us(t0)}});
    }
  }
  for (const auto& u : r.utilisation)
    events.push_back({{"ph", "C"}, {"name", "GPUs"}, {"pid", pid_of(u.pool)}, {"ts", us(u.time_s)},
                      {"args", {{"joined", u.gpus_joined}, {"allocated", u.gpus_allocated}, {"ready", u.gpus_ready}}}});
  for (const auto& e : extra) events.push_back(e);
  auto out = open(path);
  out << nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ms"}}.dump() << '\n';
}

}  // namespace

nlohmann::json write_cluster_outputs(const k8s::ClusterResult& r, const std::filesystem::path& dir,
                                     const nlohmann::json& extra_trace_events) {
  {
    auto out = open(dir / "pods.csv");
    out << "pod,namespace,owner,node,pool,priority,created_s,scheduled_s,started_s,ready_s,deleted_s,terminated_s,"
           "pending_s,pull_s,load_s,startup_s,state,attempts,preemptions,reason\n";
    for (const auto& p : r.pods) {
      std::optional<double> pending, startup;
      if (p.scheduled_s) pending = *p.scheduled_s - p.created_s;
      if (p.ready_s) startup = *p.ready_s - p.created_s;
      out << csv(p.name) << ',' << csv(p.namespace_) << ',' << csv(p.owner) << ',' << p.node << ',' << p.pool << ','
          << p.priority << ',' << format_number(p.created_s) << ',' << opt(p.scheduled_s) << ',' << opt(p.started_s) << ','
          << opt(p.ready_s) << ',' << opt(p.deleted_s) << ',' << opt(p.terminated_s) << ',' << opt(pending) << ','
          << (p.scheduled_s ? format_number(p.pull_s) : "") << ',' << (p.started_s ? format_number(p.load_s) : "") << ','
          << opt(startup) << ',' << p.state << ',' << p.attempts << ',' << p.preemptions << ',' << csv(p.reason) << '\n';
    }
  }
  {
    auto out = open(dir / "k8s_jobs.csv");
    out << "job,state,succeeded,failed,admitted_s,finished_s\n";
    for (const auto& j : r.jobs)
      out << csv(j.name) << ',' << j.state << ',' << j.succeeded << ',' << j.failed << ',' << opt(j.admitted_s) << ','
          << opt(j.finished_s) << '\n';
  }
  {
    auto out = open(dir / "k8s_utilisation.csv");
    out << "time_s,pool,gpus_joined,gpus_allocated,gpus_ready\n";
    for (const auto& u : r.utilisation)
      out << format_number(u.time_s) << ',' << u.pool << ',' << format_number(u.gpus_joined) << ','
          << format_number(u.gpus_allocated) << ','
          << format_number(u.gpus_ready) << '\n';
  }
  {
    auto out = open(dir / "k8s_nodes.csv");
    out << "time_s,node,pool,event\n";
    for (const auto& e : r.node_events) out << format_number(e.time_s) << ',' << e.node << ',' << e.pool << ',' << e.event << '\n';
  }
  {
    auto out = open(dir / "hpa.csv");
    out << "time_s,hpa,current_replicas,desired_replicas,metric_values\n";
    for (const auto& h : r.hpa) {
      std::vector<std::string> values;
      for (double v : h.metrics) values.push_back(format_number(v));
      std::string joined;
      for (std::size_t i = 0; i < values.size(); ++i) joined += (i ? ";" : "") + values[i];
      out << format_number(h.time_s) << ',' << csv(h.hpa) << ',' << h.current << ',' << h.desired << ',' << joined << '\n';
    }
  }

  if (!r.explanation.empty()) {
    auto out = open(dir / "explain.json");
    out << nlohmann::json{{"attempts", r.explanation}}.dump(2) << '\n';
  }
  const bool traced = r.pods.size() <= TRACE_MAX_PODS;
  if (traced) write_trace(r, dir / "trace.json", extra_trace_events);

  nlohmann::json k;
  std::map<std::string, int> states;
  std::vector<double> pending, startup, pull, load;
  for (const auto& p : r.pods) {
    ++states[p.state];
    if (p.scheduled_s) pending.push_back(*p.scheduled_s - p.created_s);
    if (p.ready_s) {
      startup.push_back(*p.ready_s - p.created_s);
      pull.push_back(p.pull_s);
      load.push_back(p.load_s);
    }
  }
  k["pods"] = {{"total", r.pods.size()}, {"by_state", states}};
  k["pending_s"] = describe(pending);
  k["startup_s"] = describe(startup);  // created -> ready, for pods that became ready
  k["image_pull_s"] = describe(pull);
  k["model_load_s"] = describe(load);
  k["scheduler"] = {{"attempts", r.attempts}, {"scheduled", r.scheduled}, {"preemptions", r.preemptions},
                    {"gang_timeouts", r.gang_timeouts}, {"unschedulable_reasons", r.unschedulable_reasons}};
  nlohmann::json pools = nlohmann::json::array();
  for (const auto& p : r.pools) {
    const double capacity = p.gpus * r.duration_s;
    pools.push_back({{"pool", p.pool}, {"nodes", p.nodes}, {"gpus", p.gpus},
                     {"gpu_joined_fraction", capacity > 0 ? p.gpu_joined_s / capacity : 0.0},
                     {"gpu_allocated_fraction", capacity > 0 ? p.gpu_allocated_s / capacity : 0.0},
                     {"gpu_ready_fraction", capacity > 0 ? p.gpu_ready_s / capacity : 0.0}});
  }
  k["pools"] = pools;
  std::map<std::string, int> jobs;
  for (const auto& j : r.jobs) ++jobs[j.state];
  k["jobs"] = {{"total", r.jobs.size()}, {"by_state", jobs}};
  k["duration_s"] = r.duration_s;
  if (!r.services.empty()) k["services"] = r.services;
  k["skipped_objects"] = r.skipped;
  k["trace"] = traced ? "trace.json" : "not written: more than " + std::to_string(TRACE_MAX_PODS) + " pods";
  return k;
}

}  // namespace aifsim::metrics
