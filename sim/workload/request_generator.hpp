// Synthetic LLM inference requests: a renewal arrival process (Poisson, gamma or
// constant) at rate_rps, optionally bent over time by a rate curve, with prompt and
// output lengths from a fixed, uniform, lognormal or empirical distribution.
//
// A rate curve is applied by time-rescaling: the base process runs on an operational
// clock tau at rate_rps, and a request at tau arrives at the real time t with
// Lambda(t) = tau, Lambda being the integral of the curve's multiplier. For Poisson that
// is exactly the non-homogeneous process with rate rate_rps * m(t); for gamma and
// constant it keeps their regularity while following the curve. Example: the curve
// (0 s, 2), (50 s, 2), (50 s, 1), (100 s, 1) with period 100 s doubles the rate in the
// first half of each period, so two thirds of the requests arrive there.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workload/request_source.hpp"

namespace aifsim::workload {

enum class LengthKind : std::uint8_t { FIXED, UNIFORM, LOGNORMAL, EMPIRICAL };
enum class TraceColumn : std::uint8_t { PROMPT, OUTPUT };

// Token counts of one side of a request (prompt or output).
struct LengthSpec {
  LengthKind kind = LengthKind::FIXED;
  int tokens = 0;                  // FIXED
  int min_tokens = 1;              // UNIFORM lower bound; LOGNORMAL clamp
  std::optional<int> max_tokens;   // UNIFORM upper bound (required); LOGNORMAL clamp
  double mu = 0, sigma = 0;        // LOGNORMAL: mean and std of ln(tokens)
  std::filesystem::path trace;     // EMPIRICAL: a request trace (any supported format)
  std::optional<TraceColumn> column;  // EMPIRICAL: which column; default, the side this spec is for
};

struct GeneratorSpec {
  std::string arrival = "poisson";  // poisson | gamma | constant
  double rate_rps = 0;
  double cv = 1;  // gamma: coefficient of variation of the inter-arrival times
  // Piecewise-linear rate multiplier (time s, factor): times non-decreasing from 0 (a
  // repeated time is a step), factors >= 0. With curve_period_s > 0 it repeats, closing
  // each period with a line back to the first factor; otherwise the last factor holds.
  std::vector<std::pair<double, double>> rate_curve;
  double curve_period_s = 0;
  LengthSpec prompt, output;
  std::uint64_t requests = 0;  // stop after this many (0: no count limit)
  double duration_s = 0;       // stop before the first arrival at or after this (0: no time limit)
  double sessions = 0;         // mean requests per conversation session (>= 1); 0: no sessions
};

// Requests 1, 2, 3...: constant arrivals at n / rate (n = 0, 1, ...), Poisson and gamma
// arrivals after their first inter-arrival draw. The same spec and seed give the same
// sequence on every platform (the samplers are written here, not std:: distributions,
// whose algorithms differ between standard libraries).
class RequestGenerator final : public RequestSource {
 public:
  // Validates the spec; errors are InputErrors starting with `origin` and naming the
  // field ("rate_rps", "prompt.sigma", "rate_curve[2]"). EMPIRICAL lengths load their
  // trace here, keeping one count per distinct length.
  RequestGenerator(const GeneratorSpec& spec, std::uint64_t seed, std::string origin = "request generator");
  ~RequestGenerator() override;
  std::optional<serving::Request> next() override;
  std::string describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Lognormal fits of a trace's prompt and output lengths: mu and sigma are the mean and
// the (population) standard deviation of ln(tokens), the clamps the observed minimum
// and maximum. Streams the trace once.
struct LengthFit {
  LengthSpec prompt, output;
  std::uint64_t requests = 0;
};
LengthFit fit_lengths(const std::filesystem::path& trace);

}  // namespace aifsim::workload
