// Batch jobs as the scheduler sees them, and the views a policy decides from.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace aifsim::hpc {

// What a job's width counts: CPU cores, GPUs, or whole nodes.
enum class ResourceUnit { PROCS, GPUS, NODES };
std::string to_string(ResourceUnit unit);

enum class JobState { COMPLETED, TIMEOUT, REJECTED };
std::string to_string(JobState state);

// A job that may run: validated against the machine.
struct BatchJob {
  std::uint64_t index = 0;   // position in the trace (0-based): the output order
  std::int64_t id = 0;       // the trace's job number
  double submit_s = 0;
  double runtime_s = 0;      // what it would run for if never stopped
  double requested_s = 0;    // its time limit: what schedulers plan with
  int width = 0;             // resource units
  std::int64_t procs = 0;    // processors as the trace states them
  bool external = false;     // submitted by the factory (a pilot), not from the trace
};

// A waiting job, in the queue's priority order.
struct QueuedJob {
  std::uint64_t index = 0;
  int width = 0;
  double requested_s = 0;
  double submit_s = 0;
  std::optional<double> reservation_s;  // start time promised by the policy, if any
};

struct RunningJob {
  std::uint64_t index = 0;
  int width = 0;
  double start_s = 0;
  double expected_end_s = 0;  // start + requested time: all a scheduler may know
};

struct QueueView {
  std::span<const QueuedJob> jobs;  // priority order: jobs[0] is the head
};

struct ClusterView {
  int capacity = 0;
  int free = 0;
  std::span<const RunningJob> running;  // any order
  // Some job ended before its expected end since the previous pass: capacity came back
  // ahead of every plan made with requested times.
  bool released_early = false;
};

// What a policy wants done now: start these queue positions, and promise these starts.
struct Decisions {
  std::vector<std::size_t> start;                          // positions in QueueView::jobs
  std::vector<std::pair<std::size_t, double>> reserve;     // (position, promised start)
};

}  // namespace aifsim::hpc
