// Kueue quota admission, hand-worked: each case's comment carries the arithmetic.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "k8s/kueue.hpp"

using namespace aifsim;
using namespace aifsim::k8s;
using namespace aifsim::k8s::kueue;

namespace {
constexpr Milli UNIT = 1000;  // one GPU, in thousandths

ResourceQuota quota(const std::string& flavor, ResourceList nominal, ResourceList borrowing_limit = {}) {
  return {flavor, std::move(nominal), std::move(borrowing_limit)};
}

ResourceQuota gpus(const std::string& flavor, int n) { return quota(flavor, {{GPU, n * UNIT}}); }

ClusterQueue cluster_queue(const std::string& name, std::vector<ResourceQuota> quotas, const std::string& cohort = "",
                           const std::string& within = "Never", const std::string& reclaim = "Never") {
  ClusterQueue q;
  q.meta.name = name;
  q.meta.source = name + ".yaml:1";
  q.cohort = cohort;
  q.quotas = std::move(quotas);
  q.within_cluster_queue_preemption = within;
  q.reclaim_within_cohort = reclaim;
  return q;
}

LocalQueue local_queue(const std::string& name, const std::string& cq) {
  LocalQueue l;
  l.meta.name = name;
  l.cluster_queue = cq;
  return l;
}

// A queue "lq-<cq>" in namespace default for each ClusterQueue.
QuotaManager manager(std::vector<ClusterQueue> cqs, Options options = {}) {
  std::vector<LocalQueue> lqs;
  for (const auto& q : cqs) lqs.push_back(local_queue("lq-" + q.meta.name, q.meta.name));
  return QuotaManager(std::move(cqs), std::move(lqs), std::move(options));
}

Workload job(std::uint64_t id, const std::string& cq, int n_gpus, int priority = 0, double created_s = 0) {
  return {id, "default", "lq-" + cq, priority, created_s, {{GPU, n_gpus * UNIT}}};
}

std::vector<std::uint64_t> ids(const std::vector<Admission>& v) {
  std::vector<std::uint64_t> out;
  for (const auto& a : v) out.push_back(a.workload);
  return out;
}

std::vector<std::uint64_t> ids(const std::vector<Eviction>& v) {
  std::vector<std::uint64_t> out;
  for (const auto& e : v) out.push_back(e.workload);
  return out;
}

using Ids = std::vector<std::uint64_t>;
}  // namespace

// 6 of 8 nominal GPUs: fits, on the only flavor, without borrowing.
TEST(Kueue, FitsNominal) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)})});
  m.submit(job(1, "a", 6));
  auto c = m.cycle(0);
  ASSERT_EQ(c.admitted.size(), 1u);
  EXPECT_EQ(c.admitted[0].workload, 1u);
  EXPECT_EQ(c.admitted[0].cluster_queue, "a");
  EXPECT_EQ(c.admitted[0].flavors, (std::map<std::string, std::string>{{GPU, "h100"}}));
  EXPECT_FALSE(c.admitted[0].borrowing);
  EXPECT_TRUE(c.evicted.empty());
  EXPECT_TRUE(c.pending.empty());
  EXPECT_EQ(m.usage("a", "h100", GPU), 6 * UNIT);
  EXPECT_EQ(m.admitted_count("a"), 1u);
  EXPECT_EQ(m.pending_count("a"), 0u);
}

// 8 - 6 = 2 GPUs free, the second asks 4: 4 - 2 = 2 more needed; no preemption allowed.
TEST(Kueue, SecondWorkloadWaits) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)})});
  m.submit(job(1, "a", 6, 0, 0));
  m.submit(job(2, "a", 4, 0, 1));
  auto c = m.cycle(1);
  EXPECT_EQ(ids(c.admitted), Ids{1});
  ASSERT_EQ(c.pending.count(2), 1u);
  EXPECT_EQ(c.pending.at(2).kind, PendingKind::WAITING_FOR_QUOTA);
  EXPECT_EQ(c.pending.at(2).message, "insufficient unused quota for nvidia.com/gpu in flavor h100, 2 more needed");
  EXPECT_EQ(m.pending_count("a"), 1u);
  EXPECT_TRUE(m.cycle(2).admitted.empty());  // nothing changed, nothing admitted
}

// 8 GPUs, 6 held. Queued: w2 (4 GPUs, older) and w3 (2 GPUs). BestEffortFIFO sets w2
// aside and admits w3 into the 2 free; StrictFIFO keeps w2 at the head and w3 behind it.
// When w1's 6 come back, StrictFIFO admits w2 then w3 (4 + 2 = 6 <= 8).
TEST(Kueue, BestEffortVersusStrictFifo) {
  for (auto strategy : {QueueingStrategy::BEST_EFFORT_FIFO, QueueingStrategy::STRICT_FIFO}) {
    SCOPED_TRACE(strategy == QueueingStrategy::STRICT_FIFO ? "StrictFIFO" : "BestEffortFIFO");
    auto m = manager({cluster_queue("a", {gpus("h100", 8)})}, Options{{{"a", strategy}}});
    m.submit(job(1, "a", 6, 0, 0));
    m.cycle(0);
    m.submit(job(2, "a", 4, 0, 1));
    m.submit(job(3, "a", 2, 0, 2));
    auto c = m.cycle(2);
    if (strategy == QueueingStrategy::BEST_EFFORT_FIFO) {
      EXPECT_EQ(ids(c.admitted), Ids{3});
      EXPECT_EQ(c.pending.at(2).kind, PendingKind::WAITING_FOR_QUOTA);
      m.finish(1);
      EXPECT_EQ(ids(m.cycle(3).admitted), Ids{2});  // 2 + 4 = 6 <= 8
    } else {
      EXPECT_TRUE(c.admitted.empty());
      EXPECT_EQ(c.pending.at(2).kind, PendingKind::WAITING_FOR_QUOTA);
      EXPECT_EQ(c.pending.at(3).kind, PendingKind::QUEUED);
      EXPECT_EQ(c.pending.at(3).message, "behind workload 2, the head of StrictFIFO ClusterQueue a");
      m.finish(1);
      EXPECT_EQ(ids(m.cycle(3).admitted), (Ids{2, 3}));
    }
    EXPECT_EQ(m.usage("a", "h100", GPU), 6 * UNIT);
  }
}

// Cohort "pool" = a (8) + b (4): b may take 8 + 4 = 12 in all, 10 of them borrowed from a's idle 8.
TEST(Kueue, BorrowsUnusedCohortQuota) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)}, "pool"), cluster_queue("b", {gpus("h100", 4)}, "pool")});
  m.submit(job(1, "b", 10));
  auto c = m.cycle(0);
  ASSERT_EQ(ids(c.admitted), Ids{1});
  EXPECT_TRUE(c.admitted[0].borrowing);
  EXPECT_EQ(m.usage("b", "h100", GPU), 10 * UNIT);
  // a's own 4 now finds 12 - 10 = 2 free; a reclaims nothing (reclaimWithinCohort Never).
  m.submit(job(2, "a", 4, 0, 1));
  c = m.cycle(1);
  EXPECT_TRUE(c.admitted.empty());
  EXPECT_TRUE(c.evicted.empty());
  EXPECT_EQ(c.pending.at(2).kind, PendingKind::WAITING_FOR_QUOTA);
  // Beyond the whole cohort: 13 > 12 can never fit.
  m.submit(job(3, "b", 13, 0, 2));
  EXPECT_EQ(m.cycle(2).pending.at(3).message,
            "insufficient quota for nvidia.com/gpu in flavor h100, request > maximum capacity (13 > 12)");
}

// Both heads in one cycle: b's 10 (older) would borrow, a's 4 would not, so a goes first.
// b's 10 then finds 12 - 4 = 8 free and waits; in plain FIFO order b would take 10 of 12
// and a would wait instead.
TEST(Kueue, NonBorrowingHeadsGoFirst) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)}, "pool"), cluster_queue("b", {gpus("h100", 4)}, "pool")});
  m.submit(job(1, "b", 10, 0, 0));
  m.submit(job(2, "a", 4, 0, 1));
  auto c = m.cycle(1);
  EXPECT_EQ(ids(c.admitted), Ids{2});
  EXPECT_EQ(c.pending.at(1).kind, PendingKind::WAITING_FOR_QUOTA);
  EXPECT_EQ(c.pending.at(1).message, "insufficient unused quota for nvidia.com/gpu in flavor h100, 2 more needed");
}

// borrowingLimit 2 caps b at 4 + 2 = 6 although a lends 8: 10 can never fit, 6 fits.
TEST(Kueue, BorrowingLimit) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)}, "pool"),
                    cluster_queue("b", {quota("h100", {{GPU, 4 * UNIT}}, {{GPU, 2 * UNIT}})}, "pool")});
  m.submit(job(1, "b", 10, 0, 0));
  m.submit(job(2, "b", 6, 0, 1));
  m.submit(job(3, "b", 1, 0, 2));
  auto c = m.cycle(0);
  EXPECT_EQ(ids(c.admitted), Ids{2});  // then 6 + 1 = 7 > 6 for w3
  EXPECT_EQ(c.pending.at(1).kind, PendingKind::EXCEEDS_QUOTA);
  EXPECT_EQ(c.pending.at(1).message,
            "insufficient quota for nvidia.com/gpu in flavor h100, request > maximum capacity (10 > 6)");
  EXPECT_EQ(c.pending.at(3).kind, PendingKind::WAITING_FOR_QUOTA);
  EXPECT_EQ(m.usage("b", "h100", GPU), 6 * UNIT);
}

// a lends its 8 to b (nominal 0): b1 (4) and b2 (2) borrow 6. a1 (4) finds 8 - 6 = 2
// free but fits a's nominal 8, so a reclaims: candidates b2 (admitted last) then b1.
// Removing b2 frees 4 - enough - so b1 stays. b2 then waits: 8 - 4 - 4 = 0 free.
TEST(Kueue, ReclaimEvictsTheBorrower) {
  for (std::string reclaim : {"Any", "LowerPriority", "Never"}) {
    SCOPED_TRACE(reclaim);
    auto m = manager({cluster_queue("a", {gpus("h100", 8)}, "pool", "Never", reclaim),
                      cluster_queue("b", {gpus("h100", 0)}, "pool")});
    m.submit(job(1, "b", 4, 0, 0));
    m.submit(job(2, "b", 2, 0, 1));
    EXPECT_EQ(ids(m.cycle(1).admitted), (Ids{1, 2}));
    m.submit(job(3, "a", 4, 0, 2));  // same priority as the borrowers
    auto c = m.cycle(2);
    if (reclaim == "Any") {
      EXPECT_EQ(ids(c.evicted), Ids{2});
      EXPECT_EQ(c.evicted[0].preemptor, 3u);
      EXPECT_EQ(c.evicted[0].cluster_queue, "b");
      EXPECT_EQ(c.evicted[0].reason, EvictionReason::IN_COHORT_RECLAMATION);
      EXPECT_EQ(ids(c.admitted), Ids{3});
      EXPECT_FALSE(c.admitted[0].borrowing);
      EXPECT_EQ(c.pending.at(2).kind, PendingKind::WAITING_FOR_QUOTA);
      EXPECT_EQ(m.usage("b", "h100", GPU), 4 * UNIT);
      EXPECT_EQ(m.usage("a", "h100", GPU), 4 * UNIT);
    } else {  // LowerPriority spares equal priority; Never spares all
      EXPECT_TRUE(c.evicted.empty());
      EXPECT_TRUE(c.admitted.empty());
      EXPECT_EQ(c.pending.at(3).kind, PendingKind::WAITING_FOR_QUOTA);
    }
  }
}

// 8 GPUs held by wc (p5, 3), wb (p1, 4), wa (p1, 1), admitted in that order. hi (p10)
// needs 4. Candidates, lowest priority then latest admitted: wa, wb, wc. Removing wa
// frees 1, wb 5 >= 4: it fits. Putting wa back leaves 4 >= 4: wa stays. Victims: wb alone.
TEST(Kueue, LowerPriorityPreemptsMinimalSet) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)}, "", "LowerPriority")});
  m.submit(job(1, "a", 3, 5, 0));  // wc
  m.submit(job(2, "a", 4, 1, 1));  // wb
  m.submit(job(3, "a", 1, 1, 2));  // wa
  EXPECT_EQ(ids(m.cycle(2).admitted), (Ids{1, 2, 3}));
  m.submit(job(4, "a", 4, 10, 3));  // hi
  auto c = m.cycle(3);
  EXPECT_EQ(ids(c.evicted), Ids{2});
  EXPECT_EQ(c.evicted[0].reason, EvictionReason::IN_CLUSTER_QUEUE);
  EXPECT_EQ(ids(c.admitted), Ids{4});
  // wb (p1) may not preempt wa (p1): equal priority is spared.
  EXPECT_EQ(c.pending.at(2).kind, PendingKind::WAITING_FOR_QUOTA);
  EXPECT_EQ(m.usage("a", "h100", GPU), 8 * UNIT);
  // A second p10 job of 5: the lower ones hold only wa 1 + wc 3 = 4 < 5, and hi (p10, equal) is spared.
  m.submit(job(5, "a", 5, 10, 4));
  c = m.cycle(4);
  EXPECT_TRUE(c.evicted.empty());
  EXPECT_EQ(c.pending.at(5).kind, PendingKind::WAITING_FOR_QUOTA);
}

// Finishing the 6-GPU job frees 6; the waiting 4-GPU job then fits.
TEST(Kueue, FinishReleasesQuota) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)})});
  m.submit(job(1, "a", 6, 0, 0));
  m.submit(job(2, "a", 4, 0, 1));
  m.cycle(1);
  m.finish(1);
  EXPECT_EQ(m.usage("a", "h100", GPU), 0);
  auto c = m.cycle(5);
  EXPECT_EQ(ids(c.admitted), Ids{2});
  EXPECT_EQ(c.admitted[0].admitted_s, 5.0);
  EXPECT_EQ(m.usage("a", "h100", GPU), 4 * UNIT);
  ASSERT_TRUE(m.admission(2).has_value());
  EXPECT_FALSE(m.admission(1).has_value());
  m.finish(2);  // pending or admitted, finish forgets it
  EXPECT_EQ(m.admitted_count("a"), 0u);
}

// Room for one job of 4: priority first, then creation time, then the lower id.
TEST(Kueue, TiesBreakByCreationThenId) {
  struct Case {
    const char* name;
    std::vector<Workload> jobs;
    std::uint64_t first;
  };
  std::vector<Case> cases = {
      {"priority beats age", {job(1, "a", 4, 0, 0.0), job(2, "a", 4, 1, 9.0)}, 2},
      {"older first", {job(1, "a", 4, 0, 2.0), job(2, "a", 4, 0, 1.0)}, 2},
      {"same time: lower id", {job(7, "a", 4, 0, 5.0), job(3, "a", 4, 0, 5.0)}, 3},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    auto m = manager({cluster_queue("a", {gpus("h100", 4)})});
    for (const auto& j : k.jobs) m.submit(j);
    EXPECT_EQ(ids(m.cycle(10).admitted), Ids{k.first});
  }
}

// Flavors in listed order: h100 (4) then a100 (8). w1 takes h100; w2 finds h100 full and
// takes a100. w3 (8) can never fit h100 (8 > 4) and finds a100 with 8 - 4 = 4 free: it
// waits, with both flavors' reasons. cpu sits in its own resource group with one flavor.
TEST(Kueue, FallsBackToNextFlavor) {
  auto m = manager({cluster_queue("a", {quota("default", {{CPU, 64 * UNIT}}), gpus("h100", 4), gpus("a100", 8)})});
  auto w = [](std::uint64_t id, int n, double t) {
    return Workload{id, "default", "lq-a", 0, t, {{CPU, 8 * UNIT}, {GPU, n * UNIT}, {PODS, 1 * UNIT}}};
  };
  m.submit(w(1, 4, 0));
  m.submit(w(2, 4, 1));
  m.submit(w(3, 8, 2));
  auto c = m.cycle(2);
  ASSERT_EQ(ids(c.admitted), (Ids{1, 2}));
  EXPECT_EQ(c.admitted[0].flavors, (std::map<std::string, std::string>{{CPU, "default"}, {GPU, "h100"}}));
  EXPECT_EQ(c.admitted[1].flavors, (std::map<std::string, std::string>{{CPU, "default"}, {GPU, "a100"}}));
  EXPECT_EQ(m.usage("a", "default", CPU), 16 * UNIT);  // pods are not counted: "a" does not cover them
  EXPECT_EQ(c.pending.at(3).kind, PendingKind::WAITING_FOR_QUOTA);
  EXPECT_EQ(c.pending.at(3).message,
            "insufficient quota for nvidia.com/gpu in flavor h100, request > maximum capacity (8 > 4); "
            "insufficient unused quota for nvidia.com/gpu in flavor a100, 4 more needed");
}

// f1 (4) then f2 (2). lo (2, p0) sits on f1. hi (4, p10) exceeds f2 and fits f1 only by
// preemption: lo is evicted, hi admitted on f1, and lo comes back on f2, all in one call.
TEST(Kueue, EvictedWorkloadReadmittedOnAnotherFlavor) {
  auto m = manager({cluster_queue("a", {gpus("f1", 4), gpus("f2", 2)}, "", "LowerPriority")});
  m.submit(job(1, "a", 2, 0, 0));
  EXPECT_EQ(m.cycle(0).admitted.at(0).flavors.at(GPU), "f1");
  m.submit(job(2, "a", 4, 10, 1));
  auto c = m.cycle(1);
  EXPECT_EQ(ids(c.evicted), Ids{1});
  ASSERT_EQ(ids(c.admitted), (Ids{2, 1}));
  EXPECT_EQ(c.admitted[0].flavors.at(GPU), "f1");
  EXPECT_EQ(c.admitted[1].flavors.at(GPU), "f2");
  EXPECT_TRUE(c.pending.empty());
}

// Errors in a workload's queue or size are pending reasons, not exceptions.
TEST(Kueue, UnresolvableWorkloadsStayPendingWithReason) {
  std::vector<LocalQueue> lqs = {local_queue("lq-a", "a"), local_queue("orphan", "missing")};
  QuotaManager m({cluster_queue("a", {gpus("h100", 8)})}, lqs);
  m.submit({1, "default", "nope", 0, 0, {{GPU, UNIT}}});
  m.submit({2, "default", "orphan", 0, 0, {{GPU, UNIT}}});
  m.submit({3, "team-b", "lq-a", 0, 0, {{GPU, UNIT}}});  // LocalQueues are namespaced
  m.submit(job(4, "a", 12));
  m.submit({5, "default", "lq-a", 0, 0, {{GPU, UNIT}, {MEMORY, UNIT}}});
  auto c = m.cycle(0);
  EXPECT_TRUE(c.admitted.empty());
  EXPECT_EQ(c.pending.at(1).kind, PendingKind::NO_LOCAL_QUEUE);
  EXPECT_EQ(c.pending.at(1).message, "LocalQueue default/nope doesn't exist");
  EXPECT_EQ(c.pending.at(2).kind, PendingKind::NO_CLUSTER_QUEUE);
  EXPECT_EQ(c.pending.at(2).message, "ClusterQueue missing doesn't exist");
  EXPECT_EQ(c.pending.at(3).kind, PendingKind::NO_LOCAL_QUEUE);
  EXPECT_EQ(c.pending.at(4).kind, PendingKind::EXCEEDS_QUOTA);  // 12 > 8, no cohort
  EXPECT_EQ(c.pending.at(5).kind, PendingKind::EXCEEDS_QUOTA);
  EXPECT_EQ(c.pending.at(5).message, "resource memory unavailable in ClusterQueue a");
  EXPECT_EQ(m.pending_count("a"), 2u);  // 4 and 5; the others never reach a queue
}

TEST(Kueue, RejectsBadConfiguration) {
  auto error_of = [](std::vector<ClusterQueue> cqs, Options o = {}) -> std::string {
    try {
      manager(std::move(cqs), std::move(o));
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of({cluster_queue("a", {gpus("h100", 8)}, "", "Any")}),
            "a.yaml:1: ClusterQueue/a .spec.preemption.withinClusterQueue: expected Never or LowerPriority, got \"Any\"");
  EXPECT_EQ(error_of({cluster_queue("a", {quota("h100", {{GPU, 8 * UNIT}}, {{GPU, UNIT}})})}),
            "a.yaml:1: ClusterQueue/a flavor \"h100\" nvidia.com/gpu borrowingLimit: only allowed with a cohort");
  EXPECT_EQ(error_of({cluster_queue("a", {gpus("h100", 8)}), cluster_queue("a", {})}),
            "a.yaml:1: ClusterQueue/a is defined twice");
  EXPECT_EQ(error_of({cluster_queue("a", {gpus("h100", 8), quota("x", {{GPU, UNIT}, {CPU, UNIT}})})}),
            "a.yaml:1: ClusterQueue/a: resource nvidia.com/gpu is covered by two resource groups");
  EXPECT_EQ(error_of({cluster_queue("a", {gpus("h100", 8), gpus("h100", 4)})}),
            "a.yaml:1: ClusterQueue/a flavor \"h100\" is listed twice");
  EXPECT_EQ(error_of({cluster_queue("a", {gpus("h100", 8)})}, Options{{{"b", QueueingStrategy::STRICT_FIFO}}}),
            "queueingStrategy for unknown ClusterQueue \"b\"");
}

// Misuse by the engine is a broken invariant, not bad input.
TEST(Kueue, EngineMisuseIsAnInvariantError) {
  auto m = manager({cluster_queue("a", {gpus("h100", 8)})});
  m.submit(job(1, "a", 1));
  EXPECT_THROW(m.submit(job(1, "a", 1)), SimulationError);
  EXPECT_THROW(m.finish(99), SimulationError);
  m.cycle(5);
  EXPECT_THROW(m.cycle(4), SimulationError);
}
