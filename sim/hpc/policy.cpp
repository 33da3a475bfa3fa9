#include "hpc/policy.hpp"

#include <functional>
#include <utility>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::hpc {

std::unique_ptr<BatchPolicy> make_fcfs_policy();
std::unique_ptr<BatchPolicy> make_easy_policy();
std::unique_ptr<BatchPolicy> make_conservative_policy();

namespace {
using Factory = std::unique_ptr<BatchPolicy> (*)();
const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> entries = {
      {"fcfs", &make_fcfs_policy},
      {"easy", &make_easy_policy},
      {"conservative", &make_conservative_policy},
  };
  return entries;
}
}  // namespace

std::vector<std::string> batch_policy_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<BatchPolicy> make_batch_policy(const std::string& name) {
  for (const auto& [n, factory] : registry())
    if (n == name) return factory();
  std::string msg = "unknown batch scheduler \"" + name + "\"; expected " + join_alternatives(batch_policy_names());
  std::string near = nearest_name(name, batch_policy_names());
  if (!near.empty()) msg += " (did you mean \"" + near + "\"?)";
  throw InputError("", msg);
}

std::string to_string(ResourceUnit unit) {
  switch (unit) {
    case ResourceUnit::PROCS: return "procs";
    case ResourceUnit::GPUS: return "gpus";
    case ResourceUnit::NODES: return "nodes";
  }
  return "?";
}

std::string to_string(JobState state) {
  switch (state) {
    case JobState::COMPLETED: return "completed";
    case JobState::TIMEOUT: return "timeout";
    case JobState::REJECTED: return "rejected";
  }
  return "?";
}

}  // namespace aifsim::hpc
