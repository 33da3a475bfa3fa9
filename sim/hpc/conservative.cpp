// Conservative backfilling (Mu'alem & Feitelson 2001): every waiting job holds a
// reservation, and a job may start early only if that delays no reservation. Each pass
// rebuilds the timeline from running jobs (by requested times) and the reservations
// already promised, then, in queue order, takes each job's reservation out and puts it
// back at the earliest slot ("compression"): a job's new slot is never later than its
// old one, because its old slot is still free when it is re-placed. New jobs are placed
// after every older one. Jobs whose slot is now start.
//
// Example: 10 units; running R:8 until t=100; queue [H:10 for 50 s, B:2 for 500 s,
// C:2 for 80 s]. H is placed at t=100. B fits now, but would hold 2 units during
// [100,150) where H needs all 10: B is placed at t=150. C ends by t=80 <= 100: it
// starts now. EASY gives the same here; they differ once a job behind the head holds a
// reservation that only conservative protects (see tests/unit/test_batch_policies.cpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "hpc/capacity_profile.hpp"
#include "hpc/policy.hpp"

namespace aifsim::hpc {

namespace {
class ConservativePolicy final : public BatchPolicy {
 public:
  std::string name() const override { return "conservative"; }

  Decisions pick(const QueueView& queue, const ClusterView& cluster, double now) override {
    Decisions d;
    const auto& jobs = queue.jobs;
    if (jobs.empty()) return d;
    profile_.reset(now, cluster.capacity);
    for (const auto& r : cluster.running) profile_.add(now, std::max(r.expected_end_s, now), -r.width);
    slot_.assign(jobs.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i].reservation_s) continue;
      slot_[i] = std::max(*jobs[i].reservation_s, now);
      profile_.add(slot_[i], slot_[i] + jobs[i].requested_s, -jobs[i].width);
    }
    int free = cluster.free;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const QueuedJob& job = jobs[i];
      if (!std::isnan(slot_[i])) profile_.add(slot_[i], slot_[i] + job.requested_s, job.width);
      double start = profile_.earliest_start(now, job.requested_s, job.width);
      profile_.add(start, start + job.requested_s, -job.width);
      // The actual free count guards against running jobs past their requested time
      // (overrun mode), which the timeline counts as ending now.
      if (start == now && job.width <= free) {
        d.start.push_back(i);
        free -= job.width;
      } else {
        d.reserve.push_back({i, start});
      }
    }
    return d;
  }

 private:
  CapacityProfile profile_;   // scratch, reused across passes
  std::vector<double> slot_;  // previous reservation per queue position (NaN: none)
};
}  // namespace

std::unique_ptr<BatchPolicy> make_conservative_policy() { return std::make_unique<ConservativePolicy>(); }

}  // namespace aifsim::hpc
