#include "k8s/framework.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "k8s/scheduler.hpp"  // pod_priority

namespace aifsim::k8s::sched {


int resource_slot(std::string_view resource) {
  if (resource == CPU) return SLOT_CPU;
  if (resource == MEMORY) return SLOT_MEMORY;
  if (resource == "ephemeral-storage") return SLOT_EPHEMERAL_STORAGE;
  if (resource == GPU) return SLOT_GPU;
  if (resource == PODS) return SLOT_PODS;
  return -1;
}

Milli NodeInfo::allocatable(const std::string& resource) const {
  auto it = node->allocatable.find(resource);
  return it == node->allocatable.end() ? 0 : it->second;
}

Milli NodeInfo::requested_of(const std::string& resource) const {
  auto it = requested.find(resource);
  return it == requested.end() ? 0 : it->second;
}

void NodeInfo::refresh_allocatable() const {
  alloc_checked_in_ = cycle_;
  const ResourceList& list = node->allocatable;
  if (alloc_node_ == node && alloc_copy_.size() == list.size()) {
    bool same = true;
    auto copy = alloc_copy_.begin();
    for (auto it = list.begin(); same && it != list.end(); ++it, ++copy)
      same = it->second == copy->second && it->first == copy->first;
    if (same) return;
  }
  alloc_node_ = node;
  alloc_copy_.assign(list.begin(), list.end());
  alloc_ = AllocatableSlots{};
  for (const auto& [name, value] : list) {
    const int slot = resource_slot(name);
    if (slot < 0) continue;
    alloc_.value[slot] = value;
    alloc_.has[slot] = true;
  }
}

namespace {
ResourceList non_zero(const ResourceList& effective) {
  ResourceList r = effective;
  if (r[CPU] == 0) r[CPU] = DEFAULT_MILLI_CPU_REQUEST;
  if (r[MEMORY] == 0) r[MEMORY] = DEFAULT_MEMORY_REQUEST_MILLI;
  return r;
}

bool has_pod_affinity(const Pod& pod) {
  return pod.spec.affinity.pod_affinity || pod.spec.affinity.pod_anti_affinity;
}

bool has_required_anti_affinity(const Pod& pod) {
  return pod.spec.affinity.pod_anti_affinity && !pod.spec.affinity.pod_anti_affinity->required.empty();
}

void erase_one(std::vector<const Pod*>& list, const Pod* pod) {
  auto it = std::find(list.begin(), list.end(), pod);
  if (it != list.end()) list.erase(it);
}
}  // namespace

// The maps and their slot copies change together, by the same amounts.
void NodeInfo::add_pod(const Pod& pod) {
  pods.push_back(&pod);
  ++pods_tracked_;
  const ResourceList effective = effective_requests(pod.spec);
  for (const auto& [name, value] : effective) {
    requested[name] += value;
    if (const int slot = resource_slot(name); slot >= 0) requested_slot[slot] += value;
  }
  for (const auto& [name, value] : non_zero(effective)) {
    non_zero_requested[name] += value;
    if (name == CPU) non_zero_cpu += value;
    else if (name == MEMORY) non_zero_memory += value;
  }
  if (!lowest_priority_stale_) lowest_priority_ = std::min(lowest_priority_, pod_priority(pod));
  if (has_pod_affinity(pod)) pods_with_affinity.push_back(&pod);
  if (has_required_anti_affinity(pod)) pods_with_required_anti_affinity.push_back(&pod);
}

void NodeInfo::remove_pod(const Pod& pod) {
  auto it = std::find(pods.begin(), pods.end(), &pod);
  if (it == pods.end()) return;
  pods.erase(it);
  --pods_tracked_;
  const ResourceList effective = effective_requests(pod.spec);
  for (const auto& [name, value] : effective) {
    requested[name] -= value;
    if (const int slot = resource_slot(name); slot >= 0) requested_slot[slot] -= value;
  }
  for (const auto& [name, value] : non_zero(effective)) {
    non_zero_requested[name] -= value;
    if (name == CPU) non_zero_cpu -= value;
    else if (name == MEMORY) non_zero_memory -= value;
  }
  if (pod_priority(pod) <= lowest_priority_) lowest_priority_stale_ = true;
  if (has_pod_affinity(pod)) erase_one(pods_with_affinity, &pod);
  if (has_required_anti_affinity(pod)) erase_one(pods_with_required_anti_affinity, &pod);
}

int NodeInfo::lowest_priority() const {
  if (lowest_priority_stale_ || !pod_caches_current()) {
    lowest_priority_ = std::numeric_limits<int>::max();
    for (const Pod* p : pods) lowest_priority_ = std::min(lowest_priority_, pod_priority(*p));
    lowest_priority_stale_ = false;
  }
  return lowest_priority_;
}

void Snapshot::refresh_index() const {
  index_.at.clear();
  index_.at.reserve(nodes.size());
  for (std::size_t k = 0; k < nodes.size(); ++k) index_.at.emplace(nodes[k].name(), static_cast<int>(k));  // first wins
  index_.data = nodes.data();
  index_.size = nodes.size();
}

bool Snapshot::names_unique() const {
  if (index_.data != nodes.data() || index_.size != nodes.size()) refresh_index();
  return index_.at.size() == nodes.size();
}

int Snapshot::index_of(const std::string& node_name) const {
  auto rebuild = [&] { refresh_index(); };
  auto lookup = [&] {
    auto it = index_.at.find(node_name);
    return it != index_.at.end() && nodes[it->second].name() == node_name ? it->second : -1;
  };
  bool fresh = false;
  if (index_.data != nodes.data() || index_.size != nodes.size()) {
    rebuild();
    fresh = true;
  }
  int k = lookup();
  if (k < 0 && !fresh) {  // the vector may have been changed in place: read it again
    rebuild();
    k = lookup();
  }
  return k;
}

const NodeInfo* Snapshot::find(const std::string& node_name) const {
  const int k = index_of(node_name);
  return k < 0 ? nullptr : &nodes[k];
}

NodeInfo* Snapshot::find(const std::string& node_name) {
  const int k = index_of(node_name);
  return k < 0 ? nullptr : &nodes[k];
}

void Snapshot::for_each_pod(const std::function<void(const Pod&, const NodeInfo&)>& f) const {
  for (const auto& n : nodes)
    for (const Pod* p : n.pods) f(*p, n);
}

bool matches(const Requirement& r, const Labels& labels) {
  auto it = labels.find(r.key);
  const bool present = it != labels.end();
  auto in_values = [&] { return present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
  switch (r.op) {
    case SelectorOp::IN: return in_values();
    case SelectorOp::NOT_IN: return !in_values();
    case SelectorOp::EXISTS: return present;
    case SelectorOp::DOES_NOT_EXIST: return !present;
    case SelectorOp::GT:
    case SelectorOp::LT: {
      if (!present || r.values.size() != 1) return false;
      auto label = parse_int(it->second), bound = parse_int(r.values[0]);
      if (!label || !bound) return false;
      return r.op == SelectorOp::GT ? *label > *bound : *label < *bound;
    }
  }
  return false;
}

bool matches(const LabelSelector& selector, const Labels& labels) {
  for (const auto& [key, value] : selector.match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& r : selector.match_expressions)
    if (!matches(r, labels)) return false;
  return true;
}

bool matches(const NodeSelectorTerm& term, const Node& node) {
  // An empty term selects no node (NodeSelectorTerm semantics).
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const auto& r : term.match_expressions)
    if (!matches(r, node.meta.labels)) return false;
  for (const auto& r : term.match_fields) {
    if (r.key != "metadata.name") return false;
    if (!matches(r, Labels{{"metadata.name", node.meta.name}})) return false;
  }
  return true;
}

bool tolerates(const Toleration& t, const Taint& taint) {
  if (t.effect && *t.effect != taint.effect) return false;
  if (t.key.empty()) return t.exists;  // empty key with Exists tolerates everything
  if (t.key != taint.key) return false;
  return t.exists || t.value == taint.value;
}

}  // namespace aifsim::k8s::sched
