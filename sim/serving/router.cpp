#include "serving/router.hpp"

#include <functional>
#include <map>
#include <random>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::serving {

namespace {

std::size_t least_outstanding(const std::vector<Replica*>& replicas) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < replicas.size(); ++i)
    if (replicas[i]->outstanding() < replicas[best]->outstanding()) best = i;
  return best;
}

class RoundRobin : public Router {
 public:
  std::size_t pick(const Request&, const std::vector<Replica*>& replicas) override { return next_++ % replicas.size(); }

 private:
  std::size_t next_ = 0;
};

// Fewest requests waiting or running; ties to the lowest index.
class LeastOutstanding : public Router {
 public:
  std::size_t pick(const Request&, const std::vector<Replica*>& replicas) override { return least_outstanding(replicas); }
};

// Lowest KV-cache usage (as the replica last reported it), then fewest outstanding.
class LeastKv : public Router {
 public:
  std::size_t pick(const Request&, const std::vector<Replica*>& replicas) override {
    std::size_t best = 0;
    double best_kv = replicas[0]->kv_usage();
    for (std::size_t i = 1; i < replicas.size(); ++i) {
      const double kv = replicas[i]->kv_usage();
      if (kv < best_kv || (kv == best_kv && replicas[i]->outstanding() < replicas[best]->outstanding())) {
        best = i;
        best_kv = kv;
      }
    }
    return best;
  }
};

// Two distinct replicas drawn at random; the one with fewer outstanding requests (Mitzenmacher).
class PowerOfTwo : public Router {
 public:
  explicit PowerOfTwo(std::uint64_t seed) : rng_(seed) {}
  std::size_t pick(const Request&, const std::vector<Replica*>& replicas) override {
    const std::size_t n = replicas.size();
    if (n == 1) return 0;
    std::uniform_int_distribution<std::size_t> first(0, n - 1), second(0, n - 2);
    const std::size_t a = first(rng_);
    std::size_t b = second(rng_);
    if (b >= a) ++b;
    return replicas[b]->outstanding() < replicas[a]->outstanding() ? b : a;
  }

 private:
  std::mt19937_64 rng_;
};

// A conversation's requests go to the same replica (its prefix stays cached there);
// requests without a session go to the least loaded.
class SessionAffinity : public Router {
 public:
  std::size_t pick(const Request& request, const std::vector<Replica*>& replicas) override {
    if (request.session == 0) return least_outstanding(replicas);
    // splitmix64: a fixed, well-mixed hash (std::hash may differ between libraries).
    std::uint64_t z = request.session + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<std::size_t>(z % replicas.size());
  }
};

const std::map<std::string, std::function<std::unique_ptr<Router>(std::uint64_t)>>& registry() {
  static const std::map<std::string, std::function<std::unique_ptr<Router>(std::uint64_t)>> r = {
      {"round_robin", [](std::uint64_t) { return std::make_unique<RoundRobin>(); }},
      {"least_outstanding", [](std::uint64_t) { return std::make_unique<LeastOutstanding>(); }},
      {"least_kv", [](std::uint64_t) { return std::make_unique<LeastKv>(); }},
      {"power_of_two", [](std::uint64_t seed) { return std::make_unique<PowerOfTwo>(seed); }},
      {"session_affinity", [](std::uint64_t) { return std::make_unique<SessionAffinity>(); }},
  };
  return r;
}

}  // namespace

std::vector<std::string> router_names() {
  std::vector<std::string> names;
  for (const auto& [name, f] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Router> make_router(const std::string& name, std::uint64_t seed) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    auto names = router_names();
    std::string near = nearest_name(name, names);
    throw InputError("router", "unknown router \"" + name + "\": expected " + join_alternatives(names) +
                                   (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
  }
  return it->second(seed);
}

}  // namespace aifsim::serving
