// Scheduling throughput: pods placed onto GPU nodes with kube-scheduler's default
// profile. Usage: bench_k8s [nodes] [pods] [--checksum]
// --checksum (or AIFSIM_BENCH_CHECKSUM=1) also prints an FNV-1a hash of every pod's
// outcome (name, state, node), to check that an optimisation changes no decision.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/process.hpp"
#include "k8s/placement.hpp"

using namespace aifsim::k8s;

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int pods = argc > 2 ? std::atoi(argv[2]) : 100000;
  const char* env = std::getenv("AIFSIM_BENCH_CHECKSUM");
  const bool checksum = (argc > 3 && std::strcmp(argv[3], "--checksum") == 0) || (env && std::strcmp(env, "1") == 0);
  ManifestSet m;
  for (int i = 0; i < nodes; ++i) {
    Node n;
    n.meta.name = "gpu-" + std::to_string(10000 + i);
    n.meta.labels = {{"kubernetes.io/hostname", n.meta.name}, {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % 4)}};
    // An HGX H100 node: 8 GPUs, 112 cores, 2 TB, kube's default of 110 pods.
    n.allocatable = {{CPU, *parse_quantity("112")}, {MEMORY, *parse_quantity("2000Gi")},
                     {GPU, *parse_quantity("8")}, {PODS, *parse_quantity("110")}};
    n.capacity = n.allocatable;
    m.nodes.push_back(n);
  }
  // 8 % GPU pods (1 GPU, 4 cores, 16 GiB), the rest CPU pods (1 core, 2 GiB): what fits.
  for (int i = 0; i < pods; ++i) {
    Pod p;
    p.meta.name = "pod-" + std::to_string(i);
    Container c;
    c.name = "main";
    c.image = i % 12 == 0 ? "vllm/vllm-openai:v0.6.0" : "python:3.11";
    if (i % 12 == 0) c.requests = {{CPU, *parse_quantity("4")}, {MEMORY, *parse_quantity("16Gi")}, {GPU, *parse_quantity("1")}};
    else c.requests = {{CPU, *parse_quantity("1")}, {MEMORY, *parse_quantity("2Gi")}};
    p.spec.containers.push_back(c);
    m.pods.push_back(p);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto result = place(m, aifsim::k8s::sched::default_profile(), 1);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int scheduled = 0;
  for (const auto& p : result.pods) scheduled += p.state == "scheduled";
  std::printf("bench_k8s nodes=%d pods=%d scheduled=%d attempts=%d wall_s=%.3f pods_per_s=%.0f peak_rss_MiB=%.1f\n", nodes,
              pods, scheduled, result.attempts, wall, pods / wall, aifsim::peak_rss_bytes() / 1048576.0);
  if (checksum) {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
    auto mix = [&](const std::string& s) {
      for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
      h = (h ^ 0xff) * 1099511628211ULL;  // field separator
    };
    for (const auto& p : result.pods) {
      mix(p.name);
      mix(p.state);
      mix(p.node);
      mix(p.reason);
    }
    std::printf("bench_k8s checksum=%016llx\n", static_cast<unsigned long long>(h));
  }
}
