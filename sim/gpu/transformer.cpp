#include "gpu/transformer.hpp"

#include <cmath>

#include "core/error.hpp"

namespace aifsim::gpu {

namespace {
// Fused elementwise kernels per layer: 2 add+RMSNorm, rotary embedding, SiLU-and-multiply.
constexpr double ELEMENTWISE_KERNELS_PER_LAYER = 4;
// AdamW with bf16 weights and gradients and fp32 master weights and moments touches, per
// parameter: reads master 4 + gradient 2 + m 4 + v 4, writes master 4 + m 4 + v 4 +
// bf16 weight 2 = 28 bytes.
constexpr double ADAMW_BYTES_PER_PARAMETER = 28;
// Training state per parameter: bf16 weight 2 + bf16 gradient 2 + fp32 master, m, v 12
// (Rajbhandari et al., ZeRO, SC'20: "2 + 2 + 12" bytes per parameter).
constexpr double TRAINING_STATE_BYTES_PER_PARAMETER = 16;
// FlashAttention's backward runs five matrix products to the forward's two (dV, dP, the
// recomputed S, dQ, dK against QK^T and PV): 2.5 x the forward FLOPs.
constexpr double ATTENTION_BACKWARD_FACTOR = 2.5;
}  // namespace

nlohmann::json Prediction::to_json() const {
  return {{"time_s", time_s},
          {"memory_bytes", memory_bytes},
          {"flops", flops},
          {"kernels", kernels},
          {"operators_s",
           {{"gemm", ops.gemm_s},
            {"attention", ops.attention_s},
            {"elementwise", ops.elementwise_s},
            {"communication", ops.communication_s},
            {"optimizer", ops.optimizer_s},
            {"host_dispatch", ops.host_dispatch_s}}}};
}

TransformerCost::TransformerCost(const GpuModel& gpu, ModelCard card, int tp) : gpu_(gpu), card_(std::move(card)), tp_(tp) {
  if (tp_ < 1) throw InputError("--tp", "expected a positive number of GPUs");
  auto require_divides = [&](int value, const char* what) {
    if (value % tp_ != 0)
      throw InputError(card_.name, std::string(what) + " (" + std::to_string(value) + ") is not divisible by tp=" +
                                       std::to_string(tp_));
  };
  require_divides(card_.heads, "heads");
  require_divides(card_.intermediate, "intermediate");
  require_divides(card_.vocab, "vocab");
  if (!gpu_.has_gemm(card_.dtype))
    throw InputError(gpu_.profile().file, "has no " + to_string(card_.dtype) + " GEMM measurements, which " +
                                              card_.name + " (dtype " + to_string(card_.dtype) + ") needs");
  b_ = element_bytes(card_.dtype);
  q_heads_ = static_cast<double>(card_.heads) / tp_;
  // With fewer KV heads than GPUs, each GPU keeps a copy of the head its query heads use.
  kv_heads_ = std::max(1.0, static_cast<double>(card_.kv_heads) / tp_);
  head_dim_ = card_.head_dim;
  hidden_ = card_.hidden;
  inter_ = static_cast<double>(card_.intermediate) / tp_;
  vocab_ = static_cast<double>(card_.vocab) / tp_;
  layers_ = card_.layers;
  double layer_weights = hidden_ * (q_heads_ + 2 * kv_heads_) * head_dim_ + q_heads_ * head_dim_ * hidden_ +
                         3.0 * hidden_ * inter_ * card_.experts + (card_.experts > 1 ? hidden_ * card_.experts : 0.0) +
                         2.0 * hidden_;
  double embeddings = vocab_ * hidden_ * (card_.tied_embeddings ? 1 : 2);
  weight_bytes_ = (layers_ * layer_weights + embeddings + hidden_) * b_;
  kv_bytes_per_token_ = 2.0 * layers_ * kv_heads_ * head_dim_ * b_;
}

double TransformerCost::layer_gemm_time(double rows) const {
  const DType d = card_.dtype;
  double t = gpu_.gemm_time(rows, (q_heads_ + 2 * kv_heads_) * head_dim_, hidden_, d) +
             gpu_.gemm_time(rows, hidden_, q_heads_ * head_dim_, d);
  if (card_.experts <= 1) return t + gpu_.gemm_time(rows, 2 * inter_, hidden_, d) + gpu_.gemm_time(rows, hidden_, inter_, d);
  // Mixture of experts, routing assumed uniform: of E experts, each of the rows picks k,
  // so E (1 - (1 - k/E)^rows) experts are expected to receive tokens, sharing rows * k.
  const double e = card_.experts, k = card_.active_experts;
  double touched = e * (1.0 - std::pow(1.0 - k / e, rows));
  double per_expert = std::ceil(rows * k / touched);
  return t + gpu_.gemm_time(rows, e, hidden_, d) +
         touched * (gpu_.gemm_time(per_expert, 2 * inter_, hidden_, d) + gpu_.gemm_time(per_expert, hidden_, inter_, d));
}

TransformerCost::Attention TransformerCost::chunk_attention(double tokens, double context) const {
  // Query-key pairs: each new token sees the context and, causally, the new tokens up to itself.
  double pairs = tokens * context + tokens * (tokens + 1) / 2;
  Attention a;
  a.flops = 4.0 * pairs * q_heads_ * head_dim_;  // QK^T and PV, 2 FLOPs per multiply-add
  // Reads Q, K and V of the new tokens and the cached K and V; writes the output.
  a.bytes = b_ * head_dim_ * (2.0 * q_heads_ * tokens + 2.0 * kv_heads_ * (tokens + context));
  return a;
}

double TransformerCost::attention_time(const Attention& a, bool decode) const {
  if (a.flops == 0) return 0.0;
  double roofline = std::max(a.flops / gpu_.peak_flops(card_.dtype), gpu_.memory_time(a.bytes));
  return gpu_.attention_scale(decode) * roofline;
}

void TransformerCost::forward(double rows, double logit_rows, const Attention& attention, Prediction& p) const {
  const DType d = card_.dtype;
  const double kv = kv_heads_, q = q_heads_;
  double gemm = layers_ * layer_gemm_time(rows) + gpu_.gemm_time(logit_rows, vocab_, hidden_, d);
  double elementwise_layer = 2 * gpu_.memory_time(4 * rows * hidden_ * b_) +
                             gpu_.memory_time(2 * rows * (q + kv) * head_dim_ * b_) +
                             gpu_.memory_time(3 * rows * inter_ * card_.active_experts * b_);
  double elementwise = layers_ * elementwise_layer +
                       gpu_.memory_time(2 * rows * hidden_ * b_) +          // embedding gather
                       gpu_.memory_time(2 * rows * hidden_ * b_) +          // final norm
                       gpu_.memory_time(2 * logit_rows * vocab_ * 4);       // softmax / sampling on fp32 logits
  double communication = 0;
  if (tp_ > 1) {
    communication = layers_ * 2 * gpu_.allreduce_time(rows * hidden_ * b_, tp_) +
                    gpu_.allreduce_time(logit_rows * card_.vocab * b_, tp_) / 2;  // all-gather of logits
  }
  p.ops.gemm_s += gemm;
  p.ops.elementwise_s += elementwise;
  p.ops.communication_s += communication;
  double gemms_per_layer = card_.experts > 1 ? 3 + 2 * std::min<double>(card_.experts, rows * card_.active_experts) : 4;
  p.kernels += layers_ * (gemms_per_layer + 1 + ELEMENTWISE_KERNELS_PER_LAYER + (tp_ > 1 ? 2 : 0)) + 5;
  // Useful FLOPs: 2 per multiply-add of every GEMM row that is needed, plus attention.
  double active_layer_params = hidden_ * (q + 2 * kv) * head_dim_ + q * head_dim_ * hidden_ +
                               3.0 * hidden_ * inter_ * card_.active_experts;
  p.flops += 2 * rows * layers_ * active_layer_params + 2 * logit_rows * vocab_ * hidden_ + layers_ * attention.flops;
}

void TransformerCost::finish(Prediction& p, bool cuda_graph) const {
  double gpu = p.ops.gpu_s();
  p.ops.host_dispatch_s = cuda_graph ? 0.0 : std::max(0.0, p.kernels * gpu_.launch_s() - gpu);
  p.time_s = gpu + p.ops.host_dispatch_s;
}

Prediction TransformerCost::prefill(int batch, int prompt_tokens) const {
  if (batch <= 0 || prompt_tokens <= 0) throw InputError("prefill", "batch and prompt tokens must be positive");
  Prediction p;
  const double rows = static_cast<double>(batch) * prompt_tokens;
  Attention a = chunk_attention(prompt_tokens, 0);
  a.flops *= batch;
  a.bytes *= batch;
  forward(rows, batch, a, p);
  p.ops.attention_s = layers_ * attention_time(a, false);
  // Live: weights, the KV cache of the batch, and one layer's widest activations
  // (QKV output or the gate+up output) plus the fp32 logits of the last positions.
  double widest = std::max((q_heads_ + 2 * kv_heads_) * head_dim_, 3 * inter_ * card_.active_experts);
  p.memory_bytes = weight_bytes_ + kv_bytes_per_token_ * rows + rows * (hidden_ * 2 + widest) * b_ + batch * vocab_ * 4;
  finish(p, false);
  return p;
}

Prediction TransformerCost::decode(int batch, double total_context) const {
  if (batch <= 0 || total_context < 0) throw InputError("decode", "batch must be positive and context non-negative");
  Prediction p;
  Attention a;
  // Each sequence's new token attends to its cached context and to itself.
  a.flops = 4.0 * (total_context + batch) * q_heads_ * head_dim_;
  a.bytes = b_ * head_dim_ * (2.0 * q_heads_ * batch + 2.0 * kv_heads_ * (total_context + batch));
  forward(batch, batch, a, p);
  p.ops.attention_s = layers_ * attention_time(a, true);
  p.memory_bytes = weight_bytes_ + kv_bytes_per_token_ * (total_context + batch) +
                   batch * (hidden_ * 2 + 3 * inter_ * card_.active_experts) * b_ + batch * vocab_ * 4;
  finish(p, true);
  return p;
}

double TransformerCost::decode_time(int batch, double total_context) const {
  constexpr int CACHED_BATCHES = 1 << 14;
  if (batch <= 0 || batch >= CACHED_BATCHES) return decode(batch, total_context).time_s;
  if (decode_parts_.size() <= static_cast<std::size_t>(batch)) decode_parts_.resize(batch + 1);
  DecodeParts& parts = decode_parts_[batch];
  if (parts.gemm_s < 0) {
    Prediction p;
    forward(batch, batch, Attention{}, p);
    parts = DecodeParts{p.ops.gemm_s, p.ops.elementwise_s, p.ops.communication_s};
  }
  Attention a;
  a.flops = 4.0 * (total_context + batch) * q_heads_ * head_dim_;
  a.bytes = b_ * head_dim_ * (2.0 * q_heads_ * batch + 2.0 * kv_heads_ * (total_context + batch));
  const double attention = layers_ * attention_time(a, true);
  // Summed in OperatorTimes::gpu_s()'s order, so that it equals decode().time_s exactly.
  return parts.gemm_s + attention + parts.elementwise_s + parts.communication_s + 0.0;
}

Prediction TransformerCost::mixed(std::span<const PrefillChunk> chunks, int decodes, double decode_context_total) const {
  if (decodes < 0 || decode_context_total < 0) throw InputError("mixed", "negative decode count or context");
  Prediction p;
  double rows = decodes, context = decode_context_total + decodes;
  Attention prefill_part, decode_part;
  for (const auto& c : chunks) {
    if (c.tokens <= 0 || c.context < 0) throw InputError("mixed", "a prefill chunk needs positive tokens");
    Attention a = chunk_attention(c.tokens, c.context);
    prefill_part.flops += a.flops;
    prefill_part.bytes += a.bytes;
    rows += c.tokens;
    context += c.tokens + c.context;
  }
  if (rows == 0) return p;
  decode_part.flops = 4.0 * (decode_context_total + decodes) * q_heads_ * head_dim_;
  decode_part.bytes = b_ * head_dim_ * (2.0 * q_heads_ * decodes + 2.0 * kv_heads_ * (decode_context_total + decodes));
  // Every sequence in the batch that finishes its prompt or decodes needs logits.
  const double logit_rows = decodes + static_cast<double>(chunks.size());
  Attention total{prefill_part.flops + decode_part.flops, prefill_part.bytes + decode_part.bytes};
  forward(rows, logit_rows, total, p);
  p.ops.attention_s = layers_ * (attention_time(prefill_part, false) + attention_time(decode_part, true));
  p.memory_bytes = weight_bytes_ + kv_bytes_per_token_ * context +
                   rows * (hidden_ * 2 + std::max((q_heads_ + 2 * kv_heads_) * head_dim_, 3 * inter_ * card_.active_experts)) * b_ +
                   logit_rows * vocab_ * 4;
  finish(p, false);
  return p;
}

Prediction TransformerCost::train_step(int micro_batch, int seq_len) const {
  if (micro_batch <= 0 || seq_len <= 0) throw InputError("train", "micro-batch and sequence length must be positive");
  const DType d = card_.dtype;
  const double rows = static_cast<double>(micro_batch) * seq_len;
  Prediction p;
  Attention a = chunk_attention(seq_len, 0);
  a.flops *= micro_batch;
  a.bytes *= micro_batch;
  forward(rows, rows, a, p);
  const double forward_attention = layers_ * attention_time(a, false);
  p.ops.attention_s = forward_attention * (1 + ATTENTION_BACKWARD_FACTOR);
  // Backward of every GEMM Y[m,n] = X[m,k] W[k,n]: dX = dY W^T (m,k,n), dW = X^T dY (k,n,m).
  auto backward = [&](double m, double n, double k) { return gpu_.gemm_time(m, k, n, d) + gpu_.gemm_time(k, n, m, d); };
  double qkv_n = (q_heads_ + 2 * kv_heads_) * head_dim_;
  double layer_backward = backward(rows, qkv_n, hidden_) + backward(rows, hidden_, q_heads_ * head_dim_);
  if (card_.experts <= 1) {
    layer_backward += backward(rows, 2 * inter_, hidden_) + backward(rows, hidden_, inter_);
  } else {
    double per_expert = std::ceil(rows * card_.active_experts / card_.experts);
    layer_backward += backward(rows, card_.experts, hidden_) +
                      card_.experts * (backward(per_expert, 2 * inter_, hidden_) + backward(per_expert, hidden_, inter_));
  }
  p.ops.gemm_s += layers_ * layer_backward + backward(rows, vocab_, hidden_);
  // Elementwise backward reads the saved input and the incoming gradient and writes the
  // outgoing gradient: twice the forward traffic. The loss reads and writes the logits.
  p.ops.elementwise_s = 3 * p.ops.elementwise_s + 2 * gpu_.memory_time(3 * rows * vocab_ * 4);
  p.ops.communication_s *= 2;
  double parameters = weight_bytes_ / b_;
  p.ops.optimizer_s = gpu_.memory_time(ADAMW_BYTES_PER_PARAMETER * parameters);
  p.kernels = p.kernels * 3 + 1;
  p.flops *= 3;  // forward + backward (2 x forward)
  p.flops += layers_ * a.flops * (ATTENTION_BACKWARD_FACTOR - 2);
  // Saved for backward per token and layer (elements): the two norm inputs and outputs
  // (4 h), Q, K, V and the attention output (2 q + 2 kv dims), gate, up and activation
  // output (3 I); plus the fp32 logits of every position.
  double saved_per_token_layer = 4 * hidden_ + (2 * q_heads_ + 2 * kv_heads_) * head_dim_ + 3 * inter_ * card_.active_experts;
  p.memory_bytes = parameters * TRAINING_STATE_BYTES_PER_PARAMETER + layers_ * rows * saved_per_token_layer * b_ +
                   rows * vocab_ * 4;
  finish(p, false);
  return p;
}

nlohmann::json TransformerCost::assumptions() const {
  return {{"attention",
           gpu_.attention_calibrated(false) ? "prefill scaled by the profile's attention measurements"
                                            : "roofline: GEMM peak and memory bandwidth of the profile (no attention measurements)"},
          {"collectives", tp_ == 1 ? "none (tp=1)"
                                   : (gpu_.allreduce_calibrated(tp_)
                                          ? "ring all-reduce fitted on the profile's measurements"
                                          : "ring all-reduce at nominal NVLink-4 bandwidth (450 GB/s per direction), not calibrated")},
          {"decode", "CUDA graph: no host dispatch"},
          {"moe_routing", card_.experts > 1 ? "uniform over experts (expected experts touched)" : "dense"}};
}

}  // namespace aifsim::gpu
