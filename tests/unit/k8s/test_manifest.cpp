// The Kubernetes manifest reader: realistic multi-document files under tests/data/k8s/
// read into exact values, and the exact message of each kind of rejected input.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "core/error.hpp"
#include "k8s/manifest.hpp"

using namespace aifsim;
using namespace aifsim::k8s;

namespace {

#ifdef AIFSIM_TEST_DATA_DIR
const std::string DATA = std::string(AIFSIM_TEST_DATA_DIR) + "/k8s/";
#else  // built by hand: tests/data beside this file's tests/unit/k8s
const std::string DATA =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string() + "/data/k8s/";
#endif

constexpr Milli KI = 1024LL * 1000, MI = 1024 * KI, GI = 1024 * MI, TI = 1024 * GI;  // in thousandths

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// The message for `text` read as x.yaml, or "" when it is accepted.
std::string error_of(const std::string& text) {
  return error_of([&] {
    ManifestSet set;
    parse_manifests(text, "x.yaml", set);
  });
}

ManifestSet parse(const std::string& text) {
  ManifestSet set;
  parse_manifests(text, "x.yaml", set);
  return set;
}

template <class T>
const T& named(const std::vector<T>& items, const std::string& name) {
  for (const auto& item : items)
    if (item.meta.name == name) return item;
  throw std::runtime_error("no object named " + name);
}

// A minimal valid Deployment whose pod spec ends with `extra` (indented under spec:).
std::string deployment_with(const std::string& container_extra, const std::string& spec_extra = "") {
  return "apiVersion: apps/v1\n"
         "kind: Deployment\n"
         "metadata:\n"
         "  name: web\n"
         "spec:\n"
         "  selector:\n"
         "    matchLabels: {app: web}\n"
         "  template:\n"
         "    metadata:\n"
         "      labels: {app: web}\n"
         "    spec:\n" +
         spec_extra +
         "      containers:\n"
         "        - name: web\n"
         "          image: nginx\n" +
         container_extra;
}

}  // namespace

// ---- The sample files, value by value ----

TEST(Manifest, GpuNodesCapacityTaintsAndImages) {
  auto set = load_manifests(DATA + "cluster.yaml");
  ASSERT_EQ(set.nodes.size(), 4u);
  const Node& h0 = named(set.nodes, "gpu-h100-0");
  EXPECT_EQ(h0.meta.source, DATA + "cluster.yaml:8");
  EXPECT_EQ(h0.meta.namespace_, "");  // cluster-scoped
  EXPECT_EQ(h0.meta.labels.at("nvidia.com/gpu.count"), "8");
  EXPECT_EQ(h0.meta.labels.at("topology.kubernetes.io/zone"), "us-east-1a");
  EXPECT_EQ(h0.meta.annotations.at("node.alpha.kubernetes.io/ttl"), "0");
  EXPECT_EQ(h0.capacity.at(CPU), 192'000);
  EXPECT_EQ(h0.capacity.at(MEMORY), 2097152 * MI);  // 2097152Mi
  EXPECT_EQ(h0.capacity.at("ephemeral-storage"), 7 * TI);
  EXPECT_EQ(h0.capacity.at(GPU), 8'000);
  EXPECT_EQ(h0.capacity.at(PODS), 110'000);
  EXPECT_EQ(h0.allocatable.at(CPU), 191'500);  // 191500m
  EXPECT_EQ(h0.allocatable.at(MEMORY), 2080 * GI);
  EXPECT_EQ(h0.allocatable.at(GPU), 8'000);
  ASSERT_EQ(h0.taints.size(), 2u);
  EXPECT_EQ(h0.taints[0].key, "nvidia.com/gpu");
  EXPECT_EQ(h0.taints[0].value, "present");
  EXPECT_EQ(h0.taints[0].effect, TaintEffect::NO_SCHEDULE);
  EXPECT_EQ(h0.taints[1].key, "dedicated");
  EXPECT_EQ(h0.taints[1].effect, TaintEffect::NO_EXECUTE);
  EXPECT_FALSE(h0.unschedulable);
  // One entry per name (digest and tag), each with the image's size.
  ASSERT_EQ(h0.images.size(), 2u);
  EXPECT_EQ(h0.images[0].name, "nvcr.io/nvidia/tritonserver@sha256:4f2c");
  EXPECT_EQ(h0.images[1].name, "nvcr.io/nvidia/tritonserver:24.08-py3");
  EXPECT_EQ(h0.images[1].size_bytes, 15032385536.0);

  // No allocatable: it is the capacity. Unquoted numbers are quantities too.
  const Node& h1 = named(set.nodes, "gpu-h100-1");
  EXPECT_EQ(h1.capacity.at(MEMORY), 2 * TI);
  EXPECT_EQ(h1.allocatable, h1.capacity);
  EXPECT_EQ(h1.allocatable.at(GPU), 8'000);
  EXPECT_EQ(h1.taints[0].value, "");

  const Node& mig = named(set.nodes, "gpu-a100-mig-0");
  EXPECT_TRUE(mig.unschedulable);
  EXPECT_EQ(mig.capacity.at("nvidia.com/mig-1g.10gb"), 14'000);
  EXPECT_EQ(mig.allocatable.at("nvidia.com/mig-3g.40gb"), 2'000);
  EXPECT_EQ(mig.allocatable.at(CPU), 95'500);  // 95.5
  EXPECT_EQ(mig.allocatable.at(MEMORY), 1000 * GI);
  EXPECT_EQ(mig.allocatable.count(GPU), 0u);

  const Node& cpu = named(set.nodes, "cpu-0");  // flow-style mapping
  EXPECT_EQ(cpu.allocatable.at(MEMORY), 256 * GI);
  EXPECT_TRUE(cpu.taints.empty());
}

TEST(Manifest, PriorityClassesAndSkippedKinds) {
  auto set = load_manifests(DATA + "cluster.yaml");
  ASSERT_EQ(set.priority_classes.size(), 2u);
  EXPECT_EQ(set.priority_classes[0].name, "inference-critical");
  EXPECT_EQ(set.priority_classes[0].value, 100000);
  EXPECT_FALSE(set.priority_classes[0].global_default);
  EXPECT_EQ(set.priority_classes[0].preemption_policy, "PreemptLowerPriority");
  EXPECT_EQ(set.priority_classes[1].name, "batch-low");
  EXPECT_EQ(set.priority_classes[1].value, -10);
  EXPECT_TRUE(set.priority_classes[1].global_default);
  EXPECT_EQ(set.priority_classes[1].preemption_policy, "Never");
  EXPECT_EQ(set.skipped, std::vector<std::string>{DATA + "cluster.yaml:3: Namespace/ml (kind not simulated)"});
}

TEST(Manifest, GpuInferenceDeployment) {
  auto set = load_manifests(DATA + "inference.yaml");
  EXPECT_EQ(set.skipped,
            (std::vector<std::string>{DATA + "inference.yaml:3: ConfigMap/vllm-config (kind not simulated)",
                                      DATA + "inference.yaml:137: Service/llama-70b (kind not simulated)"}));
  ASSERT_EQ(set.deployments.size(), 1u);
  const Deployment& d = set.deployments[0];
  EXPECT_EQ(d.meta.name, "llama-70b");
  EXPECT_EQ(d.meta.namespace_, "ml");
  EXPECT_EQ(d.meta.source, DATA + "inference.yaml:11");
  EXPECT_EQ(d.meta.labels.at("app.kubernetes.io/part-of"), "inference");
  EXPECT_EQ(d.replicas, 4);
  EXPECT_EQ(d.selector.match_labels, (Labels{{"app", "llama-70b"}}));
  EXPECT_FALSE(d.recreate);
  EXPECT_FALSE(d.max_surge.percent);
  EXPECT_EQ(d.max_surge.value, 1);
  EXPECT_TRUE(d.max_unavailable.percent);
  EXPECT_EQ(d.max_unavailable.value, 0);

  const PodTemplate& t = d.pod_template;
  EXPECT_EQ(t.meta.labels, (Labels{{"app", "llama-70b"}, {"tier", "serving"}}));
  EXPECT_EQ(t.meta.namespace_, "ml");
  const PodSpec& s = t.spec;
  EXPECT_EQ(s.priority_class_name, "inference-critical");
  EXPECT_FALSE(s.priority.has_value());
  EXPECT_EQ(s.termination_grace_period_s, 120.0);
  EXPECT_EQ(s.scheduler_name, "default-scheduler");
  EXPECT_EQ(s.node_selector, (Labels{{"nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"}}));

  // Node affinity: one required term with two expressions, one preferred term.
  ASSERT_TRUE(s.affinity.node_affinity && s.affinity.node_affinity->required);
  const auto& terms = *s.affinity.node_affinity->required;
  ASSERT_EQ(terms.size(), 1u);
  ASSERT_EQ(terms[0].match_expressions.size(), 2u);
  EXPECT_EQ(terms[0].match_expressions[0].key, "topology.kubernetes.io/zone");
  EXPECT_EQ(terms[0].match_expressions[0].op, SelectorOp::IN);
  EXPECT_EQ(terms[0].match_expressions[0].values, (std::vector<std::string>{"us-east-1a", "us-east-1b"}));
  EXPECT_EQ(terms[0].match_expressions[1].op, SelectorOp::GT);
  EXPECT_EQ(terms[0].match_expressions[1].values, std::vector<std::string>{"3"});
  ASSERT_EQ(s.affinity.node_affinity->preferred.size(), 1u);
  EXPECT_EQ(s.affinity.node_affinity->preferred[0].weight, 80);
  EXPECT_EQ(s.affinity.node_affinity->preferred[0].preference.match_expressions[0].values[0], "p5.48xlarge");
  EXPECT_FALSE(s.affinity.pod_affinity.has_value());
  ASSERT_TRUE(s.affinity.pod_anti_affinity.has_value());
  ASSERT_EQ(s.affinity.pod_anti_affinity->preferred.size(), 1u);
  EXPECT_EQ(s.affinity.pod_anti_affinity->preferred[0].weight, 100);
  EXPECT_EQ(s.affinity.pod_anti_affinity->preferred[0].term.topology_key, "kubernetes.io/hostname");
  EXPECT_EQ(s.affinity.pod_anti_affinity->preferred[0].term.selector->match_labels.at("app"), "llama-70b");

  ASSERT_EQ(s.tolerations.size(), 2u);
  EXPECT_EQ(s.tolerations[0].key, "nvidia.com/gpu");
  EXPECT_TRUE(s.tolerations[0].exists);
  EXPECT_EQ(s.tolerations[0].effect, TaintEffect::NO_SCHEDULE);
  EXPECT_FALSE(s.tolerations[0].toleration_seconds.has_value());
  EXPECT_FALSE(s.tolerations[1].exists);
  EXPECT_EQ(s.tolerations[1].value, "inference");
  EXPECT_EQ(s.tolerations[1].effect, TaintEffect::NO_EXECUTE);
  EXPECT_EQ(s.tolerations[1].toleration_seconds, 300.0);

  ASSERT_EQ(s.topology_spread_constraints.size(), 2u);
  const auto& zone = s.topology_spread_constraints[0];
  EXPECT_EQ(zone.max_skew, 1);
  EXPECT_EQ(zone.topology_key, "topology.kubernetes.io/zone");
  EXPECT_EQ(zone.when_unsatisfiable, WhenUnsatisfiable::DO_NOT_SCHEDULE);
  EXPECT_EQ(zone.min_domains, 2);
  EXPECT_EQ(zone.selector->match_labels.at("app"), "llama-70b");
  const auto& host = s.topology_spread_constraints[1];
  EXPECT_EQ(host.max_skew, 2);
  EXPECT_EQ(host.when_unsatisfiable, WhenUnsatisfiable::SCHEDULE_ANYWAY);
  EXPECT_FALSE(host.min_domains.has_value());
  EXPECT_EQ(host.selector->match_expressions[0].op, SelectorOp::EXISTS);
  EXPECT_TRUE(host.selector->match_expressions[0].values.empty());

  ASSERT_EQ(s.init_containers.size(), 1u);
  EXPECT_EQ(s.init_containers[0].requests.at(CPU), 4'000);
  EXPECT_EQ(s.init_containers[0].requests.at(MEMORY), 16 * GI);  // "16Gi" = 17179869184000
  EXPECT_EQ(16 * GI, 17179869184000LL);
  ASSERT_EQ(s.containers.size(), 2u);
  const Container& vllm = s.containers[0];
  EXPECT_EQ(vllm.name, "vllm");
  EXPECT_EQ(vllm.image, "vllm/vllm-openai:v0.6.3");
  EXPECT_EQ(vllm.requests.at(CPU), 16'000);
  EXPECT_EQ(vllm.requests.at(MEMORY), 256 * GI);
  EXPECT_EQ(vllm.requests.at(GPU), 4'000);  // defaulted from the limit
  EXPECT_EQ(vllm.limits.at(MEMORY), 320 * GI);
  EXPECT_EQ(vllm.limits.at(GPU), 4'000);
  EXPECT_EQ(vllm.limits.count(CPU), 0u);
  const Container& sidecar = s.containers[1];  // limits only: requests = limits
  EXPECT_EQ(sidecar.requests, sidecar.limits);
  EXPECT_EQ(sidecar.requests.at(CPU), 500);
  EXPECT_EQ(sidecar.requests.at(MEMORY), 128 * MI);

  // cpu: max(16 + 0.5, 4); memory: max(256Gi + 128Mi, 16Gi)
  auto total = effective_requests(s);
  EXPECT_EQ(total.at(CPU), 16'500);
  EXPECT_EQ(total.at(MEMORY), 256 * GI + 128 * MI);
  EXPECT_EQ(total.at(GPU), 4'000);
}

TEST(Manifest, HorizontalPodAutoscalerV2WithBehavior) {
  auto set = load_manifests(DATA + "inference.yaml");
  ASSERT_EQ(set.hpas.size(), 1u);
  const auto& h = set.hpas[0];
  EXPECT_EQ(h.meta.name, "llama-70b");
  EXPECT_EQ(h.target_kind, "Deployment");
  EXPECT_EQ(h.target_name, "llama-70b");
  EXPECT_EQ(h.min_replicas, 2);
  EXPECT_EQ(h.max_replicas, 12);
  ASSERT_EQ(h.metrics.size(), 3u);
  EXPECT_EQ(h.metrics[0].type, "Resource");
  EXPECT_EQ(h.metrics[0].name, "cpu");
  EXPECT_EQ(h.metrics[0].target.type, "Utilization");
  EXPECT_EQ(h.metrics[0].target.average_utilization, 70);
  EXPECT_FALSE(h.metrics[0].target.average_value.has_value());
  EXPECT_EQ(h.metrics[1].type, "Pods");
  EXPECT_EQ(h.metrics[1].name, "vllm_num_requests_waiting");
  EXPECT_EQ(h.metrics[1].target.type, "AverageValue");
  EXPECT_EQ(h.metrics[1].target.average_value, 500);  // 500m
  EXPECT_EQ(h.metrics[2].type, "External");
  EXPECT_EQ(h.metrics[2].name, "queue_depth");
  EXPECT_EQ(h.metrics[2].target.type, "Value");
  EXPECT_EQ(h.metrics[2].target.value, 1'000'000);  // 1k
  EXPECT_EQ(h.scale_up.stabilization_window_s, 0.0);
  EXPECT_EQ(h.scale_up.select_policy, "Max");
  ASSERT_EQ(h.scale_up.policies.size(), 2u);
  EXPECT_EQ(h.scale_up.policies[0].type, "Pods");
  EXPECT_EQ(h.scale_up.policies[0].value, 2);
  EXPECT_EQ(h.scale_up.policies[0].period_s, 60.0);
  EXPECT_EQ(h.scale_up.policies[1].type, "Percent");
  EXPECT_EQ(h.scale_up.policies[1].value, 100);
  EXPECT_EQ(h.scale_down.stabilization_window_s, 600.0);
  EXPECT_EQ(h.scale_down.select_policy, "Min");
  ASSERT_EQ(h.scale_down.policies.size(), 1u);
  EXPECT_EQ(h.scale_down.policies[0].period_s, 120.0);
}

TEST(Manifest, KueueQueuesPodGroupAndJobs) {
  auto set = load_manifests(DATA + "training.yaml");
  EXPECT_EQ(set.skipped, std::vector<std::string>{DATA + "training.yaml:3: ResourceFlavor/h100 (kind not simulated)"});
  ASSERT_EQ(set.cluster_queues.size(), 1u);
  const ClusterQueue& cq = set.cluster_queues[0];
  EXPECT_EQ(cq.meta.name, "research");
  EXPECT_EQ(cq.cohort, "gpu-pool");
  ASSERT_EQ(cq.quotas.size(), 2u);
  EXPECT_EQ(cq.quotas[0].flavor, "h100");
  EXPECT_EQ(cq.quotas[0].nominal, (ResourceList{{CPU, 384'000}, {MEMORY, 4 * TI}, {GPU, 16'000}}));
  EXPECT_EQ(cq.quotas[0].borrowing_limit, (ResourceList{{GPU, 8'000}}));
  EXPECT_EQ(cq.quotas[1].flavor, "a100");
  EXPECT_EQ(cq.quotas[1].nominal.at(GPU), 0);
  EXPECT_TRUE(cq.quotas[1].borrowing_limit.empty());
  EXPECT_EQ(cq.within_cluster_queue_preemption, "LowerPriority");
  EXPECT_EQ(cq.reclaim_within_cohort, "Any");

  ASSERT_EQ(set.local_queues.size(), 1u);
  EXPECT_EQ(set.local_queues[0].meta.namespace_, "research");
  EXPECT_EQ(set.local_queues[0].cluster_queue, "research");

  ASSERT_EQ(set.pod_groups.size(), 1u);
  EXPECT_EQ(set.pod_groups[0].meta.name, "llama-pretrain");
  EXPECT_EQ(set.pod_groups[0].min_member, 4);
  EXPECT_EQ(set.pod_groups[0].schedule_timeout_s, 600.0);

  ASSERT_EQ(set.jobs.size(), 2u);
  const Job& train = named(set.jobs, "llama-pretrain");
  EXPECT_EQ(train.meta.labels.at("kueue.x-k8s.io/queue-name"), "team-a");
  EXPECT_EQ(train.parallelism, 4);
  EXPECT_EQ(train.completions, 4);
  EXPECT_EQ(train.backoff_limit, 0);
  EXPECT_EQ(train.active_deadline_s, 86400.0);
  EXPECT_EQ(train.pod_template.meta.labels.at("scheduling.x-k8s.io/pod-group"), "llama-pretrain");
  EXPECT_EQ(train.pod_template.spec.scheduler_name, "scheduler-plugins-scheduler");
  const Container& trainer = train.pod_template.spec.containers[0];
  EXPECT_EQ(trainer.requests, trainer.limits);
  EXPECT_EQ(trainer.requests.at(GPU), 8'000);
  EXPECT_EQ(trainer.requests.at(MEMORY), TI);

  // parallelism without completions: a work queue (completions unset), as the API server defaults.
  const Job& eval = named(set.jobs, "eval-queue");
  EXPECT_EQ(eval.parallelism, 3);
  EXPECT_FALSE(eval.completions.has_value());
  EXPECT_EQ(eval.backoff_limit, 6);
  EXPECT_FALSE(eval.active_deadline_s.has_value());
  EXPECT_EQ(eval.pod_template.spec.containers[0].requests.at("nvidia.com/mig-1g.10gb"), 1'000);
  EXPECT_EQ(eval.pod_template.spec.containers[0].requests.at(CPU), 2'000);
}

TEST(Manifest, ReplicaSetAndOwnedPod) {
  auto set = load_manifests(DATA + "training.yaml");
  ASSERT_EQ(set.replica_sets.size(), 1u);
  const ReplicaSet& rs = set.replica_sets[0];
  EXPECT_EQ(rs.replicas, 2);
  ASSERT_EQ(rs.selector.match_expressions.size(), 1u);
  EXPECT_EQ(rs.selector.match_expressions[0].op, SelectorOp::IN);
  EXPECT_EQ(rs.pod_template.spec.containers[0].requests.at(CPU), 1'500);

  ASSERT_EQ(set.pods.size(), 1u);
  const Pod& p = set.pods[0];
  EXPECT_EQ(p.meta.name, "tokenizer-7d9f-abcde");
  EXPECT_EQ(p.meta.namespace_, "research");
  EXPECT_EQ(p.owner_kind, "ReplicaSet");
  EXPECT_EQ(p.owner_name, "tokenizer-7d9f");
  EXPECT_EQ(p.pod_group, "llama-pretrain");
  EXPECT_EQ(p.spec.priority, 1000);
  EXPECT_EQ(p.spec.preemption_policy, "Never");
  EXPECT_EQ(p.spec.node_name, "cpu-0");
  const auto& term = p.spec.affinity.node_affinity->required->at(0);
  ASSERT_EQ(term.match_fields.size(), 1u);
  EXPECT_EQ(term.match_fields[0].key, "metadata.name");
  EXPECT_EQ(term.match_fields[0].values, std::vector<std::string>{"cpu-0"});
  const auto& affinity = p.spec.affinity.pod_affinity->required.at(0);
  EXPECT_EQ(affinity.namespaces, (std::vector<std::string>{"research", "ml"}));
  EXPECT_EQ(affinity.selector->match_expressions[0].op, SelectorOp::NOT_IN);
  ASSERT_EQ(p.spec.tolerations.size(), 1u);
  EXPECT_TRUE(p.spec.tolerations[0].exists);
  EXPECT_EQ(p.spec.tolerations[0].key, "");
  EXPECT_FALSE(p.spec.tolerations[0].effect.has_value());  // every effect
}

TEST(Manifest, ListWithAnchorsAndMergeKeys) {
  auto set = load_manifests(DATA + "list.yaml");
  ASSERT_EQ(set.pods.size(), 2u);
  EXPECT_EQ(set.pods[0].meta.labels, (Labels{{"app", "web"}, {"tier", "frontend"}}));
  EXPECT_EQ(set.pods[0].meta.source, DATA + "list.yaml:8");
  EXPECT_EQ(set.pods[1].meta.labels, (Labels{{"app", "web"}, {"tier", "canary"}}));  // own key wins
  EXPECT_EQ(set.pods[1].spec.containers[0].name, "web");
  EXPECT_EQ(set.pods[1].spec.containers[0].requests.at(MEMORY), 64 * MI);
  EXPECT_EQ(set.skipped, std::vector<std::string>{DATA + "list.yaml:33: Secret/web-tls (kind not simulated)"});
}

TEST(Manifest, DefaultsAndAppending) {
  auto set = parse(deployment_with(""));
  const Deployment& d = set.deployments.at(0);
  EXPECT_EQ(d.meta.namespace_, "default");
  EXPECT_EQ(d.meta.source, "x.yaml:1");
  EXPECT_EQ(d.replicas, 1);
  EXPECT_TRUE(d.max_surge.percent);
  EXPECT_EQ(d.max_surge.value, 25);
  EXPECT_TRUE(d.pod_template.spec.containers[0].requests.empty());

  auto job = parse(R"(apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  completions: null
  template:
    spec:
      containers: [{name: c, image: busybox}]
)");
  EXPECT_EQ(job.jobs.at(0).parallelism, 1);
  EXPECT_EQ(job.jobs.at(0).completions, 1);  // null is unset; with parallelism unset too: 1

  // Recreate strategy; empty documents and null fields are skipped.
  auto recreate =
      parse("---\n# nothing\n---\n" + deployment_with("") + "  strategy: {type: Recreate}\n  paused: null\n");
  EXPECT_TRUE(recreate.deployments.at(0).recreate);

  // Files append; one that fails adds nothing.
  ManifestSet into;
  load_manifests(DATA + "cluster.yaml", into);
  load_manifests(DATA + "list.yaml", into);
  EXPECT_EQ(into.nodes.size(), 4u);
  EXPECT_EQ(into.pods.size(), 2u);
  EXPECT_EQ(into.skipped.size(), 2u);
  EXPECT_NE(error_of([&] { parse_manifests(deployment_with("") + "---\nkind: Pod\n", "y.yaml", into); }), "");
  EXPECT_EQ(into.deployments.size(), 0u);
  EXPECT_EQ(into.skipped.size(), 2u);
}

// ---- Rejected input: the exact messages ----

TEST(ManifestErrors, UnknownFieldsNameTheNearestValidOne) {
  EXPECT_EQ(error_of(deployment_with("") + "  replica: 3\n"),
            "x.yaml:15:3: at Deployment/web .spec.replica: unknown field \"replica\" (did you mean \"replicas\"?)");
  EXPECT_EQ(error_of(deployment_with("          resource:\n            requests: {cpu: 1}\n")),
            "x.yaml:15:11: at Deployment/web .spec.template.spec.containers[0].resource: unknown field \"resource\" "
            "(did you mean \"resources\"?)");
  // Ignored fields are suggested too.
  EXPECT_EQ(error_of(deployment_with("", "      serviceAcountName: x\n")),
            "x.yaml:12:7: at Deployment/web .spec.template.spec.serviceAcountName: unknown field "
            "\"serviceAcountName\" (did you mean \"serviceAccountName\"?)");
  EXPECT_EQ(error_of(deployment_with("", "      affinity:\n        nodeAfinity: {}\n")),
            "x.yaml:13:9: at Deployment/web .spec.template.spec.affinity.nodeAfinity: unknown field \"nodeAfinity\" "
            "(did you mean \"nodeAffinity\"?)");
  // Nothing near: the valid fields are listed.
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec:\n  zzzzzzzz: 1\n"),
            "x.yaml:5:3: at Node/node-1 .spec.zzzzzzzz: unknown field \"zzzzzzzz\"; valid fields here: taints or "
            "unschedulable");
  // The first in the text is reported, not the first in alphabetical order.
  EXPECT_EQ(
      error_of("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec:\n  zeta: 1\n  alpha: 2\n"),
      "x.yaml:5:3: at Node/node-1 .spec.zeta: unknown field \"zeta\"; valid fields here: taints or unschedulable");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspek: {}\n"),
            "x.yaml:4:1: at Pod/p .spek: unknown field \"spek\" (did you mean \"spec\"?)");
}

TEST(ManifestErrors, BadQuantity) {
  EXPECT_EQ(error_of([] { load_manifests(DATA + "invalid/web-bad-cpu.yaml"); }),
            DATA +
                "invalid/web-bad-cpu.yaml:16:20: at Deployment/web .spec.template.spec.containers[0].resources."
                "requests.cpu: expected a quantity such as 500m or 2, got \"lots\"");
  EXPECT_EQ(error_of(deployment_with("          resources:\n            requests:\n              cpu: lots\n")),
            "x.yaml:17:20: at Deployment/web .spec.template.spec.containers[0].resources.requests.cpu: expected a "
            "quantity such as 500m or 2, got \"lots\"");
  EXPECT_EQ(error_of(deployment_with("          resources:\n            limits: {memory: -1Gi}\n")),
            "x.yaml:16:30: at Deployment/web .spec.template.spec.containers[0].resources.limits.memory: expected a "
            "quantity such as 500m or 2, got \"-1Gi\"");
  // Exponents: 5e-21 rounds up to one thousandth; far smaller ones are refused (once a crash).
  EXPECT_EQ(parse("apiVersion: v1\nkind: Node\nmetadata: {name: a}\nstatus: {capacity: {cpu: 5e-21, memory: 2e3}}\n")
                .nodes.at(0)
                .capacity,
            (ResourceList{{CPU, 1}, {MEMORY, 2'000'000}}));
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Node\nmetadata: {name: a}\nstatus: {capacity: {cpu: 1e-300}}\n"),
            "x.yaml:4:26: at Node/a .status.capacity.cpu: expected a quantity such as 500m or 2, got number 1e-300");
  EXPECT_EQ(error_of(deployment_with("          resources:\n            limits: {nvidia.com/gpu: [1]}\n")),
            "x.yaml:16:38: at Deployment/web .spec.template.spec.containers[0].resources.limits[\"nvidia.com/gpu\"]: "
            "expected a quantity such as 500m or 2, got a list");
}

TEST(ManifestErrors, ResourceRules) {
  EXPECT_EQ(
      error_of(deployment_with("          resources:\n            requests: {cpu: 2}\n            limits: {cpu: 1}\n")),
      "x.yaml:16:29: at Deployment/web .spec.template.spec.containers[0].resources.requests.cpu: expected a "
      "request of at most the limit 1, got number 2");
  EXPECT_EQ(error_of(deployment_with("          resources:\n            requests: {nvidia.com/gpu: 2}\n"
                                     "            limits: {nvidia.com/gpu: 1}\n")),
            "x.yaml:16:40: at Deployment/web .spec.template.spec.containers[0].resources.requests[\"nvidia.com/gpu\"]: "
            "expected a request equal to the limit 1 (extended resources cannot be overcommitted), got number 2");
  EXPECT_EQ(error_of(deployment_with("          resources:\n            requests: {nvidia.com/gpu: 1}\n")),
            "x.yaml:16:40: at Deployment/web .spec.template.spec.containers[0].resources.requests[\"nvidia.com/gpu\"]: "
            "expected a limit equal to this request (extended resources cannot be overcommitted), got a request "
            "without a limit");
}

TEST(ManifestErrors, BadEnums) {
  EXPECT_EQ(error_of(deployment_with("", "      tolerations:\n        - {key: a, operator: Exist}\n")),
            "x.yaml:13:30: at Deployment/web .spec.template.spec.tolerations[0].operator: expected one of Equal or "
            "Exists, got \"Exist\" (did you mean \"Exists\"?)");
  EXPECT_EQ(error_of(deployment_with("", "      tolerations:\n        - {key: a, effect: NoSchedul}\n")),
            "x.yaml:13:28: at Deployment/web .spec.template.spec.tolerations[0].effect: expected one of NoSchedule, "
            "PreferNoSchedule or NoExecute, got \"NoSchedul\" (did you mean \"NoSchedule\"?)");
  EXPECT_EQ(
      error_of(deployment_with("",
                               "      topologySpreadConstraints:\n        - maxSkew: 1\n"
                               "          topologyKey: zone\n          whenUnsatisfiable: DoNotScheduled\n")),
      "x.yaml:15:30: at Deployment/web .spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable: "
      "expected one of DoNotSchedule or ScheduleAnyway, got \"DoNotScheduled\" (did you mean \"DoNotSchedule\"?)");
  // Gt/Lt exist only in node selector terms.
  EXPECT_EQ(error_of("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  selector:\n"
                     "    matchExpressions: [{key: a, operator: Gt, values: [\"1\"]}]\n"),
            "x.yaml:6:43: at ReplicaSet/r .spec.selector.matchExpressions[0].operator: expected one of In, NotIn, "
            "Exists or DoesNotExist, got \"Gt\" (did you mean \"In\"?)");
}

TEST(ManifestErrors, SelectorValues) {
  std::string node_term =
      "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
      "            nodeSelectorTerms:\n              - matchExpressions:\n";
  EXPECT_EQ(error_of(deployment_with("", node_term + "                  - {key: a, operator: In}\n")),
            "x.yaml:17:21: at Deployment/web .spec.template.spec.affinity.nodeAffinity."
            "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]: missing "
            "required field \"values\" (operator In needs values)");
  EXPECT_EQ(error_of(deployment_with("", node_term + "                  - {key: a, operator: Exists, values: [x]}\n")),
            "x.yaml:17:56: at Deployment/web .spec.template.spec.affinity.nodeAffinity."
            "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: expected "
            "no values for operator Exists, got a list");
  EXPECT_EQ(error_of(deployment_with("", node_term + "                  - {key: a, operator: Lt, values: [\"x\"]}\n")),
            "x.yaml:17:53: at Deployment/web .spec.template.spec.affinity.nodeAffinity."
            "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]: "
            "expected an integer such as \"4\" for operator Lt, got \"x\"");
  EXPECT_EQ(error_of(deployment_with("", node_term + "                  - {key: a, operator: NotIn, values: []}\n")),
            "x.yaml:17:55: at Deployment/web .spec.template.spec.affinity.nodeAffinity."
            "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: expected "
            "at least one value for operator NotIn, got an empty list");
}

TEST(ManifestErrors, IntegersAndRanges) {
  EXPECT_EQ(error_of(deployment_with("") + "  replicas: \"3\"\n"),
            "x.yaml:15:13: at Deployment/web .spec.replicas: expected an integer >= 0, got \"3\"");
  EXPECT_EQ(error_of(deployment_with("") + "  replicas: -1\n"),
            "x.yaml:15:13: at Deployment/web .spec.replicas: expected an integer >= 0, got number -1");
  EXPECT_EQ(error_of(deployment_with("") + "  replicas: 2.5\n"),
            "x.yaml:15:13: at Deployment/web .spec.replicas: expected an integer >= 0, got number 2.5");
  EXPECT_EQ(error_of(deployment_with("") + "  replicas: 99999999999\n"),
            "x.yaml:15:13: at Deployment/web .spec.replicas: expected an integer >= 0, got number 99999999999");
  EXPECT_EQ(error_of(deployment_with("",
                                     "      topologySpreadConstraints:\n        - maxSkew: 0\n"
                                     "          topologyKey: zone\n          whenUnsatisfiable: DoNotSchedule\n")),
            "x.yaml:13:20: at Deployment/web .spec.template.spec.topologySpreadConstraints[0].maxSkew: expected an "
            "integer >= 1, got number 0");
  EXPECT_EQ(
      error_of(deployment_with("",
                               "      affinity:\n        podAffinity:\n"
                               "          preferredDuringSchedulingIgnoredDuringExecution:\n"
                               "            - weight: 101\n              podAffinityTerm: {topologyKey: z}\n")),
      "x.yaml:15:23: at Deployment/web .spec.template.spec.affinity.podAffinity."
      "preferredDuringSchedulingIgnoredDuringExecution[0].weight: expected an integer from 1 to 100, got number 101");
}

TEST(ManifestErrors, RollingUpdateBounds) {
  std::string base = deployment_with("") + "  strategy:\n    rollingUpdate:\n";
  EXPECT_EQ(error_of(base + "      maxSurge: 0\n      maxUnavailable: 0%\n"),
            "x.yaml:18:23: at Deployment/web .spec.strategy.rollingUpdate.maxUnavailable: expected maxSurge and "
            "maxUnavailable not both 0 (the rollout could never progress), got \"0%\"");
  EXPECT_EQ(error_of(base + "      maxSurge: \"5\"\n"),
            "x.yaml:17:17: at Deployment/web .spec.strategy.rollingUpdate.maxSurge: expected an integer >= 0 or a "
            "percentage such as 25%, got \"5\"");
  EXPECT_EQ(error_of(base + "      maxUnavailable: 150%\n"),
            "x.yaml:17:23: at Deployment/web .spec.strategy.rollingUpdate.maxUnavailable: expected an integer >= 0 "
            "or a percentage from 0% to 100%, got \"150%\"");
  EXPECT_EQ(error_of(deployment_with("") + "  strategy:\n    type: Recreate\n    rollingUpdate: {maxSurge: 1}\n"),
            "x.yaml:17:20: at Deployment/web .spec.strategy.rollingUpdate: expected no rollingUpdate when the "
            "strategy type is Recreate, got a mapping");
}

TEST(ManifestErrors, MissingNamesKindsAndApiVersions) {
  EXPECT_EQ(error_of("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels: {app: web}\nspec: {}\n"),
            "x.yaml:4:3: at Deployment .metadata: missing required field \"name\"");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"\"\n"),
            "x.yaml:4:9: at Pod .metadata.name: expected a non-empty name, got \"\"");
  EXPECT_EQ(error_of("apiVersion: v1\nmetadata: {name: x}\n"),
            "x.yaml:1:1: at document 1: missing required field \"kind\"");
  EXPECT_EQ(error_of("---\nkind: Service\nmetadata: {name: x}\n"),
            "x.yaml:2:1: at Service/x: missing required field \"apiVersion\"");
  EXPECT_EQ(
      error_of(deployment_with("") + "---\n- a\n- b\n"),
      "x.yaml:16:1: at document 2: expected a Kubernetes object (a mapping with apiVersion and kind), got a list");
  EXPECT_EQ(error_of("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"),
            "x.yaml:1:13: at HorizontalPodAutoscaler/h .apiVersion: expected autoscaling/v2, got \"autoscaling/v1\"");
  EXPECT_EQ(error_of(deployment_with("").substr(0, deployment_with("").find("spec:"))),
            "x.yaml:1:1: at Deployment/web: missing required field \"spec\"");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n"),
            "x.yaml:5:15: at Pod/p .spec.containers: expected at least one container, got an empty list");
}

TEST(ManifestErrors, YamlTypingNeedsQuotes) {
  EXPECT_EQ(
      error_of("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  labels:\n    version: 1.10\n"),
      "x.yaml:6:14: at Node/node-1 .metadata.labels.version: expected a string, got number 1.10 (quote it to make "
      "it a string)");
  EXPECT_EQ(
      error_of("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  labels:\n    gpu: yes\n"),
      "x.yaml:6:10: at Node/node-1 .metadata.labels.gpu: expected a string, got boolean yes (quote it to make it a "
      "string)");
  // YAML 1.1, as kubectl reads it: y and n are booleans too.
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"),
            "x.yaml:3:18: at Node/n .metadata.name: expected a non-empty name, got boolean n (quote it to make it a "
            "string)");
  EXPECT_EQ(parse("apiVersion: v1\nkind: Node\nmetadata: {name: \"n\"}\n").nodes.at(0).meta.name, "n");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec: {unschedulable: \"true\"}\n"),
            "x.yaml:4:23: at Node/node-1 .spec.unschedulable: expected true or false, got \"true\"");
}

TEST(ManifestErrors, MalformedYamlNamesLineAndColumn) {
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Pod\nmetadata: {name: [p}\n"),
            "x.yaml:3:20: malformed YAML: illegal flow end");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Pod\n  bad: indent\n"), "x.yaml:3:6: malformed YAML: illegal map value");
  EXPECT_EQ(error_of("a: *nowhere\n"), "x.yaml:1:4: malformed YAML: the referenced anchor is not defined");
  // A ',' outside a flow collection once made the parser return empty documents forever.
  EXPECT_EQ(error_of(",# A small GPU cluster\n"),
            "x.yaml:1:1: malformed YAML: unexpected ',' outside a flow collection ([...] or {...})");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n[a], b\n"),
            "x.yaml:5:4: malformed YAML: unexpected ',' outside a flow collection ([...] or {...})");
  // Nesting deeper than the parser allows is a message too, not a stack overflow.
  EXPECT_EQ(error_of(std::string(100000, '[')), "x.yaml:1:1: malformed YAML: nested deeper than 500 levels");
  std::string dashes;
  for (int i = 0; i < 100000; ++i) dashes += "- ";
  EXPECT_EQ(error_of(dashes + "x\n"), "x.yaml:1:1000: malformed YAML: nested deeper than 500 levels");
  EXPECT_EQ(error_of([] { load_manifests("/nonexistent/m.yaml"); }),
            "/nonexistent/m.yaml: cannot open file (does it exist and is it readable?)");
}

TEST(ManifestErrors, DuplicatesAndStructure) {
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nmetadata: {name: m}\n"),
            "x.yaml:4:1: at Node/node-1 .metadata: duplicate field \"metadata\" (first at line 3)");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: List\n    items: []\n"),
            "x.yaml:4:5: at List .items[0]: expected an object inside a List, got another List");
  EXPECT_EQ(
      error_of("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  selector: {matchLabels: {a: b}}\n"
               "  template:\n    metadata: {labels: {a: c}}\n    spec: {containers: [{name: c, image: i}]}\n"),
      "x.yaml:7:5: at ReplicaSet/r .spec.template: expected template labels that .spec.selector selects, got "
      "a=c");
}

TEST(ManifestErrors, SemanticRules) {
  EXPECT_EQ(error_of(deployment_with("", "      tolerations:\n        - {key: a, value: b, tolerationSeconds: 5}\n")),
            "x.yaml:13:49: at Deployment/web .spec.template.spec.tolerations[0].tolerationSeconds: expected no "
            "tolerationSeconds unless effect is NoExecute, got number 5");
  EXPECT_EQ(error_of(deployment_with("", "      tolerations:\n        - {key: a, operator: Exists, value: b}\n")),
            "x.yaml:13:45: at Deployment/web .spec.template.spec.tolerations[0].value: expected no value with "
            "operator Exists, got \"b\"");
  EXPECT_EQ(error_of(deployment_with("", "      schedulingGates: [{name: wait}]\n")),
            "x.yaml:12:24: at Deployment/web .spec.template.spec.schedulingGates: expected no value (a scheduling "
            "gate is not simulated), got a list");
  EXPECT_EQ(error_of(R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 3
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageValue: 500m}
)"),
            "x.yaml:11:17: at HorizontalPodAutoscaler/h .spec.metrics[0].resource.target: missing required field "
            "\"averageUtilization\" (the target type is Utilization)");
  EXPECT_EQ(error_of(R"(apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: q}
spec:
  resourceGroups:
    - coveredResources: [cpu, memory]
      flavors:
        - name: default
          resources:
            - {name: memory, nominalQuota: 1Gi}
            - {name: cpu, nominalQuota: 1}
)"),
            "x.yaml:10:22: at ClusterQueue/q .spec.resourceGroups[0].flavors[0].resources[0].name: expected \"cpu\" "
            "(a flavor lists the covered resources in order), got \"memory\"");
}

TEST(ManifestErrors, AliasBombsAndLoopsAreRejectedQuickly) {
  // 1000 pods x 100 node selector terms x 100 expressions x 100 values: 10^9 values once
  // the aliases are expanded, from 1300 lines of text.
  std::string text =
      "apiVersion: v1\nkind: List\nitems:\n  - &pod\n    apiVersion: v1\n    kind: Pod\n"
      "    metadata: {name: p}\n    spec:\n      containers: [{name: c, image: i}]\n"
      "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
      "            nodeSelectorTerms:\n              - &term\n                matchExpressions:\n"
      "                  - &expr\n                    key: k\n                    operator: In\n"
      "                    values:\n";
  for (int i = 0; i < 100; ++i) text += "                      - v" + std::to_string(i) + "\n";
  for (int i = 1; i < 100; ++i) text += "                  - *expr\n";
  for (int i = 1; i < 100; ++i) text += "              - *term\n";
  for (int i = 1; i < 1000; ++i) text += "  - *pod\n";
  auto start = std::chrono::steady_clock::now();
  std::string msg = error_of(text);
  EXPECT_EQ(msg.rfind("x.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("expected a document of bounded size once YAML aliases are expanded"), std::string::npos) << msg;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  // An anchor that contains itself.
  EXPECT_EQ(
      error_of("apiVersion: v1\nkind: List\nitems: &loop\n  - apiVersion: v1\n    kind: List\n    items: *loop\n"),
      "x.yaml:4:5: at List .items[0]: expected an object inside a List, got another List");
  EXPECT_EQ(error_of("apiVersion: v1\nkind: Pod\nmetadata: &m {name: p, <<: *m}\n"),
            "x.yaml:3:11: at Pod/p .metadata.<<: expected merge keys nested at most 8 deep, got a mapping");
}
