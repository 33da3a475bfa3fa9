#include "platform/topology.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>

#include <boost/graph/push_relabel_max_flow.hpp>

#include "core/error.hpp"

namespace aifsim::platform {

namespace {
std::string node_name(const std::string& prefix, int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d", index);
  return prefix + buf;
}
}  // namespace

std::size_t Topology::add_switch(const std::string& name) {
  auto v = boost::add_vertex(graph_);
  graph_[v].kind = VertexKind::SWITCH;
  graph_[v].name = name;
  return v;
}

void Topology::add_link(std::size_t a, std::size_t b, double bw_Bps) {
  auto [e, ok] = boost::add_edge(a, b, graph_);
  (void)ok;
  graph_[e].bw_Bps = bw_Bps;
  graph_[e].latency_s = spec_.fabric.link_latency_s;
  graph_[e].name = graph_[a].name + "--" + graph_[b].name;
}

Topology::Topology(const PlatformSpec& spec) : spec_(spec) {
  std::vector<double> node_bw;
  for (const auto& group : spec_.groups) {
    int type_index = 0;
    while (spec_.node_types[type_index].name != group.type) ++type_index;
    const auto& type = spec_.node_types[type_index];
    for (int i = 1; i <= group.count; ++i) {
      auto v = boost::add_vertex(graph_);
      graph_[v] = Vertex{VertexKind::NODE, node_name(group.prefix, i), type_index, type.cpu_cores, type.core_speed_flops};
      nodes_.push_back(v);
      node_bw.push_back(type.nic_bw_Bps);
      if (type.nic_bw_Bps <= 0) fabric_modelled_ = false;
    }
  }
  if (!fabric_modelled_) return;  // nodes only: no links to build

  const std::size_t top = build_switches(node_bw);
  for (const auto& service : spec_.services) {
    auto v = boost::add_vertex(graph_);
    graph_[v] = Vertex{VertexKind::SERVICE, service.name, -1, 1, 1e9};
    services_.push_back(v);
    add_link(v, top, service.bw_Bps);
  }
}

std::optional<std::size_t> Topology::service_host(const std::string& name) const {
  for (std::size_t j = 0; j < services_.size(); ++j)
    if (graph_[services_[j]].name == name) return nodes_.size() + j;
  return std::nullopt;
}

std::size_t Topology::build_switches(const std::vector<double>& node_bw) {
  const auto& f = spec_.fabric;
  if (f.kind == FabricKind::SINGLE_SWITCH) {
    auto sw = add_switch("switch");
    for (std::size_t i = 0; i < nodes_.size(); ++i) add_link(nodes_[i], sw, node_bw[i]);
    return sw;
  }
  // Fat-tree: leaves of nodes_per_leaf nodes; 2 levels join leaves under one spine,
  // 3 levels join leaves_per_pod leaves under a pod switch and pods under the core.
  const std::size_t n = nodes_.size();
  const std::size_t leaves = (n + f.nodes_per_leaf - 1) / f.nodes_per_leaf;
  std::vector<std::size_t> leaf(leaves);
  std::vector<double> leaf_down(leaves, 0.0);
  for (std::size_t l = 0; l < leaves; ++l) leaf[l] = add_switch("leaf" + std::to_string(l));
  for (std::size_t i = 0; i < n; ++i) {
    add_link(nodes_[i], leaf[i / f.nodes_per_leaf], node_bw[i]);
    leaf_down[i / f.nodes_per_leaf] += node_bw[i];
  }
  if (f.levels == 2) {
    auto spine = add_switch("spine");
    for (std::size_t l = 0; l < leaves; ++l) add_link(leaf[l], spine, leaf_down[l] / f.oversubscription[0]);
    return spine;
  }
  const std::size_t pods = (leaves + f.leaves_per_pod - 1) / f.leaves_per_pod;
  auto core = add_switch("core");
  std::vector<double> pod_down(pods, 0.0);
  std::vector<std::size_t> pod(pods);
  for (std::size_t p = 0; p < pods; ++p) pod[p] = add_switch("pod" + std::to_string(p));
  for (std::size_t l = 0; l < leaves; ++l) {
    double up = leaf_down[l] / f.oversubscription[0];
    add_link(leaf[l], pod[l / f.leaves_per_pod], up);
    pod_down[l / f.leaves_per_pod] += up;
  }
  for (std::size_t p = 0; p < pods; ++p) add_link(pod[p], core, pod_down[p] / f.oversubscription[1]);
  return core;
}

double Topology::bisection_bandwidth() const {
  if (!fabric_modelled_ || nodes_.size() < 2) return 0.0;
  // Directed flow network: each undirected link becomes two arcs of its per-direction
  // bandwidth; a super source feeds the first half of the nodes, a super sink drains
  // the second half, with unbounded capacity.
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const std::size_t v_count = boost::num_vertices(graph_);
  FlowGraph flow(v_count + 2);
  auto capacity = boost::get(boost::edge_capacity, flow);
  auto reverse = boost::get(boost::edge_reverse, flow);
  auto add_arc = [&](std::size_t a, std::size_t b, double cap) {
    auto e1 = boost::add_edge(a, b, flow).first;
    auto e2 = boost::add_edge(b, a, flow).first;
    capacity[e1] = cap;
    capacity[e2] = 0;
    reverse[e1] = e2;
    reverse[e2] = e1;
  };
  for (auto e : boost::make_iterator_range(boost::edges(graph_))) {
    auto a = boost::source(e, graph_), b = boost::target(e, graph_);
    add_arc(a, b, graph_[e].bw_Bps);
    add_arc(b, a, graph_[e].bw_Bps);
  }
  const std::size_t source = v_count, sink = v_count + 1;
  double unbounded = 0;
  for (auto e : boost::make_iterator_range(boost::edges(graph_))) unbounded += graph_[e].bw_Bps;
  const std::size_t half = nodes_.size() / 2;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (i < half) add_arc(source, nodes_[i], unbounded);
    else if (i < 2 * half) add_arc(nodes_[i], sink, unbounded);
  }
  return boost::push_relabel_max_flow(flow, source, sink);
}

TopologySummary Topology::summarize() const {
  TopologySummary s;
  s.nodes = static_cast<int>(nodes_.size());
  s.switches = static_cast<int>(boost::num_vertices(graph_) - nodes_.size() - services_.size());
  s.links = static_cast<int>(boost::num_edges(graph_));
  double idle = 0, peak = 0;
  bool idle_known = true, peak_known = true;
  for (auto v : nodes_) {
    const auto& type = spec_.node_types[graph_[v].type_index];
    s.cpu_cores += type.cpu_cores;
    if (type.gpus > 0) s.gpus_by_model[type.gpu_model] += type.gpus;
    if (type.idle_power_w) idle += *type.idle_power_w;
    else idle_known = false;
    if (type.peak_power_w) peak += *type.peak_power_w;
    else peak_known = false;
  }
  if (idle_known) s.idle_power_w = idle;
  if (peak_known) s.peak_power_w = peak;
  if (!fabric_modelled_) return s;
  s.bisection_bw_Bps = bisection_bandwidth();

  // Hop counts by BFS. Nodes hanging off the same single switch see the rest of the
  // fabric identically, so one BFS per such group stands for all its members.
  std::map<std::size_t, std::vector<std::size_t>> by_attachment;
  std::vector<std::size_t> loose;
  for (auto v : nodes_) {
    if (boost::out_degree(v, graph_) == 1) {
      auto e = *boost::out_edges(v, graph_).first;
      by_attachment[boost::target(e, graph_)].push_back(v);
    } else {
      loose.push_back(v);
    }
  }
  const std::size_t v_count = boost::num_vertices(graph_);
  std::vector<int> dist(v_count);
  auto bfs = [&](std::size_t from) {
    std::fill(dist.begin(), dist.end(), -1);
    std::deque<std::size_t> todo{from};
    dist[from] = 0;
    while (!todo.empty()) {
      auto u = todo.front();
      todo.pop_front();
      for (auto e : boost::make_iterator_range(boost::out_edges(u, graph_))) {
        auto w = boost::target(e, graph_);
        if (dist[w] < 0) dist[w] = dist[u] + 1, todo.push_back(w);
      }
    }
  };
  std::map<int, long long> ordered;  // ordered pairs; halved at the end
  auto count_from = [&](std::size_t rep, long long weight) {
    bfs(rep);
    for (auto w : nodes_) {
      if (w == rep) continue;
      if (dist[w] < 0) throw InputError(spec_.name, "fabric is disconnected: " + graph_[w].name + " unreachable");
      ordered[dist[w]] += weight;
    }
  };
  for (const auto& [sw, members] : by_attachment) {
    // Other members of the group are 2 hops away from every member; the BFS from one
    // representative counts them correctly for it, and by symmetry for all.
    count_from(members.front(), static_cast<long long>(members.size()));
  }
  for (auto v : loose) count_from(v, 1);
  for (const auto& [hops, pairs] : ordered) {
    s.hop_distribution[hops] = pairs / 2;
    s.diameter_hops = std::max(s.diameter_hops, hops);
  }
  return s;
}

}  // namespace aifsim::platform
