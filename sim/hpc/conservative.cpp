// Conservative backfilling (Mu'alem & Feitelson 2001): every waiting job holds a
// reservation, and a job may start early only if that delays no reservation. Each pass
// rebuilds the timeline from running jobs (by requested times) and the reservations
// already promised. When capacity came back early (a job ended before its requested
// time), the schedule is compressed: in queue order, each reserved job is taken out and
// put back at its earliest slot, never later than its old one (its old slot is still
// free when it is re-placed); sweeps repeat until no reservation moves, because moving
// a later job up can open room for an earlier one. New jobs are then placed, in queue
// order, after every older reservation. Jobs whose slot is now start. Without an early
// release no slot can improve, so a pass only places the new jobs.
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

#include "core/error.hpp"
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
    // Overrun mode can leave the plan behind reality: a running job past its requested
    // end, or a job whose promised start has passed while its units were still held.
    bool disturbed = false;
    for (const auto& r : cluster.running) disturbed = disturbed || r.expected_end_s < now;
    slot_.assign(jobs.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i].reservation_s) continue;
      disturbed = disturbed || *jobs[i].reservation_s < now;
      slot_[i] = std::max(*jobs[i].reservation_s, now);
      profile_.add(slot_[i], slot_[i] + jobs[i].requested_s, -jobs[i].width);
    }
    if (cluster.released_early || disturbed) compress(jobs, now, disturbed);
    int free = cluster.free;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const QueuedJob& job = jobs[i];
      if (std::isnan(slot_[i])) {
        slot_[i] = profile_.earliest_start(now, job.requested_s, job.width);
        profile_.add(slot_[i], slot_[i] + job.requested_s, -job.width);
      }
      // The actual free count guards against running jobs past their requested time
      // (overrun mode), which the timeline counts as ending now.
      if (slot_[i] == now && job.width <= free) {
        d.start.push_back(i);
        free -= job.width;
      } else {
        d.reserve.push_back({i, slot_[i]});
      }
    }
    return d;
  }

 private:
  // Re-places every reserved job at its earliest slot, in queue order, until none moves.
  // Slots only move earlier, so the sweeps end; a disturbed plan (overrun mode) can push
  // slots later, and the sweep cap bounds that case.
  void compress(std::span<const QueuedJob> jobs, double now, bool disturbed) {
    bool moved = true;
    for (int sweep = 0; moved && sweep < 64; ++sweep) {
      moved = false;
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (std::isnan(slot_[i])) continue;
        const double duration = jobs[i].requested_s;
        profile_.add(slot_[i], slot_[i] + duration, jobs[i].width);
        double start = profile_.earliest_start(now, duration, jobs[i].width);
        AIFSIM_CHECK(disturbed || start <= slot_[i], "compression moved a reservation later");
        moved = moved || start < slot_[i];
        slot_[i] = start;
        profile_.add(start, start + duration, -jobs[i].width);
      }
    }
  }

  CapacityProfile profile_;   // scratch, reused across passes
  std::vector<double> slot_;  // previous reservation per queue position (NaN: none)
};
}  // namespace

std::unique_ptr<BatchPolicy> make_conservative_policy() { return std::make_unique<ConservativePolicy>(); }

}  // namespace aifsim::hpc
