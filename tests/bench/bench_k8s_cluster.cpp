// The Kubernetes cluster over time at scale: 100,000 pods of 2,000 Jobs (one GPU pod in
// twelve) on 1,000 HGX nodes, each pod running 600 s, through the scheduling queue, the
// kubelet lifecycle (no fabric costs) and the Job controller. Usage: bench_k8s_cluster [jobs] [pods_per_job]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/process.hpp"
#include "k8s/cluster.hpp"
#include "platform/platform.hpp"

using namespace aifsim;

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int per_job = argc > 2 ? std::atoi(argv[2]) : 50;
  auto platform = platform::parse_platform(nlohmann::json::parse(R"({"name": "bench",
    "node_types": {"hgx": {"cpu_cores": 112, "memory_bytes": 2e12, "gpu_model": "H100-SXM5-80GB", "gpus": 8}},
    "nodes": [{"type": "hgx", "count": 1000, "prefix": "gpu"}], "fabric": {"kind": "single_switch"}})"), "bench");
  k8s::ManifestSet m;
  for (int j = 0; j < jobs; ++j) {
    k8s::Job job;
    job.meta.name = "job-" + std::to_string(j);
    job.parallelism = per_job;
    job.completions = per_job;
    job.pod_template.meta.annotations["aifsim.io/duration-s"] = "600";
    k8s::Container c;
    c.name = "main";
    c.image = "python:3.11";
    c.requests = {{k8s::CPU, 1000}, {k8s::MEMORY, 2LL * 1024 * 1024 * 1024 * 1000}};
    if (j % 12 == 0) c.requests[k8s::GPU] = 1000, c.limits[k8s::GPU] = 1000;
    job.pod_template.spec.containers.push_back(c);
    m.jobs.push_back(job);
  }
  k8s::ClusterConfig config;
  config.profile = k8s::sched::default_profile();
  config.duration_s = 3000;
  auto t0 = std::chrono::steady_clock::now();
  auto r = k8s::simulate_cluster(platform, m, config, nullptr);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int succeeded = 0;
  for (const auto& p : r.pods) succeeded += p.state == "succeeded";
  std::printf("bench_k8s_cluster pods=%zu succeeded=%d attempts=%llu wall_s=%.2f pods_per_s=%.0f peak_rss_MiB=%.1f\n",
              r.pods.size(), succeeded, static_cast<unsigned long long>(r.attempts), wall, r.pods.size() / wall,
              peak_rss_bytes() / 1048576.0);
}
