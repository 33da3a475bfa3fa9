#include "platform/platform.hpp"

#include "core/error.hpp"
#include "core/json_reader.hpp"

namespace aifsim::platform {

namespace {

double positive(JsonReader& r, const std::string& key, double value, bool allow_zero = false) {
  if (!(value > 0 || (allow_zero && value == 0)))
    r.fail(key, std::string("expected a ") + (allow_zero ? "non-negative" : "positive") + " number, got " +
                    std::to_string(value));
  return value;
}

NodeType parse_node_type(JsonReader r, const std::string& name) {
  NodeType t;
  t.name = name;
  t.cpu_cores = static_cast<int>(r.integer("cpu_cores"));
  if (t.cpu_cores <= 0) r.fail("cpu_cores", "expected a positive integer");
  t.core_speed_flops = positive(r, "core_speed_flops", r.number_or("core_speed_flops", 1e9));
  t.memory_bytes = positive(r, "memory_bytes", r.number_or("memory_bytes", 0), true);
  t.gpus = static_cast<int>(r.integer_or("gpus", 0));
  if (t.gpus < 0) r.fail("gpus", "expected a non-negative integer");
  t.gpu_model = r.string_or("gpu_model", "");
  if (t.gpus > 0 && t.gpu_model.empty()) r.fail("gpu_model", "a node type with GPUs must name its gpu_model");
  if (t.gpus == 0 && !t.gpu_model.empty()) r.fail("gpus", "gpu_model is set but gpus is 0");
  t.nvlink_domain_gpus = static_cast<int>(r.integer_or("nvlink_domain_gpus", t.gpus));
  if (t.nvlink_domain_gpus < 0 || t.nvlink_domain_gpus > std::max(t.gpus, 0))
    r.fail("nvlink_domain_gpus", "expected between 0 and the node's GPU count (" + std::to_string(t.gpus) + ")");
  // 0 = the fabric is not modelled for this node type (e.g. a machine known only from a trace header).
  t.nic_bw_Bps = positive(r, "nic_bw_Bps", r.number_or("nic_bw_Bps", 0), true);
  if (r.has("idle_power_w")) t.idle_power_w = positive(r, "idle_power_w", r.number("idle_power_w"));
  if (r.has("peak_power_w")) t.peak_power_w = positive(r, "peak_power_w", r.number("peak_power_w"));
  if (t.idle_power_w && t.peak_power_w && *t.idle_power_w > *t.peak_power_w)
    r.fail("idle_power_w", "idle power exceeds peak power");
  if (r.has("gpu_idle_power_w")) t.gpu_idle_power_w = positive(r, "gpu_idle_power_w", r.number("gpu_idle_power_w"));
  if (r.has("gpu_busy_power_w")) t.gpu_busy_power_w = positive(r, "gpu_busy_power_w", r.number("gpu_busy_power_w"));
  if ((t.gpu_idle_power_w || t.gpu_busy_power_w) && t.gpus == 0) r.fail("gpu_busy_power_w", "GPU power given for a node type without GPUs");
  if (t.gpu_idle_power_w && t.gpu_busy_power_w && *t.gpu_idle_power_w > *t.gpu_busy_power_w)
    r.fail("gpu_idle_power_w", "GPU idle power exceeds its busy power");
  r.finish();
  return t;
}

FabricSpec parse_fabric(JsonReader r) {
  FabricSpec f;
  std::string kind = r.choice("kind", {"single_switch", "fat_tree"});
  f.link_latency_s = positive(r, "link_latency_s", r.number_or("link_latency_s", 0), true);
  if (kind == "single_switch") {
    f.kind = FabricKind::SINGLE_SWITCH;
  } else {
    f.kind = FabricKind::FAT_TREE;
    f.levels = static_cast<int>(r.integer("levels"));
    if (f.levels != 2 && f.levels != 3) r.fail("levels", "expected 2 or 3");
    f.nodes_per_leaf = static_cast<int>(r.integer("nodes_per_leaf"));
    if (f.nodes_per_leaf <= 0) r.fail("nodes_per_leaf", "expected a positive integer");
    if (f.levels == 3) {
      f.leaves_per_pod = static_cast<int>(r.integer("leaves_per_pod"));
      if (f.leaves_per_pod <= 0) r.fail("leaves_per_pod", "expected a positive integer");
    }
    f.oversubscription.assign(f.levels - 1, 1.0);
    if (r.has("oversubscription")) {
      const auto& o = r.raw("oversubscription");
      std::vector<double> values;
      if (o.is_number()) values.assign(f.levels - 1, o.get<double>());
      else if (o.is_array()) {
        for (const auto& x : o) {
          if (!x.is_number()) r.fail("oversubscription", "expected numbers");
          values.push_back(x.get<double>());
        }
      } else {
        r.fail("oversubscription", "expected a number or an array of one number per switch level");
      }
      if (values.size() != static_cast<std::size_t>(f.levels - 1))
        r.fail("oversubscription", "expected " + std::to_string(f.levels - 1) + " values (one per level above the leaves' nodes)");
      for (double v : values)
        if (!(v >= 1.0)) r.fail("oversubscription", "each ratio must be >= 1 (1 = non-blocking)");
      f.oversubscription = values;
    }
  }
  r.finish({"levels", "nodes_per_leaf", "leaves_per_pod", "oversubscription"});
  return f;
}

}  // namespace

const NodeType& PlatformSpec::type_of(const NodeGroup& group) const {
  for (const auto& t : node_types)
    if (t.name == group.type) return t;
  throw SimulationError("platform: unknown node type " + group.type);
}

int PlatformSpec::node_count() const {
  int n = 0;
  for (const auto& g : groups) n += g.count;
  return n;
}

long long PlatformSpec::total_cores() const {
  long long n = 0;
  for (const auto& g : groups) n += static_cast<long long>(g.count) * type_of(g).cpu_cores;
  return n;
}

long long PlatformSpec::total_gpus() const {
  long long n = 0;
  for (const auto& g : groups) n += static_cast<long long>(g.count) * type_of(g).gpus;
  return n;
}

PlatformSpec parse_platform(const nlohmann::json& json, const std::string& file) {
  JsonReader r(json, file);
  PlatformSpec p;
  p.name = r.string("name");
  p.description = r.string_or("description", "");
  p.source = r.string_or("source", "");
  auto types = r.object("node_types");
  for (auto it = json["node_types"].begin(); it != json["node_types"].end(); ++it) {
    p.node_types.push_back(parse_node_type(types.object(it.key()), it.key()));
  }
  if (p.node_types.empty()) r.fail("node_types", "expected at least one node type");
  const auto& nodes = r.array("nodes");
  if (nodes.empty()) r.fail("nodes", "expected at least one node group");
  std::vector<std::string> type_names;
  for (const auto& t : p.node_types) type_names.push_back(t.name);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    JsonReader g(nodes[i], file, "$.nodes[" + std::to_string(i) + "]");
    NodeGroup group;
    group.type = g.choice("type", type_names);
    group.count = static_cast<int>(g.integer("count"));
    if (group.count <= 0) g.fail("count", "expected a positive integer");
    group.prefix = g.string_or("prefix", group.type + "-");
    g.finish();
    for (const auto& other : p.groups)
      if (other.prefix == group.prefix) g.fail("prefix", "prefix \"" + group.prefix + "\" is used by another group");
    p.groups.push_back(group);
  }
  if (p.node_count() > 10'000'000) r.fail("nodes", "more than 10 million nodes");
  p.fabric = parse_fabric(r.object("fabric"));
  if (r.has("services")) {
    const auto& services = r.array("services");
    for (std::size_t i = 0; i < services.size(); ++i) {
      JsonReader s(services[i], file, "$.services[" + std::to_string(i) + "]");
      ServiceHost host;
      host.name = s.string("name");
      host.kind = s.choice("kind", {"registry", "storage"});
      host.bw_Bps = positive(s, "bw_Bps", s.number("bw_Bps"));
      s.finish();
      for (const auto& other : p.services)
        if (other.name == host.name) s.fail("name", "service \"" + host.name + "\" is defined twice");
      for (const auto& g : p.groups)
        if (host.name.rfind(g.prefix, 0) == 0) s.fail("name", "service \"" + host.name + "\" starts with the node prefix \"" + g.prefix + "\"");
      p.services.push_back(host);
    }
    for (const auto& t : p.node_types)
      if (!p.services.empty() && t.nic_bw_Bps <= 0)
        r.fail("services", "services need the fabric: node type \"" + t.name + "\" has no nic_bw_Bps");
  }
  r.finish();
  return p;
}

PlatformSpec load_platform(const std::filesystem::path& file) {
  return parse_platform(load_json_file(file), file.string());
}

PlatformSpec make_uniform_platform(const std::string& name, int nodes, int cores_per_node) {
  PlatformSpec p;
  p.name = name;
  p.description = "uniform machine of " + std::to_string(nodes) + " nodes x " + std::to_string(cores_per_node) + " cores";
  NodeType t;
  t.name = "node";
  t.cpu_cores = cores_per_node;
  p.node_types.push_back(t);
  p.groups.push_back(NodeGroup{"node", "node", nodes});
  return p;
}

}  // namespace aifsim::platform
