// NodeName, NodeUnschedulable, NodeResourcesFit, NodeResourcesBalancedAllocation,
// TaintToleration, NodeAffinity and ImageLocality: filters, scores and normalisation on
// small hand-built nodes, with the arithmetic worked out in each case's comment, the pure
// formulas table-driven, and bad arguments rejected naming the field.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

// The pure formulas at the bottom of the plugin files (plugins.hpp declares only the
// factories, and it is shared, so they are declared here).
namespace aifsim::k8s::sched {
bool node_name_fits(const std::string& pod_node_name, const std::string& node_name);
bool node_unschedulable_admits(bool node_unschedulable, const std::vector<Toleration>& tolerations);
std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity);
std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity);
std::int64_t broken_linear_score(const std::vector<std::pair<std::int64_t, std::int64_t>>& shape, std::int64_t utilization);
std::int64_t balanced_resource_score(const std::vector<std::int64_t>& requested, const std::vector<std::int64_t>& allocatable);
std::int64_t taint_toleration_normalized_score(std::int64_t count, std::int64_t max_count);
std::int64_t node_affinity_normalized_score(std::int64_t score, std::int64_t max_score);
std::string normalized_image_name(const std::string& name);
std::int64_t scaled_image_score(std::int64_t size_bytes, std::int64_t nodes_with_image, std::int64_t total_nodes);
std::int64_t image_locality_priority(std::int64_t sum_scores, std::int64_t containers);
}  // namespace aifsim::k8s::sched

using namespace aifsim;
using namespace aifsim::k8s;
using namespace aifsim::k8s::sched;

namespace {

constexpr std::int64_t MIB = 1024 * 1024;
const std::string UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable";

Milli q(const std::string& text) {
  auto v = parse_quantity(text);
  if (!v) throw std::runtime_error("bad quantity " + text);
  return *v;
}

ResourceList resources(const std::vector<std::pair<std::string, std::string>>& list) {
  ResourceList out;
  for (const auto& [name, text] : list) out[name] = q(text);
  return out;
}

Container container(const std::string& name, const ResourceList& requests, const std::string& image = "img:1") {
  Container c;
  c.name = name;
  c.image = image;
  c.requests = requests;
  return c;
}

Pod make_pod(const std::string& name, const ResourceList& requests = {}) {
  Pod p;
  p.meta.name = name;
  p.spec.containers.push_back(container("c", requests));
  return p;
}

Toleration toleration(const std::string& key, bool exists, const std::string& value = "",
                      std::optional<TaintEffect> effect = std::nullopt) {
  Toleration t;
  t.key = key;
  t.exists = exists;
  t.value = value;
  t.effect = effect;
  return t;
}

Requirement req(const std::string& key, SelectorOp op, std::vector<std::string> values = {}) {
  return Requirement{key, op, std::move(values)};
}

NodeSelectorTerm term(std::vector<Requirement> expressions, std::vector<Requirement> fields = {}) {
  return NodeSelectorTerm{std::move(expressions), std::move(fields)};
}

// Nodes and pods kept at stable addresses, with the snapshot pointing at them.
struct Cluster {
  std::deque<Node> nodes;
  std::deque<Pod> pods;
  Snapshot snapshot;

  Node& node(const std::string& name, const ResourceList& allocatable = {}, const Labels& labels = {}) {
    Node n;
    n.meta.name = name;
    n.meta.labels = labels;
    n.allocatable = allocatable;
    n.capacity = allocatable;
    nodes.push_back(n);
    NodeInfo info;
    info.node = &nodes.back();
    snapshot.nodes.push_back(info);
    return nodes.back();
  }
  // A pod already bound to `node`: counts in its requested and non-zero requested.
  void bind(const std::string& node_name, const Pod& pod) {
    pods.push_back(pod);
    snapshot.find(node_name)->add_pod(pods.back());
  }
  // As the placement engine builds it: image -> how many nodes cache it.
  void index_images() {
    snapshot.nodes_with_image.clear();
    for (const auto& n : nodes)
      for (const auto& image : n.images) ++snapshot.nodes_with_image[image.name];
  }
  const NodeInfo& info(const std::string& name) const { return *snapshot.find(name); }
};

std::unique_ptr<Plugin> make(std::unique_ptr<Plugin> (*factory)(const nlohmann::json&, const std::string&),
                             const nlohmann::json& args = nlohmann::json::object()) {
  return factory(args, "pluginConfig.Test");
}

// One node's Filter verdict as the scheduler reaches it: PreFilter first (SKIP passes).
Status filter_on(const Plugin& plugin, const Pod& pod, const Cluster& c, const std::string& node) {
  CycleState state;
  if (const auto* pre = dynamic_cast<const PreFilterPlugin*>(&plugin)) {
    Status s = pre->pre_filter(state, pod, c.snapshot);
    if (s.skip()) return Status::success();
    if (!s.ok()) return s;
  }
  return dynamic_cast<const FilterPlugin&>(plugin).filter(state, pod, c.info(node));
}

// The nodes passing the Filter, comma-separated, in snapshot order.
std::string passing(const Plugin& plugin, const Pod& pod, const Cluster& c) {
  std::string out;
  for (const auto& n : c.nodes)
    if (filter_on(plugin, pod, c, n.meta.name).ok()) out += (out.empty() ? "" : ",") + n.meta.name;
  return out;
}

struct Scored {
  bool skipped = false;
  std::vector<std::int64_t> raw, normalized;
};

// PreScore, Score on every node, NormalizeScore: as one scheduling cycle runs them.
Scored score_all(const Plugin& plugin, const Pod& pod, const Cluster& c) {
  CycleState state;
  Scored out;
  std::vector<const NodeInfo*> feasible;
  for (const auto& n : c.snapshot.nodes) feasible.push_back(&n);
  if (const auto* pre = dynamic_cast<const PreScorePlugin*>(&plugin)) {
    Status s = pre->pre_score(state, pod, c.snapshot, feasible);
    if (s.skip()) {
      out.skipped = true;
      return out;
    }
    EXPECT_TRUE(s.ok());
  }
  const auto& scorer = dynamic_cast<const ScorePlugin&>(plugin);
  std::vector<NodeScore> scores;
  for (const auto* n : feasible) scores.push_back({n->name(), scorer.score(state, pod, *n)});
  for (const auto& s : scores) out.raw.push_back(s.score);
  scorer.normalize(state, pod, scores);
  for (const auto& s : scores) out.normalized.push_back(s.score);
  return out;
}

using Scores = std::vector<std::int64_t>;

// The InputError message a factory throws for `args`, or "" when it accepts them.
std::string args_error(std::unique_ptr<Plugin> (*factory)(const nlohmann::json&, const std::string&),
                       const std::string& args_json) {
  try {
    factory(nlohmann::json::parse(args_json), "pluginConfig.Test");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// ---------------------------------------------------------------- NodeName

TEST(NodeName, FitsWhenUnsetOrEqual) {
  EXPECT_TRUE(node_name_fits("", "a"));
  EXPECT_TRUE(node_name_fits("a", "a"));
  EXPECT_FALSE(node_name_fits("b", "a"));
}

TEST(NodeName, FilterRejectsOtherNodesUnresolvably) {
  Cluster c;
  c.node("a");
  c.node("b");
  auto plugin = make(&make_node_name);
  Pod pinned = make_pod("p");
  pinned.spec.node_name = "b";
  EXPECT_EQ(passing(*plugin, pinned, c), "b");
  EXPECT_EQ(passing(*plugin, make_pod("free"), c), "a,b");
  Status s = filter_on(*plugin, pinned, c, "a");
  EXPECT_EQ(s.code, Code::UNSCHEDULABLE_AND_UNRESOLVABLE);
  ASSERT_EQ(s.reasons.size(), 1u);
  EXPECT_EQ(s.reasons[0], "node(s) didn't match the requested node name");
  EXPECT_EQ(s.plugin, "NodeName");
}

TEST(NodeName, TakesNoArguments) {
  EXPECT_EQ(args_error(&make_node_name, "{}"), "");
  EXPECT_TRUE(contains(args_error(&make_node_name, R"({"nodeName": "a"})"), "unknown key \"nodeName\""));
}

// ---------------------------------------------------------------- NodeUnschedulable

TEST(NodeUnschedulable, OnlyTolerationsOfTheCordonTaintPass) {
  struct Case {
    const char* name;
    bool unschedulable;
    std::vector<Toleration> tolerations;
    bool admitted;
  };
  const std::vector<Case> cases = {
      {"schedulable node takes anyone", false, {}, true},
      {"cordoned, no tolerations", true, {}, false},
      {"Exists on the taint with NoSchedule", true, {toleration(UNSCHEDULABLE_TAINT, true, "", TaintEffect::NO_SCHEDULE)}, true},
      {"Exists on the taint, any effect", true, {toleration(UNSCHEDULABLE_TAINT, true)}, true},
      // Equal with the empty value the cordon taint carries.
      {"Equal \"\" on the taint", true, {toleration(UNSCHEDULABLE_TAINT, false, "", TaintEffect::NO_SCHEDULE)}, true},
      {"Equal with another value", true, {toleration(UNSCHEDULABLE_TAINT, false, "x")}, false},
      {"wrong effect (NoExecute)", true, {toleration(UNSCHEDULABLE_TAINT, true, "", TaintEffect::NO_EXECUTE)}, false},
      {"another key", true, {toleration("gpu", true)}, false},
      {"empty key with Exists tolerates everything", true, {toleration("", true)}, true},
  };
  for (const auto& k : cases) EXPECT_EQ(node_unschedulable_admits(k.unschedulable, k.tolerations), k.admitted) << k.name;
}

TEST(NodeUnschedulable, FilterReason) {
  Cluster c;
  c.node("open");
  c.node("cordoned").unschedulable = true;
  auto plugin = make(&make_node_unschedulable);
  EXPECT_EQ(passing(*plugin, make_pod("p"), c), "open");
  Status s = filter_on(*plugin, make_pod("p"), c, "cordoned");
  EXPECT_EQ(s.code, Code::UNSCHEDULABLE_AND_UNRESOLVABLE);
  EXPECT_EQ(s.reasons, std::vector<std::string>{"node(s) were unschedulable"});
  Pod daemon = make_pod("ds");
  daemon.spec.tolerations = {toleration(UNSCHEDULABLE_TAINT, true, "", TaintEffect::NO_SCHEDULE)};
  EXPECT_EQ(passing(*plugin, daemon, c), "open,cordoned");
}

// ---------------------------------------------------------------- NodeResourcesFit: Filter

// Node: 4 cpu, 8 Gi, 2 GPUs, 3 pods; one pod there requests 3 cpu, 4 Gi, 1 GPU, which
// leaves 1 cpu, 4 Gi, 1 GPU and 2 pod slots.
TEST(NodeResourcesFit, FilterListsEveryInsufficientResource) {
  struct Case {
    const char* name;
    ResourceList requests;
    std::vector<std::string> reasons;  // empty: fits
  };
  const std::vector<Case> cases = {
      {"exactly what is left", resources({{CPU, "1"}, {MEMORY, "4Gi"}, {GPU, "1"}}), {}},
      {"cpu 1500m > 1000m free", resources({{CPU, "1500m"}, {MEMORY, "2Gi"}}), {"Insufficient cpu"}},
      // 2 > 1 cpu, 5 Gi > 4 Gi, 2 > 1 GPU: every shortfall, cpu and memory first.
      {"three short",
       resources({{CPU, "2"}, {MEMORY, "5Gi"}, {GPU, "2"}}),
       {"Insufficient cpu", "Insufficient memory", "Insufficient nvidia.com/gpu"}},
      // The node has no example.com/fpga: 0 allocatable.
      {"resource the node lacks", resources({{CPU, "100m"}, {"example.com/fpga", "1"}}), {"Insufficient example.com/fpga"}},
      {"requests nothing", {}, {}},
      // Zero requests are not checked even for resources the node lacks.
      {"zero request of a missing resource", resources({{"example.com/fpga", "0"}}), {}},
  };
  Cluster c;
  c.node("n", resources({{CPU, "4"}, {MEMORY, "8Gi"}, {GPU, "2"}, {PODS, "3"}}));
  c.bind("n", make_pod("old", resources({{CPU, "3"}, {MEMORY, "4Gi"}, {GPU, "1"}})));
  auto plugin = make(&make_node_resources_fit);
  for (const auto& k : cases) {
    Status s = filter_on(*plugin, make_pod("p", k.requests), c, "n");
    EXPECT_EQ(s.reasons, k.reasons) << k.name;
    EXPECT_EQ(s.code, k.reasons.empty() ? Code::SUCCESS : Code::UNSCHEDULABLE) << k.name;
  }
}

// Init containers run one at a time: max(sum of app containers, each init container).
// App 500m, init 2 cpu: 2 cpu > 1 cpu free.
TEST(NodeResourcesFit, FilterUsesEffectiveRequestsWithInitContainers) {
  Cluster c;
  c.node("n", resources({{CPU, "4"}, {MEMORY, "8Gi"}}));
  c.bind("n", make_pod("old", resources({{CPU, "3"}})));
  Pod p = make_pod("p", resources({{CPU, "500m"}}));
  p.spec.init_containers.push_back(container("init", resources({{CPU, "2"}})));
  auto plugin = make(&make_node_resources_fit);
  EXPECT_EQ(filter_on(*plugin, p, c, "n").reasons, std::vector<std::string>{"Insufficient cpu"});
}

// Pod count: 1 allowed, 1 there -> "Too many pods" (upstream's wording), with the other
// shortfalls after it; no "pods" allocatable -> no limit.
TEST(NodeResourcesFit, FilterCountsPods) {
  Cluster c;
  c.node("one-slot", resources({{CPU, "1"}, {MEMORY, "1Gi"}, {PODS, "1"}}));
  c.node("unlimited", resources({{CPU, "1"}, {MEMORY, "1Gi"}}));
  for (const char* n : {"one-slot", "unlimited"})
    for (int i = 0; i < 3; ++i) c.bind(n, make_pod(std::string(n) + std::to_string(i)));
  auto plugin = make(&make_node_resources_fit);
  EXPECT_EQ(filter_on(*plugin, make_pod("small", resources({{CPU, "100m"}})), c, "one-slot").reasons,
            std::vector<std::string>{"Too many pods"});
  EXPECT_EQ(filter_on(*plugin, make_pod("big", resources({{CPU, "2"}})), c, "one-slot").reasons,
            (std::vector<std::string>{"Too many pods", "Insufficient cpu"}));
  EXPECT_TRUE(filter_on(*plugin, make_pod("small", resources({{CPU, "100m"}})), c, "unlimited").ok());
}

// ignoredResources / ignoredResourceGroups skip extended resources only.
TEST(NodeResourcesFit, FilterIgnoresConfiguredExtendedResources) {
  Cluster c;
  c.node("n", resources({{CPU, "1"}, {MEMORY, "1Gi"}}));
  Pod p = make_pod("p", resources({{"example.com/fpga", "1"}, {CPU, "2"}}));
  const std::vector<std::string> cpu_only = {"Insufficient cpu"};
  EXPECT_EQ(filter_on(*make(&make_node_resources_fit, {{"ignoredResources", {"example.com/fpga"}}}), p, c, "n").reasons,
            cpu_only);
  EXPECT_EQ(filter_on(*make(&make_node_resources_fit, {{"ignoredResourceGroups", {"example.com"}}}), p, c, "n").reasons,
            cpu_only);
  // cpu is not an extended resource: listing it changes nothing.
  EXPECT_EQ(filter_on(*make(&make_node_resources_fit, {{"ignoredResources", {"cpu"}}}), p, c, "n").reasons,
            (std::vector<std::string>{"Insufficient cpu", "Insufficient example.com/fpga"}));
}

// ---------------------------------------------------------------- NodeResourcesFit: formulas

TEST(NodeResourcesFit, LeastAndMostRequestedScore) {
  struct Case {
    std::int64_t requested, capacity, least, most;
  };
  const std::vector<Case> cases = {
      {1500, 4000, 62, 37},  // least (4000-1500)x100/4000 = 62.5 -> 62; most 1500x100/4000 = 37.5 -> 37
      {0, 4000, 100, 0},
      {4000, 4000, 0, 100},
      {4001, 4000, 0, 100},  // over capacity: least 0, most capped at capacity
      {5, 0, 0, 0},          // no capacity
      {1, 3, 66, 33},        // 200/3 = 66.7 -> 66; 100/3 = 33.3 -> 33
  };
  for (const auto& k : cases) {
    EXPECT_EQ(least_requested_score(k.requested, k.capacity), k.least) << k.requested << "/" << k.capacity;
    EXPECT_EQ(most_requested_score(k.requested, k.capacity), k.most) << k.requested << "/" << k.capacity;
  }
  // 1 PiB of memory in thousandths (1.1e18) x 100 passes 2^63: still exact.
  const std::int64_t pib = q("1Pi");
  EXPECT_EQ(least_requested_score(pib / 4, pib), 75);
  EXPECT_EQ(most_requested_score(pib / 4, pib), 25);
}

TEST(NodeResourcesFit, BrokenLinearShape) {
  const std::vector<std::pair<std::int64_t, std::int64_t>> peak = {{0, 0}, {50, 100}, {100, 20}};
  EXPECT_EQ(broken_linear_score(peak, 0), 0);
  EXPECT_EQ(broken_linear_score(peak, 25), 50);   // 0 + 100 x 25/50
  EXPECT_EQ(broken_linear_score(peak, 50), 100);
  EXPECT_EQ(broken_linear_score(peak, 75), 60);   // 100 + (20-100) x 25/50 = 100 - 40
  EXPECT_EQ(broken_linear_score(peak, 100), 20);
  const std::vector<std::pair<std::int64_t, std::int64_t>> inner = {{10, 30}, {90, 70}};
  EXPECT_EQ(broken_linear_score(inner, 5), 30);   // below the first point: its score
  EXPECT_EQ(broken_linear_score(inner, 50), 50);  // 30 + 40 x 40/80
  EXPECT_EQ(broken_linear_score(inner, 95), 70);  // above the last point: its score
}

// ---------------------------------------------------------------- NodeResourcesFit: Score

// Node 4 cpu / 8 Gi (8192 Mi) with a pod requesting 1 cpu / 2 Gi.
TEST(NodeResourcesFit, LeastAllocatedDefault) {
  Cluster c;
  c.node("n", resources({{CPU, "4"}, {MEMORY, "8Gi"}}));
  c.bind("n", make_pod("old", resources({{CPU, "1"}, {MEMORY, "2Gi"}})));
  auto plugin = make(&make_node_resources_fit);
  struct Case {
    const char* name;
    ResourceList requests;
    std::int64_t score;
  };
  const std::vector<Case> cases = {
      // cpu (4000-1000-500)x100/4000 = 62; memory (8192-2048-200)x100/8192 = 72.5 -> 72
      // (no memory request counts as 200 Mi); (62+72)/2 = 67
      {"cpu only", resources({{CPU, "500m"}}), 67},
      // cpu (4000-1100)x100/4000 = 72.5 -> 72; memory 72 as above; (72+72)/2 = 72
      {"best effort: 100m / 200 Mi", {}, 72},
      // cpu (4000-2000)x100/4000 = 50; memory (8192-4096)x100/8192 = 50
      {"half", resources({{CPU, "1"}, {MEMORY, "2Gi"}}), 50},
      // cpu (4000-4000) = 0; memory (8192-8192) = 0
      {"full", resources({{CPU, "3"}, {MEMORY, "6Gi"}}), 0},
  };
  for (const auto& k : cases) EXPECT_EQ(score_all(*plugin, make_pod("p", k.requests), c).raw, Scores{k.score}) << k.name;
}

// The node side counts pods without requests at 100m / 200 Mi too (non-zero requested),
// and the pod side applies the defaults per container.
TEST(NodeResourcesFit, DefaultRequestsOnBothSides) {
  Cluster c;
  c.node("busy", resources({{CPU, "1"}, {MEMORY, "1Gi"}}));
  c.node("empty", resources({{CPU, "1"}, {MEMORY, "1Gi"}}));
  c.bind("busy", make_pod("best-effort"));
  auto plugin = make(&make_node_resources_fit);
  // busy: cpu (1000-100-400)x100/1000 = 50; memory (1024-200-312)x100/1024 = 50 -> 50
  // empty: cpu (1000-400)x100/1000 = 60; memory (1024-312)x100/1024 = 69.5 -> 69; 129/2 = 64
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "400m"}, {MEMORY, "312Mi"}})), c).raw, (Scores{50, 64}));
  // Two containers, one asking 200m and no memory, one asking nothing: cpu 200m + 100m,
  // memory 200 Mi + 200 Mi. empty: cpu (1000-300)x100/1000 = 70; memory (1024-400)x100/1024
  // = 60.9 -> 60; (70+60)/2 = 65.
  Pod two = make_pod("two", resources({{CPU, "200m"}}));
  two.spec.containers.push_back(container("sidecar", {}));
  EXPECT_EQ(score_all(*plugin, two, c).raw[1], 65);
  // Overcommitted by the defaults: cpu 100 + 950 > 1000 -> 0; memory (1024-200-200)x100/1024
  // = 60.9 -> 60; (0+60)/2 = 30.
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "950m"}})), c).raw[0], 30);
}

TEST(NodeResourcesFit, MostAllocated) {
  Cluster c;
  c.node("n", resources({{CPU, "4"}, {MEMORY, "8Gi"}}));
  c.bind("n", make_pod("old", resources({{CPU, "1"}, {MEMORY, "2Gi"}})));
  auto plugin = make(&make_node_resources_fit, {{"scoringStrategy", {{"type", "MostAllocated"}}}});
  // cpu 1500x100/4000 = 37; memory 4096x100/8192 = 50; (37+50)/2 = 43
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "500m"}, {MEMORY, "2Gi"}})), c).raw, Scores{43});
  // cpu 1000+3500 > 4000 capped: 100; memory (2048+200)x100/8192 = 27; (100+27)/2 = 63
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "3500m"}})), c).raw, Scores{63});
}

// GPUs as a scoring resource, weighted. Node 16 cpu / 64 Gi / 8 GPUs with a pod of
// 2 cpu / 8 Gi / 2 GPUs; the new pod asks the same.
TEST(NodeResourcesFit, GpuAsWeightedScoringResource) {
  Cluster c;
  c.node("gpu", resources({{CPU, "16"}, {MEMORY, "64Gi"}, {GPU, "8"}}));
  c.node("cpu", resources({{CPU, "16"}, {MEMORY, "64Gi"}}));
  c.bind("gpu", make_pod("old", resources({{CPU, "2"}, {MEMORY, "8Gi"}, {GPU, "2"}})));
  c.bind("cpu", make_pod("old2", resources({{CPU, "2"}, {MEMORY, "8Gi"}})));
  const nlohmann::json weights = nlohmann::json::parse(
      R"([{"name": "cpu", "weight": 1}, {"name": "memory"}, {"name": "nvidia.com/gpu", "weight": 5}])");
  auto most = make(&make_node_resources_fit, {{"scoringStrategy", {{"type", "MostAllocated"}, {"resources", weights}}}});
  auto least = make(&make_node_resources_fit, {{"scoringStrategy", {{"type", "LeastAllocated"}, {"resources", weights}}}});
  const Pod gpu_pod = make_pod("p", resources({{CPU, "2"}, {MEMORY, "8Gi"}, {GPU, "2"}}));
  // gpu node: cpu 4x100/16 = 25, memory 16x100/64 = 25, GPU 4x100/8 = 50, weight 5:
  // (25 + 25 + 250) / 7 = 42.9 -> 42. cpu node has no GPU: left out, (25 + 25)/2 = 25.
  EXPECT_EQ(score_all(*most, gpu_pod, c).raw, (Scores{42, 25}));
  // Least: cpu 75, memory 75, GPU (8-4)x100/8 = 50: (75 + 75 + 250)/7 = 57.1 -> 57; cpu node 75.
  EXPECT_EQ(score_all(*least, gpu_pod, c).raw, (Scores{57, 75}));
  // A pod without GPUs leaves the GPU out everywhere: (25 + 25)/2 = 25 on both.
  EXPECT_EQ(score_all(*most, make_pod("p", resources({{CPU, "2"}, {MEMORY, "8Gi"}})), c).raw, (Scores{25, 25}));
}

// Node 4 cpu / 8 Gi with a pod of 1 cpu / 2 Gi.
TEST(NodeResourcesFit, RequestedToCapacityRatio) {
  Cluster c;
  c.node("n", resources({{CPU, "4"}, {MEMORY, "8Gi"}}));
  c.bind("n", make_pod("old", resources({{CPU, "1"}, {MEMORY, "2Gi"}})));
  auto args = [](const nlohmann::json& shape, const nlohmann::json& weights) {
    return nlohmann::json{{"scoringStrategy",
                           {{"type", "RequestedToCapacityRatio"},
                            {"resources", weights},
                            {"requestedToCapacityRatio", {{"shape", shape}}}}}};
  };
  const nlohmann::json even = {{{"name", "cpu"}, {"weight", 1}}, {{"name", "memory"}, {"weight", 1}}};
  const nlohmann::json pack = {{{"utilization", 0}, {"score", 0}}, {{"utilization", 100}, {"score", 10}}};
  // Bin packing, scores x10: cpu 2000x100/4000 = 50 -> 50; memory 4096x100/8192 = 50 -> 50;
  // round((50+50)/2) = 50.
  EXPECT_EQ(score_all(*make(&make_node_resources_fit, args(pack, even)), make_pod("p", resources({{CPU, "1"}, {MEMORY, "2Gi"}})), c).raw,
            Scores{50});
  // Custom shape (0,10) (50,2) (100,0) -> (0,100) (50,20) (100,0). Pod 500m, no memory:
  // cpu util 1500x100/4000 = 37 -> 100 + (20-100)x37/50 = 100 - 59 = 41;
  // memory util (2048+200)x100/8192 = 27 -> 100 - 80x27/50 = 100 - 43 = 57.
  const nlohmann::json custom = {{{"utilization", 0}, {"score", 10}},
                                 {{"utilization", 50}, {"score", 2}},
                                 {{"utilization", 100}, {"score", 0}}};
  const Pod small = make_pod("p", resources({{CPU, "500m"}}));
  EXPECT_EQ(score_all(*make(&make_node_resources_fit, args(custom, even)), small, c).raw, Scores{49});  // 98/2
  // Weights cpu 1, memory 2: (41 + 114)/3 = 51.67, rounded (not truncated) to 52.
  const nlohmann::json heavy_memory = {{{"name", "cpu"}, {"weight", 1}}, {{"name", "memory"}, {"weight", 2}}};
  EXPECT_EQ(score_all(*make(&make_node_resources_fit, args(custom, heavy_memory)), small, c).raw, Scores{52});
}

// A resource scoring 0 on the shape is left out of the average: node 1000 cpu / 4 Gi,
// pod 500m / 2 Gi: cpu util 500x100/1000000 = 0 -> 0, left out; memory 50 -> 50.
TEST(NodeResourcesFit, RequestedToCapacityRatioDropsZeroScores) {
  Cluster c;
  c.node("n", resources({{CPU, "1000"}, {MEMORY, "4Gi"}}));
  auto plugin = make(&make_node_resources_fit, nlohmann::json::parse(R"({"scoringStrategy": {
      "type": "RequestedToCapacityRatio",
      "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}})"));
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "500m"}, {MEMORY, "2Gi"}})), c).raw, Scores{50});
}

TEST(NodeResourcesFit, InvalidArgsNameTheField) {
  struct Case {
    const char* args;
    const char* field;  // in the message
  };
  const std::vector<Case> cases = {
      {R"({"scoringStrategy": {"type": "LeastAlocated"}})", "$.scoringStrategy.type"},
      {R"({"scoringStrategy": {"resources": []}})", "missing required key \"type\""},
      {R"({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 101}]}})",
       "$.scoringStrategy.resources[0].weight"},
      {R"({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu"}, {"name": "memory", "weight": -1}]}})",
       "$.scoringStrategy.resources[1].weight"},
      {R"({"scoringStrategy": {"type": "MostAllocated", "resources": [{"weight": 1}]}})", "missing required key \"name\""},
      {R"({"scoringStrategy": {"type": "RequestedToCapacityRatio"}})", "$.scoringStrategy.requestedToCapacityRatio"},
      {R"({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": []}}})",
       "$.scoringStrategy.requestedToCapacityRatio.shape"},
      {R"({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio":
            {"shape": [{"utilization": 50, "score": 1}, {"utilization": 40, "score": 2}]}}})",
       "$.scoringStrategy.requestedToCapacityRatio.shape[1].utilization"},
      {R"({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio":
            {"shape": [{"utilization": 0, "score": 11}]}}})",
       "$.scoringStrategy.requestedToCapacityRatio.shape[0].score"},
      {R"({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio":
            {"shape": [{"utilization": 101, "score": 1}]}}})",
       "$.scoringStrategy.requestedToCapacityRatio.shape[0].utilization"},
      {R"({"ignoredResourceGroups": ["example.com/gpu"]})", "$.ignoredResourceGroups"},
      {R"({"ignoredResources": [3]})", "$.ignoredResources"},
      {R"({"ignoredResource": ["example.com/gpu"]})", "did you mean \"ignoredResources\""},
      {R"({"scoringStrategy": {"type": "MostAllocated", "shape": []}})", "$.scoringStrategy.shape"},
  };
  for (const auto& k : cases) {
    const std::string error = args_error(&make_node_resources_fit, k.args);
    EXPECT_TRUE(contains(error, k.field)) << k.args << " -> " << error;
    EXPECT_TRUE(contains(error, "pluginConfig.Test")) << error;
  }
  // Upstream's defaulting: weight unset or 0 means 1; no resources means cpu and memory.
  EXPECT_EQ(args_error(&make_node_resources_fit,
                       R"({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 0}]}})"),
            "");
  EXPECT_EQ(args_error(&make_node_resources_fit, R"({"scoringStrategy": {"type": "LeastAllocated", "resources": []}})"), "");
}

// ---------------------------------------------------------------- BalancedAllocation

TEST(BalancedAllocation, ResourceScore) {
  struct Case {
    const char* name;
    std::vector<std::int64_t> requested, allocatable;
    std::int64_t score;
  };
  const std::vector<Case> cases = {
      {"equal fractions 0.5, 0.5: std 0", {2000, 4096}, {4000, 8192}, 100},
      {"0.5 and 0.75: std |0.5-0.75|/2 = 0.125, 87.5", {2000, 6144}, {4000, 8192}, 87},
      {"over capacity capped: 1 and 0.25, std 0.375, 62.5", {5000, 1}, {4000, 4}, 62},
      // mean 0.5; variance (0.0625 + 0 + 0.0625)/3 = 0.0417; std 0.2041; 79.6
      {"three: 0.25, 0.5, 0.75", {1, 2, 3}, {4, 4, 4}, 79},
      {"one resource: nothing to balance", {3, 0}, {4, 0}, 100},
      {"nothing allocatable", {1, 1}, {0, 0}, 100},
  };
  for (const auto& k : cases) EXPECT_EQ(balanced_resource_score(k.requested, k.allocatable), k.score) << k.name;
}

// Node 4 cpu / 8 Gi with a pod of 1 cpu / 4 Gi; requests count as they are (no defaults).
TEST(BalancedAllocation, ScoresTheBalanceWithThePod) {
  Cluster c;
  c.node("n", resources({{CPU, "4"}, {MEMORY, "8Gi"}}));
  c.bind("n", make_pod("old", resources({{CPU, "1"}, {MEMORY, "4Gi"}})));
  auto plugin = make(&make_balanced_allocation);
  // cpu 2/4 = 0.5, memory 4/8 = 0.5 (the missing memory request adds nothing): 100
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "1"}})), c).raw, Scores{100});
  // cpu 0.5, memory 6/8 = 0.75: 87
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "1"}, {MEMORY, "2Gi"}})), c).raw, Scores{87});
  // A best-effort pod is not scored at all.
  EXPECT_TRUE(score_all(*plugin, make_pod("p"), c).skipped);
}

// Pods without requests on the node count for nothing here (with NodeResourcesFit's
// defaults, cpu would be 600/1000 and memory 712/1024, 95).
TEST(BalancedAllocation, IgnoresDefaultRequests) {
  Cluster c;
  c.node("n", resources({{CPU, "1"}, {MEMORY, "1Gi"}}));
  c.bind("n", make_pod("best-effort"));
  auto plugin = make(&make_balanced_allocation);
  // cpu 500/1000 = 0.5, memory 512/1024 = 0.5: 100
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "500m"}, {MEMORY, "512Mi"}})), c).raw, Scores{100});
}

// GPUs in the balance: node 8 cpu / 32 Gi / 4 GPUs, empty.
TEST(BalancedAllocation, GpuResource) {
  Cluster c;
  c.node("n", resources({{CPU, "8"}, {MEMORY, "32Gi"}, {GPU, "4"}}));
  auto plugin = make(&make_balanced_allocation, nlohmann::json::parse(R"({"resources": [
      {"name": "cpu", "weight": 1}, {"name": "memory"}, {"name": "nvidia.com/gpu"}]})"));
  // 0.25, 0.25, 0.25: 100
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "2"}, {MEMORY, "8Gi"}, {GPU, "1"}})), c).raw, Scores{100});
  // 0.25, 0.25, 0.75: mean 0.4167, variance (0.0278 + 0.0278 + 0.1111)/3 = 0.0556,
  // std 0.2357: 76.4 -> 76
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "2"}, {MEMORY, "8Gi"}, {GPU, "3"}})), c).raw, Scores{76});
  // No GPU requested: the GPU is left out, 0.25 and 0.25: 100
  EXPECT_EQ(score_all(*plugin, make_pod("p", resources({{CPU, "2"}, {MEMORY, "8Gi"}})), c).raw, Scores{100});
}

TEST(BalancedAllocation, InvalidArgsNameTheField) {
  EXPECT_TRUE(contains(args_error(&make_balanced_allocation, R"({"resources": [{"name": "cpu", "weight": 2}]})"),
                       "$.resources[0].weight"));
  EXPECT_TRUE(contains(args_error(&make_balanced_allocation, R"({"resources": [{"name": "cpu"}, {"name": "cpu"}]})"),
                       "$.resources[1].name"));
  EXPECT_TRUE(contains(args_error(&make_balanced_allocation, R"({"resource": []})"), "unknown key \"resource\""));
  EXPECT_EQ(args_error(&make_balanced_allocation, R"({"resources": [{"name": "cpu", "weight": 0}]})"), "");
}

// ---------------------------------------------------------------- TaintToleration

TEST(TaintToleration, FilterHardTaints) {
  const Taint gpu{"gpu", "true", TaintEffect::NO_SCHEDULE};
  const Taint dedicated{"dedicated", "ml", TaintEffect::NO_EXECUTE};
  const Taint soft{"spot", "yes", TaintEffect::PREFER_NO_SCHEDULE};
  struct Case {
    const char* name;
    std::vector<Taint> taints;
    std::vector<Toleration> tolerations;
    std::string reason;  // empty: passes
  };
  const std::vector<Case> cases = {
      {"no taints", {}, {}, ""},
      {"NoSchedule untolerated", {gpu}, {}, "node(s) had untolerated taint {gpu: true}"},
      {"Equal key and value", {gpu}, {toleration("gpu", false, "true", TaintEffect::NO_SCHEDULE)}, ""},
      {"Equal with another value", {gpu}, {toleration("gpu", false, "false")}, "node(s) had untolerated taint {gpu: true}"},
      {"Exists on the key, any effect", {gpu}, {toleration("gpu", true)}, ""},
      {"empty key with Exists tolerates all", {gpu, dedicated}, {toleration("", true)}, ""},
      {"NoExecute with a NoSchedule toleration",
       {dedicated},
       {toleration("dedicated", false, "ml", TaintEffect::NO_SCHEDULE)},
       "node(s) had untolerated taint {dedicated: ml}"},
      {"NoExecute tolerated", {dedicated}, {toleration("dedicated", false, "ml", TaintEffect::NO_EXECUTE)}, ""},
      {"PreferNoSchedule never filters", {soft}, {}, ""},
      {"first untolerated in node order", {gpu, dedicated}, {toleration("gpu", true)}, "node(s) had untolerated taint {dedicated: ml}"},
  };
  auto plugin = make(&make_taint_toleration);
  for (const auto& k : cases) {
    Cluster c;
    c.node("n").taints = k.taints;
    Pod p = make_pod("p");
    p.spec.tolerations = k.tolerations;
    Status s = filter_on(*plugin, p, c, "n");
    if (k.reason.empty()) {
      EXPECT_TRUE(s.ok()) << k.name;
    } else {
      EXPECT_EQ(s.code, Code::UNSCHEDULABLE_AND_UNRESOLVABLE) << k.name;
      EXPECT_EQ(s.reasons, std::vector<std::string>{k.reason}) << k.name;
    }
  }
}

TEST(TaintToleration, NormalizedScore) {
  EXPECT_EQ(taint_toleration_normalized_score(0, 0), 100);  // nobody has soft taints
  EXPECT_EQ(taint_toleration_normalized_score(0, 2), 100);
  EXPECT_EQ(taint_toleration_normalized_score(1, 2), 50);   // 100 - 100x1/2
  EXPECT_EQ(taint_toleration_normalized_score(1, 3), 67);   // 100 - 33
  EXPECT_EQ(taint_toleration_normalized_score(2, 3), 34);   // 100 - 66
  EXPECT_EQ(taint_toleration_normalized_score(3, 3), 0);
}

// Nodes: a (no taints), b (x=1 soft), c (x=1 soft, y=2 soft, z=3 NoSchedule, which Score
// does not count).
TEST(TaintToleration, ScoreCountsUntoleratedPreferNoSchedule) {
  Cluster c;
  c.node("a");
  c.node("b").taints = {{"x", "1", TaintEffect::PREFER_NO_SCHEDULE}};
  c.node("c").taints = {{"x", "1", TaintEffect::PREFER_NO_SCHEDULE},
                        {"y", "2", TaintEffect::PREFER_NO_SCHEDULE},
                        {"z", "3", TaintEffect::NO_SCHEDULE}};
  auto plugin = make(&make_taint_toleration);
  struct Case {
    const char* name;
    std::vector<Toleration> tolerations;
    Scores raw, normalized;
  };
  const std::vector<Case> cases = {
      // 0, 1, 2 -> 100, 100 - 100x1/2 = 50, 0
      {"no tolerations", {}, {0, 1, 2}, {100, 50, 0}},
      // x tolerated: 0, 0, 1 -> 100, 100, 0
      {"x tolerated for PreferNoSchedule", {toleration("x", true, "", TaintEffect::PREFER_NO_SCHEDULE)}, {0, 0, 1}, {100, 100, 0}},
      // A NoSchedule-only toleration does not count for soft taints.
      {"y tolerated for NoSchedule only", {toleration("y", false, "2", TaintEffect::NO_SCHEDULE)}, {0, 1, 2}, {100, 50, 0}},
      // An empty effect covers PreferNoSchedule: y counts as tolerated: 0, 1, 1 -> 100, 0, 0
      {"y tolerated for every effect", {toleration("y", false, "2")}, {0, 1, 1}, {100, 0, 0}},
      // All tolerated: max 0 -> everyone 100
      {"everything tolerated", {toleration("", true)}, {0, 0, 0}, {100, 100, 100}},
  };
  for (const auto& k : cases) {
    Pod p = make_pod("p");
    p.spec.tolerations = k.tolerations;
    Scored s = score_all(*plugin, p, c);
    EXPECT_EQ(s.raw, k.raw) << k.name;
    EXPECT_EQ(s.normalized, k.normalized) << k.name;
  }
}

// ---------------------------------------------------------------- NodeAffinity

namespace {
// n1 {pool: gpu, zone: a, gen: 4}, n2 {pool: gpu, zone: b, gen: 5}, n3 {pool: cpu, zone: c}
Cluster affinity_cluster() {
  Cluster c;
  c.node("n1", {}, {{"pool", "gpu"}, {"zone", "a"}, {"gen", "4"}});
  c.node("n2", {}, {{"pool", "gpu"}, {"zone", "b"}, {"gen", "5"}});
  c.node("n3", {}, {{"pool", "cpu"}, {"zone", "c"}});
  return c;
}

Pod with_required(Labels selector, std::optional<std::vector<NodeSelectorTerm>> required) {
  Pod p = make_pod("p");
  p.spec.node_selector = std::move(selector);
  if (required) p.spec.affinity.node_affinity = NodeAffinity{std::move(required), {}};
  return p;
}
}  // namespace

TEST(NodeAffinity, FilterSelectorAndRequiredTerms) {
  using Terms = std::vector<NodeSelectorTerm>;
  struct Case {
    const char* name;
    Labels selector;
    std::optional<Terms> required;
    std::string passing;
  };
  const std::vector<Case> cases = {
      {"nothing asked", {}, std::nullopt, "n1,n2,n3"},
      {"nodeSelector pool=gpu", {{"pool", "gpu"}}, std::nullopt, "n1,n2"},
      {"nodeSelector two labels ANDed", {{"pool", "gpu"}, {"zone", "b"}}, std::nullopt, "n2"},
      {"In", {}, Terms{term({req("zone", SelectorOp::IN, {"a", "c"})})}, "n1,n3"},
      {"NotIn", {}, Terms{term({req("zone", SelectorOp::NOT_IN, {"a"})})}, "n2,n3"},
      {"Exists", {}, Terms{term({req("gen", SelectorOp::EXISTS)})}, "n1,n2"},
      {"DoesNotExist", {}, Terms{term({req("gen", SelectorOp::DOES_NOT_EXIST)})}, "n3"},
      {"Gt 4", {}, Terms{term({req("gen", SelectorOp::GT, {"4"})})}, "n2"},
      {"Lt 5", {}, Terms{term({req("gen", SelectorOp::LT, {"5"})})}, "n1"},
      {"terms ORed", {}, Terms{term({req("zone", SelectorOp::IN, {"a"})}), term({req("pool", SelectorOp::IN, {"cpu"})})}, "n1,n3"},
      {"requirements ANDed", {}, Terms{term({req("pool", SelectorOp::IN, {"gpu"}), req("gen", SelectorOp::GT, {"4"})})}, "n2"},
      {"selector AND affinity", {{"pool", "gpu"}}, Terms{term({req("zone", SelectorOp::IN, {"c"})})}, ""},
      {"matchFields metadata.name", {}, Terms{term({}, {req("metadata.name", SelectorOp::IN, {"n2"})})}, "n2"},
      {"an empty term matches nothing", {}, Terms{term({})}, ""},
      {"no terms at all match nothing", {}, Terms{}, ""},
  };
  const Cluster c = affinity_cluster();
  auto plugin = make(&make_node_affinity);
  for (const auto& k : cases) EXPECT_EQ(passing(*plugin, with_required(k.selector, k.required), c), k.passing) << k.name;
  Status s = filter_on(*plugin, with_required({{"pool", "gpu"}}, std::nullopt), c, "n3");
  EXPECT_EQ(s.code, Code::UNSCHEDULABLE_AND_UNRESOLVABLE);
  EXPECT_EQ(s.reasons, std::vector<std::string>{"node(s) didn't match Pod's node affinity/selector"});
}

// PreFilter skips pods that ask nothing, and fails at once when every term pins node
// names that cannot all hold (name In [n1] AND name In [n2]).
TEST(NodeAffinity, PreFilterSkipAndConflict) {
  const Cluster c = affinity_cluster();
  auto plugin = make(&make_node_affinity);
  const auto& pre = dynamic_cast<const PreFilterPlugin&>(*plugin);
  CycleState state;
  EXPECT_TRUE(pre.pre_filter(state, make_pod("p"), c.snapshot).skip());
  Pod conflict = with_required({}, std::vector<NodeSelectorTerm>{term(
                                       {}, {req("metadata.name", SelectorOp::IN, {"n1"}),
                                            req("metadata.name", SelectorOp::IN, {"n2"})})});
  Status s = pre.pre_filter(state, conflict, c.snapshot);
  EXPECT_EQ(s.code, Code::UNSCHEDULABLE_AND_UNRESOLVABLE);
  EXPECT_EQ(s.reasons, std::vector<std::string>{"pod affinity terms conflict"});
  // A second term without names leaves every node possible: no conflict.
  Pod open = conflict;
  open.spec.affinity.node_affinity->required->push_back(term({req("zone", SelectorOp::IN, {"b"})}));
  EXPECT_TRUE(pre.pre_filter(state, open, c.snapshot).ok());
  EXPECT_EQ(passing(*plugin, open, c), "n2");
}

TEST(NodeAffinity, ScorePreferredWeights) {
  const Cluster c = affinity_cluster();
  auto plugin = make(&make_node_affinity);
  struct Case {
    const char* name;
    std::vector<PreferredSchedulingTerm> preferred;
    Scores raw, normalized;
  };
  const std::vector<Case> cases = {
      // n1 80 + 20 = 100, n2 20, n3 0 -> 100, 100x20/100 = 20, 0
      {"zone a 80, gen > 3 20",
       {{80, term({req("zone", SelectorOp::IN, {"a"})})}, {20, term({req("gen", SelectorOp::GT, {"3"})})}},
       {100, 20, 0},
       {100, 20, 0}},
      // n1 30, n2 30 + 10 = 40, n3 10 -> 100x30/40 = 75, 100, 25
      {"pool gpu 30, zone not a 10",
       {{30, term({req("pool", SelectorOp::IN, {"gpu"})})}, {10, term({req("zone", SelectorOp::NOT_IN, {"a"})})}},
       {30, 40, 10},
       {75, 100, 25}},
      // Nothing matches: max 0, all stay 0.
      {"no match", {{50, term({req("zone", SelectorOp::IN, {"x"})})}}, {0, 0, 0}, {0, 0, 0}},
  };
  for (const auto& k : cases) {
    Pod p = make_pod("p");
    p.spec.affinity.node_affinity = NodeAffinity{std::nullopt, k.preferred};
    Scored s = score_all(*plugin, p, c);
    EXPECT_EQ(s.raw, k.raw) << k.name;
    EXPECT_EQ(s.normalized, k.normalized) << k.name;
  }
  EXPECT_TRUE(score_all(*plugin, make_pod("p"), c).skipped);  // no preferred terms
}

TEST(NodeAffinity, NormalizedScore) {
  EXPECT_EQ(node_affinity_normalized_score(0, 0), 0);
  EXPECT_EQ(node_affinity_normalized_score(20, 30), 66);  // 2000/30 = 66.7
  EXPECT_EQ(node_affinity_normalized_score(30, 30), 100);
}

// addedAffinity applies to every pod: required pool=gpu, preferred zone c weight 50.
TEST(NodeAffinity, AddedAffinityFromArgs) {
  const Cluster c = affinity_cluster();
  auto plugin = make(&make_node_affinity, nlohmann::json::parse(R"({"addedAffinity": {
      "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
          {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]}]},
      "preferredDuringSchedulingIgnoredDuringExecution": [
          {"weight": 50, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}}]}})"));
  EXPECT_EQ(passing(*plugin, make_pod("p"), c), "n1,n2");
  Status s = filter_on(*plugin, make_pod("p"), c, "n3");
  EXPECT_EQ(s.reasons, std::vector<std::string>{"node(s) didn't match scheduler-enforced node affinity"});
  // Added 50 on n2; the pod's own zone a 10 on n1: 10, 50, 0 -> 20, 100, 0
  Pod p = make_pod("p");
  p.spec.affinity.node_affinity = NodeAffinity{std::nullopt, {{10, term({req("zone", SelectorOp::IN, {"a"})})}}};
  Scored scored = score_all(*plugin, p, c);
  EXPECT_EQ(scored.raw, (Scores{10, 50, 0}));
  EXPECT_EQ(scored.normalized, (Scores{20, 100, 0}));
}

TEST(NodeAffinity, InvalidArgsNameTheField) {
  struct Case {
    const char* args;
    const char* field;
  };
  const std::vector<Case> cases = {
      {R"({"addedAfinity": {}})", "did you mean \"addedAffinity\""},
      {R"({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}})",
       "$.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"},
      {R"({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
          {"matchExpressions": [{"key": "a", "operator": "Into", "values": ["x"]}]}]}}})",
       "nodeSelectorTerms[0].matchExpressions[0].operator"},
      {R"({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
          {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["four"]}]}]}}})",
       "nodeSelectorTerms[0].matchExpressions[0].values"},
      {R"({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
          {"matchExpressions": [{"key": "gen", "operator": "Exists", "values": ["1"]}]}]}}})",
       "matchExpressions[0].values"},
      {R"({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
          {"matchFields": [{"key": "metadata.labels", "operator": "In", "values": ["x"]}]}]}}})",
       "matchFields[0].key"},
      {R"({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
          {"weight": 0, "preference": {"matchExpressions": []}}]}})",
       "$.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"},
  };
  for (const auto& k : cases) {
    const std::string error = args_error(&make_node_affinity, k.args);
    EXPECT_TRUE(contains(error, k.field)) << k.args << " -> " << error;
  }
}

// ---------------------------------------------------------------- ImageLocality

TEST(ImageLocality, NormalizedImageName) {
  EXPECT_EQ(normalized_image_name("nginx"), "nginx:latest");
  EXPECT_EQ(normalized_image_name("nginx:1.25"), "nginx:1.25");
  EXPECT_EQ(normalized_image_name("registry:5000/team/app"), "registry:5000/team/app:latest");
  EXPECT_EQ(normalized_image_name("registry:5000/team/app:v2"), "registry:5000/team/app:v2");
}

TEST(ImageLocality, Formulas) {
  // 100 MiB on 1 of 4 nodes: 104857600 x 0.25
  EXPECT_EQ(scaled_image_score(100 * MIB, 1, 4), 26214400);
  EXPECT_EQ(scaled_image_score(100 * MIB, 4, 4), 100 * MIB);
  struct Case {
    std::int64_t sum, containers, score;
  };
  const std::vector<Case> cases = {
      {0, 1, 0},                           // below 23 MiB: clamped, 0
      {23 * MIB, 1, 0},
      {1000 * MIB, 1, 100},
      {2000 * MIB, 1, 100},                // above 1000 MiB x 1: clamped
      {511 * MIB + MIB / 2, 1, 50},        // 100 x 488.5 / 977 = 50
      {1000 * MIB, 2, 49},                 // 100 x 977 / 1977 = 49.4
  };
  for (const auto& k : cases) EXPECT_EQ(image_locality_priority(k.sum, k.containers), k.score) << k.sum << " x" << k.containers;
}

// 4 nodes; "registry/train" (523 MiB) cached as registry/train:latest on n1 and n2;
// "init:1" (50 MiB) cached everywhere.
TEST(ImageLocality, ScoresCachedImagesWithSpread) {
  Cluster c;
  for (const char* n : {"n1", "n2", "n3", "n4"}) {
    Node& node = c.node(n);
    node.images.push_back({"init:1", static_cast<double>(50 * MIB)});
    if (std::string(n) == "n1" || std::string(n) == "n2") node.images.push_back({"registry/train:latest", static_cast<double>(523 * MIB)});
  }
  c.index_images();
  auto plugin = make(&make_image_locality);
  Pod p = make_pod("p");
  p.spec.containers[0].image = "registry/train";
  // n1, n2: 523 MiB x 2/4 = 261.5 MiB; 100 x (261.5 - 23)/977 = 24.4 -> 24. n3, n4: 0.
  Scored one = score_all(*plugin, p, c);
  EXPECT_EQ(one.raw, (Scores{24, 24, 0, 0}));
  EXPECT_EQ(one.normalized, one.raw);  // no NormalizeScore
  // With the init container: 2 containers, max 2000 MiB. n1: 50 + 261.5 = 311.5 MiB,
  // 100 x 288.5/1977 = 14.6 -> 14; n3: 50 MiB, 100 x 27/1977 = 1.4 -> 1.
  p.spec.init_containers.push_back(container("init", {}, "init:1"));
  EXPECT_EQ(score_all(*plugin, p, c).raw, (Scores{14, 14, 1, 1}));
}
