// A GPU profile: what the calibration microkernels measured on one GPU
// (calibration/profiles/SCHEMA.md). The fitted models take their numbers from here only.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aifsim::gpu {

enum class DType { BF16, FP16, FP8, TF32, FP32 };
constexpr int DTYPE_COUNT = 5;
std::string to_string(DType dtype);
std::optional<DType> parse_dtype(const std::string& name);
// Bytes per element as stored in memory (tf32 is fp32 data).
double element_bytes(DType dtype);
// Bytes per element of a GEMM's output (fp8 GEMMs write bf16).
double output_bytes(DType dtype);

struct GemmSample {
  DType dtype;
  double m, n, k, time_s;
};
struct MemorySample {
  std::string kernel;  // copy | triad | memcpy_d2d
  double buffer_bytes, bytes_moved, time_s;
};
struct HostLinkSample {
  std::string direction;    // h2d | d2h
  std::string host_memory;  // pinned | pageable
  double bytes, time_s;
};
struct AttentionSample {
  std::string phase;  // prefill | decode
  DType dtype;
  double batch, heads, kv_heads, head_dim, q_len, kv_len, time_s;
  bool causal = true;
};
struct AllReduceSample {
  int gpus;
  DType dtype;
  double bytes, time_s;
};

struct DeviceInfo {
  std::string name;
  int sm_count = 0;
  double l2_bytes = 0;
  double memory_bytes = 0;
  double sm_clock_hz = 0;
  std::optional<double> board_power_limit_w;
};

struct GpuProfile {
  std::string file;
  DeviceInfo device;
  nlohmann::json software, provenance;
  std::string method;
  std::vector<GemmSample> gemm;
  std::vector<MemorySample> device_memory;
  std::vector<HostLinkSample> host_link;
  double kernel_launch_s = 0;
  std::vector<AttentionSample> attention;
  std::vector<AllReduceSample> allreduce;
};

GpuProfile load_profile(const std::filesystem::path& file);
GpuProfile parse_profile(const nlohmann::json& doc, const std::string& file);

}  // namespace aifsim::gpu
