// Decoder-only transformer model cards (workloads/models/*.json).
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "gpu/profile.hpp"

namespace aifsim::gpu {

struct ModelCard {
  std::string name, source;
  int hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0, vocab = 0;
  DType dtype = DType::BF16;
  bool tied_embeddings = false;
  int experts = 1, active_experts = 1;  // mixture of experts: experts per layer, routed per token
  int max_context = 0;

  // Parameters, counting shared (tied) weights once. Norm weights included.
  double parameters() const;
  // Parameters a token's forward pass touches (active experts only).
  double active_parameters() const;
};

ModelCard load_model_card(const std::filesystem::path& file);
ModelCard parse_model_card(const nlohmann::json& doc, const std::string& file);

}  // namespace aifsim::gpu
