// The simulation engine: one deterministic calendar of handlers, and the SimGrid
// adapter for work whose duration depends on shared resources (compute on hosts,
// transfers over the fabric). This folder is the only code that includes SimGrid.
//
// Dispatch order is (time, phase, sequence number): handlers posted for the same
// instant run in the order they were posted, and END_OF_INSTANT handlers run after
// every NORMAL handler of that instant (schedulers use it to decide once per instant).
//
// Time is double seconds from the start of the simulation. Handlers never block.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace aifsim::platform {
class Topology;
}

namespace aifsim::engine {

using Handler = std::function<void()>;

enum class Phase : std::uint8_t { NORMAL = 0, END_OF_INSTANT = 1 };

struct TimerId {
  std::uint64_t seq = 0;
};

enum class ActivityOutcome : std::uint8_t { FINISHED, FAILED, CANCELED };
using ActivityHandler = std::function<void(ActivityOutcome)>;

struct ActivityId {
  std::uint64_t id = 0;
};

struct EngineStats {
  std::uint64_t events_dispatched = 0;
  std::uint64_t events_cancelled = 0;
  std::uint64_t activities_started = 0;
  std::size_t peak_pending_events = 0;
};

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Current simulated time (s). Valid at any moment.
  double now() const { return now_; }

  // Posts `handler` at absolute time `time_s` (>= now()). Returns an id for cancel().
  TimerId at(double time_s, Handler handler, Phase phase = Phase::NORMAL);
  TimerId after(double delay_s, Handler handler, Phase phase = Phase::NORMAL) {
    return at(now_ + delay_s, std::move(handler), phase);
  }
  // Cancels a posted handler; cancelling one that already ran is a no-op.
  void cancel(TimerId id);

  // Runs until nothing is pending (run) or until simulated time `limit_s` (run_until).
  void run() { run_until(std::numeric_limits<double>::infinity()); }
  void run_until(double limit_s);

  const EngineStats& stats() const { return stats_; }

  // --- SimGrid side. One SimGrid platform per process (a SimGrid limit): build it once.
  // Creates one SimGrid host per topology node (speed in flop/s per core), a router per
  // switch and a split-duplex link per edge, with textbook alpha-beta sharing (CM02, no
  // cross-traffic).
  void build_platform(const platform::Topology& topology);
  bool has_platform() const;
  std::size_t host_count() const;
  std::size_t link_count() const;

  // Computes `flops` on host `host_index`; `done` runs when it ends or fails.
  ActivityId start_compute(std::size_t host_index, double flops, ActivityHandler done);
  // Moves `bytes` from one host to another over the fabric's links.
  ActivityId start_transfer(std::size_t from_host, std::size_t to_host, double bytes, ActivityHandler done);
  void cancel_activity(ActivityId id);
  // Turning a host off fails every activity on it (their handlers see FAILED).
  void set_host_on(std::size_t host_index, bool on);
  bool is_host_on(std::size_t host_index) const;

 private:
  struct Event {
    double time;
    std::uint8_t phase;
    std::uint64_t seq;
    Handler handler;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.phase != b.phase) return a.phase > b.phase;
      return a.seq > b.seq;
    }
  };
  void dispatch_due();
  void push(Event event);
  Event pop();

  double now_ = 0.0;
  std::uint64_t next_seq_ = 1;
  std::vector<Event> calendar_;  // binary heap ordered by Later
  std::unordered_set<std::uint64_t> cancelled_;  // seqs to skip when popped; never iterated
  EngineStats stats_;

  struct SimGridSide;
  std::unique_ptr<SimGridSide> sg_;
  friend struct SimGridSide;
};

}  // namespace aifsim::engine
