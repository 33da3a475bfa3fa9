#include <gtest/gtest.h>

#include "core/error.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"

using namespace aifsim;
using namespace aifsim::gpu;

namespace {
const std::string ROOT = AIFSIM_SOURCE_DIR;
const GpuModel& h100() {
  static GpuModel model(load_profile(ROOT + "/calibration/profiles/h100-sxm.json"));
  return model;
}
ModelCard card(const std::string& name) { return load_model_card(ROOT + "/workloads/models/" + name + ".json"); }
}  // namespace

// Parameter counts published with the models (Hugging Face model pages): an independent
// check of the shapes the cost model composes.
TEST(ModelCard, ParameterCountsMatchThePublishedOnes) {
  EXPECT_DOUBLE_EQ(card("llama3-8b").parameters(), 8030261248.0);
  EXPECT_DOUBLE_EQ(card("llama3-70b").parameters(), 70553706496.0);
  EXPECT_DOUBLE_EQ(card("llama3.2-1b").parameters(), 1235814400.0);
  EXPECT_DOUBLE_EQ(card("mixtral-8x7b").parameters(), 46702792704.0);
  // Mixtral routes each token through 2 of 8 experts: about 12.9 B active parameters.
  EXPECT_NEAR(card("mixtral-8x7b").active_parameters() / 1e9, 12.9, 0.1);
}

TEST(Transformer, MemoryFigures) {
  TransformerCost c(h100(), card("llama3-8b"), 1);
  // KV cache: 2 (K, V) x 32 layers x 8 KV heads x 128 dims x 2 bytes = 128 KiB per token.
  EXPECT_DOUBLE_EQ(c.kv_bytes_per_token(), 131072.0);
  EXPECT_DOUBLE_EQ(c.weight_bytes(), 2 * 8030261248.0);
  TransformerCost c4(h100(), card("llama3-70b"), 4);
  // 8 KV heads over 4 GPUs: 2 heads each.
  EXPECT_DOUBLE_EQ(c4.kv_bytes_per_token(), 2.0 * 80 * 2 * 128 * 2);
  EXPECT_NEAR(c4.weight_bytes() / (2 * 70553706496.0), 0.25, 0.01);
}

// Decode at batch 1 streams every weight once: it is bound by memory bandwidth.
TEST(Transformer, SmallBatchDecodeIsMemoryBound) {
  TransformerCost c(h100(), card("llama3-8b"), 1);
  auto p = c.decode(1, 1024);
  double stream = c.weight_bytes() / h100().memory_bw_Bps();
  EXPECT_GT(p.time_s, stream);
  EXPECT_LT(p.time_s, 1.25 * stream);
  EXPECT_EQ(p.ops.host_dispatch_s, 0.0);  // CUDA graph
}

// Prefill of many tokens is bound by GEMM throughput.
TEST(Transformer, LargePrefillIsComputeBound) {
  TransformerCost c(h100(), card("llama3-8b"), 1);
  auto p = c.prefill(8, 2048);
  double compute = p.flops / h100().peak_flops(DType::BF16);
  EXPECT_GT(p.time_s, compute);
  EXPECT_LT(p.time_s, 1.35 * compute);
  // 2 FLOPs per non-embedding parameter (6.98 B) per token, plus attention and the head.
  EXPECT_GT(p.flops, 2 * 6.98e9 * 8 * 2048);
  EXPECT_LT(p.flops, 2 * 8.03e9 * 8 * 2048);
}

TEST(Transformer, ScalesTheRightWay) {
  TransformerCost c(h100(), card("llama3-8b"), 1);
  EXPECT_LT(c.decode(32, 32 * 512).time_s, c.decode(32, 32 * 4096).time_s);
  EXPECT_LT(c.prefill(1, 512).time_s, c.prefill(1, 4096).time_s);
  // Batching decodes amortises the weights: 64 sequences cost far less than 64 x 1.
  EXPECT_LT(c.decode(64, 64 * 1024).time_s, 4 * c.decode(1, 1024).time_s);
  TransformerCost c2(h100(), card("llama3-8b"), 2);
  auto one = c.prefill(4, 2048), two = c2.prefill(4, 2048);
  EXPECT_LT(two.ops.gemm_s, 0.6 * one.ops.gemm_s);
  EXPECT_GT(two.ops.communication_s, 0.0);
  // A training step is about 3 x the forward FLOPs and takes longer than a prefill of the same tokens.
  auto train = c.train_step(1, 4096);
  EXPECT_GT(train.time_s, 2.5 * c.prefill(1, 4096).time_s);
  EXPECT_GT(train.ops.optimizer_s, 0.0);
}

TEST(Transformer, MixedIterationAddsBothParts) {
  TransformerCost c(h100(), card("llama3-8b"), 1);
  std::vector<PrefillChunk> chunks = {{512, 0}, {256, 1024}};
  auto mixed = c.mixed(chunks, 16, 16 * 700);
  auto decode_only = c.decode(16, 16 * 700);
  EXPECT_GT(mixed.time_s, decode_only.time_s);
  EXPECT_GT(mixed.ops.attention_s, decode_only.ops.attention_s);
  // One chunk equal to a whole prompt costs like that prompt's prefill (same rows).
  std::vector<PrefillChunk> whole = {{1024, 0}};
  EXPECT_NEAR(c.mixed(whole, 0, 0).ops.gemm_s, c.prefill(1, 1024).ops.gemm_s, 1e-12);
}

TEST(Transformer, MixtureOfExpertsDecodeTouchesOnlySomeExperts) {
  TransformerCost moe(h100(), card("mixtral-8x7b"), 1);
  // Batch 1: 2 of 8 experts run; the weights read are close to the active parameters.
  auto p = moe.decode(1, 512);
  double active = card("mixtral-8x7b").active_parameters() * 2 / h100().memory_bw_Bps();
  EXPECT_GT(p.time_s, active);
  EXPECT_LT(p.time_s, 1.4 * active);
  // A large batch touches every expert.
  EXPECT_GT(moe.decode(64, 64 * 512).ops.gemm_s, 3 * p.ops.gemm_s);
}

TEST(Transformer, BadArguments) {
  EXPECT_THROW(TransformerCost(h100(), card("llama3-8b"), 3), InputError);  // 32 heads over 3 GPUs
  TransformerCost c(h100(), card("llama3-8b"), 1);
  EXPECT_THROW(c.prefill(0, 10), InputError);
  EXPECT_THROW(c.decode(1, -1), InputError);
}

// The serving fast path gives exactly the full decode prediction, cached part and all.
TEST(Transformer, DecodeTimeEqualsDecodePrediction) {
  for (int tp : {1, 2}) {
    TransformerCost cost(h100(), load_model_card(ROOT + "/workloads/models/llama3-8b.json"), tp);
    for (int batch : {1, 7, 64, 256, 1000})
      for (double context : {0.0, 1.0, 4096.0, 123456.0}) {
        EXPECT_EQ(cost.decode_time(batch, context), cost.decode(batch, context).time_s) << batch << " " << context;
        EXPECT_EQ(cost.decode_time(batch, context), cost.decode(batch, context).time_s) << "cached " << batch;
      }
  }
}
