// GPU power and energy: each GPU draws its idle power, or its busy power while it
// works; energy is the integral of power over time. Figures come from the platform's
// node type; an unknown idle power makes the energy unknown rather than guessed.
#pragma once
#include <optional>

namespace aifsim::gpu {

struct GpuPowerSpec {
  std::optional<double> idle_w;  // per GPU
  double busy_w = 0;             // per GPU
};

class EnergyMeter {
 public:
  EnergyMeter(GpuPowerSpec spec, int gpus, double start_s = 0);
  // From `time_s` on, `busy_gpus` GPUs are busy (0..gpus). Times must not go backwards.
  void set_busy(double time_s, double busy_gpus);
  // Energy in joules from the start to `time_s` (>= the last change); nullopt when the
  // idle power is unknown and any GPU was idle for any time.
  std::optional<double> energy_j(double time_s) const;
  double power_w() const;  // current draw; idle counted as 0 when unknown

 private:
  GpuPowerSpec spec_;
  int gpus_;
  double last_s_;
  double busy_ = 0;
  double busy_j_ = 0, idle_gpu_s_ = 0;  // busy energy so far, and idle GPU-seconds
};

}  // namespace aifsim::gpu
