#include "scenario/scenario.hpp"

#include "core/error.hpp"
#include "core/json_reader.hpp"
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
  s.batch = parse_batch(r.object("batch"), base_dir);
  if (r.has("outputs")) {
    JsonReader o = r.object("outputs");
    s.slowdown_tau_s = o.number_or("slowdown_tau_s", 10.0);
    if (!(s.slowdown_tau_s > 0)) o.fail("slowdown_tau_s", "expected a positive number of seconds");
    o.finish();
  }
  r.finish({"platform", "outputs"});
  s.effective = doc;
  return s;
}

Scenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  nlohmann::json doc = load_json_file(file);
  for (const auto& o : overrides) apply_override(doc, o);
  return parse_scenario(doc, file.string(), file.parent_path());
}

}  // namespace aifsim::scenario
