#include "metrics/batch_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/text.hpp"
#include "metrics/stats.hpp"

namespace aifsim::metrics {

namespace {
std::string opt(const std::optional<double>& v) { return v ? format_number(*v) : ""; }

std::ofstream open_csv(const std::filesystem::path& path, const char* header) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path.string(), "cannot create output file");
  out << header << '\n';
  return out;
}
}  // namespace

BatchMetrics::BatchMetrics(BatchMetricsOptions options) : options_(std::move(options)) {
  if (options_.output_dir) {
    const auto& dir = *options_.output_dir;
    jobs_csv_ = open_csv(dir / "jobs.csv", "job_id,submit_s,start_s,end_s,procs,requested_s,runtime_s,state");
    rejections_csv_ = open_csv(dir / "rejections.csv", "job_id,origin,reason");
    utilisation_csv_ = open_csv(dir / "utilisation.csv", "time_s,allocated,capacity,utilisation,running_jobs,queued_jobs");
  }
}

BatchMetrics::~BatchMetrics() = default;

void BatchMetrics::job_ended(const JobRecord& r) {
  AIFSIM_CHECK(!finished_, "job ended after metrics were finished");
  AIFSIM_CHECK(r.index >= next_to_write_, "job reported twice");
  ++ended_;
  ++states_[r.state];
  if (r.state == "rejected") {
    ++reasons_[r.reason];
    if (options_.output_dir) rejections_csv_ << r.id << ',' << r.origin << ',' << r.reason << '\n';
  } else if (r.state == "pending_at_end") {
    // Still waiting when the simulated time ended: no wait to count yet.
  } else {
    AIFSIM_CHECK(r.start_s && r.end_s, "a job that ran has start and end times");
    double wait = *r.start_s - r.submit_s;
    double run = *r.end_s - *r.start_s;
    AIFSIM_CHECK(wait >= 0, "job started before its submission");
    waits_.push_back(wait);
    slowdown_sum_ += std::max(1.0, (wait + run) / std::max(run, options_.slowdown_tau_s));
    used_unit_s_ += run * r.width;
    if (!any_run_ || r.submit_s < first_submit_s_) first_submit_s_ = r.submit_s;
    last_end_s_ = any_run_ ? std::max(last_end_s_, *r.end_s) : *r.end_s;
    any_run_ = true;
  }
  if (options_.keep_records) records_.push_back(r);
  if (!options_.output_dir) return;
  std::size_t slot = static_cast<std::size_t>(r.index - next_to_write_);
  if (reorder_.size() <= slot) reorder_.resize(slot + 1);
  AIFSIM_CHECK(!reorder_[slot], "job reported twice");
  reorder_[slot] = r;
  while (!reorder_.empty() && reorder_.front()) {
    write_job_row(*reorder_.front());
    reorder_.pop_front();
    ++next_to_write_;
  }
}

void BatchMetrics::write_job_row(const JobRecord& r) {
  jobs_csv_ << r.id << ',' << format_number(r.submit_s) << ',' << opt(r.start_s) << ',' << opt(r.end_s) << ','
            << r.procs << ',' << opt(r.requested_s) << ',' << opt(r.runtime_s) << ',' << r.state << '\n';
}

void BatchMetrics::sample(const ClusterSample& s) {
  capacity_ = s.capacity;
  // One row per instant: a later sample at the same time replaces the earlier one.
  if (pending_sample_ && pending_sample_->time_s != s.time_s) write_sample_row(*pending_sample_);
  pending_sample_ = s;
}

void BatchMetrics::write_sample_row(const ClusterSample& s) {
  if (options_.keep_records) kept_samples_.push_back(s);
  if (!options_.output_dir) return;
  double u = s.capacity > 0 ? static_cast<double>(s.allocated) / s.capacity : 0.0;
  utilisation_csv_ << format_number(s.time_s) << ',' << s.allocated << ',' << s.capacity << ',' << format_number(u)
                   << ',' << s.running_jobs << ',' << s.queued_jobs << '\n';
}

void BatchMetrics::finish(std::uint64_t jobs_entered) {
  if (pending_sample_) write_sample_row(*pending_sample_);
  pending_sample_.reset();
  finished_ = true;
  if (ended_ != jobs_entered)
    throw SimulationError("batch metrics: " + std::to_string(jobs_entered) + " jobs entered but " +
                          std::to_string(ended_) + " reached a terminal state");
  AIFSIM_CHECK(reorder_.empty(), "every job row was written");
  for (auto* f : {&jobs_csv_, &rejections_csv_, &utilisation_csv_}) {
    if (f->is_open()) {
      f->flush();
      if (!*f) throw SimulationError("batch metrics: writing an output file failed (disk full?)");
    }
  }
}

nlohmann::json BatchMetrics::summary() const {
  nlohmann::json j;
  nlohmann::json states = nlohmann::json::object();
  for (const char* s : {"completed", "timeout", "rejected"}) states[s] = 0;
  for (const auto& [s, n] : states_) states[s] = n;
  j["jobs"] = states;
  j["jobs_total"] = ended_;
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [r, n] : reasons_) reasons[r] = n;
  j["rejection_reasons"] = reasons;
  Distribution waits(waits_);
  j["wait_s"] = {{"mean", waits.mean()}, {"median", waits.quantile(0.5)}, {"p95", waits.quantile(0.95)},
                 {"max", waits.max()}};
  double runs = static_cast<double>(waits_.size());
  j["bounded_slowdown"] = {{"mean", runs > 0 ? slowdown_sum_ / runs : 0.0}, {"tau_s", options_.slowdown_tau_s}};
  double makespan = any_run_ ? last_end_s_ - first_submit_s_ : 0.0;
  j["makespan_s"] = makespan;
  j["used_unit_s"] = used_unit_s_;
  j["capacity_units"] = capacity_;
  j["utilisation"] = (makespan > 0 && capacity_ > 0) ? used_unit_s_ / (capacity_ * makespan) : 0.0;
  return j;
}

}  // namespace aifsim::metrics
