// The HorizontalPodAutoscaler (autoscaling/v2) as kube-controller-manager runs it, one sync
// at a time, without an engine: the caller hands in what the metrics pipeline saw and applies
// the returned size.
//
// Each metric gives a usage ratio (current / target) and proposes ceil(ratio x the pods
// counted); pods missing a metric, and on a scale-up pods not yet ready, are then assumed at
// 100 % / 0 % of target, which can only damp the proposal or cancel it. The largest proposal
// is stabilized against the recommendations of the last window (max for scale-down, min for
// scale-up), limited by the rate policies over the scale events of their periods, and kept
// in [minReplicas, maxReplicas].
// Example: 4 pods at 200m of a Pods metric with a 100m AverageValue target propose
// ceil(2.0 x 4) = 8; the default scale-up limit, max(4 + 4 pods, 4 x 200 %) per 15 s, allows it.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "k8s/objects.hpp"
#include "k8s/quantity.hpp"

namespace aifsim::k8s {

// One pod of the scale target as one metric's pipeline sees it at a sync. Deleted and
// failed pods are left out by the caller (kube ignores them).
struct PodMetric {
  std::optional<Milli> value;    // usage in thousandths of the metric's unit (cpu: "250m" = 250); none: missing
  std::optional<Milli> request;  // the pod's request of the resource (Utilization targets); none: unset
  bool pending = false;          // phase Pending: set aside for every metric
  // false: not yet ready. A cpu metric sets such a pod aside (kube's rule: unready since it
  // started, or still in its cpu initialization period); External Value targets count only
  // ready, non-pending pods. Other metrics do not look at it.
  bool ready = true;
};

// What the pipeline returned for one metric of the spec, in the spec's order.
struct MetricObservation {
  // Resource and Pods metrics: one entry per pod. External metrics: the target's pods too,
  // whose count stands for status.replicas (AverageValue) and whose ready ones are counted
  // (Value); their values are not read.
  std::vector<PodMetric> pods;
  std::optional<Milli> external;  // External metrics: the sum of the matching series; none: unavailable
};

struct HpaDecision {
  int desired = 0;  // replicas to set; equal to the current count: no scaling this sync
  // Largest per-metric proposal, and that after the stabilization window; -1 where the sync
  // did not get that far (scaling disabled, current count out of bounds, metrics failed).
  int proposal = -1;
  int stabilized = -1;
  std::vector<std::optional<int>> per_metric;  // each metric's proposal; none: could not be computed
  // Why `desired` is what it is. After normalization, kube's ScalingLimited reason:
  // DesiredWithinRange, ScaleUpLimit, ScaleDownLimit, TooManyReplicas, TooFewReplicas.
  // Else: ScalingDisabled (current 0), AboveMaxReplicas / BelowMinReplicas (the current
  // count was out of bounds and is brought back), or the first failed metric's kube reason
  // (FailedGetResourceMetric, FailedGetPodsMetric, FailedGetExternalMetric) when every metric
  // failed or the ones that worked would scale down.
  std::string reason;
};

// kube-controller-manager flags that shape every HPA.
struct HpaControllerConfig {
  double tolerance = 0.1;                  // --horizontal-pod-autoscaler-tolerance
  double downscale_stabilization_s = 300;  // --horizontal-pod-autoscaler-downscale-stabilization
};

class HpaController {
 public:
  // Applies the API server's defaults (minReplicas 1, cpu at 80 % when no metric is given,
  // the default behavior rules) and rejects a spec kube would not run, naming the field.
  explicit HpaController(const HorizontalPodAutoscaler& spec, HpaControllerConfig config = {});

  // One sync (kube: every 15 s) at simulated time now_s, never earlier than the previous one.
  // current_replicas: the target's spec.replicas; metrics: one observation per spec metric.
  HpaDecision reconcile(double now_s, int current_replicas, const std::vector<MetricObservation>& metrics);

  // kube takes the behavior path only when the HPA has a `behavior`; without one it keeps
  // the older rules (scale-up limit max(2 x current, 4), no scale-down rate limit). The
  // object does not record an empty `behavior: {}`, so a behavior counts as given when a
  // rule sets a window, a policy or a selectPolicy other than Max.
  bool has_behavior() const { return has_behavior_; }
  const HpaScalingRules& scale_up_rules() const { return up_; }
  const HpaScalingRules& scale_down_rules() const { return down_; }
  const std::vector<HpaMetric>& metrics() const { return metrics_; }
  // Entries kept for stabilization and rate limits (bounded by the longest window/period).
  std::size_t history_size() const { return recommendations_.size() + up_events_.size() + down_events_.size(); }

 private:
  struct Recommendation {
    int replicas;
    double t_s;
  };
  struct ScaleEvent {
    int change;  // replicas added or removed, non-negative
    double t_s;
    bool outdated;
  };

  std::optional<int> metric_proposal(const HpaMetric& metric, const MetricObservation& obs, int current) const;
  int stabilize_legacy(int proposal, double now_s);
  int stabilize_with_behaviors(int current, int proposal, double now_s);
  int limit_with_behaviors(int current, int stabilized, double now_s, std::string& reason) const;
  void store_scale_event(int from, int to, double now_s);

  HpaControllerConfig config_;
  int min_replicas_ = 1, max_replicas_ = 1;
  std::vector<HpaMetric> metrics_;
  HpaScalingRules up_, down_;
  bool has_behavior_ = false;

  bool started_ = false;
  double last_sync_s_ = 0;
  std::vector<Recommendation> recommendations_;
  std::vector<ScaleEvent> up_events_, down_events_;
};

}  // namespace aifsim::k8s
