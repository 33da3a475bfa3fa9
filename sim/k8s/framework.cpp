#include "k8s/framework.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace aifsim::k8s::sched {

Milli NodeInfo::allocatable(const std::string& resource) const {
  auto it = node->allocatable.find(resource);
  return it == node->allocatable.end() ? 0 : it->second;
}

Milli NodeInfo::requested_of(const std::string& resource) const {
  auto it = requested.find(resource);
  return it == requested.end() ? 0 : it->second;
}

namespace {
ResourceList non_zero(const Pod& pod) {
  ResourceList r = effective_requests(pod.spec);
  if (r[CPU] == 0) r[CPU] = DEFAULT_MILLI_CPU_REQUEST;
  if (r[MEMORY] == 0) r[MEMORY] = DEFAULT_MEMORY_REQUEST_MILLI;
  return r;
}
}  // namespace

void NodeInfo::add_pod(const Pod& pod) {
  pods.push_back(&pod);
  for (const auto& [name, value] : effective_requests(pod.spec)) requested[name] += value;
  for (const auto& [name, value] : non_zero(pod)) non_zero_requested[name] += value;
}

void NodeInfo::remove_pod(const Pod& pod) {
  auto it = std::find(pods.begin(), pods.end(), &pod);
  if (it == pods.end()) return;
  pods.erase(it);
  for (const auto& [name, value] : effective_requests(pod.spec)) requested[name] -= value;
  for (const auto& [name, value] : non_zero(pod)) non_zero_requested[name] -= value;
}

const NodeInfo* Snapshot::find(const std::string& node_name) const {
  for (const auto& n : nodes)
    if (n.name() == node_name) return &n;
  return nullptr;
}

NodeInfo* Snapshot::find(const std::string& node_name) {
  for (auto& n : nodes)
    if (n.name() == node_name) return &n;
  return nullptr;
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
