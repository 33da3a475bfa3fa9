#include "hpc/batch_stack.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::hpc {

BatchStack::BatchStack(engine::Engine& engine, BatchConfig config, workload::JobSource& source,
                       metrics::BatchRecorder& recorder)
    : engine_(engine),
      config_(std::move(config)),
      policy_(make_batch_policy(config_.scheduler)),
      source_(source),
      recorder_(recorder),
      free_(config_.capacity),
      capacity_(config_.capacity) {
  if (config_.max_capacity == 0) config_.max_capacity = config_.capacity;
  if (config_.max_capacity <= 0) throw InputError("", "the batch machine has no capacity (0 " + to_string(config_.unit) + ")");
  if (config_.capacity < 0 || config_.capacity > config_.max_capacity)
    throw InputError("", "the batch partition's capacity exceeds the machine's");
  if (config_.procs_per_node <= 0) throw InputError("", "procs_per_node must be positive");
}

void BatchStack::start() { schedule_next_arrival(); }

void BatchStack::schedule_next_arrival() {
  auto request = source_.next();
  if (!request) return;
  if (request->submit_s < engine_.now())
    throw InputError(request->origin, "submit time " + format_number(request->submit_s) +
                                          " is earlier than the previous job's; jobs must be sorted by submit time");
  double at = request->submit_s;
  engine_.at(at, [this, r = std::move(*request)]() mutable { arrive(std::move(r)); });
}

std::optional<std::string> BatchStack::rejection_reason(const workload::JobRequest& r, int& width) const {
  if (!r.procs) return "unknown_size";
  if (!r.runtime_s) return "unknown_runtime";
  std::int64_t units = *r.procs;
  if (config_.unit == ResourceUnit::NODES) units = (units + config_.procs_per_node - 1) / config_.procs_per_node;
  if (units > config_.max_capacity) return "wider_than_machine";
  width = static_cast<int>(units);
  return std::nullopt;
}

void BatchStack::arrive(workload::JobRequest r) {
  // Read ahead first, so that every arrival of this instant is queued before the pass.
  schedule_next_arrival();
  ++stats_.jobs_entered;
  BatchJob job;
  job.index = r.index;
  job.id = r.id;
  job.submit_s = r.submit_s;
  job.procs = r.procs.value_or(0);
  int width = 0;
  if (auto reason = rejection_reason(r, width)) {
    if (config_.strict)
      throw InputError(r.origin, "job " + std::to_string(r.id) + " can never run: " + *reason +
                                     (*reason == "wider_than_machine"
                                          ? " (" + std::to_string(job.procs) + " procs on a machine of " +
                                                std::to_string(config_.max_capacity) + " " + to_string(config_.unit) + ")"
                                          : ""));
    report(job, std::nullopt, std::nullopt, "rejected", *reason, r.requested_s, r.runtime_s, r.origin);
    return;
  }
  job.width = width;
  job.runtime_s = *r.runtime_s;
  // Without a stated limit, the runtime stands in for it: a perfect estimate.
  job.requested_s = r.requested_s.value_or(job.runtime_s);
  queue_.push_back(QueuedJob{job.index, job.width, job.requested_s, job.submit_s, std::nullopt});
  queued_jobs_.push_back(job);
  stats_.peak_queue = std::max(stats_.peak_queue, queue_.size());
  request_pass();
}

void BatchStack::request_pass() {
  if (pass_pending_) return;
  pass_pending_ = true;
  engine_.at(engine_.now(), [this] { pass(); }, engine::Phase::END_OF_INSTANT);
}

void BatchStack::pass() {
  pass_pending_ = false;
  ++stats_.scheduling_passes;
  const double now = engine_.now();
  if (!queue_.empty()) {
    ClusterView cluster{capacity_, free_, running_, released_early_};
    released_early_ = false;
    Decisions d = policy_->pick(QueueView{queue_}, cluster, now);
    for (const auto& [pos, when] : d.reserve) {
      AIFSIM_CHECK(pos < queue_.size(), "policy reserved a position outside the queue");
      AIFSIM_CHECK(when >= now, "policy promised a start in the past");
      queue_[pos].reservation_s = when;
    }
    if (!d.start.empty()) {
      started_scratch_.assign(queue_.size(), false);
      for (std::size_t pos : d.start) {
        AIFSIM_CHECK(pos < queue_.size() && !started_scratch_[pos], "policy started a job twice or outside the queue");
        started_scratch_[pos] = true;
        start_job(pos);
      }
      std::size_t out = 0;
      for (std::size_t i = 0; i < queue_.size(); ++i) {
        if (started_scratch_[i]) continue;
        if (out != i) {
          queue_[out] = queue_[i];
          queued_jobs_[out] = std::move(queued_jobs_[i]);
        }
        ++out;
      }
      queue_.resize(out);
      queued_jobs_.resize(out);
    }
  }
  recorder_.sample(metrics::ClusterSample{now, capacity_ - free_, capacity_, static_cast<int>(running_.size()),
                                          static_cast<int>(queue_.size()), external_allocated_});
}

void BatchStack::start_job(std::size_t queue_pos) {
  const BatchJob& job = queued_jobs_[queue_pos];
  AIFSIM_CHECK(job.width <= free_, "policy started job " + std::to_string(job.id) + " of width " +
                                       std::to_string(job.width) + " with only " + std::to_string(free_) + " free");
  const double now = engine_.now();
  free_ -= job.width;
  std::size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = active_.size();
    active_.emplace_back();
  }
  bool killed = config_.kill_at_limit && job.runtime_s > job.requested_s;
  double duration = killed ? job.requested_s : job.runtime_s;
  active_[slot] = Active{job, now, killed, running_.size()};
  running_.push_back(RunningJob{job.index, job.width, now, now + job.requested_s});
  running_slot_.push_back(slot);
  if (end_timers_.size() < active_.size()) end_timers_.resize(active_.size());
  end_timers_[slot] = engine_.at(now + duration, [this, slot] { finish(slot); });
  if (job.external) {
    external_allocated_ += job.width;
    auto hook = external_.at(job.index).on_start;
    if (hook) hook();
  }
}

void BatchStack::finish(std::size_t slot) {
  Active a = std::move(*active_[slot]);
  active_[slot].reset();
  free_slots_.push_back(slot);
  // Swap-remove from the running view, keeping the moved job's position current.
  std::size_t pos = a.running_pos;
  std::size_t last = running_.size() - 1;
  if (pos != last) {
    running_[pos] = running_[last];
    running_slot_[pos] = running_slot_[last];
    active_[running_slot_[pos]]->running_pos = pos;
  }
  running_.pop_back();
  running_slot_.pop_back();
  free_ += a.job.width;
  if (engine_.now() < a.start_s + a.job.requested_s) released_early_ = true;
  AIFSIM_CHECK(free_ <= capacity_, "more units free than the partition has");
  if (a.job.external) {
    external_allocated_ -= a.job.width;
    auto hooks = std::move(external_.at(a.job.index));
    external_.erase(a.job.index);
    if (hooks.on_end) hooks.on_end();
  } else {
    report(a.job, a.start_s, engine_.now(), a.killed ? "timeout" : "completed", "", a.job.requested_s, a.job.runtime_s, "");
  }
  request_pass();
}

void BatchStack::report(const BatchJob& job, std::optional<double> start, std::optional<double> end,
                        const std::string& state, const std::string& reason, std::optional<double> requested,
                        std::optional<double> runtime, const std::string& origin) {
  metrics::JobRecord r;
  r.index = job.index;
  r.id = job.id;
  r.submit_s = job.submit_s;
  r.start_s = start;
  r.end_s = end;
  r.procs = job.procs;
  r.width = job.width;
  r.requested_s = requested;
  r.runtime_s = runtime;
  r.state = state;
  r.reason = reason;
  r.origin = origin;
  recorder_.job_ended(r);
}

void BatchStack::check_drained() const {
  AIFSIM_CHECK(queue_.empty(), std::to_string(queue_.size()) + " jobs still queued at the end of the run");
  AIFSIM_CHECK(running_.empty(), std::to_string(running_.size()) + " jobs still running at the end of the run");
  AIFSIM_CHECK(free_ == capacity_, "units still allocated at the end of the run");
}

void BatchStack::submit_external(int width, double runtime_s, std::function<void()> on_start, std::function<void()> on_end) {
  AIFSIM_CHECK(width > 0 && width <= config_.max_capacity, "external batch job wider than the machine");
  BatchJob job;
  job.index = next_external_index_++;
  job.id = -1;
  job.submit_s = engine_.now();
  job.width = width;
  job.runtime_s = runtime_s;
  job.requested_s = runtime_s;
  job.external = true;
  external_[job.index] = ExternalHooks{std::move(on_start), std::move(on_end)};
  queue_.push_back(QueuedJob{job.index, job.width, job.requested_s, job.submit_s, std::nullopt});
  queued_jobs_.push_back(job);
  request_pass();
}

int BatchStack::queued_units() const {
  int n = 0;
  for (const auto& q : queue_) n += q.width;
  return n;
}

void BatchStack::grow(int units) {
  AIFSIM_CHECK(units >= 0 && capacity_ + units <= config_.max_capacity, "batch partition grown beyond the machine");
  capacity_ += units;
  free_ += units;
  // Plans made for the old capacity may now be wrong: policies re-plan as after an early end.
  released_early_ = true;
  request_pass();
}

void BatchStack::shrink(int units) {
  AIFSIM_CHECK(units >= 0 && units <= free_, "only free batch units can leave the partition");
  capacity_ -= units;
  free_ -= units;
  released_early_ = true;
  request_pass();
}

void BatchStack::stop_at_horizon() {
  const double now = engine_.now();
  for (std::size_t slot = 0; slot < active_.size(); ++slot) {
    if (!active_[slot]) continue;
    engine_.cancel(end_timers_[slot]);
    const Active& a = *active_[slot];
    if (!a.job.external) report(a.job, a.start_s, now, "running_at_end", "", a.job.requested_s, a.job.runtime_s, "");
    free_ += a.job.width;
    active_[slot].reset();
  }
  running_.clear();
  running_slot_.clear();
  for (const auto& job : queued_jobs_)
    if (!job.external) report(job, std::nullopt, std::nullopt, "pending_at_end", "", job.requested_s, job.runtime_s, "");
  external_.clear();
  queue_.clear();
  queued_jobs_.clear();
}

}  // namespace aifsim::hpc
