#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "gpu/fit.hpp"
#include "gpu/gpu_model.hpp"

using namespace aifsim;
using namespace aifsim::gpu;

namespace {
const std::string PROFILE = std::string(AIFSIM_SOURCE_DIR) + "/calibration/profiles/h100-sxm.json";
}

TEST(GpuFit, NnlsSolvesAndClampsNegativeCoefficients) {
  // t = 2 + 3x exactly.
  Eigen::MatrixXd A(3, 2);
  A << 1, 1, 1, 2, 1, 3;
  Eigen::VectorXd b(3), w = Eigen::VectorXd::Ones(3);
  b << 5, 8, 11;
  Eigen::VectorXd x = nnls_small(A, b, w);
  EXPECT_NEAR(x(0), 2, 1e-9);
  EXPECT_NEAR(x(1), 3, 1e-9);
  // Decreasing data: the unconstrained slope is negative, NNLS keeps only the intercept
  // at the mean (4).
  b << 5, 4, 3;
  x = nnls_small(A, b, w);
  EXPECT_NEAR(x(1), 0, 1e-12);
  EXPECT_NEAR(x(0), 4, 1e-9);
}

TEST(GpuFit, MaxAffineRecoversAKnownRoofline) {
  // t = max(1, 0.5 + 2e-3 x, 4e-3 y): three regimes, exact data.
  std::vector<std::vector<Eigen::VectorXd>> f;
  std::vector<double> t;
  for (double x : {10.0, 300.0, 1000.0, 3000.0, 10000.0})
    for (double y : {5.0, 400.0, 2000.0}) {
      Eigen::VectorXd a(1), b(2), c(2);
      a << 1;
      b << 1, x;
      c << 1, y;
      f.push_back({a, b, c});
      t.push_back(std::max({1.0, 0.5 + 2e-3 * x, 4e-3 * y}));
    }
  std::vector<Eigen::VectorXd> init = {Eigen::VectorXd::Constant(1, 0.9), Eigen::VectorXd::Zero(2), Eigen::VectorXd::Zero(2)};
  init[1](1) = 1e-3;
  init[2](1) = 1e-3;
  MaxAffineModel m = fit_max_affine(f, t, init);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(m.predict(f[i]), t[i], 1e-9 * t[i]) << i;
  EXPECT_NEAR(m.pieces[1](1), 2e-3, 1e-12);
  EXPECT_NEAR(m.pieces[2](1), 4e-3, 1e-12);
}

// Leave-one-out errors of the fits on the shipped H100 profile, printed for the record.
// The bounds are loose guards against a broken fit, not targets.
TEST(GpuModel, LeaveOneOutErrorsOnTheShippedProfile) {
  GpuModel model(load_profile(PROFILE));
  auto report = model.report();
  std::printf("%-22s %6s %10s %10s\n", "fit", "points", "LOO mean", "LOO max");
  for (const auto& [dtype, fit] : report["gemm"].items())
    std::printf("gemm %-17s %6d %9.1f%% %9.1f%%\n", dtype.c_str(), fit["leave_one_out"]["points"].get<int>(),
                100 * fit["leave_one_out"]["mean_abs_rel"].get<double>(), 100 * fit["leave_one_out"]["max_abs_rel"].get<double>());
  const auto& mem = report["device_memory"]["leave_one_out"];
  std::printf("%-22s %6d %9.1f%% %9.1f%%\n", "device memory", mem["points"].get<int>(), 100 * mem["mean_abs_rel"].get<double>(),
              100 * mem["max_abs_rel"].get<double>());
  for (const auto& [name, fit] : report["host_link"].items())
    std::printf("host link %-12s %6d %9.1f%% %9.1f%%\n", name.c_str(), fit["leave_one_out"]["points"].get<int>(),
                100 * fit["leave_one_out"]["mean_abs_rel"].get<double>(), 100 * fit["leave_one_out"]["max_abs_rel"].get<double>());
  for (const char* d : {"bf16", "fp16", "tf32"}) EXPECT_LT(report["gemm"][d]["leave_one_out"]["mean_abs_rel"].get<double>(), 0.15) << d;
  EXPECT_LT(report["gemm"]["fp32"]["leave_one_out"]["mean_abs_rel"].get<double>(), 0.6);
  EXPECT_LT(report["host_link"]["h2d_pinned"]["leave_one_out"]["mean_abs_rel"].get<double>(), 0.15);
  EXPECT_LT(report["host_link"]["d2h_pinned"]["leave_one_out"]["mean_abs_rel"].get<double>(), 0.05);
  EXPECT_LT(mem["mean_abs_rel"].get<double>(), 0.25);
}

TEST(GpuModel, FittedRatesArePhysical) {
  GpuModel model(load_profile(PROFILE));
  // The H100 SXM's HBM3 streams about 3.35 TB/s at most; cuBLAS bf16 dense peaks below
  // 989 TFLOP/s. A fit outside these bounds has gone wrong.
  EXPECT_GT(model.memory_bw_Bps(), 2.0e12);
  EXPECT_LT(model.memory_bw_Bps(), 3.4e12);
  EXPECT_GT(model.peak_flops(DType::BF16), 5e14);
  EXPECT_LT(model.peak_flops(DType::BF16), 9.9e14);
  EXPECT_GT(model.peak_flops(DType::BF16), 4 * model.peak_flops(DType::FP32));
  // Pinned host copies run near PCIe 5.0 x16 rates, pageable ones far below.
  double pinned = 1e9 / model.host_link_time(1e9, Direction::H2D, HostMemory::PINNED);
  double pageable = 1e9 / model.host_link_time(1e9, Direction::H2D, HostMemory::PAGEABLE);
  EXPECT_GT(pinned, 40e9);
  EXPECT_LT(pinned, 64e9);
  EXPECT_LT(pageable, pinned / 2);
}

TEST(GpuModel, WaveQuantisation) {
  GpuModel model(load_profile(PROFILE));
  auto fit = *model.gemm_fit(DType::BF16);
  // A compute-bound GEMM of 12 x 11 = 132 output tiles fills one wave of the 132 SMs;
  // one column more makes 12 x 12 tiles, and the 12 extra pay a whole second wave.
  double m = fit.tile_m * 12.0, n = fit.tile_n * 11.0, k = 65536;
  double one_wave = model.gemm_time(m, n, k, DType::BF16);
  double two_waves = model.gemm_time(m, n + 1, k, DType::BF16);
  EXPECT_GT(two_waves, 1.7 * one_wave);
  // Monotone in every dimension.
  EXPECT_LE(model.gemm_time(64, 4096, 4096, DType::BF16), model.gemm_time(64, 4096, 8192, DType::BF16));
  EXPECT_LE(model.gemm_time(1024, 4096, 4096, DType::BF16), model.gemm_time(2048, 4096, 4096, DType::BF16));
}

TEST(GpuModel, MissingDtypeIsAClearError) {
  GpuModel model(load_profile(PROFILE));
  EXPECT_FALSE(model.has_gemm(DType::FP8));
  EXPECT_THROW(model.gemm_time(1, 1, 1, DType::FP8), SimulationError);
}

TEST(GpuModel, BadProfilesAreInputErrors) {
  auto doc = nlohmann::json::parse(R"({"schema": "aifsim-gpu-profile/1", "device": {"name": "x", "sm_count": 0,
    "l2_bytes": 1, "memory_bytes": 1, "sm_clock_hz": 1}, "software": {}, "method": "", "gemm": [], "device_memory": [],
    "host_link": [], "kernel_launch_s": 1e-6})");
  try {
    parse_profile(doc, "p.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "p.json: at $.device.sm_count: expected a positive integer");
  }
  doc["schema"] = "other";
  EXPECT_THROW(parse_profile(doc, "p.json"), InputError);
}
