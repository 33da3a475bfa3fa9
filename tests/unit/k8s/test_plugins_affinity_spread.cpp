// InterPodAffinity and PodTopologySpread: filters, scores and their normalisation on small
// hand-built clusters, with the arithmetic worked out in each case's comment, and the pure
// formulas table-driven.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

// The pure formulas at the bottom of the two plugin files (plugins.hpp declares only the
// factories, and it is shared, so they are declared here).
namespace aifsim::k8s::sched {
std::int64_t inter_pod_affinity_normalized_score(std::int64_t raw, std::int64_t min_raw, std::int64_t max_raw);
std::int64_t spread_global_minimum(std::size_t domains, int min_domains, std::int64_t min_count);
bool spread_skew_fits(std::int64_t count, bool self_match, std::int64_t global_minimum, int max_skew);
double topology_normalizing_weight(std::size_t domains);
double spread_score_for_count(std::int64_t count, int max_skew, double weight);
std::int64_t spread_normalized_score(std::int64_t raw, std::int64_t min_raw, std::int64_t max_raw);
}  // namespace aifsim::k8s::sched

using namespace aifsim;
using namespace aifsim::k8s;
using namespace aifsim::k8s::sched;

namespace {

const std::string HOST = "kubernetes.io/hostname";
const std::string ZONE = "topology.kubernetes.io/zone";
const std::string AFFINITY = "node(s) didn't match pod affinity rules";
const std::string ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
const std::string EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
const std::string SPREAD = "node(s) didn't match pod topology spread constraints";
const std::string SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

Pod make_pod(const std::string& name, Labels labels, const std::string& ns = "default") {
  Pod p;
  p.meta.name = name;
  p.meta.namespace_ = ns;
  p.meta.labels = std::move(labels);
  Container c;
  c.name = "c";
  c.image = "img";
  c.requests = {{CPU, *parse_quantity("100m")}, {MEMORY, *parse_quantity("128Mi")}};
  p.spec.containers.push_back(c);
  return p;
}

// Nodes and pods kept at stable addresses, with the snapshot pointing at them.
struct Cluster {
  std::deque<Node> nodes;
  std::deque<Pod> pods;
  Snapshot snapshot;

  // A node labelled with its hostname, its zone (when given) and `extra`.
  Cluster& node(const std::string& name, const std::string& zone = "", const Labels& extra = {}) {
    Node n;
    n.meta.name = name;
    n.meta.labels = extra;
    n.meta.labels[HOST] = name;
    if (!zone.empty()) n.meta.labels[ZONE] = zone;
    n.allocatable = {{CPU, *parse_quantity("8")}, {MEMORY, *parse_quantity("32Gi")}, {PODS, *parse_quantity("110")}};
    n.capacity = n.allocatable;
    nodes.push_back(n);
    NodeInfo info;
    info.node = &nodes.back();
    snapshot.nodes.push_back(info);
    return *this;
  }

  Cluster& place(Pod p, const std::string& node_name) {
    p.spec.node_name = node_name;
    pods.push_back(std::move(p));
    snapshot.find(node_name)->add_pod(pods.back());
    return *this;
  }
};

PodAffinityTerm term(const Labels& selector, const std::string& key, std::vector<std::string> namespaces = {}) {
  PodAffinityTerm t;
  t.selector = LabelSelector{selector, {}};
  t.namespaces = std::move(namespaces);
  t.topology_key = key;
  return t;
}

PodAffinityRules& affinity(Pod& p) {
  if (!p.spec.affinity.pod_affinity) p.spec.affinity.pod_affinity.emplace();
  return *p.spec.affinity.pod_affinity;
}

PodAffinityRules& anti_affinity(Pod& p) {
  if (!p.spec.affinity.pod_anti_affinity) p.spec.affinity.pod_anti_affinity.emplace();
  return *p.spec.affinity.pod_anti_affinity;
}

TopologySpreadConstraint spread(int max_skew, const std::string& key, WhenUnsatisfiable when, const Labels& selector,
                                std::optional<int> min_domains = std::nullopt) {
  return TopologySpreadConstraint{max_skew, key, when, LabelSelector{selector, {}}, min_domains};
}
constexpr auto HARD = WhenUnsatisfiable::DO_NOT_SCHEDULE;
constexpr auto SOFT = WhenUnsatisfiable::SCHEDULE_ANYWAY;

std::unique_ptr<Plugin> affinity_plugin(const nlohmann::json& args = nlohmann::json::object()) {
  return make_inter_pod_affinity(args, "pluginConfig.InterPodAffinity");
}

std::unique_ptr<Plugin> spread_plugin(const nlohmann::json& args = nlohmann::json::object()) {
  return make_pod_topology_spread(args, "pluginConfig.PodTopologySpread");
}

// PreFilter, then Filter on every node (every node passes when PreFilter skips).
struct FilterRun {
  Status pre;
  std::map<std::string, Status> nodes;
  std::vector<std::string> passing() const {
    std::vector<std::string> out;
    for (const auto& [name, s] : nodes)
      if (s.ok()) out.push_back(name);
    return out;
  }
};

FilterRun run_filter(const Plugin& plugin, const Pod& pod, const Snapshot& snapshot) {
  const auto& pre = dynamic_cast<const PreFilterPlugin&>(plugin);
  const auto& filter = dynamic_cast<const FilterPlugin&>(plugin);
  CycleState state;
  FilterRun r;
  r.pre = pre.pre_filter(state, pod, snapshot);
  for (const auto& n : snapshot.nodes) r.nodes[n.name()] = r.pre.skip() ? Status::success() : filter.filter(state, pod, n);
  return r;
}

// PreScore over `feasible` (every node when empty), Score, NormalizeScore.
struct ScoreRun {
  Status pre;
  std::map<std::string, std::int64_t> raw, normalized;
};

ScoreRun run_score(const Plugin& plugin, const Pod& pod, const Snapshot& snapshot,
                   const std::vector<std::string>& feasible_names = {}) {
  const auto& pre = dynamic_cast<const PreScorePlugin&>(plugin);
  const auto& scorer = dynamic_cast<const ScorePlugin&>(plugin);
  std::vector<const NodeInfo*> feasible;
  for (const auto& n : snapshot.nodes)
    if (feasible_names.empty() || std::find(feasible_names.begin(), feasible_names.end(), n.name()) != feasible_names.end())
      feasible.push_back(&n);
  CycleState state;
  ScoreRun r;
  r.pre = pre.pre_score(state, pod, snapshot, feasible);
  if (!r.pre.ok()) return r;
  std::vector<NodeScore> scores;
  for (const NodeInfo* n : feasible) {
    scores.push_back({n->name(), scorer.score(state, pod, *n)});
    r.raw[n->name()] = scores.back().score;
  }
  scorer.normalize(state, pod, scores);
  for (const auto& s : scores) r.normalized[s.node] = s.score;
  return r;
}

void expect_rejected(const Status& s, Code code, const std::string& reason) {
  EXPECT_EQ(s.code, code);
  ASSERT_EQ(s.reasons.size(), 1u);
  EXPECT_EQ(s.reasons[0], reason);
}

// The InputError message for building a plugin from `args`, or "" when it builds.
std::string error_of(const std::function<std::unique_ptr<Plugin>(const nlohmann::json&)>& make, const char* args) {
  try {
    make(nlohmann::json::parse(args));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

using Names = std::vector<std::string>;
using Scores = std::map<std::string, std::int64_t>;

}  // namespace

// ---------------------------------------------------------------------------------------
// InterPodAffinity
// ---------------------------------------------------------------------------------------

// a, b in z1 and c in z2; cache (app=cache) runs on a. Requiring affinity to app=cache by
// zone counts {(zone, z1): 1}: a and b pass, c (z2: 0 matches) and d (no zone label) fail,
// as unresolvable (preemption cannot help).
TEST(InterPodAffinity, RequiredAffinityToAZoneWithAMatchingPod) {
  Cluster c;
  c.node("a", "z1").node("b", "z1").node("c", "z2").node("d");
  c.place(make_pod("cache", {{"app", "cache"}}), "a");
  Pod web = make_pod("web", {{"app", "web"}});
  affinity(web).required.push_back(term({{"app", "cache"}}, ZONE));
  auto r = run_filter(*affinity_plugin(), web, c.snapshot);
  EXPECT_TRUE(r.pre.ok());
  EXPECT_EQ(r.passing(), (Names{"a", "b"}));
  expect_rejected(r.nodes["c"], Code::UNSCHEDULABLE_AND_UNRESOLVABLE, AFFINITY);
  expect_rejected(r.nodes["d"], Code::UNSCHEDULABLE_AND_UNRESOLVABLE, AFFINITY);
}

// A term without namespaces selects pods of the incoming pod's own namespace: cache in
// "prod" does not count for a pod in "default" (and web does not match its own term, so
// the first-pod exception does not apply: every node fails). Listing "prod" finds it.
TEST(InterPodAffinity, TermNamespacesDefaultToThePodsOwn) {
  Cluster c;
  c.node("a", "z1").node("b", "z1").node("c", "z2");
  c.place(make_pod("cache", {{"app", "cache"}}, "prod"), "a");
  Pod web = make_pod("web", {{"app", "web"}});
  affinity(web).required.push_back(term({{"app", "cache"}}, ZONE));
  EXPECT_EQ(run_filter(*affinity_plugin(), web, c.snapshot).passing(), Names{});
  affinity(web).required[0].namespaces = {"prod"};
  EXPECT_EQ(run_filter(*affinity_plugin(), web, c.snapshot).passing(), (Names{"a", "b"}));
}

// web-0 (app=web) on a. Anti-affinity to app=web by hostname counts {(hostname, a): 1}:
// only a fails. By zone it counts {(zone, z1): 1}: a and b fail, c (z2) passes. Both are
// resolvable (Unschedulable): evicting web-0 would help.
TEST(InterPodAffinity, AntiAffinityOnHostnameAndOnZone) {
  Cluster c;
  c.node("a", "z1").node("b", "z1").node("c", "z2");
  c.place(make_pod("web-0", {{"app", "web"}}), "a");
  Pod web = make_pod("web-1", {{"app", "web"}});
  anti_affinity(web).required.push_back(term({{"app", "web"}}, HOST));
  auto r = run_filter(*affinity_plugin(), web, c.snapshot);
  EXPECT_EQ(r.passing(), (Names{"b", "c"}));
  expect_rejected(r.nodes["a"], Code::UNSCHEDULABLE, ANTI_AFFINITY);
  anti_affinity(web).required[0].topology_key = ZONE;
  r = run_filter(*affinity_plugin(), web, c.snapshot);
  EXPECT_EQ(r.passing(), Names{"c"});
  expect_rejected(r.nodes["b"], Code::UNSCHEDULABLE, ANTI_AFFINITY);
}

// Symmetry: db on a (z1) has required anti-affinity to app=web by zone. A web pod with no
// affinity of its own is kept out of z1: {(zone, z1): 1} -> a and b fail, c passes. The
// term's namespaces default to db's ("default"), so a web pod in "prod" is not affected,
// nor is a pod labelled app=api: PreFilter then has nothing to check and skips.
TEST(InterPodAffinity, ExistingPodsAntiAffinityIsSymmetric) {
  Cluster c;
  c.node("a", "z1").node("b", "z1").node("c", "z2");
  Pod db = make_pod("db", {{"app", "db"}});
  anti_affinity(db).required.push_back(term({{"app", "web"}}, ZONE));
  c.place(db, "a");
  auto r = run_filter(*affinity_plugin(), make_pod("web", {{"app", "web"}}), c.snapshot);
  EXPECT_EQ(r.passing(), Names{"c"});
  expect_rejected(r.nodes["a"], Code::UNSCHEDULABLE, EXISTING_ANTI_AFFINITY);
  expect_rejected(r.nodes["b"], Code::UNSCHEDULABLE, EXISTING_ANTI_AFFINITY);
  auto other_ns = run_filter(*affinity_plugin(), make_pod("web", {{"app", "web"}}, "prod"), c.snapshot);
  EXPECT_TRUE(other_ns.pre.skip());
  EXPECT_TRUE(run_filter(*affinity_plugin(), make_pod("api", {{"app", "api"}}), c.snapshot).pre.skip());
}

// db-0 requires affinity to app=db by zone and nothing matches yet: it matches its own term,
// so it may go to any node with a zone label (a, b), not to c. A pod that does not match
// its own term gets no such exception. Once db-0 runs on b, db-1 must join it in z2.
TEST(InterPodAffinity, FirstPodOfAGroupMayGoWhereTheKeyExists) {
  Cluster c;
  c.node("a", "z1").node("b", "z2").node("c");
  Pod db0 = make_pod("db-0", {{"app", "db"}});
  affinity(db0).required.push_back(term({{"app", "db"}}, ZONE));
  auto r = run_filter(*affinity_plugin(), db0, c.snapshot);
  EXPECT_EQ(r.passing(), (Names{"a", "b"}));
  expect_rejected(r.nodes["c"], Code::UNSCHEDULABLE_AND_UNRESOLVABLE, AFFINITY);

  Pod stranger = db0;
  stranger.meta.labels = {{"app", "other"}};
  EXPECT_EQ(run_filter(*affinity_plugin(), stranger, c.snapshot).passing(), Names{});

  c.place(db0, "b");
  Pod db1 = db0;
  db1.meta.name = "db-1";
  r = run_filter(*affinity_plugin(), db1, c.snapshot);
  EXPECT_EQ(r.passing(), Names{"b"});
  expect_rejected(r.nodes["a"], Code::UNSCHEDULABLE_AND_UNRESOLVABLE, AFFINITY);
}

TEST(InterPodAffinity, PreFilterSkipsWithoutRequiredTermsOrExistingAntiAffinity) {
  Cluster c;
  c.node("a", "z1");
  c.place(make_pod("cache", {{"app", "cache"}}), "a");
  Pod web = make_pod("web", {{"app", "web"}});
  affinity(web).preferred.push_back({10, term({{"app", "cache"}}, ZONE)});  // preferred terms only score
  EXPECT_TRUE(run_filter(*affinity_plugin(), web, c.snapshot).pre.skip());
}

// cache on a (z1), batch on c (z2); d is in z3. web prefers app=cache by zone (weight 80)
// and avoids app=batch by hostname (weight 30):
//   pairs: (zone, z1) +80 (cache on a), (hostname, c) -30 (batch on c)
//   raw:   a 80, b 80 (same zone), c -30, d 0
//   normalized, min -30, max 80, diff 110: a, b 100 x 110/110 = 100; c 0; d 100 x 30/110 = 27.27 -> 27
TEST(InterPodAffinity, PreferredAffinityAndAntiAffinityScores) {
  Cluster c;
  c.node("a", "z1").node("b", "z1").node("c", "z2").node("d", "z3");
  c.place(make_pod("cache", {{"app", "cache"}}), "a").place(make_pod("batch", {{"app", "batch"}}), "c");
  Pod web = make_pod("web", {{"app", "web"}});
  affinity(web).preferred.push_back({80, term({{"app", "cache"}}, ZONE)});
  anti_affinity(web).preferred.push_back({30, term({{"app", "batch"}}, HOST)});
  auto r = run_score(*affinity_plugin(), web, c.snapshot);
  ASSERT_TRUE(r.pre.ok());
  EXPECT_EQ(r.raw, (Scores{{"a", 80}, {"b", 80}, {"c", -30}, {"d", 0}}));
  EXPECT_EQ(r.normalized, (Scores{{"a", 100}, {"b", 100}, {"c", 0}, {"d", 27}}));
}

// db on a (z1) requires affinity to app=web by zone; cache on c (z2) prefers to avoid
// app=web by hostname (weight 3); d is in z3. The incoming web pod has no terms itself.
//   hardPodAffinityWeight 1 (default): z1 +1, c -3 -> a 1, b 1, c -3, d 0; diff 4:   a, b 100, c 0, d 100 x 3/4 = 75
//   hardPodAffinityWeight 5:           z1 +5       -> a 5, b 5, c -3, d 0; diff 8:   a, b 100, c 0, d 100 x 3/8 = 37.5 -> 37
//   hardPodAffinityWeight 0:           no z1 term  -> a 0, b 0, c -3, d 0; diff 3:   a, b, d 100, c 0
// ignorePreferredTermsOfExistingPods with a pod that has no preferred terms skips scoring.
TEST(InterPodAffinity, HardPodAffinityWeightScoresExistingPodsRequiredTerms) {
  Cluster c;
  c.node("a", "z1").node("b", "z1").node("c", "z2").node("d", "z3");
  Pod db = make_pod("db", {{"app", "db"}});
  affinity(db).required.push_back(term({{"app", "web"}}, ZONE));
  Pod cache = make_pod("cache", {{"app", "cache"}});
  anti_affinity(cache).preferred.push_back({3, term({{"app", "web"}}, HOST)});
  c.place(db, "a").place(cache, "c");
  const Pod web = make_pod("web", {{"app", "web"}});

  auto one = run_score(*affinity_plugin(), web, c.snapshot);
  EXPECT_EQ(one.raw, (Scores{{"a", 1}, {"b", 1}, {"c", -3}, {"d", 0}}));
  EXPECT_EQ(one.normalized, (Scores{{"a", 100}, {"b", 100}, {"c", 0}, {"d", 75}}));
  auto five = run_score(*affinity_plugin({{"hardPodAffinityWeight", 5}}), web, c.snapshot);
  EXPECT_EQ(five.raw, (Scores{{"a", 5}, {"b", 5}, {"c", -3}, {"d", 0}}));
  EXPECT_EQ(five.normalized, (Scores{{"a", 100}, {"b", 100}, {"c", 0}, {"d", 37}}));
  auto zero = run_score(*affinity_plugin({{"hardPodAffinityWeight", 0}}), web, c.snapshot);
  EXPECT_EQ(zero.raw, (Scores{{"a", 0}, {"b", 0}, {"c", -3}, {"d", 0}}));
  EXPECT_EQ(zero.normalized, (Scores{{"a", 100}, {"b", 100}, {"c", 0}, {"d", 100}}));
  EXPECT_TRUE(run_score(*affinity_plugin({{"ignorePreferredTermsOfExistingPods", true}}), web, c.snapshot).pre.skip());
}

// Nothing matches anywhere: PreScore skips. Everything equal (cache on both nodes, raw 10
// and 10): max == min, every node normalizes to 0.
TEST(InterPodAffinity, NoMatchSkipsAndEqualScoresNormalizeToZero) {
  Cluster c;
  c.node("a", "z1").node("b", "z1");
  Pod web = make_pod("web", {{"app", "web"}});
  affinity(web).preferred.push_back({10, term({{"app", "cache"}}, HOST)});
  EXPECT_TRUE(run_score(*affinity_plugin(), web, c.snapshot).pre.skip());
  c.place(make_pod("cache-0", {{"app", "cache"}}), "a").place(make_pod("cache-1", {{"app", "cache"}}), "b");
  auto r = run_score(*affinity_plugin(), web, c.snapshot);
  EXPECT_EQ(r.raw, (Scores{{"a", 10}, {"b", 10}}));
  EXPECT_EQ(r.normalized, (Scores{{"a", 0}, {"b", 0}}));
}

TEST(InterPodAffinity, NormalizedScoreFormula) {
  struct Case {
    std::int64_t raw, min, max, want;
  };
  for (const Case& k : std::vector<Case>{
           {80, -30, 80, 100},  // 100 x 110/110
           {0, -30, 80, 27},    // 100 x 30/110 = 27.27, truncated
           {-30, -30, 80, 0},   // 100 x 0/110
           {2, 0, 3, 66},       // 100 x 2/3 = 66.67, truncated (not rounded)
           {10, 10, 10, 0},     // max == min: 0
       })
    EXPECT_EQ(inter_pod_affinity_normalized_score(k.raw, k.min, k.max), k.want) << k.raw << " in [" << k.min << ", " << k.max << "]";
}

TEST(InterPodAffinity, ArgsAreCheckedStrictly) {
  auto make = [](const nlohmann::json& a) { return affinity_plugin(a); };
  EXPECT_EQ(error_of(make, R"({})"), "");
  EXPECT_EQ(error_of(make, R"(null)"), "");
  EXPECT_EQ(error_of(make, R"({"hardPodAffinityWeight": 0, "ignorePreferredTermsOfExistingPods": true})"), "");
  EXPECT_EQ(error_of(make, R"({"hardPodAffinityWeight": 100})"), "");
  for (const char* bad : {R"({"hardPodAffinityWeight": 101})", R"({"hardPodAffinityWeight": -1})",
                          R"({"hardPodAffinityWeight": "5"})", R"({"hardPodAffinityWeight": 1.5})"})
    EXPECT_NE(error_of(make, bad).find("hardPodAffinityWeight"), std::string::npos) << bad;
  EXPECT_NE(error_of(make, R"({"ignorePreferredTermsOfExistingPods": "yes"})").find("ignorePreferredTermsOfExistingPods"),
            std::string::npos);
  const std::string typo = error_of(make, R"({"hardPodAffinityWeigth": 2})");
  EXPECT_NE(typo.find("unknown key \"hardPodAffinityWeigth\""), std::string::npos) << typo;
  EXPECT_NE(typo.find("pluginConfig.InterPodAffinity"), std::string::npos) << typo;
  EXPECT_NE(error_of(make, R"([1])"), "");
}

// ---------------------------------------------------------------------------------------
// PodTopologySpread
// ---------------------------------------------------------------------------------------

// Zone A (a1, a2) holds 2 app=web pods, zone B (b1) none; maxSkew 1, the pod matches:
// minimum 0; a1, a2: 2 + 1 - 0 = 3 > 1 fail; b1: 0 + 1 - 0 = 1 passes. With one web pod
// in B too (2 and 1): minimum 1; A: 2 + 1 - 1 = 2 fails, B: 1 + 1 - 1 = 1 passes.
TEST(PodTopologySpread, MaxSkewOneOverTwoZones) {
  Cluster c;
  c.node("a1", "A").node("a2", "A").node("b1", "B");
  c.place(make_pod("w0", {{"app", "web"}}), "a1").place(make_pod("w1", {{"app", "web"}}), "a2");
  Pod w = make_pod("w2", {{"app", "web"}});
  w.spec.topology_spread_constraints = {spread(1, ZONE, HARD, {{"app", "web"}})};
  auto r = run_filter(*spread_plugin(), w, c.snapshot);
  ASSERT_TRUE(r.pre.ok());
  EXPECT_EQ(r.passing(), Names{"b1"});
  expect_rejected(r.nodes["a1"], Code::UNSCHEDULABLE, SPREAD);
  expect_rejected(r.nodes["a2"], Code::UNSCHEDULABLE, SPREAD);
  c.place(make_pod("w3", {{"app", "web"}}), "b1");
  EXPECT_EQ(run_filter(*spread_plugin(), w, c.snapshot).passing(), Names{"b1"});
}

// x has no zone label: it fails as unresolvable, and its matching pod is in no domain.
// A holds 1 (w1 on a1), B 0: a1: 1 + 1 - 0 = 2 > 1 fails, b1 passes.
TEST(PodTopologySpread, NodeMissingTheTopologyLabel) {
  Cluster c;
  c.node("a1", "A").node("b1", "B").node("x");
  c.place(make_pod("w0", {{"app", "web"}}), "x").place(make_pod("w1", {{"app", "web"}}), "a1");
  Pod w = make_pod("w2", {{"app", "web"}});
  w.spec.topology_spread_constraints = {spread(1, ZONE, HARD, {{"app", "web"}})};
  auto r = run_filter(*spread_plugin(), w, c.snapshot);
  EXPECT_EQ(r.passing(), Names{"b1"});
  expect_rejected(r.nodes["x"], Code::UNSCHEDULABLE_AND_UNRESOLVABLE, SPREAD_LABEL);
  expect_rejected(r.nodes["a1"], Code::UNSCHEDULABLE, SPREAD);
}

// Zones A and B hold 1 web pod each. minDomains unset (1) or 2: minimum 1, 1 + 1 - 1 = 1
// passes everywhere. minDomains 3 > 2 domains: minimum 0, 1 + 1 - 0 = 2 > 1 fails everywhere.
TEST(PodTopologySpread, MinDomainsZeroesTheGlobalMinimum) {
  Cluster c;
  c.node("a1", "A").node("b1", "B");
  c.place(make_pod("w0", {{"app", "web"}}), "a1").place(make_pod("w1", {{"app", "web"}}), "b1");
  Pod w = make_pod("w2", {{"app", "web"}});
  for (auto [min_domains, want] : std::vector<std::pair<std::optional<int>, Names>>{
           {std::nullopt, {"a1", "b1"}}, {2, {"a1", "b1"}}, {3, {}}}) {
    w.spec.topology_spread_constraints = {spread(1, ZONE, HARD, {{"app", "web"}}, min_domains)};
    EXPECT_EQ(run_filter(*spread_plugin(), w, c.snapshot).passing(), want) << min_domains.value_or(0);
  }
}

// A holds 1 web pod, B none. A batch pod spreading app=web pods does not count itself:
// A: 1 + 0 - 0 = 1 passes. A web pod does: A: 1 + 1 - 0 = 2 fails.
TEST(PodTopologySpread, PodNotMatchingItsOwnSelector) {
  Cluster c;
  c.node("a1", "A").node("b1", "B");
  c.place(make_pod("w0", {{"app", "web"}}), "a1");
  Pod batch = make_pod("batch", {{"app", "batch"}});
  batch.spec.topology_spread_constraints = {spread(1, ZONE, HARD, {{"app", "web"}})};
  EXPECT_EQ(run_filter(*spread_plugin(), batch, c.snapshot).passing(), (Names{"a1", "b1"}));
  Pod web = batch;
  web.meta.labels = {{"app", "web"}};
  EXPECT_EQ(run_filter(*spread_plugin(), web, c.snapshot).passing(), Names{"b1"});
}

// nodeAffinityPolicy Honor: only nodes passing the pod's nodeSelector form domains. A (2
// pods) and B (1) have pool=gpu, C (0) does not. With nodeSelector pool=gpu the minimum is
// 1: a1 2 + 1 - 1 = 2 fails, b1 1 + 1 - 1 = 1 passes (c1 passes this filter, NodeAffinity
// rejects it). Without it C counts: minimum 0, b1 1 + 1 - 0 = 2 fails, c1 passes.
// Pods in another namespace never count.
TEST(PodTopologySpread, DomainsComeFromNodesPassingNodeAffinity) {
  Cluster c;
  c.node("a1", "A", {{"pool", "gpu"}}).node("b1", "B", {{"pool", "gpu"}}).node("c1", "C");
  c.place(make_pod("w0", {{"app", "web"}}), "a1").place(make_pod("w1", {{"app", "web"}}), "a1");
  c.place(make_pod("w2", {{"app", "web"}}), "b1");
  Pod w = make_pod("w3", {{"app", "web"}});
  w.spec.topology_spread_constraints = {spread(1, ZONE, HARD, {{"app", "web"}})};
  w.spec.node_selector = {{"pool", "gpu"}};
  EXPECT_EQ(run_filter(*spread_plugin(), w, c.snapshot).passing(), (Names{"b1", "c1"}));
  w.spec.node_selector.clear();
  EXPECT_EQ(run_filter(*spread_plugin(), w, c.snapshot).passing(), Names{"c1"});
  Pod other = make_pod("w4", {{"app", "web"}}, "prod");
  other.spec.topology_spread_constraints = w.spec.topology_spread_constraints;
  EXPECT_EQ(run_filter(*spread_plugin(), other, c.snapshot).passing(), (Names{"a1", "b1", "c1"}));
}

// No DoNotSchedule constraint (a ScheduleAnyway one, or none and no owner): nothing to filter.
TEST(PodTopologySpread, PreFilterSkipsWithoutHardConstraints) {
  Cluster c;
  c.node("a1", "A");
  Pod w = make_pod("w", {{"app", "web"}});
  EXPECT_TRUE(run_filter(*spread_plugin(), w, c.snapshot).pre.skip());
  w.spec.topology_spread_constraints = {spread(1, ZONE, SOFT, {{"app", "web"}})};
  EXPECT_TRUE(run_filter(*spread_plugin(), w, c.snapshot).pre.skip());
}

// Web pods: 2 on a1 (zone A), 1 on b1 (B), none on a2 (A) or c1 (C). ScheduleAnyway zone,
// maxSkew 1: 3 domains among the feasible nodes, weight ln(3 + 2) = ln 5 = 1.6094.
//   a1, a2: 2 x 1.6094 + 0 = 3.219 -> 3; b1: 1.6094 -> 2; c1: 0
//   normalized, min 0, max 3: a 100 x (3 + 0 - 3)/3 = 0; b1 100 x 1/3 = 33; c1 100
// Adding hostname, maxSkew 2: weight ln(4 nodes + 2) = ln 6 = 1.7918, per-node counts:
//   a1: 3.219 + (2 x 1.7918 + 1 = 4.5835) = 7.802 -> 8
//   a2: 3.219 + (0 + 1)                   = 4.219 -> 4
//   b1: 1.6094 + (1.7918 + 1 = 2.7918)    = 4.401 -> 4
//   c1: 0 + 1                             = 1
//   normalized, min 1, max 8: a1 100 x 1/8 = 12; a2, b1 100 x 5/8 = 62; c1 100 x 8/8 = 100
TEST(PodTopologySpread, ScoresWeightConstraintsByLogOfDomains) {
  Cluster c;
  c.node("a1", "A").node("a2", "A").node("b1", "B").node("c1", "C");
  c.place(make_pod("w0", {{"app", "web"}}), "a1").place(make_pod("w1", {{"app", "web"}}), "a1");
  c.place(make_pod("w2", {{"app", "web"}}), "b1");
  Pod w = make_pod("w3", {{"app", "web"}});
  w.spec.topology_spread_constraints = {spread(1, ZONE, SOFT, {{"app", "web"}})};
  auto zone = run_score(*spread_plugin(), w, c.snapshot);
  ASSERT_TRUE(zone.pre.ok());
  EXPECT_EQ(zone.raw, (Scores{{"a1", 3}, {"a2", 3}, {"b1", 2}, {"c1", 0}}));
  EXPECT_EQ(zone.normalized, (Scores{{"a1", 0}, {"a2", 0}, {"b1", 33}, {"c1", 100}}));
  w.spec.topology_spread_constraints.push_back(spread(2, HOST, SOFT, {{"app", "web"}}));
  auto both = run_score(*spread_plugin(), w, c.snapshot);
  EXPECT_EQ(both.raw, (Scores{{"a1", 8}, {"a2", 4}, {"b1", 4}, {"c1", 1}}));
  EXPECT_EQ(both.normalized, (Scores{{"a1", 12}, {"a2", 62}, {"b1", 62}, {"c1", 100}}));
}

// Same pods; only a1, b1 and x (no zone) are feasible. x is ignored (raw 0, normalized 0,
// left out of min/max). Domains among feasible nodes: A, B -> weight ln 4 = 1.3863; A still
// counts every node's pods (2), C is no domain.
//   zone: a1 2 x 1.3863 = 2.773 -> 3; b1 1.3863 -> 1; min 1, max 3: a1 100 x 1/3 = 33, b1 100 x 3/3 = 100
//   + hostname maxSkew 1, weight ln(3 feasible - 1 ignored + 2) = ln 4:
//     a1 2.773 + 2 x 1.3863 = 5.545 -> 6; b1 1.3863 + 1.3863 = 2.773 -> 3; min 3, max 6: a1 100 x 3/6 = 50, b1 100
TEST(PodTopologySpread, NodesMissingAKeyScoreZero) {
  Cluster c;
  c.node("a1", "A").node("a2", "A").node("b1", "B").node("c1", "C").node("x");
  c.place(make_pod("w0", {{"app", "web"}}), "a1").place(make_pod("w1", {{"app", "web"}}), "a1");
  c.place(make_pod("w2", {{"app", "web"}}), "b1");
  Pod w = make_pod("w3", {{"app", "web"}});
  w.spec.topology_spread_constraints = {spread(1, ZONE, SOFT, {{"app", "web"}})};
  auto zone = run_score(*spread_plugin(), w, c.snapshot, {"a1", "b1", "x"});
  EXPECT_EQ(zone.raw, (Scores{{"a1", 3}, {"b1", 1}, {"x", 0}}));
  EXPECT_EQ(zone.normalized, (Scores{{"a1", 33}, {"b1", 100}, {"x", 0}}));
  w.spec.topology_spread_constraints.push_back(spread(1, HOST, SOFT, {{"app", "web"}}));
  auto both = run_score(*spread_plugin(), w, c.snapshot, {"a1", "b1", "x"});
  EXPECT_EQ(both.raw, (Scores{{"a1", 6}, {"b1", 3}, {"x", 0}}));
  EXPECT_EQ(both.normalized, (Scores{{"a1", 50}, {"b1", 100}, {"x", 0}}));
}

// System defaults for a Deployment's pod (selector: its labels): hostname maxSkew 3 and zone
// maxSkew 5, both ScheduleAnyway, so PreFilter skips. One web pod on a1 (A); b1 in B.
//   weights: hostname ln(2 + 2), zone ln(2 domains + 2), both 1.3863
//   a1: (1.3863 + 2) + (1.3863 + 4) = 8.773 -> 9; b1: 2 + 4 = 6
//   normalized, min 6, max 9: a1 100 x 6/9 = 66; b1 100 x 9/9 = 100
// System defaults keep nodes without a zone label (c1), scoring hostname alone; the zone
// domains become A, B and "" (c1's missing value, as upstream reads it): weights ln 5 = 1.6094
//   a1: (1.6094 + 2) + (1.6094 + 4) = 9.219 -> 9; b1: 6; c1: 0 + 2 = 2
//   normalized, min 2, max 9: a1 100 x 2/9 = 22; b1 100 x 5/9 = 55; c1 100
// A pod without a controller (or owned by a Job) gets no default constraints.
TEST(PodTopologySpread, SystemDefaultsForControllerOwnedPods) {
  Cluster c;
  c.node("a1", "A").node("b1", "B");
  c.place(make_pod("w0", {{"app", "web"}}), "a1");
  Pod w = make_pod("web-1", {{"app", "web"}});
  w.owner_kind = "Deployment";
  w.owner_name = "web";
  EXPECT_TRUE(run_filter(*spread_plugin(), w, c.snapshot).pre.skip());
  auto r = run_score(*spread_plugin(), w, c.snapshot);
  ASSERT_TRUE(r.pre.ok());
  EXPECT_EQ(r.raw, (Scores{{"a1", 9}, {"b1", 6}}));
  EXPECT_EQ(r.normalized, (Scores{{"a1", 66}, {"b1", 100}}));

  c.node("c1");
  r = run_score(*spread_plugin(), w, c.snapshot);
  EXPECT_EQ(r.raw, (Scores{{"a1", 9}, {"b1", 6}, {"c1", 2}}));
  EXPECT_EQ(r.normalized, (Scores{{"a1", 22}, {"b1", 55}, {"c1", 100}}));

  Pod orphan = w;
  orphan.owner_kind.clear();
  EXPECT_TRUE(run_score(*spread_plugin(), orphan, c.snapshot).pre.skip());
  orphan.owner_kind = "Job";
  EXPECT_TRUE(run_score(*spread_plugin(), orphan, c.snapshot).pre.skip());
  EXPECT_TRUE(run_score(*spread_plugin({{"defaultingType", "List"}}), w, c.snapshot).pre.skip());
}

// defaultingType List with a DoNotSchedule zone default: a ReplicaSet's pod is filtered as in
// MaxSkewOneOverTwoZones (A 2, B 0: only b1). A pod with constraints of its own (here only
// ScheduleAnyway ones) does not get the defaults.
TEST(PodTopologySpread, ListDefaultsApplyToPodsWithoutConstraints) {
  Cluster c;
  c.node("a1", "A").node("a2", "A").node("b1", "B");
  c.place(make_pod("w0", {{"app", "web"}}), "a1").place(make_pod("w1", {{"app", "web"}}), "a2");
  auto plugin = spread_plugin(nlohmann::json::parse(R"({"defaultingType": "List", "defaultConstraints": [
      {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}]})"));
  Pod w = make_pod("w2", {{"app", "web"}});
  w.owner_kind = "ReplicaSet";
  w.owner_name = "web";
  EXPECT_EQ(run_filter(*plugin, w, c.snapshot).passing(), Names{"b1"});
  w.spec.topology_spread_constraints = {spread(1, HOST, SOFT, {{"app", "web"}})};
  EXPECT_TRUE(run_filter(*plugin, w, c.snapshot).pre.skip());
}

TEST(PodTopologySpread, Formulas) {
  // ln(domains + 2)
  EXPECT_NEAR(topology_normalizing_weight(0), 0.693147, 1e-6);  // ln 2
  EXPECT_NEAR(topology_normalizing_weight(1), 1.098612, 1e-6);  // ln 3
  EXPECT_NEAR(topology_normalizing_weight(3), 1.609438, 1e-6);  // ln 5
  EXPECT_NEAR(topology_normalizing_weight(4), 1.791759, 1e-6);  // ln 6
  // count x weight + maxSkew - 1
  EXPECT_NEAR(spread_score_for_count(2, 1, std::log(5.0)), 3.218876, 1e-6);  // 2 x 1.609438 + 0
  EXPECT_NEAR(spread_score_for_count(1, 2, std::log(6.0)), 2.791759, 1e-6);  // 1.791759 + 1
  EXPECT_DOUBLE_EQ(spread_score_for_count(0, 3, 1.5), 2.0);                  // 0 + 2
  struct Norm {
    std::int64_t raw, min, max, want;
  };
  for (const Norm& k : std::vector<Norm>{
           {2, 0, 3, 33},   // 100 x (3 + 0 - 2)/3 = 33.3 -> 33
           {3, 0, 3, 0},    // 100 x 0/3
           {0, 0, 3, 100},  // 100 x 3/3
           {8, 1, 8, 12},   // 100 x 1/8 = 12.5 -> 12
           {4, 1, 8, 62},   // 100 x 5/8 = 62.5 -> 62
           {0, 0, 0, 100},  // max 0: every node 100
       })
    EXPECT_EQ(spread_normalized_score(k.raw, k.min, k.max), k.want) << k.raw << " in [" << k.min << ", " << k.max << "]";
  // global minimum: 0 while domains < minDomains
  EXPECT_EQ(spread_global_minimum(2, 1, 1), 1);
  EXPECT_EQ(spread_global_minimum(2, 2, 1), 1);
  EXPECT_EQ(spread_global_minimum(2, 3, 1), 0);
  EXPECT_EQ(spread_global_minimum(0, 1, std::numeric_limits<std::int32_t>::max()), 0);
  // count + self - minimum <= maxSkew
  EXPECT_FALSE(spread_skew_fits(2, true, 0, 1));  // 3 > 1
  EXPECT_TRUE(spread_skew_fits(0, true, 0, 1));   // 1
  EXPECT_TRUE(spread_skew_fits(1, false, 0, 1));  // 1
  EXPECT_FALSE(spread_skew_fits(1, true, 0, 1));  // 2 > 1
  EXPECT_TRUE(spread_skew_fits(4, true, 2, 3));   // 3
}

TEST(PodTopologySpread, ArgsAreCheckedStrictly) {
  auto make = [](const nlohmann::json& a) { return spread_plugin(a); };
  EXPECT_EQ(error_of(make, R"({})"), "");
  EXPECT_EQ(error_of(make, R"(null)"), "");
  EXPECT_EQ(error_of(make, R"({"defaultingType": "System"})"), "");
  EXPECT_EQ(error_of(make, R"({"defaultingType": "List", "defaultConstraints": []})"), "");
  EXPECT_EQ(error_of(make, R"({"defaultingType": "List", "defaultConstraints": [
      {"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule", "minDomains": 2,
       "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore"},
      {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}]})"),
            "");
  struct Bad {
    const char* args;
    const char* names;  // in the message
  };
  for (const Bad& k : std::vector<Bad>{
           {R"({"defaultingType": "Sytem"})", "did you mean \"System\""},
           {R"({"defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]})",
            "defaultingType"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]})",
            "$.defaultConstraints[0].maxSkew"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "DoNotSchedule"}]})",
            "topologyKey"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "a b", "whenUnsatisfiable": "DoNotSchedule"}]})",
            "topologyKey"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Never"}]})",
            "whenUnsatisfiable"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}]})",
            "labelSelector"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
               "minDomains": 2}]})",
            "minDomains"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
               "nodeTaintsPolicy": "Honor"}]})",
            "nodeTaintsPolicy"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
               "matchLabelKeys": ["pod-template-hash"]}]})",
            "matchLabelKeys"},
           {R"({"defaultingType": "List", "defaultConstraints": [
               {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
               {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]})",
            "$.defaultConstraints[1].topologyKey"},
           {R"({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
               "maxskew": 1}]})",
            "unknown key \"maxskew\""},
           {R"({"defaultConstraint": []})", "did you mean \"defaultConstraints\""},
       }) {
    const std::string msg = error_of(make, k.args);
    EXPECT_NE(msg.find(k.names), std::string::npos) << k.args << "\n -> " << msg;
    EXPECT_NE(msg.find("pluginConfig.PodTopologySpread"), std::string::npos) << msg;
  }
}
