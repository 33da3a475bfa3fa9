#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/engine.hpp"
#include "platform/platform.hpp"
#include "platform/topology.hpp"

using namespace aifsim;
using engine::Engine;
using engine::Phase;

namespace {
// Two 1 Gflop/s single-core nodes behind one switch, 1 GB/s links of `latency_s`.
platform::PlatformSpec two_nodes(double latency_s) {
  auto p = platform::make_uniform_platform("two", 2, 1);
  p.node_types[0].core_speed_flops = 1e9;
  p.node_types[0].nic_bw_Bps = 1e9;
  p.fabric.link_latency_s = latency_s;
  return p;
}
}  // namespace

TEST(EngineCalendar, DispatchesByTimeThenPhaseThenPostingOrder) {
  Engine e;
  std::vector<std::string> log;
  e.at(2.0, [&] { log.push_back("b@2"); });
  e.at(1.0, [&] { log.push_back("end@1"); }, Phase::END_OF_INSTANT);
  e.at(1.0, [&] {
    log.push_back("a@1");
    e.at(1.0, [&] { log.push_back("posted-during@1"); });  // same instant, still NORMAL
  });
  e.at(1.0, [&] { log.push_back("c@1"); });
  e.run();
  EXPECT_EQ(log, (std::vector<std::string>{"a@1", "c@1", "posted-during@1", "end@1", "b@2"}));
  EXPECT_EQ(e.now(), 2.0);
  EXPECT_EQ(e.stats().events_dispatched, 5u);
}

TEST(EngineCalendar, CancelledHandlersNeverRun) {
  Engine e;
  bool ran = false;
  auto id = e.at(5.0, [&] { ran = true; });
  e.at(1.0, [&] { e.cancel(id); });
  e.run();
  EXPECT_FALSE(ran);
  EXPECT_EQ(e.stats().events_cancelled, 1u);
}

TEST(EngineCalendar, RunUntilStopsAtTheLimit) {
  Engine e;
  int count = 0;
  for (int i = 1; i <= 10; ++i) e.at(i, [&] { ++count; });
  e.run_until(4.5);
  EXPECT_EQ(count, 4);
  EXPECT_EQ(e.now(), 4.5);
  e.run();
  EXPECT_EQ(count, 10);
}

TEST(EngineCalendar, PostingInThePastIsABug) {
  Engine e;
  e.at(3.0, [] {});
  e.run();
  EXPECT_THROW(e.at(1.0, [] {}), SimulationError);
}

TEST(EngineSimGrid, ComputeTakesFlopsOverSpeedAndInterleavesWithTimers) {
  platform::Topology topo(two_nodes(0));
  Engine e;
  e.build_platform(topo);
  EXPECT_EQ(e.host_count(), 2u);
  EXPECT_EQ(e.link_count(), 2u);
  std::vector<std::pair<std::string, double>> log;
  e.at(0.5, [&] {
    log.push_back({"timer", e.now()});
    // 2e9 flops at 1e9 flop/s: ends at 0.5 + 2 = 2.5
    e.start_compute(0, 2e9, [&](engine::ActivityOutcome o) {
      log.push_back({o == engine::ActivityOutcome::FINISHED ? "exec-done" : "exec-failed", e.now()});
      e.after(0.25, [&] { log.push_back({"after-exec", e.now()}); });
    });
  });
  e.at(1.5, [&] { log.push_back({"timer", e.now()}); });
  e.at(10.0, [&] { log.push_back({"late", e.now()}); });
  e.run();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0], (std::pair<std::string, double>{"timer", 0.5}));
  EXPECT_EQ(log[1], (std::pair<std::string, double>{"timer", 1.5}));
  EXPECT_EQ(log[2].first, "exec-done");
  EXPECT_DOUBLE_EQ(log[2].second, 2.5);
  EXPECT_EQ(log[3].first, "after-exec");
  EXPECT_DOUBLE_EQ(log[3].second, 2.75);
  EXPECT_EQ(log[4], (std::pair<std::string, double>{"late", 10.0}));
}

TEST(EngineSimGrid, TwoComputesShareOneCore) {
  platform::Topology topo(two_nodes(0));
  Engine e;
  e.build_platform(topo);
  std::vector<double> ends;
  e.start_compute(0, 1e9, [&](engine::ActivityOutcome) { ends.push_back(e.now()); });
  e.start_compute(0, 1e9, [&](engine::ActivityOutcome) { ends.push_back(e.now()); });
  e.run();
  // Fair sharing of one 1 Gflop/s core: both end at 2 s.
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_DOUBLE_EQ(ends[0], 2.0);
  EXPECT_DOUBLE_EQ(ends[1], 2.0);
}

TEST(EngineSimGrid, TransferIsAlphaBetaOverTheRoute) {
  platform::Topology topo(two_nodes(1e-6));
  Engine e;
  e.build_platform(topo);
  double end = -1;
  e.at(1.0, [&] { e.start_transfer(0, 1, 1e9, [&](engine::ActivityOutcome) { end = e.now(); }); });
  e.run();
  // Two links of 1 us and 1 GB/s: 1 + 2e-6 + 1e9/1e9 (CM02, no cross-traffic).
  EXPECT_NEAR(end, 2.0 + 2e-6, 1e-9);
}

TEST(EngineSimGrid, HostOffFailsItsActivities) {
  platform::Topology topo(two_nodes(0));
  Engine e;
  e.build_platform(topo);
  engine::ActivityOutcome outcome = engine::ActivityOutcome::FINISHED;
  double when = -1;
  e.start_compute(1, 5e9, [&](engine::ActivityOutcome o) {
    outcome = o;
    when = e.now();
  });
  e.at(3.0, [&] { e.set_host_on(1, false); });
  e.run();
  EXPECT_EQ(outcome, engine::ActivityOutcome::FAILED);
  EXPECT_DOUBLE_EQ(when, 3.0);
  EXPECT_FALSE(e.is_host_on(1));
}

TEST(EngineSimGrid, SecondPlatformInOneProcessIsRefused) {
  platform::Topology topo(two_nodes(0));
  Engine a;
  a.build_platform(topo);
  Engine b;
  EXPECT_THROW(b.build_platform(topo), SimulationError);
}
