// The scheduler runtime: cycles, percentageOfNodesToScore, weights, host selection,
// DefaultPreemption, configuration, and placement of a manifest set.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "k8s/placement.hpp"
#include "k8s/scheduler.hpp"
#include "k8s/yaml_json.hpp"

using namespace aifsim;
using namespace aifsim::k8s;
using namespace aifsim::k8s::sched;

namespace {
Node node(const std::string& name, const std::string& cpu, const std::string& gpus) {
  Node n;
  n.meta.name = name;
  n.meta.labels = {{"kubernetes.io/hostname", name}};
  n.allocatable = {{CPU, *parse_quantity(cpu)}, {MEMORY, *parse_quantity("64Gi")}, {GPU, *parse_quantity(gpus)},
                   {PODS, *parse_quantity("110")}};
  n.capacity = n.allocatable;
  return n;
}

Pod pod(const std::string& name, const std::string& cpu, const std::string& gpus, int priority = 0) {
  Pod p;
  p.meta.name = name;
  Container c;
  c.name = "c";
  c.image = "img";
  c.requests = {{CPU, *parse_quantity(cpu)}, {MEMORY, *parse_quantity("1Gi")}};
  if (gpus != "0") c.requests[GPU] = *parse_quantity(gpus);
  p.spec.containers.push_back(c);
  p.spec.priority = priority;
  return p;
}

const PodOutcome& outcome(const PlacementResult& r, const std::string& name) {
  for (const auto& p : r.pods)
    if (p.name == name) return p;
  throw std::runtime_error("no pod " + name);
}
}  // namespace

// kube's numFeasibleNodesToFind: all nodes below 100; else max(100, n x p%), with the
// adaptive p = max(5, 50 - n/125).
TEST(Scheduler, NodesToFind) {
  Profile p(default_profile(), 1);
  EXPECT_EQ(p.nodes_to_find(50), 50);
  EXPECT_EQ(p.nodes_to_find(99), 99);
  EXPECT_EQ(p.nodes_to_find(100), 100);   // 100 x 50% = 50 -> at least 100
  EXPECT_EQ(p.nodes_to_find(1000), 420);  // 50 - 8 = 42 %
  EXPECT_EQ(p.nodes_to_find(5000), 500);  // 50 - 40 = 10 %
  EXPECT_EQ(p.nodes_to_find(20000), 1000);  // max(5, 50 - 160) = 5 %
  ProfileConfig fixed = default_profile();
  fixed.percentage_of_nodes_to_score = 30;
  EXPECT_EQ(Profile(fixed, 1).nodes_to_find(1000), 300);
}

// LeastAllocated spreads: two idle 8-GPU nodes, four 1-GPU pods go 2 + 2 (after the first
// lands on one node, the other is less allocated).
TEST(Scheduler, DefaultProfileSpreadsOverLeastAllocatedNodes) {
  ManifestSet m;
  m.nodes = {node("a", "16", "8"), node("b", "16", "8")};
  for (int i = 0; i < 4; ++i) m.pods.push_back(pod("p" + std::to_string(i), "2", "1"));
  auto r = place(m, default_profile(), 7);
  int on_a = 0;
  for (const auto& p : r.pods) {
    EXPECT_EQ(p.state, "scheduled");
    on_a += p.node == "a";
  }
  EXPECT_EQ(on_a, 2);
}

TEST(Scheduler, UnschedulableReasonsAreCountedPerNode) {
  ManifestSet m;
  m.nodes = {node("a", "4", "0"), node("b", "4", "2")};
  m.pods = {pod("big", "2", "4")};
  auto r = place(m, default_profile(), 1);
  EXPECT_EQ(outcome(r, "big").state, "unschedulable");
  EXPECT_EQ(outcome(r, "big").reason, "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");
}

// Node a: low-priority pods L1 (1 GPU, prio 1), L2 (2 GPUs, prio 2) on a 4-GPU node;
// node b: M (4 GPUs, prio 5). A prio-10 pod needing 2 GPUs: on a, removing both frees 4;
// reprieve adds back the more important L2 first: 2 + 2 > 4? no: 1 free + ... worked out:
// a has 4 GPUs, L1 + L2 use 3, 1 free. Without victims 4 free. Add L2 back (2): 2 free,
// fits -> L2 stays. Add L1 back (1): 1 free, does not fit -> L1 is the victim.
// b: victim M (prio 5). Pick: lowest highest-victim priority: a (1) beats b (5).
TEST(Scheduler, DefaultPreemptionPicksTheMinimalVictims) {
  ManifestSet m;
  m.nodes = {node("a", "16", "4"), node("b", "16", "4")};
  Pod l1 = pod("l1", "1", "1"), l2 = pod("l2", "1", "2"), mm = pod("m", "1", "4"), h = pod("h", "1", "2");
  l1.spec.node_name = "a";
  l2.spec.node_name = "a";
  mm.spec.node_name = "b";
  PriorityClass low1{"low1", 1}, low2{"low2", 2}, mid{"mid", 5}, high{"high", 10};
  m.priority_classes = {low1, low2, mid, high};
  l1.spec.priority_class_name = "low1";
  l2.spec.priority_class_name = "low2";
  mm.spec.priority_class_name = "mid";
  h.spec.priority_class_name = "high";
  m.pods = {l1, l2, mm, h};
  auto r = place(m, default_profile(), 1, "h");
  EXPECT_EQ(outcome(r, "h").state, "scheduled");
  EXPECT_EQ(outcome(r, "h").node, "a");
  EXPECT_EQ(outcome(r, "l1").state, "preempted");
  EXPECT_EQ(outcome(r, "l1").reason, "preempted by default/h");
  EXPECT_EQ(outcome(r, "l2").state, "scheduled");
  EXPECT_EQ(outcome(r, "m").state, "scheduled");
  EXPECT_EQ(r.preemptions, 1);
  ASSERT_GE(r.explanation.size(), 2u);
  EXPECT_EQ(r.explanation[0]["preemption"]["node"], "a");
  EXPECT_EQ(r.explanation[0]["preemption"]["victims"], nlohmann::json::array({"default/l1"}));
  EXPECT_EQ(r.explanation[1]["chosen"], "a");
}

TEST(Scheduler, PreemptionPolicyNeverDoesNotPreempt) {
  ManifestSet m;
  m.nodes = {node("a", "16", "1")};
  Pod low = pod("low", "1", "1"), high = pod("high", "1", "1");
  PriorityClass hp{"hp", 100, false, "Never"};
  m.priority_classes = {hp};
  high.spec.priority_class_name = "hp";
  low.spec.node_name = "a";
  m.pods = {low, high};
  auto r = place(m, default_profile(), 1);
  EXPECT_EQ(outcome(r, "low").state, "scheduled");
  EXPECT_EQ(outcome(r, "high").state, "unschedulable");
}

TEST(Scheduler, ExplainListsFilteredNodesAndScores) {
  ManifestSet m;
  m.nodes = {node("a", "16", "0"), node("b", "16", "8"), node("c", "32", "8")};
  m.pods = {pod("p", "4", "1")};
  auto r = place(m, default_profile(), 1, "default/p");
  ASSERT_EQ(r.explanation.size(), 1u);
  const auto& attempt = r.explanation[0];
  EXPECT_EQ(attempt["feasible"], 2);
  bool saw_filtered = false, saw_scored = false;
  for (const auto& n : attempt["nodes"]) {
    if (n["node"] == "a") {
      saw_filtered = true;
      EXPECT_EQ(n["filtered_by"], "NodeResourcesFit");
      EXPECT_EQ(n["reasons"][0], "Insufficient nvidia.com/gpu");
    } else {
      saw_scored = true;
      EXPECT_TRUE(n["scores"].contains("NodeResourcesFit"));
      EXPECT_EQ(n["scores"]["TaintToleration"]["weight"], 3);
    }
  }
  EXPECT_TRUE(saw_filtered && saw_scored);
  // c has more free cpu: LeastAllocated prefers it.
  EXPECT_EQ(attempt["chosen"], "c");
}

TEST(Scheduler, SameSeedSameChoicesAmongTies) {
  ManifestSet m;
  for (int i = 0; i < 10; ++i) m.nodes.push_back(node("n" + std::to_string(i), "16", "8"));
  for (int i = 0; i < 30; ++i) m.pods.push_back(pod("p" + std::to_string(i), "1", "1"));
  auto a = place(m, default_profile(), 42), b = place(m, default_profile(), 42);
  for (std::size_t i = 0; i < a.pods.size(); ++i) EXPECT_EQ(a.pods[i].node, b.pods[i].node);
}

TEST(SchedulerConfig, KubeSchedulerConfigurationYaml) {
  auto doc = yaml_text_to_json(R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 20
profiles:
  - schedulerName: gpu-scheduler
    plugins:
      multiPoint:
        disabled:
          - name: ImageLocality
      score:
        enabled:
          - name: NodeResourcesFit
            weight: 5
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources:
              - name: nvidia.com/gpu
                weight: 1
      - name: DefaultPreemption
        args:
          minCandidateNodesAbsolute: 10
)", "c.yaml");
  ProfileConfig p = parse_scheduler_config(doc, "c.yaml");
  EXPECT_EQ(p.scheduler_name, "gpu-scheduler");
  EXPECT_EQ(p.percentage_of_nodes_to_score, 20);
  EXPECT_EQ(std::count(p.plugins.begin(), p.plugins.end(), "ImageLocality"), 0);
  EXPECT_EQ(p.score_weights.at("NodeResourcesFit"), 5);
  EXPECT_EQ(p.min_candidate_nodes_absolute, 10);
  EXPECT_EQ(p.plugin_args.at("NodeResourcesFit")["scoringStrategy"]["type"], "MostAllocated");
  Profile built(p, 1);  // plugin args are validated when the profile is built
}

TEST(SchedulerConfig, ErrorsNameThePath) {
  auto bad = [](const std::string& yaml) {
    try {
      parse_scheduler_config(yaml_text_to_json(yaml, "c.yaml"), "c.yaml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(bad("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n"
                "  - plugins:\n      score:\n        enabled:\n          - name: NodeResourceFit\n")
                .find("unknown plugin \"NodeResourceFit\" (did you mean \"NodeResourcesFit\"?)"),
            std::string::npos);
  EXPECT_NE(bad("apiVersion: v2\nkind: KubeSchedulerConfiguration\n").find("at $.apiVersion"), std::string::npos);
  EXPECT_NE(bad("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScor: 3\n")
                .find("did you mean \"percentageOfNodesToScore\""),
            std::string::npos);
  EXPECT_NE(bad("a: [1, 2\n").find("c.yaml:"), std::string::npos);
}

TEST(Admission, PrioritiesFromClassesAndGlobalDefault) {
  ManifestSet m;
  m.priority_classes = {PriorityClass{"batch", 100, true}, PriorityClass{"serving", 1000}};
  Pod a = pod("a", "1", "0"), b = pod("b", "1", "0");
  b.spec.priority_class_name = "serving";
  Pod c = pod("c", "1", "0");
  c.spec.priority_class_name = "nope";
  m.pods = {a, b};
  auto pods = admit(m);
  EXPECT_EQ(pods[0].spec.priority, 100);  // global default
  EXPECT_EQ(pods[1].spec.priority, 1000);
  m.pods.push_back(c);
  EXPECT_THROW(admit(m), InputError);
}
