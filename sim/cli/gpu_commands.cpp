// aifsim gpu predict | gpu report | calibrate.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sys/wait.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "gpu/gpu_model.hpp"
#include "gpu/model_card.hpp"
#include "gpu/transformer.hpp"

namespace aifsim::cli {

namespace {
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string fmt(double v, const char* spec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}
}  // namespace

int command_gpu_predict(const GpuPredictArgs& args) {
  gpu::GpuModel model(gpu::load_profile(args.profile));
  gpu::ModelCard card = gpu::load_model_card(args.model);
  if (card.max_context > 0 && args.tokens > card.max_context)
    throw InputError("--tokens", std::to_string(args.tokens) + " exceeds " + card.name + "'s context of " +
                                     std::to_string(card.max_context) + " tokens");
  gpu::TransformerCost cost(model, card, args.tp);
  gpu::Prediction p;
  if (args.phase == "prefill") p = cost.prefill(args.batch, args.tokens);
  else if (args.phase == "decode") p = cost.decode(args.batch, static_cast<double>(args.batch) * args.tokens);
  else p = cost.train_step(args.batch, args.tokens);
  if (args.json) {
    nlohmann::json j = p.to_json();
    j["phase"] = args.phase;
    j["model"] = card.name;
    j["profile"] = args.profile;
    j["batch"] = args.batch;
    j["tokens"] = args.tokens;
    j["tp"] = args.tp;
    j["weights_bytes"] = cost.weight_bytes();
    j["kv_bytes_per_token"] = cost.kv_bytes_per_token();
    j["fits_in_memory"] = p.memory_bytes <= model.profile().device.memory_bytes;
    j["assumptions"] = cost.assumptions();
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << fmt(p.time_s, "%.6g") << '\n';
  }
  if (p.memory_bytes > model.profile().device.memory_bytes)
    std::cerr << "aifsim: warning: needs " << fmt(p.memory_bytes / 1e9, "%.1f") << " GB per GPU, more than the "
              << fmt(model.profile().device.memory_bytes / 1e9, "%.1f") << " GB of " << model.profile().device.name << '\n';
  return 0;
}

int command_gpu_report(const std::string& profile) {
  gpu::GpuModel model(gpu::load_profile(profile));
  std::cout << model.report().dump(2) << '\n';
  return 0;
}

int command_calibrate(const CalibrateArgs& args) {
  // The microkernels are a separate CUDA program, built next to this one where nvcc was
  // found: <build>/sim/aifsim -> <build>/calibration/aifsim-microbench.
  std::error_code ec;
  auto self = std::filesystem::canonical("/proc/self/exe", ec);
  std::filesystem::path bench = self.parent_path().parent_path() / "calibration" / "aifsim-microbench";
  if (ec || !std::filesystem::exists(bench))
    throw InputError("calibrate", "the CUDA microkernels were not built (" + bench.string() +
                                      " is missing): nvcc was not found when the project was configured");
  std::string command = shell_quote(bench.string()) + " -o " + shell_quote(args.output) + (args.quick ? " --quick" : "");
  int status = std::system(command.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  if (code == 2) throw InputError("calibrate", "no GPU to calibrate on (see the message above)");
  if (code != 0) throw SimulationError("calibrate: the microkernels failed with exit code " + std::to_string(code));
  // Check what was written by fitting it.
  gpu::GpuModel model(gpu::load_profile(args.output));
  std::cout << "wrote " << args.output << " (" << model.profile().device.name << ")\n";
  for (const auto& [dtype, fit] : model.report()["gemm"].items())
    std::cout << "gemm " << dtype << ": leave-one-out mean error "
              << fmt(fit["leave_one_out"]["mean_abs_rel"].get<double>() * 100, "%.1f") << " %\n";
  return 0;
}

}  // namespace aifsim::cli
