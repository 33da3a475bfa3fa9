// Routers in front of a service's replicas: each request goes to one replica, chosen from
// what a router can see when it arrives (requests outstanding, KV-cache usage). One class
// per policy behind one interface, built by name.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "serving/replica.hpp"

namespace aifsim::serving {

class Router {
 public:
  virtual ~Router() = default;
  // Index into `replicas` (never empty).
  virtual std::size_t pick(const Request& request, const std::vector<Replica*>& replicas) = 0;
};

// round_robin | least_outstanding | least_kv | power_of_two | session_affinity
std::vector<std::string> router_names();
std::unique_ptr<Router> make_router(const std::string& name, std::uint64_t seed);

}  // namespace aifsim::serving
