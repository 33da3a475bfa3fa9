#include "gpu/gpu_model.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace aifsim::gpu {

namespace {

const std::array<std::pair<int, int>, 6> TILE_CANDIDATES = {
    {{64, 64}, {128, 64}, {64, 128}, {128, 128}, {128, 256}, {256, 128}}};

std::vector<Eigen::VectorXd> gemm_features(const GemmSample& s, int tile_m, int tile_n, double sm_count) {
  double tiles = std::ceil(s.m / tile_m) * std::ceil(s.n / tile_n);
  double waves = std::ceil(tiles / sm_count);
  double work = waves * tile_m * tile_n * s.k * 2.0;
  double bytes = (s.m * s.k + s.k * s.n) * element_bytes(s.dtype) + s.m * s.n * output_bytes(s.dtype);
  Eigen::VectorXd floor(1), compute(2), memory(2);
  floor << 1;
  compute << 1, work;
  memory << 1, bytes;
  return {floor, compute, memory};
}

// A lower envelope of the data: every piece predicts at most the measured time.
std::vector<Eigen::VectorXd> envelope(const std::vector<std::vector<Eigen::VectorXd>>& features,
                                      const std::vector<double>& t) {
  std::vector<Eigen::VectorXd> init;
  for (std::size_t j = 0; j < features[0].size(); ++j) {
    Eigen::VectorXd c = Eigen::VectorXd::Zero(features[0][j].size());
    if (c.size() == 1) {
      c(0) = *std::min_element(t.begin(), t.end());
    } else {
      double slope = std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < t.size(); ++i) slope = std::min(slope, t[i] / features[i][j](1));
      c(1) = slope;
    }
    init.push_back(c);
  }
  return init;
}

ErrorSummary errors(const std::vector<double>& predicted, const std::vector<double>& t) {
  ErrorSummary e;
  e.points = static_cast<int>(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    double rel = std::fabs(predicted[i] - t[i]) / t[i];
    e.mean_abs_rel += rel / static_cast<double>(t.size());
    e.max_abs_rel = std::max(e.max_abs_rel, rel);
  }
  return e;
}

// Fits a max-affine model and its leave-one-out error.
std::pair<MaxAffineModel, std::pair<ErrorSummary, ErrorSummary>> fit_with_loo(
    const std::vector<std::vector<Eigen::VectorXd>>& features, const std::vector<double>& t) {
  auto init = envelope(features, t);
  MaxAffineModel all = fit_max_affine(features, t, init);
  std::vector<double> in_sample, loo;
  for (std::size_t i = 0; i < t.size(); ++i) {
    in_sample.push_back(all.predict(features[i]));
    std::vector<std::vector<Eigen::VectorXd>> f_rest;
    std::vector<double> t_rest;
    for (std::size_t k = 0; k < t.size(); ++k)
      if (k != i) f_rest.push_back(features[k]), t_rest.push_back(t[k]);
    MaxAffineModel rest = fit_max_affine(f_rest, t_rest, envelope(f_rest, t_rest));
    loo.push_back(rest.predict(features[i]));
  }
  return {all, {errors(in_sample, t), errors(loo, t)}};
}

LineFit fit_line(const std::vector<std::pair<double, double>>& samples, bool with_floor) {
  // samples: (bytes, time)
  std::vector<std::vector<Eigen::VectorXd>> features;
  std::vector<double> t;
  for (const auto& [bytes, time] : samples) {
    Eigen::VectorXd floor(1), line(2);
    floor << 1;
    line << 1, bytes;
    features.push_back(with_floor ? std::vector<Eigen::VectorXd>{floor, line} : std::vector<Eigen::VectorXd>{line});
    t.push_back(time);
  }
  auto [model, errs] = fit_with_loo(features, t);
  LineFit f;
  const auto& line = model.pieces.back();
  f.latency_s = line(0);
  f.bw_Bps = line(1) > 0 ? 1.0 / line(1) : std::numeric_limits<double>::infinity();
  f.floor_s = with_floor ? model.pieces.front()(0) : 0.0;
  f.in_sample = errs.first;
  f.leave_one_out = errs.second;
  return f;
}

nlohmann::json errors_json(const ErrorSummary& e) {
  return {{"points", e.points}, {"mean_abs_rel", e.mean_abs_rel}, {"max_abs_rel", e.max_abs_rel}};
}

}  // namespace

GpuModel::GpuModel(const GpuProfile& profile) : profile_(profile) {
  sm_count_ = profile_.device.sm_count;
  launch_s_ = profile_.kernel_launch_s;

  for (DType dtype : {DType::BF16, DType::FP16, DType::FP8, DType::TF32, DType::FP32}) {
    std::vector<GemmSample> samples;
    for (const auto& s : profile_.gemm)
      if (s.dtype == dtype) samples.push_back(s);
    if (samples.size() < 6) continue;  // too few to fit three pieces with a held-out point
    std::vector<double> t;
    for (const auto& s : samples) t.push_back(s.time_s);
    std::optional<GemmFit> best;
    for (const auto& [tm, tn] : TILE_CANDIDATES) {
      std::vector<std::vector<Eigen::VectorXd>> features;
      for (const auto& s : samples) features.push_back(gemm_features(s, tm, tn, sm_count_));
      auto [model, errs] = fit_with_loo(features, t);
      if (!best || errs.second.mean_abs_rel < best->leave_one_out.mean_abs_rel)
        best = GemmFit{tm, tn, model, errs.first, errs.second};
    }
    gemm_[dtype] = *best;
    Fast& f = fast_[static_cast<int>(dtype)];
    f.present = true;
    f.tile_m = best->tile_m;
    f.tile_n = best->tile_n;
    f.floor = best->model.pieces[0](0);
    f.compute_c = best->model.pieces[1](0);
    f.compute_a = best->model.pieces[1](1);
    f.memory_c = best->model.pieces[2](0);
    f.memory_b = best->model.pieces[2](1);
  }
  if (gemm_.empty()) throw InputError(profile_.file, "no dtype has the 6 GEMM measurements a fit needs");

  // Elementwise traffic: our own copy and triad kernels, beyond L2 (what stays in L2 is
  // faster than the HBM a transformer's weights and KV cache stream from).
  std::vector<std::pair<double, double>> mem;
  for (const auto& s : profile_.device_memory)
    if (s.kernel != "memcpy_d2d") mem.push_back({s.bytes_moved, s.time_s});
  if (mem.size() < 3) throw InputError(profile_.file, "device_memory needs at least 3 copy or triad measurements");
  memory_ = fit_line(mem, true);

  for (auto dir : {Direction::H2D, Direction::D2H})
    for (auto kind : {HostMemory::PINNED, HostMemory::PAGEABLE}) {
      std::vector<std::pair<double, double>> samples;
      for (const auto& s : profile_.host_link)
        if ((s.direction == "h2d") == (dir == Direction::H2D) && (s.host_memory == "pinned") == (kind == HostMemory::PINNED))
          samples.push_back({s.bytes, s.time_s});
      if (samples.size() >= 3) host_link_[{dir, kind}] = fit_line(samples, false);
    }

  std::map<int, std::vector<std::pair<double, double>>> by_gpus;
  for (const auto& s : profile_.allreduce) by_gpus[s.gpus].push_back({s.bytes, s.time_s});
  for (const auto& [gpus, samples] : by_gpus)
    if (samples.size() >= 3) allreduce_[gpus] = fit_line(samples, false);

  // Attention: one scale per phase, least squares on relative error:
  // minimise sum((s * p_i - t_i) / t_i)^2  ->  s = sum(p_i/t_i) / sum((p_i/t_i)^2).
  for (bool decode : {false, true}) {
    double num = 0, den = 0;
    for (const auto& s : profile_.attention) {
      if ((s.phase == "decode") != decode || !has_gemm(s.dtype)) continue;
      double r = attention_roofline(s) / s.time_s;
      num += r;
      den += r * r;
    }
    if (den > 0) {
      (decode ? attention_scale_decode_ : attention_scale_prefill_) = num / den;
      (decode ? attention_decode_fitted_ : attention_prefill_fitted_) = true;
    }
  }
}

double GpuModel::attention_roofline(const AttentionSample& s) const {
  // Q K^T and P V: 2 GEMMs of 2 * q_len * kv_len * head_dim FLOPs per head; a causal
  // prefill computes about half of them.
  double pairs = s.q_len * s.kv_len * ((s.causal && s.q_len > 1) ? 0.5 : 1.0);
  double flops = s.batch * s.heads * 4.0 * pairs * s.head_dim;
  double bytes = s.batch * element_bytes(s.dtype) * s.head_dim *
                 (2.0 * s.heads * s.q_len + 2.0 * s.kv_heads * s.kv_len);
  return std::max(flops / peak_flops(s.dtype), memory_time(bytes));
}

void GpuModel::missing(DType dtype) const {
  throw SimulationError("GPU model: the profile " + profile_.file + " has no " + to_string(dtype) +
                        " GEMM measurements to fit");
}

double GpuModel::peak_flops(DType dtype) const {
  const Fast& f = fast_[static_cast<int>(dtype)];
  if (!f.present) missing(dtype);
  return sm_count_ / f.compute_a;
}

double GpuModel::host_link_time(double bytes, Direction direction, HostMemory memory) const {
  auto it = host_link_.find({direction, memory});
  if (it == host_link_.end())
    throw SimulationError("GPU model: the profile " + profile_.file + " has too few host-link measurements for " +
                          (direction == Direction::H2D ? "h2d " : "d2h ") +
                          (memory == HostMemory::PINNED ? "pinned" : "pageable") + " copies");
  return it->second.time(bytes);
}

double GpuModel::allreduce_time(double bytes, int gpus) const {
  if (gpus <= 1) return 0.0;
  auto it = allreduce_.find(gpus);
  if (it != allreduce_.end()) return it->second.time(bytes);
  // Ring all-reduce: each GPU sends and receives 2 (n-1)/n of the buffer.
  return 2.0 * (gpus - 1) / gpus * bytes / NOMINAL_NVLINK_BW_BPS;
}

std::optional<GemmFit> GpuModel::gemm_fit(DType dtype) const {
  auto it = gemm_.find(dtype);
  if (it == gemm_.end()) return std::nullopt;
  return it->second;
}

nlohmann::json GpuModel::report() const {
  nlohmann::json j;
  j["device"] = profile_.device.name;
  j["profile"] = profile_.file;
  for (const auto& [dtype, fit] : gemm_) {
    j["gemm"][to_string(dtype)] = {
        {"tile", {fit.tile_m, fit.tile_n}},
        {"floor_s", fit.model.pieces[0](0)},
        {"peak_flops", peak_flops(dtype)},
        {"compute_latency_s", fit.model.pieces[1](0)},
        {"memory_bw_Bps", fit.model.pieces[2](1) > 0 ? 1.0 / fit.model.pieces[2](1) : 0.0},
        {"memory_latency_s", fit.model.pieces[2](0)},
        {"in_sample", errors_json(fit.in_sample)},
        {"leave_one_out", errors_json(fit.leave_one_out)}};
  }
  j["device_memory"] = {{"floor_s", memory_.floor_s}, {"latency_s", memory_.latency_s}, {"bw_Bps", memory_.bw_Bps},
                        {"in_sample", errors_json(memory_.in_sample)}, {"leave_one_out", errors_json(memory_.leave_one_out)}};
  for (const auto& [key, fit] : host_link_) {
    std::string name = std::string(key.first == Direction::H2D ? "h2d" : "d2h") + "_" +
                       (key.second == HostMemory::PINNED ? "pinned" : "pageable");
    j["host_link"][name] = {{"latency_s", fit.latency_s}, {"bw_Bps", fit.bw_Bps},
                            {"in_sample", errors_json(fit.in_sample)}, {"leave_one_out", errors_json(fit.leave_one_out)}};
  }
  j["kernel_launch_s"] = launch_s_;
  j["attention"] = {{"prefill_scale", attention_scale_prefill_}, {"prefill_calibrated", attention_prefill_fitted_},
                    {"decode_scale", attention_scale_decode_}, {"decode_calibrated", attention_decode_fitted_}};
  j["allreduce"] = nlohmann::json::object();
  for (const auto& [gpus, fit] : allreduce_)
    j["allreduce"][std::to_string(gpus)] = {{"latency_s", fit.latency_s}, {"bw_Bps", fit.bw_Bps},
                                            {"leave_one_out", errors_json(fit.leave_one_out)}};
  return j;
}

}  // namespace aifsim::gpu
