// End-to-end tests of the batch stack: an in-memory job stream, the real engine, the
// real policies and BatchMetrics as the recorder. Every start and end time below is
// worked out by hand in the comment of its case. All machines have 10 procs (width =
// procs). Notation: "R(8, 100s)" = 8 procs running 100 s; "req" = requested time.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/engine.hpp"
#include "hpc/batch_stack.hpp"
#include "metrics/batch_metrics.hpp"
#include "metrics/batch_recorder.hpp"
#include "workload/job_request.hpp"

namespace {

using aifsim::hpc::BatchConfig;
using aifsim::metrics::JobRecord;
using aifsim::workload::JobRequest;

constexpr int kCapacity = 10;

// One trace line: index is its position in the list.
struct Job {
  double submit_s;
  std::optional<std::int64_t> procs;
  std::optional<double> runtime_s;
  std::optional<double> requested_s = std::nullopt;
};

class VectorSource final : public aifsim::workload::JobSource {
 public:
  explicit VectorSource(std::vector<JobRequest> jobs) : jobs_(std::move(jobs)) {}
  std::optional<JobRequest> next() override {
    if (next_ == jobs_.size()) return std::nullopt;
    return jobs_[next_++];
  }

 private:
  std::vector<JobRequest> jobs_;
  std::size_t next_ = 0;
};

struct RunResult {
  std::map<std::uint64_t, JobRecord> records;  // by trace index
  std::uint64_t jobs_entered = 0;
};

BatchConfig config_for(const std::string& scheduler, bool kill_at_limit = true) {
  BatchConfig c;
  c.scheduler = scheduler;
  c.unit = aifsim::hpc::ResourceUnit::PROCS;
  c.capacity = kCapacity;
  c.kill_at_limit = kill_at_limit;
  return c;
}

RunResult simulate(const BatchConfig& config, const std::vector<Job>& jobs) {
  std::vector<JobRequest> requests;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    JobRequest r;
    r.index = i;
    r.id = static_cast<std::int64_t>(i) + 1;
    r.submit_s = jobs[i].submit_s;
    r.runtime_s = jobs[i].runtime_s;
    r.requested_s = jobs[i].requested_s;
    r.procs = jobs[i].procs;
    r.origin = "test:" + std::to_string(i + 1);
    requests.push_back(r);
  }
  VectorSource source(std::move(requests));
  aifsim::engine::Engine engine;
  aifsim::metrics::BatchMetrics metrics(aifsim::metrics::BatchMetricsOptions{std::nullopt, /*keep_records=*/true, 10.0});
  aifsim::hpc::BatchStack stack(engine, config, source, metrics);
  stack.start();
  engine.run();
  stack.check_drained();
  metrics.finish(stack.stats().jobs_entered);  // throws unless every entered job ended
  RunResult out;
  out.jobs_entered = stack.stats().jobs_entered;
  for (const auto& r : metrics.records()) {
    EXPECT_FALSE(out.records.count(r.index)) << "job " << r.index << " reported twice";
    out.records[r.index] = r;
  }
  EXPECT_EQ(out.jobs_entered, jobs.size());
  EXPECT_EQ(out.records.size(), jobs.size());
  return out;
}

struct Expect {
  double start_s;
  double end_s;
  const char* state = "completed";
};

void expect_schedule(const RunResult& got, const std::vector<Expect>& want) {
  ASSERT_EQ(got.records.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("job index " + std::to_string(i));
    ASSERT_TRUE(got.records.count(i));
    const JobRecord& r = got.records.at(i);
    EXPECT_EQ(r.state, want[i].state);
    ASSERT_TRUE(r.start_s.has_value());
    ASSERT_TRUE(r.end_s.has_value());
    EXPECT_DOUBLE_EQ(*r.start_s, want[i].start_s);
    EXPECT_DOUBLE_EQ(*r.end_s, want[i].end_s);
  }
}

struct PolicyRow {
  const char* scheduler;
  std::vector<Expect> schedule;
};

void run_rows(const std::vector<Job>& jobs, const std::vector<PolicyRow>& rows, bool kill_at_limit = true) {
  for (const auto& row : rows) {
    SCOPED_TRACE(row.scheduler);
    expect_schedule(simulate(config_for(row.scheduler, kill_at_limit), jobs), row.schedule);
  }
}

// ---------------------------------------------------------------- 1. FCFS blocking

TEST(BatchStack, FcfsSmallJobBehindBlockedHeadWaitsButBackfillersStartIt) {
  // A(6, 100s), B(6, 100s), C(2, 10s), all at t=0, requested = runtime.
  const std::vector<Job> jobs = {{0, 6, 100, 100}, {0, 6, 100, 100}, {0, 2, 10, 10}};
  run_rows(jobs, {
                     // FCFS: t=0 A starts (4 free); B(6) does not fit and blocks C(2).
                     // t=100 A ends, 10 free: B starts (4 free), C starts (2 free); C ends 110.
                     {"fcfs", {{0, 100}, {100, 200}, {100, 110}}},
                     // EASY: t=0 A starts; B blocked, shadow 100 (A's end), extra 10-6 = 4.
                     // C ends at 10 <= 100: backfills at 0, ends 10. t=100: B starts.
                     {"easy", {{0, 100}, {100, 200}, {0, 10}}},
                     // Conservative: A at 0; B at 100; C on [0,10) has 4 free: starts at 0.
                     {"conservative", {{0, 100}, {100, 200}, {0, 10}}},
                 });
}

// ---------------------------------------------------------------- 5. EASY reservation honoured

TEST(BatchStack, EasyHeadStartsExactlyAtItsShadowTimeAfterBackfills) {
  const std::vector<Job> jobs = {
      {0, 8, 100, 100},   // 0 R
      {10, 6, 50, 50},    // 1 H
      {20, 2, 40, 60},    // 2 A (finishes early: runtime 40 < requested 60)
      {30, 2, 300, 300},  // 3 B
      {30, 4, 10, 10},    // 4 C
  };
  // EASY:
  // t=0   R starts, 2 free.
  // t=10  H(6) > 2: head, shadow = 100 (R's requested end: 2+8 = 10 >= 6), extra 4.
  // t=20  A(2) fits, 20+60 = 80 <= 100: backfills (rule 1), 0 free.
  // t=30  B, C arrive: nothing free.
  // t=60  A completes (40 s): 2 free. H still head, shadow 100, extra 4. B(2) fits, ends at
  //       360 > 100 but 2 <= extra 4: backfills (rule 2), 0 free, extra 2. C: nothing free.
  // t=100 R ends: 8 free. H starts at 100 = its shadow time (2 free). C(4) > 2: head,
  //       shadow = 150 (H's end: 2+6 = 8 >= 4).
  // t=150 H ends: C starts, ends 160. B ends 360.
  const std::vector<Expect> easy = {{0, 100}, {100, 150}, {20, 60}, {60, 360}, {150, 160}};
  RunResult got = simulate(config_for("easy"), jobs);
  expect_schedule(got, easy);
  // The reservation given to H at t=10 (100) is honoured, and both backfilled jobs
  // started before it.
  EXPECT_DOUBLE_EQ(*got.records.at(1).start_s, 100.0);
  EXPECT_LT(*got.records.at(2).start_s, *got.records.at(1).start_s);
  EXPECT_LT(*got.records.at(3).start_s, *got.records.at(1).start_s);

  // Contrast, FCFS: A, B, C wait behind H. t=100: R ends, 10 free: H (4 left), A (2 left),
  // B (0 left) start; C(4) waits. t=140 A ends (2 free); t=150 H ends (8 free): C starts.
  expect_schedule(simulate(config_for("fcfs"), jobs), {{0, 100}, {100, 150}, {100, 140}, {100, 400}, {150, 160}});
  // Conservative: t=10 H at 100. t=20 A on [20,80) where 2 are free: starts. t=30 B(2,300)
  // reserved at 80 ([80,100) 2 free, [100,150) 4 free, then 10), C(4,10) at 150.
  // t=60 A ends early; compression: H stays 100, B moves to 60 = now: starts; C stays 150.
  // Same starts as EASY.
  expect_schedule(simulate(config_for("conservative"), jobs), easy);
}

// ---------------------------------------------------------------- 6. overrun: kill vs run

TEST(BatchStack, OverrunKilledAtLimitVersusRunToCompletion) {
  const std::vector<Job> jobs = {
      {0, 6, 150, 100},  // 0 O: runs 150 s but requested only 100 s
      {0, 6, 50, 50},    // 1 F
      {0, 4, 60, 60},    // 2 G
      {120, 4, 10, 10},  // 3 H
  };
  // Killed at the limit (default):
  //  EASY/conservative: t=0 O starts (4 free); F(6) waits for 100 (O's requested end);
  //   G(4, 60s) ends at 60 <= 100: backfills at 0. t=100 O is killed: "timeout", end 100;
  //   F starts 100, ends 150. t=120 H(4) fits in the 4 free: 120-130.
  //  FCFS: t=0 O starts, F blocks G. t=100 O killed: F (4 left) and G (0 left) start;
  //   F ends 150, G 160. t=120 H waits (0 free); t=150 F ends: H 150-160.
  run_rows(jobs,
           {
               {"easy", {{0, 100, "timeout"}, {100, 150}, {0, 60}, {120, 130}}},
               {"conservative", {{0, 100, "timeout"}, {100, 150}, {0, 60}, {120, 130}}},
               {"fcfs", {{0, 100, "timeout"}, {100, 150}, {100, 160}, {150, 160}}},
           },
           /*kill_at_limit=*/true);
  // --overrun run: O completes at 0+150 = 150, so F is delayed from 100 to 150.
  //  EASY/conservative: as above until t=100, where nothing happens. t=120: 4 free, F(6)
  //   still blocked; H(4, 10s) fits and cannot delay F (F cannot start before O ends, and
  //   H ends at 130): H 120-130. t=150 O completes: F 150-200.
  //  FCFS: t=150 O completes: F (4 left), G (0 left) start; H waits; t=200 F ends: H 200-210.
  run_rows(jobs,
           {
               {"easy", {{0, 150}, {150, 200}, {0, 60}, {120, 130}}},
               {"conservative", {{0, 150}, {150, 200}, {0, 60}, {120, 130}}},
               {"fcfs", {{0, 150}, {150, 200}, {150, 210}, {200, 210}}},
           },
           /*kill_at_limit=*/false);
}

// ---------------------------------------------------------------- 7. EASY vs conservative

TEST(BatchStack, EasyDelaysTheSecondJobWhichConservativeProtects) {
  const std::vector<Job> jobs = {
      {0, 8, 100, 100},    // 0 R
      {0, 5, 100, 100},    // 1 H
      {0, 5, 100, 100},    // 2 J
      {0, 2, 1000, 1000},  // 3 X
  };
  run_rows(jobs, {
                     // EASY: t=0 R starts (2 free). H(5) blocked: shadow 100 (2+8 = 10), extra 5.
                     // J(5) > 2 free: skipped. X(2) fits, ends at 1000 > 100 but 2 <= extra 5:
                     // backfills at 0 (until 1000). t=100 R ends: 8 free: H starts (3 free);
                     // J(5) > 3 waits for H: shadow 200. t=200: J starts, ends 300.
                     {"easy", {{0, 100}, {100, 200}, {200, 300}, {0, 1000}}},
                     // Conservative: t=0 R starts; H reserved at 100, J at 100 (5+5 on [100,200));
                     // X would overlap [100,200): reserved at 200. t=100: H and J start.
                     // t=200: X starts, ends 1200.
                     {"conservative", {{0, 100}, {100, 200}, {100, 200}, {200, 1200}}},
                     // FCFS: H blocks J and X; t=100 H, J start (0 free); t=200 X starts.
                     {"fcfs", {{0, 100}, {100, 200}, {100, 200}, {200, 1200}}},
                 });
}

// ---------------------------------------------------------------- 8. conservative compression

TEST(BatchStack, ConservativeCompressionAfterAnEarlyFinish) {
  const std::vector<Job> jobs = {
      {0, 10, 50, 200},   // 0 R: requests 200 s, finishes after 50 s
      {0, 6, 100, 100},   // 1 A
      {0, 6, 100, 100},   // 2 B
      {0, 4, 150, 150},   // 3 C
  };
  // Conservative:
  // t=0  R starts (0 free, planned until 200). A reserved at 200 ([200,300) 4 left);
  //      B: [200,300) has 4 < 6 -> 300; C(4,150): [200,300) 4, [300,400) 4 -> 200.
  // t=50 R ends early. Compression: A re-placed -> 50 = now: starts ([50,150) 4 left).
  //      B: [50,150) 4 < 6; from 150: [150,200) 10, [200,250) 6 (C's old slot) -> 150.
  //      C: [50,150) 4, [150,250) 4 (B), then 10: fits from 50: starts, ends 200.
  // t=150 A ends: 6 free: B starts, ends 250.
  // Without compression A would start at 200, B at 300 and C at 200.
  const std::vector<Expect> expected = {{0, 50}, {50, 150}, {150, 250}, {50, 200}};
  run_rows(jobs, {
                     {"conservative", expected},
                     // EASY agrees: t=50 A starts (4 free); B blocked, shadow 150, extra 4;
                     // C ends at 200 > 150 but 4 <= extra 4: backfills at 50.
                     {"easy", expected},
                 });
}

// ---------------------------------------------------------------- 9. rejections

TEST(BatchStack, RejectionsAreRecordedAndEveryJobReachesATerminalState) {
  const std::vector<Job> jobs = {
      {0, 12, 10, 10},                      // 0: 12 procs > 10: wider_than_machine
      {0, 10, 30, 30},                      // 1: exactly the machine: runs 0-30
      {5, std::nullopt, 10, 10},            // 2: unknown_size
      {5, 4, std::nullopt, 100},            // 3: unknown_runtime
      {10, 4, 20, 20},                      // 4: waits for job 1: runs 30-50
  };
  // Rejected jobs take no units and never block the queue: job 4 arrives at 10 with 0 free
  // (job 1 holds all 10) and starts when job 1 ends at 30, under every policy.
  struct Rejected {
    std::uint64_t index;
    const char* reason;
  };
  const std::vector<Rejected> rejected = {{0, "wider_than_machine"}, {2, "unknown_size"}, {3, "unknown_runtime"}};
  for (const char* scheduler : {"fcfs", "easy", "conservative"}) {
    SCOPED_TRACE(scheduler);
    RunResult got = simulate(config_for(scheduler), jobs);
    EXPECT_EQ(got.jobs_entered, 5u);
    for (const auto& [index, r] : got.records)
      EXPECT_TRUE(r.state == "completed" || r.state == "timeout" || r.state == "rejected") << r.state;
    for (const auto& rej : rejected) {
      SCOPED_TRACE("job index " + std::to_string(rej.index));
      ASSERT_TRUE(got.records.count(rej.index));
      const JobRecord& r = got.records.at(rej.index);
      EXPECT_EQ(r.state, "rejected");
      EXPECT_EQ(r.reason, rej.reason);
      EXPECT_FALSE(r.start_s.has_value());
      EXPECT_FALSE(r.end_s.has_value());
    }
    for (std::uint64_t i : {1u, 4u}) {
      EXPECT_EQ(got.records.at(i).state, "completed");
      EXPECT_EQ(got.records.at(i).reason, "");
    }
    EXPECT_DOUBLE_EQ(*got.records.at(1).start_s, 0.0);
    EXPECT_DOUBLE_EQ(*got.records.at(1).end_s, 30.0);
    EXPECT_DOUBLE_EQ(*got.records.at(4).start_s, 30.0);
    EXPECT_DOUBLE_EQ(*got.records.at(4).end_s, 50.0);
  }
}

TEST(BatchStack, StrictModeTurnsARejectionIntoAnInputError) {
  BatchConfig config = config_for("easy");
  config.strict = true;
  EXPECT_THROW(simulate(config, {{0, 12, 10, 10}}), aifsim::InputError);
}

// ---------------------------------------------------------------- 10. same-instant arrivals

TEST(BatchStack, SameInstantArrivalsAreScheduledTogetherInSubmitOrder) {
  const std::vector<Job> jobs = {
      {0, 4, 50, 50},  // 0 A: ends at 50
      {50, 8, 30},     // 1 B
      {50, 2, 0},      // 2 C: runtime 0
      {50, 3, 20},     // 3 D
  };
  // t=0  A starts (6 free).
  // t=50 B, C, D arrive and A completes; one pass sees all of it: 10 free, queue [B, C, D]
  //      in submit order: B(8) starts (2 free), C(2) starts (0 free), D(3) does not fit.
  //      (Reversed order would start D and C and block B.) C runs 0 s: it completes at 50,
  //      its start time; 2 free, still < 3 for D.
  // t=80 B ends: D starts, ends 100.
  // EASY: D's shadow is 80 (C's end at 50 frees 2, B's at 80 frees 8): no backfill candidate.
  // Conservative: D reserved at 80. All three policies agree.
  const std::vector<Expect> expected = {{0, 50}, {50, 80}, {50, 50}, {80, 100}};
  run_rows(jobs, {{"fcfs", expected}, {"easy", expected}, {"conservative", expected}});
}

TEST(BatchStack, PassRunsAfterEveryArrivalAndCompletionOfTheInstant) {
  const std::vector<Job> jobs = {
      {0, 4, 1000, 1000},  // 0 R
      {0, 6, 20, 20},      // 1 P
      {0, 4, 30, 1000},    // 2 A: requests 1000 s, completes 30 s after its start
      {0, 6, 100, 100},    // 3 H
      {50, 2, 10, 10},     // 4 L
  };
  // t=0  R (6 free) and P (0 free) start. A(4) and H(6) wait.
  // t=20 P ends: A starts (2 free), ends at 50. H(6) > 2 waits.
  // t=50 L arrives and A completes at the same instant. L's arrival was posted when H
  //      arrived (t=0), before A started (t=20), so it is dispatched first. One pass after
  //      both: 6 free, queue [H, L]: H starts (0 free); L waits.
  //      A pass run at L's arrival alone would see 2 free, H's shadow at 1000 (R's end),
  //      backfill L (ends 60 <= 1000) and delay H to 60.
  // t=150 H ends: L starts, ends 160. R ends 1000.
  const std::vector<Expect> expected = {{0, 1000}, {0, 20}, {20, 50}, {50, 150}, {150, 160}};
  run_rows(jobs, {{"easy", expected}, {"conservative", expected}, {"fcfs", expected}});
}

// ---------------------------------------------------------------- default estimate

TEST(BatchStack, JobWithoutRequestedTimeIsPlannedWithItsRuntime) {
  const std::vector<Job> jobs = {
      {0, 6, 100},  // 0 R: no requested time -> planned until 100
      {0, 10, 10},  // 1 H
      {0, 2, 100},  // 2 A
      {0, 2, 101},  // 3 B
  };
  // EASY: t=0 R starts (4 free). H(10) blocked: shadow = 100 (R's runtime stands in for its
  // limit), extra 0. A(2) ends at 100 <= 100: backfills (2 free). B(2) ends at 101 > 100 and
  // 2 > extra 0: waits. t=100 R and A complete (never killed: limit = runtime): H starts
  // (0 free), B waits. t=110 H ends: B starts, ends 211.
  run_rows(jobs, {{"easy", {{0, 100}, {100, 110}, {0, 100}, {110, 211}}}});
}

}  // namespace
