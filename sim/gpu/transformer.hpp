// Transformer cost model: times and memory of a decoder-only model's prefill, decode,
// mixed (continuous-batching) and training iterations on one GPU of a tensor-parallel
// group, composed from the fitted GpuModel operator by operator.
//
// Per layer: fused add + RMSNorm, QKV GEMM, rotary embedding, attention (grouped-query
// heads), output GEMM, all-reduce (tensor parallel), fused add + RMSNorm, gate+up GEMM,
// SiLU-and-multiply, down GEMM (or the routed experts of a mixture of experts), all-reduce.
// Then the final norm and the head over the rows that need logits (the last position of
// each prompt when serving; every position when training). Tensor parallelism splits
// heads, the MLP and the vocabulary over `tp` GPUs (Megatron-style).
//
// Eager iterations pay host dispatch when kernels are shorter than their launch:
// time = max(GPU time, kernels x launch). A decode step runs as a CUDA graph: no dispatch.
#pragma once
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"

namespace aifsim::gpu {

struct OperatorTimes {
  double gemm_s = 0, attention_s = 0, elementwise_s = 0, communication_s = 0, optimizer_s = 0, host_dispatch_s = 0;
  double gpu_s() const { return gemm_s + attention_s + elementwise_s + communication_s + optimizer_s; }
};

struct Prediction {
  double time_s = 0;
  double memory_bytes = 0;  // peak device memory on one GPU
  double flops = 0;         // useful FLOPs on one GPU (no padding, no recompute)
  double kernels = 0;
  OperatorTimes ops;
  nlohmann::json to_json() const;
};

// `tokens` new tokens of one sequence that has `context` tokens cached before them.
struct PrefillChunk {
  double tokens = 0, context = 0;
};

class TransformerCost {
 public:
  // Throws InputError when `tp` does not divide the model's heads, MLP and vocabulary.
  TransformerCost(const GpuModel& gpu, ModelCard card, int tp = 1);

  // A batch of `batch` prompts of `prompt_tokens` each, logits for the last position only.
  Prediction prefill(int batch, int prompt_tokens) const;
  // One decode iteration (CUDA graph) of `batch` sequences with `total_context` cached
  // tokens between them (each sequence attends to its own context plus its new token).
  Prediction decode(int batch, double total_context) const;
  // decode(batch, total_context).time_s, with the part that depends on the batch size alone
  // (GEMMs, elementwise kernels, all-reduces) computed once per batch size: serving asks
  // for millions of decode steps.
  double decode_time(int batch, double total_context) const;
  // One continuous-batching iteration: prefill chunks plus `decodes` decoding sequences.
  Prediction mixed(std::span<const PrefillChunk> chunks, int decodes, double decode_context_total) const;
  // One training step on a micro-batch: forward, backward, AdamW; logits for every position.
  Prediction train_step(int micro_batch, int seq_len) const;

  double weight_bytes() const { return weight_bytes_; }          // on one GPU
  double kv_bytes_per_token() const { return kv_bytes_per_token_; }  // on one GPU, all layers
  const ModelCard& card() const { return card_; }
  int tp() const { return tp_; }
  nlohmann::json assumptions() const;

 private:
  struct Attention {
    double flops = 0, bytes = 0;  // per layer, on one GPU
  };
  // One forward pass over `rows` token rows, `logit_rows` of which need logits; adds all
  // but the attention time (its phase decides calibration), which the caller adds.
  void forward(double rows, double logit_rows, const Attention& attention, Prediction& p) const;
  double layer_gemm_time(double rows) const;
  double attention_time(const Attention& a, bool decode) const;
  Attention chunk_attention(double tokens, double context) const;
  void finish(Prediction& p, bool cuda_graph) const;

  const GpuModel& gpu_;
  ModelCard card_;
  int tp_;
  double b_;  // bytes per element
  double q_heads_, kv_heads_, head_dim_, hidden_, inter_, vocab_, layers_;
  double weight_bytes_ = 0, kv_bytes_per_token_ = 0;
  struct DecodeParts {
    double gemm_s = -1, elementwise_s = 0, communication_s = 0;
  };
  mutable std::vector<DecodeParts> decode_parts_;  // by batch size
};

}  // namespace aifsim::gpu
