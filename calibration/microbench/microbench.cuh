// Shared pieces of aifsim-microbench: error checks, owned device memory, the timing loop
// and the records that end up in the profile (schema aifsim-gpu-profile/1, see
// calibration/profiles/SCHEMA.md).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace aifsim::microbench {

// ---------------------------------------------------------------------------------------
// Error handling: every CUDA/cuBLAS/NCCL call goes through one of the *_CHECK macros, which
// name the failing call and exit(1). A calibration run that hit an error is worthless, so
// there is nothing to recover.

[[noreturn]] inline void fail_call(const char* call, const char* error, const char* file, int line) {
  std::fprintf(stderr, "aifsim-microbench: %s failed: %s (%s:%d)\n", call, error, file, line);
  std::exit(1);
}

#define CUDA_CHECK(call)                                                                             \
  do {                                                                                               \
    const cudaError_t check_status_ = (call);                                                        \
    if (check_status_ != cudaSuccess)                                                                \
      ::aifsim::microbench::fail_call(#call, cudaGetErrorString(check_status_), __FILE__, __LINE__); \
  } while (0)

#define CUBLAS_CHECK(call)                                                                              \
  do {                                                                                                  \
    const cublasStatus_t check_status_ = (call);                                                        \
    if (check_status_ != CUBLAS_STATUS_SUCCESS)                                                         \
      ::aifsim::microbench::fail_call(#call, cublasGetStatusString(check_status_), __FILE__, __LINE__); \
  } while (0)

// ---------------------------------------------------------------------------------------
// Measurement method; the profile's `method` text is built from these constants. The repeat
// bounds are the reference profile's "5-200 times".

constexpr int WARMUP_RUNS = 2;        // untimed; first calls pay for heuristics and lazy module loading
constexpr int TIMED_BATCHES = 5;      // the figure is the median of these
constexpr int MIN_REPEATS = 5;        // at least this many operations per batch, however long one takes
constexpr int MAX_REPEATS = 200;      // at most this many, however short one is
constexpr double MIN_BATCH_S = 1e-3;  // a batch should last this long to dwarf event resolution

constexpr std::size_t KIB = 1024;
constexpr std::size_t MIB = 1024 * KIB;
constexpr std::size_t GIB = 1024 * MIB;

// Left free on the device when deciding whether a benchmark fits: cuBLAS, the CUDA context and
// other processes need some memory that cudaMemGetInfo has not yet accounted for.
constexpr std::size_t DEVICE_MEMORY_HEADROOM = 512 * MIB;

constexpr std::size_t CUBLAS_WORKSPACE_BYTES = 64 * MIB;

// Number of operations per timed batch, given the time of one operation.
inline int repeats_for(double single_op_s) {
  if (!(single_op_s > 0.0)) return MAX_REPEATS;
  const double wanted = std::ceil(MIN_BATCH_S / single_op_s);
  return static_cast<int>(std::clamp(wanted, double(MIN_REPEATS), double(MAX_REPEATS)));
}

// Brackets work enqueued on the legacy default stream with a pair of CUDA events. All
// single-GPU benchmarks use that one stream because the synchronous cudaMemcpy calls being
// measured run there.
class DefaultStreamTimer {
 public:
  DefaultStreamTimer() {
    CUDA_CHECK(cudaEventCreate(&start_));
    CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~DefaultStreamTimer() {
    CUDA_CHECK(cudaEventDestroy(stop_));
    CUDA_CHECK(cudaEventDestroy(start_));
  }
  DefaultStreamTimer(const DefaultStreamTimer&) = delete;
  DefaultStreamTimer& operator=(const DefaultStreamTimer&) = delete;

  // Waits for all enqueued work; also surfaces a failed kernel launch from that work.
  void synchronize() {
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
  }
  void start() { CUDA_CHECK(cudaEventRecord(start_, 0)); }
  double stop_s() {
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaEventRecord(stop_, 0));
    CUDA_CHECK(cudaEventSynchronize(stop_));
    float elapsed_ms = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&elapsed_ms, start_, stop_));
    return elapsed_ms * 1e-3;
  }

 private:
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

// The measurement loop behind every figure: WARMUP_RUNS untimed calls, one timed call to pick
// the repeat count, then TIMED_BATCHES batches of back-to-back calls. Returns the median over
// batches of (batch time / repeats). `op` enqueues exactly one operation; `timer` provides
// synchronize(), start() and stop_s().
template <class Op, class Timer>
double median_time_per_op_s(Op&& op, Timer& timer) {
  for (int i = 0; i < WARMUP_RUNS; ++i) op();
  timer.synchronize();

  timer.start();
  op();
  const int repeats = repeats_for(timer.stop_s());

  std::array<double, TIMED_BATCHES> per_op_s{};
  for (double& batch_s : per_op_s) {
    timer.synchronize();
    timer.start();
    for (int r = 0; r < repeats; ++r) op();
    batch_s = timer.stop_s() / repeats;
  }
  std::sort(per_op_s.begin(), per_op_s.end());
  return per_op_s[TIMED_BATCHES / 2];
}

template <class Op>
double median_time_per_op_s(Op&& op) {
  DefaultStreamTimer timer;
  return median_time_per_op_s(op, timer);
}

// ---------------------------------------------------------------------------------------
// Device memory.

// Owns one cudaMalloc allocation.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) { CUDA_CHECK(cudaMalloc(&data_, bytes)); }
  ~DeviceBuffer() {
    if (data_ != nullptr) CUDA_CHECK(cudaFree(data_));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return data_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Whether `bytes` more can be allocated on the current device while keeping the headroom free.
inline bool device_memory_fits(std::size_t bytes) {
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return bytes + DEVICE_MEMORY_HEADROOM <= free_bytes;
}

inline double to_gib(std::size_t bytes) { return double(bytes) / double(GIB); }

// ---------------------------------------------------------------------------------------
// Records (one per profile entry) and the whole report.

struct GemmRecord {
  std::string dtype;  // bf16 | fp16 | fp8 | tf32 | fp32
  long long m, n, k;
  double time_s;
};

struct DeviceMemoryRecord {
  std::string kernel;  // copy | triad | memcpy_d2d
  std::size_t buffer_bytes;
  std::size_t bytes_moved;
  double time_s;
};

struct HostLinkRecord {
  std::string direction;    // h2d | d2h
  std::string host_memory;  // pinned | pageable
  std::size_t bytes;
  double time_s;
};

struct AttentionRecord {
  std::string phase;  // prefill | decode
  std::string dtype;
  int batch, heads, kv_heads, head_dim, q_len, kv_len;
  bool causal;
  double time_s;
};

struct AllreduceRecord {
  int gpus;
  std::string dtype;
  std::size_t bytes;
  std::string algorithm;
  double time_s;
};

struct Report {
  std::vector<GemmRecord> gemm;
  std::vector<DeviceMemoryRecord> device_memory;
  std::vector<HostLinkRecord> host_link;
  double kernel_launch_s = 0.0;
  std::vector<AttentionRecord> attention;
  std::vector<AllreduceRecord> allreduce;
  // Sentences appended to `method`: what was skipped and why, extra method details.
  std::vector<std::string> method_notes;
};

struct SweepOptions {
  bool quick = false;  // reduced sweep (--quick)
  int cc_major = 0;    // compute capability of the measured device
  int cc_minor = 0;
};

// Progress goes to stderr so that stdout can carry the JSON profile.
[[gnu::format(printf, 1, 2)]] inline void log_progress(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
}

// printf-style formatting into a std::string (for method notes).
[[gnu::format(printf, 1, 2)]] inline std::string format_string(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::va_list args_copy;
  va_copy(args_copy, args);
  const int length = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string text(static_cast<std::size_t>(std::max(length, 0)), '\0');
  std::vsnprintf(text.data(), text.size() + 1, format, args_copy);
  va_end(args_copy);
  return text;
}

// Implemented in microbench_blas.cu (everything that goes through cuBLAS/cuBLASLt).
void run_gemm_sweep(const SweepOptions& options, Report& report);
void run_attention_sweep(const SweepOptions& options, Report& report);
std::string cublas_library_description();
// The `method` sentences for GEMM and attention, generated from the sweep constants.
std::string blas_method_description(const SweepOptions& options);

}  // namespace aifsim::microbench
