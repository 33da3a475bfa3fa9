// Batch replay speed: a trace under each policy, in process. Prints wall time, jobs/s,
// engine events/s, scheduling passes and peak RSS (of the whole process so far).
// Usage: bench_batch TRACE.swf[.gz] CAPACITY [policy...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/process.hpp"
#include "engine/engine.hpp"
#include "hpc/batch_stack.hpp"
#include "metrics/batch_metrics.hpp"
#include "workload/swf_source.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_batch TRACE CAPACITY [fcfs|easy|conservative ...]\n");
    return 2;
  }
  std::vector<std::string> policies(argv + 3, argv + argc);
  if (policies.empty()) policies = {"fcfs", "easy", "conservative"};
  double easy_wall = 0;
  for (const auto& policy : policies) {
    auto t0 = std::chrono::steady_clock::now();
    aifsim::engine::Engine engine;
    aifsim::workload::SwfJobSource source(argv[1]);
    aifsim::metrics::BatchMetrics metrics({std::nullopt, false, 10.0});
    aifsim::hpc::BatchConfig config;
    config.scheduler = policy;
    config.capacity = std::atoi(argv[2]);
    aifsim::hpc::BatchStack stack(engine, config, source, metrics);
    stack.start();
    engine.run();
    metrics.finish(stack.stats().jobs_entered);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (policy == "easy") easy_wall = wall;
    std::printf("bench_batch policy=%-12s jobs=%llu wall_s=%.3f jobs_per_s=%.0f events_per_s=%.3g passes=%llu "
                "peak_queue=%zu peak_rss_MiB=%.1f%s\n",
                policy.c_str(), static_cast<unsigned long long>(stack.stats().jobs_entered), wall,
                stack.stats().jobs_entered / wall, engine.stats().events_dispatched / wall,
                static_cast<unsigned long long>(stack.stats().scheduling_passes), stack.stats().peak_queue,
                aifsim::peak_rss_bytes() / 1048576.0,
                (policy == "conservative" && easy_wall > 0)
                    ? (" vs_easy=" + std::to_string(wall / easy_wall).substr(0, 4) + "x").c_str()
                    : "");
  }
}
