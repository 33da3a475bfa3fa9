// EASY backfilling (Lifka 1995; Mu'alem & Feitelson 2001). Jobs start from the head
// while they fit. The first job that does not fit gets a reservation at the shadow
// time: the earliest moment, by the *requested* times of running jobs, at which enough
// units are free for it. A later job may start now (backfill) if it fits now and either
// ends, by its requested time, no later than the shadow time, or uses no more than the
// extra units (those free at the shadow time beyond the head's needs).
//
// Example: 10 units; running R:8 until t=100; queue [H:6, A:2 for 50 s, B:2 for 500 s,
// C:2 for 500 s]. Free now 2: H waits, shadow = 100 (R ends: 10 free), extra = 10-6 = 4.
// A ends at 50 <= 100: backfills (free 0). Nothing else fits now. Had A been absent,
// B (500 s > shadow) would backfill on the extra units (extra 4 -> 2) and C would not fit now.
#include <algorithm>
#include <limits>
#include <memory>

#include "hpc/policy.hpp"

namespace aifsim::hpc {

namespace {
class EasyPolicy final : public BatchPolicy {
 public:
  std::string name() const override { return "easy"; }

  Decisions pick(const QueueView& queue, const ClusterView& cluster, double now) override {
    Decisions d;
    int free = cluster.free;
    std::size_t i = 0;
    const auto& jobs = queue.jobs;
    for (; i < jobs.size() && jobs[i].width <= free; ++i) {
      d.start.push_back(i);
      free -= jobs[i].width;
    }
    if (i == jobs.size()) return d;
    auto [shadow, extra] = reserve_head(d, jobs, i, cluster, free, now);
    for (std::size_t j = i + 1; j < jobs.size() && free > 0; ++j) {
      const QueuedJob& job = jobs[j];
      if (job.width > free) continue;
      if (now + job.requested_s <= shadow) {
        d.start.push_back(j);
        free -= job.width;
      } else if (job.width <= extra) {
        d.start.push_back(j);
        free -= job.width;
        extra -= job.width;
      }
    }
    return d;
  }

 private:
  // Computes the head's shadow time and the extra units, and records the reservation.
  std::pair<double, int> reserve_head(Decisions& d, std::span<const QueuedJob> jobs, std::size_t head,
                                      const ClusterView& cluster, int free, double now) {
    ends_.clear();
    for (const auto& r : cluster.running) ends_.push_back({std::max(r.expected_end_s, now), r.width});
    for (std::size_t k : d.start) ends_.push_back({now + jobs[k].requested_s, jobs[k].width});
    std::sort(ends_.begin(), ends_.end());
    int available = free;
    double shadow = std::numeric_limits<double>::infinity();
    int extra = 0;
    for (const auto& [end, width] : ends_) {
      available += width;
      if (available >= jobs[head].width) {
        shadow = end;
        extra = available - jobs[head].width;
        break;
      }
    }
    d.reserve.push_back({head, shadow});
    return {shadow, extra};
  }

  std::vector<std::pair<double, int>> ends_;  // scratch, reused across passes
};
}  // namespace

std::unique_ptr<BatchPolicy> make_easy_policy() { return std::make_unique<EasyPolicy>(); }

}  // namespace aifsim::hpc
