// The fabric as a Boost.Graph: one vertex per node and per (logical) switch, one
// undirected edge per link. Fat-trees are built at node granularity: a leaf's uplinks
// are aggregated into one link of the leaf's total up-bandwidth, so the graph is a tree
// whose links grow fatter towards the root (Leiserson's fat-tree), with the same
// bisection bandwidth and hop counts as the switch-level network.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "platform/platform.hpp"

namespace aifsim::platform {

enum class VertexKind { NODE, SWITCH, SERVICE };

struct Vertex {
  VertexKind kind = VertexKind::NODE;
  std::string name;
  int type_index = -1;  // into PlatformSpec::node_types, nodes only
  int cores = 0;
  double core_speed_flops = 0;
};

struct Edge {
  std::string name;
  double bw_Bps = 0;  // per direction
  double latency_s = 0;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, Vertex, Edge>;

struct TopologySummary {
  int nodes = 0;
  int switches = 0;
  int links = 0;
  long long cpu_cores = 0;
  std::map<std::string, long long> gpus_by_model;
  std::optional<double> bisection_bw_Bps;  // one direction; none when the fabric is not modelled
  int diameter_hops = 0;                   // links on the longest node-to-node shortest path
  std::map<int, long long> hop_distribution;  // links on the path -> unordered node pairs
  std::optional<double> idle_power_w;
  std::optional<double> peak_power_w;
};

class Topology {
 public:
  explicit Topology(const PlatformSpec& spec);

  const Graph& graph() const { return graph_; }
  const PlatformSpec& spec() const { return spec_; }
  // Vertex index of each node, in node order.
  const std::vector<std::size_t>& node_vertices() const { return nodes_; }
  // Hosts are the nodes in node order (host i = node i), then the services in file order.
  std::size_t host_count() const { return nodes_.size() + services_.size(); }
  // Host index of the service called `name`; none when the platform has no such service.
  std::optional<std::size_t> service_host(const std::string& name) const;
  bool fabric_modelled() const { return fabric_modelled_; }

  TopologySummary summarize() const;
  // Max flow from the first half of the nodes to the second half (bytes/s, one direction).
  double bisection_bandwidth() const;

 private:
  std::size_t add_switch(const std::string& name);
  void add_link(std::size_t a, std::size_t b, double bw_Bps);
  std::size_t build_switches(const std::vector<double>& node_bw);  // returns the top switch

  PlatformSpec spec_;
  Graph graph_;
  std::vector<std::size_t> nodes_;
  std::vector<std::size_t> services_;
  bool fabric_modelled_ = true;
};

}  // namespace aifsim::platform
