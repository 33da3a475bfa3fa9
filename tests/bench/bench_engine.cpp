// Calendar dispatch rate: a hold model (each handler posts one successor at a random
// later time) with a given number of pending events. Usage: bench_engine [events] [pending]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/process.hpp"
#include "engine/engine.hpp"

int main(int argc, char** argv) {
  const long total = argc > 1 ? std::atol(argv[1]) : 10'000'000;
  const long pending = argc > 2 ? std::atol(argv[2]) : 1000;
  aifsim::engine::Engine engine;
  std::mt19937_64 rng(1);
  std::exponential_distribution<double> gap(1.0);
  long fired = 0;
  std::function<void()> hold = [&] {
    if (++fired + pending <= total) engine.after(gap(rng), hold);
  };
  for (long i = 0; i < pending; ++i) engine.at(gap(rng), hold);
  auto t0 = std::chrono::steady_clock::now();
  engine.run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("bench_engine events=%ld pending=%ld wall_s=%.3f events_per_s=%.3g peak_rss_MiB=%.1f\n",
              static_cast<long>(engine.stats().events_dispatched), pending, wall,
              engine.stats().events_dispatched / wall, aifsim::peak_rss_bytes() / 1048576.0);
}
