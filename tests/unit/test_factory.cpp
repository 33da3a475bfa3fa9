// The dual-stack factory on four 8-GPU nodes (three batch, one Kubernetes), every time
// worked by hand from the policies' rules and the move costs (reprovision 100 s, join 20 s,
// both ways; broker loop every 60 s; the autoscaler's scan every 10 s).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "scenario/runner.hpp"
#include "scenario/scenario.hpp"

using namespace aifsim;

namespace {

std::filesystem::path dir_for(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / "aifsim-tests" / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Batch: an 8-GPU job at t = 0 for 1000 s; a 24-GPU job at t = 200 for 100 s.
// Kubernetes: a Deployment of three whole-node (8-GPU) replicas, one node to start with.
nlohmann::json run(const std::string& name, const std::string& policy, const std::filesystem::path& out,
                   const std::string& extra_factory = "") {
  auto d = dir_for(name);
  write(d / "platform.json", R"({"name": "four", "node_types": {"hgx": {"cpu_cores": 64, "memory_bytes": 1e12,
    "gpu_model": "H100-SXM5-80GB", "gpus": 8}}, "nodes": [{"type": "hgx", "count": 4, "prefix": "n"}],
    "fabric": {"kind": "single_switch"}})");
  write(d / "jobs.swf", "; MaxProcs: 32\n"
                        "1 0 -1 1000 8 -1 -1 8 1000 -1 1 1 1 -1 1 -1 -1 -1\n"
                        "2 200 -1 100 24 -1 -1 24 100 -1 1 1 1 -1 1 -1 -1 -1\n");
  write(d / "k8s.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: big}
spec:
  replicas: 3
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: main
          image: img
          resources: {limits: {nvidia.com/gpu: "8"}}
)");
  write(d / "s.json", R"({"name": ")" + name + R"(", "platform": "platform.json",
    "batch": {"scheduler": "easy", "resource_unit": "gpus", "workload": {"swf": "jobs.swf"}},
    "kubernetes": {"manifests": ["k8s.yaml"]},
    "factory": {"policy": ")" + policy + R"(", "k8s_nodes": 1, "duration_s": 2000,
      "to_k8s": {"reprovision_s": 100, "join_s": 20}, "to_hpc": {"reprovision_s": 100, "join_s": 20},
      "lend": {"reclaim_after_s": 300, "lend_cooldown_s": 0},
      "pilot": {"walltime_s": 600, "drain_s": 60})" + extra_factory + R"(}})");
  auto s = scenario::load_scenario(d / "s.json");
  return scenario::run_scenario(s, out, {true});
}

std::string job_row(const std::string& csv, const std::string& id) {
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(id + ",", 0) == 0) return line;
  return "";
}

}  // namespace

// Static: Kubernetes keeps its one node, two replicas wait for good; the batch jobs run
// at 0 and, the 8-GPU job holding one of three nodes, the 24-GPU one at 1000.
TEST(Factory, StaticKeepsTheSplit) {
  auto out = dir_for("factory-static-out");
  auto s = run("factory-static", "static", out);
  EXPECT_EQ(s["factory"]["moves"].get<int>(), 0);
  EXPECT_NEAR(s["factory"]["owned_gpu_hours"]["k8s"].get<double>(), 8 * 2000 / 3600.0, 1e-9);
  EXPECT_EQ(s["kubernetes"]["pods"]["by_state"]["pending"].get<int>(), 2);
  EXPECT_EQ(job_row(read(out / "jobs.csv"), "2"), "2,200,1000,1100,24,100,100,completed");
}

// Lend: the autoscaler asks at t = 10 for two nodes; nothing waits in the batch queue and
// two batch nodes are idle: both move (10 + 100 + 20 = 130) and the waiting replicas bind
// at 130. At t = 200 the 24-GPU job waits (8 GPUs free): the broker sees the pressure at
// its tick at 240 and reclaims 300 s later (540): both lent nodes drain at once (grace 0)
// and rejoin the batch partition at 540 + 120 = 660; the job still waits for the 8-GPU job
// and starts at 1000. The evicted replicas wait meanwhile (capacity the batch queue needs
// is never lent); when the job ends at 1100 the autoscaler gets both nodes again (1220).
TEST(Factory, LendMovesIdleBatchNodesAndReclaimsThem) {
  auto out = dir_for("factory-lend-out");
  auto s = run("factory-lend", "lend", out);
  EXPECT_EQ(s["factory"]["moves"].get<int>(), 6);
  const std::string pods = read(out / "pods.csv");
  EXPECT_NE(pods.find("big-r1-2,default,ReplicaSet/big-r1,n0002,n,0,0,130,130,130,540,540,"), std::string::npos) << pods;
  EXPECT_NE(pods.find("evicted by the broker's release of n0002"), std::string::npos) << pods;
  EXPECT_NE(pods.find("big-r1-4,default,ReplicaSet/big-r1,n0001,n,0,540,1220,1220,1220,,,"), std::string::npos) << pods;
  EXPECT_EQ(job_row(read(out / "jobs.csv"), "2"), "2,200,1000,1100,24,100,100,completed");
  // Two nodes x 8 GPUs x 120 s, three times.
  EXPECT_NEAR(s["factory"]["owned_gpu_hours"]["moving"].get<double>(), 6 * 8 * 120 / 3600.0, 1e-9);
  const auto& owned = s["factory"]["owned_gpu_hours"];
  EXPECT_NEAR(owned["hpc"].get<double>() + owned["k8s"].get<double>() + owned["moving"].get<double>(), 32 * 2000 / 3600.0, 1e-9);
  EXPECT_EQ(read(out / "ownership.csv"), "time_s,hpc_nodes,k8s_nodes,moving_nodes\n0,3,1,0\n10,1,1,2\n130,1,3,0\n"
                                         "540,1,1,2\n660,3,1,0\n1100,1,1,2\n1220,1,3,0\n2000,1,3,0\n");
}

// Pilot: at t = 10 a pilot job of 16 GPUs (two nodes) enters the batch queue and starts
// at once; its nodes join the cluster 20 s later (30), where the replicas bind. They are
// drained 60 s before the 600 s walltime (550). The 24-GPU job waits for the pilot and the
// 8-GPU job: the pilot resubmitted at 560 is behind it in FCFS/EASY order.
TEST(Factory, PilotJobsHoldNodesForKubelets) {
  auto out = dir_for("factory-pilot-out");
  auto s = run("factory-pilot", "pilot", out);
  EXPECT_EQ(s["factory"]["moves"].get<int>(), 0);
  EXPECT_GE(s["factory"]["pilot_jobs"]["started"].get<int>(), 1);
  const std::string pods = read(out / "pods.csv");
  EXPECT_NE(pods.find("big-r1-2,default,ReplicaSet/big-r1,n0002,n,0,0,30,30,30,550,550,"), std::string::npos) << pods;
  // Batch allocation excludes the pilot: only the two trace jobs' GPU-hours.
  EXPECT_NEAR(s["factory"]["allocated_gpu_hours"]["hpc"].get<double>(), (8 * 1000 + 24 * 100) / 3600.0, 1e-9);
}

TEST(Factory, BadFactoryInputIsAnInputError) {
  auto d = dir_for("factory-bad");
  write(d / "s.json", R"({"name": "x", "batch": {"workload": {"swf": "x.swf"}}, "kubernetes": {"manifests": ["k.yaml"]},
    "platform": "p.json", "factory": {"policy": "lent", "k8s_nodes": 1, "duration_s": 10}})");
  try {
    scenario::load_scenario(d / "s.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("(did you mean \"lend\"?)"), std::string::npos) << e.what();
  }
}

// Serverless calls: 8-GPU, 10 s batch jobs at 0.02 calls/s beside the trace. Every call is
// counted (finished or still running at the end), none returns before its runtime, and
// the same seed gives the same calls.
TEST(Factory, ServerlessCallsGoThroughTheBatchQueue) {
  auto out = dir_for("factory-serverless-out");
  const std::string calls = R"(, "serverless": {"name": "tools", "rate_rps": 0.02, "units": 8, "runtime_s": 10})";
  auto s = run("factory-serverless", "static", out, calls)["factory"]["serverless"];
  EXPECT_EQ(s["name"], "tools");
  EXPECT_GT(s["calls"].get<int>(), 20);  // about 40 expected over 2000 s
  EXPECT_EQ(s["calls"].get<int>(), s["finished"].get<int>() + s["unfinished"].get<int>());
  EXPECT_GE(s["latency_s"]["p50"].get<double>(), 10.0);
  EXPECT_GE(s["queue_s"]["mean"].get<double>(), 0.0);
  auto again = run("factory-serverless-2", "static", dir_for("factory-serverless-out-2"), calls)["factory"]["serverless"];
  EXPECT_EQ(again.dump(), s.dump());
}
