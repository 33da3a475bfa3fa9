// First come, first served: start jobs from the head of the queue while they fit; the
// first job that does not fit blocks everyone behind it.
// Example: 10 procs, queue [A:6, B:6, C:2], all free -> A starts, B blocks, C waits
// although it would fit (that is what EASY and conservative backfilling fix).
#include <memory>

#include "hpc/policy.hpp"

namespace aifsim::hpc {

namespace {
class FcfsPolicy final : public BatchPolicy {
 public:
  std::string name() const override { return "fcfs"; }
  Decisions pick(const QueueView& queue, const ClusterView& cluster, double /*now*/) override {
    Decisions d;
    int free = cluster.free;
    for (std::size_t i = 0; i < queue.jobs.size() && queue.jobs[i].width <= free; ++i) {
      d.start.push_back(i);
      free -= queue.jobs[i].width;
    }
    return d;
  }
};
}  // namespace

std::unique_ptr<BatchPolicy> make_fcfs_policy() { return std::make_unique<FcfsPolicy>(); }

}  // namespace aifsim::hpc
