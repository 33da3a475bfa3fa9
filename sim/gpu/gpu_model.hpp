// The fitted GPU model: times of GEMMs of any shape and dtype, of device-memory traffic,
// of host-link copies and of kernel launches, fitted (Eigen, least squares) from one
// profile and from nothing else.
//
// GEMM: t = max(floor, c_c + a * F_q, c_m + b * B), a convex piecewise-linear fit per
// dtype. F_q counts the work the GPU actually schedules: output tiles of the chosen size
// (the tile is picked per dtype by leave-one-out error) issued in waves over the SMs, so
// a GEMM with one tile more than a full wave pays a whole wave (tile and wave
// quantisation). B is the bytes of A, B and C: the bound of the skinny GEMMs of decode.
#pragma once
#include <array>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gpu/fit.hpp"
#include "gpu/profile.hpp"

namespace aifsim::gpu {

enum class Direction { H2D, D2H };
enum class HostMemory { PINNED, PAGEABLE };

struct GemmFit {
  int tile_m = 0, tile_n = 0;
  MaxAffineModel model;
  ErrorSummary in_sample, leave_one_out;
};

struct LineFit {  // t = max(floor, c + bytes / bw)
  double floor_s = 0, latency_s = 0, bw_Bps = 0;
  ErrorSummary in_sample, leave_one_out;
  double time(double bytes) const { return std::max(floor_s, latency_s + bytes / bw_Bps); }
};

class GpuModel {
 public:
  explicit GpuModel(const GpuProfile& profile);

  // Seconds for C[m,n] = A[m,k] B[k,n] in `dtype`. Throws SimulationError for a dtype the
  // profile has no measurements of.
  double gemm_time(double m, double n, double k, DType dtype) const {
    const Fast& f = fast_[static_cast<int>(dtype)];
    if (!f.present) missing(dtype);
    double tiles = std::ceil(m / f.tile_m) * std::ceil(n / f.tile_n);
    double waves = std::ceil(tiles / sm_count_);
    double compute = f.compute_c + f.compute_a * (waves * f.tile_m * f.tile_n * k * 2.0);
    double bytes = (m * k + k * n) * element_bytes(dtype) + m * n * output_bytes(dtype);
    double memory = f.memory_c + f.memory_b * bytes;
    return std::max(f.floor, std::max(compute, memory));
  }
  bool has_gemm(DType dtype) const { return fast_[static_cast<int>(dtype)].present; }
  // Peak of the fitted compute piece, FLOP/s (all SMs busy, no quantisation loss).
  double peak_flops(DType dtype) const;

  // Seconds to stream `bytes_moved` (reads + writes) through device memory, as an
  // elementwise kernel does.
  double memory_time(double bytes_moved) const { return memory_.time(bytes_moved); }
  double memory_bw_Bps() const { return memory_.bw_Bps; }
  double host_link_time(double bytes, Direction direction, HostMemory memory) const;
  double launch_s() const { return launch_s_; }

  // Attention: measured calls rescale the roofline estimate (compute at the GEMM peak,
  // memory at the fitted bandwidth); without measurements the scale is 1.
  double attention_scale(bool decode) const { return decode ? attention_scale_decode_ : attention_scale_prefill_; }
  bool attention_calibrated(bool decode) const { return decode ? attention_decode_fitted_ : attention_prefill_fitted_; }

  // Ring all-reduce of `bytes` per GPU over `gpus` GPUs of one NVLink domain.
  double allreduce_time(double bytes, int gpus) const;
  bool allreduce_calibrated(int gpus) const { return allreduce_.count(gpus) > 0; }

  const GpuProfile& profile() const { return profile_; }
  std::optional<GemmFit> gemm_fit(DType dtype) const;
  const LineFit& memory_fit() const { return memory_; }
  // Every fit with its in-sample and leave-one-out relative errors.
  nlohmann::json report() const;

 private:
  struct Fast {
    bool present = false;
    double tile_m = 1, tile_n = 1, floor = 0, compute_c = 0, compute_a = 0, memory_c = 0, memory_b = 0;
  };
  [[noreturn]] void missing(DType dtype) const;
  double attention_roofline(const AttentionSample& s) const;

  GpuProfile profile_;
  double sm_count_ = 1;
  std::array<Fast, DTYPE_COUNT> fast_{};
  std::map<DType, GemmFit> gemm_;
  LineFit memory_;
  std::map<std::pair<Direction, HostMemory>, LineFit> host_link_;
  std::map<int, LineFit> allreduce_;
  double launch_s_ = 0;
  double attention_scale_prefill_ = 1, attention_scale_decode_ = 1;
  bool attention_prefill_fitted_ = false, attention_decode_fitted_ = false;
};

// Per-direction NVLink-4 bandwidth of one H100 SXM GPU: 18 links, 900 GB/s both
// directions together (NVIDIA; ../shared/reference/facts.md section 4). Used for
// all-reduces only when the profile has no all-reduce measurement.
constexpr double NOMINAL_NVLINK_BW_BPS = 450e9;

}  // namespace aifsim::gpu
