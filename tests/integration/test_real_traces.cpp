// Invariants of whole real traces under every policy: every job that enters leaves in
// a terminal state, no job starts before it is submitted, the machine's capacity is
// never exceeded, and each job runs exactly as long as its state says.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "engine/engine.hpp"
#include "hpc/batch_stack.hpp"
#include "metrics/batch_metrics.hpp"
#include "workload/swf.hpp"
#include "workload/swf_source.hpp"

using namespace aifsim;

namespace {

struct TraceCase {
  std::string file;
  int capacity;
};
void PrintTo(const TraceCase& c, std::ostream* os) { *os << c.file << " on " << c.capacity; }

struct Outcome {
  std::vector<metrics::JobRecord> records;
  std::uint64_t trace_jobs = 0;
  std::uint64_t entered = 0;
};

Outcome replay(const TraceCase& c, const std::string& policy, bool kill) {
  std::string path = std::string(AIFSIM_SOURCE_DIR) + "/workloads/swf/" + c.file;
  Outcome out;
  {
    workload::SwfReader reader(path);
    while (reader.next()) ++out.trace_jobs;
  }
  engine::Engine engine;
  workload::SwfJobSource source(path);
  metrics::BatchMetrics metrics({std::nullopt, true, 10.0});
  hpc::BatchConfig config;
  config.scheduler = policy;
  config.capacity = c.capacity;
  config.kill_at_limit = kill;
  hpc::BatchStack stack(engine, config, source, metrics);
  stack.start();
  engine.run();
  stack.check_drained();
  metrics.finish(stack.stats().jobs_entered);
  out.entered = stack.stats().jobs_entered;
  out.records = metrics.records();
  return out;
}

void check_invariants(const Outcome& o, int capacity, bool kill, const std::string& label) {
  ASSERT_EQ(o.entered, o.trace_jobs) << label;
  ASSERT_EQ(o.records.size(), o.trace_jobs) << label;
  std::vector<std::tuple<double, int, int>> events;  // (time, 0 = end first, delta)
  std::vector<bool> seen(o.trace_jobs, false);
  for (const auto& r : o.records) {
    ASSERT_LT(r.index, o.trace_jobs);
    ASSERT_FALSE(seen[r.index]) << label << ": job " << r.id << " ended twice";
    seen[r.index] = true;
    if (r.state == "rejected") {
      EXPECT_FALSE(r.start_s) << label;
      EXPECT_FALSE(r.reason.empty()) << label;
      continue;
    }
    ASSERT_TRUE(r.start_s && r.end_s) << label;
    EXPECT_GE(*r.start_s, r.submit_s) << label << ": job " << r.id << " started before submission";
    double ran = *r.end_s - *r.start_s;
    if (r.state == "timeout") {
      EXPECT_TRUE(kill) << label;
      EXPECT_DOUBLE_EQ(ran, *r.requested_s) << label << ": job " << r.id;
      EXPECT_GT(*r.runtime_s, *r.requested_s) << label;
    } else {
      EXPECT_EQ(r.state, "completed") << label;
      EXPECT_DOUBLE_EQ(ran, *r.runtime_s) << label << ": job " << r.id;
    }
    EXPECT_GE(r.width, 1) << label;
    if (ran == 0) continue;  // occupies the machine for no time
    events.emplace_back(*r.start_s, 1, r.width);
    events.emplace_back(*r.end_s, 0, -r.width);
  }
  std::sort(events.begin(), events.end());
  long long used = 0;
  for (const auto& [t, order, delta] : events) {
    used += delta;
    ASSERT_LE(used, capacity) << label << ": capacity exceeded at t=" << t;
    ASSERT_GE(used, 0) << label;
  }
}

class RealTrace : public ::testing::TestWithParam<std::tuple<TraceCase, std::string, bool>> {};

TEST_P(RealTrace, Invariants) {
  const auto& [trace, policy, kill] = GetParam();
  auto outcome = replay(trace, policy, kill);
  check_invariants(outcome, trace.capacity, kill, trace.file + "/" + policy);
  if (policy == "fcfs") {
    // FCFS starts jobs in queue (submit) order.
    auto records = outcome.records;
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    double last = 0;
    for (const auto& r : records) {
      if (!r.start_s) continue;
      EXPECT_GE(*r.start_s, last) << "job " << r.id;
      last = *r.start_s;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shipped, RealTrace,
    ::testing::Combine(::testing::Values(TraceCase{"NASA-iPSC-1993-3.1-cln.swf.gz", 128},
                                         TraceCase{"lublin_256.swf.gz", 256},
                                         TraceCase{"LLNL-Atlas-2006-2.1-cln.swf.gz", 9216},
                                         TraceCase{"LANL-CM5-1994-4.1-cln.swf.gz", 1024}),
                       ::testing::Values("fcfs", "easy", "conservative"), ::testing::Values(true, false)),
    [](const auto& param_info) {
      std::string name = std::get<0>(param_info.param).file.substr(0, 4) + "_" + std::get<1>(param_info.param) +
                         (std::get<2>(param_info.param) ? "_kill" : "_run");
      for (auto& ch : name)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

// Backfilling exists to cut waits: on the real traces, EASY must not wait longer on
// average than FCFS (a wrong EASY, e.g. one that lets backfills delay the head, shows here).
TEST(RealTraceComparison, BackfillingBeatsFcfsOnMeanWait) {
  for (const auto& c : {TraceCase{"NASA-iPSC-1993-3.1-cln.swf.gz", 128}, TraceCase{"lublin_256.swf.gz", 256}}) {
    auto mean_wait = [&](const std::string& policy) {
      auto o = replay(c, policy, true);
      double sum = 0;
      int n = 0;
      for (const auto& r : o.records)
        if (r.start_s) sum += *r.start_s - r.submit_s, ++n;
      return sum / n;
    };
    double fcfs = mean_wait("fcfs"), easy = mean_wait("easy"), conservative = mean_wait("conservative");
    EXPECT_LT(easy, fcfs) << c.file;
    EXPECT_LT(conservative, fcfs) << c.file;
  }
}

}  // namespace
