// The transformer cost model against public end-to-end measurements
// (calibration/validation/end_to_end.json, with citations). The model is fitted on the
// microbenchmark profile only; this test prints its error against every figure it can
// predict, and the reason for every one it cannot. It asserts coverage, not accuracy:
// the errors are reported as they are.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "core/json_reader.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"

using namespace aifsim;
using namespace aifsim::gpu;

namespace {

const std::string ROOT = AIFSIM_SOURCE_DIR;

// Llama 3.1 and 3.3 keep Llama 3's shapes (they differ in RoPE scaling and training).
std::optional<std::string> card_for(const std::string& model) {
  static const std::map<std::string, std::string> cards = {
      {"llama3-8b", "llama3-8b"},   {"llama3.1-8b", "llama3-8b"},   {"llama3-70b", "llama3-70b"},
      {"llama3.1-70b", "llama3-70b"}, {"llama3.3-70b", "llama3-70b"}, {"llama3.2-1b", "llama3.2-1b"},
      {"mixtral-8x7b", "mixtral-8x7b"}};
  auto it = cards.find(model);
  if (it == cards.end()) return std::nullopt;
  return it->second;
}

double published_seconds(const nlohmann::json& e) {
  if (!e["derived"].is_null() && e["derived"].contains(e["metric"].get<std::string>()))
    return e["derived"][e["metric"].get<std::string>()].get<double>();
  std::string unit = e["unit"];
  double v = e["value"];
  return unit.rfind("ms", 0) == 0 ? v / 1000 : v;
}

struct Outcome {
  std::optional<double> predicted;  // in the entry's metric
  double published = 0;
  std::string note;
};

Outcome predict(const nlohmann::json& e, const GpuModel& gpu) {
  Outcome o;
  const std::string category = e["category"], metric = e["metric"];
  if (category == "serving") return {std::nullopt, 0, "needs the serving engine (continuous batching over a request mix)"};
  if (category == "training") {
    if (e["dtype"] == "fp8") return {std::nullopt, 0, "fp8: the profile has no fp8 GEMM measurements"};
    return {std::nullopt, 0, "needs pipeline/data parallelism over the fabric (training issue)"};
  }
  if (category == "allreduce") {
    if (!e["gpus"].is_number() || e["gpus"] != 8)
      return {std::nullopt, 0, "inter-node all-reduce: needs the fabric model (training issue)"};
    // Bus bandwidth of an 8-GPU ring all-reduce of 1 GiB: 2 (n-1)/n x bytes / time.
    const double bytes = 1 << 30;
    o.published = e["value"].get<double>() * 1e9;
    o.predicted = 2.0 * 7 / 8 * bytes / gpu.allreduce_time(bytes, 8);
    o.note = gpu.allreduce_calibrated(8) ? "fitted" : "nominal NVLink-4, not calibrated";
    return o;
  }
  auto name = card_for(e["model"]);
  if (!name) return {std::nullopt, 0, "no model card for " + e["model"].get<std::string>()};
  ModelCard card = load_model_card(ROOT + "/workloads/models/" + *name + ".json");
  auto dtype = parse_dtype(e["dtype"]);
  if (!dtype || !gpu.has_gemm(*dtype))
    return {std::nullopt, 0, e["dtype"].get<std::string>() + ": the profile has no such GEMM measurements"};
  card.dtype = *dtype;
  int tp = e["tp"].is_number() ? e["tp"].get<int>() : 1;
  TransformerCost cost(gpu, card, tp);
  o.published = published_seconds(e);
  const bool batch_known = e["batch"].is_number();
  const int batch = batch_known ? e["batch"].get<int>() : 1;
  if (category == "prefill" && e["prompt_tokens"].is_number()) {
    o.predicted = cost.prefill(batch, e["prompt_tokens"].get<int>()).time_s;
    if (!batch_known) o.note = "one request (lightly loaded server)";
    return o;
  }
  if (category == "decode" && metric == "tpot_s" && e["prompt_tokens"].is_number()) {
    // Mean inter-token latency: the context grows from the prompt to prompt + output.
    double context = e["prompt_tokens"].get<double>() + e["output_tokens"].get<double>() / 2;
    o.predicted = cost.decode(batch, batch * context).time_s;
    if (!batch_known) o.note = "batch 1 assumed (lightly loaded server)";
    return o;
  }
  return {std::nullopt, 0, "conditions not stated fully enough to predict (" + metric + ")"};
}

}  // namespace

TEST(Validation, ErrorsAgainstPublishedMeasurements) {
  auto doc = load_json_file(ROOT + "/calibration/validation/end_to_end.json");
  ASSERT_EQ(doc["schema"], "aifsim-validation/1");
  GpuModel gpu(load_profile(ROOT + "/calibration/profiles/h100-sxm.json"));
  int predicted = 0, total = 0;
  double sum_abs = 0;
  std::printf("%-48s %-10s %12s %12s %8s  %s\n", "entry", "metric", "published", "predicted", "error", "note");
  for (const auto& e : doc["entries"]) {
    ++total;
    Outcome o = predict(e, gpu);
    if (!o.predicted) {
      std::printf("%-48s %-10s %12s %12s %8s  %s\n", e["id"].get<std::string>().c_str(),
                  e["metric"].get<std::string>().c_str(), "", "", "-", o.note.c_str());
      continue;
    }
    ++predicted;
    double err = (*o.predicted - o.published) / o.published;
    sum_abs += std::fabs(err);
    std::printf("%-48s %-10s %12.4g %12.4g %7.1f%%  %s\n", e["id"].get<std::string>().c_str(),
                e["metric"].get<std::string>().c_str(), o.published, *o.predicted, 100 * err, o.note.c_str());
    EXPECT_TRUE(std::isfinite(*o.predicted) && *o.predicted > 0) << e["id"];
  }
  std::printf("predicted %d of %d entries; mean absolute error %.1f%%\n", predicted, total,
              predicted ? 100 * sum_abs / predicted : 0.0);
  EXPECT_GE(predicted, 5);
}
