#include "scenario/scenario.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "gpu/model_card.hpp"
#include "hpc/policy.hpp"

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
  c.duration_s = r.number("duration_s");
  if (!(c.duration_s > 0) || !std::isfinite(c.duration_s)) r.fail("duration_s", "expected a positive number of seconds");
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
  c.explain_pod = r.string_or("explain", "");
  if (r.has("hpa_sync_period_s")) {
    c.hpa_sync_period_s = r.number("hpa_sync_period_s");
    if (!(c.hpa_sync_period_s > 0)) r.fail("hpa_sync_period_s", "expected a positive number of seconds");
  }
  r.finish();
  return k;
}

}  // namespace

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
  s.has_batch = r.has("batch") || !s.kubernetes;
  if (s.has_batch) s.batch = parse_batch(r.object("batch"), base_dir);
  if (s.has_batch && s.kubernetes)
    r.fail("kubernetes", "batch and kubernetes on one machine need a broker that owns the nodes (the factory section); "
                         "run them as separate scenarios until then");
  if (r.has("outputs")) {
    JsonReader o = r.object("outputs");
    s.slowdown_tau_s = o.number_or("slowdown_tau_s", 10.0);
    if (!(s.slowdown_tau_s > 0)) o.fail("slowdown_tau_s", "expected a positive number of seconds");
    o.finish();
  }
  r.finish({"platform", "outputs", "kubernetes", "batch"});
  s.effective = doc;
  return s;
}

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  nlohmann::json doc = load_json_file(file);
  for (const auto& o : overrides) apply_override(doc, o);
  return parse_scenario(doc, file.string(), file.parent_path());
}

}  // namespace aifsim::scenario
