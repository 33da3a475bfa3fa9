// kube-scheduler's scheduling queue (pkg/scheduler/internal/queue): an active queue
// ordered by priority then creation time (the PrioritySort plugin), a backoff queue in
// which a pod that failed waits 1 s doubling per attempt up to 10 s, and a pool of
// unschedulable pods that only a cluster event (a pod deleted, a node added) or the
// 5-minute leftover flush sends back. kube flushes the backoff queue every second and
// the leftovers every 30 s; so does this queue, on the same grid, without a timer per
// second: `next_flush_s` says when the next flush can change anything.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace aifsim::k8s {

struct QueueTiming {
  double initial_backoff_s = 1;   // podInitialBackoffSeconds
  double max_backoff_s = 10;      // podMaxBackoffSeconds
  double max_unschedulable_s = 300;  // podMaxInUnschedulablePodsDuration
  double backoff_flush_period_s = 1;
  double unschedulable_flush_period_s = 30;
};

class SchedulingQueue {
 public:
  using PodId = std::uint64_t;
  explicit SchedulingQueue(QueueTiming timing = {}) : timing_(timing) {}

  // A new pod (or one whose backoff ended) waits in the active queue.
  void add(PodId pod, int priority, double created_s);
  // The next pod to schedule: highest priority, then earliest created, then lowest id.
  // It stays known to the queue (in flight) until returned by add_unschedulable or
  // add_backoff, or forgotten by remove() once bound.
  std::optional<PodId> pop();
  // A failed attempt (its `attempts`-th): the pod waits out its backoff, then in the
  // unschedulable pool until an event or the leftover flush moves it.
  void add_unschedulable(PodId pod, int attempts, double now_s);
  // A failure that is not the pod's (an error, a gang timeout): straight to backoff.
  void add_backoff(PodId pod, int attempts, double now_s);
  // A cluster event that may make unschedulable pods schedulable.
  void move_all_to_active_or_backoff(double now_s);
  // The periodic flushes due at `now_s` (on their grids).
  void flush(double now_s);
  // The earliest grid instant after which flush() would move a pod; none if none would.
  std::optional<double> next_flush_s(double now_s) const;
  void remove(PodId pod);

  bool contains(PodId pod) const { return where_.count(pod) > 0; }
  std::size_t size() const { return where_.size(); }
  std::size_t active_size() const { return active_.size(); }
  std::size_t backoff_size() const { return backoff_.size(); }
  std::size_t unschedulable_size() const { return unschedulable_.size(); }
  double backoff_duration_s(int attempts) const;

 private:
  enum class Where { ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT };
  struct Entry {
    int priority = 0;
    double created_s = 0;
    int attempts = 0;
    double backoff_until_s = 0;
    double unschedulable_since_s = 0;
    Where where = Where::ACTIVE;
  };
  using ActiveKey = std::tuple<int, double, PodId>;  // (-priority, created, id)
  void to_active(PodId pod);
  void to_backoff(PodId pod);

  QueueTiming timing_;
  std::map<PodId, Entry> where_;
  std::set<ActiveKey> active_;
  std::set<std::pair<double, PodId>> backoff_;        // (backoff end, pod)
  std::set<std::pair<double, PodId>> unschedulable_;  // (since, pod)
};

}  // namespace aifsim::k8s
