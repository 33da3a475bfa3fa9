#include "metrics/serving_metrics.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/text.hpp"
#include "metrics/stats.hpp"

namespace aifsim::metrics {

ServingMetrics::ServingMetrics(ServingMetricsOptions options) : options_(std::move(options)) {
  if (options_.requests_csv) {
    csv_.emplace(*options_.requests_csv, std::ios::binary | std::ios::trunc);
    if (!*csv_) throw InputError(options_.requests_csv->string(), "cannot create output file");
    *csv_ << "request,arrival_s,prompt_tokens,output_tokens,replica,state,first_scheduled_s,first_token_s,finish_s,"
             "ttft_s,tpot_s,e2e_s,preemptions\n";
  }
}

void ServingMetrics::Series::add(double v, std::uint64_t exact_limit) {
  histogram.add(v);
  if (exact.size() < exact_limit) exact.push_back(v);
}

nlohmann::json ServingMetrics::Series::describe(bool exact_valid) const {
  if (histogram.count() == 0) return {{"count", 0}};
  if (exact_valid) {
    Distribution d(exact);
    return {{"count", d.size()}, {"mean", d.mean()}, {"p50", d.quantile(0.5)}, {"p90", d.quantile(0.9)},
            {"p99", d.quantile(0.99)}, {"max", d.max()}};
  }
  return {{"count", histogram.count()}, {"mean", histogram.mean()}, {"p50", histogram.quantile(0.5)},
          {"p90", histogram.quantile(0.9)}, {"p99", histogram.quantile(0.99)}, {"max", histogram.max()}};
}

std::uint64_t ServingMetrics::count(serving::Outcome outcome) const {
  auto it = outcomes_.find(outcome);
  return it == outcomes_.end() ? 0 : it->second;
}

void ServingMetrics::on_token_gaps(double gap_s, int tokens) {
  if (tokens > 0) itl_.add(gap_s, static_cast<std::uint64_t>(tokens));
}

void ServingMetrics::on_request_done(const serving::RequestResult& r) {
  const auto& q = r.request;
  if (total_ == 0) first_arrival_s_ = q.arrival_s;
  first_arrival_s_ = std::min(first_arrival_s_, q.arrival_s);
  last_end_s_ = std::max(last_end_s_, r.finish_s);
  ++total_;
  ++outcomes_[r.outcome];
  preemptions_ += static_cast<std::uint64_t>(r.preemptions);
  std::optional<double> ttft, tpot, e2e;
  if (r.outcome == serving::Outcome::COMPLETED) {
    ++completed_;
    ttft = r.first_token_s - q.arrival_s;
    e2e = r.finish_s - q.arrival_s;
    if (q.output_tokens > 1) tpot = (r.finish_s - r.first_token_s) / (q.output_tokens - 1);
    prompt_tokens_ += static_cast<std::uint64_t>(q.prompt_tokens);
    output_tokens_ += static_cast<std::uint64_t>(q.output_tokens);
    if (exact_valid_ && ttft_.exact.size() >= options_.exact_limit) exact_valid_ = false;
    ttft_.add(*ttft, options_.exact_limit);
    e2e_.add(*e2e, options_.exact_limit);
    queue_.add(r.first_scheduled_s - q.arrival_s, options_.exact_limit);
    if (tpot) tpot_.add(*tpot, options_.exact_limit);
    const bool ttft_ok = options_.ttft_slo_s <= 0 || *ttft <= options_.ttft_slo_s;
    const bool tpot_ok = options_.tpot_slo_s <= 0 || !tpot || *tpot <= options_.tpot_slo_s;
    ttft_met_ += ttft_ok;
    tpot_met_ += tpot_ok;
    slo_met_ += ttft_ok && tpot_ok;
  }
  if (csv_ && options_.csv_limit > 0 && total_ > options_.csv_limit) {
    csv_.reset();
    std::filesystem::remove(*options_.requests_csv);
    csv_dropped_ = true;
  }
  if (csv_) {
    auto num = [](double v) { return std::isnan(v) ? std::string() : format_number(v); };
    auto opt = [](const std::optional<double>& v) { return v ? format_number(*v) : std::string(); };
    *csv_ << q.id << ',' << format_number(q.arrival_s) << ',' << q.prompt_tokens << ',' << q.output_tokens << ','
          << r.replica << ',' << serving::to_string(r.outcome) << ',' << num(r.first_scheduled_s) << ','
          << num(r.first_token_s) << ',' << num(r.finish_s) << ',' << opt(ttft) << ',' << opt(tpot) << ',' << opt(e2e)
          << ',' << r.preemptions << '\n';
  }
}

nlohmann::json ServingMetrics::summary() const {
  nlohmann::json s;
  nlohmann::json states = nlohmann::json::object();
  for (auto o : {serving::Outcome::COMPLETED, serving::Outcome::REJECTED_TOO_LONG, serving::Outcome::REJECTED_NO_REPLICA,
                 serving::Outcome::TIMED_OUT, serving::Outcome::ABORTED, serving::Outcome::UNFINISHED})
    states[serving::to_string(o)] = count(o);
  states["total"] = total_;
  s["requests"] = states;
  // TTFT and E2E include the queueing delay; TPOT is over the tokens after the first.
  s["ttft_s"] = ttft_.describe(exact_valid_);
  s["tpot_s"] = tpot_.describe(exact_valid_);
  s["e2e_s"] = e2e_.describe(exact_valid_);
  s["queueing_s"] = queue_.describe(exact_valid_);
  s["itl_s"] = itl_.count() ? nlohmann::json{{"count", itl_.count()}, {"mean", itl_.mean()}, {"p50", itl_.quantile(0.5)},
                                             {"p90", itl_.quantile(0.9)}, {"p99", itl_.quantile(0.99)}, {"max", itl_.max()}}
                            : nlohmann::json{{"count", 0}};
  s["percentiles"] = exact_valid_ ? "exact" : "from 1% log histograms (more than exact_limit requests)";
  const double span = last_end_s_ - first_arrival_s_;
  s["span_s"] = span;
  s["throughput_output_tokens_per_s"] = span > 0 ? output_tokens_ / span : 0.0;
  s["throughput_input_tokens_per_s"] = span > 0 ? prompt_tokens_ / span : 0.0;
  s["throughput_rps"] = span > 0 ? completed_ / span : 0.0;
  s["preemptions"] = preemptions_;
  nlohmann::json slo;
  slo["ttft_target_s"] = options_.ttft_slo_s > 0 ? nlohmann::json(options_.ttft_slo_s) : nlohmann::json(nullptr);
  slo["tpot_target_s"] = options_.tpot_slo_s > 0 ? nlohmann::json(options_.tpot_slo_s) : nlohmann::json(nullptr);
  // Attainment over every request that entered: rejected and timed-out ones miss.
  slo["attainment"] = total_ ? static_cast<double>(slo_met_) / total_ : 0.0;
  slo["ttft_attainment"] = total_ ? static_cast<double>(ttft_met_) / total_ : 0.0;
  slo["tpot_attainment"] = total_ ? static_cast<double>(tpot_met_) / total_ : 0.0;
  s["slo"] = slo;
  s["goodput_rps"] = span > 0 ? slo_met_ / span : 0.0;
  if (options_.requests_csv)
    s["requests_csv"] = csv_dropped_ ? "not written: more than " + std::to_string(options_.csv_limit) + " requests"
                                     : std::string("requests.csv");
  return s;
}

}  // namespace aifsim::metrics
