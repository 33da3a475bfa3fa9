// aifsim serve: one inference service without a scenario file. The options become a
// scenario's `serving` section, validated and run exactly as `aifsim run` would.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "scenario/runner.hpp"
#include "scenario/scenario.hpp"

namespace aifsim::cli {

namespace {

// A file as given, else a shipped one by name: ./DIR/NAME.json, then the source tree's.
std::string find_data(const std::string& given, const std::string& dir, const std::string& what) {
  namespace fs = std::filesystem;
  if (fs::exists(given)) return fs::absolute(given).string();
  for (const fs::path& root : {fs::current_path(), fs::path(AIFSIM_DATA_DIR)}) {
    fs::path candidate = root / dir / (given + ".json");
    if (fs::exists(candidate)) return candidate.string();
  }
  throw InputError(given, "no such " + what + " file, and no " + dir + "/" + given + ".json");
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void print(const nlohmann::json& s, const std::string& out) {
  const auto& v = s["serving"];
  std::cout << "service     " << v["model"].get<std::string>() << " x " << v["replicas"] << " replicas (tp "
            << v["tp"] << ", " << v["router"].get<std::string>() << ")\n";
  std::cout << "requests    " << v["requests"]["total"] << ":";
  for (const auto& [state, n] : v["requests"].items())
    if (state != "total" && n.get<std::uint64_t>() > 0) std::cout << ' ' << n << ' ' << state;
  std::cout << '\n';
  auto line = [&](const char* name, const nlohmann::json& d, double scale, const char* unit) {
    if (d["count"].get<std::uint64_t>() == 0) return;
    std::cout << name << "mean " << fixed(d["mean"].get<double>() * scale, 1) << "  p50 " << fixed(d["p50"].get<double>() * scale, 1)
              << "  p90 " << fixed(d["p90"].get<double>() * scale, 1) << "  p99 " << fixed(d["p99"].get<double>() * scale, 1)
              << ' ' << unit << '\n';
  };
  line("ttft        ", v["ttft_s"], 1e3, "ms");
  line("tpot        ", v["tpot_s"], 1e3, "ms");
  line("e2e         ", v["e2e_s"], 1, "s");
  std::cout << "throughput  " << fixed(v["throughput_rps"], 2) << " req/s, " << fixed(v["throughput_output_tokens_per_s"], 0)
            << " output tok/s, goodput " << fixed(v["goodput_rps"], 2) << " req/s\n";
  std::cout << "wall time   " << fixed(s["performance"]["wall_time_s"], 3) << " s ("
            << fixed(s["performance"]["requests_per_s"], 0) << " requests/s)\n";
  std::cout << "outputs     " << out << "/summary.json"
            << (v.contains("requests_csv") && v["requests_csv"] == "requests.csv" ? ", requests.csv" : "") << '\n';
}

}  // namespace

int command_serve(const ServeArgs& a) {
  nlohmann::json serving;
  serving["model"] = find_data(a.model, "workloads/models", "model card");
  serving["gpu_profile"] = find_data(a.profile, "calibration/profiles", "GPU profile");
  serving["tp"] = a.tp;
  if (a.prefill_replicas || a.decode_replicas || a.kv_transfer_bw_Bps) {
    if (!a.prefill_replicas || !a.decode_replicas || !a.kv_transfer_bw_Bps)
      throw InputError("serve", "disaggregated serving needs --prefill-replicas, --decode-replicas and --kv-transfer-bw-Bps");
    serving["disaggregation"] = {{"prefill_replicas", *a.prefill_replicas},
                                 {"decode_replicas", *a.decode_replicas},
                                 {"kv_transfer_bw_Bps", *a.kv_transfer_bw_Bps}};
  } else {
    serving["replicas"] = a.replicas;
  }
  serving["router"] = a.router;
  nlohmann::json replica = nlohmann::json::object();
  if (a.max_batch) replica["max_num_seqs"] = *a.max_batch;
  if (a.max_batched_tokens) replica["max_num_batched_tokens"] = *a.max_batched_tokens;
  if (a.chunked_prefill) {
    if (*a.chunked_prefill == 0) replica["chunked_prefill"] = false;
    else replica["prefill_chunk_tokens"] = *a.chunked_prefill;
  }
  if (a.gpu_memory_utilization) replica["gpu_memory_utilization"] = *a.gpu_memory_utilization;
  if (a.queue_timeout_s) replica["queue_timeout_s"] = *a.queue_timeout_s;
  replica["preemption"] = a.preemption;
  serving["replica"] = replica;
  const bool generated = a.rate || a.prompt_tokens || a.output_tokens || a.requests;
  if (!a.trace.empty() == generated)
    throw InputError("serve", "give either --trace FILE or --rate QPS --prompt-tokens N --output-tokens N --requests N");
  if (!a.trace.empty()) {
    nlohmann::json r;
    r["trace"] = std::filesystem::absolute(a.trace).string();
    if (a.rate_scale) r["rate_scale"] = *a.rate_scale;
    if (a.start_s) r["start_s"] = *a.start_s;
    if (a.end_s) r["end_s"] = *a.end_s;
    if (a.max_requests) r["max_requests"] = *a.max_requests;
    serving["requests"] = r;
  } else {
    if (!a.rate || !a.prompt_tokens || !a.output_tokens || !a.requests)
      throw InputError("serve", "generated requests need --rate, --prompt-tokens, --output-tokens and --requests");
    nlohmann::json g = {{"arrival", a.arrival}, {"rate_rps", *a.rate}, {"prompt", *a.prompt_tokens},
                        {"output", *a.output_tokens}, {"requests", *a.requests}};
    if (a.cv) g["cv"] = *a.cv;
    serving["requests"] = {{"generator", g}};
  }
  if (a.ttft_slo_s || a.tpot_slo_s) {
    serving["slo"] = nlohmann::json::object();
    if (a.ttft_slo_s) serving["slo"]["ttft_s"] = *a.ttft_slo_s;
    if (a.tpot_slo_s) serving["slo"]["tpot_s"] = *a.tpot_slo_s;
  }
  nlohmann::json doc = {{"name", "serve " + std::filesystem::path(a.model).filename().string()},
                        {"seed", a.seed},
                        {"serving", serving}};
  auto scenario = scenario::parse_scenario(doc, "command line", std::filesystem::current_path());
  auto summary = scenario::run_scenario(scenario, a.output, {a.quiet});
  if (!a.quiet) print(summary, a.output);
  return 0;
}

}  // namespace aifsim::cli
