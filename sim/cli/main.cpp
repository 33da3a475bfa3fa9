// The aifsim command. Exit codes: 0 done, 1 simulation error, 2 bad input.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/text.hpp"

int main(int argc, char** argv) {
  using namespace aifsim::cli;
  CLI::App app{"aifsim: a discrete-event simulator of dual-stack AI factories"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("aifsim ") + AIFSIM_VERSION);

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario file");
  run_cmd->add_option("scenario", run.scenario, "Scenario JSON file")->required();
  run_cmd->add_option("-o,--output", run.output, "Output directory")->required();
  run_cmd->add_option("--set", run.overrides, "Override a scenario value: key.path=value (repeatable)");
  run_cmd->add_flag("-q,--quiet", run.quiet, "Print nothing but errors");

  BatchArgs batch;
  auto* batch_cmd = app.add_subcommand("batch", "Replay an SWF trace on a batch machine of the trace's size");
  batch_cmd->add_option("--swf", batch.swf, "SWF trace (.swf or .swf.gz)")->required();
  batch_cmd->add_option("--scheduler", batch.scheduler, "fcfs, easy or conservative")->default_val("easy");
  batch_cmd->add_option("--procs", batch.procs, "Machine size in processors (default: the trace header's)");
  batch_cmd->add_option("--unit", batch.unit, "Resource unit: procs or nodes")->default_val("procs");
  batch_cmd->add_option("--overrun", batch.overrun, "Jobs past their limit: kill (as Slurm) or run")->default_val("kill");
  batch_cmd->add_option("--max-jobs", batch.max_jobs, "Replay only the first N jobs");
  batch_cmd->add_flag("--strict", batch.strict, "A job that can never run is an error, not a rejection");
  batch_cmd->add_option("-o,--output", batch.output, "Output directory")->required();
  batch_cmd->add_flag("-q,--quiet", batch.quiet, "Print nothing but errors");

  std::string validate_file;
  auto* validate_cmd = app.add_subcommand("validate", "Check a scenario, platform or SWF file without running it");
  validate_cmd->add_option("file", validate_file, "File to check")->required();

  PlatformInfoArgs info;
  auto* platform_cmd = app.add_subcommand("platform", "Platform tools");
  platform_cmd->require_subcommand(1);
  auto* info_cmd = platform_cmd->add_subcommand("info", "Print node, GPU and link counts, bisection bandwidth and hops");
  info_cmd->add_option("file", info.file, "Platform JSON file")->required();
  info_cmd->add_flag("--json", info.json, "Print JSON");
  info_cmd->add_flag("--simgrid", info.simgrid, "Also build the SimGrid platform and report its size and build time");

  auto* gpu_cmd = app.add_subcommand("gpu", "GPU performance model");
  gpu_cmd->require_subcommand(1);
  GpuPredictArgs predict;
  auto* predict_cmd = gpu_cmd->add_subcommand("predict", "Time and memory of a transformer iteration on the fitted GPU model");
  predict_cmd->add_option("--profile", predict.profile, "GPU profile (calibration/profiles/*.json)")->required();
  predict_cmd->add_option("--model", predict.model, "Model card (workloads/models/*.json)")->required();
  predict_cmd->add_option("--phase", predict.phase, "prefill, decode or train")->required()->check(CLI::IsMember({"prefill", "decode", "train"}));
  predict_cmd->add_option("--batch", predict.batch, "Sequences in the batch")->default_val(1)->check(CLI::PositiveNumber);
  predict_cmd->add_option("--tokens", predict.tokens,
                          "Prompt length (prefill), context length of every sequence (decode) or sequence length (train)")
      ->required()->check(CLI::PositiveNumber);
  predict_cmd->add_option("--tp", predict.tp, "Tensor-parallel GPUs")->default_val(1)->check(CLI::PositiveNumber);
  predict_cmd->add_flag("--json", predict.json, "Print JSON: time_s, memory_bytes and time per operator class");
  std::string report_profile;
  auto* report_cmd = gpu_cmd->add_subcommand("report", "Fitted models of a profile with their leave-one-out errors");
  report_cmd->add_option("--profile", report_profile, "GPU profile")->required();

  K8sScheduleArgs k8s_schedule;
  auto* k8s_cmd = app.add_subcommand("k8s", "Kubernetes stack");
  k8s_cmd->require_subcommand(1);
  auto* k8s_schedule_cmd = k8s_cmd->add_subcommand("schedule", "Place a manifest set's pods on its nodes with kube-scheduler's framework");
  k8s_schedule_cmd->add_option("manifests", k8s_schedule.manifests, "Kubernetes YAML manifests (Nodes, Pods, Deployments, ...)")->required();
  k8s_schedule_cmd->add_option("--scheduler-config", k8s_schedule.scheduler_config, "KubeSchedulerConfiguration (YAML or JSON)");
  k8s_schedule_cmd->add_option("--explain", k8s_schedule.explain, "Explain every attempt of this pod (NAMESPACE/NAME or NAME)");
  k8s_schedule_cmd->add_option("--seed", k8s_schedule.seed, "Seed of the tie-breaking draws")->default_val(1);
  k8s_schedule_cmd->add_option("-o,--output", k8s_schedule.output, "Output directory")->required();
  k8s_schedule_cmd->add_flag("-q,--quiet", k8s_schedule.quiet, "Print nothing but errors");

  ServeArgs serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve LLM requests on replicas of one model (vLLM-like engines behind a router)");
  serve_cmd->add_option("--profile", serve.profile, "GPU profile: a file or a name in calibration/profiles (h100-sxm)")->required();
  serve_cmd->add_option("--model", serve.model, "Model card: a file or a name in workloads/models (llama3-8b)")->required();
  serve_cmd->add_option("--tp", serve.tp, "Tensor-parallel GPUs per replica")->default_val(1)->check(CLI::PositiveNumber);
  serve_cmd->add_option("--replicas", serve.replicas, "Replicas")->default_val(1)->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--router", serve.router, "round_robin, least_outstanding, least_kv, power_of_two, session_affinity")
      ->default_val("least_outstanding");
  serve_cmd->add_option("--max-batch", serve.max_batch, "max_num_seqs (default 1024)");
  serve_cmd->add_option("--max-batched-tokens", serve.max_batched_tokens, "Token budget per iteration (default 8192)");
  serve_cmd->add_option("--chunked-prefill", serve.chunked_prefill, "Largest prompt chunk per iteration; 0 turns chunked prefill off");
  serve_cmd->add_option("--gpu-memory-utilization", serve.gpu_memory_utilization, "Fraction of GPU memory for weights and KV cache (0.9)");
  serve_cmd->add_option("--preemption", serve.preemption, "recompute or swap")->default_val("recompute");
  serve_cmd->add_option("--queue-timeout-s", serve.queue_timeout_s, "Requests not started after this long time out");
  serve_cmd->add_option("--prefill-replicas", serve.prefill_replicas, "Disaggregated: prefill pool size (with --decode-replicas)");
  serve_cmd->add_option("--decode-replicas", serve.decode_replicas, "Disaggregated: decode pool size");
  serve_cmd->add_option("--kv-transfer-bw-Bps", serve.kv_transfer_bw_Bps, "Disaggregated: KV-cache transfer bandwidth per GPU");
  serve_cmd->add_option("--trace", serve.trace, "Request trace: Azure LLM CSV, BurstGPT CSV or Mooncake JSONL (.gz too)");
  serve_cmd->add_option("--rate-scale", serve.rate_scale, "Trace rate multiplier (2 = twice as fast)");
  serve_cmd->add_option("--start-s", serve.start_s, "Trace window start (s from its first request)");
  serve_cmd->add_option("--end-s", serve.end_s, "Trace window end");
  serve_cmd->add_option("--max-requests", serve.max_requests, "Replay only the first N requests of the trace");
  serve_cmd->add_option("--rate", serve.rate, "Generated arrivals per second (instead of --trace)");
  serve_cmd->add_option("--arrival", serve.arrival, "poisson, gamma or constant")->default_val("poisson");
  serve_cmd->add_option("--cv", serve.cv, "Gamma arrivals: coefficient of variation");
  serve_cmd->add_option("--prompt-tokens", serve.prompt_tokens, "Generated prompt length");
  serve_cmd->add_option("--output-tokens", serve.output_tokens, "Generated output length");
  serve_cmd->add_option("--requests", serve.requests, "Generated requests");
  serve_cmd->add_option("--ttft-slo-s", serve.ttft_slo_s, "TTFT target for SLO attainment and goodput");
  serve_cmd->add_option("--tpot-slo-s", serve.tpot_slo_s, "TPOT target for SLO attainment and goodput");
  serve_cmd->add_option("--seed", serve.seed, "Seed of generated arrivals and routing draws")->default_val(1);
  serve_cmd->add_option("-o,--output", serve.output, "Output directory")->required();
  serve_cmd->add_flag("-q,--quiet", serve.quiet, "Print nothing but errors");

  CompareArgs compare;
  auto* compare_cmd = app.add_subcommand("compare", "Compare runs: compare.md and compare.csv from their summary.json");
  compare_cmd->add_option("dirs", compare.dirs, "Output directories of aifsim runs")->required();
  compare_cmd->add_option("-o,--output", compare.output, "Where to write compare.md and compare.csv")->default_val(".");
  compare_cmd->add_flag("-q,--quiet", compare.quiet, "Print nothing but errors");

  SweepArgs sweep;
  auto* sweep_cmd = app.add_subcommand("sweep", "Run a scenario over the cross product of --set values and seeds");
  sweep_cmd->add_option("file", sweep.file, "Sweep JSON: {\"scenario\": FILE, \"set\": {KEY: [VALUES]}, \"seeds\": [...]}")->required();
  sweep_cmd->add_option("-o,--output", sweep.output, "Output directory (one folder per point, compare.md)")->required();
  sweep_cmd->add_option("-j,--jobs", sweep.jobs, "Runs at a time")->default_val(1)->check(CLI::PositiveNumber);
  sweep_cmd->add_flag("--slurm", sweep.slurm, "Write a Slurm job array and a collector job instead of running");
  sweep_cmd->add_flag("-q,--quiet", sweep.quiet, "Print nothing but errors");

  CalibrateArgs calibrate;
  calibrate.argv0 = argv[0];
  auto* calibrate_cmd = app.add_subcommand("calibrate", "Run the CUDA microkernels on this machine's GPU and write a profile");
  calibrate_cmd->add_option("-o,--output", calibrate.output, "Profile to write")->default_val(calibrate.output);
  calibrate_cmd->add_flag("--quick", calibrate.quick, "A reduced sweep");

  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> commands;
    for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
    if (std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
      std::string near = aifsim::nearest_name(argv[1], commands);
      std::cerr << "aifsim: error: unknown command \"" << argv[1] << "\"; expected "
                << aifsim::join_alternatives(commands) << (near.empty() ? "" : " (did you mean \"" + near + "\"?)")
                << "\nRun 'aifsim --help' for usage.\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version exit 0; usage errors are bad input
  }

  try {
    if (*run_cmd) return command_run(run);
    if (*batch_cmd) return command_batch(batch);
    if (*validate_cmd) return command_validate(validate_file);
    if (*info_cmd) return command_platform_info(info);
    if (*predict_cmd) return command_gpu_predict(predict);
    if (*report_cmd) return command_gpu_report(report_profile);
    if (*calibrate_cmd) return command_calibrate(calibrate);
    if (*k8s_schedule_cmd) return command_k8s_schedule(k8s_schedule);
    if (*serve_cmd) return command_serve(serve);
    if (*compare_cmd) return command_compare(compare);
    if (*sweep_cmd) return command_sweep(sweep);
  } catch (const aifsim::InputError& e) {
    std::cerr << "aifsim: error: " << e.what() << '\n';
    return 2;
  } catch (const aifsim::SimulationError& e) {
    std::cerr << "aifsim: simulation error: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "aifsim: internal error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
