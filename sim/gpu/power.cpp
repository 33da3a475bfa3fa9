#include "gpu/power.hpp"

#include "core/error.hpp"

namespace aifsim::gpu {

EnergyMeter::EnergyMeter(GpuPowerSpec spec, int gpus, double start_s) : spec_(spec), gpus_(gpus), last_s_(start_s) {
  if (gpus_ <= 0) throw InputError("power", "a GPU energy meter needs at least one GPU");
  if (spec_.busy_w <= 0 || (spec_.idle_w && (*spec_.idle_w < 0 || *spec_.idle_w > spec_.busy_w)))
    throw InputError("power", "expected 0 <= idle power <= busy power, busy power > 0");
}

void EnergyMeter::set_busy(double time_s, double busy_gpus) {
  AIFSIM_CHECK(time_s >= last_s_, "energy meter: time went backwards");
  AIFSIM_CHECK(busy_gpus >= 0 && busy_gpus <= gpus_, "energy meter: busy GPUs out of range");
  double dt = time_s - last_s_;
  busy_j_ += busy_ * spec_.busy_w * dt;
  idle_gpu_s_ += (gpus_ - busy_) * dt;
  busy_ = busy_gpus;
  last_s_ = time_s;
}

std::optional<double> EnergyMeter::energy_j(double time_s) const {
  AIFSIM_CHECK(time_s >= last_s_, "energy meter: asked for a time before its last change");
  double dt = time_s - last_s_;
  double busy_j = busy_j_ + busy_ * spec_.busy_w * dt;
  double idle_s = idle_gpu_s_ + (gpus_ - busy_) * dt;
  if (idle_s == 0) return busy_j;
  if (!spec_.idle_w) return std::nullopt;
  return busy_j + idle_s * *spec_.idle_w;
}

double EnergyMeter::power_w() const { return busy_ * spec_.busy_w + (gpus_ - busy_) * spec_.idle_w.value_or(0.0); }

}  // namespace aifsim::gpu
