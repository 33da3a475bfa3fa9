#include "gpu/model_card.hpp"

#include "core/error.hpp"
#include "core/json_reader.hpp"

namespace aifsim::gpu {

namespace {
int positive_int(JsonReader& r, const std::string& key) {
  auto v = r.integer(key);
  if (v <= 0 || v > 100'000'000) r.fail(key, "expected a positive integer");
  return static_cast<int>(v);
}

double layer_parameters(const ModelCard& m, int experts) {
  double q = static_cast<double>(m.heads) * m.head_dim, kv = static_cast<double>(m.kv_heads) * m.head_dim;
  double attention = m.hidden * (q + 2 * kv) + q * m.hidden;
  double mlp = 3.0 * m.hidden * m.intermediate * experts;
  double router = m.experts > 1 ? static_cast<double>(m.hidden) * m.experts : 0.0;
  return attention + mlp + router + 2.0 * m.hidden;  // two RMSNorm weight vectors
}
}  // namespace

double ModelCard::parameters() const {
  double embed = static_cast<double>(vocab) * hidden;
  return layers * layer_parameters(*this, experts) + embed * (tied_embeddings ? 1 : 2) + hidden;
}

double ModelCard::active_parameters() const {
  double embed = static_cast<double>(vocab) * hidden;
  return layers * layer_parameters(*this, active_experts) + embed * (tied_embeddings ? 1 : 2) + hidden;
}

ModelCard parse_model_card(const nlohmann::json& doc, const std::string& file) {
  JsonReader r(doc, file);
  ModelCard m;
  m.name = r.string("name");
  m.source = r.string_or("source", "");
  m.hidden = positive_int(r, "hidden");
  m.layers = positive_int(r, "layers");
  m.heads = positive_int(r, "heads");
  m.kv_heads = positive_int(r, "kv_heads");
  if (m.heads % m.kv_heads != 0) r.fail("kv_heads", "heads (" + std::to_string(m.heads) + ") must be a multiple of kv_heads");
  m.head_dim = r.has("head_dim") ? positive_int(r, "head_dim") : m.hidden / m.heads;
  if (!r.has("head_dim") && m.hidden % m.heads != 0) r.fail("heads", "hidden is not a multiple of heads; give head_dim");
  m.intermediate = positive_int(r, "intermediate");
  m.vocab = positive_int(r, "vocab");
  auto dtype = parse_dtype(r.choice("dtype", {"bf16", "fp16", "fp8", "fp32"}, std::string("bf16")));
  m.dtype = *dtype;
  m.tied_embeddings = r.boolean_or("tied_embeddings", false);
  m.experts = r.has("experts") ? positive_int(r, "experts") : 1;
  m.active_experts = r.has("active_experts") ? positive_int(r, "active_experts") : 1;
  if (m.active_experts > m.experts) r.fail("active_experts", "more active experts than experts");
  m.max_context = r.has("max_context") ? positive_int(r, "max_context") : 0;
  r.finish();
  return m;
}

ModelCard load_model_card(const std::filesystem::path& file) { return parse_model_card(load_json_file(file), file.string()); }

}  // namespace aifsim::gpu
