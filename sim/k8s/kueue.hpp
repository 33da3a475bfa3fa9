// Kueue quota admission (kueue.x-k8s.io/v1beta1): a Job's pods form one Workload that is
// admitted all or nothing against its ClusterQueue's quota, without looking at nodes.
//
// Each admission cycle takes the head of every ClusterQueue (priority, then creation
// time), assigns each resource group the first flavor whose quota fits (borrowing the
// cohort's unused nominal quota, within borrowingLimit), and admits the heads that fit,
// non-borrowing ones first. A head that does not fit but fits its nominal quota may evict
// lower-priority workloads of its queue (withinClusterQueue) or workloads of cohort
// queues that are borrowing (reclaimWithinCohort); the evicted go back to pending.
// Cycles repeat until nothing changes, as Kueue's scheduler loop does between events.
//
// Worked example: cohort "pool" = A (8 GPUs nominal) + B (0), B reclaimWithinCohort Any.
// B's job b1 (6 GPUs) is admitted by borrowing A's idle quota. A's job a1 (4 GPUs) does
// not fit (8 - 6 = 2 free), fits A's nominal, and A is reclaiming what B borrowed: b1 is
// evicted, a1 admitted; b1 waits (only 8 - 4 = 4 GPUs are free now).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "k8s/objects.hpp"

namespace aifsim::k8s::kueue {

// BestEffortFIFO: a head that does not fit is set aside until quota is released in its
// cohort, so later workloads may pass it. StrictFIFO: it stays the head and blocks.
enum class QueueingStrategy { BEST_EFFORT_FIFO, STRICT_FIFO };

struct Options {
  // ClusterQueue.spec.queueingStrategy by queue name, which objects.hpp does not carry;
  // queues not named here are BestEffortFIFO, Kueue's default.
  std::map<std::string, QueueingStrategy> queueing_strategy;
};

struct Workload {
  std::uint64_t id = 0;
  std::string namespace_ = "default";
  std::string queue;  // LocalQueue name (label kueue.x-k8s.io/queue-name)
  int priority = 0;
  double created_s = 0;
  ResourceList requests;  // whole job: pods x per-pod requests
};

struct Admission {
  std::uint64_t workload = 0;
  std::string cluster_queue;
  std::map<std::string, std::string> flavors;  // resource -> flavor
  bool borrowing = false;                      // uses quota lent by the cohort
  double admitted_s = 0;
};

enum class EvictionReason { IN_CLUSTER_QUEUE, IN_COHORT_RECLAMATION };

struct Eviction {
  std::uint64_t workload = 0;
  std::string cluster_queue;
  std::uint64_t preemptor = 0;
  EvictionReason reason = EvictionReason::IN_CLUSTER_QUEUE;
};

enum class PendingKind {
  NO_LOCAL_QUEUE,     // its LocalQueue does not exist
  NO_CLUSTER_QUEUE,   // its LocalQueue names a ClusterQueue that does not exist
  EXCEEDS_QUOTA,      // can never fit: above nominal + borrowable in every flavor, or an uncovered resource
  WAITING_FOR_QUOTA,  // could fit, not now, and preemption cannot help
  QUEUED,             // not evaluated yet: behind a StrictFIFO head, skipped this cycle, or just requeued
};

struct PendingReason {
  PendingKind kind = PendingKind::QUEUED;
  std::string message;
};

// What one call to QuotaManager::cycle changed. Apply `evicted` first, then `admitted`:
// a workload in both was evicted and admitted again (maybe on another flavor) and must
// restart; one admitted and evicted within the same call appears in neither.
struct AdmissionCycle {
  std::vector<Eviction> evicted;                   // admitted before the call, in eviction order
  std::vector<Admission> admitted;                 // admitted after the call, in admission order
  std::map<std::uint64_t, PendingReason> pending;  // every workload pending after the call
};

class QuotaManager {
 public:
  // Rejects (InputError, naming the manifest and field) duplicate queues or flavors,
  // unknown preemption policies, negative quotas, borrowingLimit without a cohort,
  // resource groups that overlap, and strategies for unknown queues. A LocalQueue naming
  // a missing ClusterQueue is not an error: its workloads stay pending with that reason.
  QuotaManager(std::vector<ClusterQueue> cluster_queues, std::vector<LocalQueue> local_queues,
               Options options = {});
  QuotaManager(QuotaManager&&) noexcept;
  QuotaManager& operator=(QuotaManager&&) noexcept;
  ~QuotaManager();

  // Queues a new workload (ids are unique for the manager's life).
  void submit(const Workload& workload);
  // The job completed or was deleted: releases its quota if admitted, else drops it from its queue.
  void finish(std::uint64_t id);
  // Runs admission cycles at simulated time now_s (never decreasing) until nothing changes.
  AdmissionCycle cycle(double now_s);

  // Quota admitted workloads hold in (queue, flavor, resource), in thousandths.
  Milli usage(const std::string& cluster_queue, const std::string& flavor, const std::string& resource) const;
  std::size_t pending_count(const std::string& cluster_queue) const;  // queued there, admissible or not
  std::size_t admitted_count(const std::string& cluster_queue) const;
  std::optional<Admission> admission(std::uint64_t id) const;  // none while pending

 private:
  struct State;  // queues, quota usage and workloads: the machinery lives in kueue.cpp
  std::unique_ptr<State> state_;
};

}  // namespace aifsim::k8s::kueue
