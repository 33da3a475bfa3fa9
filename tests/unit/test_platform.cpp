#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "platform/platform.hpp"
#include "platform/topology.hpp"

using namespace aifsim;
using namespace aifsim::platform;

namespace {
PlatformSpec spec_from(const std::string& text) { return parse_platform(parse_json_text(text, "p.json"), "p.json"); }

std::string fat_tree(int nodes, int per_leaf, double oversub) {
  return R"({"name": "t", "node_types": {"n": {"cpu_cores": 4, "gpus": 8, "gpu_model": "H100", "nic_bw_Bps": 100}},
             "nodes": [{"type": "n", "count": )" + std::to_string(nodes) + R"(}],
             "fabric": {"kind": "fat_tree", "levels": 2, "nodes_per_leaf": )" + std::to_string(per_leaf) +
         R"(, "oversubscription": )" + std::to_string(oversub) + "}}";
}
}  // namespace

TEST(Platform, SingleSwitchCountsAndHops) {
  auto p = spec_from(R"({"name": "s", "node_types": {"n": {"cpu_cores": 2, "nic_bw_Bps": 10}},
                         "nodes": [{"type": "n", "count": 4}], "fabric": {"kind": "single_switch"}})");
  Topology t(p);
  auto s = t.summarize();
  EXPECT_EQ(s.nodes, 4);
  EXPECT_EQ(s.switches, 1);
  EXPECT_EQ(s.links, 4);
  EXPECT_EQ(s.cpu_cores, 8);
  // Every pair is node-switch-node: 2 links; 4 nodes -> 6 pairs.
  EXPECT_EQ(s.hop_distribution, (std::map<int, long long>{{2, 6}}));
  // Half the nodes (2) send to the other half through their own 10 B/s links.
  EXPECT_DOUBLE_EQ(*s.bisection_bw_Bps, 20.0);
}

TEST(Platform, NonBlockingFatTreeBisectionIsHalfTheInjection) {
  // 8 nodes, 2 per leaf -> 4 leaves under one spine; 100 B/s per node.
  Topology t(spec_from(fat_tree(8, 2, 1.0)));
  auto s = t.summarize();
  EXPECT_EQ(s.switches, 5);
  EXPECT_EQ(s.links, 8 + 4);
  EXPECT_DOUBLE_EQ(*s.bisection_bw_Bps, 4 * 100.0);
  // Same-leaf pairs: 4 leaves x 1 pair, 2 links. Cross-leaf: 28 - 4 = 24 pairs, 4 links.
  EXPECT_EQ(s.hop_distribution, (std::map<int, long long>{{2, 4}, {4, 24}}));
  EXPECT_EQ(s.diameter_hops, 4);
  EXPECT_EQ(s.gpus_by_model.at("H100"), 64);
}

TEST(Platform, OversubscriptionDividesTheBisection) {
  // Leaf uplinks carry 2 x 100 / 4 = 50 B/s; two leaves on each side of the cut.
  Topology t(spec_from(fat_tree(8, 2, 4.0)));
  EXPECT_DOUBLE_EQ(t.bisection_bandwidth(), 2 * 50.0);
}

TEST(Platform, ThreeLevelFatTree) {
  auto p = spec_from(R"({"name": "t3", "node_types": {"n": {"cpu_cores": 1, "nic_bw_Bps": 1}},
    "nodes": [{"type": "n", "count": 16}],
    "fabric": {"kind": "fat_tree", "levels": 3, "nodes_per_leaf": 2, "leaves_per_pod": 2, "oversubscription": [1, 2]}})");
  Topology t(p);
  auto s = t.summarize();
  EXPECT_EQ(s.switches, 8 + 4 + 1);
  EXPECT_EQ(s.diameter_hops, 6);
  // same leaf: 8 pairs (2 links); same pod other leaf: 4 pods x 4 = 16 pairs (4 links);
  // other pod: 120 - 24 = 96 pairs (6 links).
  EXPECT_EQ(s.hop_distribution, (std::map<int, long long>{{2, 8}, {4, 16}, {6, 96}}));
  // Pods carry 4 B/s down and 2 B/s up: two pods per side -> 4 B/s across.
  EXPECT_DOUBLE_EQ(*s.bisection_bw_Bps, 4.0);
}

TEST(Platform, ShippedHgxPlatform) {
  auto p = load_platform(std::string(AIFSIM_SOURCE_DIR) + "/platforms/hgx-h100-128.json");
  Topology t(p);
  auto s = t.summarize();
  EXPECT_EQ(s.nodes, 128);
  EXPECT_EQ(s.gpus_by_model.at("H100-SXM5-80GB"), 1024);
  // Non-blocking: half the machine injects 64 nodes x 8 x 400 Gb/s = 64 x 400 GB/s.
  EXPECT_DOUBLE_EQ(*s.bisection_bw_Bps, 64 * 8 * 50e9);
}

TEST(Platform, BadInputNamesThePath) {
  try {
    spec_from(R"({"name": "x", "node_types": {"n": {"cpu_cores": 0}}, "nodes": [], "fabric": {"kind": "single_switch"}})");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "p.json: at $.node_types.n.cpu_cores: expected a positive integer");
  }
  try {
    spec_from(R"({"name": "x", "node_types": {"n": {"cpu_cores": 1}}, "nodes": [{"type": "m", "count": 1}],
                  "fabric": {"kind": "single_switch"}})");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.nodes[0].type: expected one of n"), std::string::npos) << e.what();
  }
  try {
    spec_from(R"({"name": "x", "node_types": {"n": {"cpu_cores": 1}}, "nodes": [{"type": "n", "count": 1}],
                  "fabric": {"kind": "fat_tree", "levels": 2, "nodes_per_leaf": 4, "oversubscriptoin": 2}})");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean \"oversubscription\""), std::string::npos) << e.what();
  }
}
