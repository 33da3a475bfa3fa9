// The subcommands of aifsim, each a function returning the exit code.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aifsim::cli {

struct RunArgs {
  std::string scenario, output;
  std::vector<std::string> overrides;
  bool quiet = false;
};

struct BatchArgs {
  std::string swf, scheduler = "easy", unit = "procs", overrun = "kill", output;
  std::optional<int> procs;
  std::optional<std::uint64_t> max_jobs;
  bool strict = false, quiet = false;
};

struct PlatformInfoArgs {
  std::string file;
  bool json = false, simgrid = false;
};

struct GpuPredictArgs {
  std::string profile, model, phase;
  int batch = 1, tokens = 0, tp = 1;
  bool json = false;
};

struct CalibrateArgs {
  std::string output = "calibration/profiles/measured.json";
  bool quick = false;
  std::string argv0;
};

struct K8sScheduleArgs {
  std::vector<std::string> manifests;
  std::string scheduler_config, explain, output;
  std::uint64_t seed = 1;
  bool quiet = false;
};

struct ServeArgs {
  std::string profile, model, router = "least_outstanding", trace, arrival = "poisson", output, preemption = "recompute";
  int tp = 1, replicas = 1;
  std::optional<int> max_batch, max_batched_tokens, chunked_prefill;
  std::optional<double> rate_scale, start_s, end_s, rate, cv, ttft_slo_s, tpot_slo_s, queue_timeout_s, gpu_memory_utilization;
  std::optional<int> prompt_tokens, output_tokens, prefill_replicas, decode_replicas;
  std::optional<double> kv_transfer_bw_Bps;
  std::optional<std::uint64_t> requests, max_requests;
  std::uint64_t seed = 1;
  bool quiet = false;
};
int command_serve(const ServeArgs& args);
struct CompareArgs {
  std::vector<std::string> dirs;
  std::string output = ".";
  bool quiet = false;
};
int command_compare(const CompareArgs& args);
struct SweepArgs {
  std::string file, output;
  int jobs = 1;
  bool slurm = false, quiet = false;
};
int command_sweep(const SweepArgs& args);
int command_k8s_schedule(const K8sScheduleArgs& args);
int command_gpu_predict(const GpuPredictArgs& args);
int command_gpu_report(const std::string& profile);
int command_calibrate(const CalibrateArgs& args);
int command_run(const RunArgs& args);
int command_batch(const BatchArgs& args);
int command_validate(const std::string& file);
int command_platform_info(const PlatformInfoArgs& args);

}  // namespace aifsim::cli
