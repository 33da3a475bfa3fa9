// The inference replica: one request's timeline worked from the cost model by hand; event
// skipping equal to iteration-by-iteration stepping on workloads that preempt, chunk,
// time out and swap; routers; every request ends in a recorded state.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>
#include <random>

#include "core/error.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"
#include "serving/service.hpp"

using namespace aifsim;
using namespace aifsim::serving;

namespace {

const std::string SRC = AIFSIM_SOURCE_DIR;

struct Fixture {
  gpu::GpuModel gpu{gpu::load_profile(SRC + "/calibration/profiles/h100-sxm.json")};
  gpu::TransformerCost cost{gpu, gpu::load_model_card(SRC + "/workloads/models/llama3-8b.json"), 1};
};

struct Collect : RequestSink {
  std::map<std::uint64_t, RequestResult> results;
  std::uint64_t gap_tokens = 0;
  void on_request_done(const RequestResult& r) override {
    EXPECT_TRUE(results.emplace(r.request.id, r).second) << "request " << r.request.id << " reported twice";
  }
  void on_token_gaps(double, int tokens) override { gap_tokens += static_cast<std::uint64_t>(tokens); }
};

std::vector<Request> workload(int n, double rate, int max_prompt, int max_output, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  std::uniform_int_distribution<int> prompt(1, max_prompt), output(1, max_output);
  std::vector<Request> out;
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += gap(rng);
    out.push_back(Request{static_cast<std::uint64_t>(i + 1), t, prompt(rng), output(rng), static_cast<std::uint64_t>(i % 7)});
  }
  return out;
}

std::map<std::uint64_t, RequestResult> run(const Fixture& f, ServiceConfig config, const std::vector<Request>& requests,
                                           ReplicaStats* stats = nullptr) {
  engine::Engine engine;
  Collect sink;
  Service service(engine, f.cost, f.gpu, config, sink);
  std::size_t next = 0;
  service.stream([&]() -> std::optional<Request> {
    if (next == requests.size()) return std::nullopt;
    return requests[next++];
  });
  engine.run();
  if (stats) *stats = service.replicas()[0]->stats();
  EXPECT_EQ(sink.results.size(), requests.size()) << "a request was lost";
  return sink.results;
}

void expect_same(const std::map<std::uint64_t, RequestResult>& a, const std::map<std::uint64_t, RequestResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [id, x] : a) {
    const auto& y = b.at(id);
    EXPECT_EQ(x.outcome, y.outcome) << id;
    EXPECT_EQ(x.replica, y.replica) << id;
    EXPECT_EQ(x.preemptions, y.preemptions) << id;
    auto same = [](double p, double q) { return (std::isnan(p) && std::isnan(q)) || p == q; };
    EXPECT_TRUE(same(x.first_token_s, y.first_token_s)) << id << ": " << x.first_token_s << " vs " << y.first_token_s;
    EXPECT_TRUE(same(x.finish_s, y.finish_s)) << id << ": " << x.finish_s << " vs " << y.finish_s;
    EXPECT_TRUE(same(x.first_scheduled_s, y.first_scheduled_s)) << id;
  }
}

}  // namespace

// One request alone: its prompt is one prefill iteration (a chunk of P tokens, no cached
// context), which samples the first token; then G - 1 decode iterations of batch 1 whose
// context grows from P to P + G - 2.
TEST(Replica, OneRequestTimelineFromTheCostModel) {
  Fixture f;
  const int P = 1000, G = 50;
  ServiceConfig config;
  auto results = run(f, config, {Request{1, 2.0, P, G, 0}});
  const auto& r = results.at(1);
  EXPECT_EQ(r.outcome, Outcome::COMPLETED);
  const gpu::PrefillChunk chunk{P, 0};
  double t = 2.0 + f.cost.mixed(std::span(&chunk, 1), 0, 0).time_s;
  EXPECT_DOUBLE_EQ(r.first_scheduled_s, 2.0);
  EXPECT_DOUBLE_EQ(r.first_token_s, t);
  for (int j = 0; j < G - 1; ++j) t += f.cost.decode(1, P + j).time_s;
  EXPECT_NEAR(r.finish_s, t, 1e-12);
}

// A prompt longer than the token budget is chunked: 3000 tokens with a budget of 1024 are
// chunks of 1024, 1024 and 952 (each attending to what came before); the last samples.
TEST(Replica, ChunkedPrefillSplitsALongPrompt) {
  Fixture f;
  ServiceConfig config;
  config.replica.max_num_batched_tokens = 1024;
  auto results = run(f, config, {Request{1, 0.0, 3000, 1, 0}});
  double t = 0;
  for (auto [tokens, context] : {std::pair{1024.0, 0.0}, {1024.0, 1024.0}, {952.0, 2048.0}}) {
    const gpu::PrefillChunk c{tokens, context};
    t += f.cost.mixed(std::span(&c, 1), 0, 0).time_s;
  }
  EXPECT_NEAR(results.at(1).first_token_s, t, 1e-12);
  EXPECT_NEAR(results.at(1).finish_s, t, 1e-12);
}

TEST(Replica, KvCacheSizedFromMemoryWeightsAndActivations) {
  Fixture f;
  engine::Engine engine;
  Collect sink;
  Replica replica(engine, f.cost, f.gpu, ReplicaConfig{}, 0, sink);
  // 80 GB x 0.9 less 16 GB of bf16 weights and the profiling pass, 128 KiB per token.
  const double tokens = replica.total_blocks() * 16.0;
  EXPECT_GT(tokens, 380e3);
  EXPECT_LT(tokens, 460e3);
  EXPECT_FALSE(replica.can_serve(Request{1, 0, 8000, 500, 0}));  // beyond llama3-8b's 8192 context
  EXPECT_TRUE(replica.can_serve(Request{1, 0, 7000, 500, 0}));
}

// Event skipping gives exactly what stepping one iteration at a time gives, on workloads
// that fill the cache (preemptions), chunk prompts, swap, time out and use every router.
TEST(Replica, EventSkippingEqualsStepping) {
  Fixture f;
  struct Case {
    std::string name;
    ServiceConfig config{};
    std::vector<Request> requests{};
  };
  std::vector<Case> cases;
  {
    Case c;
    c.name = "plain";
    c.requests = workload(300, 20, 2000, 300, 1);
    c.config.replicas = 2;
    cases.push_back(c);
  }
  {
    // A small cache: requests are preempted and recomputed.
    Case c;
    c.name = "tight-kv";
    c.requests = workload(200, 50, 3000, 400, 2);
    c.config.replica.gpu_memory_utilization = 0.25;
    c.config.replica.max_num_batched_tokens = 2048;
    cases.push_back(c);
  }
  {
    Case c;
    c.name = "swap";
    c.requests = workload(200, 50, 3000, 400, 3);
    c.config.replica.gpu_memory_utilization = 0.25;
    c.config.replica.preemption = PreemptionMode::SWAP;
    cases.push_back(c);
  }
  {
    Case c;
    c.name = "timeouts";
    c.requests = workload(300, 80, 3000, 300, 4);
    c.config.replica.gpu_memory_utilization = 0.25;
    c.config.replica.max_num_seqs = 16;
    c.config.replica.queue_timeout_s = 2;
    cases.push_back(c);
  }
  {
    Case c;
    c.name = "prefill-first";
    c.requests = workload(200, 30, 2000, 200, 5);
    c.config.replica.policy = SchedulePolicy::PREFILL_FIRST;
    c.config.replica.chunked_prefill = false;
    cases.push_back(c);
  }
  for (const char* router : {"round_robin", "least_kv", "power_of_two", "session_affinity"}) {
    Case c;
    c.name = router;
    c.requests = workload(200, 40, 2000, 300, 6);
    c.config.replicas = 3;
    c.config.router = router;
    c.config.replica.gpu_memory_utilization = 0.3;
    cases.push_back(c);
  }
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    ServiceConfig stepping = c.config;
    stepping.replica.stepping = true;
    ReplicaStats skipped_stats, stepped_stats;
    auto skipped = run(f, c.config, c.requests, &skipped_stats);
    auto stepped = run(f, stepping, c.requests, &stepped_stats);
    expect_same(skipped, stepped);
    EXPECT_EQ(skipped_stats.iterations, stepped_stats.iterations);
    EXPECT_EQ(skipped_stats.preemptions, stepped_stats.preemptions);
    EXPECT_GT(skipped_stats.stretches, 0u);
    EXPECT_EQ(stepped_stats.end_events, stepped_stats.iterations);
    EXPECT_LT(skipped_stats.end_events, stepped_stats.end_events) << "no iteration was skipped";
    std::cout << c.name << ": " << stepped_stats.iterations << " iterations, " << skipped_stats.end_events
              << " events with skipping, " << skipped_stats.preemptions << " preemptions\n";
  }
}

// The cases above do preempt and time out (else they would not test those paths).
TEST(Replica, TightCachePreemptsAndQueueTimesOut) {
  Fixture f;
  ServiceConfig config;
  config.replica.gpu_memory_utilization = 0.25;
  config.replica.max_num_batched_tokens = 2048;
  ReplicaStats stats;
  auto results = run(f, config, workload(200, 50, 3000, 400, 2), &stats);
  EXPECT_GT(stats.preemptions, 0u);
  for (const auto& [id, r] : results) EXPECT_EQ(r.outcome, Outcome::COMPLETED);
  config.replica.max_num_seqs = 16;
  config.replica.queue_timeout_s = 2;
  results = run(f, config, workload(300, 80, 3000, 300, 4));
  int timed_out = 0;
  for (const auto& [id, r] : results) {
    if (r.outcome != Outcome::TIMED_OUT) continue;
    ++timed_out;
    EXPECT_DOUBLE_EQ(r.finish_s, r.request.arrival_s + 2);
    EXPECT_TRUE(std::isnan(r.first_token_s));
  }
  EXPECT_GT(timed_out, 0);
}

TEST(Router, PoliciesPickAsDocumented) {
  Fixture f;
  ServiceConfig config;
  config.replicas = 3;
  config.router = "round_robin";
  auto rr = run(f, config, workload(9, 100, 100, 10, 7));
  for (std::uint64_t id = 1; id <= 9; ++id) EXPECT_EQ(rr.at(id).replica, static_cast<int>((id - 1) % 3));
  config.router = "session_affinity";
  auto sa = run(f, config, workload(60, 5, 100, 10, 8));
  std::map<std::uint64_t, int> replica_of_session;
  for (const auto& [id, r] : sa) {
    auto [it, fresh] = replica_of_session.emplace(r.request.session, r.replica);
    if (r.request.session != 0) {
      EXPECT_EQ(it->second, r.replica) << "session " << r.request.session;
    }
  }
  EXPECT_THROW(make_router("round_robn", 1), InputError);
}

TEST(Service, NoReplicaRejectsAndTooLongIsRejected) {
  Fixture f;
  ServiceConfig config;
  config.replicas = 0;
  auto none = run(f, config, {Request{1, 0, 10, 10, 0}});
  EXPECT_EQ(none.at(1).outcome, Outcome::REJECTED_NO_REPLICA);
  config.replicas = 1;
  auto too_long = run(f, config, {Request{1, 0, 9000, 10, 0}, Request{2, 1, 10, 10, 0}});
  EXPECT_EQ(too_long.at(1).outcome, Outcome::REJECTED_TOO_LONG);
  EXPECT_EQ(too_long.at(2).outcome, Outcome::COMPLETED);
}

// Disaggregated: the prompt runs on a prefill replica (first token), its KV cache moves at
// the given bandwidth after the latency, and the decode replica generates the rest with
// the same decode iterations as a colocated replica would.
TEST(Disaggregated, OneRequestTimeline) {
  Fixture f;
  engine::Engine engine;
  Collect sink;
  ServiceConfig config;
  DisaggregationConfig d{1, 1, 5e10, 1e-5};
  DisaggregatedService service(engine, f.cost, f.gpu, config, d, sink);
  const int P = 2000, G = 20;
  std::vector<Request> one{Request{1, 1.0, P, G, 0}};
  std::size_t next = 0;
  service.stream([&]() -> std::optional<Request> {
    if (next == one.size()) return std::nullopt;
    return one[next++];
  });
  engine.run();
  const auto& r = sink.results.at(1);
  EXPECT_EQ(r.outcome, Outcome::COMPLETED);
  EXPECT_EQ(r.request.output_tokens, G);
  const gpu::PrefillChunk chunk{P, 0};
  const double ttft = 1.0 + f.cost.mixed(std::span(&chunk, 1), 0, 0).time_s;
  EXPECT_DOUBLE_EQ(r.first_token_s, ttft);
  double t = ttft + 1e-5 + P * f.cost.kv_bytes_per_token() / 5e10;
  for (int j = 0; j < G - 1; ++j) t += f.cost.decode(1, P + j).time_s;
  EXPECT_NEAR(r.finish_s, t, 1e-12);
  EXPECT_EQ(r.replica, 0);
}
