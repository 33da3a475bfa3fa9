// Follows k8s.io/kubernetes pkg/controller/podautoscaler: replica_calculator.go for the
// per-metric proposals (integer arithmetic on milli-values as kube does it), horizontal.go
// for combining them, the stabilization window and the rate limits, and
// pkg/apis/autoscaling/v2/defaults.go for the defaults.
#include "k8s/hpa.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.hpp"

namespace aifsim::k8s {
namespace {

constexpr int INT32_MAX_REPLICAS = std::numeric_limits<std::int32_t>::max();
// API-server defaults (defaults.go): a behavior that leaves a rule out gets these.
constexpr int DEFAULT_UP_PODS = 4, DEFAULT_UP_PERCENT = 100, DEFAULT_DOWN_PERCENT = 100;
constexpr double DEFAULT_PERIOD_S = 15;
constexpr int DEFAULT_CPU_UTILIZATION = 80;  // autoscaling.DefaultCPUUtilization
// Without a behavior, horizontal.go's scaleUpLimitFactor and scaleUpLimitMinimum.
constexpr double LEGACY_UP_FACTOR = 2.0, LEGACY_UP_MINIMUM = 4.0;

// Go's int32(math.Ceil(x)) where kube caps at MaxInt32; a NaN (0/0) proposes nothing.
int ceil_replicas(double x) {
  if (std::isnan(x)) return 0;
  double c = std::ceil(x);
  if (c >= INT32_MAX_REPLICAS) return INT32_MAX_REPLICAS;
  return static_cast<int>(c);
}

// kube's Tolerances.isWithin: both ends inclusive, so a ratio of exactly 1.1 does not scale.
bool within(double ratio, double tolerance) { return 1.0 - tolerance <= ratio && ratio <= 1.0 + tolerance; }

// Sums of milli-values times 100 can pass int64 where kube falls back to big.Int.
__extension__ typedef __int128 Wide;

struct Sample {
  Milli value;
  Milli request;
};

// GetResourceUtilizationRatio (whole percent of the summed requests, truncated) or
// GetMetricUsageRatio (truncated average); none where kube errors (no request in total).
std::optional<double> usage_ratio(const std::vector<Sample>& samples, bool utilization, Milli target) {
  Wide values = 0, requests = 0;
  for (const Sample& s : samples) {
    values += s.value;
    requests += s.request;
  }
  if (utilization) {
    if (requests == 0) return std::nullopt;
    auto percent = static_cast<std::int64_t>(values * 100 / requests);
    return static_cast<double>(percent) / static_cast<double>(target);
  }
  auto average = static_cast<std::int64_t>(values / static_cast<Wide>(samples.size()));
  return static_cast<double>(average) / static_cast<double>(target);
}

// calcPlainMetricReplicas and GetResourceReplicas: `target` is a percentage when
// `utilization`, else a milli-value per pod.
std::optional<int> pod_replicas(const std::vector<PodMetric>& pods, int current, bool utilization, Milli target,
                                bool cpu, double tolerance) {
  if (pods.empty()) return std::nullopt;  // "no pods returned by selector"
  if (utilization)
    for (const PodMetric& p : pods)
      if (!p.request) return std::nullopt;  // "missing request for <resource>"

  std::vector<Sample> samples;
  std::vector<const PodMetric*> unready, missing;
  for (const PodMetric& p : pods) {
    Milli request = p.request.value_or(0);
    if (p.pending)
      unready.push_back(&p);
    else if (!p.value)
      missing.push_back(&p);
    else if (cpu && !p.ready)  // the readiness rule is cpu's alone
      unready.push_back(&p);
    else
      samples.push_back({*p.value, request});
  }
  if (samples.empty()) return std::nullopt;  // "did not receive metrics for targeted pods"
  const int ready_count = static_cast<int>(samples.size());

  auto ratio = usage_ratio(samples, utilization, target);
  if (!ratio) return std::nullopt;
  bool scale_up_with_unready = !unready.empty() && *ratio > 1.0;
  if (!scale_up_with_unready && missing.empty()) {
    if (within(*ratio, tolerance)) return current;
    return ceil_replicas(*ratio * ready_count);
  }

  // Assume the worst for the direction: a missing pod holds back a scale-down at 100 % of
  // its request (or of a target above 100 %) and a scale-up at 0 %.
  if (*ratio < 1.0) {
    for (const PodMetric* p : missing) {
      Milli request = p->request.value_or(0);
      Milli value = utilization ? request * std::max<Milli>(100, target) / 100 : target;
      samples.push_back({value, request});
    }
  } else if (*ratio > 1.0) {
    for (const PodMetric* p : missing) samples.push_back({0, p->request.value_or(0)});
  }
  if (scale_up_with_unready)
    for (const PodMetric* p : unready) samples.push_back({0, p->request.value_or(0)});

  auto new_ratio = usage_ratio(samples, utilization, target);
  if (!new_ratio) return std::nullopt;
  if (within(*new_ratio, tolerance) || (*ratio < 1.0 && *new_ratio > 1.0) || (*ratio > 1.0 && *new_ratio < 1.0))
    return current;  // too small a change, or the assumptions reversed its direction
  int proposal = ceil_replicas(*new_ratio * static_cast<double>(samples.size()));
  if ((*new_ratio < 1.0 && proposal > current) || (*new_ratio > 1.0 && proposal < current)) return current;
  return proposal;
}

std::string where(const HorizontalPodAutoscaler& h) {
  std::string name = "HorizontalPodAutoscaler " + h.meta.namespace_ + "/" + h.meta.name;
  return h.meta.source.empty() ? name : h.meta.source + ": " + name;
}

bool rules_given(const HpaScalingRules& r) {
  return r.stabilization_window_s || !r.policies.empty() || r.select_policy != "Max";
}

void check_rules(const HorizontalPodAutoscaler& h, const HpaScalingRules& r, const std::string& path) {
  if (r.stabilization_window_s && !(*r.stabilization_window_s >= 0))
    throw InputError(where(h), path + ".stabilizationWindowSeconds: expected >= 0");
  if (r.select_policy != "Max" && r.select_policy != "Min" && r.select_policy != "Disabled")
    throw InputError(where(h), path + ".selectPolicy: expected Max, Min or Disabled, got \"" + r.select_policy + "\"");
  for (std::size_t i = 0; i < r.policies.size(); ++i) {
    const HpaPolicy& p = r.policies[i];
    std::string at = path + ".policies[" + std::to_string(i) + "]";
    if (p.type != "Pods" && p.type != "Percent")
      throw InputError(where(h), at + ".type: expected Pods or Percent, got \"" + p.type + "\"");
    if (p.value <= 0) throw InputError(where(h), at + ".value: expected > 0, got " + std::to_string(p.value));
    if (!(p.period_s > 0)) throw InputError(where(h), at + ".periodSeconds: expected > 0");
  }
}

void check_metric(const HorizontalPodAutoscaler& h, const HpaMetric& m, const std::string& path) {
  const MetricTarget& t = m.target;
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw InputError(where(h), path + ".target: " + what);
  };
  if (m.type == "Resource") {
    need(t.type == "Utilization" || t.type == "AverageValue", "expected type Utilization or AverageValue");
  } else if (m.type == "Pods") {
    need(t.type == "AverageValue", "expected type AverageValue (Pods metrics)");
  } else if (m.type == "External") {
    need(t.type == "Value" || t.type == "AverageValue", "expected type Value or AverageValue");
  } else {
    throw InputError(where(h), path + ".type: expected Resource, Pods or External, got \"" + m.type + "\"");
  }
  if (t.type == "Utilization") need(t.average_utilization && *t.average_utilization > 0, "averageUtilization > 0");
  if (t.type == "AverageValue") need(t.average_value && *t.average_value > 0, "averageValue > 0");
  if (t.type == "Value") need(t.value && *t.value > 0, "value > 0");
}

// Scale events of the last `period_s` (timestamp strictly after now - period, as kube's
// getReplicasChangePerPeriod).
template <class Events>
int change_in_period(const Events& events, double period_s, double now_s) {
  long long sum = 0;
  for (const auto& e : events)
    if (e.t_s > now_s - period_s) sum += e.change;
  return static_cast<int>(std::min<long long>(sum, INT32_MAX_REPLICAS));
}

double longest_period_s(const HpaScalingRules& r) {
  double longest = 0;
  for (const HpaPolicy& p : r.policies) longest = std::max(longest, p.period_s);
  return longest;
}

}  // namespace

HpaController::HpaController(const HorizontalPodAutoscaler& spec, HpaControllerConfig config)
    : config_(config), metrics_(spec.metrics), up_(spec.scale_up), down_(spec.scale_down) {
  if (!(config.tolerance >= 0)) throw InputError("", "HPA controller: tolerance must be >= 0");
  if (!(config.downscale_stabilization_s >= 0))
    throw InputError("", "HPA controller: downscale stabilization must be >= 0 s");
  min_replicas_ = spec.min_replicas.value_or(1);
  max_replicas_ = spec.max_replicas;
  if (min_replicas_ < 1)
    throw InputError(where(spec), "spec.minReplicas: expected >= 1 (0 needs the alpha HPAScaleToZero gate)");
  if (max_replicas_ < min_replicas_)
    throw InputError(where(spec), "spec.maxReplicas: expected >= minReplicas (" + std::to_string(min_replicas_) + ")");
  if (metrics_.empty()) {
    HpaMetric cpu;
    cpu.type = "Resource";
    cpu.name = CPU;
    cpu.target.type = "Utilization";
    cpu.target.average_utilization = DEFAULT_CPU_UTILIZATION;
    metrics_.push_back(cpu);
  }
  for (std::size_t i = 0; i < metrics_.size(); ++i)
    check_metric(spec, metrics_[i], "spec.metrics[" + std::to_string(i) + "]");
  check_rules(spec, up_, "spec.behavior.scaleUp");
  check_rules(spec, down_, "spec.behavior.scaleDown");

  has_behavior_ = rules_given(up_) || rules_given(down_);
  if (!up_.stabilization_window_s) up_.stabilization_window_s = 0;
  if (up_.policies.empty())
    up_.policies = {{"Pods", DEFAULT_UP_PODS, DEFAULT_PERIOD_S}, {"Percent", DEFAULT_UP_PERCENT, DEFAULT_PERIOD_S}};
  // The API server leaves scaleDown's window unset; the controller fills it from its flag.
  if (!down_.stabilization_window_s) down_.stabilization_window_s = config.downscale_stabilization_s;
  if (down_.policies.empty()) down_.policies = {{"Percent", DEFAULT_DOWN_PERCENT, DEFAULT_PERIOD_S}};
}

std::optional<int> HpaController::metric_proposal(const HpaMetric& metric, const MetricObservation& obs,
                                                  int current) const {
  const MetricTarget& t = metric.target;
  const double tol = config_.tolerance;
  if (metric.type == "Resource") {
    bool utilization = t.type == "Utilization";
    Milli target = utilization ? *t.average_utilization : *t.average_value;
    return pod_replicas(obs.pods, current, utilization, target, metric.name == CPU, tol);
  }
  if (metric.type == "Pods") return pod_replicas(obs.pods, current, false, *t.average_value, false, tol);

  // External.
  if (!obs.external) return std::nullopt;  // "no metrics returned from external metrics API"
  const double usage = static_cast<double>(*obs.external);
  if (t.type == "AverageValue") {
    // GetExternalPerPodMetricReplicas divides by status.replicas, not spec.replicas.
    int status_replicas = static_cast<int>(obs.pods.size());
    double ratio = usage / (static_cast<double>(*t.average_value) * status_replicas);
    if (within(ratio, tol)) return status_replicas;
    return ceil_replicas(usage / static_cast<double>(*t.average_value));
  }
  double ratio = usage / static_cast<double>(*t.value);
  if (within(ratio, tol)) return current;
  if (obs.pods.empty()) return std::nullopt;  // "no pods returned by selector"
  int ready = static_cast<int>(std::count_if(obs.pods.begin(), obs.pods.end(),
                                             [](const PodMetric& p) { return !p.pending && p.ready; }));
  return ceil_replicas(ratio * ready);
}

// normalizeDesiredReplicas' stabilizeRecommendation: the highest recommendation of the
// downscale window, this one included. Kube keeps a sample stamped exactly at the cutoff
// (it tests Before), unlike the behavior path.
int HpaController::stabilize_legacy(int proposal, double now_s) {
  const double window_s = config_.downscale_stabilization_s;
  const double cutoff_s = now_s - window_s;
  int highest = proposal;
  std::optional<std::size_t> old;
  for (std::size_t i = 0; i < recommendations_.size(); ++i) {
    // With a zero window every earlier sample, even one from this sync, is before the
    // cutoff: in kube each is stamped a little before the cutoff is taken.
    if (recommendations_[i].t_s < cutoff_s || window_s == 0)
      old = i;
    else
      highest = std::max(highest, recommendations_[i].replicas);
  }
  // Reuse the newest outdated slot, else grow: the history stays as long as one window.
  if (old)
    recommendations_[*old] = {proposal, now_s};
  else
    recommendations_.push_back({proposal, now_s});
  return highest;
}

// stabilizeRecommendationWithBehaviors: scale up no further than the lowest recommendation
// of the scale-up window, down no further than the highest of the scale-down window.
int HpaController::stabilize_with_behaviors(int current, int proposal, double now_s) {
  const double up_cutoff_s = now_s - *up_.stabilization_window_s;
  const double down_cutoff_s = now_s - *down_.stabilization_window_s;
  int up_bound = proposal, down_bound = proposal;
  std::optional<std::size_t> old;
  for (std::size_t i = 0; i < recommendations_.size(); ++i) {
    const Recommendation& r = recommendations_[i];
    if (r.t_s > up_cutoff_s) up_bound = std::min(up_bound, r.replicas);
    if (r.t_s > down_cutoff_s) down_bound = std::max(down_bound, r.replicas);
    if (r.t_s < up_cutoff_s && r.t_s < down_cutoff_s) old = i;
  }
  int stabilized = std::min(std::max(current, up_bound), down_bound);
  if (old)
    recommendations_[*old] = {proposal, now_s};
  else
    recommendations_.push_back({proposal, now_s});
  return stabilized;
}

// convertDesiredReplicasWithBehaviorRate: the policies' limits count from the size the
// target had at the start of each policy's period, rebuilt from the scale events in it.
int HpaController::limit_with_behaviors(int current, int stabilized, double now_s, std::string& reason) const {
  reason = "DesiredWithinRange";
  if (stabilized > current) {
    int limit = current;  // Disabled
    if (up_.select_policy != "Disabled") {
      bool pick_max = up_.select_policy == "Max";
      long long chosen = pick_max ? std::numeric_limits<std::int32_t>::min() : INT32_MAX_REPLICAS;
      for (const HpaPolicy& p : up_.policies) {
        long long start = static_cast<long long>(current) - change_in_period(up_events_, p.period_s, now_s) +
                          change_in_period(down_events_, p.period_s, now_s);
        long long proposed = p.type == "Pods"
                                 ? start + p.value
                                 : ceil_replicas(static_cast<double>(start) * (1 + static_cast<double>(p.value) / 100));
        chosen = pick_max ? std::max(chosen, proposed) : std::min(chosen, proposed);
      }
      limit = static_cast<int>(std::clamp<long long>(chosen, 0, INT32_MAX_REPLICAS));
    }
    limit = std::max(limit, current);  // no further up until old events leave the period
    int allowed = max_replicas_;
    if (allowed > limit) {
      allowed = limit;
      reason = "ScaleUpLimit";
    } else {
      reason = "TooManyReplicas";
    }
    if (stabilized > allowed) return allowed;
    reason = "DesiredWithinRange";
  } else if (stabilized < current) {
    int limit = current;  // Disabled
    if (down_.select_policy != "Disabled") {
      // The policy allowing the most change leaves the fewest replicas: Max picks the lowest.
      bool most_change = down_.select_policy == "Max";
      long long chosen = most_change ? INT32_MAX_REPLICAS : std::numeric_limits<std::int32_t>::min();
      for (const HpaPolicy& p : down_.policies) {
        long long start = static_cast<long long>(current) - change_in_period(up_events_, p.period_s, now_s) +
                          change_in_period(down_events_, p.period_s, now_s);
        // Go's int32(float64) truncates toward zero, as the cast does.
        long long proposed = p.type == "Pods" ? start - p.value
                                              : static_cast<long long>(static_cast<double>(start) *
                                                                       (1 - static_cast<double>(p.value) / 100));
        chosen = most_change ? std::min(chosen, proposed) : std::max(chosen, proposed);
      }
      limit = static_cast<int>(std::clamp<long long>(chosen, std::numeric_limits<std::int32_t>::min(),
                                                      INT32_MAX_REPLICAS));
    }
    limit = std::min(limit, current);
    int allowed = min_replicas_;
    if (allowed < limit) {
      allowed = limit;
      reason = "ScaleDownLimit";
    } else {
      reason = "TooFewReplicas";
    }
    if (stabilized < allowed) return allowed;
    reason = "DesiredWithinRange";
  }
  return stabilized;
}

// storeScaleEvent: events older than the direction's longest policy period are outdated and
// their slots reused, so the history holds about one period of events.
void HpaController::store_scale_event(int from, int to, double now_s) {
  bool up = to > from;
  auto& events = up ? up_events_ : down_events_;
  const double cutoff_s = now_s - longest_period_s(up ? up_ : down_);
  std::optional<std::size_t> old;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].t_s < cutoff_s) events[i].outdated = true;
    if (events[i].outdated) old = i;
  }
  ScaleEvent e{up ? to - from : from - to, now_s, false};
  if (old)
    events[*old] = e;
  else
    events.push_back(e);
}

HpaDecision HpaController::reconcile(double now_s, int current, const std::vector<MetricObservation>& metrics) {
  AIFSIM_CHECK(!started_ || now_s >= last_sync_s_, "HPA sync at " + std::to_string(now_s) +
                                                       " s is before the previous one at " +
                                                       std::to_string(last_sync_s_) + " s");
  AIFSIM_CHECK(current >= 0, "HPA target has a negative replica count at " + std::to_string(now_s) + " s");
  AIFSIM_CHECK(metrics.size() == metrics_.size(), "HPA got " + std::to_string(metrics.size()) +
                                                      " metric observations for " +
                                                      std::to_string(metrics_.size()) + " metrics");
  // recordInitialRecommendation: the size at the first sync counts as a recommendation, so
  // a fresh HPA does not scale down before a whole window of lower ones.
  if (!started_) recommendations_.push_back({current, now_s});
  started_ = true;
  last_sync_s_ = now_s;

  HpaDecision d;
  if (current == 0) {  // minReplicas >= 1 here: a target scaled to 0 by hand is left alone
    d.desired = 0;
    d.reason = "ScalingDisabled";
    return d;
  }
  if (current > max_replicas_) {
    d.desired = max_replicas_;
    d.reason = "AboveMaxReplicas";
  } else if (current < min_replicas_) {
    d.desired = min_replicas_;
    d.reason = "BelowMinReplicas";
  } else {
    // computeReplicasForMetrics: the largest proposal wins. A failed metric blocks the sync
    // unless the others still scale up, so missing data never shrinks the target.
    int proposal = 0, failed = 0;
    std::string first_failure;
    for (std::size_t i = 0; i < metrics_.size(); ++i) {
      auto p = metric_proposal(metrics_[i], metrics[i], current);
      d.per_metric.push_back(p);
      if (!p) {
        if (failed++ == 0) first_failure = "FailedGet" + metrics_[i].type + "Metric";
        continue;
      }
      if (proposal == 0 || *p > proposal) proposal = *p;
    }
    if (failed == static_cast<int>(metrics_.size()) || (failed > 0 && proposal < current)) {
      d.desired = current;
      d.reason = first_failure;
      return d;
    }
    d.proposal = proposal;
    if (has_behavior_) {
      d.stabilized = stabilize_with_behaviors(current, proposal, now_s);
      d.desired = limit_with_behaviors(current, d.stabilized, now_s, d.reason);
    } else {
      // convertDesiredReplicasWithRules: no rate memory, and the bounds apply either way.
      d.stabilized = stabilize_legacy(proposal, now_s);
      int up_limit = static_cast<int>(std::max(LEGACY_UP_FACTOR * current, LEGACY_UP_MINIMUM));
      int allowed_max = max_replicas_ > up_limit ? up_limit : max_replicas_;
      std::string over = max_replicas_ > up_limit ? "ScaleUpLimit" : "TooManyReplicas";
      if (d.stabilized < min_replicas_) {
        d.desired = min_replicas_;
        d.reason = "TooFewReplicas";
      } else if (d.stabilized > allowed_max) {
        d.desired = allowed_max;
        d.reason = over;
      } else {
        d.desired = d.stabilized;
        d.reason = "DesiredWithinRange";
      }
    }
  }
  if (d.desired != current && has_behavior_) store_scale_event(current, d.desired, now_s);
  return d;
}

}  // namespace aifsim::k8s
