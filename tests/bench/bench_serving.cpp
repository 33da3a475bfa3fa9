// Serving throughput of the simulator: a million requests with Azure-conversation-like
// lengths (lognormal, means 1,155 prompt and 211 output tokens as in the Azure 2023
// trace) at a Poisson rate, on llama3-8b replicas on H100. Usage:
// bench_serving [requests] [replicas] [rate_rps]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/process.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"
#include "metrics/serving_metrics.hpp"
#include "serving/service.hpp"

using namespace aifsim;

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int replicas = argc > 2 ? std::atoi(argv[2]) : 32;
  const double rate = argc > 3 ? std::atof(argv[3]) : 320;
  const std::string src = AIFSIM_SOURCE_DIR;
  gpu::GpuModel gpu(gpu::load_profile(src + "/calibration/profiles/h100-sxm.json"));
  gpu::TransformerCost cost(gpu, gpu::load_model_card(src + "/workloads/models/llama3-8b.json"), 1);
  engine::Engine engine;
  metrics::ServingMetrics metrics({});
  serving::ServiceConfig config;
  config.replicas = replicas;
  serving::Service service(engine, cost, gpu, config, metrics);
  // Lognormal lengths with the trace's means and a spread of sigma 1 (prompt) and 0.9 (output).
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> gap(rate);
  const double sp = 1.0, so = 0.9;
  std::lognormal_distribution<double> prompt(std::log(1155.0) - sp * sp / 2, sp), output(std::log(211.0) - so * so / 2, so);
  std::uint64_t made = 0;
  double t = 0;
  service.stream([&]() -> std::optional<serving::Request> {
    if (made == n) return std::nullopt;
    t += gap(rng);
    const int p = std::clamp(static_cast<int>(prompt(rng)), 1, 6000);
    const int o = std::clamp(static_cast<int>(output(rng)), 1, 2000);
    return serving::Request{++made, t, p, o, 0};
  });
  auto t0 = std::chrono::steady_clock::now();
  engine.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto s = metrics.summary();
  std::uint64_t iterations = 0, events = 0;
  for (const auto& r : service.replicas()) {
    iterations += r->stats().iterations;
    events += r->stats().end_events;
  }
  std::printf("bench_serving requests=%llu replicas=%d rate_rps=%.0f simulated_s=%.0f completed=%llu wall_s=%.2f "
              "requests_per_s=%.0f iterations=%llu iteration_events=%llu ttft_p50_s=%.3f tpot_p50_s=%.4f "
              "out_tok_per_s=%.0f peak_rss_MiB=%.1f\n",
              static_cast<unsigned long long>(n), replicas, rate, engine.now(),
              static_cast<unsigned long long>(s["requests"]["completed"].get<std::uint64_t>()), wall, n / wall,
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(events),
              s["ttft_s"]["p50"].get<double>(), s["tpot_s"]["p50"].get<double>(),
              s["throughput_output_tokens_per_s"].get<double>(), peak_rss_bytes() / 1048576.0);
}
