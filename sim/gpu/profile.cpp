#include "gpu/profile.hpp"

#include "core/error.hpp"
#include "core/json_reader.hpp"

namespace aifsim::gpu {

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::BF16: return "bf16";
    case DType::FP16: return "fp16";
    case DType::FP8: return "fp8";
    case DType::TF32: return "tf32";
    case DType::FP32: return "fp32";
  }
  return "?";
}

std::optional<DType> parse_dtype(const std::string& name) {
  for (DType d : {DType::BF16, DType::FP16, DType::FP8, DType::TF32, DType::FP32})
    if (to_string(d) == name) return d;
  return std::nullopt;
}

double element_bytes(DType dtype) {
  switch (dtype) {
    case DType::BF16:
    case DType::FP16: return 2;
    case DType::FP8: return 1;
    case DType::TF32:
    case DType::FP32: return 4;
  }
  return 0;
}

double output_bytes(DType dtype) { return dtype == DType::FP8 ? 2 : element_bytes(dtype); }

namespace {

const std::vector<std::string> DTYPES = {"bf16", "fp16", "fp8", "tf32", "fp32"};

double positive(JsonReader& r, const std::string& key) {
  double v = r.number(key);
  if (!(v > 0)) r.fail(key, "expected a positive number, got " + std::to_string(v));
  return v;
}

template <class F>
void each(JsonReader& root, const std::string& key, const std::string& file, F f) {
  if (!root.has(key)) return;
  const auto& arr = root.array(key);
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonReader r(arr[i], file, "$." + key + "[" + std::to_string(i) + "]");
    f(r);
    r.finish();
  }
}

}  // namespace

GpuProfile parse_profile(const nlohmann::json& doc, const std::string& file) {
  JsonReader r(doc, file);
  GpuProfile p;
  p.file = file;
  std::string schema = r.string("schema");
  if (schema != "aifsim-gpu-profile/1")
    r.fail("schema", "expected \"aifsim-gpu-profile/1\", got \"" + schema + "\"");
  {
    JsonReader d = r.object("device");
    p.device.name = d.string("name");
    d.string_or("form_factor", "");
    d.string_or("compute_capability", "");
    p.device.sm_count = static_cast<int>(d.integer("sm_count"));
    if (p.device.sm_count <= 0) d.fail("sm_count", "expected a positive integer");
    p.device.l2_bytes = positive(d, "l2_bytes");
    p.device.memory_bytes = positive(d, "memory_bytes");
    p.device.sm_clock_hz = positive(d, "sm_clock_hz");
    if (d.has("board_power_limit_w") && !d.raw("board_power_limit_w").is_null())
      p.device.board_power_limit_w = positive(d, "board_power_limit_w");
    d.finish();
  }
  p.software = r.raw("software");
  p.method = r.string("method");
  p.provenance = r.has("provenance") ? r.raw("provenance") : nlohmann::json::object();
  each(r, "gemm", file, [&](JsonReader& g) {
    auto dtype = parse_dtype(g.choice("dtype", DTYPES));
    p.gemm.push_back({*dtype, positive(g, "m"), positive(g, "n"), positive(g, "k"), positive(g, "time_s")});
  });
  each(r, "device_memory", file, [&](JsonReader& m) {
    p.device_memory.push_back({m.choice("kernel", {"copy", "triad", "memcpy_d2d"}), positive(m, "buffer_bytes"),
                               positive(m, "bytes_moved"), positive(m, "time_s")});
  });
  each(r, "host_link", file, [&](JsonReader& h) {
    p.host_link.push_back({h.choice("direction", {"h2d", "d2h"}), h.choice("host_memory", {"pinned", "pageable"}),
                           positive(h, "bytes"), positive(h, "time_s")});
  });
  p.kernel_launch_s = positive(r, "kernel_launch_s");
  each(r, "attention", file, [&](JsonReader& a) {
    AttentionSample s;
    s.phase = a.choice("phase", {"prefill", "decode"});
    s.dtype = *parse_dtype(a.choice("dtype", DTYPES));
    s.batch = positive(a, "batch");
    s.heads = positive(a, "heads");
    s.kv_heads = positive(a, "kv_heads");
    s.head_dim = positive(a, "head_dim");
    s.q_len = positive(a, "q_len");
    s.kv_len = positive(a, "kv_len");
    s.causal = a.boolean_or("causal", true);
    s.time_s = positive(a, "time_s");
    p.attention.push_back(s);
  });
  each(r, "allreduce", file, [&](JsonReader& a) {
    AllReduceSample s;
    s.gpus = static_cast<int>(a.integer("gpus"));
    if (s.gpus < 2) a.fail("gpus", "an all-reduce needs at least 2 GPUs");
    s.dtype = *parse_dtype(a.choice("dtype", DTYPES));
    s.bytes = positive(a, "bytes");
    a.string_or("algorithm", "");
    s.time_s = positive(a, "time_s");
    p.allreduce.push_back(s);
  });
  if (p.gemm.empty()) r.fail("gemm", "a profile needs GEMM measurements");
  if (p.device_memory.empty()) r.fail("device_memory", "a profile needs device-memory measurements");
  r.finish();
  return p;
}

GpuProfile load_profile(const std::filesystem::path& file) { return parse_profile(load_json_file(file), file.string()); }

}  // namespace aifsim::gpu
