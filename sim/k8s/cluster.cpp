#include "k8s/cluster.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "gpu/gpu_model.hpp"
#include "k8s/admission.hpp"
#include "k8s/explain.hpp"
#include "k8s/hpa.hpp"
#include "k8s/kueue.hpp"
#include "gpu/transformer.hpp"

namespace aifsim::k8s {

double LoadCurve::at(double t) const {
  if (points.empty()) return 0;
  if (t <= points.front().first) return points.front().second;
  for (std::size_t i = 1; i < points.size(); ++i) {
    const auto& [t1, v1] = points[i];
    if (t <= t1) {
      const auto& [t0, v0] = points[i - 1];
      return t1 == t0 ? v1 : v0 + (v1 - v0) * (t - t0) / (t1 - t0);
    }
  }
  return points.back().second;
}

namespace {

constexpr const char* ANNOTATION_MODEL = "aifsim.io/model";
constexpr const char* ANNOTATION_DURATION = "aifsim.io/duration-s";
constexpr const char* ANNOTATION_FAIL_ATTEMPTS = "aifsim.io/fail-attempts";
constexpr const char* ANNOTATION_WARMUP = "aifsim.io/warmup-s";
constexpr const char* ANNOTATION_SHUTDOWN = "aifsim.io/shutdown-s";
constexpr const char* LABEL_KUEUE_QUEUE = "kueue.x-k8s.io/queue-name";

// The Job controller's pod-failure backoff: 10 s doubling, capped at six minutes
// (kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy).
constexpr double JOB_BACKOFF_INITIAL_S = 10, JOB_BACKOFF_MAX_S = 360;

enum class Phase { PENDING, PERMIT_WAIT, STARTING, READY, TERMINATING, DONE };
enum class OwnerKind { NONE, REPLICA_SET, JOB };

std::optional<double> annotation_number(const Pod& pod, const char* key) {
  auto it = pod.meta.annotations.find(key);
  if (it == pod.meta.annotations.end()) return std::nullopt;
  try {
    std::size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used != it->second.size() || !(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("");
    return v;
  } catch (const std::exception&) {
    throw InputError(pod.meta.source, "pod " + full_name(pod) + ": annotation " + key +
                                          " must be a non-negative number, got \"" + it->second + "\"");
  }
}

std::string annotation(const Pod& pod, const char* key) {
  auto it = pod.meta.annotations.find(key);
  return it == pod.meta.annotations.end() ? "" : it->second;
}

std::vector<std::string> images_of(const PodSpec& spec) {
  std::vector<std::string> out;
  for (const auto* list : {&spec.init_containers, &spec.containers})
    for (const auto& c : *list)
      if (!c.image.empty() && std::find(out.begin(), out.end(), c.image) == out.end()) out.push_back(c.image);
  return out;
}

bool same_template(const PodTemplate& a, const PodTemplate& b) {
  if (a.spec.containers.size() != b.spec.containers.size()) return false;
  for (std::size_t i = 0; i < a.spec.containers.size(); ++i)
    if (a.spec.containers[i].image != b.spec.containers[i].image) return false;
  return true;
}

}  // namespace

struct Cluster::Impl {
  struct PodState {
    std::unique_ptr<Pod> pod;
    std::size_t record = 0;
    Phase phase = Phase::PENDING;
    int node = -1;
    OwnerKind owner_kind = OwnerKind::NONE;
    int owner = -1;
    ResourceList requests;
    double gpus = 0;  // GPU equivalents held while bound
    int pending_pulls = 0;
    std::uint64_t generation = 0;  // bumped on every phase change: stale callbacks compare it
    std::optional<engine::TimerId> timer;
    std::optional<int> nominated_node;
    std::string final_state, final_reason;  // what the pod becomes once terminated
    bool will_fail = false;
  };
  struct PullWaiters {
    std::vector<std::uint64_t> pods;
  };
  struct NodeState {
    PoolNode pn;
    std::set<std::string> images;
    std::map<std::string, PullWaiters> pulls;  // image -> pods waiting (pulling or queued)
    std::vector<std::string> pull_queue;       // images waiting for the serialized puller
    bool pulling = false;
    int pool = 0;
    enum class Membership { ABSENT, PROVISIONING, JOINED, DRAINING } membership = Membership::JOINED;
    std::optional<double> unneeded_since_s;
  };
  using Membership = NodeState::Membership;
  struct ReplicaSetState {
    std::string ns, name;
    int replicas = 0;
    PodTemplate tmpl;
    std::vector<std::uint64_t> pods;
    int deployment = -1;
    int next_pod = 0;
    std::string source;
  };
  struct DeploymentState {
    Deployment spec;
    std::vector<int> replica_sets;  // oldest first; the last is the current revision
    int replicas = 0;
  };
  struct JobState {
    Job spec;
    std::vector<std::uint64_t> pods;
    int succeeded = 0, failed = 0, next_pod = 0;
    int failures_since_success = 0;  // what the pod-failure backoff counts
    bool suspended = false, finished = false;
    std::string state = "running";
    std::optional<double> admitted_s, finished_s;
    std::optional<engine::TimerId> create_timer;
    std::optional<std::uint64_t> workload;
  };
  struct PoolState {
    PoolUsage usage;
    double joined = 0, allocated = 0, ready = 0, last_s = 0;
    const PoolLimits* limits = nullptr;  // autoscaled pools only
    std::optional<double> last_scale_up_s;
  };
  struct GangState {
    PodGroup spec;
    int members = 0;  // pods of the group not terminating
    int placed = 0;   // bound: starting or ready
    std::vector<std::uint64_t> waiting;
    std::optional<engine::TimerId> timeout;
  };
  struct ServiceState {
    const ServiceBinding* spec = nullptr;
    int deployment = -1;
    std::unique_ptr<gpu::TransformerCost> cost;
    std::unique_ptr<metrics::ServingMetrics> metrics;
    std::unique_ptr<serving::Service> service;
    std::unique_ptr<workload::RequestSource> source;
    std::map<std::uint64_t, int> replica_of_pod;
  };
  struct HpaState {
    HorizontalPodAutoscaler spec;
    int deployment = -1;
    std::unique_ptr<HpaController> controller;
  };

  engine::Engine& engine;
  const platform::Topology& topology;
  ManifestSet manifests;
  ClusterConfig config;
  const gpu::GpuModel* gpu_model;
  PriorityResolver priorities;
  sched::Profile profile;
  std::unique_ptr<sched::Profile> ca_profile;  // the autoscaler's simulations
  SchedulingQueue queue;
  sched::Snapshot snapshot;
  std::vector<NodeState> nodes;
  std::map<std::string, int> node_index;
  std::vector<int> slot;  // node -> index in snapshot.nodes, -1 when not in the cluster
  std::vector<PoolState> pools;
  std::map<std::uint64_t, PodState> pods;  // live pods (not DONE)
  std::map<const Pod*, std::uint64_t> pod_ids;
  std::vector<PodRecord> records;
  std::vector<ReplicaSetState> replica_sets;
  std::vector<DeploymentState> deployments;
  std::vector<JobState> jobs;
  std::map<std::string, GangState> gangs;  // namespace/name
  std::vector<HpaState> hpas;
  std::vector<ServiceState> services;
  std::map<int, int> service_of_deployment;
  std::unique_ptr<kueue::QuotaManager> kueue;
  std::map<std::uint64_t, int> workload_job;
  std::uint64_t next_pod_id = 1;
  bool scheduling_posted = false;
  std::set<std::uint64_t> nominated_;  // pods holding a nominated node after preempting
  std::optional<double> flush_armed_s;
  std::optional<std::size_t> registry_host, storage_host;
  ClusterResult result;

  Impl(engine::Engine& e, const platform::Topology& t, const ManifestSet& m, ClusterConfig c, const gpu::GpuModel* g)
      : engine(e),
        topology(t),
        manifests(m),
        config(std::move(c)),
        gpu_model(g),
        priorities(manifests.priority_classes),
        profile(config.profile, config.seed),
        queue(config.queue) {}

  // ---------------------------------------------------------------- setup
  void build_nodes() {
    auto pool_nodes = nodes_from_platform(topology.spec(), config.mig, manifests.nodes);
    nodes.reserve(pool_nodes.size());
    std::map<std::string, int> pool_index;
    for (auto& pn : pool_nodes) {
      NodeState n;
      n.pn = std::move(pn);
      for (const auto& image : n.pn.node.images) n.images.insert(image.name);
      auto [it, added] = pool_index.emplace(n.pn.pool, static_cast<int>(pools.size()));
      if (added) {
        PoolState p;
        p.usage.pool = n.pn.pool;
        pools.push_back(p);
      }
      n.pool = it->second;
      pools[n.pool].usage.nodes += 1;
      pools[n.pool].usage.gpus += n.pn.gpus;
      nodes.push_back(std::move(n));
    }
    for (const auto& [pool, limits] : config.autoscaler.pools) {
      auto it = pool_index.find(pool);
      if (it == pool_index.end()) throw InputError("autoscaler", "no node pool \"" + pool + "\" in the platform");
      PoolState& p = pools[it->second];
      if (limits.min_nodes < 0 || limits.max_nodes < limits.min_nodes || limits.max_nodes > p.usage.nodes)
        throw InputError("autoscaler", "pool " + pool + ": expected 0 <= min_nodes <= max_nodes <= " +
                                           std::to_string(p.usage.nodes) + " (its platform nodes)");
      p.limits = &limits;
    }
    std::vector<int> joined_in_pool(pools.size(), 0);
    if (config.members && config.members->size() != nodes.size())
      throw SimulationError("cluster: membership given for " + std::to_string(config.members->size()) + " nodes, the platform has " +
                            std::to_string(nodes.size()));
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      node_index[nodes[i].pn.node.meta.name] = static_cast<int>(i);
      PoolState& p = pools[nodes[i].pool];
      if (config.members) {
        // The broker decides which nodes the cluster starts with.
        if (!(*config.members)[i]) nodes[i].membership = Membership::ABSENT;
      } else if (p.limits && joined_in_pool[nodes[i].pool] >= p.limits->min_nodes) {
        // An autoscaled pool starts at its minimum.
        nodes[i].membership = Membership::ABSENT;
      } else {
        ++joined_in_pool[nodes[i].pool];
      }
    }
    rebuild_snapshot();
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].membership == Membership::JOINED) account_joined(static_cast<int>(i), +1);
  }

  bool in_cluster(int node) const { return slot[node] >= 0; }
  sched::NodeInfo& info(int node) { return snapshot.nodes[slot[node]]; }
  const sched::NodeInfo& info(int node) const { return snapshot.nodes[slot[node]]; }

  // The snapshot holds the nodes in the cluster (joined or draining), in platform order.
  void rebuild_snapshot() {
    std::vector<sched::NodeInfo> infos;
    std::vector<int> new_slot(nodes.size(), -1);
    snapshot.nodes_with_image.clear();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].membership != Membership::JOINED && nodes[i].membership != Membership::DRAINING) continue;
      new_slot[i] = static_cast<int>(infos.size());
      if (!slot.empty() && slot[i] >= 0) infos.push_back(std::move(snapshot.nodes[slot[i]]));
      else infos.push_back(sched::NodeInfo{&nodes[i].pn.node, {}, {}, {}});
      for (const auto& image : nodes[i].images) ++snapshot.nodes_with_image[image];
    }
    snapshot.nodes = std::move(infos);
    slot = std::move(new_slot);
  }

  void check_lifecycle_inputs() {
    const auto& lc = config.lifecycle;
    if (!lc.registry.empty()) {
      registry_host = topology.service_host(lc.registry);
      if (!registry_host) throw InputError(topology.spec().name, "lifecycle.registry \"" + lc.registry + "\" is not a service of the platform");
    }
    if (!lc.storage.empty()) {
      storage_host = topology.service_host(lc.storage);
      if (!storage_host) throw InputError(topology.spec().name, "lifecycle.storage \"" + lc.storage + "\" is not a service of the platform");
    }
    auto check_spec = [&](const PodSpec& spec, const ObjectMeta& meta, const std::string& what) {
      if (registry_host)
        for (const auto& image : images_of(spec))
          if (!lc.image_bytes.count(image))
            throw InputError(meta.source, what + ": image \"" + image + "\" has no size in lifecycle.images");
      auto model = meta.annotations.find(ANNOTATION_MODEL);
      if (model != meta.annotations.end()) {
        if (!lc.model_bytes.count(model->second))
          throw InputError(meta.source, what + ": model \"" + model->second + "\" (annotation " + ANNOTATION_MODEL +
                                            ") is not in lifecycle.models");
        if (!gpu_model)
          throw InputError(meta.source, what + ": loading model weights needs a GPU profile (lifecycle.gpu_profile)");
      }
    };
    for (const auto& p : manifests.pods) check_spec(p.spec, p.meta, "pod " + full_name(p));
    for (const auto& d : manifests.deployments) check_spec(d.pod_template.spec, d.pod_template.meta, "Deployment " + d.meta.name);
    for (const auto& r : manifests.replica_sets) check_spec(r.pod_template.spec, r.pod_template.meta, "ReplicaSet " + r.meta.name);
    for (const auto& j : manifests.jobs) check_spec(j.pod_template.spec, j.pod_template.meta, "Job " + j.meta.name);
    for (const auto& ev : config.events)
      if (ev.action == "set_image" && registry_host && !lc.image_bytes.count(ev.image))
        throw InputError("events", "set_image: image \"" + ev.image + "\" has no size in lifecycle.images");
  }

  void start() {
    build_nodes();
    check_lifecycle_inputs();
    for (const auto& pg : manifests.pod_groups) gangs[pg.meta.namespace_ + "/" + pg.meta.name] = GangState{pg, 0, 0, {}, {}};
    if (!manifests.cluster_queues.empty() || !manifests.local_queues.empty())
      kueue = std::make_unique<kueue::QuotaManager>(manifests.cluster_queues, manifests.local_queues);
    for (const auto& p : manifests.pods) create_pod(p, OwnerKind::NONE, -1);
    for (const auto& rs : manifests.replica_sets) {
      ReplicaSetState s{rs.meta.namespace_, rs.meta.name, rs.replicas, rs.pod_template, {}, -1, 0, rs.meta.source};
      replica_sets.push_back(std::move(s));
      reconcile_owner_of_rs(static_cast<int>(replica_sets.size()) - 1);
    }
    for (const auto& d : manifests.deployments) {
      DeploymentState s;
      s.spec = d;
      s.replicas = d.replicas;
      deployments.push_back(std::move(s));
      const int di = static_cast<int>(deployments.size()) - 1;
      new_revision(di, d.pod_template);
      reconcile_owner_of_rs(deployments[di].replica_sets.back());
    }
    for (const auto& j : manifests.jobs) {
      JobState s;
      s.spec = j;
      jobs.push_back(std::move(s));
      const int ji = static_cast<int>(jobs.size()) - 1;
      std::string local_queue;
      if (auto q = j.meta.labels.find(LABEL_KUEUE_QUEUE); q != j.meta.labels.end()) local_queue = q->second;
      if (!local_queue.empty()) submit_workload(ji, local_queue);
      else {
        jobs[ji].admitted_s = 0.0;
        reconcile_job(ji);
      }
    }
    bind_services();
    for (const auto& h : manifests.hpas) {
      HpaState s;
      s.spec = h;
      for (std::size_t d = 0; d < deployments.size(); ++d)
        if (deployments[d].spec.meta.name == h.target_name && deployments[d].spec.meta.namespace_ == h.meta.namespace_)
          s.deployment = static_cast<int>(d);
      if (h.target_kind != "Deployment" || s.deployment < 0)
        throw InputError(h.meta.source, "HorizontalPodAutoscaler " + h.meta.name + ": scaleTargetRef " + h.target_kind +
                                            "/" + h.target_name + " is not a Deployment of these manifests");
      s.controller = std::make_unique<HpaController>(h);
      hpas.push_back(std::move(s));
    }
    if (!hpas.empty()) engine.at(config.hpa_sync_period_s, [this] { hpa_sync(); });
    if (!config.autoscaler.pools.empty()) {
      ca_profile = std::make_unique<sched::Profile>(config.profile, config.seed ^ 0x6361ULL);  // its own tie-break stream
      engine.at(config.autoscaler.scan_interval_s, [this] { ca_scan(); });
    }
    for (const auto& ev : config.events) engine.at(ev.at_s, [this, ev] { apply_event(ev); });
    if (kueue) request_admission();
  }

  void bind_services() {
    for (const auto& b : config.services) {
      ServiceState st;
      st.spec = &b;
      for (std::size_t d = 0; d < deployments.size(); ++d)
        if (deployments[d].spec.meta.namespace_ + "/" + deployments[d].spec.meta.name == b.deployment)
          st.deployment = static_cast<int>(d);
      if (st.deployment < 0)
        throw InputError("services", "service " + b.name + ": no Deployment " + b.deployment + " in the manifests");
      if (!gpu_model) throw InputError("services", "service " + b.name + " needs a GPU profile (lifecycle.gpu_profile)");
      int tp = b.tp;
      if (tp <= 0) {
        const auto requests = effective_requests(deployments[st.deployment].spec.pod_template.spec);
        auto g = requests.find(GPU);
        tp = g == requests.end() ? 1 : std::max<int>(1, static_cast<int>(g->second / 1000));
      }
      st.cost = std::make_unique<gpu::TransformerCost>(*gpu_model, b.card, tp);
      st.metrics = std::make_unique<metrics::ServingMetrics>(b.metrics);
      serving::ServiceConfig sc = b.service;
      sc.replicas = 0;
      st.service = std::make_unique<serving::Service>(engine, *st.cost, *gpu_model, sc, *st.metrics);
      st.source = b.requests();
      service_of_deployment[st.deployment] = static_cast<int>(services.size());
      services.push_back(std::move(st));
      ServiceState& placed = services.back();
      placed.service->stream([src = placed.source.get()] { return src->next(); });
    }
  }

  ServiceState* service_of(const PodState& s) {
    if (s.owner_kind != OwnerKind::REPLICA_SET || replica_sets[s.owner].deployment < 0) return nullptr;
    auto it = service_of_deployment.find(replica_sets[s.owner].deployment);
    return it == service_of_deployment.end() ? nullptr : &services[it->second];
  }

  serving::Replica* replica_of(std::uint64_t id) {
    ServiceState* st = service_of(pods.at(id));
    if (!st) return nullptr;
    auto r = st->replica_of_pod.find(id);
    return r == st->replica_of_pod.end() ? nullptr : &st->service->replica(r->second);
  }

  // ---------------------------------------------------------------- pods
  std::uint64_t create_pod(Pod pod, OwnerKind kind, int owner) {
    priorities.apply(pod);
    const std::uint64_t id = next_pod_id++;
    PodState s;
    s.pod = std::make_unique<Pod>(std::move(pod));
    s.owner_kind = kind;
    s.owner = owner;
    s.requests = effective_requests(s.pod->spec);
    s.gpus = gpu_equivalents(s.requests);
    PodRecord r;
    r.name = s.pod->meta.name;
    r.namespace_ = s.pod->meta.namespace_;
    r.owner = s.pod->owner_kind.empty() ? "" : s.pod->owner_kind + "/" + s.pod->owner_name;
    r.priority = sched::pod_priority(*s.pod);
    r.created_s = engine.now();
    r.state = "pending";
    s.record = records.size();
    records.push_back(r);
    pod_ids[s.pod.get()] = id;
    auto& ps = pods.emplace(id, std::move(s)).first->second;
    if (GangState* g = gang_of(ps)) ++g->members;
    if (!ps.pod->spec.node_name.empty()) {
      bind_pinned(id);
      return id;
    }
    if (ps.pod->spec.scheduler_name != config.profile.scheduler_name) {
      // No scheduler of that name runs here: the pod would stay Pending forever.
      records[ps.record].reason = "schedulerName " + ps.pod->spec.scheduler_name + " is not " + config.profile.scheduler_name;
      return id;
    }
    queue.add(id, r.priority, r.created_s);
    request_scheduling();
    return id;
  }

  PodRecord& rec(PodState& s) { return records[s.record]; }

  // spec.nodeName set: no scheduler; the kubelet admits the pod if its requests fit.
  void bind_pinned(std::uint64_t id) {
    PodState& s = pods.at(id);
    auto it = node_index.find(s.pod->spec.node_name);
    std::string refused;
    if (it == node_index.end() || !in_cluster(it->second)) refused = "node " + s.pod->spec.node_name + " does not exist";
    else {
      const auto& n = info(it->second);
      for (const auto& [resource, amount] : s.requests)
        if (amount > 0 && n.allocatable(resource) - n.requested_of(resource) < amount && refused.empty())
          refused = "OutOf" + resource;
    }
    if (!refused.empty()) {
      terminate_now(id, "failed", refused);
      return;
    }
    info(it->second).add_pod(*s.pod);
    bind(id, it->second);
  }

  GangState* gang_of(const PodState& s) {
    if (s.pod->pod_group.empty()) return nullptr;
    auto g = gangs.find(gang_key(*s.pod));
    return g == gangs.end() ? nullptr : &g->second;
  }

  static bool is_member(Phase p) { return p != Phase::TERMINATING && p != Phase::DONE; }
  static bool is_placed(Phase p) { return p == Phase::STARTING || p == Phase::READY; }

  void set_phase(PodState& s, Phase phase) {
    if (GangState* g = gang_of(s)) {
      g->members += is_member(phase) - is_member(s.phase);
      g->placed += is_placed(phase) - is_placed(s.phase);
    }
    s.phase = phase;
    ++s.generation;
    if (s.timer) {
      engine.cancel(*s.timer);
      s.timer.reset();
    }
  }

  // Usage integrals per pool: GPUs held by bound pods, and by ready ones.
  void account(int node, double allocated_delta, double ready_delta, double joined_delta = 0) {
    if (node < 0 || (allocated_delta == 0 && ready_delta == 0 && joined_delta == 0)) return;
    PoolState& p = pools[nodes[node].pool];
    const double now = engine.now();
    p.usage.gpu_joined_s += p.joined * (now - p.last_s);
    p.usage.gpu_allocated_s += p.allocated * (now - p.last_s);
    p.usage.gpu_ready_s += p.ready * (now - p.last_s);
    p.last_s = now;
    p.joined += joined_delta;
    p.allocated += allocated_delta;
    p.ready += ready_delta;
    if (!result.utilisation.empty() && result.utilisation.back().time_s == now &&
        result.utilisation.back().pool == p.usage.pool) {
      result.utilisation.back().gpus_joined = p.joined;
      result.utilisation.back().gpus_allocated = p.allocated;
      result.utilisation.back().gpus_ready = p.ready;
    } else {
      result.utilisation.push_back(UtilisationSample{now, p.usage.pool, p.joined, p.allocated, p.ready});
    }
  }

  void account_joined(int node, int sign) { account(node, 0, 0, sign * static_cast<double>(nodes[node].pn.gpus)); }

  void node_event(int node, const char* event) {
    result.node_events.push_back(NodeEvent{engine.now(), nodes[node].pn.node.meta.name, nodes[node].pn.pool, event});
  }

  void bind(std::uint64_t id, int node) {
    PodState& s = pods.at(id);
    queue.remove(id);
    nominated_.erase(id);
    set_phase(s, Phase::STARTING);
    s.node = node;
    s.nominated_node.reset();
    rec(s).node = nodes[node].pn.node.meta.name;
    rec(s).pool = nodes[node].pn.pool;
    rec(s).scheduled_s = engine.now();
    rec(s).state = "starting";
    ++result.scheduled;
    account(node, s.gpus, 0);
    start_image_pulls(id);
  }

  // ---- kubelet: image pulls
  void start_image_pulls(std::uint64_t id) {
    PodState& s = pods.at(id);
    NodeState& n = nodes[s.node];
    s.pending_pulls = 0;
    if (registry_host) {
      for (const auto& image : images_of(s.pod->spec)) {
        if (n.images.count(image)) continue;
        ++s.pending_pulls;
        auto [it, fresh] = n.pulls.try_emplace(image);
        it->second.pods.push_back(id);
        if (fresh) {
          if (config.lifecycle.serialize_image_pulls && n.pulling) n.pull_queue.push_back(image);
          else start_pull(s.node, image);
        }
      }
    }
    if (s.pending_pulls == 0) images_ready(id);
  }

  void start_pull(int node, const std::string& image) {
    NodeState& n = nodes[node];
    n.pulling = true;
    engine.start_transfer(*registry_host, n.pn.host, config.lifecycle.image_bytes.at(image),
                          [this, node, image](engine::ActivityOutcome) { pull_done(node, image); });
  }

  void pull_done(int node, const std::string& image) {
    NodeState& n = nodes[node];
    n.images.insert(image);
    ++snapshot.nodes_with_image[image];
    n.pn.node.images.push_back(ImageState{image, config.lifecycle.image_bytes.at(image)});
    std::vector<std::uint64_t> waiting = std::move(n.pulls[image].pods);
    n.pulls.erase(image);
    n.pulling = false;
    if (!n.pull_queue.empty()) {
      std::string next = n.pull_queue.front();
      n.pull_queue.erase(n.pull_queue.begin());
      start_pull(node, next);
    }
    for (std::uint64_t id : waiting) {
      auto it = pods.find(id);
      if (it == pods.end() || it->second.phase != Phase::STARTING || it->second.node != node) continue;
      if (--it->second.pending_pulls == 0) images_ready(id);
    }
  }

  void images_ready(std::uint64_t id) {
    PodState& s = pods.at(id);
    rec(s).pull_s = engine.now() - *rec(s).scheduled_s;
    after(id, config.lifecycle.container_start_s, [this, id] { container_started(id); });
  }

  // Runs `f` after `delay_s` unless the pod changes phase first.
  void after(std::uint64_t id, double delay_s, std::function<void()> f) {
    PodState& s = pods.at(id);
    const std::uint64_t gen = s.generation;
    if (delay_s <= 0) {
      f();
      return;
    }
    s.timer = engine.after(delay_s, [this, id, gen, f = std::move(f)] {
      auto it = pods.find(id);
      if (it == pods.end() || it->second.generation != gen) return;
      it->second.timer.reset();
      f();
    });
  }

  // ---- kubelet: container start, weights, warm-up, readiness
  void container_started(std::uint64_t id) {
    PodState& s = pods.at(id);
    rec(s).started_s = engine.now();
    const std::string model = annotation(*s.pod, ANNOTATION_MODEL);
    if (model.empty()) {
      weights_loaded(id);
      return;
    }
    const double bytes = config.lifecycle.model_bytes.at(model);
    const std::uint64_t gen = s.generation;
    auto to_gpus = [this, id, gen, bytes] {
      auto it = pods.find(id);
      if (it == pods.end() || it->second.generation != gen) return;
      // Each GPU of the pod loads its tensor-parallel shard over its own host link.
      const double gpus = std::max(1.0, std::floor(it->second.gpus));
      const double h2d = gpu_model->host_link_time(bytes / gpus, gpu::Direction::H2D, gpu::HostMemory::PINNED);
      after(id, h2d, [this, id] { weights_loaded(id); });
    };
    if (storage_host)
      engine.start_transfer(*storage_host, nodes[s.node].pn.host, bytes, [to_gpus](engine::ActivityOutcome) { to_gpus(); });
    else
      to_gpus();
  }

  void weights_loaded(std::uint64_t id) {
    PodState& s = pods.at(id);
    rec(s).load_s = engine.now() - *rec(s).started_s;
    const double warmup = annotation_number(*s.pod, ANNOTATION_WARMUP).value_or(config.lifecycle.engine_warmup_s);
    after(id, warmup, [this, id] { became_ready(id); });
  }

  void became_ready(std::uint64_t id) {
    PodState& s = pods.at(id);
    set_phase(s, Phase::READY);
    rec(s).ready_s = engine.now();
    rec(s).state = "running";
    account(s.node, 0, s.gpus);
    if (ServiceState* st = service_of(s)) st->replica_of_pod[id] = st->service->add_replica();
    if (auto run = annotation_number(*s.pod, ANNOTATION_DURATION)) {
      after(id, *run, [this, id] {
        PodState& p = pods.at(id);
        terminate_now(id, p.will_fail ? "failed" : "succeeded", p.will_fail ? "Error (aifsim.io/fail-attempts)" : "");
      });
    }
    owner_changed(s);
  }

  // ---- termination
  // Graceful deletion: the containers get SIGTERM and the pod keeps its resources until
  // they exit, or until the grace period ends (SIGKILL).
  void delete_pod(std::uint64_t id, const std::string& state, const std::string& reason) {
    auto it = pods.find(id);
    if (it == pods.end()) return;
    PodState& s = it->second;
    switch (s.phase) {
      case Phase::PENDING:
        queue.remove(id);
        terminate_now(id, state, reason);
        return;
      case Phase::PERMIT_WAIT:
        queue.remove(id);
        unreserve(id);
        terminate_now(id, state, reason);
        return;
      case Phase::TERMINATING:
      case Phase::DONE:
        return;
      case Phase::STARTING:
      case Phase::READY: break;
    }
    if (s.phase == Phase::READY) account(s.node, 0, -s.gpus);
    set_phase(s, Phase::TERMINATING);
    rec(s).deleted_s = engine.now();
    s.final_state = state;
    s.final_reason = reason;
    rec(s).state = "terminating";
    const double exit_s = annotation_number(*s.pod, ANNOTATION_SHUTDOWN).value_or(config.lifecycle.shutdown_s);
    const double grace = s.pod->spec.termination_grace_period_s;
    if (ServiceState* st = service_of(s); st && st->replica_of_pod.count(id)) {
      // Out of the router now; the engine finishes what it holds, then exits (or is
      // killed at the end of the grace period, its requests aborted).
      const int replica = st->replica_of_pod.at(id);
      const std::uint64_t gen = s.generation;
      owner_changed(s);
      st->service->remove_replica(replica, [this, id, gen, exit_s] {
        auto live = pods.find(id);
        if (live == pods.end() || live->second.generation != gen) return;
        after(id, exit_s, [this, id] {
          PodState& p = pods.at(id);
          terminate_now(id, p.final_state, p.final_reason);
        });
      });
      if (pods.count(id)) {
        engine.after(grace, [this, id, gen, replica, st] {
          auto live = pods.find(id);
          if (live == pods.end() || live->second.generation != gen) return;
          st->service->replica(replica).stop(serving::Outcome::ABORTED);
          terminate_now(id, live->second.final_state, live->second.final_reason);
        });
      }
      return;
    }
    owner_changed(s);
    after(id, std::min(exit_s, grace), [this, id] {
      PodState& p = pods.at(id);
      terminate_now(id, p.final_state, p.final_reason);
    });
  }

  void unreserve(std::uint64_t id) {
    PodState& s = pods.at(id);
    if (s.node >= 0) info(s.node).remove_pod(*s.pod);
    if (!s.pod->pod_group.empty()) {
      auto g = gangs.find(s.pod->meta.namespace_ + "/" + s.pod->pod_group);
      if (g != gangs.end()) std::erase(g->second.waiting, id);
    }
    s.node = -1;
  }

  // The pod is gone: its resources return to the node and its record is final.
  // By value: callers pass the pod's own final_state, which dies with the pod here.
  void terminate_now(std::uint64_t id, const std::string state, const std::string reason) {
    auto it = pods.find(id);
    if (it == pods.end()) return;
    PodState& s = it->second;
    const bool held = s.node >= 0 && (s.phase == Phase::STARTING || s.phase == Phase::READY || s.phase == Phase::TERMINATING);
    if (s.phase == Phase::READY) account(s.node, 0, -s.gpus);
    const int held_node = held ? s.node : -1;
    if (held) {
      account(s.node, -s.gpus, 0);
      info(s.node).remove_pod(*s.pod);
    }
    set_phase(s, Phase::DONE);
    PodRecord& r = rec(s);
    r.state = state;
    if (!reason.empty()) r.reason = reason;
    r.terminated_s = engine.now();
    const OwnerKind kind = s.owner_kind;
    const int owner = s.owner;
    pod_ids.erase(s.pod.get());
    nominated_.erase(id);
    // Kept until the owner has counted it; the Pod object must outlive the snapshot's pointer.
    std::unique_ptr<Pod> keep = std::move(s.pod);
    pods.erase(it);
    if (held_node >= 0) finish_drain(held_node);
    if (held) {
      // A pod deleted is the cluster event that sends unschedulable pods back.
      queue.move_all_to_active_or_backoff(engine.now());
      request_scheduling();
    }
    if (kind == OwnerKind::REPLICA_SET) reconcile_owner_of_rs(owner);
    if (kind == OwnerKind::JOB) job_pod_finished(owner, state);
  }

  void owner_changed(const PodState& s) {
    if (s.owner_kind == OwnerKind::REPLICA_SET) reconcile_owner_of_rs(s.owner);
  }

  // ---------------------------------------------------------------- scheduler
  void request_scheduling() {
    if (scheduling_posted) return;
    scheduling_posted = true;
    engine.at(engine.now(), [this] { run_scheduler(); }, engine::Phase::END_OF_INSTANT);
  }

  void arm_flush() {
    auto next = queue.next_flush_s(engine.now());
    if (!next) return;
    if (flush_armed_s && *flush_armed_s <= *next && *flush_armed_s >= engine.now()) return;
    flush_armed_s = *next;
    engine.at(*next, [this, t = *next] {
      if (flush_armed_s && *flush_armed_s == t) flush_armed_s.reset();
      queue.flush(engine.now());
      request_scheduling();
    });
  }

  void run_scheduler() {
    scheduling_posted = false;
    queue.flush(engine.now());
    while (auto id = queue.pop()) schedule_one(*id);
    arm_flush();
  }

  std::string gang_key(const Pod& pod) const { return pod.meta.namespace_ + "/" + pod.pod_group; }

  // Coscheduling's PreFilter: a gang whose pods are not all created yet cannot start.
  std::optional<std::string> gang_pre_filter(const Pod& pod) {
    if (pod.pod_group.empty()) return std::nullopt;
    auto g = gangs.find(gang_key(pod));
    if (g == gangs.end()) return "PodGroup " + gang_key(pod) + " not found";
    const int members = g->second.members;
    if (members < g->second.spec.min_member)
      return "pre-filter pod " + pod.meta.name + " cannot find enough sibling pods, current pods number: " +
             std::to_string(members) + ", minMember: " + std::to_string(g->second.spec.min_member);
    return std::nullopt;
  }

  void schedule_one(std::uint64_t id) {
    PodState& s = pods.at(id);
    PodRecord& r = rec(s);
    ++result.attempts;
    ++r.attempts;
    if (auto refused = gang_pre_filter(*s.pod)) {
      r.reason = *refused;
      ++result.unschedulable_reasons[*refused];
      queue.add_unschedulable(id, r.attempts, engine.now());
      return;
    }
    // Pods nominated to a node after preempting hold their place against pods of lower
    // or equal priority, as kube-scheduler's nominator does.
    std::vector<std::pair<int, const Pod*>> placeholders;
    for (std::uint64_t other : nominated_) {
      const PodState& o = pods.at(other);
      if (other != id && o.nominated_node && o.phase == Phase::PENDING && sched::pod_priority(*o.pod) >= r.priority) {
        info(*o.nominated_node).add_pod(*o.pod);
        placeholders.emplace_back(*o.nominated_node, o.pod.get());
      }
    }
    const bool explain = !config.explain_pod.empty() &&
                         (config.explain_pod == full_name(*s.pod) || config.explain_pod == s.pod->meta.name);
    sched::CycleResult cycle = profile.schedule(*s.pod, snapshot, explain);
    if (explain) result.explanation.push_back(explain_cycle(cycle, r.attempts, engine.now()));
    for (const auto& [node, pod] : placeholders) info(node).remove_pod(*pod);
    if (cycle.node) {
      const int node = node_index.at(*cycle.node);
      info(node).add_pod(*s.pod);  // Reserve (assume)
      s.node = node;
      r.reason.clear();
      permit(id);
      return;
    }
    r.reason = cycle.status.reasons.empty() ? "unschedulable" : cycle.status.reasons.front();
    ++result.unschedulable_reasons[r.reason];
    if (cycle.preemption && eligible_to_preempt(s)) {
      const int node = node_index.at(cycle.preemption->node);
      ++result.preemptions;
      std::vector<std::uint64_t> victims;
      for (const Pod* v : cycle.preemption->victims) victims.push_back(pod_ids.at(v));
      r.preemptions += static_cast<int>(victims.size());
      s.nominated_node = node;
      nominated_.insert(id);
      for (std::uint64_t v : victims) delete_pod(v, "preempted", "preempted by " + full_name(*s.pod));
    }
    queue.add_unschedulable(id, r.attempts, engine.now());
  }

  // kube's PodEligibleToPreemptOthers: not while victims on its nominated node are still
  // terminating.
  bool eligible_to_preempt(const PodState& s) const {
    if (s.pod->spec.preemption_policy == "Never") return false;
    if (!s.nominated_node) return true;
    for (const Pod* p : info(*s.nominated_node).pods) {
      auto id = pod_ids.find(p);
      if (id == pod_ids.end()) continue;
      const PodState& o = pods.at(id->second);
      if (o.phase == Phase::TERMINATING && sched::pod_priority(*o.pod) < sched::pod_priority(*s.pod)) return false;
    }
    return true;
  }

  // Permit: a gang's pods wait, their nodes reserved, until minMember of them are
  // reserved or bound; then all bind. A timeout releases them all (Unreserve).
  void permit(std::uint64_t id) {
    PodState& s = pods.at(id);
    if (s.pod->pod_group.empty()) {
      bind(id, s.node);
      return;
    }
    GangState& g = gangs.at(gang_key(*s.pod));
    const int placed = g.placed;
    g.waiting.push_back(id);
    set_phase(s, Phase::PERMIT_WAIT);
    if (placed + static_cast<int>(g.waiting.size()) >= g.spec.min_member) {
      if (g.timeout) engine.cancel(*g.timeout);
      g.timeout.reset();
      std::vector<std::uint64_t> allowed = std::move(g.waiting);
      g.waiting.clear();
      for (std::uint64_t w : allowed) bind(w, pods.at(w).node);
      return;
    }
    if (!g.timeout) {
      const double timeout = g.spec.schedule_timeout_s.value_or(config.gang_timeout_s);
      const std::string key = gang_key(*s.pod);
      g.timeout = engine.after(timeout, [this, key] { gang_timed_out(key); });
    }
  }

  void gang_timed_out(const std::string& key) {
    GangState& g = gangs.at(key);
    g.timeout.reset();
    ++result.gang_timeouts;
    std::vector<std::uint64_t> rejected = std::move(g.waiting);
    g.waiting.clear();
    for (std::uint64_t id : rejected) {
      PodState& s = pods.at(id);
      unreserve(id);
      set_phase(s, Phase::PENDING);
      rec(s).reason = "rejected by coscheduling Permit: PodGroup " + key + " timed out waiting for minMember";
      ++result.unschedulable_reasons[rec(s).reason];
      queue.add_backoff(id, rec(s).attempts, engine.now());
    }
    if (!rejected.empty()) {
      queue.move_all_to_active_or_backoff(engine.now());
      request_scheduling();
    }
  }

  // ---------------------------------------------------------------- controllers
  void new_revision(int d, const PodTemplate& tmpl) {
    DeploymentState& dep = deployments[d];
    for (int rs : dep.replica_sets)
      if (same_template(replica_sets[rs].tmpl, tmpl)) {  // rolling back: reuse the old ReplicaSet
        std::erase(dep.replica_sets, rs);
        dep.replica_sets.push_back(rs);
        return;
      }
    ReplicaSetState rs;
    rs.ns = dep.spec.meta.namespace_;
    rs.name = dep.spec.meta.name + "-r" + std::to_string(dep.replica_sets.size() + 1);
    rs.tmpl = tmpl;
    rs.deployment = d;
    rs.replicas = 0;
    rs.source = dep.spec.meta.source;
    replica_sets.push_back(std::move(rs));
    dep.replica_sets.push_back(static_cast<int>(replica_sets.size()) - 1);
  }

  bool active(const PodState& s) const { return s.phase != Phase::TERMINATING && s.phase != Phase::DONE; }

  std::vector<std::uint64_t> live_pods(ReplicaSetState& rs) {
    std::erase_if(rs.pods, [&](std::uint64_t id) { return !pods.count(id) || !active(pods.at(id)); });
    return rs.pods;
  }

  int ready_pods(ReplicaSetState& rs) {
    int n = 0;
    for (std::uint64_t id : live_pods(rs)) n += pods.at(id).phase == Phase::READY;
    return n;
  }

  void reconcile_replica_set(int r) {
    ReplicaSetState& rs = replica_sets[r];
    auto live = live_pods(rs);
    const int diff = rs.replicas - static_cast<int>(live.size());
    if (diff > 0) {
      for (int i = 0; i < diff; ++i) {
        Pod p = from_template(rs.tmpl, rs.name + "-" + std::to_string(++rs.next_pod), rs.ns,
                              "ReplicaSet", rs.name, rs.source);
        replica_sets[r].pods.push_back(create_pod(std::move(p), OwnerKind::REPLICA_SET, r));
      }
    } else if (diff < 0) {
      // The ReplicaSet controller deletes the least useful pods first: unscheduled before
      // scheduled, starting before ready, then the most recently created.
      std::vector<std::uint64_t> order = live;
      auto rank = [&](std::uint64_t id) {
        const PodState& s = pods.at(id);
        int stage = s.node < 0 ? 0 : s.phase == Phase::READY ? 2 : 1;
        return std::make_tuple(stage, -records[s.record].created_s, -static_cast<double>(id));
      };
      std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return rank(a) < rank(b); });
      for (int i = 0; i < -diff; ++i) delete_pod(order[i], "deleted", "scaled down");
    }
  }

  void reconcile_owner_of_rs(int r) {
    if (reconciling_) {  // a pod change inside a reconcile: finish that one first
      dirty_.insert(r);
      return;
    }
    reconciling_ = true;
    dirty_.insert(r);
    while (!dirty_.empty()) {
      int next = *dirty_.begin();
      dirty_.erase(dirty_.begin());
      if (replica_sets[next].deployment >= 0) reconcile_deployment(replica_sets[next].deployment);
      else reconcile_replica_set(next);
    }
    reconciling_ = false;
  }
  bool reconciling_ = false;
  std::set<int> dirty_;

  // The Deployment controller's rolling update (pkg/controller/deployment/rolling.go):
  // scale the new ReplicaSet up to desired + maxSurge pods in total, then scale old ones
  // down while at least desired - maxUnavailable pods stay available (ready).
  void reconcile_deployment(int d) {
    DeploymentState& dep = deployments[d];
    const int desired = dep.replicas;
    const int new_rs = dep.replica_sets.back();
    if (dep.spec.recreate) {
      int old_live = 0;
      for (int rs : dep.replica_sets)
        if (rs != new_rs) {
          replica_sets[rs].replicas = 0;
          reconcile_replica_set(rs);
          // Recreate waits for the old pods to be gone, terminating ones included.
          for (std::uint64_t id : replica_sets[rs].pods) old_live += pods.count(id) > 0;
        }
      if (old_live == 0) {
        replica_sets[new_rs].replicas = desired;
        reconcile_replica_set(new_rs);
      }
      return;
    }
    int max_surge = dep.spec.max_surge.resolve(desired, true);
    int max_unavailable = dep.spec.max_unavailable.resolve(desired, false);
    if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
    bool rollout = false;
    for (int rs : dep.replica_sets) rollout |= rs != new_rs && replica_sets[rs].replicas > 0;
    if (!rollout) {
      replica_sets[new_rs].replicas = desired;
      reconcile_replica_set(new_rs);
      return;
    }
    // Scale up the new ReplicaSet.
    int total = 0;
    for (int rs : dep.replica_sets) total += replica_sets[rs].replicas;
    ReplicaSetState& nrs = replica_sets[new_rs];
    if (nrs.replicas > desired) nrs.replicas = desired;
    else if (total < desired + max_surge)
      nrs.replicas += std::min(desired + max_surge - total, desired - nrs.replicas);
    reconcile_replica_set(new_rs);
    // Scale down old ReplicaSets.
    total = 0;
    int available = 0;
    for (int rs : dep.replica_sets) {
      total += replica_sets[rs].replicas;
      available += ready_pods(replica_sets[rs]);
    }
    const int min_available = desired - max_unavailable;
    const int new_unavailable = replica_sets[new_rs].replicas - ready_pods(replica_sets[new_rs]);
    int max_scaled_down = total - min_available - new_unavailable;
    if (max_scaled_down > 0) {
      // First the old pods that are not available anyway.
      for (int rs : dep.replica_sets) {
        if (rs == new_rs || max_scaled_down <= 0) continue;
        ReplicaSetState& o = replica_sets[rs];
        const int unhealthy = o.replicas - ready_pods(o);
        const int cut = std::min({max_scaled_down, unhealthy, o.replicas});
        if (cut <= 0) continue;
        o.replicas -= cut;
        max_scaled_down -= cut;
        reconcile_replica_set(rs);
      }
      available = 0;
      for (int rs : dep.replica_sets) available += ready_pods(replica_sets[rs]);
      int to_scale_down = available - min_available;
      for (int rs : dep.replica_sets) {
        if (rs == new_rs || to_scale_down <= 0) continue;
        ReplicaSetState& o = replica_sets[rs];
        const int cut = std::min(o.replicas, to_scale_down);
        if (cut <= 0) continue;
        o.replicas -= cut;
        to_scale_down -= cut;
        reconcile_replica_set(rs);
      }
    }
  }

  // Pods the Job controller keeps running: parallelism, capped by the completions left;
  // a work queue (no completions) is done at its first success.
  static int wanted_active(const JobState& job) {
    if (!job.spec.completions) return job.succeeded > 0 ? 0 : job.spec.parallelism;
    return std::min(job.spec.parallelism, *job.spec.completions - job.succeeded);
  }

  void reconcile_job(int j) {
    JobState& job = jobs[j];
    if (job.finished || job.suspended || !job.admitted_s) return;
    std::erase_if(job.pods, [&](std::uint64_t id) { return !pods.count(id); });
    if (static_cast<int>(job.pods.size()) >= wanted_active(job) || job.create_timer) return;
    // After failures, new pods wait out the Job controller's exponential backoff, which
    // counts the failures since the last success.
    double delay = 0;
    if (job.failures_since_success > 0) {
      delay = JOB_BACKOFF_INITIAL_S;
      for (int i = 1; i < job.failures_since_success && delay < JOB_BACKOFF_MAX_S; ++i) delay *= 2;
      delay = std::min(delay, JOB_BACKOFF_MAX_S);
    }
    auto create = [this, j] {
      JobState& jb = jobs[j];
      jb.create_timer.reset();
      if (jb.finished || jb.suspended) return;
      std::erase_if(jb.pods, [&](std::uint64_t id) { return !pods.count(id); });
      const int w = wanted_active(jb);
      const int fail_attempts = static_cast<int>(
          annotation_number(Pod{jb.spec.pod_template.meta, {}, {}, {}, {}}, ANNOTATION_FAIL_ATTEMPTS).value_or(0));
      for (int i = static_cast<int>(jb.pods.size()); i < w; ++i) {
        const int attempt = jb.next_pod++;
        Pod p = from_template(jb.spec.pod_template, jb.spec.meta.name + "-" + std::to_string(attempt), jb.spec.meta.namespace_,
                              "Job", jb.spec.meta.name, jb.spec.meta.source);
        const std::uint64_t id = create_pod(std::move(p), OwnerKind::JOB, j);
        if (pods.count(id)) pods.at(id).will_fail = attempt < fail_attempts;
        jobs[j].pods.push_back(id);
      }
    };
    if (delay > 0) job.create_timer = engine.after(delay, create);
    else create();
  }

  void job_pod_finished(int j, const std::string& state) {
    JobState& job = jobs[j];
    if (state == "succeeded") {
      ++job.succeeded;
      job.failures_since_success = 0;
    } else if (state == "failed" || ((state == "preempted" || state == "evicted") && !job.suspended)) {
      // A pod preempted or evicted counts against backoffLimit, as kube's Job controller
      // counts any pod that ends without succeeding; a Kueue suspension does not.
      ++job.failed;
      ++job.failures_since_success;
    }
    if (job.finished) return;
    const int completions = job.spec.completions.value_or(job.spec.parallelism);
    if ((job.spec.completions && job.succeeded >= completions) || (!job.spec.completions && job.succeeded > 0)) {
      finish_job(j, "complete");
      return;
    }
    if (job.failed > job.spec.backoff_limit) {
      finish_job(j, "failed");
      return;
    }
    reconcile_job(j);
  }

  void finish_job(int j, const std::string& state) {
    JobState& job = jobs[j];
    job.finished = true;
    job.state = state;
    job.finished_s = engine.now();
    if (job.create_timer) engine.cancel(*job.create_timer);
    job.create_timer.reset();
    std::vector<std::uint64_t> left = job.pods;
    for (std::uint64_t id : left) delete_pod(id, "deleted", "Job " + state);
    if (job.workload && kueue) {
      kueue->finish(*job.workload);
      request_admission();
    }
  }

  // ---- Kueue: a Job labelled with a LocalQueue stays suspended until admitted.
  void submit_workload(int j, const std::string& local_queue) {
    JobState& job = jobs[j];
    if (!kueue) throw InputError(job.spec.meta.source, "Job " + job.spec.meta.name + " names LocalQueue \"" + local_queue +
                                                           "\" but the manifests define no Kueue queues");
    job.suspended = true;
    job.state = "suspended";
    kueue::Workload w;
    w.id = static_cast<std::uint64_t>(j) + 1;
    w.namespace_ = job.spec.meta.namespace_;
    w.queue = local_queue;
    Pod probe;
    probe.spec = job.spec.pod_template.spec;
    probe.spec.priority_class_name = job.spec.pod_template.spec.priority_class_name;
    priorities.apply(probe);
    w.priority = sched::pod_priority(probe);
    w.created_s = engine.now();
    const int pods_at_once = std::min(job.spec.parallelism, job.spec.completions.value_or(job.spec.parallelism));
    for (const auto& [resource, amount] : effective_requests(job.spec.pod_template.spec))
      w.requests[resource] = amount * pods_at_once;
    job.workload = w.id;
    workload_job[w.id] = j;
    kueue->submit(w);
  }

  bool admission_posted_ = false;
  void request_admission() {
    if (admission_posted_) return;
    admission_posted_ = true;
    engine.at(engine.now(), [this] {
      admission_posted_ = false;
      kueue::AdmissionCycle c = kueue->cycle(engine.now());
      for (const auto& e : c.evicted) {
        JobState& job = jobs[workload_job.at(e.workload)];
        job.suspended = true;
        job.state = "suspended";
        std::vector<std::uint64_t> left = job.pods;
        for (std::uint64_t id : left) delete_pod(id, "preempted", "Kueue evicted workload of Job " + job.spec.meta.name);
      }
      for (const auto& a : c.admitted) {
        const int j = workload_job.at(a.workload);
        jobs[j].suspended = false;
        jobs[j].state = "running";
        if (!jobs[j].admitted_s) jobs[j].admitted_s = engine.now();
        reconcile_job(j);
      }
    }, engine::Phase::END_OF_INSTANT);
  }

  // ---- HPA: every sync period, each autoscaler reads its metrics and scales its target.
  void hpa_sync() {
    const double now = engine.now();
    for (auto& h : hpas) {
      DeploymentState& dep = deployments[h.deployment];
      std::vector<std::uint64_t> target_pods;
      for (int rs : dep.replica_sets)
        for (std::uint64_t id : live_pods(replica_sets[rs])) target_pods.push_back(id);
      const std::string name = dep.spec.meta.namespace_ + "/" + dep.spec.meta.name;
      std::vector<MetricObservation> observations;
      HpaSample sample{now, h.spec.meta.namespace_ + "/" + h.spec.meta.name, dep.replicas, dep.replicas, {}};
      for (const auto& metric : h.spec.metrics) {
        const LoadCurve* curve = nullptr;
        for (const auto& c : config.load)
          if (c.deployment == name && c.metric == metric.name) curve = &c;
        MetricObservation obs;
        const double total = curve ? curve->at(now) : 0;
        int ready = 0;
        for (std::uint64_t id : target_pods) ready += pods.at(id).phase == Phase::READY;
        // A served Deployment's own gauges, read from each ready pod's replica.
        const int gauge = metric.type == "Pods" ? serving_gauge(metric.name) : -1;
        const bool from_replicas = gauge >= 0 && service_of_deployment.count(h.deployment);
        double gauge_total = 0;
        // Else the load is spread evenly over the ready pods; pods not yet ready report nothing.
        for (std::uint64_t id : target_pods) {
          const PodState& s = pods.at(id);
          PodMetric pm;
          pm.pending = s.node < 0;
          pm.ready = s.phase == Phase::READY;
          if (from_replicas) {
            if (serving::Replica* r = pm.ready ? replica_of(id) : nullptr) {
              const int v = gauge == 0 ? r->outstanding() : gauge == 1 ? r->running() : r->waiting();
              pm.value = static_cast<Milli>(v) * 1000;
              gauge_total += v;
            }
          } else if (pm.ready && curve) {
            pm.value = static_cast<Milli>(std::llround(total / ready * 1000.0));
          }
          auto req = s.requests.find(metric.name);
          if (req != s.requests.end()) pm.request = req->second;
          obs.pods.push_back(pm);
        }
        if (from_replicas) {
          sample.metrics.push_back(ready > 0 ? gauge_total / ready : 0);
        } else if (metric.type == "External") {
          if (curve) obs.external = static_cast<Milli>(std::llround(total * 1000.0));
          sample.metrics.push_back(total);
        } else {
          sample.metrics.push_back(ready > 0 ? total / ready : 0);
        }
        observations.push_back(obs);
      }
      HpaDecision decision = h.controller->reconcile(now, dep.replicas, observations);
      sample.desired = decision.desired;
      result.hpa.push_back(sample);
      if (decision.desired != dep.replicas) {
        dep.replicas = decision.desired;
        reconcile_owner_of_rs(dep.replica_sets.back());
      }
    }
    if (now + config.hpa_sync_period_s <= config.duration_s) engine.after(config.hpa_sync_period_s, [this] { hpa_sync(); });
  }

  // ---- cluster autoscaler
  void ca_scan() {
    const double now = engine.now();
    ca_scale_up();
    ca_scale_down();
    if (now + config.autoscaler.scan_interval_s <= config.duration_s)
      engine.after(config.autoscaler.scan_interval_s, [this] { ca_scan(); });
  }

  // Pods that failed a scheduling attempt, in queue order, are packed first fit into the
  // nodes already coming, then into as many fresh nodes of each pool as they need, each
  // fit decided by the scheduler's own filters (the autoscaler runs the framework too).
  void ca_scale_up() {
    std::vector<std::uint64_t> pending;
    for (const auto& [id, s] : pods)
      if (s.phase == Phase::PENDING && records[s.record].attempts > 0 && s.pod->spec.node_name.empty()) pending.push_back(id);
    if (pending.empty()) return;
    auto key = [&](std::uint64_t id) {
      const PodRecord& r = records[pods.at(id).record];
      return std::make_tuple(-r.priority, r.created_s, id);
    };
    std::sort(pending.begin(), pending.end(), [&](auto a, auto b) { return key(a) < key(b); });
    std::vector<bool> placed(pending.size(), false);
    // FilterOutSchedulable: pods that fit the nodes already in the cluster need none.
    std::vector<std::pair<int, const Pod*>> assumed;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      const Pod& pod = *pods.at(pending[k]).pod;
      auto cycle = ca_profile->schedule(pod, snapshot);
      if (!cycle.node) continue;
      const int node = node_index.at(*cycle.node);
      info(node).add_pod(pod);
      assumed.emplace_back(node, &pod);
      placed[k] = true;
    }
    for (const auto& [node, pod] : assumed) info(node).remove_pod(*pod);
    for (std::size_t p = 0; p < pools.size(); ++p) {
      PoolState& pool = pools[p];
      if (!pool.limits) continue;
      sched::Snapshot test;
      std::vector<int> absent;
      int in_cluster_or_coming = 0;
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].pool != static_cast<int>(p)) continue;
        if (nodes[i].membership == Membership::ABSENT) absent.push_back(static_cast<int>(i));
        else ++in_cluster_or_coming;
        if (nodes[i].membership == Membership::PROVISIONING) test.nodes.push_back(sched::NodeInfo{&nodes[i].pn.node, {}, {}, {}});
      }
      int room = pool.limits->max_nodes - in_cluster_or_coming;
      std::size_t next_absent = 0;
      int added = 0;
      for (std::size_t k = 0; k < pending.size(); ++k) {
        if (placed[k]) continue;
        const Pod& pod = *pods.at(pending[k]).pod;
        auto fit = [&]() -> bool {
          if (test.nodes.empty()) return false;
          auto cycle = ca_profile->schedule(pod, test);
          if (!cycle.node) return false;
          for (auto& n : test.nodes)
            if (n.name() == *cycle.node) n.add_pod(pod);
          return true;
        };
        if (fit()) {
          placed[k] = true;
          continue;
        }
        if (room <= 0 || next_absent >= absent.size()) continue;
        test.nodes.push_back(sched::NodeInfo{&nodes[absent[next_absent]].pn.node, {}, {}, {}});
        if (fit()) {
          placed[k] = true;
          ++next_absent;
          --room;
          ++added;
        } else {
          test.nodes.pop_back();  // this pod does not fit a fresh node of this pool
        }
      }
      if (added > 0 && config.provider) {
        config.provider->request_nodes(pool.usage.pool, added);
        continue;
      }
      for (int a = 0; a < added; ++a) {
        const int node = absent[a];
        nodes[node].membership = Membership::PROVISIONING;
        node_event(node, "requested");
        engine.after(pool.limits->provision_s, [this, node] { join(node); });
      }
      if (added > 0) pool.last_scale_up_s = engine.now();
    }
  }

  void join(int node) {
    NodeState& n = nodes[node];
    n.membership = Membership::JOINED;
    n.unneeded_since_s.reset();
    rebuild_snapshot();
    account_joined(node, +1);
    node_event(node, "joined");
    // A node added is a cluster event: unschedulable pods get another try.
    queue.move_all_to_active_or_backoff(engine.now());
    request_scheduling();
  }

  double node_utilization(int node) const {
    const sched::NodeInfo& n = info(node);
    if (nodes[node].pn.gpus > 0) return gpu_equivalents(n.requested) / nodes[node].pn.gpus;
    double u = 0;
    for (const char* r : {CPU, MEMORY})
      if (n.allocatable(r) > 0) u = std::max(u, static_cast<double>(n.requested_of(r)) / n.allocatable(r));
    return u;
  }

  // Whether every pod on `node` may be evicted and fits, by requests, on the other nodes.
  bool drainable(int node) const {
    std::vector<ResourceList> free;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (static_cast<int>(i) == node || nodes[i].membership != Membership::JOINED) continue;
      ResourceList f = nodes[i].pn.node.allocatable;
      for (auto& [r, v] : f) v -= info(static_cast<int>(i)).requested_of(r);
      free.push_back(std::move(f));
    }
    for (const Pod* p : info(node).pods) {
      const PodState& s = pods.at(pod_ids.at(p));
      if (s.owner_kind == OwnerKind::NONE) return false;  // a bare pod would be lost
      if (annotation(*s.pod, "cluster-autoscaler.kubernetes.io/safe-to-evict") == "false") return false;
      bool fits = false;
      for (auto& f : free) {
        bool ok = true;
        for (const auto& [r, v] : s.requests)
          if (v > 0 && (f.count(r) ? f.at(r) : 0) < v) ok = false;
        if (!ok) continue;
        for (const auto& [r, v] : s.requests) f[r] -= v;
        fits = true;
        break;
      }
      if (!fits) return false;
    }
    return true;
  }

  void ca_scale_down() {
    const double now = engine.now();
    const auto& ca = config.autoscaler;
    for (std::size_t p = 0; p < pools.size(); ++p) {
      PoolState& pool = pools[p];
      if (!pool.limits) continue;
      std::vector<int> joined;
      for (std::size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].pool == static_cast<int>(p) && nodes[i].membership == Membership::JOINED) {
          const int node = static_cast<int>(i);
          joined.push_back(node);
          if (node_utilization(node) < ca.scale_down_utilization_threshold) {
            if (!nodes[node].unneeded_since_s) nodes[node].unneeded_since_s = now;
          } else {
            nodes[node].unneeded_since_s.reset();
          }
        }
      if (pool.last_scale_up_s && now - *pool.last_scale_up_s < ca.scale_down_delay_after_add_s) continue;
      int removable = static_cast<int>(joined.size()) - pool.limits->min_nodes;
      int empty_removed = 0;
      bool busy_removed = false;
      for (int node : joined) {
        if (removable <= 0) break;
        const auto& since = nodes[node].unneeded_since_s;
        if (!since || now - *since < ca.scale_down_unneeded_s) continue;
        const bool empty = info(node).pods.empty();
        if (empty ? empty_removed >= ca.max_empty_bulk_delete : busy_removed) continue;
        if (!empty && !drainable(node)) continue;
        if (empty) ++empty_removed;
        else busy_removed = true;
        --removable;
        drain(node);
      }
    }
  }

  // The autoscaler taints the node so nothing new lands there, evicts its pods (their
  // controllers recreate them elsewhere) and deletes the node once it is empty.
  void drain(int node, const std::string& why = "cluster-autoscaler scale-down") {
    NodeState& n = nodes[node];
    n.membership = Membership::DRAINING;
    n.pn.node.taints.push_back(Taint{"ToBeDeletedByClusterAutoscaler", "", TaintEffect::NO_SCHEDULE});
    node_event(node, "draining");
    std::vector<std::uint64_t> on_node;
    for (const Pod* p : info(node).pods) on_node.push_back(pod_ids.at(p));
    for (std::uint64_t id : on_node) {
      PodState& s = pods.at(id);
      if (s.phase == Phase::PERMIT_WAIT) {
        unreserve(id);
        set_phase(s, Phase::PENDING);
        queue.add_backoff(id, rec(s).attempts, engine.now());
      } else {
        delete_pod(id, "evicted", "evicted by " + why + " of " + n.pn.node.meta.name);
      }
    }
    finish_drain(node);
  }

  void finish_drain(int node) {
    NodeState& n = nodes[node];
    if (n.membership != Membership::DRAINING || !info(node).pods.empty()) return;
    n.pn.node.taints.pop_back();
    n.membership = Membership::ABSENT;
    n.unneeded_since_s.reset();
    n.images.clear();  // a deleted node's image cache goes with it
    n.pn.node.images.clear();
    account_joined(node, -1);
    for (std::uint64_t id : std::vector<std::uint64_t>(nominated_.begin(), nominated_.end()))
      if (pods.at(id).nominated_node == node) {
        pods.at(id).nominated_node.reset();
        nominated_.erase(id);
      }
    rebuild_snapshot();
    node_event(node, "removed");
    if (config.provider) config.provider->node_released(static_cast<std::size_t>(node));
  }

  void expect_node(std::size_t node) {
    AIFSIM_CHECK(nodes.at(node).membership == Membership::ABSENT, "cluster: a node announced twice");
    nodes[node].membership = Membership::PROVISIONING;
    pools[nodes[node].pool].last_scale_up_s = engine.now();
    node_event(static_cast<int>(node), "requested");
  }

  void join_node(std::size_t node) {
    if (nodes.at(node).membership == Membership::ABSENT) nodes[node].membership = Membership::PROVISIONING;
    AIFSIM_CHECK(nodes[node].membership == Membership::PROVISIONING, "cluster: a node joined twice");
    join(static_cast<int>(node));
  }

  void release_node(std::size_t node) {
    AIFSIM_CHECK(nodes.at(node).membership == Membership::JOINED, "cluster: only a joined node can be released");
    drain(static_cast<int>(node), "the broker's release");
  }

  bool has_node(std::size_t node) const {
    return nodes.at(node).membership == Membership::JOINED || nodes.at(node).membership == Membership::DRAINING;
  }

  int pending_pods() const {
    int n = 0;
    for (const auto& [id, s] : pods) n += s.phase == Phase::PENDING && records[s.record].attempts > 0;
    return n;
  }

  // 0: requests in flight, 1: running, 2: waiting; -1: not a serving gauge.
  static int serving_gauge(std::string name) {
    for (const char* prefix : {"vllm:", "vllm_"})
      if (name.rfind(prefix, 0) == 0) name = name.substr(std::string(prefix).size());
    if (name == "requests_in_flight") return 0;
    if (name == "num_requests_running") return 1;
    if (name == "num_requests_waiting") return 2;
    return -1;
  }

  // ---- timeline events
  void apply_event(const ClusterEvent& ev) {
    std::string kind = ev.target.substr(0, ev.target.find('/'));
    std::string rest = ev.target.substr(ev.target.find('/') + 1);
    std::string ns = "default", name = rest;
    if (rest.find('/') != std::string::npos) {
      ns = rest.substr(0, rest.find('/'));
      name = rest.substr(rest.find('/') + 1);
    }
    if (kind == "Deployment") {
      for (std::size_t d = 0; d < deployments.size(); ++d) {
        DeploymentState& dep = deployments[d];
        if (dep.spec.meta.name != name || dep.spec.meta.namespace_ != ns) continue;
        if (ev.action == "scale") dep.replicas = ev.replicas;
        if (ev.action == "set_image") {
          PodTemplate t = replica_sets[dep.replica_sets.back()].tmpl;
          for (auto& c : t.spec.containers) c.image = ev.image;
          new_revision(static_cast<int>(d), t);
        }
        if (ev.action == "delete") dep.replicas = 0;
        reconcile_owner_of_rs(dep.replica_sets.back());
        return;
      }
    } else if (kind == "ReplicaSet") {
      for (std::size_t r = 0; r < replica_sets.size(); ++r) {
        ReplicaSetState& rs = replica_sets[r];
        if (rs.deployment >= 0 || rs.name != name || rs.ns != ns) continue;
        rs.replicas = ev.action == "delete" ? 0 : ev.replicas;
        reconcile_owner_of_rs(static_cast<int>(r));
        return;
      }
    } else if (kind == "Job") {
      for (std::size_t j = 0; j < jobs.size(); ++j) {
        if (jobs[j].spec.meta.name != name || jobs[j].spec.meta.namespace_ != ns) continue;
        if (ev.action == "delete" && !jobs[j].finished) finish_job(static_cast<int>(j), "deleted");
        return;
      }
    }
    throw InputError("events", "event at " + std::to_string(ev.at_s) + " s: no " + ev.target + " to " + ev.action);
  }

  // ---------------------------------------------------------------- end
  ClusterResult finish() {
    const double end = engine.now();
    for (auto& p : pools) {
      p.usage.gpu_joined_s += p.joined * (end - p.last_s);
      p.usage.gpu_allocated_s += p.allocated * (end - p.last_s);
      p.usage.gpu_ready_s += p.ready * (end - p.last_s);
      p.last_s = end;
      result.pools.push_back(p.usage);
    }
    // Pods still live at the horizon keep the state they are in: pending (with the last
    // reason), starting, running or terminating.
    for (auto& [id, s] : pods) {
      PodRecord& r = rec(s);
      if (s.phase == Phase::PENDING || s.phase == Phase::PERMIT_WAIT) r.state = "pending";
    }
    // Requests still in a replica at the horizon end as unfinished: none is lost.
    for (auto& st : services) {
      for (const auto& r : st.service->replicas()) r->stop(serving::Outcome::UNFINISHED);
      nlohmann::json summary = st.metrics->summary();
      summary["deployment"] = st.spec->deployment;
      summary["model"] = st.spec->card.name;
      summary["replicas_created"] = st.service->replicas().size();
      summary["requests_source"] = st.source->describe();
      result.services[st.spec->name] = summary;
    }
    for (const auto& j : jobs) {
      ControllerRecord c{"Job", j.spec.meta.namespace_ + "/" + j.spec.meta.name, j.state, j.succeeded, j.failed,
                         j.admitted_s, j.finished_s};
      result.jobs.push_back(c);
    }
    result.pods = records;
    result.duration_s = end;
    result.skipped = manifests.skipped;
    return result;
  }
};

Cluster::Cluster(engine::Engine& engine, const platform::Topology& topology, const ManifestSet& manifests,
                 ClusterConfig config, const gpu::GpuModel* gpu_model)
    : impl_(std::make_unique<Impl>(engine, topology, manifests, std::move(config), gpu_model)) {}
Cluster::~Cluster() = default;
void Cluster::start() { impl_->start(); }
void Cluster::expect_node(std::size_t node) { impl_->expect_node(node); }
void Cluster::join_node(std::size_t node) { impl_->join_node(node); }
void Cluster::release_node(std::size_t node) { impl_->release_node(node); }
bool Cluster::has_node(std::size_t node) const { return impl_->has_node(node); }
int Cluster::pending_pods() const { return impl_->pending_pods(); }
ClusterResult Cluster::finish() { return impl_->finish(); }

ClusterResult simulate_cluster(const platform::PlatformSpec& platform, const ManifestSet& manifests,
                               const ClusterConfig& config, const gpu::GpuModel* gpu_model) {
  platform::Topology topology(platform);
  engine::Engine engine;
  const bool fabric_needed = !config.lifecycle.registry.empty() || !config.lifecycle.storage.empty();
  if (fabric_needed) {
    if (!topology.fabric_modelled())
      throw InputError(platform.name, "image pulls and weight loads need the fabric: give every node type nic_bw_Bps");
    engine.build_platform(topology);
  }
  Cluster cluster(engine, topology, manifests, config, gpu_model);
  cluster.start();
  engine.run_until(config.duration_s);
  return cluster.finish();
}

}  // namespace aifsim::k8s
