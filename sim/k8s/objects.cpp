#include "k8s/objects.hpp"

#include <algorithm>

namespace aifsim::k8s {

ResourceList effective_requests(const PodSpec& spec) {
  ResourceList total;
  for (const auto& c : spec.containers)
    for (const auto& [name, value] : c.requests) total[name] += value;
  for (const auto& c : spec.init_containers)
    for (const auto& [name, value] : c.requests) total[name] = std::max(total[name], value);
  return total;
}

int IntOrPercent::resolve(int total, bool round_up) const {
  if (!percent) return value;
  long long scaled = static_cast<long long>(total) * value;
  return static_cast<int>(round_up ? (scaled + 99) / 100 : scaled / 100);
}

}  // namespace aifsim::k8s
