// HorizontalPodAutoscaler: the worked examples of kubernetes.io's "Horizontal Pod
// Autoscaling" page (tasks/run-application/horizontal-pod-autoscale), a few cases of
// kube's replica_calculator_test.go, and the behavior examples, each worked by hand.
// Quantities are thousandths: "100m" = 100, "1" cpu = 1000.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "core/error.hpp"
#include "k8s/hpa.hpp"

using namespace aifsim::k8s;

namespace {

constexpr double SYNC_S = 15;  // --horizontal-pod-autoscaler-sync-period default

HpaMetric pods_metric(Milli average) {
  HpaMetric m;
  m.type = "Pods";
  m.name = "requests_per_second";
  m.target.type = "AverageValue";
  m.target.average_value = average;
  return m;
}

HpaMetric utilization(const char* resource, int percent) {
  HpaMetric m;
  m.type = "Resource";
  m.name = resource;
  m.target.type = "Utilization";
  m.target.average_utilization = percent;
  return m;
}

HpaMetric external(const char* type, Milli target) {
  HpaMetric m;
  m.type = "External";
  m.name = "queue_messages_ready";
  m.target.type = type;
  (std::string(type) == "Value" ? m.target.value : m.target.average_value) = target;
  return m;
}

HorizontalPodAutoscaler hpa(int min, int max, std::vector<HpaMetric> metrics) {
  HorizontalPodAutoscaler h;
  h.meta.name = "web";
  h.target_kind = "Deployment";
  h.target_name = "web";
  h.min_replicas = min;
  h.max_replicas = max;
  h.metrics = std::move(metrics);
  return h;
}

// A behavior whose only rule is an immediate scale-down, so a test sees the proposal
// itself rather than the 300 s default window.
HorizontalPodAutoscaler immediate(HorizontalPodAutoscaler h) {
  h.scale_down.stabilization_window_s = 0;
  return h;
}

PodMetric pod(std::optional<Milli> value, std::optional<Milli> request = std::nullopt, bool ready = true) {
  PodMetric p;
  p.value = value;
  p.request = request;
  p.ready = ready;
  return p;
}

MetricObservation same(int n, Milli value, std::optional<Milli> request = std::nullopt) {
  return {std::vector<PodMetric>(n, pod(value, request)), std::nullopt};
}

HpaDecision sync(HpaController& c, double t_s, int current, MetricObservation obs) {
  return c.reconcile(t_s, current, {std::move(obs)});
}

}  // namespace

// ---- The basic ratio (docs: "Algorithm details") ----

// 200m against 100m: ratio 2.0, ceil(2.0 x 3) = 6. No behavior: the legacy scale-up limit
// max(2 x 3, 4) = 6 lets it through.
TEST(HpaDocs, DoublesAt200mAgainst100m) {
  HpaController c(hpa(1, 10, {pods_metric(100)}));
  HpaDecision d = sync(c, 0, 3, same(3, 200));
  EXPECT_EQ(d.proposal, 6);
  EXPECT_EQ(d.desired, 6);
  EXPECT_EQ(d.reason, "DesiredWithinRange");
}

// 50m against 100m: ratio 0.5, ceil(0.5 x 4) = 2. The scale-down window is 0 here; the
// default 100 %-per-15 s policy allows int(4 x 0) = 0, so minReplicas 1 is the floor.
TEST(HpaDocs, HalvesAt50mAgainst100m) {
  HpaController c(immediate(hpa(1, 10, {pods_metric(100)})));
  HpaDecision d = sync(c, 0, 4, same(4, 50));
  EXPECT_EQ(d.proposal, 2);
  EXPECT_EQ(d.desired, 2);
}

// Tolerance 0.1: 105m / 100m = 1.05 and exactly 1.1 stay (kube's isWithin is inclusive);
// 111m gives 1.11 and ceil(1.11 x 4) = ceil(4.44) = 5. Below: 90m is 0.9, in; 89m scales.
TEST(HpaDocs, SkipsScalingWithinTolerance) {
  HpaController c(immediate(hpa(1, 10, {pods_metric(100)})));
  EXPECT_EQ(sync(c, 0, 4, same(4, 105)).desired, 4);
  EXPECT_EQ(sync(c, 15, 4, same(4, 110)).desired, 4);
  EXPECT_EQ(sync(c, 30, 4, same(4, 90)).desired, 4);
  EXPECT_EQ(sync(c, 45, 4, same(4, 111)).desired, 5);
  // 0.89 x 4 = 3.56 -> 4: outside tolerance yet the ceiling keeps the size.
  EXPECT_EQ(sync(c, 60, 4, same(4, 89)).proposal, 4);
}

// Utilization is a whole percent of the summed requests, truncated: (600+600+601)m of 3 cpu
// is 60.03 % -> 60 %, ratio 60/50 = 1.2, ceil(1.2 x 3) = 4. A Pods average truncates to a
// whole milli too: (100+100+101)/3 = 100m (not 100.33m).
TEST(HpaUtilization, TruncatesToWholePercentAndMilli) {
  HpaController c(hpa(1, 10, {utilization(CPU, 50)}));
  EXPECT_EQ(sync(c, 0, 3, {{pod(600, 1000), pod(600, 1000), pod(601, 1000)}, {}}).proposal, 4);

  HpaController p(hpa(1, 10, {pods_metric(91)}));
  // 301/3 = 100 (not 100.33): ratio 100/91 = 1.0989, within tolerance.
  EXPECT_EQ(sync(p, 0, 3, {{pod(100), pod(100), pod(101)}, {}}).proposal, 3);
}

// ---- Missing metrics (docs: "set aside for later ... 100% ... scale down, 0% ... scale up") ----

// kube's TestReplicaCalcMissingMetrics: 4 pods requesting 1 cpu, metrics 400m and 95m only.
// Known: 495 x 100 / 2000 = 24 %, ratio 0.24 (down). Missing pods at 100 % of their request:
// (495 + 2000) x 100 / 4000 = 62 %, ratio 0.62, ceil(0.62 x 4) = ceil(2.48) = 3.
// Ignoring them instead would give ceil(0.24 x 2) = 1.
TEST(HpaDocs, MissingMetricsCountAsFullRequestOnScaleDown) {
  HpaController c(immediate(hpa(1, 10, {utilization(CPU, 100)})));
  HpaDecision d = sync(c, 0, 4, {{pod(400, 1000), pod(95, 1000), pod({}, 1000), pod({}, 1000)}, {}});
  EXPECT_EQ(d.proposal, 3);
  EXPECT_EQ(d.desired, 3);
}

// Known pods at 150 % propose a scale-up; the two missing pods at 0 % bring the average to
// 3000 x 100 / 4000 = 75 %: the direction reverses, so nothing changes. Without the rule,
// ceil(1.5 x 2) = 3 would even shrink the target.
TEST(HpaDocs, MissingMetricsCountAsZeroOnScaleUpAndMayCancelIt) {
  HpaController c(immediate(hpa(1, 10, {utilization("memory", 100)})));
  HpaDecision d = sync(c, 0, 4, {{pod(1500, 1000), pod(1500, 1000), pod({}, 1000), pod({}, 1000)}, {}});
  EXPECT_EQ(d.proposal, 4);
  EXPECT_EQ(d.desired, 4);
}

// A plain (AverageValue) metric fills a missing pod with the target itself on scale-down:
// (40 + 40 + 100) / 3 = 60m, ratio 0.6, ceil(0.6 x 3) = ceil(1.8) = 2.
TEST(HpaDocs, MissingPodsMetricCountsAsTargetOnScaleDown) {
  HpaController c(immediate(hpa(1, 10, {pods_metric(100)})));
  EXPECT_EQ(sync(c, 0, 3, {{pod(40), pod(40), pod({})}, {}}).proposal, 2);
}

// ---- Not-yet-ready pods (docs: "When scaling on CPU, if any pod has yet to become ready") ----

// kube's TestReplicaCalcScaleUpUnreadyLessScale: 1-cpu requests, 300m (unready), 500m, 700m,
// target 30 %. Ready: 1200 x 100 / 2000 = 60 %, ratio 2.0 (up). The unready pod at 0 %:
// 1200 x 100 / 3000 = 40 %, ratio 1.333, ceil(1.333 x 3) = 4. Counting its 300m would give
// 50 %, ceil(1.667 x 3) = 5.
TEST(HpaDocs, NotYetReadyCpuPodsDampScaleUp) {
  HpaController c(hpa(1, 10, {utilization(CPU, 30)}));
  HpaDecision d = sync(c, 0, 3, {{pod(300, 1000, false), pod(500, 1000), pod(700, 1000)}, {}});
  EXPECT_EQ(d.proposal, 4);
  EXPECT_EQ(d.desired, 4);
}

// kube's TestReplicaCalcScaleUpUnreadyNoScale: 400m ready, 500m and 700m unready, target
// 30 %. Ready: 40 %, ratio 1.333 (up); with the unready at 0 %: 400 x 100 / 3000 = 13 %,
// ratio 0.433: the direction reverses, so 3 stays (ceil(1.333 x 1) = 2 without the rule).
TEST(HpaDocs, NotYetReadyCpuPodsMayCancelScaleUp) {
  HpaController c(hpa(1, 10, {utilization(CPU, 30)}));
  EXPECT_EQ(sync(c, 0, 3, {{pod(400, 1000), pod(500, 1000, false), pod(700, 1000, false)}, {}}).proposal, 3);
}

// Readiness is cpu's rule alone: the same pods on memory all count, 1500 x 100 / 3000 = 50 %,
// ratio 1.667, ceil(1.667 x 3) = 5.
TEST(HpaDocs, ReadinessIsIgnoredForOtherResources) {
  HpaController c(hpa(1, 10, {utilization("memory", 30)}));
  EXPECT_EQ(sync(c, 0, 3, {{pod(300, 1000, false), pod(500, 1000), pod(700, 1000)}, {}}).proposal, 5);
}

// Pending pods are set aside for every metric: two running pods at 150m of a 100m Pods target
// propose up; the two pending ones at 0 give 300/4 = 75m, ratio 0.75: reversed, 4 stays.
TEST(HpaDocs, PendingPodsAreSetAsideForEveryMetric) {
  HpaController c(hpa(1, 10, {pods_metric(100)}));
  PodMetric pending = pod(std::nullopt);
  pending.pending = true;
  EXPECT_EQ(sync(c, 0, 4, {{pending, pending, pod(150), pod(150)}, {}}).proposal, 4);
}

// ---- Several metrics, failures, External, defaults ----

// Docs "Scaling on multiple metrics": each proposes, the largest wins. cpu: 1600 x 100 /
// 2000 = 80 % of a 40 % target, ratio 2, ceil(2 x 2) = 4; Pods: 300m of 100m, ceil(3 x 2) = 6.
// (A behavior's scale-up limit, max(2 + 4, 2 x 2) = 6, lets 6 through.)
TEST(HpaDocs, MultipleMetricsTakeTheLargestProposal) {
  HpaController c(immediate(hpa(1, 10, {utilization(CPU, 40), pods_metric(100)})));
  HpaDecision d = c.reconcile(0, 2, {same(2, 800, 1000), same(2, 300)});
  ASSERT_EQ(d.per_metric.size(), 2u);
  EXPECT_EQ(d.per_metric[0], 4);
  EXPECT_EQ(d.per_metric[1], 6);
  EXPECT_EQ(d.proposal, 6);
  EXPECT_EQ(d.desired, 6);
}

// Docs: if a metric cannot be computed and the others suggest a scale down, scaling is
// skipped; a scale up still happens.
TEST(HpaDocs, FailedMetricBlocksScaleDownNotScaleUp) {
  HpaController c(immediate(hpa(1, 10, {utilization(CPU, 50), pods_metric(100)})));
  MetricObservation no_data{{pod(std::nullopt, 1000), pod(std::nullopt, 1000)}, {}};  // no ready pod has a sample
  HpaDecision down = c.reconcile(0, 4, {no_data, same(4, 50)});  // Pods alone would give 2
  EXPECT_EQ(down.desired, 4);
  EXPECT_EQ(down.reason, "FailedGetResourceMetric");
  EXPECT_FALSE(down.per_metric[0]);
  HpaDecision up = c.reconcile(15, 4, {no_data, same(4, 150)});  // ceil(1.5 x 4) = 6
  EXPECT_EQ(up.desired, 6);
  // A request left unset makes utilization undefined (docs: "will not take any action").
  HpaController u(hpa(1, 10, {utilization(CPU, 50)}));
  EXPECT_EQ(sync(u, 0, 2, {{pod(900, 1000), pod(900)}, {}}).reason, "FailedGetResourceMetric");
}

// External Value: 25 against a target of 10, ratio 2.5, times the 2 ready pods (the pending
// one is not counted): ceil(5.0) = 5. AverageValue: 23 over status.replicas 2 against 5 per
// pod, ratio 2.3, proposal ceil(23 / 5) = ceil(4.6) = 5.
TEST(HpaExternal, ValueScalesReadyPodsAndAverageValueDividesByReplicas) {
  PodMetric pending = pod(std::nullopt);
  pending.pending = true;
  HpaController v(hpa(1, 10, {external("Value", 10000)}));
  EXPECT_EQ(sync(v, 0, 3, {{pod({}), pod({}), pending}, 25000}).proposal, 5);

  HpaController a(hpa(1, 10, {external("AverageValue", 5000)}));
  EXPECT_EQ(sync(a, 0, 2, {{pod({}), pod({})}, 23000}).proposal, 5);
  // 10.5 over 2 pods against 5: ratio 1.05, within tolerance: status.replicas stays.
  EXPECT_EQ(sync(a, 15, 2, {{pod({}), pod({})}, 10500}).proposal, 2);
  EXPECT_EQ(sync(a, 30, 2, {{pod({}), pod({})}, std::nullopt}).reason, "FailedGetExternalMetric");
}

// No metric in the spec: the API server's default, cpu at 80 %. 1.6 cpu of 1 requested is
// 160 %, ratio 2, ceil(2 x 2) = 4.
TEST(HpaDocs, DefaultMetricIsCpuAt80Percent) {
  HpaController c(hpa(1, 10, {}));
  ASSERT_EQ(c.metrics().size(), 1u);
  EXPECT_EQ(*c.metrics()[0].target.average_utilization, 80);
  EXPECT_EQ(sync(c, 0, 2, same(2, 1600, 1000)).desired, 4);
}

// ---- Stabilization (docs: "Stabilization window", default 300 s for scale-down) ----

// 10 pods at 50m of a 100m target propose 5 from t = 0 on; the first sync also records the
// current 10. Without a behavior (legacy rules) a sample at exactly the cutoff still counts:
// at 300 s the samples of t = 0 are in, so 10 holds; at 315 s only 5s remain.
TEST(HpaDocs, ScaleDownWaitsForAWholeStabilizationWindow) {
  HpaController c(hpa(1, 20, {pods_metric(100)}));
  for (double t = 0; t <= 300; t += SYNC_S) ASSERT_EQ(sync(c, t, 10, same(10, 50)).desired, 10) << t;
  EXPECT_EQ(sync(c, 315, 10, same(10, 50)).desired, 5);

  // With a behavior, kube keeps only samples strictly after the cutoff: down at 300 s.
  HorizontalPodAutoscaler h = hpa(1, 20, {pods_metric(100)});
  h.scale_down.policies = {{"Percent", 100, 15}};
  HpaController b(h);
  ASSERT_TRUE(b.has_behavior());
  for (double t = 0; t < 300; t += SYNC_S) ASSERT_EQ(sync(b, t, 10, same(10, 50)).desired, 10) << t;
  HpaDecision d = sync(b, 300, 10, same(10, 50));
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(d.reason, "DesiredWithinRange");  // 100 % per 15 s: int(10 x 0) = 0 allowed
}

// A dip of one sync (5 at t = 30) never scales down: every later window holds a 10.
TEST(HpaDocs, ShortDipDoesNotScaleDown) {
  HpaController c(hpa(1, 20, {pods_metric(100)}));
  for (double t = 0; t <= 600; t += SYNC_S)
    ASSERT_EQ(sync(c, t, 10, same(10, t == 30 ? 50 : 100)).desired, 10) << t;
}

// scaleUp window 60 s: from 2 replicas the load asks for 4 from t = 0. Each sync takes the
// lowest recommendation after now - 60: the 2 recorded at t = 0 holds until t = 60, when
// only the 4s of t = 15..45 and now remain.
TEST(HpaDocs, ScaleUpStabilizationWindow) {
  HorizontalPodAutoscaler h = hpa(1, 10, {pods_metric(100)});
  h.scale_up.stabilization_window_s = 60;
  HpaController c(h);
  for (double t = 0; t < 60; t += SYNC_S) {
    HpaDecision d = sync(c, t, 2, same(2, 200));
    ASSERT_EQ(d.proposal, 4);
    ASSERT_EQ(d.desired, 2) << t;
  }
  EXPECT_EQ(sync(c, 60, 2, same(2, 200)).desired, 4);
}

// ---- Rate policies (docs: "Scaling policies", "Default Behavior") ----

// Docs: Pods 4 / 60 s and Percent 10 / 60 s, Max. From 80 toward 10: Pods allows 80 - 4 = 76,
// Percent int(80 x 0.9) = 72; the larger change wins: 72 (8 removed). Within the next 60 s
// the period starts at 80 again (72 + 8), so 72 holds. At t = 60 the t = 0 event is out:
// 72 x 0.9 = 64.8 -> 64 (docs: "7.2 ... rounded up to 8"), Pods 68: 64.
TEST(HpaDocs, ScaleDownPoliciesSelectTheLargestChange) {
  HorizontalPodAutoscaler h = hpa(1, 100, {pods_metric(100)});
  h.scale_down.stabilization_window_s = 0;  // the rate alone
  h.scale_down.policies = {{"Pods", 4, 60}, {"Percent", 10, 60}};
  HpaController c(h);
  // 80 pods at 12m: ratio 0.12, ceil(0.12 x 80) = ceil(9.6) = 10.
  HpaDecision first = sync(c, 0, 80, same(80, 12));
  EXPECT_EQ(first.proposal, 10);
  EXPECT_EQ(first.desired, 72);
  EXPECT_EQ(first.reason, "ScaleDownLimit");
  for (double t = 15; t < 60; t += SYNC_S) ASSERT_EQ(sync(c, t, 72, same(72, 12)).desired, 72) << t;
  EXPECT_EQ(sync(c, 60, 72, same(72, 12)).desired, 64);

  // Docs: at 40 or fewer the Pods policy gives the larger change. 30: Percent int(27.0) = 27,
  // Pods 26: 26.
  HpaController small(h);
  EXPECT_EQ(sync(small, 0, 30, same(30, 12)).desired, 26);
}

// Docs: Percent 10 / 60 s and Pods 5 / 60 s with selectPolicy Min: at 80, Percent leaves 72
// and Pods 75: the smaller change, 75. At 30: Percent 27, Pods 25: 27.
TEST(HpaDocs, SelectPolicyMinPicksTheSmallestChange) {
  HorizontalPodAutoscaler h = hpa(1, 100, {pods_metric(100)});
  h.scale_down.stabilization_window_s = 0;
  h.scale_down.policies = {{"Percent", 10, 60}, {"Pods", 5, 60}};
  h.scale_down.select_policy = "Min";
  HpaController c(h);
  EXPECT_EQ(sync(c, 0, 80, same(80, 12)).desired, 75);
  HpaController d(h);
  EXPECT_EQ(sync(d, 0, 30, same(30, 12)).desired, 27);
}

// Docs: selectPolicy Disabled turns scale-down off; scale-up still works.
TEST(HpaDocs, SelectPolicyDisabledStopsScaleDown) {
  HorizontalPodAutoscaler h = hpa(1, 20, {pods_metric(100)});
  h.scale_down.stabilization_window_s = 0;
  h.scale_down.select_policy = "Disabled";
  HpaController c(h);
  HpaDecision d = sync(c, 0, 8, same(8, 25));  // proposes 2
  EXPECT_EQ(d.proposal, 2);
  EXPECT_EQ(d.desired, 8);
  EXPECT_EQ(d.reason, "ScaleDownLimit");
  EXPECT_EQ(sync(c, 15, 8, same(8, 200)).desired, 16);
}

// Docs "Default Behavior": scale-up adds max(4 pods, 100 %) per 15 s. From 1 toward 20:
// max(1 + 4, ceil(1 x 2)) = 5; at 15 s the t = 0 event has left its period: max(9, 10) = 10;
// then max(14, 20) = 20.
TEST(HpaDocs, DefaultScaleUpIsFourPodsOrDoublePer15s) {
  HorizontalPodAutoscaler h = hpa(1, 20, {pods_metric(100)});
  h.scale_down.stabilization_window_s = 60;  // a behavior; scaleUp keeps its defaults
  HpaController c(h);
  HpaDecision d = sync(c, 0, 1, same(1, 2000));  // ratio 20, proposal 20
  EXPECT_EQ(d.proposal, 20);
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(d.reason, "ScaleUpLimit");
  EXPECT_EQ(sync(c, 15, 5, same(5, 400)).desired, 10);
  d = sync(c, 30, 10, same(10, 200));
  EXPECT_EQ(d.desired, 20);
  EXPECT_EQ(d.reason, "DesiredWithinRange");
}

// Without any behavior kube keeps its older limit, max(2 x current, 4) per sync: 1 -> 4 ->
// 8 -> 16 -> 20 (maxReplicas: TooManyReplicas).
TEST(HpaDocs, WithoutBehaviorScaleUpLimitIsDoubleOrFour) {
  HpaController c(hpa(1, 20, {pods_metric(100)}));
  ASSERT_FALSE(c.has_behavior());
  int n = 1;
  std::vector<int> seen;
  for (double t = 0; t <= 45; t += SYNC_S) {
    HpaDecision d = sync(c, t, n, same(n, 20 * 100 / n));  // always 20 pods' worth of load
    n = d.desired;
    seen.push_back(n);
  }
  EXPECT_EQ(seen, (std::vector<int>{4, 8, 16, 20}));
}

// A Percent scale-up that rounds to no change would stall: kube rounds it up. 10 % of 3 is
// 0.3 -> ceil(3.3) = 4.
TEST(HpaBehavior, PercentScaleUpRoundsUp) {
  HorizontalPodAutoscaler h = hpa(1, 20, {pods_metric(100)});
  h.scale_up.policies = {{"Percent", 10, 60}};
  HpaController c(h);
  EXPECT_EQ(sync(c, 0, 3, same(3, 300)).desired, 4);
}

// ---- Bounds and the disabled state ----

TEST(HpaBounds, CurrentOutsideMinMaxIsBroughtBackAndZeroIsLeftAlone) {
  HpaController c(hpa(2, 5, {pods_metric(100)}));
  HpaDecision over = sync(c, 0, 9, same(9, 1000));
  EXPECT_EQ(over.desired, 5);
  EXPECT_EQ(over.reason, "AboveMaxReplicas");
  EXPECT_EQ(sync(c, 15, 1, same(1, 10)).desired, 2);
  HpaDecision zero = sync(c, 30, 0, {});
  EXPECT_EQ(zero.desired, 0);
  EXPECT_EQ(zero.reason, "ScalingDisabled");
  // Clamped proposals: ceil(0.1 x 3) = 1 is below minReplicas 2 (no behavior: TooFewReplicas).
  HpaController d(hpa(2, 5, {pods_metric(100)}));
  HpaDecision low = sync(d, 0, 3, same(3, 10));
  EXPECT_EQ(low.desired, 3);  // the window holds the initial 3
  EXPECT_EQ(sync(d, 315, 3, same(3, 10)).reason, "TooFewReplicas");
}

// ---- Spec checks, defaults, bounded history ----

TEST(HpaSpec, RejectsWhatKubeWouldNotRun) {
  EXPECT_THROW(HpaController(hpa(3, 2, {pods_metric(100)})), aifsim::InputError);
  EXPECT_THROW(HpaController(hpa(0, 2, {pods_metric(100)})), aifsim::InputError);
  HpaMetric bad = pods_metric(100);
  bad.target.type = "Utilization";
  EXPECT_THROW(HpaController(hpa(1, 2, {bad})), aifsim::InputError);
  HorizontalPodAutoscaler h = hpa(1, 2, {pods_metric(100)});
  h.scale_up.policies = {{"Pods", 0, 15}};
  EXPECT_THROW(HpaController{h}, aifsim::InputError);
  try {
    HpaController{h};
  } catch (const aifsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("spec.behavior.scaleUp.policies[0].value"), std::string::npos) << e.what();
  }
}

TEST(HpaSpec, FillsKubeDefaults) {
  HorizontalPodAutoscaler h = hpa(1, 2, {pods_metric(100)});
  h.min_replicas.reset();
  h.scale_up.select_policy = "Min";
  HpaController c(h);
  EXPECT_TRUE(c.has_behavior());
  EXPECT_EQ(*c.scale_up_rules().stabilization_window_s, 0);
  ASSERT_EQ(c.scale_up_rules().policies.size(), 2u);
  EXPECT_EQ(c.scale_up_rules().select_policy, "Min");
  EXPECT_EQ(*c.scale_down_rules().stabilization_window_s, 300);
  ASSERT_EQ(c.scale_down_rules().policies.size(), 1u);
  EXPECT_EQ(c.scale_down_rules().policies[0].type, "Percent");
  EXPECT_EQ(c.scale_down_rules().policies[0].value, 100);
  EXPECT_EQ(c.scale_down_rules().policies[0].period_s, 15);
  HpaController flag(h, {0.1, 120});
  EXPECT_EQ(*flag.scale_down_rules().stabilization_window_s, 120);
}

// A day of syncs with the load swinging keeps about one window of samples and one period of
// events: 300 s / 15 s = 20 recommendations plus a few.
TEST(HpaHistory, StaysBounded) {
  HorizontalPodAutoscaler h = hpa(1, 50, {pods_metric(100)});
  h.scale_down.policies = {{"Pods", 1, 60}};
  HpaController c(h);
  int n = 10;
  for (int i = 0; i < 24 * 3600 / 15; ++i) {
    Milli load = (i / 40) % 2 ? 30 * 100 : 5 * 100;  // 30 or 5 pods' worth, switching every 10 min
    n = sync(c, i * SYNC_S, n, same(n, load / n)).desired;
  }
  EXPECT_LE(c.history_size(), 30u);  // 26 seen: 21 samples and the events of 60 s
  EXPECT_GE(n, 1);
}

TEST(HpaController, RejectsTimeGoingBackwards) {
  HpaController c(hpa(1, 5, {pods_metric(100)}));
  sync(c, 30, 2, same(2, 100));
  EXPECT_THROW(sync(c, 15, 2, same(2, 100)), aifsim::SimulationError);
}
