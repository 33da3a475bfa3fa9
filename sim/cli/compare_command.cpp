// aifsim compare DIR...: the headline figures of several runs side by side, in
// compare.md (a table to read) and compare.csv (to plot), from each run's summary.json.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/text.hpp"

namespace aifsim::cli {

namespace {

struct Column {
  std::string name;
  // The figure's JSON pointer in summary.json; absent from a run: empty cell.
  std::string pointer;
};

const std::vector<Column>& columns() {
  static const std::vector<Column> c = {
      {"policy", "/factory/policy"},
      {"gpus", "/factory/gpus"},
      {"utilisation", "/factory/utilisation"},
      {"hpc_owned_gpu_h", "/factory/owned_gpu_hours/hpc"},
      {"k8s_owned_gpu_h", "/factory/owned_gpu_hours/k8s"},
      {"moving_gpu_h", "/factory/owned_gpu_hours/moving"},
      {"hpc_allocated_gpu_h", "/factory/allocated_gpu_hours/hpc"},
      {"k8s_allocated_gpu_h", "/factory/allocated_gpu_hours/k8s"},
      {"k8s_busy_gpu_h", "/factory/busy_gpu_hours/k8s"},
      {"moves", "/factory/moves"},
      {"batch_jobs", "/batch/jobs_total"},
      {"batch_wait_mean_s", "/batch/wait_s/mean"},
      {"batch_wait_p95_s", "/batch/wait_s/p95"},
      {"batch_bounded_slowdown", "/batch/bounded_slowdown/mean"},
      {"batch_utilisation", "/batch/utilisation"},
      {"requests", "/serving/requests/total"},
      {"ttft_p99_s", "/serving/ttft_s/p99"},
      {"tpot_p99_s", "/serving/tpot_s/p99"},
      {"slo_attainment", "/serving/slo/attainment"},
      {"goodput_rps", "/serving/goodput_rps"},
      {"pods", "/kubernetes/pods/total"},
      {"pod_startup_p99_s", "/kubernetes/startup_s/p99"},
  };
  return c;
}

std::string cell(const nlohmann::json& summary, const std::string& pointer) {
  const nlohmann::json::json_pointer p(pointer);
  if (!summary.contains(p)) return "";
  const auto& v = summary.at(p);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return format_number(v.get<double>());
  return "";
}

// A Kubernetes scenario's services appear under kubernetes.services: the first one's
// figures stand in the serving columns.
nlohmann::json flattened(nlohmann::json s) {
  if (!s.contains("serving") && s.contains("kubernetes") && s["kubernetes"].contains("services") &&
      !s["kubernetes"]["services"].empty())
    s["serving"] = s["kubernetes"]["services"].begin().value();
  return s;
}

}  // namespace

int command_compare(const CompareArgs& args) {
  std::vector<std::pair<std::string, nlohmann::json>> runs;
  for (const auto& dir : args.dirs) {
    const auto file = std::filesystem::path(dir) / "summary.json";
    if (!std::filesystem::exists(file)) throw InputError(dir, "no summary.json here: is it an aifsim output directory?");
    runs.emplace_back(dir, flattened(load_json_file(file)));
  }
  std::filesystem::create_directories(args.output);
  // Only the columns some run has.
  std::vector<Column> used;
  for (const auto& c : columns())
    for (const auto& [dir, s] : runs)
      if (!cell(s, c.pointer).empty()) {
        used.push_back(c);
        break;
      }
  std::ofstream csv(std::filesystem::path(args.output) / "compare.csv", std::ios::binary | std::ios::trunc);
  std::ofstream md(std::filesystem::path(args.output) / "compare.md", std::ios::binary | std::ios::trunc);
  if (!csv || !md) throw InputError(args.output, "cannot create the comparison files");
  csv << "run,scenario";
  md << "| run | scenario |";
  for (const auto& c : used) {
    csv << ',' << c.name;
    md << ' ' << c.name << " |";
  }
  csv << '\n';
  md << "\n|---|---|";
  for (std::size_t i = 0; i < used.size(); ++i) md << "---|";
  md << '\n';
  for (const auto& [dir, s] : runs) {
    const std::string name = cell(s, "/scenario/name");
    csv << dir << ',' << name;
    md << "| " << dir << " | " << name << " |";
    for (const auto& c : used) {
      const std::string v = cell(s, c.pointer);
      csv << ',' << v;
      md << ' ' << v << " |";
    }
    csv << '\n';
    md << '\n';
  }
  md << "\nUtilisation: GPU-hours allocated by both stacks over the machine's GPU-hours. Owned, allocated and busy "
        "GPU-hours per stack; batch waits and bounded slowdown (tau from each run's scenario); the first service's "
        "SLO attainment and goodput. Energy is not modelled yet.\n";
  md.close();
  if (!args.quiet) {
    std::ifstream back(std::filesystem::path(args.output) / "compare.md");
    std::cout << back.rdbuf() << "compare: " << runs.size() << " runs -> " << args.output << "/compare.{md,csv}\n";
  }
  return 0;
}

}  // namespace aifsim::cli
