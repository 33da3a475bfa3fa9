// Batch scheduling policies: pure functions of (queue, cluster, now) returning
// decisions as values. The batch stack applies them; a policy never touches the engine.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "hpc/job.hpp"

namespace aifsim::hpc {

class BatchPolicy {
 public:
  virtual ~BatchPolicy() = default;
  virtual std::string name() const = 0;
  // Called once per instant at which the queue or the cluster changed.
  virtual Decisions pick(const QueueView& queue, const ClusterView& cluster, double now) = 0;
};

// Registry: every policy registers one factory under its name.
std::unique_ptr<BatchPolicy> make_batch_policy(const std::string& name);
std::vector<std::string> batch_policy_names();

}  // namespace aifsim::hpc
