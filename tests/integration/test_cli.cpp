// The aifsim command end to end, on tests/data/tiny.swf, whose schedule is worked out
// by hand below.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

using namespace aifsim::testing;

namespace {
const std::string TINY = std::string(AIFSIM_TEST_DATA_DIR) + "/tiny.swf";
}

// tiny.swf on its header's machine (8 procs), EASY:
// t=0   J1 (8 procs, 100 s) starts; 0 free.
// t=10  J2 (4, 50 s, limit 200) queues as head: shadow 100 (J1's limit), extra 4.
// t=20  J3 (4, 30 s, limit 40) queues; nothing is free.
// t=30  J4 (16 procs) is wider than the machine: rejected.
// t=40  J5 (2, runs 80 s, limit 60) queues.
// t=100 J1 ends: J2 and J3 start (0 free). Head J5: shadow 140 (J3's limit).
// t=130 J3 ends (30 s): J5 starts on the 4 free procs; it is killed at its limit, t=190.
// t=150 J2 ends.
TEST(Cli, BatchReplayMatchesTheHandWorkedSchedule) {
  auto out = fresh_dir("tiny-easy");
  auto r = run_aifsim("batch --swf " + TINY + " --scheduler easy -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(out / "jobs.csv"),
            "job_id,submit_s,start_s,end_s,procs,requested_s,runtime_s,state\n"
            "1,0,0,100,8,100,100,completed\n"
            "2,10,100,150,4,200,50,completed\n"
            "3,20,100,130,4,40,30,completed\n"
            "4,30,,,16,600,500,rejected\n"
            "5,40,130,190,2,60,80,timeout\n");
  EXPECT_NE(read_file(out / "rejections.csv").find("4," + TINY + ":12,wider_than_machine"), std::string::npos);
  auto s = nlohmann::json::parse(read_file(out / "summary.json"));
  const auto& b = s["batch"];
  EXPECT_EQ(b["jobs"]["completed"], 3);
  EXPECT_EQ(b["jobs"]["timeout"], 1);
  EXPECT_EQ(b["jobs"]["rejected"], 1);
  // waits 0, 90, 80, 90
  EXPECT_DOUBLE_EQ(b["wait_s"]["mean"].get<double>(), 65.0);
  EXPECT_DOUBLE_EQ(b["wait_s"]["median"].get<double>(), 85.0);
  EXPECT_DOUBLE_EQ(b["wait_s"]["p95"].get<double>(), 90.0);
  EXPECT_DOUBLE_EQ(b["wait_s"]["max"].get<double>(), 90.0);
  // bounded slowdowns (tau 10): 100/100, 140/50, 110/30, 150/60
  EXPECT_NEAR(b["bounded_slowdown"]["mean"].get<double>(), (1.0 + 2.8 + 110.0 / 30 + 2.5) / 4, 1e-12);
  // used: 8x100 + 4x50 + 4x30 + 2x60 = 1240 proc-s over 8 procs x 190 s
  EXPECT_NEAR(b["utilisation"].get<double>(), 1240.0 / (8 * 190), 1e-12);
  EXPECT_DOUBLE_EQ(b["makespan_s"].get<double>(), 190.0);
  EXPECT_TRUE(s["performance"].contains("wall_time_s"));
  EXPECT_EQ(s["scenario"]["effective"]["batch"]["scheduler"], "easy");
  EXPECT_EQ(read_file(out / "utilisation.csv").substr(0, 58), "time_s,allocated,capacity,utilisation,running_jobs,queued_");
}

TEST(Cli, OverrunRunLetsTheJobFinish) {
  auto out = fresh_dir("tiny-run");
  auto r = run_aifsim("batch --swf " + TINY + " --overrun run -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(out / "jobs.csv").find("5,40,130,210,2,60,80,completed\n"), std::string::npos);
}

// On 16 procs J4 fits. EASY: t=0 J1 (8); t=10 J2 (4); t=20 J3 (4): 0 free.
// t=30 J4 (16) is head: limits end at 60 (J3), 100 (J1), 210 (J2) -> shadow 210, extra 0.
// t=50 J3 ends (4 free). J5 (2 procs, limit 60): 50+60 = 110 <= 210 -> backfills, killed at 110.
// t=60 J2 ends, t=100 J1 ends, t=110 J5 killed: 16 free -> J4 starts at 110, ends 610.
// FCFS: J5 may not pass J4. J4 starts at t=100 when J1 ends, J5 at 600 (killed at 660).
TEST(Cli, FcfsAndEasyDifferOnABiggerMachine) {
  auto easy = fresh_dir("tiny-16-easy");
  auto fcfs = fresh_dir("tiny-16-fcfs");
  ASSERT_EQ(run_aifsim("batch -q --swf " + TINY + " --procs 16 --scheduler easy -o " + easy.string()).exit_code, 0);
  ASSERT_EQ(run_aifsim("batch -q --swf " + TINY + " --procs 16 --scheduler fcfs -o " + fcfs.string()).exit_code, 0);
  auto e = read_file(easy / "jobs.csv");
  EXPECT_NE(e.find("4,30,110,610,16,600,500,completed\n"), std::string::npos) << e;
  EXPECT_NE(e.find("5,40,50,110,2,60,80,timeout\n"), std::string::npos) << e;
  auto f = read_file(fcfs / "jobs.csv");
  EXPECT_NE(f.find("4,30,100,600,16,600,500,completed\n"), std::string::npos) << f;
  EXPECT_NE(f.find("5,40,600,660,2,60,80,timeout\n"), std::string::npos) << f;
}

TEST(Cli, NodesUnitRoundsProcessorsUpToNodes) {
  // 4 nodes of 2 procs: J5 (2 procs) takes one node; same schedule as in procs.
  auto out = fresh_dir("tiny-nodes");
  auto r = run_aifsim("batch -q --swf " + TINY + " --unit nodes -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto s = nlohmann::json::parse(read_file(out / "summary.json"));
  EXPECT_EQ(s["batch"]["capacity_units"], 4);
  EXPECT_NE(read_file(out / "jobs.csv").find("5,40,130,190,2,60,80,timeout\n"), std::string::npos);
}

TEST(Cli, TwoRunsAreByteIdentical) {
  auto a = fresh_dir("det-a"), b = fresh_dir("det-b");
  std::string trace = source_path("workloads/swf/NASA-iPSC-1993-3.1-cln.swf.gz");
  ASSERT_EQ(run_aifsim("batch -q --swf " + trace + " --scheduler conservative -o " + a.string()).exit_code, 0);
  ASSERT_EQ(run_aifsim("batch -q --swf " + trace + " --scheduler conservative -o " + b.string()).exit_code, 0);
  for (const char* f : {"jobs.csv", "utilisation.csv", "rejections.csv"}) EXPECT_EQ(read_file(a / f), read_file(b / f)) << f;
  auto sa = nlohmann::json::parse(read_file(a / "summary.json"));
  auto sb = nlohmann::json::parse(read_file(b / "summary.json"));
  sa.erase("performance");
  sb.erase("performance");
  EXPECT_EQ(sa.dump(), sb.dump());
}

TEST(Cli, RunScenarioWithOverrides) {
  auto dir = fresh_dir("scenario");
  write_file(dir / "s.json", R"({
    // a scenario next to its trace
    "name": "tiny", "batch": {"scheduler": "fcfs", "workload": {"swf": ")" + TINY + R"("}}})");
  auto out = dir / "out";
  auto r = run_aifsim("run " + (dir / "s.json").string() + " -o " + out.string() +
                      " --set batch.scheduler=easy --set batch.capacity=16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(out / "jobs.csv").find("4,30,110,610,16,600,500,completed\n"), std::string::npos);
  auto s = nlohmann::json::parse(read_file(out / "summary.json"));
  EXPECT_EQ(s["scenario"]["effective"]["batch"]["scheduler"], "easy");
}

TEST(Cli, BadInputExitsTwoWithAClearMessage) {
  auto dir = fresh_dir("bad");
  auto out = (dir / "out").string();
  struct Case {
    std::string args, expected;
  };
  write_file(dir / "typo.json", R"({"name": "x", "batch": {"schedular": "easy", "workload": {"swf": ")" + TINY + R"("}}})");
  write_file(dir / "broken.json", "{\"name\": \"x\",\n \"batch\": }");
  write_file(dir / "bad.swf", "; MaxProcs: 8\n1 0 5 100 8 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n2 1 2 3\n");
  write_file(dir / "empty.swf", "");
  std::vector<Case> cases = {
      {"batch --swf /nonexistent.swf -o " + out, "/nonexistent.swf: cannot open SWF trace: no such file"},
      {"batch --swf " + TINY + " --scheduler esy -o " + out, "expected one of fcfs, easy or conservative, got \"esy\" (did you mean \"easy\"?)"},
      {"batch --swf " + TINY + " --strict -o " + out, "tiny.swf:12: job 4 can never run: wider_than_machine (16 procs on a machine of 8 procs)"},
      {"batch --swf " + (dir / "bad.swf").string() + " -o " + out, "bad.swf:3: expected 18 whitespace-separated SWF fields, found 4"},
      {"batch --swf " + (dir / "empty.swf").string() + " -o " + out, "contains no job records"},
      {"run " + (dir / "typo.json").string() + " -o " + out, "at $.batch.schedular: unknown key \"schedular\" (did you mean \"scheduler\"?)"},
      {"run " + (dir / "broken.json").string() + " -o " + out, "broken.json:2:"},
      {"run " + (dir / "typo.json").string() + " -o " + out + " --set nokey", "expected key.path=value"},
      {"validate " + (dir / "typo.json").string(), "unknown key \"schedular\""},
      {"batch --swf " + TINY + " --procs -3 -o " + out, "capacity: expected a positive integer"},
      {"batch --swf", "--swf: 1 required"},
      {"frobnicate", "unknown command \"frobnicate\"; expected run, batch, validate"},
      {"bach --swf x", "(did you mean \"batch\"?)"},
  };
  for (const auto& c : cases) {
    auto r = run_aifsim(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(Cli, ValidateAcceptsShippedFiles) {
  for (const char* f : {"scenarios/quickstart.json", "platforms/hgx-h100-128.json", "workloads/swf/lublin_256.swf.gz"}) {
    auto r = run_aifsim("validate " + source_path(f));
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.output;
    EXPECT_NE(r.output.find("valid"), std::string::npos) << r.output;
  }
}

TEST(Cli, PlatformInfoPrintsTheFabric) {
  auto r = run_aifsim("platform info --json --simgrid " + source_path("platforms/hgx-h100-128.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["nodes"], 128);
  EXPECT_EQ(j["gpus_total"], 1024);
  EXPECT_EQ(j["simgrid"]["hosts"], 128);
  EXPECT_EQ(j["hop_distribution"]["2"], 4 * 496);
}

TEST(CliGpu, PredictAnswersForEveryShippedModelAndPhase) {
  const std::string profile = source_path("calibration/profiles/h100-sxm.json");
  for (const char* model : {"llama3-8b", "llama3.2-1b", "llama3-70b", "mixtral-8x7b"})
    for (const char* phase : {"prefill", "decode", "train"}) {
      std::string tp = std::string(model) == "llama3-70b" ? "4" : "1";
      auto r = run_aifsim("gpu predict --profile " + profile + " --model " + source_path("workloads/models/") + model +
                          ".json --phase " + phase + " --batch 4 --tokens 512 --tp " + tp + " --json");
      ASSERT_EQ(r.exit_code, 0) << model << " " << phase << "\n" << r.output;
      // stdout holds the JSON; a memory warning may follow it on stderr.
      auto json_start = r.output.find('{'), json_end = r.output.find("\n}") + 2;
      auto j = nlohmann::json::parse(r.output.substr(json_start, json_end - json_start));
      EXPECT_GT(j["time_s"].get<double>(), 0) << model << " " << phase;
      EXPECT_GT(j["memory_bytes"].get<double>(), 0);
      EXPECT_TRUE(j["operators_s"].contains("gemm"));
    }
  // Plain output is the time in seconds alone.
  auto r = run_aifsim("gpu predict --profile " + profile + " --model " + source_path("workloads/models/llama3-8b.json") +
                      " --phase decode --batch 1 --tokens 1024");
  ASSERT_EQ(r.exit_code, 0);
  double t = std::stod(r.output);
  EXPECT_GT(t, 0.004);
  EXPECT_LT(t, 0.008);
}

TEST(CliGpu, BadArgumentsExitTwo) {
  const std::string profile = source_path("calibration/profiles/h100-sxm.json");
  const std::string model = source_path("workloads/models/llama3-8b.json");
  struct Case {
    std::string args, expected;
  };
  std::vector<Case> cases = {
      {"gpu predict --profile " + profile + " --model " + model + " --phase serve --tokens 8", "--phase"},
      {"gpu predict --profile " + profile + " --model " + model + " --phase decode --tokens 8 --tp 3",
       "heads (32) is not divisible by tp=3"},
      {"gpu predict --profile " + profile + " --model " + model + " --phase prefill --tokens 100000",
       "exceeds llama3-8b's context of 8192 tokens"},
      {"gpu predict --profile /nonexistent.json --model " + model + " --phase decode --tokens 8", "cannot open file"},
      {"gpu predict --profile " + model + " --model " + model + " --phase decode --tokens 8", "missing required key \"schema\""},
      {"calibrate -o /tmp/aifsim-never-written.json", "calibrate"},
  };
  for (const auto& c : cases) {
    auto r = run_aifsim(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
  }
}

// The shipped GPU cluster: 6 one-GPU serving replicas spread (LeastAllocated, zone spread)
// over 6 of the 8 HGX nodes leave only 2 whole nodes for the 8-GPU fine-tuning pods, so 2
// of them stay pending; bin-packing GPUs (MostAllocated) keeps whole nodes free: all fit.
TEST(CliK8s, ScheduleTheShippedClusterUnderBothProfiles) {
  auto spread = fresh_dir("k8s-spread"), pack = fresh_dir("k8s-pack");
  auto r = run_aifsim("k8s schedule " + source_path("scenarios/k8s/gpu-cluster.yaml") + " -o " + spread.string() +
                      " --explain serving/llama3-8b-5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto s = nlohmann::json::parse(read_file(spread / "summary.json"));
  EXPECT_EQ(s["pods"]["scheduled"], 14);
  EXPECT_EQ(s["pods"]["unschedulable"], 2);
  EXPECT_NE(read_file(spread / "placements.csv").find("pod,namespace,owner,priority,node,state,attempts,reason\n"),
            std::string::npos);
  auto explain = nlohmann::json::parse(read_file(spread / "explain.json"));
  EXPECT_EQ(explain["attempts"].size(), 1u);
  r = run_aifsim("k8s schedule -q " + source_path("scenarios/k8s/gpu-cluster.yaml") + " --scheduler-config " +
                 source_path("scenarios/k8s/binpack-gpus.yaml") + " -o " + pack.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  s = nlohmann::json::parse(read_file(pack / "summary.json"));
  EXPECT_EQ(s["pods"]["scheduled"], 16);
  // Bad input exits 2.
  EXPECT_EQ(run_aifsim("k8s schedule /nonexistent.yaml -o " + pack.string()).exit_code, 2);
  EXPECT_EQ(run_aifsim("k8s schedule " + source_path("scenarios/k8s/gpu-cluster.yaml") + " --explain nobody -o " +
                       pack.string()).exit_code, 2);
}

// A Kubernetes cluster scenario from the command line: the shipped hour of an LLM cluster
// runs, leaves every pod in a recorded state, and two runs write identical files.
TEST(CliK8s, ClusterScenarioRunsAndIsDeterministic) {
  auto a = fresh_dir("k8s-run-a"), b = fresh_dir("k8s-run-b");
  const std::string scenario = source_path("scenarios/k8s/llm-cluster.json");
  auto ra = run_aifsim("run " + scenario + " -o " + a.string());
  ASSERT_EQ(ra.exit_code, 0) << ra.output;
  EXPECT_NE(ra.output.find("pods "), std::string::npos) << ra.output;
  ASSERT_EQ(run_aifsim("run -q " + scenario + " -o " + b.string()).exit_code, 0);
  for (const char* f : {"pods.csv", "k8s_jobs.csv", "k8s_utilisation.csv", "hpa.csv", "trace.json"})
    EXPECT_EQ(read_file(a / f), read_file(b / f)) << f;
  EXPECT_EQ(read_file(a / "k8s_nodes.csv"), read_file(b / "k8s_nodes.csv"));
  auto s = nlohmann::json::parse(read_file(a / "summary.json"));
  const auto& k = s["kubernetes"];
  int by_state = 0;
  for (const auto& [state, n] : k["pods"]["by_state"].items()) {
    by_state += n.get<int>();
    EXPECT_TRUE(state == "running" || state == "succeeded" || state == "deleted" || state == "preempted" ||
                state == "pending" || state == "starting" || state == "terminating" || state == "failed" ||
                state == "evicted")
        << state;
  }
  EXPECT_EQ(by_state, k["pods"]["total"].get<int>());
  // pods.csv has one row per pod, with the header the README documents.
  const std::string pods = read_file(a / "pods.csv");
  EXPECT_EQ(pods.rfind("pod,namespace,owner,node,pool,priority,created_s,scheduled_s,started_s,ready_s,deleted_s,"
                       "terminated_s,pending_s,pull_s,load_s,startup_s,state,attempts,preemptions,reason\n",
                       0),
            0u);
  EXPECT_EQ(static_cast<int>(std::count(pods.begin(), pods.end(), '\n')) - 1, by_state);
  // The rolling update replaced the first revision's pods; the gang and the Kueue jobs completed.
  EXPECT_NE(pods.find("ReplicaSet/llama3-8b-r2"), std::string::npos);
  EXPECT_GE(k["jobs"]["by_state"]["complete"].get<int>(), 12);
  // The autoscaler grew the pool beyond its 8-node minimum.
  EXPECT_NE(read_file(a / "k8s_nodes.csv").find(",gpu,joined\n"), std::string::npos);
  auto v = run_aifsim("validate " + scenario);
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(CliK8s, ClusterScenarioInputErrorsExitTwo) {
  auto dir = fresh_dir("k8s-bad");
  const std::string base = source_path("tests/data/k8s/cluster/");
  auto out = (dir / "out").string();
  struct Case {
    std::string set, expected;
  };
  std::vector<Case> cases = {
      {"kubernetes.lifecycle.registry=nosuch", "lifecycle.registry \"nosuch\" is not a service of the platform"},
      {"kubernetes.lifecycle.warmup_s=3", "at $.kubernetes.lifecycle.warmup_s: unknown key"},
      {"kubernetes.duration_s=-1", "duration_s: expected a positive number of seconds"},
      {"kubernetes.mig={\"node\":{\"7g.80gb\":2}}", "MIG profile 7g.80gb: at most 1 instances per GPU"},
      {"kubernetes.events=[{\"at_s\":1,\"action\":\"scale\",\"target\":\"Deployment/nosuch\",\"replicas\":1}]",
       "no Deployment/nosuch to scale"},
      {"kubernetes.events=[{\"at_s\":1,\"action\":\"resize\",\"target\":\"Deployment/llm\"}]", "expected one of scale"},
      {"kubernetes.explain=nosuch", "no pod named \"nosuch\" was ever scheduled"},
      {"batch={\"workload\":{\"swf\":\"x.swf\"}}", "batch and kubernetes sections on one machine need a \"factory\" section"},
  };
  for (const auto& c : cases) {
    auto r = run_aifsim("run " + base + "serving.json -o " + out + " --set '" + c.set + "'");
    EXPECT_EQ(r.exit_code, 2) << c.set << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.set << "\n" << r.output;
  }
}

// aifsim serve writes the summary the issue names, one requests.csv row per request, and
// the same files twice.
TEST(CliServe, GeneratedRequestsSummaryAndDeterminism) {
  auto a = fresh_dir("serve-a"), b = fresh_dir("serve-b");
  const std::string args = "serve --profile h100-sxm --model llama3-8b --replicas 2 --router power_of_two --rate 10 "
                           "--prompt-tokens 500 --output-tokens 100 --requests 500 --ttft-slo-s 0.2 --tpot-slo-s 0.02";
  auto r = run_aifsim(args + " -o " + a.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(run_aifsim(args + " -q -o " + b.string()).exit_code, 0);
  EXPECT_EQ(read_file(a / "requests.csv"), read_file(b / "requests.csv"));
  EXPECT_EQ(read_file(a / "replicas.csv"), read_file(b / "replicas.csv"));
  EXPECT_EQ(read_file(a / "replicas.csv").rfind("time_s,pool,replica,running,waiting,kv_usage\n0,replicas,0,0,0,0\n", 0), 0u);
  auto s = nlohmann::json::parse(read_file(a / "summary.json"))["serving"];
  EXPECT_EQ(s["requests"]["completed"].get<int>(), 500);
  for (const char* m : {"ttft_s", "tpot_s", "e2e_s"})
    for (const char* q : {"mean", "p50", "p90", "p99"}) EXPECT_GT(s[m][q].get<double>(), 0) << m << " " << q;
  EXPECT_GT(s["throughput_output_tokens_per_s"].get<double>(), 0);
  EXPECT_GT(s["goodput_rps"].get<double>(), 0);
  const std::string csv = read_file(a / "requests.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 501);
}

TEST(CliServe, ReplaysTheShippedAzureTrace) {
  auto dir = fresh_dir("serve-azure");
  auto r = run_aifsim("serve --profile h100-sxm --model llama3-8b --replicas 2 --trace " +
                      source_path("workloads/llm/azure_conv_2023.csv.gz") + " --max-requests 2000 --rate-scale 2 -o " +
                      dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto s = nlohmann::json::parse(read_file(dir / "summary.json"))["serving"];
  EXPECT_EQ(s["requests"]["total"].get<int>(), 2000);
  EXPECT_EQ(s["requests"]["completed"].get<int>() + s["requests"]["rejected_too_long"].get<int>(), 2000);
}

TEST(CliServe, BadInputExitsTwo) {
  auto out = fresh_dir("serve-bad").string();
  struct Case {
    std::string args, expected;
  };
  const std::string base = "serve --profile h100-sxm --model llama3-8b -o " + out + " ";
  std::vector<Case> cases = {
      {base + "--rate 1 --prompt-tokens 10 --output-tokens 10 --requests 5 --router round_robn", "did you mean \"round_robin\""},
      {base + "--trace x.csv --rate 3", "give either --trace FILE or --rate QPS"},
      {base + "--rate 1 --prompt-tokens 10", "need --rate, --prompt-tokens, --output-tokens and --requests"},
      {"serve --profile h100-sxm --model nosuch -o " + out + " --rate 1 --prompt-tokens 1 --output-tokens 1 --requests 1",
       "no such model card file"},
      {base + "--trace /nonexistent.csv", "/nonexistent.csv"},
      {base + "--rate -1 --prompt-tokens 10 --output-tokens 10 --requests 5", "rate_rps"},
  };
  for (const auto& c : cases) {
    auto r = run_aifsim(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
  }
}

// A service inside a Kubernetes scenario: its replicas are the Deployment's ready pods,
// its HPA scales on their running requests, and its requests are recorded.
TEST(CliK8s, ServiceBehindAnAutoscaledDeployment) {
  auto dir = fresh_dir("k8s-service");
  auto r = run_aifsim("run " + source_path("tests/data/k8s/cluster/service.json") + " -o " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto k = nlohmann::json::parse(read_file(dir / "summary.json"))["kubernetes"];
  const auto& chat = k["services"]["chat"];
  const int total = chat["requests"]["total"];
  EXPECT_GT(total, 10000);
  EXPECT_GT(chat["requests"]["completed"].get<int>(), total * 9 / 10);
  EXPECT_GT(chat["replicas_created"].get<int>(), 1);  // the HPA scaled it out
  EXPECT_TRUE(std::filesystem::exists(dir / "requests-chat.csv"));
}

// The quickstart is a dual-stack factory; compare puts two policies side by side.
TEST(CliFactory, QuickstartRunsAndComparesAcrossPolicies) {
  auto lend = fresh_dir("factory-lend"), stat = fresh_dir("factory-static"), cmp = fresh_dir("factory-compare");
  auto r = run_aifsim("run " + source_path("scenarios/quickstart.json") + " -o " + lend.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("policy lend"), std::string::npos) << r.output;
  ASSERT_EQ(run_aifsim("run -q " + source_path("scenarios/quickstart.json") + " --set factory.policy=static -o " +
                       stat.string())
                .exit_code,
            0);
  auto s = nlohmann::json::parse(read_file(lend / "summary.json"));
  EXPECT_GT(s["factory"]["moves"].get<int>(), 0);
  // The timeline has the ownership and batch counters beside the pods.
  const std::string trace = read_file(lend / "trace.json");
  EXPECT_NE(trace.find("\"name\":\"nodes owned\""), std::string::npos);
  EXPECT_NE(trace.find("\"name\":\"batch GPUs allocated\""), std::string::npos);
  const auto& owned = s["factory"]["owned_gpu_hours"];
  EXPECT_NEAR(owned["hpc"].get<double>() + owned["k8s"].get<double>() + owned["moving"].get<double>(),
              s["factory"]["gpu_hours"].get<double>(), 1e-6);
  auto c = run_aifsim("compare " + lend.string() + " " + stat.string() + " -o " + cmp.string());
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const std::string csv = read_file(cmp / "compare.csv");
  EXPECT_EQ(csv.rfind("run,scenario,policy,gpus,utilisation,", 0), 0u) << csv;
  EXPECT_NE(csv.find(",lend,256,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",static,256,"), std::string::npos) << csv;
  EXPECT_EQ(run_aifsim("compare /nonexistent -o " + cmp.string()).exit_code, 2);
}

// A sweep gives the same comparison whatever -j, and writes a Slurm job array on request.
TEST(CliSweep, LocalRunsAreTheSameAtAnyParallelismAndSlurmArraysAreWritten) {
  auto one = fresh_dir("sweep-j1"), two = fresh_dir("sweep-j2"), slurm = fresh_dir("sweep-slurm");
  const std::string sweep = source_path("scenarios/sweeps/quickstart-policies.json");
  ASSERT_EQ(run_aifsim("sweep -q " + sweep + " -j 1 -o " + one.string()).exit_code, 0);
  ASSERT_EQ(run_aifsim("sweep -q " + sweep + " -j 2 -o " + two.string()).exit_code, 0);
  auto strip = [](std::string csv, const std::string& dir) {
    for (std::size_t p; (p = csv.find(dir)) != std::string::npos;) csv.erase(p, dir.size());
    return csv;
  };
  const std::string a = strip(read_file(one / "compare.csv"), one.string());
  EXPECT_EQ(a, strip(read_file(two / "compare.csv"), two.string()));
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 13);  // 3 policies x 2 splits x 2 seeds, and the header
  EXPECT_NE(a.find(",pilot,"), std::string::npos);
  ASSERT_EQ(run_aifsim("sweep -q " + sweep + " --slurm -o " + slurm.string()).exit_code, 0);
  EXPECT_NE(read_file(slurm / "sweep.sbatch").find("#SBATCH --array=0-11\n"), std::string::npos);
  EXPECT_NE(read_file(slurm / "submit.sh").find("--dependency=afterok:"), std::string::npos);
  const std::string args = read_file(slurm / "points.args");
  EXPECT_EQ(std::count(args.begin(), args.end(), '\n'), 12);
}
