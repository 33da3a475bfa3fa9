// The batch stack: admits jobs from a stream, keeps the queue (FCFS order), asks its
// policy once per instant at which something changed, starts what the policy picks,
// and ends jobs at their runtime or, past their limit, kills them (Slurm's default).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "hpc/job.hpp"
#include "hpc/policy.hpp"
#include "metrics/batch_recorder.hpp"
#include "workload/job_request.hpp"

namespace aifsim::hpc {

struct BatchConfig {
  std::string scheduler = "easy";
  ResourceUnit unit = ResourceUnit::PROCS;
  int capacity = 0;        // units the batch partition owns at the start
  int max_capacity = 0;    // units on the whole machine (0: capacity): wider jobs are rejected
  int procs_per_node = 1;  // NODES: width = ceil(procs / procs_per_node)
  bool kill_at_limit = true;  // false: "--overrun run", jobs run their full runtime
  bool strict = false;        // a job that can never run is an input error, not a rejection
};

struct BatchStats {
  std::uint64_t jobs_entered = 0;
  std::uint64_t scheduling_passes = 0;
  std::size_t peak_queue = 0;
};

class BatchStack {
 public:
  BatchStack(engine::Engine& engine, BatchConfig config, workload::JobSource& source,
             metrics::BatchRecorder& recorder);
  // Posts the first arrival; the engine's run() does the rest.
  void start();
  const BatchStats& stats() const { return stats_; }
  const BatchConfig& config() const { return config_; }
  // Invariant check for the end of a run: nothing waiting, nothing running.
  void check_drained() const;

  // The partition grows and shrinks when a broker moves nodes (dual-stack factory).
  int capacity() const { return capacity_; }
  int free_units() const { return free_; }
  int queued_units() const;  // the widths of every waiting job
  std::size_t queued() const { return queue_.size(); }
  void grow(int units);
  void shrink(int units);  // only free units
  // A job from inside the simulation (a pilot holding nodes for Kubernetes): queued and
  // scheduled like any other, reported through the callbacks rather than jobs.csv.
  // on_start gets the start time; on_end runs when it ends (its runtime elapsed).
  void submit_external(int width, double runtime_s, std::function<void()> on_start, std::function<void()> on_end);

  // At the end of the simulated time: waiting jobs end as pending_at_end, running ones as
  // running_at_end (their end is now); nothing is left.
  void stop_at_horizon();

 private:
  struct Active {
    BatchJob job;
    double start_s = 0;
    bool killed = false;
    std::size_t running_pos = 0;
  };

  void schedule_next_arrival();
  void arrive(workload::JobRequest request);
  std::optional<std::string> rejection_reason(const workload::JobRequest& r, int& width) const;
  void request_pass();
  void pass();
  void start_job(std::size_t queue_pos);
  void finish(std::size_t slot);
  void report(const BatchJob& job, std::optional<double> start, std::optional<double> end, const std::string& state,
              const std::string& reason, std::optional<double> requested, std::optional<double> runtime,
              const std::string& origin);

  engine::Engine& engine_;
  BatchConfig config_;
  std::unique_ptr<BatchPolicy> policy_;
  workload::JobSource& source_;
  metrics::BatchRecorder& recorder_;

  std::vector<QueuedJob> queue_;      // the policy's view, priority order
  std::vector<BatchJob> queued_jobs_; // parallel to queue_
  std::vector<RunningJob> running_;   // the policy's view
  std::vector<std::size_t> running_slot_;  // parallel to running_: slot in active_
  std::vector<std::optional<Active>> active_;
  std::vector<std::size_t> free_slots_;
  std::vector<bool> started_scratch_;
  int free_ = 0;
  int capacity_ = 0;
  int external_allocated_ = 0;
  std::vector<engine::TimerId> end_timers_;  // by active slot
  struct ExternalHooks {
    std::function<void()> on_start, on_end;
  };
  std::map<std::uint64_t, ExternalHooks> external_;  // by job index
  std::uint64_t next_external_index_ = std::uint64_t{1} << 62;
  bool pass_pending_ = false;
  bool released_early_ = false;
  BatchStats stats_;
};

}  // namespace aifsim::hpc
