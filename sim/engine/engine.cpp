#include "engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>
#include <xbt/log.h>

#include "core/error.hpp"
#include "platform/topology.hpp"

namespace sg4 = simgrid::s4u;

namespace aifsim::engine {

// Calendar and SimGrid share one clock: while SimGrid activities are live, the engine
// lets SimGrid advance time up to the next calendar instant; a handler posted from
// inside SimGrid for an earlier instant arms a SimGrid timer for it, so no event is
// ever dispatched late. With no live activity, the calendar runs on its own and
// SimGrid's clock is brought forward only when the next activity starts.
struct Engine::SimGridSide {
  struct Activity {
    sg4::ActivityPtr handle;
    ActivityHandler done;
  };
  explicit SimGridSide(Engine& owner) : engine(owner) {}

  Engine& engine;
  std::unique_ptr<sg4::Engine> sg_engine;
  std::vector<sg4::Host*> hosts;
  std::size_t links = 0;
  std::map<std::uint64_t, Activity> live;  // ordered: deterministic teardown
  std::uint64_t next_activity = 1;
  bool inside = false;  // true while SimGrid's run_until is on the stack
  double target = 0.0;

  void sync_clock() {
    // Only valid when SimGrid has nothing to simulate: it then jumps to the date.
    if (live.empty() && sg4::Engine::get_clock() < engine.now_) sg_engine->run_until(engine.now_);
  }

  void on_completion(const sg4::Activity& activity) {
    auto* key = activity.get_data<std::uint64_t>();
    if (key == nullptr) return;
    auto it = live.find(*key);
    if (it == live.end()) return;
    ActivityOutcome outcome = ActivityOutcome::FINISHED;
    auto state = activity.get_state();
    if (state == sg4::Activity::State::FAILED) outcome = ActivityOutcome::FAILED;
    if (state == sg4::Activity::State::CANCELED) outcome = ActivityOutcome::CANCELED;
    ActivityHandler done = std::move(it->second.done);
    // Keep the handle alive until SimGrid has finished with it; drop it at the next step.
    retired.push_back(std::move(it->second.handle));
    live.erase(it);
    engine.now_ = std::max(engine.now_, sg4::Engine::get_clock());
    engine.dispatch_due();
    if (done) done(outcome);
  }

  void arm_timer(double time_s) {
    simgrid::kernel::timer::Timer::set(time_s, [this] {
      engine.now_ = std::max(engine.now_, sg4::Engine::get_clock());
      engine.dispatch_due();
    });
  }

  std::vector<sg4::ActivityPtr> retired;
  std::vector<std::uint64_t> keys_storage;  // unused; keys live in key_of below
  std::map<std::uint64_t, std::unique_ptr<std::uint64_t>> key_of;
};

Engine::Engine() = default;
Engine::~Engine() = default;

void Engine::push(Event event) {
  calendar_.push_back(std::move(event));
  std::push_heap(calendar_.begin(), calendar_.end(), Later{});
  stats_.peak_pending_events = std::max(stats_.peak_pending_events, calendar_.size());
}

Engine::Event Engine::pop() {
  std::pop_heap(calendar_.begin(), calendar_.end(), Later{});
  Event e = std::move(calendar_.back());
  calendar_.pop_back();
  return e;
}

TimerId Engine::at(double time_s, Handler handler, Phase phase) {
  if (!(time_s >= now_) || std::isnan(time_s))
    throw SimulationError("engine: handler posted in the past (t=" + std::to_string(time_s) +
                          " < now=" + std::to_string(now_) + ")");
  std::uint64_t seq = next_seq_++;
  push(Event{time_s, static_cast<std::uint8_t>(phase), seq, std::move(handler)});
  if (sg_ && sg_->inside && time_s < sg_->target) sg_->arm_timer(time_s);
  return TimerId{seq};
}

void Engine::cancel(TimerId id) { cancelled_.insert(id.seq); }

void Engine::dispatch_due() {
  while (!calendar_.empty() && calendar_.front().time <= now_) {
    Event e = pop();
    if (!cancelled_.empty() && cancelled_.erase(e.seq)) {
      ++stats_.events_cancelled;
      continue;
    }
    ++stats_.events_dispatched;
    e.handler();
  }
}

void Engine::run_until(double limit_s) {
  for (;;) {
    dispatch_due();
    bool activities = sg_ && !sg_->live.empty();
    double next = calendar_.empty() ? std::numeric_limits<double>::infinity() : calendar_.front().time;
    if (!activities) {
      if (calendar_.empty() || next > limit_s) break;
      now_ = next;  // fast path: pure calendar
      continue;
    }
    double target = std::min(next, limit_s);
    sg_->inside = true;
    sg_->target = target;
    if (std::isinf(target)) sg_->sg_engine->run();
    else sg_->sg_engine->run_until(target);
    sg_->inside = false;
    sg_->retired.clear();
    now_ = std::max(now_, sg4::Engine::get_clock());
    if (now_ >= limit_s && (calendar_.empty() || calendar_.front().time > limit_s)) break;
    if (std::isinf(target) && calendar_.empty() && sg_->live.empty()) break;
  }
  if (!std::isinf(limit_s) && now_ < limit_s) now_ = limit_s;
}

// ---------------------------------------------------------------- SimGrid platform

bool Engine::has_platform() const { return sg_ != nullptr; }
std::size_t Engine::host_count() const { return sg_ ? sg_->hosts.size() : 0; }
std::size_t Engine::link_count() const { return sg_ ? sg_->links : 0; }

void Engine::build_platform(const platform::Topology& topology) {
  static bool built_in_this_process = false;
  if (built_in_this_process)
    throw SimulationError("engine: SimGrid allows one platform per process; it was already built");
  built_in_this_process = true;

  sg_ = std::make_unique<SimGridSide>(*this);
  xbt_log_control_set("root.thres:critical");
  int argc = 1;
  char name[] = "aifsim";
  char* argv[] = {name, nullptr};
  sg_->sg_engine = std::make_unique<sg4::Engine>(&argc, argv);
  // LV08's TCP factors do not describe InfiniBand or NVLink: use textbook alpha-beta.
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/crosstraffic:0");

  // A Dijkstra zone routes over the topology graph as given, whatever its shape,
  // computing (and caching) a route only for the pairs that actually communicate.
  auto* zone = sg4::create_dijkstra_zone("fabric", true);
  const auto& graph = topology.graph();
  std::vector<simgrid::kernel::routing::NetPoint*> points(boost::num_vertices(graph));
  for (auto v : boost::make_iterator_range(boost::vertices(graph))) {
    const auto& vertex = graph[v];
    if (vertex.kind != platform::VertexKind::SWITCH) {  // nodes first, then services
      auto* host = zone->create_host(vertex.name, vertex.core_speed_flops)
                       ->set_core_count(std::max(1, vertex.cores))
                       ->seal();
      sg_->hosts.push_back(host);
      points[v] = host->get_netpoint();
    } else {
      points[v] = zone->create_router(vertex.name);
    }
  }
  for (auto e : boost::make_iterator_range(boost::edges(graph))) {
    const auto& edge = graph[e];
    auto src = boost::source(e, graph), dst = boost::target(e, graph);
    auto* link = zone->create_split_duplex_link(edge.name, edge.bw_Bps)->set_latency(edge.latency_s)->seal();
    ++sg_->links;
    zone->add_route(points[src], points[dst], nullptr, nullptr,
                    {sg4::LinkInRoute(link, sg4::LinkInRoute::Direction::UP)}, false);
    zone->add_route(points[dst], points[src], nullptr, nullptr,
                    {sg4::LinkInRoute(link, sg4::LinkInRoute::Direction::DOWN)}, false);
  }
  zone->seal();
  sg4::Activity::on_completion_cb([side = sg_.get()](const sg4::Activity& a) { side->on_completion(a); });
}

namespace {
void require_host(const std::vector<sg4::Host*>& hosts, std::size_t index) {
  if (index >= hosts.size())
    throw SimulationError("engine: host index " + std::to_string(index) + " out of range (" +
                          std::to_string(hosts.size()) + " hosts)");
}
}  // namespace

ActivityId Engine::start_compute(std::size_t host_index, double flops, ActivityHandler done) {
  if (!sg_) throw SimulationError("engine: start_compute before build_platform");
  require_host(sg_->hosts, host_index);
  sg_->sync_clock();
  std::uint64_t id = sg_->next_activity++;
  auto& key = sg_->key_of[id] = std::make_unique<std::uint64_t>(id);
  sg4::ExecPtr exec = sg4::Exec::init();
  exec->set_flops_amount(flops)->set_host(sg_->hosts[host_index]);
  exec->set_data(key.get());
  sg_->live[id] = SimGridSide::Activity{exec, std::move(done)};
  ++stats_.activities_started;
  exec->start();
  return ActivityId{id};
}

ActivityId Engine::start_transfer(std::size_t from_host, std::size_t to_host, double bytes, ActivityHandler done) {
  if (!sg_) throw SimulationError("engine: start_transfer before build_platform");
  require_host(sg_->hosts, from_host);
  require_host(sg_->hosts, to_host);
  sg_->sync_clock();
  std::uint64_t id = sg_->next_activity++;
  auto& key = sg_->key_of[id] = std::make_unique<std::uint64_t>(id);
  sg4::CommPtr comm = sg4::Comm::sendto_init(sg_->hosts[from_host], sg_->hosts[to_host]);
  comm->set_payload_size(bytes);
  comm->set_data(key.get());
  sg_->live[id] = SimGridSide::Activity{comm, std::move(done)};
  ++stats_.activities_started;
  comm->start();
  return ActivityId{id};
}

void Engine::cancel_activity(ActivityId id) {
  if (!sg_) return;
  auto it = sg_->live.find(id.id);
  if (it == sg_->live.end()) return;
  it->second.handle->cancel();
}

void Engine::set_host_on(std::size_t host_index, bool on) {
  if (!sg_) throw SimulationError("engine: set_host_on before build_platform");
  require_host(sg_->hosts, host_index);
  sg_->sync_clock();
  if (on) sg_->hosts[host_index]->turn_on();
  else sg_->hosts[host_index]->turn_off();
}

bool Engine::is_host_on(std::size_t host_index) const {
  if (!sg_) return true;
  require_host(sg_->hosts, host_index);
  return sg_->hosts[host_index]->is_on();
}

}  // namespace aifsim::engine
