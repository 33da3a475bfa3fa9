// GEMM and attention benchmarks of aifsim-microbench: everything that goes through cuBLAS or
// cuBLASLt. See README.md for what is measured and microbench.cuh for the timing method.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>

#include "microbench.cuh"

namespace aifsim::microbench {
namespace {

// ---------------------------------------------------------------------------------------
// Sweep shapes. They match the reference profile (shared/reference/gpu/h100-sxm-microbench.json)
// so that a new profile can be compared with it point by point.

constexpr long long SQUARE_SIZES[] = {256, 512, 1024, 2048, 4096, 8192, 16384};
constexpr long long QUICK_SQUARE_SIZES[] = {1024, 4096};
// Like the reference profile, fp32 and tf32 stop at 8192 (fp32 16384^3 is ~0.2 s per call).
constexpr long long FP32_MAX_SQUARE = 8192;

// Token counts of decode (1..512) and of a prefill chunk (2048) against the projection
// shapes of a Llama-3-8B-class model: (n, k) = Q/O projection, MLP up/gate, MLP down, fused
// QKV, LM head.
constexpr long long SKINNY_M[] = {1, 8, 32, 128, 256, 512, 2048};
constexpr long long QUICK_SKINNY_M[] = {1, 128, 2048};
struct NkPair {
  long long n, k;
};
constexpr NkPair SKINNY_NK[] = {{4096, 4096}, {14336, 4096}, {4096, 14336}, {6144, 4096}, {128256, 4096}};
constexpr NkPair QUICK_SKINNY_NK[] = {{4096, 4096}, {14336, 4096}};

struct GemmShape {
  long long m, n, k;
};

std::vector<GemmShape> gemm_shapes(bool quick, long long max_square) {
  std::vector<GemmShape> shapes;
  auto add_squares = [&](const auto& sizes) {
    for (long long s : sizes)
      if (s <= max_square) shapes.push_back({s, s, s});
  };
  auto add_skinny = [&](const auto& nk_pairs, const auto& ms) {
    for (const NkPair& nk : nk_pairs)
      for (long long m : ms) shapes.push_back({m, nk.n, nk.k});
  };
  if (quick) {
    add_squares(QUICK_SQUARE_SIZES);
    add_skinny(QUICK_SKINNY_NK, QUICK_SKINNY_M);
  } else {
    add_squares(SQUARE_SIZES);
    add_skinny(SKINNY_NK, SKINNY_M);
  }
  return shapes;
}

// ---------------------------------------------------------------------------------------
// Input data. GEMM power draw, and hence clocks, depend on the data (all-zero inputs run
// cooler and faster), so inputs are pseudo-random like real activations and weights.

__device__ float uniform_from_index(std::size_t index, std::uint32_t seed) {
  // A 32-bit integer hash (lowbias32) of the index; plenty for benchmark inputs.
  std::uint32_t x = static_cast<std::uint32_t>(index) ^ static_cast<std::uint32_t>(index >> 32) ^ seed;
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return static_cast<float>(x) * (2.0f / 4294967296.0f) - 1.0f;  // [-1, 1]
}

template <class T>
__device__ T from_float(float value) {
  return T(value);
}
template <>
__device__ __half from_float<__half>(float value) {
  return __float2half(value);
}
template <>
__device__ __nv_bfloat16 from_float<__nv_bfloat16>(float value) {
  return __float2bfloat16(value);
}

template <class T>
__global__ void fill_uniform_kernel(T* data, std::size_t count, std::uint32_t seed) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    data[i] = from_float<T>(uniform_from_index(i, seed));
}

template <class T>
void fill_uniform_typed(void* data, std::size_t count, std::uint32_t seed) {
  constexpr int THREADS = 256;
  constexpr std::size_t MAX_BLOCKS = 65536;  // grid-stride loop covers the rest
  const std::size_t blocks = std::min(MAX_BLOCKS, (count + THREADS - 1) / THREADS);
  fill_uniform_kernel<T><<<static_cast<unsigned>(blocks), THREADS>>>(static_cast<T*>(data), count, seed);
  CUDA_CHECK(cudaGetLastError());
}

// Fills `count` elements of `type` with values uniform in [-1, 1].
void fill_uniform(void* data, cudaDataType_t type, std::size_t count, std::uint32_t seed) {
  switch (type) {
    case CUDA_R_32F:
      fill_uniform_typed<float>(data, count, seed);
      break;
    case CUDA_R_16F:
      fill_uniform_typed<__half>(data, count, seed);
      break;
    case CUDA_R_16BF:
      fill_uniform_typed<__nv_bfloat16>(data, count, seed);
      break;
    case CUDA_R_8F_E4M3:
      fill_uniform_typed<__nv_fp8_e4m3>(data, count, seed);
      break;
    default:
      fail_call("fill_uniform", "unsupported data type", __FILE__, __LINE__);
  }
}

// ---------------------------------------------------------------------------------------
// cuBLAS state shared by the GEMM and attention sweeps.

class BlasContext {
 public:
  BlasContext() : workspace_(CUBLAS_WORKSPACE_BYTES) {
    CUBLAS_CHECK(cublasCreate(&blas_));
    CUBLAS_CHECK(cublasLtCreate(&lt_));
    // One explicit workspace so that cuBLAS does not allocate its own per stream; the
    // handle stays on the legacy default stream like the rest of the benchmarks.
    CUBLAS_CHECK(cublasSetWorkspace(blas_, workspace_.get(), workspace_.bytes()));
  }
  ~BlasContext() {
    CUBLAS_CHECK(cublasLtDestroy(lt_));
    CUBLAS_CHECK(cublasDestroy(blas_));
  }
  BlasContext(const BlasContext&) = delete;
  BlasContext& operator=(const BlasContext&) = delete;

  cublasHandle_t blas() const { return blas_; }
  cublasLtHandle_t lt() const { return lt_; }
  void* workspace() const { return workspace_.get(); }
  std::size_t workspace_bytes() const { return workspace_.bytes(); }

 private:
  DeviceBuffer workspace_;  // the handles are destroyed before it is freed
  cublasHandle_t blas_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
};

// ---------------------------------------------------------------------------------------
// GEMM.

struct GemmDtype {
  const char* name;
  cudaDataType_t input_type;
  cudaDataType_t output_type;
  cublasComputeType_t compute_type;
  std::size_t input_bytes;
  std::size_t output_bytes;
  bool uses_cublaslt;  // fp8 has no cublasGemmEx path
};

constexpr GemmDtype GEMM_DTYPES[] = {
    {"bf16", CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 2, 2, false},
    {"fp16", CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F, 2, 2, false},
    {"fp8", CUDA_R_8F_E4M3, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 1, 2, true},
    {"tf32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4, 4, false},
    {"fp32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 4, 4, false},
};

// Row-major C[m,n] = A[m,k] B[k,n] through cublasGemmEx. cuBLAS is column-major, where the
// row-major C is C^T = B^T A^T and each row-major operand already is its own transpose, so
// the call passes B before A, swaps m and n, and transposes nothing.
void gemm_row_major(const BlasContext& ctx, const GemmDtype& dtype, const GemmShape& s, const void* a, const void* b,
                    void* c) {
  const float alpha = 1.0f;
  const float beta = 0.0f;
  CUBLAS_CHECK(cublasGemmEx(ctx.blas(), CUBLAS_OP_N, CUBLAS_OP_N, int(s.n), int(s.m), int(s.k), &alpha, b,
                            dtype.input_type, int(s.n), a, dtype.input_type, int(s.k), &beta, c, dtype.output_type,
                            int(s.n), dtype.compute_type, CUBLAS_GEMM_DEFAULT));
}

// fp8 (e4m3) GEMM through cuBLASLt: e4m3 A and B, bf16 C/D, fp32 compute and scale, unit
// scales, fast accumulation off. cuBLASLt supports fp8 only in the "TN" layout (column-major
// op(A) = T, op(B) = N), i.e. both operands K-major. So B is stored transposed, as row-major
// Bt[n,k] (the usual [out_features, in_features] weight layout), and the column-major call
// computes C^T[n,m] = T(Bt) * A^T with Bt (k x n, ld k) as cuBLASLt's A and the row-major
// A[m,k] (k x m, ld k) as its B. Same m, n, k and FLOPs as the other dtypes.
class Fp8Gemm {
 public:
  Fp8Gemm(const BlasContext& ctx, const GemmShape& s) : ctx_(ctx) {
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t transpose = CUBLAS_OP_T;
    const cublasOperation_t no_transpose = CUBLAS_OP_N;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof(transpose)));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &no_transpose, sizeof(no_transpose)));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&bt_layout_, CUDA_R_8F_E4M3, std::uint64_t(s.k), std::uint64_t(s.n), s.k));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a_layout_, CUDA_R_8F_E4M3, std::uint64_t(s.k), std::uint64_t(s.m), s.k));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&c_layout_, CUDA_R_16BF, std::uint64_t(s.n), std::uint64_t(s.m), s.n));

    cublasLtMatmulPreference_t preference = nullptr;
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
    const std::size_t workspace_bytes = ctx.workspace_bytes();
    CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                      &workspace_bytes, sizeof(workspace_bytes)));
    cublasLtMatmulHeuristicResult_t result{};
    int returned = 0;
    const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(ctx.lt(), op_, bt_layout_, a_layout_, c_layout_,
                                                                 c_layout_, preference, 1, &result, &returned);
    CUBLAS_CHECK(cublasLtMatmulPreferenceDestroy(preference));
    // "Not supported" is an answer (e.g. a shape no fp8 kernel handles), not an error.
    if (status != CUBLAS_STATUS_NOT_SUPPORTED) CUBLAS_CHECK(status);
    if (status == CUBLAS_STATUS_SUCCESS && returned > 0) algo_ = result.algo;
  }
  ~Fp8Gemm() {
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(c_layout_));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(a_layout_));
    CUBLAS_CHECK(cublasLtMatrixLayoutDestroy(bt_layout_));
    CUBLAS_CHECK(cublasLtMatmulDescDestroy(op_));
  }
  Fp8Gemm(const Fp8Gemm&) = delete;
  Fp8Gemm& operator=(const Fp8Gemm&) = delete;

  bool supported() const { return algo_.has_value(); }

  void run(const void* a, const void* bt, void* c) const {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    CUBLAS_CHECK(cublasLtMatmul(ctx_.lt(), op_, &alpha, bt, bt_layout_, a, a_layout_, &beta, c, c_layout_, c, c_layout_,
                                &*algo_, ctx_.workspace(), ctx_.workspace_bytes(), 0));
  }

 private:
  const BlasContext& ctx_;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t bt_layout_ = nullptr;
  cublasLtMatrixLayout_t a_layout_ = nullptr;
  cublasLtMatrixLayout_t c_layout_ = nullptr;
  std::optional<cublasLtMatmulAlgo_t> algo_;
};

std::string shape_text(const GemmShape& s) { return format_string("m=%lld n=%lld k=%lld", s.m, s.n, s.k); }

// Measures one GEMM; returns nothing when the shape has to be skipped (noted in the report).
std::optional<double> time_gemm(const BlasContext& ctx, const GemmDtype& dtype, const GemmShape& s, Report& report) {
  const std::size_t a_bytes = std::size_t(s.m * s.k) * dtype.input_bytes;
  const std::size_t b_bytes = std::size_t(s.k * s.n) * dtype.input_bytes;
  const std::size_t c_bytes = std::size_t(s.m * s.n) * dtype.output_bytes;
  if (!device_memory_fits(a_bytes + b_bytes + c_bytes)) {
    report.method_notes.push_back(format_string("Skipped gemm %s %s: %.2f GiB of device memory not free.", dtype.name,
                                                shape_text(s).c_str(), to_gib(a_bytes + b_bytes + c_bytes)));
    return std::nullopt;
  }
  DeviceBuffer a(a_bytes);
  DeviceBuffer b(b_bytes);
  DeviceBuffer c(c_bytes);
  fill_uniform(a.get(), dtype.input_type, std::size_t(s.m * s.k), 1);
  fill_uniform(b.get(), dtype.input_type, std::size_t(s.k * s.n), 2);

  if (!dtype.uses_cublaslt)
    return median_time_per_op_s([&] { gemm_row_major(ctx, dtype, s, a.get(), b.get(), c.get()); });

  const Fp8Gemm fp8(ctx, s);  // `b` holds Bt[n,k]; its contents are random either way
  if (!fp8.supported()) {
    report.method_notes.push_back(
        format_string("Skipped gemm fp8 %s: cuBLASLt has no fp8 algorithm for it.", shape_text(s).c_str()));
    return std::nullopt;
  }
  return median_time_per_op_s([&] { fp8.run(a.get(), b.get(), c.get()); });
}

// ---------------------------------------------------------------------------------------
// Attention: unfused ("eager") attention for grouped-query heads, the way a framework without
// a fused kernel runs it: S = Q K^T / sqrt(d) and O = P V as strided-batched cuBLAS GEMMs with
// a row softmax kernel in between. A fused FlashAttention-style kernel would be faster; this
// is the cost without one.
//
// Layouts (row-major, bf16): Q and O [batch, heads, q_len, d]; K and V [batch, kv_heads,
// kv_len, d]; S/P [batch, heads, q_len, kv_len]. Query heads h = g*group .. g*group+group-1
// (group = heads / kv_heads) share kv head g and are contiguous in Q, so they are stacked into
// the M dimension of one GEMM per (batch, kv head): M = group * q_len rows, batch count =
// batch * kv_heads, with constant strides. Row r of such a block is query position r % q_len.

constexpr int ATTENTION_HEADS = 32;
constexpr int ATTENTION_KV_HEADS = 8;
constexpr int ATTENTION_HEAD_DIM = 128;
constexpr int SOFTMAX_THREADS = 256;
constexpr int MAX_SOFTMAX_ROW = 8192;  // a row is staged in shared memory as fp32 (32 KiB)

struct AttentionShape {
  const char* phase;
  int batch;
  int q_len;
  int kv_len;
  bool causal;
};

std::vector<AttentionShape> attention_shapes(bool quick) {
  if (quick) return {{"prefill", 1, 512, 512, true}, {"decode", 32, 1, 4096, false}};
  std::vector<AttentionShape> shapes;
  for (int batch : {1, 8})
    for (int len : {512, 2048}) shapes.push_back({"prefill", batch, len, len, true});
  // A single decode query sees the whole context, so there is nothing to mask.
  for (int batch : {1, 32, 128})
    for (int kv_len : {512, 4096}) shapes.push_back({"decode", batch, 1, kv_len, false});
  return shapes;
}

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// Reduces one value per thread over the block; every thread gets the result.
template <class Combine>
__device__ float block_reduce(float value, Combine combine, float* scratch /* [32] */) {
  for (int offset = 16; offset > 0; offset /= 2) value = combine(value, __shfl_xor_sync(0xffffffffU, value, offset));
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  value = scratch[0];
  for (int w = 1; w < int(blockDim.x / 32); ++w) value = combine(value, scratch[w]);
  __syncthreads();  // scratch is reused by the next reduction
  return value;
}

// One block per score row: stages the row in shared memory as fp32, masks keys after the
// query's position when causal, and writes the probabilities back in place as bf16.
// Query position i (of q_len) sits at context position i + kv_len - q_len.
__global__ void softmax_rows_kernel(__nv_bfloat16* scores, int q_len, int kv_len, bool causal) {
  extern __shared__ float row_values[];
  __shared__ float scratch[32];
  __nv_bfloat16* row = scores + std::size_t(blockIdx.x) * kv_len;
  const int q_pos = int(blockIdx.x % unsigned(q_len));
  const int last_visible = causal ? q_pos + (kv_len - q_len) : kv_len - 1;

  float local_max = -INFINITY;
  for (int j = threadIdx.x; j < kv_len; j += blockDim.x) {
    const float value = j <= last_visible ? __bfloat162float(row[j]) : -INFINITY;
    row_values[j] = value;
    local_max = fmaxf(local_max, value);
  }
  const float row_max = block_reduce(local_max, MaxOp{}, scratch);

  // Each thread only revisits its own elements, so no barrier is needed between passes.
  float local_sum = 0.0f;
  for (int j = threadIdx.x; j < kv_len; j += blockDim.x) {
    const float e = __expf(row_values[j] - row_max);
    row_values[j] = e;
    local_sum += e;
  }
  const float inverse_sum = 1.0f / block_reduce(local_sum, SumOp{}, scratch);

  for (int j = threadIdx.x; j < kv_len; j += blockDim.x) row[j] = __float2bfloat16(row_values[j] * inverse_sum);
}

std::string attention_text(const AttentionShape& s) {
  return format_string("%s batch=%d q_len=%d kv_len=%d", s.phase, s.batch, s.q_len, s.kv_len);
}

std::optional<double> time_attention(const BlasContext& ctx, const AttentionShape& s, Report& report) {
  constexpr int HEADS = ATTENTION_HEADS;
  constexpr int D = ATTENTION_HEAD_DIM;
  constexpr int GROUP = ATTENTION_HEADS / ATTENTION_KV_HEADS;
  static_assert(ATTENTION_HEADS % ATTENTION_KV_HEADS == 0, "query heads must split evenly over kv heads");

  const std::size_t q_elems = std::size_t(s.batch) * HEADS * s.q_len * D;
  const std::size_t kv_elems = std::size_t(s.batch) * ATTENTION_KV_HEADS * s.kv_len * D;
  const std::size_t s_elems = std::size_t(s.batch) * HEADS * s.q_len * s.kv_len;
  const std::size_t bytes = sizeof(__nv_bfloat16) * (2 * q_elems + 2 * kv_elems + s_elems);
  if (!device_memory_fits(bytes)) {
    report.method_notes.push_back(format_string("Skipped attention %s: %.2f GiB of device memory not free.",
                                                attention_text(s).c_str(), to_gib(bytes)));
    return std::nullopt;
  }
  if (s.kv_len > MAX_SOFTMAX_ROW) fail_call("time_attention", "kv_len exceeds MAX_SOFTMAX_ROW", __FILE__, __LINE__);

  DeviceBuffer q(q_elems * sizeof(__nv_bfloat16));
  DeviceBuffer k(kv_elems * sizeof(__nv_bfloat16));
  DeviceBuffer v(kv_elems * sizeof(__nv_bfloat16));
  DeviceBuffer scores(s_elems * sizeof(__nv_bfloat16));
  DeviceBuffer out(q_elems * sizeof(__nv_bfloat16));
  fill_uniform(q.get(), CUDA_R_16BF, q_elems, 3);
  fill_uniform(k.get(), CUDA_R_16BF, kv_elems, 4);
  fill_uniform(v.get(), CUDA_R_16BF, kv_elems, 5);

  const int rows = GROUP * s.q_len;  // M of each batched GEMM
  const int batch_count = s.batch * ATTENTION_KV_HEADS;
  const long long q_stride = static_cast<long long>(rows) * D;
  const long long kv_stride = static_cast<long long>(s.kv_len) * D;
  const long long s_stride = static_cast<long long>(rows) * s.kv_len;
  const unsigned softmax_blocks = unsigned(s.batch) * HEADS * unsigned(s.q_len);
  const std::size_t softmax_shared = std::size_t(s.kv_len) * sizeof(float);
  const float scale = 1.0f / std::sqrt(float(D));
  const float one = 1.0f;
  const float zero = 0.0f;

  auto attention = [&] {
    // S = scale * Q K^T; column-major: S^T[kv_len, rows] = (K as d x kv_len)^T * (Q as d x rows).
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(ctx.blas(), CUBLAS_OP_T, CUBLAS_OP_N, s.kv_len, rows, D, &scale, k.get(),
                                            CUDA_R_16BF, D, kv_stride, q.get(), CUDA_R_16BF, D, q_stride, &zero,
                                            scores.get(), CUDA_R_16BF, s.kv_len, s_stride, batch_count,
                                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    softmax_rows_kernel<<<softmax_blocks, SOFTMAX_THREADS, softmax_shared>>>(scores.as<__nv_bfloat16>(), s.q_len,
                                                                             s.kv_len, s.causal);
    // O = P V; column-major: O^T[d, rows] = (V as d x kv_len) * (P as kv_len x rows).
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(ctx.blas(), CUBLAS_OP_N, CUBLAS_OP_N, D, rows, s.kv_len, &one, v.get(),
                                            CUDA_R_16BF, D, kv_stride, scores.get(), CUDA_R_16BF, s.kv_len, s_stride,
                                            &zero, out.get(), CUDA_R_16BF, D, q_stride, batch_count, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
  };
  return median_time_per_op_s(attention);
}

// "a, b, c" from a list of numbers.
template <class Range>
std::string join_numbers(const Range& values) {
  std::string text;
  for (const auto value : values) text += (text.empty() ? "" : ", ") + std::to_string(value);
  return text;
}

template <class Range>
std::string join_nk_pairs(const Range& pairs) {
  std::string text;
  for (const NkPair& nk : pairs) text += format_string("%s(%lld, %lld)", text.empty() ? "" : ", ", nk.n, nk.k);
  return text;
}

}  // namespace

std::string blas_method_description(const SweepOptions& options) {
  std::string text = format_string(
      "GEMM inputs are uniform random in [-1, 1]; cublasGemmEx with CUBLAS_GEMM_DEFAULT and a %zu MiB "
      "workspace (cublasSetWorkspace) computes the row-major product as the column-major C^T = B^T A^T "
      "(operands swapped, no transposes). fp8: e4m3 A and B, bf16 C, fp32 compute and scale, unit scales, "
      "fast accumulation off, cublasLtMatmul with the first heuristic algorithm and the same workspace; "
      "cuBLASLt fp8 supports only the TN layout, so B is stored transposed (row-major [n,k], both operands "
      "K-major) and passed as cuBLASLt's A with transa=T, with the row-major A as its B (transb=N): same m, "
      "n, k and FLOPs. ",
      CUBLAS_WORKSPACE_BYTES / MIB);
  if (options.quick) {
    text += format_string("Reduced sweep (--quick): square GEMMs %s; m in {%s} for (n, k) in {%s}. ",
                          join_numbers(QUICK_SQUARE_SIZES).c_str(), join_numbers(QUICK_SKINNY_M).c_str(),
                          join_nk_pairs(QUICK_SKINNY_NK).c_str());
  } else {
    text += format_string("Square GEMMs %s (fp32 and tf32 up to %lld); m in {%s} for (n, k) in {%s}. ",
                          join_numbers(SQUARE_SIZES).c_str(), FP32_MAX_SQUARE, join_numbers(SKINNY_M).c_str(),
                          join_nk_pairs(SKINNY_NK).c_str());
  }
  text += format_string(
      "Attention (bf16, unfused; one figure = both GEMMs and the softmax): S = Q K^T / sqrt(head_dim) by "
      "cublasGemmStridedBatchedEx (bf16 in and out, CUBLAS_COMPUTE_32F), a row softmax kernel (one %d-thread "
      "block per row, fp32 math, in place, causal mask for prefill), then O = P V the same way. Q and O are "
      "[batch, heads, q_len, head_dim], K and V [batch, kv_heads, kv_len, head_dim]; the heads / kv_heads "
      "query heads that share a kv head are stacked into the M dimension of one GEMM (batch count = batch x "
      "kv_heads), and the GEMMs compute all q_len x kv_len scores, masked ones included.",
      SOFTMAX_THREADS);
  return text;
}

void run_gemm_sweep(const SweepOptions& options, Report& report) {
  const BlasContext ctx;
  const bool has_fp8 = options.cc_major * 10 + options.cc_minor >= 89;
  if (!has_fp8)
    report.method_notes.push_back(
        format_string("fp8 GEMM skipped: compute capability %d.%d is below 8.9 (no fp8 tensor cores).",
                      options.cc_major, options.cc_minor));

  for (const GemmDtype& dtype : GEMM_DTYPES) {
    if (dtype.uses_cublaslt && !has_fp8) continue;
    const bool is_fp32_data = dtype.input_type == CUDA_R_32F;
    const long long max_square = is_fp32_data ? FP32_MAX_SQUARE : SQUARE_SIZES[std::size(SQUARE_SIZES) - 1];
    for (const GemmShape& shape : gemm_shapes(options.quick, max_square)) {
      const std::optional<double> time_s = time_gemm(ctx, dtype, shape, report);
      if (!time_s) continue;
      report.gemm.push_back({dtype.name, shape.m, shape.n, shape.k, *time_s});
      const double tflops = 2.0 * double(shape.m) * double(shape.n) * double(shape.k) / *time_s * 1e-12;
      log_progress("gemm %-4s %-28s %12.3f us %8.1f TFLOP/s", dtype.name, shape_text(shape).c_str(), *time_s * 1e6,
                   tflops);
    }
  }
}

void run_attention_sweep(const SweepOptions& options, Report& report) {
  const BlasContext ctx;
  for (const AttentionShape& shape : attention_shapes(options.quick)) {
    const std::optional<double> time_s = time_attention(ctx, shape, report);
    if (!time_s) continue;
    report.attention.push_back({shape.phase, "bf16", shape.batch, ATTENTION_HEADS, ATTENTION_KV_HEADS,
                                ATTENTION_HEAD_DIM, shape.q_len, shape.kv_len, shape.causal, *time_s});
    log_progress("attention %-36s %12.3f us", attention_text(shape).c_str(), *time_s * 1e6);
  }
}

std::string cublas_library_description() {
  int major = 0;
  int minor = 0;
  int patch = 0;
  CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &major));
  CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &minor));
  CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &patch));
  return format_string(
      "cuBLAS %d.%d.%d (cublasGemmEx, CUBLAS_GEMM_DEFAULT, 64 MiB workspace; "
      "fp8 via cublasLtMatmul)",
      major, minor, patch);
}

}  // namespace aifsim::microbench
