#include "k8s/queue.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace aifsim::k8s {

namespace {
// The first instant of the grid `period` at or after `t`.
double grid_at_or_after(double t, double period) { return std::ceil(t / period) * period; }
}  // namespace

double SchedulingQueue::backoff_duration_s(int attempts) const {
  // kube's calculateBackoffDuration: the initial backoff doubled once per earlier attempt.
  double d = timing_.initial_backoff_s;
  for (int i = 1; i < attempts; ++i) {
    d *= 2;
    if (d > timing_.max_backoff_s) return timing_.max_backoff_s;
  }
  return std::min(d, timing_.max_backoff_s);
}

void SchedulingQueue::add(PodId pod, int priority, double created_s) {
  AIFSIM_CHECK(!where_.count(pod), "scheduling queue: pod added twice");
  Entry e;
  e.priority = priority;
  e.created_s = created_s;
  where_[pod] = e;
  to_active(pod);
}

std::optional<SchedulingQueue::PodId> SchedulingQueue::pop() {
  if (active_.empty()) return std::nullopt;
  PodId pod = std::get<2>(*active_.begin());
  active_.erase(active_.begin());
  where_.at(pod).where = Where::IN_FLIGHT;
  return pod;
}

void SchedulingQueue::to_active(PodId pod) {
  Entry& e = where_.at(pod);
  e.where = Where::ACTIVE;
  active_.insert({-e.priority, e.created_s, pod});
}

void SchedulingQueue::to_backoff(PodId pod) {
  Entry& e = where_.at(pod);
  e.where = Where::BACKOFF;
  backoff_.insert({e.backoff_until_s, pod});
}

void SchedulingQueue::add_unschedulable(PodId pod, int attempts, double now_s) {
  AIFSIM_CHECK(where_.count(pod) && where_.at(pod).where == Where::IN_FLIGHT, "scheduling queue: a pod not in flight returned");
  Entry& e = where_.at(pod);
  e.attempts = attempts;
  e.backoff_until_s = now_s + backoff_duration_s(attempts);
  e.unschedulable_since_s = now_s;
  e.where = Where::UNSCHEDULABLE;
  unschedulable_.insert({now_s, pod});
}

void SchedulingQueue::add_backoff(PodId pod, int attempts, double now_s) {
  AIFSIM_CHECK(where_.count(pod) && where_.at(pod).where == Where::IN_FLIGHT, "scheduling queue: a pod not in flight returned");
  Entry& e = where_.at(pod);
  e.attempts = attempts;
  e.backoff_until_s = now_s + backoff_duration_s(attempts);
  to_backoff(pod);
}

void SchedulingQueue::move_all_to_active_or_backoff(double now_s) {
  for (const auto& [since, pod] : unschedulable_) {
    if (where_.at(pod).backoff_until_s > now_s) to_backoff(pod);
    else to_active(pod);
  }
  unschedulable_.clear();
}

void SchedulingQueue::flush(double now_s) {
  while (!backoff_.empty() && backoff_.begin()->first <= now_s) {
    PodId pod = backoff_.begin()->second;
    backoff_.erase(backoff_.begin());
    to_active(pod);
  }
  for (auto it = unschedulable_.begin(); it != unschedulable_.end() && now_s - it->first > timing_.max_unschedulable_s;) {
    PodId pod = it->second;
    it = unschedulable_.erase(it);
    if (where_.at(pod).backoff_until_s > now_s) to_backoff(pod);
    else to_active(pod);
  }
}

// The grids are the periodic flushes kube runs from the scheduler's start (t = 0).
std::optional<double> SchedulingQueue::next_flush_s(double now_s) const {
  std::optional<double> next;
  auto consider = [&](double t) { next = next ? std::min(*next, t) : t; };
  if (!backoff_.empty())
    consider(grid_at_or_after(std::max(backoff_.begin()->first, now_s), timing_.backoff_flush_period_s));
  if (!unschedulable_.empty()) {
    const double since = unschedulable_.begin()->first;
    double t = grid_at_or_after(std::max(since + timing_.max_unschedulable_s, now_s), timing_.unschedulable_flush_period_s);
    if (!(t - since > timing_.max_unschedulable_s)) t += timing_.unschedulable_flush_period_s;
    consider(t);
  }
  return next;
}

void SchedulingQueue::remove(PodId pod) {
  auto it = where_.find(pod);
  if (it == where_.end()) return;
  const Entry& e = it->second;
  switch (e.where) {
    case Where::ACTIVE: active_.erase({-e.priority, e.created_s, pod}); break;
    case Where::BACKOFF: backoff_.erase({e.backoff_until_s, pod}); break;
    case Where::UNSCHEDULABLE: unschedulable_.erase({e.unschedulable_since_s, pod}); break;
    case Where::IN_FLIGHT: break;
  }
  where_.erase(it);
}

}  // namespace aifsim::k8s
