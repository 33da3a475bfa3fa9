// Cost of one transformer-model prediction, as serving calls it for every iteration.
// Usage: bench_gpu PROFILE MODEL_CARD [calls]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_gpu PROFILE MODEL_CARD [calls]\n");
    return 2;
  }
  const long calls = argc > 3 ? std::atol(argv[3]) : 2'000'000;
  auto t0 = std::chrono::steady_clock::now();
  aifsim::gpu::GpuModel gpu(aifsim::gpu::load_profile(argv[1]));
  aifsim::gpu::TransformerCost cost(gpu, aifsim::gpu::load_model_card(argv[2]), 1);
  double setup = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double sink = 0;
  for (int i = 0; i < 1000; ++i) sink += cost.decode(1 + i % 64, 1000.0 * (1 + i % 64)).time_s;  // warm-up
  auto t1 = std::chrono::steady_clock::now();
  for (long i = 0; i < calls; ++i) sink += cost.decode(1 + static_cast<int>(i % 256), 700.0 * (1 + i % 256) + i % 7).time_s;
  double decode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  aifsim::gpu::PrefillChunk chunks[2] = {{512, 0}, {256, 300}};
  auto t2 = std::chrono::steady_clock::now();
  for (long i = 0; i < calls / 4; ++i) sink += cost.mixed(chunks, static_cast<int>(i % 128), 500.0 * (i % 128)).time_s;
  double mixed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  std::printf("bench_gpu setup_s=%.3f decode_ns_per_call=%.0f mixed_ns_per_call=%.0f (checksum %.3g)\n", setup,
              decode_s / calls * 1e9, mixed_s / (calls / 4) * 1e9, sink);
}
