// aifsim sweep SWEEP.json: many runs of one scenario, the cross product of `--set` values
// and seeds. Locally they run as child processes, -j at a time (each run is
// deterministic, so -j changes nothing but the wall time), then one comparison of all;
// with --slurm the sweep is written as a Slurm job array (one task per point) and a
// collector job that builds the same comparison once the array has succeeded.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"

extern char** environ;

namespace aifsim::cli {

namespace {

struct Point {
  std::vector<std::string> sets;  // "key=value" for --set
  std::uint64_t seed = 1;
};

std::string as_set_value(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<Point> points_of(const nlohmann::json& doc, const std::string& file, std::filesystem::path& scenario) {
  JsonReader r(doc, file);
  scenario = std::filesystem::path(r.string("scenario"));
  if (scenario.is_relative()) scenario = std::filesystem::absolute(std::filesystem::path(file).parent_path() / scenario);
  std::vector<Point> points{Point{}};
  if (r.has("set")) {
    JsonReader set = r.object("set");
    for (const auto& [key, values] : r.raw("set").items()) {
      const auto& list = set.array(key);
      if (list.empty()) set.fail(key, "expected at least one value");
      std::vector<Point> next;
      for (const auto& p : points)
        for (const auto& v : list) {
          Point q = p;
          q.sets.push_back(key + "=" + as_set_value(v));
          next.push_back(q);
        }
      points = std::move(next);
    }
    set.finish();
  }
  std::vector<std::uint64_t> seeds{1};
  if (r.has("seeds")) {
    seeds.clear();
    for (const auto& s : r.array("seeds")) {
      if (!s.is_number_unsigned()) r.fail("seeds", "expected non-negative integers");
      seeds.push_back(s.get<std::uint64_t>());
    }
    if (seeds.empty()) r.fail("seeds", "expected at least one seed");
  }
  r.finish();
  std::vector<Point> out;
  for (const auto& p : points)
    for (auto seed : seeds) {
      Point q = p;
      q.seed = seed;
      out.push_back(q);
    }
  if (out.size() > 100000) throw InputError(file, "more than 100,000 points in the sweep");
  return out;
}

std::vector<std::string> run_args(const std::string& exe, const std::filesystem::path& scenario, const Point& p,
                                  const std::filesystem::path& dir) {
  std::vector<std::string> a{exe, "run", scenario.string(), "-q", "-o", dir.string(), "--set", "seed=" + std::to_string(p.seed)};
  for (const auto& s : p.sets) {
    a.push_back("--set");
    a.push_back(s);
  }
  return a;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

int command_sweep(const SweepArgs& args) {
  const auto doc = load_json_file(args.file);
  std::filesystem::path scenario;
  const auto points = points_of(doc, args.file, scenario);
  const std::filesystem::path out = std::filesystem::absolute(args.output);
  std::filesystem::create_directories(out);
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::filesystem::path> dirs;
  {
    std::ofstream list(out / "points.csv", std::ios::binary | std::ios::trunc);
    list << "point,seed,set\n";
    for (std::size_t i = 0; i < points.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "point-%05zu", i);
      dirs.push_back(out / name);
      std::string sets;
      for (const auto& s : points[i].sets) {
        if (!sets.empty()) sets += ' ';
        sets += s;
      }
      list << name << ',' << points[i].seed << ",\"" << sets << "\"\n";
    }
  }
  if (args.slurm) {
    // One array task per point: the task reads its command line from points.args.
    std::ofstream a(out / "points.args", std::ios::binary | std::ios::trunc);
    for (std::size_t i = 0; i < points.size(); ++i) {
      std::string line;
      for (const auto& w : run_args(exe, scenario, points[i], dirs[i])) {
        if (!line.empty()) line += ' ';
        line += shell_quote(w);
      }
      a << line << '\n';
    }
    a.close();
    std::ofstream s(out / "sweep.sbatch", std::ios::binary | std::ios::trunc);
    s << "#!/bin/bash\n#SBATCH --job-name=aifsim-sweep\n#SBATCH --array=0-" << points.size() - 1
      << "\n#SBATCH --ntasks=1\n#SBATCH --output=" << (out / "slurm-%A_%a.out").string() << "\n"
      << "set -euo pipefail\neval \"$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " << shell_quote((out / "points.args").string())
      << ")\"\n";
    s.close();
    std::ofstream c(out / "collect.sbatch", std::ios::binary | std::ios::trunc);
    c << "#!/bin/bash\n#SBATCH --job-name=aifsim-collect\n#SBATCH --ntasks=1\n#SBATCH --output="
      << (out / "slurm-collect-%j.out").string() << "\nset -euo pipefail\n" << shell_quote(exe) << " compare -q -o "
      << shell_quote(out.string());
    for (const auto& d : dirs) c << ' ' << shell_quote(d.string());
    c << '\n';
    c.close();
    std::ofstream sub(out / "submit.sh", std::ios::binary | std::ios::trunc);
    sub << "#!/bin/bash\n# Submits the sweep as a job array and the comparison after it.\nset -euo pipefail\n"
        << "array=$(sbatch --parsable " << shell_quote((out / "sweep.sbatch").string()) << ")\n"
        << "sbatch --parsable --dependency=afterok:${array%%;*} " << shell_quote((out / "collect.sbatch").string()) << "\n";
    sub.close();
    std::filesystem::permissions(out / "submit.sh", std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
    if (!args.quiet)
      std::cout << "sweep: " << points.size() << " points written as a Slurm job array; submit with " << (out / "submit.sh").string()
                << '\n';
    return 0;
  }
  // Local: -j children at a time, in point order.
  const int jobs = std::max(1, args.jobs);
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0, failed = 0;
  auto wait_one = [&] {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    auto it = running.find(pid);
    if (it == running.end()) return;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
      std::cerr << "aifsim: sweep: " << dirs[it->second].filename().string() << " failed (exit "
                << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")\n";
    }
    running.erase(it);
  };
  while (next < points.size() || !running.empty()) {
    while (next < points.size() && static_cast<int>(running.size()) < jobs) {
      auto words = run_args(exe, scenario, points[next], dirs[next]);
      std::vector<char*> argv;
      for (auto& w : words) argv.push_back(w.data());
      argv.push_back(nullptr);
      pid_t pid = 0;
      if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        throw SimulationError("sweep: cannot start " + exe);
      running[pid] = next++;
    }
    wait_one();
  }
  if (failed > 0) throw InputError(args.file, std::to_string(failed) + " of " + std::to_string(points.size()) + " runs failed");
  CompareArgs cmp;
  for (const auto& d : dirs) cmp.dirs.push_back(d.string());
  cmp.output = out.string();
  cmp.quiet = true;
  command_compare(cmp);
  if (!args.quiet)
    std::cout << "sweep: " << points.size() << " runs, " << jobs << " at a time -> " << (out / "compare.md").string() << '\n';
  return 0;
}

}  // namespace aifsim::cli
