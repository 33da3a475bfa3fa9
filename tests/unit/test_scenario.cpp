#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "scenario/runner.hpp"
#include "scenario/scenario.hpp"

using namespace aifsim;
using namespace aifsim::scenario;

namespace {
nlohmann::json base() {
  return nlohmann::json::parse(R"({"name": "s", "batch": {"workload": {"swf": "t.swf"}}})");
}
std::string error_of(const nlohmann::json& doc) {
  try {
    parse_scenario(doc, "s.json", "/base");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Scenario, DefaultsAndRelativePaths) {
  auto s = parse_scenario(base(), "s.json", "/base");
  EXPECT_EQ(s.batch.scheduler, "easy");
  EXPECT_EQ(s.batch.unit, hpc::ResourceUnit::PROCS);
  EXPECT_TRUE(s.batch.kill_at_limit);
  EXPECT_EQ(s.batch.workload.swf, std::filesystem::path("/base/t.swf"));
  EXPECT_EQ(s.seed, 1u);
}

TEST(Scenario, OverridesParseJsonValuesOrStrings) {
  auto doc = base();
  apply_override(doc, "batch.scheduler=conservative");
  apply_override(doc, "batch.capacity=64");
  apply_override(doc, "batch.workload.max_jobs=10");
  apply_override(doc, "outputs.slowdown_tau_s=60");
  auto s = parse_scenario(doc, "s.json", "/base");
  EXPECT_EQ(s.batch.scheduler, "conservative");
  EXPECT_EQ(s.batch.capacity, 64);
  EXPECT_EQ(s.batch.workload.max_jobs, 10u);
  EXPECT_EQ(s.slowdown_tau_s, 60);
  EXPECT_THROW(apply_override(doc, "name.sub=1"), InputError);  // "name" is a string
  EXPECT_THROW(apply_override(doc, "=1"), InputError);
  EXPECT_THROW(apply_override(doc, "a..b=1"), InputError);
  // List elements by index.
  doc["list"] = nlohmann::json::array({nlohmann::json::object({{"x", 1}}), 2});
  apply_override(doc, "list.0.x=5");
  apply_override(doc, "list.1=7");
  EXPECT_EQ(doc["list"][0]["x"], 5);
  EXPECT_EQ(doc["list"][1], 7);
  EXPECT_THROW(apply_override(doc, "list.2.x=1"), InputError);
  EXPECT_THROW(apply_override(doc, "list.first=1"), InputError);
}

TEST(Scenario, ErrorsNameTheJsonPath) {
  auto doc = base();
  doc["batch"]["overrun"] = "continue";
  EXPECT_EQ(error_of(doc), "s.json: at $.batch.overrun: expected one of kill or run, got \"continue\"");
  doc = base();
  doc["batch"]["workload"]["max_job"] = 5;
  EXPECT_EQ(error_of(doc), "s.json: at $.batch.workload.max_job: unknown key \"max_job\" (did you mean \"max_jobs\"?)");
  doc = base();
  doc["platfrom"] = "x.json";
  EXPECT_EQ(error_of(doc), "s.json: at $.platfrom: unknown key \"platfrom\" (did you mean \"platform\"?)");
  doc = base();
  doc["batch"].erase("workload");
  EXPECT_EQ(error_of(doc), "s.json: at $.batch: missing required key \"workload\"");
  doc = base();
  doc["batch"]["resource_unit"] = 3;
  EXPECT_EQ(error_of(doc), "s.json: at $.batch.resource_unit: expected a string, got number 3");
}

TEST(Scenario, ShippedScenariosLoad) {
  for (const char* f : {"quickstart.json", "traces/lanl-cm5.json", "traces/llnl-atlas.json", "traces/nasa-ipsc.json",
                        "traces/lublin-256.json"}) {
    auto s = load_scenario(std::string(AIFSIM_SOURCE_DIR) + "/scenarios/" + f);
    auto machine = resolve_batch_machine(s);
    EXPECT_GT(machine.capacity, 0) << f;
    EXPECT_TRUE(std::filesystem::exists(s.batch.workload.swf)) << f;
  }
}

TEST(Scenario, MachineFromTheTraceHeader) {
  auto doc = base();
  doc["batch"]["workload"]["swf"] = std::string(AIFSIM_TEST_DATA_DIR) + "/tiny.swf";
  doc["batch"]["resource_unit"] = "nodes";
  auto m = resolve_batch_machine(parse_scenario(doc, "s.json", "/"));
  EXPECT_EQ(m.capacity, 4);
  EXPECT_EQ(m.procs_per_node, 2);
}
