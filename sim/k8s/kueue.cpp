#include "k8s/kueue.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "core/error.hpp"

namespace aifsim::k8s::kueue {

namespace {

using FlavorResource = std::pair<std::string, std::string>;  // (flavor, resource)
using Quantities = std::map<FlavorResource, Milli>;

constexpr Milli UNLIMITED = std::numeric_limits<Milli>::max();

enum class Policy { NEVER, LOWER_PRIORITY, ANY };

struct Quota {
  Milli nominal = 0;
  std::optional<Milli> borrowing_limit;
};

// The manifest reader flattens resourceGroups into one list of flavors; flavors covering
// the same resources come from the same group, as Kueue requires groups to be disjoint.
struct ResourceGroup {
  std::set<std::string> resources;
  std::vector<std::string> flavors;  // in preference order
};

struct QueueKey {  // Kueue's queue order: higher priority, then older, then lower id
  int priority;
  double created_s;
  std::uint64_t id;
  bool operator<(const QueueKey& o) const {
    if (priority != o.priority) return priority > o.priority;
    if (created_s != o.created_s) return created_s < o.created_s;
    return id < o.id;
  }
};

struct Queue {
  std::string name, cohort;
  std::vector<ResourceGroup> groups;
  std::map<FlavorResource, Quota> quotas;
  Policy within = Policy::NEVER, reclaim = Policy::NEVER;
  QueueingStrategy strategy = QueueingStrategy::BEST_EFFORT_FIFO;
  Quantities usage;
  std::set<QueueKey> pending;
  std::set<std::uint64_t> admitted;
};

enum class Mode { NO_FIT, PREEMPT, FIT };  // worse to better

struct Assignment {
  Mode mode = Mode::FIT;
  bool never_fits = false;
  bool borrows = false;
  std::map<std::string, std::string> flavors;
  Quantities requests;
  std::set<FlavorResource> needing_preemption;
  std::string message;
};

struct Record {
  Workload workload;
  int queue = -1;  // index into State::queues, -1 when its LocalQueue or ClusterQueue is missing
  bool admitted = false;
  bool parked = false;  // BestEffortFIFO: set aside until quota is released in its cohort
  Admission admission;
  Quantities held;  // quota it holds while admitted
  std::uint64_t admitted_seq = 0;
  PendingReason reason;
  QueueKey key() const { return {workload.priority, workload.created_s, workload.id}; }
};

struct Target {
  std::uint64_t id;
  EvictionReason reason;
};

// What one call to cycle() has done so far, so that evictions net against admissions.
struct CallLog {
  std::set<std::uint64_t> admitted_at_start;
  std::map<std::uint64_t, Eviction> first_eviction;
  std::vector<std::uint64_t> eviction_order;
  bool progress = false, parked = false, evicted = false;  // in the current cycle
};

Milli get(const Quantities& m, const FlavorResource& fr) {
  auto it = m.find(fr);
  return it == m.end() ? 0 : it->second;
}

Policy parse_policy(const ClusterQueue& cq, const std::string& field, const std::string& value, bool any_allowed) {
  if (value == "Never") return Policy::NEVER;
  if (value == "LowerPriority") return Policy::LOWER_PRIORITY;
  if (value == "Any" && any_allowed) return Policy::ANY;
  throw InputError(cq.meta.source, "ClusterQueue/" + cq.meta.name + " .spec.preemption." + field + ": expected " +
                                       (any_allowed ? "Never, LowerPriority or Any" : "Never or LowerPriority") +
                                       ", got \"" + value + "\"");
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

struct QuotaManager::State {
  std::vector<Queue> queues;  // sorted by name
  std::map<std::string, int> queue_index;
  std::map<std::pair<std::string, std::string>, std::string> local_queues;  // (namespace, name) -> ClusterQueue
  std::map<std::string, Quantities> cohort_nominal, cohort_usage;
  std::map<std::uint64_t, Record> records;
  std::uint64_t next_seq = 1;
  double last_now_s = -std::numeric_limits<double>::infinity();

  const Quota& quota(const Queue& q, const FlavorResource& fr) const {
    auto it = q.quotas.find(fr);
    AIFSIM_CHECK(it != q.quotas.end(), "kueue: no quota for " + fr.second + " in flavor " + fr.first + " of " + q.name);
    return it->second;
  }

  // Kueue's Available: the queue's unused nominal quota plus what the cohort has unused,
  // capped by borrowingLimit. Without lendingLimit all nominal quota is lent to the cohort.
  Milli available(const Queue& q, const FlavorResource& fr) const {
    const Quota& qu = quota(q, fr);
    Milli used = get(q.usage, fr);
    if (q.cohort.empty()) return qu.nominal - used;
    Milli avail = get(cohort_nominal.at(q.cohort), fr) - get(cohort_usage.at(q.cohort), fr);
    if (qu.borrowing_limit) avail = std::min(avail, qu.nominal + *qu.borrowing_limit - used);
    return avail;
  }

  // The most the queue could ever get, with the rest of the cohort idle.
  Milli potential(const Queue& q, const FlavorResource& fr) const {
    const Quota& qu = quota(q, fr);
    if (q.cohort.empty()) return qu.nominal;
    Milli cap = qu.borrowing_limit ? qu.nominal + *qu.borrowing_limit : UNLIMITED;
    return std::min(cap, get(cohort_nominal.at(q.cohort), fr));
  }

  bool borrowing(const Queue& q, const std::set<FlavorResource>& frs) const {
    if (q.cohort.empty()) return false;
    for (const auto& fr : frs) {
      auto it = q.quotas.find(fr);
      if (it != q.quotas.end() && get(q.usage, fr) > it->second.nominal) return true;
    }
    return false;
  }

  bool fits(const Queue& q, const Quantities& requests, bool allow_borrowing) const {
    for (const auto& [fr, v] : requests) {
      if (!allow_borrowing && !q.cohort.empty() && get(q.usage, fr) + v > quota(q, fr).nominal) return false;
      if (v > available(q, fr)) return false;
    }
    return true;
  }

  void add_usage(const Record& r, int sign) {
    Queue& q = queues[r.queue];
    for (const auto& [fr, v] : r.held) {
      Milli& u = q.usage[fr];
      u += sign * v;
      AIFSIM_CHECK(u >= 0, "kueue: negative usage of " + fr.second + " in " + q.name);
      if (!q.cohort.empty()) cohort_usage[q.cohort][fr] += sign * v;
    }
  }

  // Flavor assignment with Kueue's default flavorFungibility (whenCanBorrow: Borrow,
  // whenCanPreempt: TryNextFlavor): per resource group, the first flavor that fits now,
  // borrowing or not; else the first that could fit by preempting; else the first.
  Assignment assign(const Queue& q, const Workload& w) const {
    Assignment a;
    std::vector<std::string> reasons;
    std::map<std::string, Milli> requests;
    for (const auto& [res, v] : w.requests) {
      bool covered = std::any_of(q.groups.begin(), q.groups.end(),
                                 [&](const ResourceGroup& g) { return g.resources.count(res) > 0; });
      // Kueue counts pods against quota only in queues that cover "pods".
      if (v == 0 || (res == PODS && !covered)) continue;
      if (!covered) reasons.push_back("resource " + res + " unavailable in ClusterQueue " + q.name);
      requests[res] = v;
    }
    if (!reasons.empty()) {
      a.mode = Mode::NO_FIT;
      a.never_fits = true;
      a.message = join(reasons);
      return a;
    }
    for (const auto& g : q.groups) {
      std::vector<std::string> wanted;
      for (const auto& [res, v] : requests)
        if (g.resources.count(res)) wanted.push_back(res);
      if (wanted.empty()) continue;
      struct Choice {
        std::string flavor;
        Mode mode = Mode::FIT;
        bool borrows = false, exceeds = false;
        std::set<FlavorResource> needing;
      };
      std::optional<Choice> chosen, best;
      std::vector<std::string> group_reasons;
      bool all_exceed = true;
      for (const auto& f : g.flavors) {
        Choice c;
        c.flavor = f;
        for (const auto& res : wanted) {
          FlavorResource fr{f, res};
          Milli v = requests.at(res), cap = potential(q, fr), avail = available(q, fr);
          if (v > cap) {
            c.mode = Mode::NO_FIT;
            c.exceeds = true;
            group_reasons.push_back("insufficient quota for " + res + " in flavor " + f +
                                    ", request > maximum capacity (" + format_quantity(v) + " > " +
                                    format_quantity(cap) + ")");
          } else if (v <= avail) {
            if (!q.cohort.empty() && get(q.usage, fr) + v > quota(q, fr).nominal) c.borrows = true;
          } else {
            group_reasons.push_back("insufficient unused quota for " + res + " in flavor " + f + ", " +
                                    format_quantity(v - std::max<Milli>(avail, 0)) + " more needed");
            // Preemption only helps a request its own nominal quota can hold.
            if (v <= quota(q, fr).nominal) {
              c.mode = std::min(c.mode, Mode::PREEMPT);
              c.needing.insert(fr);
            } else {
              c.mode = Mode::NO_FIT;
            }
          }
        }
        all_exceed = all_exceed && c.exceeds;
        if (c.mode == Mode::FIT) {
          chosen = c;
          break;
        }
        if (!best || c.mode > best->mode) best = c;
      }
      const Choice& c = chosen ? *chosen : *best;
      if (!chosen) reasons.insert(reasons.end(), group_reasons.begin(), group_reasons.end());
      a.mode = std::min(a.mode, c.mode);
      a.borrows = a.borrows || c.borrows;
      a.never_fits = a.never_fits || all_exceed;
      a.needing_preemption.insert(c.needing.begin(), c.needing.end());
      for (const auto& res : wanted) {
        a.flavors[res] = c.flavor;
        a.requests[{c.flavor, res}] = requests.at(res);
      }
    }
    a.message = join(reasons);
    return a;
  }

  // Kueue's minimalPreemptions: remove candidates in order (skipping other queues that
  // stopped borrowing) until the request fits, then put back, newest removal first, every
  // one the request does not need.
  std::vector<Target> minimal_preemptions(int qi, const Assignment& a, const std::vector<const Record*>& candidates,
                                          bool allow_borrowing) {
    const Queue& q = queues[qi];
    std::vector<Target> targets;
    std::vector<const Record*> removed;
    bool ok = false;
    for (const Record* c : candidates) {
      bool same = c->queue == qi;
      if (!same && !borrowing(queues[c->queue], a.needing_preemption)) continue;
      add_usage(*c, -1);
      removed.push_back(c);
      targets.push_back({c->workload.id, same ? EvictionReason::IN_CLUSTER_QUEUE : EvictionReason::IN_COHORT_RECLAMATION});
      if (fits(q, a.requests, allow_borrowing)) {
        ok = true;
        break;
      }
    }
    if (ok)
      for (int i = static_cast<int>(removed.size()) - 2; i >= 0; --i) {
        add_usage(*removed[i], +1);
        if (fits(q, a.requests, allow_borrowing)) {
          removed.erase(removed.begin() + i);
          targets.erase(targets.begin() + i);
        } else {
          add_usage(*removed[i], -1);
        }
      }
    for (const Record* c : removed) add_usage(*c, +1);
    return ok ? targets : std::vector<Target>{};
  }

  // Kueue's GetTargets without fair sharing or borrowWithinCohort.
  std::vector<Target> preemption_targets(int qi, const Record& r, const Assignment& a) {
    const Queue& q = queues[qi];
    const int prio = r.workload.priority;
    auto uses_needed = [&](const Record& c) {
      return std::any_of(c.held.begin(), c.held.end(),
                         [&](const auto& kv) { return a.needing_preemption.count(kv.first) > 0; });
    };
    std::vector<const Record*> candidates;
    if (q.within == Policy::LOWER_PRIORITY)
      for (auto id : q.admitted) {
        const Record& c = records.at(id);
        if (c.workload.priority < prio && uses_needed(c)) candidates.push_back(&c);
      }
    if (!q.cohort.empty() && q.reclaim != Policy::NEVER)
      for (const auto& other : queues) {
        if (&other == &q || other.cohort != q.cohort || !borrowing(other, a.needing_preemption)) continue;
        for (auto id : other.admitted) {
          const Record& c = records.at(id);
          if (q.reclaim == Policy::LOWER_PRIORITY && c.workload.priority >= prio) continue;
          if (uses_needed(c)) candidates.push_back(&c);
        }
      }
    if (candidates.empty()) return {};
    // Other queues' borrowers first, then lower priority, then the most recently admitted.
    std::sort(candidates.begin(), candidates.end(), [&](const Record* x, const Record* y) {
      bool xo = x->queue != qi, yo = y->queue != qi;
      if (xo != yo) return xo;
      if (x->workload.priority != y->workload.priority) return x->workload.priority < y->workload.priority;
      return x->admitted_seq > y->admitted_seq;
    });
    std::vector<const Record*> same;
    for (const Record* c : candidates)
      if (c->queue == qi) same.push_back(c);
    if (same.size() == candidates.size()) return minimal_preemptions(qi, a, candidates, true);
    // Reclaiming from the cohort must not leave this queue borrowing, or the evicted
    // workloads could reclaim it back: Kueue's guard against flapping.
    bool under_nominal = std::all_of(a.needing_preemption.begin(), a.needing_preemption.end(),
                                     [&](const FlavorResource& fr) { return get(q.usage, fr) < quota(q, fr).nominal; });
    if (under_nominal) {
      auto targets = minimal_preemptions(qi, a, candidates, false);
      if (!targets.empty()) return targets;
    }
    return minimal_preemptions(qi, a, same, true);
  }

  const Record* head(const Queue& q) const {
    for (const auto& k : q.pending) {
      const Record& r = records.at(k.id);
      if (q.strategy == QueueingStrategy::STRICT_FIFO || !r.parked) return &r;
    }
    return nullptr;
  }

  // Quota came back in q: Kueue requeues the inadmissible workloads of q's cohort.
  void release_nearby(const Queue& q) {
    for (const auto& other : queues)
      if (&other == &q || (!q.cohort.empty() && other.cohort == q.cohort))
        for (const auto& k : other.pending) records.at(k.id).parked = false;
  }

  void set_aside(Record& r, const Queue& q, PendingReason reason, CallLog& log) {
    r.reason = std::move(reason);
    if (q.strategy == QueueingStrategy::BEST_EFFORT_FIFO && !r.parked) {
      r.parked = true;
      log.parked = true;
    }
  }

  void admit(Record& r, const Assignment& a, double now_s, CallLog& log) {
    Queue& q = queues[r.queue];
    AIFSIM_CHECK(fits(q, a.requests, true), "kueue: workload " + std::to_string(r.workload.id) +
                                                " no longer fits " + q.name + " at t=" + std::to_string(now_s) + " s");
    q.pending.erase(r.key());
    q.admitted.insert(r.workload.id);
    r.admitted = true;
    r.parked = false;
    r.held = a.requests;
    add_usage(r, +1);
    r.admission = {r.workload.id, q.name, a.flavors, a.borrows, now_s};
    r.admitted_seq = next_seq++;
    r.reason = {};
    log.progress = true;
  }

  void evict(Record& victim, const Record& preemptor, EvictionReason reason, CallLog& log) {
    Queue& q = queues[victim.queue];
    add_usage(victim, -1);
    victim.held.clear();
    victim.admitted = false;
    victim.parked = false;
    q.admitted.erase(victim.workload.id);
    q.pending.insert(victim.key());
    victim.reason = {PendingKind::QUEUED, "preempted by workload " + std::to_string(preemptor.workload.id) + " (" +
                                              (reason == EvictionReason::IN_CLUSTER_QUEUE
                                                   ? "prioritization in the ClusterQueue"
                                                   : "reclamation within the cohort") +
                                              ")"};
    if (log.admitted_at_start.count(victim.workload.id) && !log.first_eviction.count(victim.workload.id)) {
      log.first_eviction[victim.workload.id] = {victim.workload.id, q.name, preemptor.workload.id, reason};
      log.eviction_order.push_back(victim.workload.id);
    }
    log.progress = log.evicted = true;
    release_nearby(q);
  }

  // One Kueue scheduling cycle: every queue's head is assigned flavors against the same
  // state, heads that need no borrowing go first, and within a cohort a head whose
  // flavors an earlier head of this cycle took is retried next cycle.
  void run_one_cycle(double now_s, CallLog& log) {
    struct Entry {
      int qi;
      Record* r;
      Assignment a;
    };
    std::vector<Entry> entries;
    for (int qi = 0; qi < static_cast<int>(queues.size()); ++qi)
      if (const Record* h = head(queues[qi]))
        entries.push_back({qi, &records.at(h->workload.id), assign(queues[qi], h->workload)});
    std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
      if (x.a.borrows != y.a.borrows) return !x.a.borrows;
      return x.r->key() < y.r->key();
    });
    std::map<std::string, std::set<FlavorResource>> taken;  // per cohort, by earlier heads of this cycle
    for (auto& [qi, r, a] : entries) {
      Queue& q = queues[qi];
      if (a.mode == Mode::NO_FIT) {
        set_aside(*r, q, {a.never_fits ? PendingKind::EXCEEDS_QUOTA : PendingKind::WAITING_FOR_QUOTA, a.message}, log);
        continue;
      }
      if (!q.cohort.empty()) {
        auto& t = taken[q.cohort];
        bool common = std::any_of(a.requests.begin(), a.requests.end(),
                                  [&](const auto& kv) { return t.count(kv.first) > 0; });
        if (common && (a.mode == Mode::PREEMPT || !fits(q, a.requests, true))) {
          r->reason = {PendingKind::QUEUED, "other workloads in the cohort were prioritized"};
          continue;
        }
        for (const auto& kv : a.requests) t.insert(kv.first);
      }
      if (a.mode == Mode::FIT) {
        admit(*r, a, now_s, log);
        continue;
      }
      auto targets = preemption_targets(qi, *r, a);
      if (targets.empty()) {
        set_aside(*r, q, {PendingKind::WAITING_FOR_QUOTA, a.message}, log);
        continue;
      }
      for (const auto& t : targets) evict(records.at(t.id), *r, t.reason, log);
      r->reason = {PendingKind::QUEUED, "pending the preemption of " + std::to_string(targets.size()) + " workload(s)"};
    }
  }

  // Admissions and park flags: a repeat after evictions means preemptions loop forever.
  std::string fingerprint() const {
    std::string s;
    for (const auto& [id, r] : records) {
      if (r.admitted) {
        s += std::to_string(id) + "=";
        for (const auto& [res, f] : r.admission.flavors) s += res + ":" + f + ",";
      } else if (r.parked) {
        s += std::to_string(id) + "p";
      }
      s += ';';
    }
    return s;
  }
};

QuotaManager::QuotaManager(std::vector<ClusterQueue> cluster_queues, std::vector<LocalQueue> local_queues,
                           Options options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  std::sort(cluster_queues.begin(), cluster_queues.end(),
            [](const ClusterQueue& a, const ClusterQueue& b) { return a.meta.name < b.meta.name; });
  for (const auto& cq : cluster_queues) {
    const std::string at = "ClusterQueue/" + cq.meta.name;
    if (cq.meta.name.empty()) throw InputError(cq.meta.source, "ClusterQueue without a name");
    if (s.queue_index.count(cq.meta.name)) throw InputError(cq.meta.source, at + " is defined twice");
    Queue q;
    q.name = cq.meta.name;
    q.cohort = cq.cohort;
    q.within = parse_policy(cq, "withinClusterQueue", cq.within_cluster_queue_preemption, false);
    q.reclaim = parse_policy(cq, "reclaimWithinCohort", cq.reclaim_within_cohort, true);
    for (const auto& rq : cq.quotas) {
      const std::string fat = at + " flavor \"" + rq.flavor + "\"";
      if (rq.nominal.empty()) throw InputError(cq.meta.source, fat + ": no resources");
      std::set<std::string> resources;
      for (const auto& [res, v] : rq.nominal) {
        if (v < 0) throw InputError(cq.meta.source, fat + " " + res + " nominalQuota: expected >= 0");
        if (!q.quotas.emplace(FlavorResource{rq.flavor, res}, Quota{v, std::nullopt}).second)
          throw InputError(cq.meta.source, fat + " is listed twice");
        resources.insert(res);
      }
      for (const auto& [res, v] : rq.borrowing_limit) {
        auto it = q.quotas.find({rq.flavor, res});
        if (it == q.quotas.end())
          throw InputError(cq.meta.source, fat + " " + res + " borrowingLimit: resource has no nominalQuota");
        if (v < 0) throw InputError(cq.meta.source, fat + " " + res + " borrowingLimit: expected >= 0");
        if (cq.cohort.empty())
          throw InputError(cq.meta.source, fat + " " + res + " borrowingLimit: only allowed with a cohort");
        it->second.borrowing_limit = v;
      }
      auto same = std::find_if(q.groups.begin(), q.groups.end(),
                               [&](const ResourceGroup& g) { return g.resources == resources; });
      if (same != q.groups.end()) {
        same->flavors.push_back(rq.flavor);
        continue;
      }
      for (const auto& g : q.groups)
        for (const auto& res : resources)
          if (g.resources.count(res))
            throw InputError(cq.meta.source, at + ": resource " + res + " is covered by two resource groups");
      q.groups.push_back({resources, {rq.flavor}});
    }
    if (!q.cohort.empty()) {
      auto& nominal = s.cohort_nominal[q.cohort];
      s.cohort_usage[q.cohort];
      for (const auto& [fr, qu] : q.quotas) nominal[fr] += qu.nominal;
    }
    s.queue_index[q.name] = static_cast<int>(s.queues.size());
    s.queues.push_back(std::move(q));
  }
  for (const auto& [name, strategy] : options.queueing_strategy) {
    auto it = s.queue_index.find(name);
    if (it == s.queue_index.end()) throw InputError("", "queueingStrategy for unknown ClusterQueue \"" + name + "\"");
    s.queues[it->second].strategy = strategy;
  }
  for (const auto& lq : local_queues)
    if (!s.local_queues.emplace(std::pair{lq.meta.namespace_, lq.meta.name}, lq.cluster_queue).second)
      throw InputError(lq.meta.source, "LocalQueue " + lq.meta.namespace_ + "/" + lq.meta.name + " is defined twice");
}

QuotaManager::QuotaManager(QuotaManager&&) noexcept = default;
QuotaManager& QuotaManager::operator=(QuotaManager&&) noexcept = default;
QuotaManager::~QuotaManager() = default;

void QuotaManager::submit(const Workload& w) {
  State& s = *state_;
  AIFSIM_CHECK(!s.records.count(w.id), "kueue: workload " + std::to_string(w.id) + " submitted twice");
  for (const auto& [res, v] : w.requests)
    AIFSIM_CHECK(v >= 0, "kueue: workload " + std::to_string(w.id) + " requests negative " + res);
  Record r;
  r.workload = w;
  auto lq = s.local_queues.find({w.namespace_, w.queue});
  if (lq == s.local_queues.end()) {
    r.reason = {PendingKind::NO_LOCAL_QUEUE, "LocalQueue " + w.namespace_ + "/" + w.queue + " doesn't exist"};
  } else if (auto cq = s.queue_index.find(lq->second); cq == s.queue_index.end()) {
    r.reason = {PendingKind::NO_CLUSTER_QUEUE, "ClusterQueue " + lq->second + " doesn't exist"};
  } else {
    r.queue = cq->second;
    r.reason = {PendingKind::QUEUED, "waiting for an admission cycle"};
    s.queues[r.queue].pending.insert(r.key());
  }
  s.records.emplace(w.id, std::move(r));
}

void QuotaManager::finish(std::uint64_t id) {
  State& s = *state_;
  auto it = s.records.find(id);
  AIFSIM_CHECK(it != s.records.end(), "kueue: finish of unknown workload " + std::to_string(id));
  Record& r = it->second;
  if (r.queue >= 0) {
    Queue& q = s.queues[r.queue];
    if (r.admitted) {
      s.add_usage(r, -1);
      q.admitted.erase(id);
      s.release_nearby(q);
    } else {
      q.pending.erase(r.key());
    }
  }
  s.records.erase(it);
}

AdmissionCycle QuotaManager::cycle(double now_s) {
  State& s = *state_;
  AIFSIM_CHECK(now_s >= s.last_now_s, "kueue: time went back to " + std::to_string(now_s) + " s");
  s.last_now_s = now_s;
  CallLog log;
  for (const auto& [id, r] : s.records)
    if (r.admitted) log.admitted_at_start.insert(id);
  std::set<std::string> after_evictions;
  for (;;) {
    log.progress = log.parked = log.evicted = false;
    s.run_one_cycle(now_s, log);
    if (!log.progress && !log.parked) break;
    if (log.evicted)
      AIFSIM_CHECK(after_evictions.insert(s.fingerprint()).second,
                   "kueue: preemptions repeat without end at t=" + std::to_string(now_s) + " s");
  }
  for (const auto& q : s.queues) {
    if (q.strategy != QueueingStrategy::STRICT_FIFO || q.pending.empty()) continue;
    const std::string head = std::to_string(q.pending.begin()->id);
    for (auto k = std::next(q.pending.begin()); k != q.pending.end(); ++k)
      s.records.at(k->id).reason = {PendingKind::QUEUED,
                                    "behind workload " + head + ", the head of StrictFIFO ClusterQueue " + q.name};
  }
  AdmissionCycle out;
  for (auto id : log.eviction_order) out.evicted.push_back(log.first_eviction.at(id));
  std::vector<const Record*> admitted;
  for (const auto& [id, r] : s.records) {
    if (!r.admitted)
      out.pending[id] = r.reason;
    else if (!log.admitted_at_start.count(id) || log.first_eviction.count(id))
      admitted.push_back(&r);
  }
  std::sort(admitted.begin(), admitted.end(),
            [](const Record* a, const Record* b) { return a->admitted_seq < b->admitted_seq; });
  for (const Record* r : admitted) out.admitted.push_back(r->admission);
  return out;
}

Milli QuotaManager::usage(const std::string& cluster_queue, const std::string& flavor,
                          const std::string& resource) const {
  auto it = state_->queue_index.find(cluster_queue);
  AIFSIM_CHECK(it != state_->queue_index.end(), "kueue: no ClusterQueue " + cluster_queue);
  return get(state_->queues[it->second].usage, {flavor, resource});
}

std::size_t QuotaManager::pending_count(const std::string& cluster_queue) const {
  auto it = state_->queue_index.find(cluster_queue);
  AIFSIM_CHECK(it != state_->queue_index.end(), "kueue: no ClusterQueue " + cluster_queue);
  return state_->queues[it->second].pending.size();
}

std::size_t QuotaManager::admitted_count(const std::string& cluster_queue) const {
  auto it = state_->queue_index.find(cluster_queue);
  AIFSIM_CHECK(it != state_->queue_index.end(), "kueue: no ClusterQueue " + cluster_queue);
  return state_->queues[it->second].admitted.size();
}

std::optional<Admission> QuotaManager::admission(std::uint64_t id) const {
  auto it = state_->records.find(id);
  if (it == state_->records.end() || !it->second.admitted) return std::nullopt;
  return it->second.admission;
}

}  // namespace aifsim::k8s::kueue
