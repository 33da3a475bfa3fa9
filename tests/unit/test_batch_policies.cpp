// Unit tests of the batch policies as pure functions: pick(queue, cluster, now).
// Every expectation is worked out by hand in the comment above it. All machines have
// 10 units. Notation: "H:6/100" = a job 6 units wide requesting 100 s; "R:8 ->100" = a
// running job 8 units wide whose requested time ends at t=100.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hpc/job.hpp"
#include "hpc/policy.hpp"

namespace {

using aifsim::hpc::ClusterView;
using aifsim::hpc::Decisions;
using aifsim::hpc::QueuedJob;
using aifsim::hpc::QueueView;
using aifsim::hpc::RunningJob;

constexpr int kCapacity = 10;

struct Waiting {
  int width;
  double requested_s;
  std::optional<double> reservation_s = std::nullopt;
};

struct Running {
  int width;
  double expected_end_s;
};

// What a pass decided, in a form that compares independently of list order.
struct Outcome {
  std::vector<std::size_t> start;           // sorted queue positions
  std::map<std::size_t, double> reserve;    // position -> promised start
  std::size_t reserve_entries = 0;          // to catch duplicate reservations
};

// `released_early`: a job ended before its requested time since the previous pass.
Outcome run_pick(const std::string& policy_name, const std::vector<Running>& running_jobs,
                 const std::vector<Waiting>& waiting, double now, bool released_early = false) {
  std::vector<RunningJob> running;
  int free = kCapacity;
  std::uint64_t index = 100;
  for (const auto& r : running_jobs) {
    running.push_back(RunningJob{index++, r.width, 0.0, r.expected_end_s});
    free -= r.width;
  }
  std::vector<QueuedJob> queue;
  index = 0;
  for (const auto& w : waiting) queue.push_back(QueuedJob{index++, w.width, w.requested_s, 0.0, w.reservation_s});
  auto policy = aifsim::hpc::make_batch_policy(policy_name);
  Decisions d = policy->pick(QueueView{queue}, ClusterView{kCapacity, free, running, released_early}, now);
  Outcome out;
  out.start = d.start;
  std::sort(out.start.begin(), out.start.end());
  for (const auto& [pos, when] : d.reserve) out.reserve[pos] = when;
  out.reserve_entries = d.reserve.size();
  return out;
}

void expect_outcome(const Outcome& got, const std::vector<std::size_t>& start,
                    const std::map<std::size_t, double>& reserve) {
  EXPECT_EQ(got.start, start);
  EXPECT_EQ(got.reserve_entries, got.reserve.size()) << "a position was reserved twice";
  ASSERT_EQ(got.reserve.size(), reserve.size());
  for (const auto& [pos, when] : reserve) {
    ASSERT_TRUE(got.reserve.count(pos)) << "no reservation for queue position " << pos;
    EXPECT_DOUBLE_EQ(got.reserve.at(pos), when) << "reservation of queue position " << pos;
  }
}

struct Case {
  const char* what;
  std::vector<Running> running;
  std::vector<Waiting> queue;
  double now;
  std::vector<std::size_t> start;
  std::map<std::size_t, double> reserve;
  bool released_early = false;
};

void run_cases(const std::string& policy, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(policy + ": " + c.what);
    expect_outcome(run_pick(policy, c.running, c.queue, c.now, c.released_early), c.start, c.reserve);
  }
}

// ------------------------------------------------------------------- registry

TEST(BatchPolicy, RegistryBuildsTheThreePolicies) {
  auto names = aifsim::hpc::batch_policy_names();
  for (const char* n : {"fcfs", "easy", "conservative"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    EXPECT_EQ(aifsim::hpc::make_batch_policy(n)->name(), n);
  }
  EXPECT_ANY_THROW(aifsim::hpc::make_batch_policy("lottery"));
}

TEST(BatchPolicy, EveryPolicyDoesNothingOnAnEmptyQueue) {
  for (const char* p : {"fcfs", "easy", "conservative"}) {
    SCOPED_TRACE(p);
    expect_outcome(run_pick(p, {{4, 100.0}}, {}, 0.0), {}, {});
  }
}

// ------------------------------------------------------------------- 1. FCFS

// The spec makes no promise about FCFS reservations: only the starts are checked.
TEST(BatchPolicy, FcfsStartsFromTheHeadAndTheFirstMisfitBlocksEveryoneBehind) {
  struct FcfsCase {
    const char* what;
    std::vector<Running> running;
    std::vector<Waiting> queue;
    std::vector<std::size_t> start;
  };
  const std::vector<FcfsCase> cases = {
      // 10 free. A(6) starts, 4 free. B(6) > 4: blocks. C(2) would fit in 4 but waits.
      {"small job behind blocked head waits", {}, {{6, 100}, {6, 100}, {2, 10}}, {0}},
      // R:5 running -> 5 free. A(3) starts, 2 free. B(3) > 2 blocks; C(1) would fit, waits.
      {"running jobs reduce what is free", {{5, 100}}, {{3, 100}, {3, 100}, {1, 10}}, {0}},
      // 10 free. A(3) -> 7, B(3) -> 4, C(4) -> 0: all three start.
      {"all fit exactly", {}, {{3, 100}, {3, 100}, {4, 100}}, {0, 1, 2}},
      // R:8 -> 2 free. Head A(3) > 2: nothing starts, although B(1) would fit.
      {"blocked head, nothing starts", {{8, 50}}, {{3, 10}, {1, 1}}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(run_pick("fcfs", c.running, c.queue, 0.0).start, c.start);
  }
}

// ------------------------------------------------------------------- 2-4. EASY

TEST(BatchPolicy, EasyBackfillsAJobThatEndsByTheShadowTime) {
  run_cases("easy",
            {
                // now=20, R:7 ->100, 3 free. H:9 > 3 waits. Shadow: R ends at 100 -> 3+7=10 >= 9:
                // shadow 100, extra 10-9 = 1. A:2/80 fits (2 <= 3) and ends at 20+80 = 100 <= 100:
                // backfills by rule 1 although its width 2 exceeds the extra 1.
                {"ends exactly at the shadow", {{7, 100}}, {{9, 50}, {2, 80}}, 20.0, {1}, {{0, 100.0}}},
                // Same with A:2/81: ends at 101 > 100 and 2 > extra 1 -> waits.
                {"ends one second after the shadow", {{7, 100}}, {{9, 50}, {2, 81}}, 20.0, {}, {{0, 100.0}}},
                // now=0, R:4 ->100, 6 free. H:8 > 6. Shadow 100 (6+4=10 >= 8), extra 2.
                // A:2/50 ends at 50 <= 100: backfills (free 4) and does NOT consume extra (still 2).
                // B:2/500 ends after the shadow; 2 <= extra 2: backfills (free 2, extra 0).
                // C:2/500 fits now (2 <= 2) but ends after the shadow and 2 > extra 0: waits.
                {"short backfill does not consume extra",
                 {{4, 100}},
                 {{8, 100}, {2, 50}, {2, 500}, {2, 500}},
                 0.0,
                 {1, 2},
                 {{0, 100.0}}},
                // now=10, R1:3 ->50, R2:4 ->120, 3 free. H:8 > 3. By requested ends: at 50, 3+3=6 < 8;
                // at 120, 6+4 = 10 >= 8: shadow 120, extra 2. A:2/100 ends at 110 <= 120: backfills,
                // free 1. B:2/30 > 1 free: waits.
                {"shadow over several running jobs",
                 {{3, 50}, {4, 120}},
                 {{8, 100}, {2, 100}, {2, 30}},
                 10.0,
                 {1},
                 {{0, 120.0}}},
                // now=0, nothing running, 10 free. A:4/30 starts (6), B:4/80 starts (2). H:6 > 2.
                // Ends of what runs now: A at 30 -> 2+4 = 6 >= 6: shadow 30, extra 0 (B's end at 80
                // is not needed). C:2/30 ends at 30 <= 30: backfills (free 0). D:2/200: nothing free.
                {"shadow counts the jobs started in this pass",
                 {},
                 {{4, 30}, {4, 80}, {6, 100}, {2, 30}, {2, 200}},
                 0.0,
                 {0, 1, 3},
                 {{2, 30.0}}},
            });
}

TEST(BatchPolicy, EasyBackfillsLongJobsOnlyOnTheExtraUnits) {
  run_cases("easy",
            {
                // now=0, R:5 ->100, 5 free. H:7 > 5. Shadow 100 (5+5 = 10 >= 7), extra 3.
                // B:2/500 fits (2 <= 5), ends after shadow, 2 <= extra 3: backfills; free 3, extra 1.
                // C:2/500 fits now (2 <= 3) but ends after shadow and 2 > extra 1: waits.
                // D:1/500 fits (1 <= 3), 1 <= extra 1: backfills; free 2, extra 0.
                {"second long job exceeds the remaining extra",
                 {{5, 100}},
                 {{7, 100}, {2, 500}, {2, 500}, {1, 500}},
                 0.0,
                 {1, 3},
                 {{0, 100.0}}},
            });
}

TEST(BatchPolicy, EasyJobThatWouldDelayTheHeadWaits) {
  run_cases("easy",
            {
                // now=0, R:6 ->100, 4 free. H:8 > 4. Shadow 100 (4+6 = 10 >= 8), extra 2.
                // X:3/200 fits now (3 <= 4) but ends at 200 > 100 and 3 > extra 2: starting it would
                // leave only 7 units at t=100 for H(8). It waits.
                {"wider than extra and ends after the shadow", {{6, 100}}, {{8, 50}, {3, 200}}, 0.0, {}, {{0, 100.0}}},
                // Same with X:2/200: 2 <= extra 2, H still gets 8 at t=100: backfills.
                {"control: within the extra it backfills", {{6, 100}}, {{8, 50}, {2, 200}}, 0.0, {1}, {{0, 100.0}}},
            });
}

TEST(BatchPolicy, EasyNeverPromisesAStartInThePast) {
  // Overrun mode: R:8 was expected to end at 100 but at now=150 it still runs; 2 free.
  // H:6 > 2 waits. R's requested end is past, so the earliest start that can still be
  // promised is now: 150 (promising 100 would be a start in the past).
  run_cases("easy", {{"overrunning job", {{8, 100}}, {{6, 50}}, 150.0, {}, {{0, 150.0}}}});
}

// ------------------------------------------------------------------- conservative

TEST(BatchPolicy, ConservativeReservesEveryWaitingJobInQueueOrder) {
  run_cases("conservative",
            {
                // now=0, R:8 ->100, 2 free.
                // H:10/50: needs all 10, free only from 100: reserved at 100, holds [100,150).
                // B:2/500: 2 free on [0,100) but it would overlap H's [100,150): earliest 150.
                // C:2/100: on [0,100) 2 are free and it ends exactly at 100 when H starts: slot = now,
                // so it starts.
                {"hole before the head",
                 {{8, 100}},
                 {{10, 50}, {2, 500}, {2, 100}},
                 0.0,
                 {2},
                 {{0, 100.0}, {1, 150.0}}},
                // now=0, nothing running. A:6/100: slot 0, starts; [0,100) has 4 left.
                // B:6/100: [0,100) has 4 -> reserved at 100; [100,200) has 4 left.
                // C:4/150: [0,100) 4 free, [100,150) 4 free: slot 0, starts; now [0,150) has 0.
                // D:1/10: [0,100) 0, [100,150) 0 (10-6-4), [150,200) 4 (B only): reserved at 150.
                {"a job behind a reservation",
                 {},
                 {{6, 100}, {6, 100}, {4, 150}, {1, 10}},
                 0.0,
                 {0, 2},
                 {{1, 100.0}, {3, 150.0}}},
            });
}

TEST(BatchPolicy, ConservativeProtectsTheSecondJobWhereEasyDoesNot) {
  // now=0, R:8 ->100, 2 free. Queue H:5/100, J:5/100, X:2/1000.
  const std::vector<Running> running = {{8, 100}};
  const std::vector<Waiting> queue = {{5, 100}, {5, 100}, {2, 1000}};
  // EASY: H:5 > 2. Shadow 100 (2+8 = 10 >= 5), extra 5. J:5 > 2 free: skipped.
  // X:2 fits, ends at 1000 > 100 but 2 <= extra 5: backfills. (It will hold 2 units until
  // 1000, so at t=100 only 8 are free: H gets 5, J does not fit: J is delayed.)
  expect_outcome(run_pick("easy", running, queue, 0.0), {2}, {{0, 100.0}});
  // Conservative: H at 100 ([100,200) 5 left), J at 100 ([100,200) 0 left); X fits on
  // [0,100) but would overlap [100,200): earliest 200. Nothing starts.
  expect_outcome(run_pick("conservative", running, queue, 0.0), {}, {{0, 100.0}, {1, 100.0}, {2, 200.0}});
}

TEST(BatchPolicy, ConservativeCompressionMovesReservationsEarlier) {
  // At an earlier pass R:8 (requested until 100) ran: H:10/50 was reserved at 100 and
  // B:2/500 at 150. R ended early; now=50, nothing runs, 10 free.
  // H is re-placed: [50,100) free -> slot 50 = now: starts (holds [50,100)).
  // B is re-placed: [50,100) is taken by H, from 100 all free -> 100 (was 150).
  run_cases("conservative", {{"running job ended early",
                              {},
                              {{10, 50, 100.0}, {2, 500, 150.0}},
                              50.0,
                              {0},
                              {{1, 100.0}},
                              /*released_early=*/true}});
  // Had nothing ended early, no slot could improve and the promises would stand.
  run_cases("conservative", {{"nothing released early", {}, {{10, 50, 100.0}, {2, 500, 150.0}}, 50.0, {}, {{0, 100.0}, {1, 150.0}}}});
}

TEST(BatchPolicy, ConservativeNewSlotIsNeverLaterThanThePreviousOne) {
  // At t=0: R1:6 ->100 and R2:4 ->200 ran. A:10/100 needed all 10: reserved at 200.
  // B:6/100 fit on [100,200) (R1 gone, R2 holds 4): reserved at 100, ahead of A.
  // Now=50: R2 ended early; R1:6 ->100 runs, 4 free. Reservations carried: A 200, B 100.
  // A is re-placed while B still holds [100,200): [50,100) 4 free, [100,200) 4 free ->
  // A stays at 200 (re-placing from scratch would give A 100 and push B to 200, later than
  // its promise). B is re-placed: [50,100) only 4; from 100: [100,200) 10 free -> 100.
  const std::vector<Waiting> queue = {{10, 100, 200.0}, {6, 100, 100.0}};
  Outcome got = run_pick("conservative", {{6, 100}}, queue, 50.0, /*released_early=*/true);
  expect_outcome(got, {}, {{0, 200.0}, {1, 100.0}});
  for (std::size_t i = 0; i < queue.size(); ++i)
    if (got.reserve.count(i)) {
      EXPECT_LE(got.reserve.at(i), *queue[i].reservation_s) << "position " << i;
    }
}

}  // namespace
