// aifsim-microbench: measures one GPU and writes an aifsim-gpu-profile/1 JSON profile
// (calibration/profiles/SCHEMA.md) from which sim/gpu/ fits its models.
//
//   aifsim-microbench [-o FILE] [--quick] [--device N]
//
// Exit codes: 0 profile written, 1 error (bad arguments or a failed CUDA call), 2 no CUDA GPU.
// This file holds the command line, the device-memory, host-link, launch and all-reduce
// benchmarks and the JSON output; GEMM and attention are in microbench_blas.cu.
#include <cuda_runtime.h>

#include "microbench.cuh"

#ifdef AIFSIM_MICROBENCH_HAVE_NCCL
#include <nccl.h>
#endif

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>

namespace aifsim::microbench {
namespace {

constexpr const char* SCHEMA = "aifsim-gpu-profile/1";
constexpr int EXIT_ERROR = 1;
constexpr int EXIT_NO_GPU = 2;

constexpr std::size_t DEVICE_MEMORY_SIZES[] = {1 * MIB, 8 * MIB, 64 * MIB, 256 * MIB, 1 * GIB, 4 * GIB};
constexpr std::size_t QUICK_DEVICE_MEMORY_SIZES[] = {64 * MIB, 1 * GIB};
constexpr std::size_t HOST_LINK_SIZES[] = {4 * KIB, 64 * KIB, 1 * MIB, 16 * MIB, 256 * MIB, 1 * GIB};
constexpr std::size_t QUICK_HOST_LINK_SIZES[] = {64 * KIB, 16 * MIB};

constexpr int STREAM_THREADS = 256;  // threads per block of the copy and triad kernels
constexpr float TRIAD_SCALAR = 3.0f;
constexpr double CLOCK_RAMP_S = 0.5;  // busy time before the first measurement
// Host memory left to the rest of the system when sizing pinned and pageable host buffers.
constexpr std::size_t HOST_MEMORY_HEADROOM = 2 * GIB;

// The sizes of one sweep: the reduced list under --quick, else the full one.
template <std::size_t QUICK_N, std::size_t FULL_N>
std::vector<std::size_t> sweep_sizes(bool quick, const std::size_t (&quick_sizes)[QUICK_N],
                                     const std::size_t (&full_sizes)[FULL_N]) {
  return quick ? std::vector<std::size_t>(std::begin(quick_sizes), std::end(quick_sizes))
               : std::vector<std::size_t>(std::begin(full_sizes), std::end(full_sizes));
}

// ---------------------------------------------------------------------------------------
// Command line.

struct Options {
  std::string output_path;  // empty: stdout
  bool quick = false;
  int device = 0;
};

constexpr const char* USAGE =
    "usage: aifsim-microbench [-o FILE] [--quick] [--device N]\n"
    "\n"
    "Measures GEMM, attention, device memory, host link, kernel launch and (with NCCL and two or\n"
    "more GPUs) all-reduce times on one CUDA GPU and writes an aifsim-gpu-profile/1 JSON profile.\n"
    "\n"
    "  -o FILE      write the profile to FILE (default: stdout); progress goes to stderr\n"
    "  --quick      reduced sweep (a few points per benchmark), for a smoke test\n"
    "  --device N   CUDA device to measure (default 0); all-reduce uses all visible GPUs\n"
    "\n"
    "Exit status: 0 profile written, 1 error, 2 no CUDA GPU found.\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "aifsim-microbench: %s\n\n%s", message.c_str(), USAGE);
  std::exit(EXIT_ERROR);
}

Options parse_arguments(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(USAGE, stdout);
      std::exit(0);
    } else if (arg == "-o" || arg == "--output") {
      options.output_path = value();
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--device") {
      const std::string text = value();
      char* end = nullptr;
      const long device = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || device < 0 || device > 1024)
        usage_error("--device needs a device index, got '" + text + "'");
      options.device = static_cast<int>(device);
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------
// Device description.

struct DeviceInfo {
  std::string name;
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  std::size_t l2_bytes = 0;
  std::size_t memory_bytes = 0;
  double sm_clock_hz = 0.0;
  int runtime_version = 0;  // e.g. 13000 for CUDA 13.0
  int driver_version = 0;   // CUDA version the driver supports, same encoding
};

DeviceInfo query_device(int device) {
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceInfo info;
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.l2_bytes = static_cast<std::size_t>(prop.l2CacheSize);
  info.memory_bytes = prop.totalGlobalMem;
  // cudaDeviceProp::clockRate is gone in CUDA 13; the attribute is the peak SM clock in kHz.
  int clock_khz = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  info.sm_clock_hz = double(clock_khz) * 1e3;
  CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
  CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  return info;
}

std::string cuda_version_text(int version) { return format_string("%d.%d", version / 1000, (version % 1000) / 10); }

// ---------------------------------------------------------------------------------------
// Kernel launch.

__global__ void empty_kernel() {}

double measure_kernel_launch() {
  const double time_s = median_time_per_op_s([] { empty_kernel<<<1, 1>>>(); });
  log_progress("launch empty kernel<<<1,1>>>%29.3f us", time_s * 1e6);
  return time_s;
}

// ---------------------------------------------------------------------------------------
// Device memory.

__global__ void copy_kernel(const float4* __restrict__ src, float4* __restrict__ dst, std::size_t count) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) dst[i] = src[i];
}

__global__ void triad_kernel(const float4* __restrict__ a, const float4* __restrict__ b, float4* __restrict__ c,
                             float scalar, std::size_t count) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const float4 x = a[i];
    const float4 y = b[i];
    c[i] = make_float4(x.x + scalar * y.x, x.y + scalar * y.y, x.z + scalar * y.z, x.w + scalar * y.w);
  }
}

// Grid for a grid-stride streaming kernel: as many blocks as can be resident at once (more
// only adds scheduling), but no more than there are elements for.
template <class Kernel>
unsigned streaming_grid(Kernel kernel, std::size_t count, int sm_count) {
  int blocks_per_sm = 0;
  CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, kernel, STREAM_THREADS, 0));
  const std::size_t resident = std::size_t(std::max(blocks_per_sm, 1)) * std::size_t(sm_count);
  const std::size_t needed = (count + STREAM_THREADS - 1) / STREAM_THREADS;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min(resident, needed)));
}

std::string size_text(std::size_t bytes) {
  if (bytes >= GIB && bytes % GIB == 0) return format_string("%zu GiB", bytes / GIB);
  if (bytes >= MIB && bytes % MIB == 0) return format_string("%zu MiB", bytes / MIB);
  if (bytes >= KIB && bytes % KIB == 0) return format_string("%zu KiB", bytes / KIB);
  return format_string("%zu B", bytes);
}

void run_device_memory_sweep(const SweepOptions& options, int sm_count, Report& report) {
  const std::vector<std::size_t> sizes = sweep_sizes(options.quick, QUICK_DEVICE_MEMORY_SIZES, DEVICE_MEMORY_SIZES);
  for (const std::size_t bytes : sizes) {
    if (!device_memory_fits(3 * bytes)) {
      report.method_notes.push_back(format_string("Skipped device memory %s buffers: %.2f GiB not free.",
                                                  size_text(bytes).c_str(), to_gib(3 * bytes)));
      continue;
    }
    const DeviceBuffer a(bytes);
    const DeviceBuffer b(bytes);
    const DeviceBuffer c(bytes);
    CUDA_CHECK(cudaMemset(a.get(), 0, bytes));
    CUDA_CHECK(cudaMemset(b.get(), 0, bytes));
    const std::size_t count = bytes / sizeof(float4);

    const unsigned copy_grid = streaming_grid(copy_kernel, count, sm_count);
    const double copy_s = median_time_per_op_s(
        [&] { copy_kernel<<<copy_grid, STREAM_THREADS>>>(a.as<float4>(), c.as<float4>(), count); });

    const unsigned triad_grid = streaming_grid(triad_kernel, count, sm_count);
    const double triad_s = median_time_per_op_s([&] {
      triad_kernel<<<triad_grid, STREAM_THREADS>>>(a.as<float4>(), b.as<float4>(), c.as<float4>(), TRIAD_SCALAR, count);
    });

    const double memcpy_s =
        median_time_per_op_s([&] { CUDA_CHECK(cudaMemcpy(c.get(), a.get(), bytes, cudaMemcpyDeviceToDevice)); });

    report.device_memory.push_back({"copy", bytes, 2 * bytes, copy_s});
    report.device_memory.push_back({"triad", bytes, 3 * bytes, triad_s});
    report.device_memory.push_back({"memcpy_d2d", bytes, 2 * bytes, memcpy_s});
    for (auto r = report.device_memory.end() - 3; r != report.device_memory.end(); ++r)
      log_progress("memory %-10s %-8s %25.3f us %8.1f GB/s", r->kernel.c_str(), size_text(bytes).c_str(),
                   r->time_s * 1e6, double(r->bytes_moved) / r->time_s * 1e-9);
  }
}

// GPUs idle at low clocks and need tens of milliseconds of load to ramp up; keeping the GPU
// busy before the first measurement lets the small early figures see the same clocks as the rest.
void ramp_up_clocks(int sm_count) {
  const std::size_t bytes = 256 * MIB;
  if (!device_memory_fits(2 * bytes)) return;
  const DeviceBuffer src(bytes);
  const DeviceBuffer dst(bytes);
  CUDA_CHECK(cudaMemset(src.get(), 0, bytes));
  const std::size_t count = bytes / sizeof(float4);
  const unsigned grid = streaming_grid(copy_kernel, count, sm_count);
  DefaultStreamTimer timer;
  for (double busy_s = 0.0; busy_s < CLOCK_RAMP_S;) {
    timer.start();
    for (int i = 0; i < 10; ++i) copy_kernel<<<grid, STREAM_THREADS>>>(src.as<float4>(), dst.as<float4>(), count);
    busy_s += timer.stop_s();
  }
}

// ---------------------------------------------------------------------------------------
// Host link.

// Owns one cudaMallocHost (pinned) allocation.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(std::size_t bytes) { CUDA_CHECK(cudaMallocHost(&data_, bytes)); }
  ~PinnedBuffer() { CUDA_CHECK(cudaFreeHost(data_)); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  void* get() const { return data_; }

 private:
  void* data_ = nullptr;
};

// Owns one malloc (pageable) allocation, touched so that its pages are resident before timing.
class PageableBuffer {
 public:
  explicit PageableBuffer(std::size_t bytes) : data_(std::malloc(bytes)) {
    if (data_ == nullptr) fail_call("malloc", std::strerror(errno), __FILE__, __LINE__);
    std::memset(data_, 0, bytes);
  }
  ~PageableBuffer() { std::free(data_); }
  PageableBuffer(const PageableBuffer&) = delete;
  PageableBuffer& operator=(const PageableBuffer&) = delete;
  void* get() const { return data_; }

 private:
  void* data_ = nullptr;
};

// MemAvailable from /proc/meminfo; nothing when it cannot be read (then sizes are not capped).
std::optional<std::size_t> host_memory_available() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kib) == 1) return std::size_t(kib) * KIB;
  }
  return std::nullopt;
}

void run_host_link_sweep(const SweepOptions& options, Report& report) {
  const std::vector<std::size_t> sizes = sweep_sizes(options.quick, QUICK_HOST_LINK_SIZES, HOST_LINK_SIZES);
  for (const std::size_t bytes : sizes) {
    const std::optional<std::size_t> host_free = host_memory_available();
    if (!device_memory_fits(bytes) || (host_free && 2 * bytes + HOST_MEMORY_HEADROOM > *host_free)) {
      report.method_notes.push_back(
          format_string("Skipped host link %s: not enough free host or device memory.", size_text(bytes).c_str()));
      continue;
    }
    const DeviceBuffer device(bytes);
    const PinnedBuffer pinned(bytes);
    const PageableBuffer pageable(bytes);
    std::memset(pinned.get(), 0, bytes);
    CUDA_CHECK(cudaMemset(device.get(), 0, bytes));

    struct Case {
      const char* direction;
      const char* host_memory;
      void* host;
    };
    // Same order as the reference profile.
    const Case cases[] = {{"h2d", "pinned", pinned.get()},
                          {"d2h", "pinned", pinned.get()},
                          {"h2d", "pageable", pageable.get()},
                          {"d2h", "pageable", pageable.get()}};
    for (const Case& c : cases) {
      const bool to_device = std::strcmp(c.direction, "h2d") == 0;
      const double time_s = median_time_per_op_s([&] {
        if (to_device)
          CUDA_CHECK(cudaMemcpy(device.get(), c.host, bytes, cudaMemcpyHostToDevice));
        else
          CUDA_CHECK(cudaMemcpy(c.host, device.get(), bytes, cudaMemcpyDeviceToHost));
      });
      report.host_link.push_back({c.direction, c.host_memory, bytes, time_s});
      log_progress("host link %s %-8s %-8s %18.3f us %8.2f GB/s", c.direction, c.host_memory, size_text(bytes).c_str(),
                   time_s * 1e6, double(bytes) / time_s * 1e-9);
    }
  }
}

// ---------------------------------------------------------------------------------------
// NCCL all-reduce over all visible GPUs (compiled only where CMake found NCCL).

#ifdef AIFSIM_MICROBENCH_HAVE_NCCL

constexpr std::size_t ALLREDUCE_SIZES[] = {1 * MIB,  2 * MIB,   4 * MIB,   8 * MIB,   16 * MIB, 32 * MIB,
                                           64 * MIB, 128 * MIB, 256 * MIB, 512 * MIB, 1 * GIB};
constexpr std::size_t QUICK_ALLREDUCE_SIZES[] = {1 * MIB, 64 * MIB};

#define NCCL_CHECK(call)                                                                             \
  do {                                                                                               \
    const ncclResult_t check_status_ = (call);                                                       \
    if (check_status_ != ncclSuccess)                                                                \
      ::aifsim::microbench::fail_call(#call, ncclGetErrorString(check_status_), __FILE__, __LINE__); \
  } while (0)

// Brackets work on every GPU's stream with events; a collective batch lasts as long as the
// slowest GPU's share of it.
class MultiGpuTimer {
 public:
  explicit MultiGpuTimer(const std::vector<cudaStream_t>& streams)
      : streams_(streams), starts_(streams.size()), stops_(streams.size()) {
    for (std::size_t d = 0; d < streams_.size(); ++d) {
      CUDA_CHECK(cudaSetDevice(int(d)));
      CUDA_CHECK(cudaEventCreate(&starts_[d]));
      CUDA_CHECK(cudaEventCreate(&stops_[d]));
    }
  }
  ~MultiGpuTimer() {
    for (std::size_t d = 0; d < streams_.size(); ++d) {
      CUDA_CHECK(cudaSetDevice(int(d)));
      CUDA_CHECK(cudaEventDestroy(stops_[d]));
      CUDA_CHECK(cudaEventDestroy(starts_[d]));
    }
  }
  MultiGpuTimer(const MultiGpuTimer&) = delete;
  MultiGpuTimer& operator=(const MultiGpuTimer&) = delete;

  void synchronize() {
    for (std::size_t d = 0; d < streams_.size(); ++d) {
      CUDA_CHECK(cudaSetDevice(int(d)));
      CUDA_CHECK(cudaStreamSynchronize(streams_[d]));
    }
  }
  void start() {
    for (std::size_t d = 0; d < streams_.size(); ++d) {
      CUDA_CHECK(cudaSetDevice(int(d)));
      CUDA_CHECK(cudaEventRecord(starts_[d], streams_[d]));
    }
  }
  double stop_s() {
    for (std::size_t d = 0; d < streams_.size(); ++d) {
      CUDA_CHECK(cudaSetDevice(int(d)));
      CUDA_CHECK(cudaEventRecord(stops_[d], streams_[d]));
    }
    double longest_s = 0.0;
    for (std::size_t d = 0; d < streams_.size(); ++d) {
      CUDA_CHECK(cudaSetDevice(int(d)));
      CUDA_CHECK(cudaEventSynchronize(stops_[d]));
      float elapsed_ms = 0.0f;
      CUDA_CHECK(cudaEventElapsedTime(&elapsed_ms, starts_[d], stops_[d]));
      longest_s = std::max(longest_s, elapsed_ms * 1e-3);
    }
    return longest_s;
  }

 private:
  std::vector<cudaStream_t> streams_;
  std::vector<cudaEvent_t> starts_;
  std::vector<cudaEvent_t> stops_;
};

std::string nccl_version_text() {
  int version = 0;
  NCCL_CHECK(ncclGetVersion(&version));
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch.
  return format_string("%d.%d.%d", version / 10000, (version % 10000) / 100, version % 100);
}

// Returns the method sentence for the all-reduce figures (empty when none were taken).
std::string run_allreduce_sweep(const SweepOptions& options, int measured_device, Report& report) {
  int gpus = 0;
  CUDA_CHECK(cudaGetDeviceCount(&gpus));
  if (gpus < 2) {
    report.method_notes.push_back("All-reduce not measured: only one GPU is visible.");
    return {};
  }

  // The largest size whose send and receive buffers fit on every GPU bounds the sweep.
  const std::vector<std::size_t> sizes = sweep_sizes(options.quick, QUICK_ALLREDUCE_SIZES, ALLREDUCE_SIZES);
  std::size_t max_bytes = 0;
  for (const std::size_t bytes : sizes) {
    bool fits = true;
    for (int d = 0; d < gpus; ++d) {
      CUDA_CHECK(cudaSetDevice(d));
      fits = fits && device_memory_fits(2 * bytes);
    }
    if (fits)
      max_bytes = bytes;
    else
      report.method_notes.push_back(
          format_string("Skipped all-reduce %s: buffers do not fit on every GPU.", size_text(bytes).c_str()));
  }
  if (max_bytes == 0) {
    CUDA_CHECK(cudaSetDevice(measured_device));
    return {};
  }

  const auto gpu_count = static_cast<std::size_t>(gpus);
  std::vector<ncclComm_t> comms(gpu_count, nullptr);
  NCCL_CHECK(ncclCommInitAll(comms.data(), gpus, nullptr));  // devices 0 .. gpus-1
  std::vector<cudaStream_t> streams(gpu_count, nullptr);
  std::vector<std::unique_ptr<DeviceBuffer>> send(gpu_count);
  std::vector<std::unique_ptr<DeviceBuffer>> receive(gpu_count);
  for (std::size_t d = 0; d < gpu_count; ++d) {
    CUDA_CHECK(cudaSetDevice(int(d)));
    CUDA_CHECK(cudaStreamCreate(&streams[d]));
    send[d] = std::make_unique<DeviceBuffer>(max_bytes);
    receive[d] = std::make_unique<DeviceBuffer>(max_bytes);
    CUDA_CHECK(cudaMemset(send[d]->get(), 0, max_bytes));
  }

  {
    MultiGpuTimer timer(streams);
    for (const std::size_t bytes : sizes) {
      if (bytes > max_bytes) continue;
      const std::size_t elements = bytes / 2;  // bf16
      auto all_reduce = [&] {
        // One group call launches the collective on every GPU from this single thread.
        NCCL_CHECK(ncclGroupStart());
        for (std::size_t d = 0; d < gpu_count; ++d)
          NCCL_CHECK(
              ncclAllReduce(send[d]->get(), receive[d]->get(), elements, ncclBfloat16, ncclSum, comms[d], streams[d]));
        NCCL_CHECK(ncclGroupEnd());
      };
      const double time_s = median_time_per_op_s(all_reduce, timer);
      report.allreduce.push_back({gpus, "bf16", bytes, "nccl-default", time_s});
      log_progress("all-reduce %d GPUs %-8s %21.3f us %8.1f GB/s bus", gpus, size_text(bytes).c_str(), time_s * 1e6,
                   2.0 * (gpus - 1) / gpus * double(bytes) / time_s * 1e-9);
    }
  }

  for (std::size_t d = 0; d < gpu_count; ++d) {
    CUDA_CHECK(cudaSetDevice(int(d)));
    send[d].reset();
    receive[d].reset();
    CUDA_CHECK(cudaStreamDestroy(streams[d]));
    NCCL_CHECK(ncclCommDestroy(comms[d]));
  }
  CUDA_CHECK(cudaSetDevice(measured_device));
  return format_string(
      "All-reduce: NCCL %s ncclAllReduce, bf16 sum, out of place, over all %d visible GPUs from one process "
      "(ncclCommInitAll), one ncclGroupStart/ncclGroupEnd per operation and one stream per GPU; bytes is each "
      "GPU's buffer and a batch's time is the longest of the per-GPU event times.",
      nccl_version_text().c_str(), gpus);
}

#else

std::string run_allreduce_sweep(const SweepOptions&, int, Report& report) {
  report.method_notes.push_back("All-reduce not measured: built without NCCL.");
  return {};
}

#endif  // AIFSIM_MICROBENCH_HAVE_NCCL

// ---------------------------------------------------------------------------------------
// Profile text.

std::string method_text(const SweepOptions& options, const std::string& allreduce_method, const Report& report) {
  // The first sentences repeat the reference profile's method
  // (shared/reference/gpu/h100-sxm-microbench.json) word for word: same method, comparable figures.
  std::string text = format_string(
      "Each figure is the median of %d timed batches measured with CUDA events after a warm-up; a batch "
      "repeats the operation %d-%d times back to back on one stream. GEMM: row-major C[m,n] = A[m,k] B[k,n], "
      "beta 0, bf16/fp16 in and out with fp32 accumulation, fp32 with CUBLAS_COMPUTE_32F, tf32 with "
      "CUBLAS_COMPUTE_32F_FAST_TF32. Memory: a float4 grid-stride copy kernel (2 x bytes moved), a triad kernel "
      "c = a + s*b (3 x bytes moved), and cudaMemcpy device to device (2 x bytes moved). Host links: cudaMemcpy "
      "of the given size between device memory and pinned (cudaMallocHost) or pageable (malloc) host memory. "
      "Launch: an empty kernel<<<1,1>>> launched back to back, time per launch.",
      TIMED_BATCHES, MIN_REPEATS, MAX_REPEATS);
  text += format_string(
      " Details (aifsim-microbench): the GPU is first kept busy with copies for %.1f s so that its clocks have "
      "ramped up; the warm-up is %d untimed calls; one timed call sets the repeat count to %.0f ms / its time, "
      "clamped to %d-%d; single-GPU work runs on the legacy default stream and a figure is the batch time / "
      "the repeat count. ",
      CLOCK_RAMP_S, WARMUP_RUNS, MIN_BATCH_S * 1e3, MIN_REPEATS, MAX_REPEATS);
  text += blas_method_description(options);
  text += format_string(
      " The copy and triad kernels run %d-thread blocks, as many as fit on the GPU at once (fewer when the "
      "buffer has fewer float4 elements than that many threads), on zeroed buffers; pageable host buffers are "
      "written before timing so that their pages are resident.",
      STREAM_THREADS);
  if (!allreduce_method.empty()) text += " " + allreduce_method;
  for (const std::string& note : report.method_notes) text += " " + note;
  return text;
}

std::string utc_date_today() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

std::string json_string(const std::string& value) {
  std::string out = "\"";
  for (const char ch : value) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20)
          out += format_string("\\u%04x", ch);
        else
          out += ch;
    }
  }
  return out + "\"";
}

// Seconds and other measured values: 7 significant digits is more than the measurement holds.
std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  return format_string("%.7g", value);
}

std::string json_bool(bool value) { return value ? "true" : "false"; }

// Writes `"name": [` one record per line `]`.
template <class Record, class Format>
void write_array(std::ostringstream& out, const char* name, const std::vector<Record>& records, Format format) {
  out << ",\n  " << json_string(name) << ": [";
  for (std::size_t i = 0; i < records.size(); ++i) out << (i == 0 ? "\n    " : ",\n    ") << format(records[i]);
  out << "\n  ]";
}

std::string profile_json(const DeviceInfo& device, const std::string& library, const std::string& method,
                         const std::string& notes, const Report& report) {
  std::ostringstream out;
  out << "{\n  \"schema\": " << json_string(SCHEMA) << ",\n";
  out << "  \"device\": {\n"
      << "    \"name\": " << json_string(device.name) << ",\n"
      << "    \"compute_capability\": " << json_string(format_string("%d.%d", device.cc_major, device.cc_minor))
      << ",\n"
      << "    \"sm_count\": " << device.sm_count << ",\n"
      << "    \"l2_bytes\": " << device.l2_bytes << ",\n"
      << "    \"memory_bytes\": " << device.memory_bytes << ",\n"
      << "    \"sm_clock_hz\": " << format_string("%.1f", device.sm_clock_hz) << ",\n"
      << "    \"board_power_limit_w\": null\n"
      << "  },\n";
  out << "  \"software\": {\"cuda\": " << json_string(cuda_version_text(device.runtime_version))
      << ", \"driver\": " << json_string(cuda_version_text(device.driver_version))
      << ", \"library\": " << json_string(library) << "},\n";
  out << "  \"method\": " << json_string(method) << ",\n";
  out << "  \"provenance\": {\"source\": " << json_string("aifsim-microbench (calibration/microbench)")
      << ", \"measured_on\": " << json_string(utc_date_today()) << ", \"notes\": " << json_string(notes) << "}";

  write_array(out, "gemm", report.gemm, [](const GemmRecord& r) {
    return format_string("{\"dtype\": %s, \"m\": %lld, \"n\": %lld, \"k\": %lld, \"time_s\": %s}",
                         json_string(r.dtype).c_str(), r.m, r.n, r.k, json_number(r.time_s).c_str());
  });
  write_array(out, "device_memory", report.device_memory, [](const DeviceMemoryRecord& r) {
    return format_string("{\"kernel\": %s, \"buffer_bytes\": %zu, \"bytes_moved\": %zu, \"time_s\": %s}",
                         json_string(r.kernel).c_str(), r.buffer_bytes, r.bytes_moved, json_number(r.time_s).c_str());
  });
  write_array(out, "host_link", report.host_link, [](const HostLinkRecord& r) {
    return format_string("{\"direction\": %s, \"host_memory\": %s, \"bytes\": %zu, \"time_s\": %s}",
                         json_string(r.direction).c_str(), json_string(r.host_memory).c_str(), r.bytes,
                         json_number(r.time_s).c_str());
  });
  out << ",\n  \"kernel_launch_s\": " << json_number(report.kernel_launch_s);
  if (!report.attention.empty())
    write_array(out, "attention", report.attention, [](const AttentionRecord& r) {
      return format_string(
          "{\"phase\": %s, \"dtype\": %s, \"batch\": %d, \"heads\": %d, \"kv_heads\": %d, \"head_dim\": %d, "
          "\"q_len\": %d, \"kv_len\": %d, \"causal\": %s, \"time_s\": %s}",
          json_string(r.phase).c_str(), json_string(r.dtype).c_str(), r.batch, r.heads, r.kv_heads, r.head_dim, r.q_len,
          r.kv_len, json_bool(r.causal).c_str(), json_number(r.time_s).c_str());
    });
  if (!report.allreduce.empty())
    write_array(out, "allreduce", report.allreduce, [](const AllreduceRecord& r) {
      return format_string("{\"gpus\": %d, \"dtype\": %s, \"bytes\": %zu, \"algorithm\": %s, \"time_s\": %s}", r.gpus,
                           json_string(r.dtype).c_str(), r.bytes, json_string(r.algorithm).c_str(),
                           json_number(r.time_s).c_str());
    });
  out << "\n}\n";
  return out.str();
}

// The profile goes to FILE.tmp and is renamed at the end, so a failed run never leaves a
// truncated profile behind (nor destroys the previous one).
std::string temporary_path(const std::string& path) { return path + ".tmp"; }

void check_output_writable(const std::string& path) {
  const std::string tmp = temporary_path(path);
  std::FILE* file = std::fopen(tmp.c_str(), "w");
  if (file == nullptr) {
    std::fprintf(stderr, "aifsim-microbench: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
    std::exit(EXIT_ERROR);
  }
  std::fclose(file);
  std::remove(tmp.c_str());
}

void write_output(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    return;
  }
  const std::string tmp = temporary_path(path);
  std::FILE* file = std::fopen(tmp.c_str(), "w");
  const bool written = file != nullptr && std::fputs(text.c_str(), file) >= 0;
  const bool closed = file != nullptr && std::fclose(file) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "aifsim-microbench: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(EXIT_ERROR);
  }
  log_progress("profile written to %s", path.c_str());
}

}  // namespace
}  // namespace aifsim::microbench

int main(int argc, char** argv) {
  using namespace aifsim::microbench;
  const Options options = parse_arguments(argc, argv);

  int device_count = 0;
  const cudaError_t status = cudaGetDeviceCount(&device_count);
  if (status != cudaSuccess || device_count == 0) {
    std::fprintf(stderr, "aifsim-microbench: no CUDA GPU found: %s\n",
                 status != cudaSuccess ? cudaGetErrorString(status) : "cudaGetDeviceCount reported 0 devices");
    return EXIT_NO_GPU;
  }
  if (options.device >= device_count) {
    std::fprintf(stderr, "aifsim-microbench: --device %d: only %d CUDA device(s) visible\n", options.device,
                 device_count);
    return EXIT_ERROR;
  }
  if (!options.output_path.empty()) check_output_writable(options.output_path);

  CUDA_CHECK(cudaSetDevice(options.device));
  const DeviceInfo device = query_device(options.device);
  SweepOptions sweep;
  sweep.quick = options.quick;
  sweep.cc_major = device.cc_major;
  sweep.cc_minor = device.cc_minor;
  log_progress("measuring %s (device %d of %d, compute capability %d.%d, %s sweep)", device.name.c_str(),
               options.device, device_count, device.cc_major, device.cc_minor, options.quick ? "quick" : "full");

  Report report;
  ramp_up_clocks(device.sm_count);
  report.kernel_launch_s = measure_kernel_launch();
  run_device_memory_sweep(sweep, device.sm_count, report);
  run_host_link_sweep(sweep, report);
  run_gemm_sweep(sweep, report);
  run_attention_sweep(sweep, report);
  const std::string allreduce_method = run_allreduce_sweep(sweep, options.device, report);

  std::string library = cublas_library_description();
#ifdef AIFSIM_MICROBENCH_HAVE_NCCL
  if (!report.allreduce.empty()) library += "; NCCL " + nccl_version_text();
#endif
  const std::string notes = format_string(
      "Measured by aifsim-microbench on CUDA device %d of %d (%s), %s sweep. software.driver is the CUDA "
      "version the driver supports (cudaDriverGetVersion); board_power_limit_w is not read (no NVML).",
      options.device, device_count, device.name.c_str(), options.quick ? "reduced (--quick)" : "full");
  write_output(options.output_path,
               profile_json(device, library, method_text(sweep, allreduce_method, report), notes, report));
  return 0;
}
