#include "scenario/scenario.hpp"

#include <charconv>
#include <cmath>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "gpu/model_card.hpp"
#include "hpc/policy.hpp"
#include "serving/router.hpp"

namespace aifsim::scenario {

void apply_override(nlohmann::json& doc, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment, "expected key.path=value, e.g. batch.scheduler=easy");
  std::string path = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;  // a bare word is a string
  }
  nlohmann::json* node = &doc;
  std::size_t start = 0;
  for (;;) {
    auto dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw InputError("--set " + assignment, "empty key in path \"" + path + "\"");
    if (node->is_array()) {
      // An index into a list: services.0.router
      std::size_t index = 0;
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || end != key.data() + key.size() || index >= node->size())
        throw InputError("--set " + assignment, "\"" + key + "\" is not an index of the list there (0 to " +
                                                    std::to_string(node->size()) + " - 1)");
      if (dot == std::string::npos) {
        (*node)[index] = value;
        return;
      }
      node = &(*node)[index];
      start = dot + 1;
      continue;
    }
    if (!node->is_object()) {
      if (node->is_null()) *node = nlohmann::json::object();
      else throw InputError("--set " + assignment, "\"" + key + "\" is inside a value that is not an object");
    }
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

namespace {

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : base / path;
}

BatchSpec parse_batch(JsonReader r, const std::filesystem::path& base) {
  BatchSpec b;
  b.scheduler = r.choice("scheduler", hpc::batch_policy_names(), std::string("easy"));
  std::string unit = r.choice("resource_unit", {"procs", "gpus", "nodes"}, std::string("procs"));
  b.unit = unit == "procs" ? hpc::ResourceUnit::PROCS : unit == "gpus" ? hpc::ResourceUnit::GPUS : hpc::ResourceUnit::NODES;
  b.kill_at_limit = r.choice("overrun", {"kill", "run"}, std::string("kill")) == "kill";
  b.strict = r.boolean_or("strict", false);
  if (r.has("capacity")) {
    auto c = r.integer("capacity");
    if (c <= 0 || c > 1'000'000'000) r.fail("capacity", "expected a positive integer number of units");
    b.capacity = static_cast<int>(c);
  }
  JsonReader w = r.object("workload");
  b.workload.swf = resolve(base, w.string("swf"));
  if (w.has("max_jobs")) {
    auto m = w.integer("max_jobs");
    if (m <= 0) w.fail("max_jobs", "expected a positive integer");
    b.workload.max_jobs = static_cast<std::uint64_t>(m);
  }
  w.finish();
  r.finish();
  return b;
}

double non_negative(JsonReader& r, const std::string& key, double fallback) {
  double v = r.number_or(key, fallback);
  if (!(v >= 0) || !std::isfinite(v)) r.fail(key, "expected a non-negative number");
  return v;
}

k8s::LifecycleConfig parse_lifecycle(JsonReader r, const std::filesystem::path& base, std::optional<std::filesystem::path>& gpu_profile) {
  k8s::LifecycleConfig lc;
  lc.registry = r.string_or("registry", "");
  lc.storage = r.string_or("storage", "");
  if (r.has("images")) {
    JsonReader images = r.object("images");
    for (const auto& [name, value] : r.raw("images").items()) {
      double bytes = images.number(name);
      if (!(bytes > 0)) images.fail(name, "expected the image's size in bytes (> 0)");
      lc.image_bytes[name] = bytes;
    }
    images.finish();
  }
  const double bytes_per_parameter = r.number_or("weight_bytes_per_parameter", 2);
  if (!(bytes_per_parameter > 0)) r.fail("weight_bytes_per_parameter", "expected a positive number (2 for bf16)");
  if (r.has("models")) {
    JsonReader models = r.object("models");
    for (const auto& [name, value] : r.raw("models").items()) {
      // A model card (its weights: parameters x bytes per parameter) or a size in bytes.
      if (value.is_number()) {
        double bytes = models.number(name);
        if (!(bytes > 0)) models.fail(name, "expected the weights' size in bytes (> 0) or a model card file");
        lc.model_bytes[name] = bytes;
      } else {
        auto card = gpu::load_model_card(resolve(base, models.string(name)));
        lc.model_bytes[name] = card.parameters() * bytes_per_parameter;
      }
    }
    models.finish();
  }
  if (r.has("gpu_profile")) gpu_profile = resolve(base, r.string("gpu_profile"));
  lc.serialize_image_pulls = r.boolean_or("serialize_image_pulls", true);
  lc.container_start_s = non_negative(r, "container_start_s", 0);
  lc.engine_warmup_s = non_negative(r, "engine_warmup_s", 0);
  lc.shutdown_s = non_negative(r, "shutdown_s", 0);
  r.finish();
  return lc;
}

ClusterServiceSpec parse_cluster_service(JsonReader r, const std::filesystem::path& base);

FactorySpec parse_factory(JsonReader r) {
  FactorySpec f;
  auto& c = f.config;
  c.policy = r.choice("policy", factory::broker_policy_names());
  f.k8s_nodes = static_cast<int>(r.integer("k8s_nodes"));
  if (f.k8s_nodes < 0) r.fail("k8s_nodes", "expected a non-negative number of nodes");
  f.duration_s = r.number("duration_s");
  if (!(f.duration_s > 0) || !std::isfinite(f.duration_s)) r.fail("duration_s", "expected a positive number of seconds");
  if (r.has("interval_s")) {
    c.interval_s = r.number("interval_s");
    if (!(c.interval_s > 0)) r.fail("interval_s", "expected a positive number of seconds");
  }
  auto costs = [&](const char* key, factory::MoveCosts& m) {
    if (!r.has(key)) return;
    JsonReader j = r.object(key);
    m.reprovision_s = non_negative(j, "reprovision_s", 0);
    m.join_s = non_negative(j, "join_s", 0);
    j.finish();
  };
  costs("to_k8s", c.to_k8s);
  costs("to_hpc", c.to_hpc);
  if (r.has("lend")) {
    JsonReader l = r.object("lend");
    c.min_hpc_nodes = static_cast<int>(l.integer_or("min_hpc_nodes", 0));
    c.min_k8s_nodes = static_cast<int>(l.integer_or("min_k8s_nodes", 0));
    if (c.min_hpc_nodes < 0 || c.min_k8s_nodes < 0) l.fail("min_hpc_nodes", "expected non-negative node counts");
    c.reclaim_after_s = non_negative(l, "reclaim_after_s", c.reclaim_after_s);
    c.lend_cooldown_s = non_negative(l, "lend_cooldown_s", c.lend_cooldown_s);
    l.finish();
  }
  if (r.has("serverless")) {
    JsonReader sl = r.object("serverless");
    ServerlessSpec sv;
    sv.name = sl.string_or("name", sv.name);
    sv.rate_rps = sl.number("rate_rps");
    if (!(sv.rate_rps > 0) || sv.rate_rps > 1e6) sl.fail("rate_rps", "expected a positive rate of calls per second");
    sv.units = static_cast<int>(sl.integer("units"));
    if (sv.units <= 0) sl.fail("units", "expected a positive number of batch units per call");
    sv.runtime_s = sl.number("runtime_s");
    if (!(sv.runtime_s > 0)) sl.fail("runtime_s", "expected a positive number of seconds");
    sv.duration_s = non_negative(sl, "duration_s", 0);
    sl.finish();
    f.serverless = sv;
  }
  if (r.has("pilot")) {
    JsonReader p = r.object("pilot");
    c.pilot_walltime_s = p.number_or("walltime_s", c.pilot_walltime_s);
    if (!(c.pilot_walltime_s > 0)) p.fail("walltime_s", "expected a positive number of seconds");
    c.pilot_drain_s = non_negative(p, "drain_s", c.pilot_drain_s);
    if (c.pilot_drain_s >= c.pilot_walltime_s) p.fail("drain_s", "expected less than the pilot's walltime");
    p.finish();
  }
  r.finish();
  return f;
}

KubernetesSpec parse_kubernetes(JsonReader r, const std::filesystem::path& base) {
  KubernetesSpec k;
  const auto& manifests = r.array("manifests");
  if (manifests.empty()) r.fail("manifests", "expected at least one manifest file");
  for (const auto& m : manifests) {
    if (!m.is_string()) r.fail("manifests", "expected file names");
    k.manifests.push_back(resolve(base, m.get<std::string>()));
  }
  if (r.has("scheduler_config")) k.scheduler_config = resolve(base, r.string("scheduler_config"));
  auto& c = k.cluster;
  // In a factory the factory's duration governs; alone, the cluster needs its own.
  if (r.has("duration_s")) {
    c.duration_s = r.number("duration_s");
    if (!(c.duration_s > 0) || !std::isfinite(c.duration_s)) r.fail("duration_s", "expected a positive number of seconds");
  }
  if (r.has("lifecycle")) c.lifecycle = parse_lifecycle(r.object("lifecycle"), base, k.gpu_profile);
  if (r.has("mig")) {
    JsonReader mig = r.object("mig");
    for (const auto& [pool, layout] : r.raw("mig").items()) {
      JsonReader l = mig.object(pool);
      for (const auto& [profile, count] : layout.items()) {
        auto n = l.integer(profile);
        if (n < 0 || n > 7) l.fail(profile, "expected 0 to 7 instances per GPU");
        c.mig[pool][profile] = static_cast<int>(n);
      }
      l.finish();
    }
    mig.finish();
  }
  if (r.has("load")) {
    const auto& load = r.array("load");
    for (std::size_t i = 0; i < load.size(); ++i) {
      JsonReader l(load[i], r.file(), r.path_of("load") + "[" + std::to_string(i) + "]");
      k8s::LoadCurve curve;
      curve.deployment = l.string("deployment");
      if (curve.deployment.find('/') == std::string::npos) curve.deployment = "default/" + curve.deployment;
      curve.metric = l.string("metric");
      const auto& points = l.array("points");
      if (points.empty()) l.fail("points", "expected [[time_s, total], ...]");
      for (const auto& p : points) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
          l.fail("points", "expected [[time_s, total], ...] pairs of numbers");
        double t = p[0].get<double>(), v = p[1].get<double>();
        if (!(v >= 0) || !(t >= 0)) l.fail("points", "times and totals must be non-negative");
        if (!curve.points.empty() && t < curve.points.back().first) l.fail("points", "times must not decrease");
        curve.points.emplace_back(t, v);
      }
      l.finish();
      c.load.push_back(curve);
    }
  }
  if (r.has("events")) {
    const auto& events = r.array("events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      JsonReader e(events[i], r.file(), r.path_of("events") + "[" + std::to_string(i) + "]");
      k8s::ClusterEvent ev;
      ev.at_s = e.number("at_s");
      if (!(ev.at_s >= 0)) e.fail("at_s", "expected a non-negative time");
      ev.action = e.choice("action", {"scale", "set_image", "delete"});
      ev.target = e.string("target");
      const std::string kind = ev.target.substr(0, ev.target.find('/'));
      if (ev.target.find('/') == std::string::npos || (kind != "Deployment" && kind != "ReplicaSet" && kind != "Job"))
        e.fail("target", "expected Deployment/NAME, ReplicaSet/NAME or Job/NAME (NAME may be namespace/name)");
      if (ev.action == "scale") {
        auto n = e.integer("replicas");
        if (n < 0) e.fail("replicas", "expected a non-negative integer");
        ev.replicas = static_cast<int>(n);
        if (kind == "Job") e.fail("action", "a Job is not scaled; delete it or change its parallelism in the manifest");
      }
      if (ev.action == "set_image") {
        ev.image = e.string("image");
        if (kind != "Deployment") e.fail("action", "set_image applies to Deployments (a rolling update)");
      }
      e.finish();
      c.events.push_back(ev);
    }
  }
  if (r.has("autoscaler")) {
    JsonReader a = r.object("autoscaler");
    auto& ca = c.autoscaler;
    JsonReader pools = a.object("pools");
    for (const auto& [pool, value] : a.raw("pools").items()) {
      JsonReader l = pools.object(pool);
      k8s::PoolLimits limits;
      limits.min_nodes = static_cast<int>(l.integer("min_nodes"));
      limits.max_nodes = static_cast<int>(l.integer("max_nodes"));
      if (limits.min_nodes < 0 || limits.max_nodes < limits.min_nodes)
        l.fail("max_nodes", "expected 0 <= min_nodes <= max_nodes");
      limits.provision_s = non_negative(l, "provision_s", 0);
      l.finish();
      ca.pools[pool] = limits;
    }
    pools.finish();
    if (ca.pools.empty()) a.fail("pools", "expected at least one pool to autoscale");
    auto positive_s = [&](const char* key, double& field) {
      if (!a.has(key)) return;
      field = a.number(key);
      if (!(field > 0) || !std::isfinite(field)) a.fail(key, "expected a positive number of seconds");
    };
    positive_s("scan_interval_s", ca.scan_interval_s);
    positive_s("scale_down_unneeded_s", ca.scale_down_unneeded_s);
    ca.scale_down_delay_after_add_s = non_negative(a, "scale_down_delay_after_add_s", ca.scale_down_delay_after_add_s);
    ca.scale_down_utilization_threshold = a.number_or("scale_down_utilization_threshold", ca.scale_down_utilization_threshold);
    if (!(ca.scale_down_utilization_threshold >= 0 && ca.scale_down_utilization_threshold <= 1))
      a.fail("scale_down_utilization_threshold", "expected a fraction between 0 and 1");
    a.finish();
  }
  if (r.has("services")) {
    const auto& services = r.array("services");
    for (std::size_t i = 0; i < services.size(); ++i) {
      k.services.push_back(parse_cluster_service(JsonReader(services[i], r.file(), r.path_of("services") + "[" + std::to_string(i) + "]"), base));
      for (std::size_t j = 0; j + 1 < k.services.size(); ++j)
        if (k.services[j].name == k.services.back().name || k.services[j].deployment == k.services.back().deployment)
          r.fail("services", "two services named " + k.services.back().name + " or on Deployment " + k.services.back().deployment);
    }
  }
  c.explain_pod = r.string_or("explain", "");
  if (r.has("hpa_sync_period_s")) {
    c.hpa_sync_period_s = r.number("hpa_sync_period_s");
    if (!(c.hpa_sync_period_s > 0)) r.fail("hpa_sync_period_s", "expected a positive number of seconds");
  }
  r.finish();
  return k;
}

serving::ReplicaConfig parse_replica(JsonReader r) {
  serving::ReplicaConfig c;
  auto positive_int = [&](const char* key, int& field) {
    if (!r.has(key)) return;
    auto v = r.integer(key);
    if (v <= 0 || v > 100'000'000) r.fail(key, "expected a positive integer");
    field = static_cast<int>(v);
  };
  positive_int("max_num_seqs", c.max_num_seqs);
  positive_int("max_num_batched_tokens", c.max_num_batched_tokens);
  positive_int("block_size", c.block_size);
  positive_int("max_model_len", c.max_model_len);
  c.chunked_prefill = r.boolean_or("chunked_prefill", true);
  if (r.has("prefill_chunk_tokens")) {
    auto v = r.integer("prefill_chunk_tokens");
    if (v < 0) r.fail("prefill_chunk_tokens", "expected a non-negative integer (0: the token budget)");
    c.prefill_chunk_tokens = static_cast<int>(v);
  }
  c.policy = r.choice("policy", {"decode_first", "prefill_first"}, std::string("decode_first")) == "decode_first"
                 ? serving::SchedulePolicy::DECODE_FIRST
                 : serving::SchedulePolicy::PREFILL_FIRST;
  c.preemption = r.choice("preemption", {"recompute", "swap"}, std::string("recompute")) == "recompute"
                     ? serving::PreemptionMode::RECOMPUTE
                     : serving::PreemptionMode::SWAP;
  c.gpu_memory_utilization = r.number_or("gpu_memory_utilization", c.gpu_memory_utilization);
  if (!(c.gpu_memory_utilization > 0 && c.gpu_memory_utilization <= 1))
    r.fail("gpu_memory_utilization", "expected a fraction in (0, 1]");
  c.queue_timeout_s = non_negative(r, "queue_timeout_s", 0);
  c.stepping = r.boolean_or("stepping", false);
  r.finish();
  return c;
}

RequestsSpec parse_requests(JsonReader q, const std::filesystem::path& base) {
  RequestsSpec spec;
  if (q.has("trace")) {
    spec.trace = resolve(base, q.string("trace"));
    spec.rate_scale = q.number_or("rate_scale", 1);
    if (!(spec.rate_scale > 0)) q.fail("rate_scale", "expected a positive factor (2 = twice the rate)");
    if (q.has("start_s")) spec.start_s = non_negative(q, "start_s", 0);
    if (q.has("end_s")) spec.end_s = non_negative(q, "end_s", 0);
    if (spec.start_s && spec.end_s && *spec.end_s <= *spec.start_s)
      q.fail("end_s", "expected end_s after start_s");
    if (q.has("max_requests")) {
      auto m = q.integer("max_requests");
      if (m <= 0) q.fail("max_requests", "expected a positive integer");
      spec.max_requests = static_cast<std::uint64_t>(m);
    }
    q.finish();
  } else if (q.has("generator")) {
    spec.generator = parse_generator(q.raw("generator"), q.file(), q.path_of("generator"), base);
    q.finish();
  } else {
    q.fail("trace", "expected \"trace\" (a request trace file) or \"generator\"");
  }
  return spec;
}

// The parts of a service shared by a standalone `serving` section and a Kubernetes one.
void parse_service_body(JsonReader& r, const std::filesystem::path& base, ServingSpec& s) {
  s.model_card = resolve(base, r.string("model"));
  s.service.router = r.choice("router", serving::router_names(), std::string("least_outstanding"));
  if (r.has("replica")) s.service.replica = parse_replica(r.object("replica"));
  s.requests = parse_requests(r.object("requests"), base);
  if (r.has("slo")) {
    JsonReader slo = r.object("slo");
    s.ttft_slo_s = non_negative(slo, "ttft_s", 0);
    s.tpot_slo_s = non_negative(slo, "tpot_s", 0);
    slo.finish();
  }
  s.requests_csv = r.choice("requests_csv", {"auto", "always", "never"}, std::string("auto"));
  s.sample_interval_s = non_negative(r, "sample_interval_s", 1);
}

ServingSpec parse_serving(JsonReader r, const std::filesystem::path& base) {
  ServingSpec s;
  s.gpu_profile = resolve(base, r.string("gpu_profile"));
  s.tp = static_cast<int>(r.integer_or("tp", 1));
  if (s.tp <= 0 || s.tp > 64) r.fail("tp", "expected a tensor-parallel size between 1 and 64");
  auto replicas = r.integer_or("replicas", 1);
  if (replicas < 0 || replicas > 100000) r.fail("replicas", "expected a number of replicas between 0 and 100000");
  s.service.replicas = static_cast<int>(replicas);
  if (r.has("disaggregation")) {
    JsonReader d = r.object("disaggregation");
    serving::DisaggregationConfig dc;
    dc.prefill_replicas = static_cast<int>(d.integer("prefill_replicas"));
    dc.decode_replicas = static_cast<int>(d.integer("decode_replicas"));
    if (dc.prefill_replicas < 1 || dc.decode_replicas < 1 || dc.prefill_replicas > 100000 || dc.decode_replicas > 100000)
      d.fail("prefill_replicas", "expected at least one prefill and one decode replica");
    dc.kv_transfer_bw_Bps = d.number("kv_transfer_bw_Bps");
    if (!(dc.kv_transfer_bw_Bps > 0)) d.fail("kv_transfer_bw_Bps", "expected a positive bandwidth in bytes/s");
    dc.kv_transfer_latency_s = non_negative(d, "kv_transfer_latency_s", 0);
    d.finish();
    if (r.has("replicas")) r.fail("replicas", "with disaggregation the pools' sizes are prefill_replicas and decode_replicas");
    s.disaggregation = dc;
  }
  parse_service_body(r, base, s);
  r.finish();
  return s;
}

ClusterServiceSpec parse_cluster_service(JsonReader r, const std::filesystem::path& base) {
  ClusterServiceSpec c;
  c.name = r.string("name");
  c.deployment = r.string("deployment");
  if (c.deployment.find('/') == std::string::npos) c.deployment = "default/" + c.deployment;
  c.serving.tp = static_cast<int>(r.integer_or("tp", 0));
  if (c.serving.tp < 0 || c.serving.tp > 64) r.fail("tp", "expected a tensor-parallel size between 1 and 64 (0: the pod's GPUs)");
  parse_service_body(r, base, c.serving);
  r.finish();
  return c;
}

workload::LengthSpec parse_length(JsonReader& parent, const std::string& key, const std::filesystem::path& base) {
  workload::LengthSpec l;
  const auto& v = parent.raw(key);
  if (v.is_number_integer()) {
    l.kind = workload::LengthKind::FIXED;
    l.tokens = static_cast<int>(v.get<std::int64_t>());
    if (v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 10'000'000) parent.fail(key, "expected a token count >= 1");
    return l;
  }
  if (!v.is_object()) parent.fail(key, "expected a token count or {\"uniform\"|\"lognormal\"|\"empirical\"|\"fit\": ...}");
  JsonReader r(v, parent.file(), parent.path_of(key));
  if (r.has("uniform")) {
    const auto& u = r.array("uniform");
    if (u.size() != 2 || !u[0].is_number_integer() || !u[1].is_number_integer())
      r.fail("uniform", "expected [min_tokens, max_tokens]");
    l.kind = workload::LengthKind::UNIFORM;
    l.min_tokens = u[0].get<int>();
    l.max_tokens = u[1].get<int>();
  } else if (r.has("lognormal")) {
    JsonReader g = r.object("lognormal");
    l.kind = workload::LengthKind::LOGNORMAL;
    l.mu = g.number("mu");
    l.sigma = g.number("sigma");
    l.min_tokens = static_cast<int>(g.integer_or("min", 1));
    if (g.has("max")) l.max_tokens = static_cast<int>(g.integer("max"));
    g.finish();
  } else if (r.has("empirical")) {
    l.kind = workload::LengthKind::EMPIRICAL;
    l.trace = resolve(base, r.string("empirical"));
    if (r.has("column"))
      l.column = r.choice("column", {"prompt", "output"}) == "prompt" ? workload::TraceColumn::PROMPT
                                                                       : workload::TraceColumn::OUTPUT;
  } else if (r.has("fit")) {
    // The lognormal fitted to a trace's lengths on this side.
    auto fit = workload::fit_lengths(resolve(base, r.string("fit")));
    l = key == "prompt" ? fit.prompt : fit.output;
  } else {
    r.fail("uniform", "expected one of uniform, lognormal, empirical or fit");
  }
  r.finish();
  return l;
}

}  // namespace

workload::GeneratorSpec parse_generator(const nlohmann::json& doc, const std::string& file, const std::string& path,
                                        const std::filesystem::path& base) {
  JsonReader r(doc, file, path);
  workload::GeneratorSpec g;
  g.arrival = r.choice("arrival", {"poisson", "gamma", "constant"}, std::string("poisson"));
  g.rate_rps = r.number("rate_rps");
  g.cv = r.number_or("cv", 1);
  if (r.has("rate_curve")) {
    for (const auto& p : r.array("rate_curve")) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
        r.fail("rate_curve", "expected [[time_s, factor], ...]");
      g.rate_curve.emplace_back(p[0].get<double>(), p[1].get<double>());
    }
  }
  g.curve_period_s = r.number_or("curve_period_s", 0);
  g.requests = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.integer_or("requests", 0)));
  if (r.has("requests") && r.integer("requests") <= 0) r.fail("requests", "expected a positive number of requests");
  g.duration_s = r.number_or("duration_s", 0);
  if (g.requests == 0 && !(g.duration_s > 0)) r.fail("requests", "expected \"requests\" or \"duration_s\" to end the stream");
  g.sessions = r.number_or("sessions", 0);
  g.prompt = parse_length(r, "prompt", base);
  g.output = parse_length(r, "output", base);
  r.finish();
  return g;
}

Scenario parse_scenario(const nlohmann::json& doc, const std::string& file, const std::filesystem::path& base_dir) {
  JsonReader r(doc, file);
  Scenario s;
  s.file = file;
  s.name = r.string("name");
  s.description = r.string_or("description", "");
  auto seed = r.integer_or("seed", 1);
  if (seed < 0) r.fail("seed", "expected a non-negative integer");
  s.seed = static_cast<std::uint64_t>(seed);
  if (r.has("platform")) s.platform_file = resolve(base_dir, r.string("platform"));
  if (r.has("kubernetes")) {
    s.kubernetes = parse_kubernetes(r.object("kubernetes"), base_dir);
    s.kubernetes->cluster.seed = s.seed;
    if (!s.platform_file) r.fail("platform", "a kubernetes section runs on a platform's nodes: give \"platform\"");
  }
  if (r.has("serving")) {
    s.serving = parse_serving(r.object("serving"), base_dir);
    s.serving->service.seed = s.seed;
  }
  s.has_batch = r.has("batch") || (!s.kubernetes && !s.serving);
  if (s.has_batch) s.batch = parse_batch(r.object("batch"), base_dir);
  if (r.has("factory")) {
    s.factory = parse_factory(r.object("factory"));
    if (!s.has_batch || !s.kubernetes || s.serving)
      r.fail("factory", "a factory runs a batch section and a kubernetes section (services inside it) on one platform");
    if (s.kubernetes->cluster.duration_s > 0 && s.kubernetes->cluster.duration_s != s.factory->duration_s)
      r.fail("kubernetes", "kubernetes.duration_s differs from factory.duration_s; give it once, in the factory");
    if (s.batch.capacity) r.fail("batch", "in a factory the batch capacity is what the broker gives it; drop batch.capacity");
    s.kubernetes->cluster.duration_s = s.factory->duration_s;
  } else if (s.kubernetes && !(s.kubernetes->cluster.duration_s > 0)) {
    r.fail("kubernetes", "expected kubernetes.duration_s (how long the cluster runs)");
  }
  if (!s.factory && (s.has_batch ? 1 : 0) + (s.kubernetes ? 1 : 0) + (s.serving ? 1 : 0) > 1)
    r.fail(s.serving ? "serving" : "kubernetes",
           "batch and kubernetes sections on one machine need a \"factory\" section (the broker that owns the nodes); "
           "a standalone serving section runs alone");
  if (r.has("outputs")) {
    JsonReader o = r.object("outputs");
    s.slowdown_tau_s = o.number_or("slowdown_tau_s", 10.0);
    if (!(s.slowdown_tau_s > 0)) o.fail("slowdown_tau_s", "expected a positive number of seconds");
    o.finish();
  }
  r.finish({"platform", "outputs", "kubernetes", "batch", "serving", "factory"});
  s.effective = doc;
  return s;
}

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  nlohmann::json doc = load_json_file(file);
  for (const auto& o : overrides) apply_override(doc, o);
  return parse_scenario(doc, file.string(), file.parent_path());
}

}  // namespace aifsim::scenario
