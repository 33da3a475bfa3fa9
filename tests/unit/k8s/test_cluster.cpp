// The cluster over time on a two-node platform with a registry and a storage host (round
// figures: nodes 10 GB/s, registry link 1 GB/s, storage link 4 GB/s, no latency), every
// expected time worked by hand from the lifecycle's phases, the controllers' documented
// rules and the scheduling queue's backoff.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "k8s/cluster.hpp"
#include "workload/request_generator.hpp"
#include "platform/platform.hpp"

using namespace aifsim;
using namespace aifsim::k8s;

namespace {

const std::string SRC = AIFSIM_SOURCE_DIR;

platform::PlatformSpec two_nodes(const std::string& extra_type_fields = "") {
  return platform::parse_platform(nlohmann::json::parse(R"({
    "name": "two-node",
    "node_types": {"gpu-node": {"cpu_cores": 64, "memory_bytes": 1e12, "gpu_model": "H100-SXM5-80GB", "gpus": 8,
                                "nic_bw_Bps": 1e10)" + extra_type_fields + R"(}},
    "nodes": [{"type": "gpu-node", "count": 2, "prefix": "node"}],
    "fabric": {"kind": "single_switch"},
    "services": [{"name": "registry", "kind": "registry", "bw_Bps": 1e9},
                 {"name": "storage", "kind": "storage", "bw_Bps": 4e9}]
  })"), "two-node.json");
}

ManifestSet manifests(const std::string& yaml) {
  ManifestSet m;
  parse_manifests(yaml, "test.yaml", m);
  return m;
}

ClusterConfig config(double duration_s) {
  ClusterConfig c;
  c.profile = sched::default_profile();
  c.duration_s = duration_s;
  return c;
}

ClusterConfig with_lifecycle(double duration_s) {
  ClusterConfig c = config(duration_s);
  c.lifecycle.registry = "registry";
  c.lifecycle.storage = "storage";
  c.lifecycle.image_bytes = {{"vllm:a", 2e9}, {"vllm:b", 3e9}};
  c.lifecycle.container_start_s = 1;
  c.lifecycle.engine_warmup_s = 5;
  c.lifecycle.shutdown_s = 2;
  return c;
}

const PodRecord& pod(const ClusterResult& r, const std::string& name) {
  for (const auto& p : r.pods)
    if (p.name == name) return p;
  throw std::runtime_error("no pod " + name);
}

std::string deployment(const std::string& name, int replicas, const std::string& image, int gpus,
                       const std::string& extra_template_meta = "", const std::string& extra_spec = "",
                       const std::string& strategy = "{rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + "}\nspec:\n  replicas: " +
         std::to_string(replicas) + "\n  selector: {matchLabels: {app: " + name + "}}\n  strategy: " + strategy +
         "\n  template:\n    metadata:\n      labels: {app: " + name + "}\n" + extra_template_meta +
         "    spec:\n" + extra_spec + "      containers:\n        - name: main\n          image: " + image +
         "\n          resources:\n            requests: {cpu: \"1\", memory: 1Gi, nvidia.com/gpu: \"" +
         std::to_string(gpus) + "\"}\n            limits: {nvidia.com/gpu: \"" + std::to_string(gpus) + "\"}\n---\n";
}

}  // namespace

// Two replicas land on the two nodes (LeastAllocated). Both pull the 2 GB image at once
// through the registry's 1 GB/s link: 1 GB at 0.5 GB/s each... 2 GB / 0.5 GB/s = 4 s.
// Container start 1 s; llama3-8b weights (parameters x 2 bytes) come from storage at
// 4 GB/s shared by two = 2 GB/s each, then over one GPU's host link; warm-up 5 s.
TEST(Cluster, LifecyclePhasesOnTwoNodes) {
  ClusterConfig c = with_lifecycle(600);
  auto card = gpu::load_model_card(SRC + "/workloads/models/llama3-8b.json");
  const double weights = card.parameters() * 2;
  c.lifecycle.model_bytes = {{"llama3-8b", weights}};
  gpu::GpuModel gpu_model(gpu::load_profile(SRC + "/calibration/profiles/h100-sxm.json"));
  auto r = simulate_cluster(two_nodes(),
                            manifests(deployment("llm", 2, "vllm:a", 1, "      annotations: {aifsim.io/model: llama3-8b}\n")),
                            c, &gpu_model);
  ASSERT_EQ(r.pods.size(), 2u);
  const double h2d = gpu_model.host_link_time(weights, gpu::Direction::H2D, gpu::HostMemory::PINNED);
  std::set<std::string> nodes;
  for (const auto& p : r.pods) {
    nodes.insert(p.node);
    EXPECT_EQ(p.state, "running");
    EXPECT_DOUBLE_EQ(*p.scheduled_s, 0);
    EXPECT_NEAR(p.pull_s, 4.0, 1e-6);
    EXPECT_NEAR(*p.started_s, 5.0, 1e-6);
    EXPECT_NEAR(p.load_s, weights / 2e9 + h2d, 1e-6);
    EXPECT_NEAR(*p.ready_s, 5.0 + weights / 2e9 + h2d + 5.0, 1e-6);
  }
  EXPECT_EQ(nodes.size(), 2u);
  ASSERT_EQ(r.pools.size(), 1u);
  // Two GPUs of 16 held for 600 s; ready from the ready time on.
  EXPECT_NEAR(r.pools[0].gpu_allocated_s, 2 * 600.0, 1e-6);
  EXPECT_NEAR(r.pools[0].gpu_ready_s, 2 * (600.0 - *r.pods[0].ready_s), 1e-6);
}

// Both replicas forced onto node0001: one pull of the image serves both (2 GB at 1 GB/s =
// 2 s); a third replica created at t = 100 finds the image cached and pulls nothing.
TEST(Cluster, ImageCachedPerNodeAndSharedBetweenWaitingPods) {
  ClusterConfig c = with_lifecycle(300);
  c.events.push_back(ClusterEvent{100, "scale", "Deployment/llm", 3, ""});
  auto r = simulate_cluster(
      two_nodes(), manifests(deployment("llm", 2, "vllm:a", 1, "", "      nodeSelector: {kubernetes.io/hostname: node0001}\n")), c,
      nullptr);
  ASSERT_EQ(r.pods.size(), 3u);
  EXPECT_NEAR(r.pods[0].pull_s, 2.0, 1e-9);
  EXPECT_NEAR(r.pods[1].pull_s, 2.0, 1e-9);
  EXPECT_EQ(r.pods[2].node, "node0001");
  EXPECT_NEAR(*r.pods[2].scheduled_s, 100.0, 1e-9);
  EXPECT_NEAR(r.pods[2].pull_s, 0.0, 1e-9);
  EXPECT_NEAR(*r.pods[2].ready_s, 100.0 + 1 + 5, 1e-9);
}

// Two images on one node. Serialized (the kubelet's default): a (2 GB) then b (3 GB) at
// 1 GB/s: done at 2 s and 5 s. In parallel they share the link: a ends at 4 s (2 GB at
// 0.5 GB/s), then b's last 1 GB goes at 1 GB/s: 5 s.
TEST(Cluster, ImagePullsAreSerializedPerNodeByDefault) {
  const std::string yaml = deployment("a", 1, "vllm:a", 1, "", "      nodeSelector: {kubernetes.io/hostname: node0001}\n") +
                           deployment("b", 1, "vllm:b", 1, "", "      nodeSelector: {kubernetes.io/hostname: node0001}\n");
  {
    auto r = simulate_cluster(two_nodes(), manifests(yaml), with_lifecycle(60), nullptr);
    EXPECT_NEAR(pod(r, "a-r1-1").pull_s, 2.0, 1e-9);
    EXPECT_NEAR(pod(r, "b-r1-1").pull_s, 5.0, 1e-9);
  }
}

TEST(Cluster, ParallelImagePullsShareTheRegistryLink) {
  const std::string yaml = deployment("a", 1, "vllm:a", 1, "", "      nodeSelector: {kubernetes.io/hostname: node0001}\n") +
                           deployment("b", 1, "vllm:b", 1, "", "      nodeSelector: {kubernetes.io/hostname: node0001}\n");
  ClusterConfig c = with_lifecycle(60);
  c.lifecycle.serialize_image_pulls = false;
  auto r = simulate_cluster(two_nodes(), manifests(yaml), c, nullptr);
  EXPECT_NEAR(pod(r, "a-r1-1").pull_s, 4.0, 1e-9);
  EXPECT_NEAR(pod(r, "b-r1-1").pull_s, 5.0, 1e-9);
}

// A rolling update with maxSurge 1, maxUnavailable 0 on 2 replicas: at t = 100 one new pod
// (3 GB image alone on the registry: 3 s, start 1 s, warm-up 5 s: ready at 109); then an
// old pod is deleted (2 s to exit) and the second new pod is created at 109. Never fewer
// than 2 ready pods, never more than 3 pods that are not terminating.
TEST(Cluster, RollingUpdateRespectsSurgeAndUnavailability) {
  ClusterConfig c = with_lifecycle(400);
  c.events.push_back(ClusterEvent{100, "set_image", "Deployment/llm", 0, "vllm:b"});
  auto r = simulate_cluster(two_nodes(), manifests(deployment("llm", 2, "vllm:a", 1)), c, nullptr);
  ASSERT_EQ(r.pods.size(), 4u);
  const auto& first_new = pod(r, "llm-r2-1");
  const auto& second_new = pod(r, "llm-r2-2");
  EXPECT_NEAR(first_new.created_s, 100, 1e-9);
  EXPECT_NEAR(*first_new.ready_s, 109, 1e-9);
  EXPECT_NEAR(second_new.created_s, 109, 1e-9);
  int deleted = 0;
  for (const auto& p : r.pods)
    if (p.owner == "ReplicaSet/llm-r1") {
      EXPECT_EQ(p.state, "deleted");
      EXPECT_EQ(p.reason, "scaled down");
      ++deleted;
    } else {
      EXPECT_EQ(p.state, "running");
    }
  EXPECT_EQ(deleted, 2);
  // Sweep the pods' intervals: ready pods >= 2 after the first start, pods not being
  // deleted <= 3 (like kube, surge does not count pods that are terminating).
  std::map<double, std::pair<int, int>> delta;  // time -> (pods, ready)
  for (const auto& p : r.pods) {
    delta[p.created_s].first += 1;
    if (p.deleted_s) delta[*p.deleted_s].first -= 1;
    if (p.ready_s) delta[*p.ready_s].second += 1;
    if (p.deleted_s && p.ready_s) delta[*p.deleted_s].second -= 1;  // not ready from SIGTERM on
  }
  int pods = 0, ready = 0;
  for (const auto& [t, d] : delta) {
    pods += d.first;
    ready += d.second;
    EXPECT_LE(pods, 3) << "at " << t;
    if (t >= 6 && t < 400) {
      EXPECT_GE(ready, 2) << "at " << t;
    }
  }
}

// HPA on cpu at 50 % of a 1-core request, load 3 cores until t = 100, then 1 core. No
// behavior: kube's older rules. t = 15: 1 pod at 300 % -> ratio 6 -> 6, limited to
// max(2 x 1, 4) = 4. t = 30: 4 pods at 75 % -> 1.5 -> 6. t = 45: 6 pods at 50 % -> stays.
// From t = 105 the load gives 6 pods at 16.7 % -> 2, but the last recommendation of 6
// (t = 90) stays in the 300 s window up to t = 390 inclusive: scale-down at t = 405.
TEST(Cluster, HpaScalesWithKubesOlderRulesAndStabilizationWindow) {
  const std::string yaml = deployment("web", 1, "img", 0) + R"(
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
)";
  ClusterConfig c = config(500);
  c.load.push_back(LoadCurve{"default/web", "cpu", {{0, 3}, {100, 3}, {100.001, 1}}});
  auto r = simulate_cluster(two_nodes(), manifests(yaml), c, nullptr);
  std::map<double, int> desired;
  for (const auto& h : r.hpa) desired[h.time_s] = h.desired;
  EXPECT_EQ(desired.at(15), 4);
  EXPECT_EQ(desired.at(30), 6);
  EXPECT_EQ(desired.at(45), 6);
  EXPECT_EQ(desired.at(390), 6);
  EXPECT_EQ(desired.at(405), 2);
  int running = 0;
  for (const auto& p : r.pods) running += p.state == "running";
  EXPECT_EQ(running, 2);
}

// A Job of completions 2, parallelism 1, whose first two pods fail after 100 s: pod 0
// fails at 100, the next starts after the 10 s backoff (110) and fails at 210, the next
// after 20 s (230) succeeds at 330; a success resets the backoff: the last pod starts at
// 330 and the Job completes at 430.
TEST(Cluster, JobRetriesWithPodFailureBackoff) {
  const std::string yaml = R"(
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  completions: 2
  parallelism: 1
  backoffLimit: 6
  template:
    metadata:
      annotations: {aifsim.io/duration-s: "100", aifsim.io/fail-attempts: "2"}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: img
          resources: {limits: {nvidia.com/gpu: "8"}}
)";
  auto r = simulate_cluster(two_nodes(), manifests(yaml), config(1000), nullptr);
  ASSERT_EQ(r.pods.size(), 4u);
  EXPECT_EQ(r.pods[0].state, "failed");
  EXPECT_NEAR(*r.pods[0].terminated_s, 100, 1e-9);
  EXPECT_NEAR(r.pods[1].created_s, 110, 1e-9);
  EXPECT_EQ(r.pods[1].state, "failed");
  EXPECT_NEAR(r.pods[2].created_s, 230, 1e-9);
  EXPECT_EQ(r.pods[2].state, "succeeded");
  EXPECT_NEAR(r.pods[3].created_s, 330, 1e-9);
  ASSERT_EQ(r.jobs.size(), 1u);
  EXPECT_EQ(r.jobs[0].state, "complete");
  EXPECT_NEAR(*r.jobs[0].finished_s, 430, 1e-9);
  EXPECT_EQ(r.jobs[0].succeeded, 2);
  EXPECT_EQ(r.jobs[0].failed, 2);
}

// backoffLimit 1: the second failure (t = 210) fails the Job.
TEST(Cluster, JobFailsPastBackoffLimit) {
  const std::string yaml = R"(
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations: {aifsim.io/duration-s: "100", aifsim.io/fail-attempts: "5"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: img}]
)";
  auto r = simulate_cluster(two_nodes(), manifests(yaml), config(1000), nullptr);
  ASSERT_EQ(r.jobs.size(), 1u);
  EXPECT_EQ(r.jobs[0].state, "failed");
  EXPECT_NEAR(*r.jobs[0].finished_s, 210, 1e-9);
  EXPECT_EQ(r.pods.size(), 2u);
}

namespace {
std::string gang_job(int pods, int gpus) {
  return R"(
apiVersion: scheduling.x-k8s.io/v1alpha1
kind: PodGroup
metadata: {name: gang}
spec: {minMember: )" + std::to_string(pods) + R"(, scheduleTimeoutSeconds: 60}
---
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  parallelism: )" + std::to_string(pods) + "\n  completions: " + std::to_string(pods) + R"(
  template:
    metadata:
      labels: {scheduling.x-k8s.io/pod-group: gang}
      annotations: {aifsim.io/duration-s: "50"}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: img
          resources: {limits: {nvidia.com/gpu: ")" + std::to_string(gpus) + R"("}}
)";
}
}  // namespace

// Three 4-GPU pods fit on 16 GPUs: all bind at the same instant and finish together.
TEST(Cluster, GangBindsAllMembersTogether) {
  auto r = simulate_cluster(two_nodes(), manifests(gang_job(3, 4)), config(200), nullptr);
  ASSERT_EQ(r.pods.size(), 3u);
  for (const auto& p : r.pods) {
    EXPECT_EQ(p.state, "succeeded");
    EXPECT_NEAR(*p.scheduled_s, 0, 1e-9);
  }
  EXPECT_EQ(r.jobs[0].state, "complete");
}

// Four 6-GPU pods: only two fit (one per node). All or nothing: none ever runs; the
// waiting pods are released at every 60 s timeout.
TEST(Cluster, GangNeverRunsPartially) {
  auto r = simulate_cluster(two_nodes(), manifests(gang_job(4, 6)), config(300), nullptr);
  ASSERT_EQ(r.pods.size(), 4u);
  for (const auto& p : r.pods) {
    EXPECT_EQ(p.state, "pending") << p.name;
    EXPECT_FALSE(p.ready_s.has_value());
  }
  EXPECT_GE(r.gang_timeouts, 4u);
  EXPECT_NEAR(r.pools[0].gpu_allocated_s, 0, 1e-9);  // waiting at Permit is not bound
}

// Two low-priority 8-GPU pods fill the cluster; at t = 100 a high-priority 8-GPU pod
// arrives and preempts one (it exits in 2 s). The preemptor, unschedulable at 100 with a
// 1 s backoff, is sent back by the victim's deletion at 102 and binds then; the victim's
// replacement stays pending, the nominated node being held for the preemptor.
TEST(Cluster, PreemptionEvictsAVictimWithItsGracePeriod) {
  const std::string yaml = R"(
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
)" + deployment("low", 2, "img", 8) +
                           deployment("high", 0, "img", 8, "", "      priorityClassName: high\n");
  ClusterConfig c = config(300);
  c.lifecycle.shutdown_s = 2;
  c.events.push_back(ClusterEvent{100, "scale", "Deployment/high", 1, ""});
  auto r = simulate_cluster(two_nodes(), manifests(yaml), c, nullptr);
  const auto& high = pod(r, "high-r1-1");
  EXPECT_EQ(high.state, "running");
  EXPECT_NEAR(*high.scheduled_s, 102, 1e-9);
  EXPECT_EQ(high.preemptions, 1);
  int preempted = 0, pending = 0;
  for (const auto& p : r.pods)
    if (p.owner == "ReplicaSet/low-r1") {
      if (p.state == "preempted") {
        ++preempted;
        EXPECT_NEAR(*p.terminated_s, 102, 1e-9);
        EXPECT_EQ(p.node, high.node);
      }
      pending += p.state == "pending";
    }
  EXPECT_EQ(preempted, 1);
  EXPECT_EQ(pending, 1);
  EXPECT_EQ(r.preemptions, 1u);
}

// MIG: 7 x 1g.10gb per GPU, 56 per node, 112 on two nodes; the 113th pod waits.
TEST(Cluster, MigSlicesAreNodeResources) {
  ClusterConfig c = config(10);
  c.mig["node"] = {{"1g.10gb", 7}};
  const std::string yaml = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: small}
spec:
  replicas: 113
  selector: {matchLabels: {app: small}}
  template:
    metadata: {labels: {app: small}}
    spec:
      containers:
        - name: main
          image: img
          resources: {requests: {cpu: 100m}, limits: {nvidia.com/mig-1g.10gb: "1"}}
)";
  auto r = simulate_cluster(two_nodes(), manifests(yaml), c, nullptr);
  int running = 0, pending = 0;
  for (const auto& p : r.pods) {
    running += p.state == "running";
    pending += p.state == "pending";
  }
  EXPECT_EQ(running, 112);
  EXPECT_EQ(pending, 1);
  // 112 slices of 1/7 GPU = 16 GPUs: the pool is fully allocated.
  EXPECT_NEAR(r.pools[0].gpu_allocated_s, 16 * 10.0, 1e-6);
}

TEST(Cluster, MigLayoutsAreCheckedAgainstTheGpu) {
  ClusterConfig c = config(10);
  c.mig["node"] = {{"3g.40gb", 3}};
  EXPECT_THROW(simulate_cluster(two_nodes(), manifests(deployment("x", 1, "img", 1)), c, nullptr), InputError);
  c.mig["node"] = {{"3g.40gb", 2}, {"1g.10gb", 1}};  // 7 compute slices, 9 memory slices
  EXPECT_THROW(simulate_cluster(two_nodes(), manifests(deployment("x", 1, "img", 1)), c, nullptr), InputError);
  c.mig["node"] = {{"2g.20gb", 3}, {"1g.10gb", 1}};  // 7 and 7
  EXPECT_NO_THROW(simulate_cluster(two_nodes(), manifests(deployment("x", 1, "img", 0)), c, nullptr));
}

// Kueue: a ClusterQueue of 8 GPUs admits one 8-GPU Job at a time; the second starts when
// the first completes (t = 100) and ends at 200.
TEST(Cluster, KueueAdmitsJobsWithinQuota) {
  std::string yaml = R"(
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: cq}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [nvidia.com/gpu]
      flavors:
        - name: h100
          resources: [{name: nvidia.com/gpu, nominalQuota: 8}]
---
apiVersion: kueue.x-k8s.io/v1beta1
kind: LocalQueue
metadata: {name: lq}
spec: {clusterQueue: cq}
)";
  for (const char* name : {"one", "two"})
    yaml += std::string("---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: ") + name +
            ", labels: {kueue.x-k8s.io/queue-name: lq}}\nspec:\n  template:\n    metadata:\n      annotations: "
            "{aifsim.io/duration-s: \"100\"}\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: "
            "main\n          image: img\n          resources: {limits: {nvidia.com/gpu: \"8\"}}\n";
  auto r = simulate_cluster(two_nodes(), manifests(yaml), config(500), nullptr);
  ASSERT_EQ(r.jobs.size(), 2u);
  EXPECT_EQ(r.jobs[0].state, "complete");
  EXPECT_NEAR(*r.jobs[0].admitted_s, 0, 1e-9);
  EXPECT_NEAR(*r.jobs[1].admitted_s, 100, 1e-9);
  EXPECT_NEAR(*r.jobs[1].finished_s, 200, 1e-9);
}

// Every pod that entered ends in a recorded state, whatever happened to it.
TEST(Cluster, UnknownImageSizeIsAnInputError) {
  ClusterConfig c = with_lifecycle(10);
  try {
    simulate_cluster(two_nodes(), manifests(deployment("x", 1, "nosuch:latest", 1)), c, nullptr);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("image \"nosuch:latest\" has no size in lifecycle.images"), std::string::npos)
        << e.what();
  }
}

// Cluster autoscaler on a pool of min 1, max 2 nodes, 300 s to provision. Three 8-GPU
// replicas: one fits the first node at t = 0; the scan at t = 10 finds two unschedulable
// pods, room for one more node: it joins at 310 and the second replica binds then; the
// third stays pending (pool at max). Scaled to 1 replica at t = 400, the pending pod and
// the newest running one (on the new node) go; the new node is unneeded from the scan at
// 400, and is drained and removed 600 s later, at 1000.
TEST(Cluster, AutoscalerAddsNodesForUnschedulablePodsAndRemovesUnneededOnes) {
  ClusterConfig c = config(1200);
  c.autoscaler.pools["node"] = PoolLimits{1, 2, 300};
  c.events.push_back(ClusterEvent{400, "scale", "Deployment/big", 1, ""});
  auto r = simulate_cluster(two_nodes(), manifests(deployment("big", 3, "img", 8)), c, nullptr);
  std::vector<std::string> events;
  for (const auto& e : r.node_events) events.push_back(std::to_string(static_cast<int>(e.time_s)) + " " + e.node + " " + e.event);
  EXPECT_EQ(events, (std::vector<std::string>{"10 node0002 requested", "310 node0002 joined", "1000 node0002 draining",
                                              "1000 node0002 removed"}));
  EXPECT_NEAR(*pod(r, "big-r1-1").scheduled_s, 0, 1e-9);
  EXPECT_EQ(pod(r, "big-r1-1").node, "node0001");
  EXPECT_NEAR(*pod(r, "big-r1-2").scheduled_s, 310, 1e-9);
  EXPECT_EQ(pod(r, "big-r1-2").node, "node0002");
  EXPECT_EQ(pod(r, "big-r1-2").state, "deleted");
  EXPECT_EQ(pod(r, "big-r1-3").state, "deleted");
  EXPECT_FALSE(pod(r, "big-r1-3").scheduled_s.has_value());
  // GPUs in the cluster: 8 throughout, 8 more from 310 to 1000.
  EXPECT_NEAR(r.pools[0].gpu_joined_s, 8 * 1200.0 + 8 * 690.0, 1e-6);
}

// A node holding a pod without a controller is never scaled down.
TEST(Cluster, AutoscalerKeepsNodesWithBarePods) {
  ClusterConfig c = config(2000);
  c.autoscaler.pools["node"] = PoolLimits{0, 2, 60};
  const std::string yaml = R"(
apiVersion: v1
kind: Pod
metadata: {name: bare}
spec:
  containers: [{name: main, image: img, resources: {requests: {cpu: "1"}}}]
)";
  auto r = simulate_cluster(two_nodes(), manifests(yaml), c, nullptr);
  // No node at first: the scan at 10 asks for one; it joins at 70 and stays.
  EXPECT_NEAR(*pod(r, "bare").scheduled_s, 70, 1e-9);
  EXPECT_EQ(pod(r, "bare").state, "running");
  ASSERT_EQ(r.node_events.size(), 2u);
  EXPECT_EQ(r.node_events[1].event, "joined");
}

namespace {
// A service on Deployment "llm": constant arrivals every 0.5 s from t = 0 (100-token
// prompts, 50-token outputs) until t = 200.
ServiceBinding chat_service() {
  ServiceBinding b;
  b.name = "chat";
  b.deployment = "default/llm";
  b.card = gpu::load_model_card(SRC + "/workloads/models/llama3-8b.json");
  b.requests = [] {
    workload::GeneratorSpec g;
    g.arrival = "constant";
    g.rate_rps = 2;
    g.prompt.tokens = 100;
    g.output.tokens = 50;
    g.duration_s = 200;
    return std::make_unique<workload::RequestGenerator>(g, 1);
  };
  return b;
}

int requests_in(const nlohmann::json& summary, const char* state) { return summary["requests"][state].get<int>(); }
}  // namespace

// The pod is ready at 9.75 s (warm-up): the 20 requests before (0, 0.5, ..., 9.5) find no
// replica. Scaled to 0 at t = 100.1, the pod leaves the router at once, finishes the
// request that arrived at 100 (a 50-token answer: well under a second) and exits; later
// requests find no replica again. Nothing is aborted or lost.
TEST(ClusterService, ReplicaJoinsWhenReadyAndDrainsWhenDeleted) {
  gpu::GpuModel gpu_model(gpu::load_profile(SRC + "/calibration/profiles/h100-sxm.json"));
  ClusterConfig c = config(300);
  c.lifecycle.engine_warmup_s = 9.75;
  c.services.push_back(chat_service());
  c.events.push_back(ClusterEvent{100.1, "scale", "Deployment/llm", 0, ""});
  auto r = simulate_cluster(two_nodes(), manifests(deployment("llm", 1, "img", 1)), c, &gpu_model);
  const auto& s = r.services.at("chat");
  EXPECT_EQ(requests_in(s, "total"), 400);
  // 20 before the pod is ready, 199 after it left (100.5, 101, ..., 199.5).
  EXPECT_EQ(requests_in(s, "rejected_no_replica"), 20 + 199);
  EXPECT_EQ(requests_in(s, "completed"), 181);
  EXPECT_EQ(requests_in(s, "aborted"), 0);
  const auto& p = pod(r, "llm-r1-1");
  EXPECT_EQ(p.state, "deleted");
  EXPECT_NEAR(*p.deleted_s, 100.1, 1e-9);
  EXPECT_GT(*p.terminated_s, 100.1);  // it had a request to finish
  EXPECT_LT(*p.terminated_s, 101.0);
}

// With no grace period the pod is killed at once: what it held is aborted, not lost.
TEST(ClusterService, KilledReplicaAbortsItsRequests) {
  gpu::GpuModel gpu_model(gpu::load_profile(SRC + "/calibration/profiles/h100-sxm.json"));
  ClusterConfig c = config(300);
  c.services.push_back(chat_service());
  c.events.push_back(ClusterEvent{100.1, "scale", "Deployment/llm", 0, ""});
  auto r = simulate_cluster(two_nodes(),
                            manifests(deployment("llm", 1, "img", 1, "", "      terminationGracePeriodSeconds: 0\n")), c,
                            &gpu_model);
  const auto& s = r.services.at("chat");
  EXPECT_GT(requests_in(s, "aborted"), 0);
  EXPECT_EQ(requests_in(s, "total"), requests_in(s, "completed") + requests_in(s, "aborted") +
                                         requests_in(s, "rejected_no_replica"));
  EXPECT_NEAR(*pod(r, "llm-r1-1").terminated_s, 100.1, 1e-9);
}
