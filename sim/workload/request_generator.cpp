#include "workload/request_generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <random>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::workload {

namespace {

constexpr int MAX_TOKENS = std::numeric_limits<std::int32_t>::max();
// Curve times beyond this (31,700 years) are typos; it keeps the curve's integral finite.
constexpr double MAX_CURVE_S = 1e12;

// Portable samplers over mt19937_64: the same draws on every standard library.
class Random {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}
  double uniform01() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform_open0() { return 1.0 - uniform01(); }                          // (0, 1]
  std::uint64_t below(std::uint64_t n) {  // uniform in [0, n), unbiased by rejection
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      std::uint64_t r = rng_();
      if (r >= threshold) return r % n;
    }
  }
  double exponential(double mean) { return -std::log(uniform_open0()) * mean; }
  double normal() {  // Box-Muller; the second variate is dropped to keep no state
    return std::sqrt(-2.0 * std::log(uniform_open0())) * std::cos(2.0 * std::numbers::pi * uniform01());
  }
  // Marsaglia & Tsang (2000); shapes below 1 are boosted by u^(1/shape).
  double gamma(double shape, double scale) {
    if (shape < 1) return gamma(shape + 1, scale) * std::pow(uniform_open0(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double z = normal(), v = 1 + c * z;
      if (v <= 0) continue;
      v = v * v * v;
      if (std::log(uniform_open0()) < 0.5 * z * z + d - d * v + d * std::log(v)) return d * v * scale;
    }
  }

 private:
  std::mt19937_64 rng_;
};

// The integral Lambda(t) of a piecewise-linear multiplier and its inverse. Queries come
// in non-decreasing order, so a cursor walks the segments instead of searching.
class RateCurve {
 public:
  RateCurve(std::vector<std::pair<double, double>> points, double period_s) : points_(std::move(points)), period_s_(period_s) {
    if (period_s_ > 0 && points_.back().first < period_s_) points_.emplace_back(period_s_, points_.front().second);
    cumulative_.push_back(0);
    for (std::size_t i = 0; i + 1 < points_.size(); ++i)
      cumulative_.push_back(cumulative_.back() +
                            0.5 * (points_[i].second + points_[i + 1].second) * (points_[i + 1].first - points_[i].first));
  }

  // The real time t with Lambda(t) = tau.
  double invert(double tau) {
    const std::size_t last = points_.size() - 1;
    const double per_cycle = cumulative_[last];
    for (;;) {
      double base = cycle_ * per_cycle;
      if (period_s_ > 0 && segment_ == 0 && tau > base + per_cycle) {  // skip whole periods at once
        cycle_ += std::floor((tau - base) / per_cycle);
        base = cycle_ * per_cycle;
        // Past 2^53 periods one period is below a double's resolution of the time: scale.
        if (base + per_cycle == base) return tau / per_cycle * period_s_;
      }
      if (segment_ == last) {  // only without a period: the last factor holds for ever
        return points_[last].first + (tau - base - cumulative_[last]) / points_[last].second;
      }
      if (tau <= base + cumulative_[segment_ + 1]) {
        const auto [t0, f0] = points_[segment_];
        const auto [t1, f1] = points_[segment_ + 1];
        const double dt = t1 - t0, r = tau - base - cumulative_[segment_];
        double s = 0;
        if (dt > 0) {
          // Root of f0 s + a s^2 / 2 = r in the form that stays exact when a -> 0.
          const double a = (f1 - f0) / dt, denominator = f0 + std::sqrt(std::max(0.0, f0 * f0 + 2 * a * r));
          s = denominator > 0 ? std::clamp(2 * r / denominator, 0.0, dt) : 0.0;
        }
        return cycle_ * period_s_ + t0 + s;
      }
      if (++segment_ == last && period_s_ > 0) segment_ = 0, ++cycle_;
    }
  }

 private:
  std::vector<std::pair<double, double>> points_;
  double period_s_;
  std::vector<double> cumulative_;  // Lambda at each point within one cycle
  std::size_t segment_ = 0;
  double cycle_ = 0;  // whole periods passed; a double so that no jump can overflow it
};

const char* kind_name(LengthKind kind) {
  switch (kind) {
    case LengthKind::FIXED: return "fixed";
    case LengthKind::UNIFORM: return "uniform";
    case LengthKind::LOGNORMAL: return "lognormal";
    case LengthKind::EMPIRICAL: return "empirical";
  }
  return "?";
}

// Draws one side's token counts.
class LengthSampler {
 public:
  LengthSampler(const LengthSpec& spec, TraceColumn side, const std::string& origin, const std::string& field)
      : spec_(spec) {
    auto fail = [&](const std::string& name, const std::string& expected, const std::string& got) {
      throw InputError(origin, field + "." + name + ": expected " + expected + ", got " + got);
    };
    const std::string int_range = "an integer from 1 to " + std::to_string(MAX_TOKENS);
    switch (spec.kind) {
      case LengthKind::FIXED:
        if (spec.tokens < 1) fail("tokens", int_range, std::to_string(spec.tokens));
        break;
      case LengthKind::UNIFORM:
      case LengthKind::LOGNORMAL:
        if (spec.min_tokens < 1) fail("min_tokens", int_range, std::to_string(spec.min_tokens));
        if (spec.kind == LengthKind::UNIFORM && !spec.max_tokens)
          fail("max_tokens", "an upper bound for a uniform length", "none");
        if (spec.max_tokens && *spec.max_tokens < spec.min_tokens)
          fail("max_tokens", "at least min_tokens (" + std::to_string(spec.min_tokens) + ")",
               std::to_string(*spec.max_tokens));
        if (spec.kind == LengthKind::LOGNORMAL) {
          if (!std::isfinite(spec.mu) || spec.mu < 0 || spec.mu > std::log(MAX_TOKENS))
            fail("mu", "a number from 0 to ln(2^31 - 1)", format_number(spec.mu));
          if (!std::isfinite(spec.sigma) || spec.sigma < 0 || spec.sigma > 10)
            fail("sigma", "a number from 0 to 10", format_number(spec.sigma));
        }
        break;
      case LengthKind::EMPIRICAL: {
        if (spec.trace.empty()) fail("trace", "a request trace file", "none");
        const TraceColumn column = spec.column.value_or(side);
        std::map<int, std::uint64_t> counts;
        RequestTraceReader reader(spec.trace);
        while (auto r = reader.next()) ++counts[column == TraceColumn::PROMPT ? r->prompt_tokens : r->output_tokens];
        if (counts.empty()) fail("trace", "a trace with at least one request", spec.trace.string());
        std::uint64_t total = 0;
        for (const auto& [tokens, n] : counts) {
          values_.push_back(tokens);
          cumulative_.push_back(total += n);
        }
        break;
      }
    }
  }

  int draw(Random& random) const {
    switch (spec_.kind) {
      case LengthKind::FIXED: return spec_.tokens;
      case LengthKind::UNIFORM:
        return spec_.min_tokens + static_cast<int>(random.below(
                                      static_cast<std::uint64_t>(*spec_.max_tokens - spec_.min_tokens) + 1));
      case LengthKind::LOGNORMAL: {
        double x = std::round(std::exp(spec_.mu + spec_.sigma * random.normal()));
        double hi = spec_.max_tokens.value_or(MAX_TOKENS);
        return static_cast<int>(std::clamp(x, static_cast<double>(spec_.min_tokens), hi));
      }
      case LengthKind::EMPIRICAL: {
        std::uint64_t r = random.below(cumulative_.back());
        auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
        return values_[static_cast<std::size_t>(it - cumulative_.begin())];
      }
    }
    return spec_.tokens;
  }

  std::string describe() const {
    std::string s = kind_name(spec_.kind);
    const std::string hi = spec_.max_tokens ? std::to_string(*spec_.max_tokens) : "";
    switch (spec_.kind) {
      case LengthKind::FIXED: return s + " " + std::to_string(spec_.tokens);
      case LengthKind::UNIFORM: return s + " " + std::to_string(spec_.min_tokens) + ".." + hi;
      case LengthKind::LOGNORMAL:
        return s + "(mu " + format_number(spec_.mu) + ", sigma " + format_number(spec_.sigma) + ", " +
               std::to_string(spec_.min_tokens) + ".." + hi + ")";
      case LengthKind::EMPIRICAL:
        return s + " from " + spec_.trace.string() + " (" + std::to_string(values_.size()) + " distinct values)";
    }
    return s;
  }

 private:
  LengthSpec spec_;
  std::vector<int> values_;                 // EMPIRICAL: distinct lengths, ascending
  std::vector<std::uint64_t> cumulative_;  // EMPIRICAL: requests with length <= values_[i]
};

}  // namespace

struct RequestGenerator::Impl {
  Impl(const GeneratorSpec& s, std::uint64_t seed_, std::string origin_)
      : origin(std::move(origin_)), spec(checked(s)), seed(seed_), random(seed_),
        prompt(spec.prompt, TraceColumn::PROMPT, origin, "prompt"),
        output(spec.output, TraceColumn::OUTPUT, origin, "output") {
    if (!spec.rate_curve.empty()) curve.emplace(spec.rate_curve, spec.curve_period_s);
  }

  [[noreturn]] void fail(const std::string& field, const std::string& expected, const std::string& got) const {
    throw InputError(origin, field + ": expected " + expected + ", got " + got);
  }

  const GeneratorSpec& checked(const GeneratorSpec& s) const {
    validate(s);
    validate_curve(s);
    return s;
  }

  void validate(const GeneratorSpec& s) const {
    if (s.arrival != "poisson" && s.arrival != "gamma" && s.arrival != "constant")
      fail("arrival", "poisson, gamma or constant", "\"" + s.arrival + "\"");
    // One request in 30 years to a billion a second: beyond either end, times stop being finite numbers.
    if (!(s.rate_rps >= 1e-9 && s.rate_rps <= 1e9)) fail("rate_rps", "a number from 1e-9 to 1e9", format_number(s.rate_rps));
    // The gamma shape is 1/cv^2: beyond cv 10 it drops below 0.01 and draws underflow to
    // 0; below cv 0.001 it passes 1e6 (use constant arrivals for that regularity).
    if (!(s.cv >= 1e-3 && s.cv <= 10)) fail("cv", "a number from 0.001 to 10", format_number(s.cv));
    if (!std::isfinite(s.duration_s) || s.duration_s < 0)
      fail("duration_s", "a finite number >= 0 (0: no limit)", format_number(s.duration_s));
    if (s.requests == 0 && s.duration_s == 0)
      fail("requests", "a request count or a duration_s to stop at", "neither");
    if (!std::isfinite(s.sessions) || (s.sessions != 0 && s.sessions < 1))
      fail("sessions", "0 (none) or a mean of at least 1 request per session", format_number(s.sessions));
    if (!(s.curve_period_s >= 0 && s.curve_period_s <= MAX_CURVE_S))
      fail("curve_period_s", "a number from 0 (no repetition) to 1e12", format_number(s.curve_period_s));
  }

  void validate_curve(const GeneratorSpec& s) const {
    const auto& c = s.rate_curve;
    if (c.empty()) {
      if (s.curve_period_s > 0) fail("rate_curve", "points for the period curve_period_s", "none");
      return;
    }
    for (std::size_t i = 0; i < c.size(); ++i) {
      const std::string field = "rate_curve[" + std::to_string(i) + "]";
      const auto [t, f] = c[i];
      if (!(t >= 0 && t <= MAX_CURVE_S) || (i == 0 && t != 0))
        fail(field, i == 0 ? "time 0 for the first point" : "a time from 0 to 1e12", format_number(t));
      if (i > 0 && t < c[i - 1].first) fail(field, "a time at or after the previous point's " + format_number(c[i - 1].first), format_number(t));
      if (s.curve_period_s > 0 && t > s.curve_period_s)
        fail(field, "a time within curve_period_s (" + format_number(s.curve_period_s) + ")", format_number(t));
      if (!std::isfinite(f) || f < 0 || f > 1e6) fail(field, "a factor from 0 to 1e6", format_number(f));
    }
    // Otherwise the operational clock would stop and the stream never end or never start.
    if (s.curve_period_s > 0) {
      double area = 0.5 * (c.back().second + c.front().second) * (s.curve_period_s - c.back().first);
      for (std::size_t i = 0; i + 1 < c.size(); ++i) area += 0.5 * (c[i].second + c[i + 1].second) * (c[i + 1].first - c[i].first);
      if (!(area > 0)) fail("rate_curve", "a factor above 0 over some stretch of the period", "an integral of 0 over the period");
    }
    if (s.curve_period_s == 0 && c.back().second <= 0)
      fail("rate_curve[" + std::to_string(c.size() - 1) + "]",
           "a factor above 0 for the last point (it holds for ever without a curve_period_s)",
           format_number(c.back().second));
  }

  double next_operational_s() {
    if (spec.arrival == "constant") return static_cast<double>(count) / spec.rate_rps;  // n / rate: no drift
    if (spec.arrival == "gamma") {
      const double shape = 1 / (spec.cv * spec.cv);
      return tau += random.gamma(shape, 1 / (spec.rate_rps * shape));
    }
    return tau += random.exponential(1 / spec.rate_rps);
  }

  std::uint64_t session_of_next() {
    if (spec.sessions == 0) return 0;
    const double p_new = 1 / spec.sessions;
    // A new session with probability 1/mean keeps the mean length at `sessions`
    // requests; a follow-up goes to a random open conversation, so they interleave.
    if (open.empty() || random.uniform01() < p_new) {
      const std::uint64_t id = ++sessions_opened;
      std::uint64_t length = 1;
      if (p_new < 1) {  // geometric, mean 1 / p_new; capped where a huge mean would overflow the count
        const double extra = std::floor(std::log(random.uniform_open0()) / std::log1p(-p_new));
        length += extra < 0x1.0p62 ? static_cast<std::uint64_t>(extra) : std::uint64_t{1} << 62;
      }
      if (length > 1) open.push_back({id, length - 1});
      return id;
    }
    const std::size_t j = static_cast<std::size_t>(random.below(open.size()));
    const std::uint64_t id = open[j].first;
    if (--open[j].second == 0) {
      open[j] = open.back();
      open.pop_back();
    }
    return id;
  }

  std::optional<serving::Request> next() {
    if (done || (spec.requests > 0 && count >= spec.requests)) return std::nullopt;
    const double operational = next_operational_s();
    const double t = curve ? curve->invert(operational) : operational;
    // A time past what a double holds ends the stream as surely as duration_s does.
    if ((spec.duration_s > 0 && t >= spec.duration_s) || !std::isfinite(t)) {
      done = true;
      return std::nullopt;
    }
    serving::Request r;
    r.id = ++count;
    r.arrival_s = t;
    r.prompt_tokens = prompt.draw(random);
    r.output_tokens = output.draw(random);
    r.session = session_of_next();
    return r;
  }

  std::string origin;
  GeneratorSpec spec;
  std::uint64_t seed;
  Random random;
  LengthSampler prompt, output;
  std::optional<RateCurve> curve;
  double tau = 0;  // operational clock of Poisson and gamma arrivals
  std::uint64_t count = 0;
  bool done = false;
  std::uint64_t sessions_opened = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> open;  // (session, requests still to come)
};

RequestGenerator::RequestGenerator(const GeneratorSpec& spec, std::uint64_t seed, std::string origin)
    : impl_(std::make_unique<Impl>(spec, seed, std::move(origin))) {}

RequestGenerator::~RequestGenerator() = default;

std::optional<serving::Request> RequestGenerator::next() { return impl_->next(); }

std::string RequestGenerator::describe() const {
  const auto& s = impl_->spec;
  std::string d = s.arrival + " arrivals at " + format_number(s.rate_rps) + " rps";
  if (s.arrival == "gamma") d += " (cv " + format_number(s.cv) + ")";
  if (!s.rate_curve.empty())
    d += ", rate curve of " + std::to_string(s.rate_curve.size()) + " points" +
         (s.curve_period_s > 0 ? " every " + format_number(s.curve_period_s) + " s" : "");
  d += ", prompt " + impl_->prompt.describe() + ", output " + impl_->output.describe();
  if (s.requests > 0) d += ", " + std::to_string(s.requests) + " requests";
  if (s.duration_s > 0) d += ", " + format_number(s.duration_s) + " s";
  if (s.sessions > 0) d += ", " + format_number(s.sessions) + " requests per session";
  return d + ", seed " + std::to_string(impl_->seed) + "; " + std::to_string(impl_->count) + " generated";
}

LengthFit fit_lengths(const std::filesystem::path& trace) {
  // Welford's running mean and variance of ln(tokens): one pass, constant memory.
  struct Running {
    std::uint64_t n = 0;
    double mean = 0, m2 = 0;
    int min = MAX_TOKENS, max = 0;
    void add(int tokens) {
      const double x = std::log(static_cast<double>(tokens));
      ++n;
      const double delta = x - mean;
      mean += delta / static_cast<double>(n);
      m2 += delta * (x - mean);
      min = std::min(min, tokens);
      max = std::max(max, tokens);
    }
    LengthSpec spec() const {
      LengthSpec s;
      s.kind = LengthKind::LOGNORMAL;
      s.mu = mean;
      s.sigma = std::sqrt(m2 / static_cast<double>(n));
      s.min_tokens = min;
      s.max_tokens = max;
      return s;
    }
  } prompt, output;
  RequestTraceReader reader(trace);
  while (auto r = reader.next()) {
    prompt.add(r->prompt_tokens);
    output.add(r->output_tokens);
  }
  if (prompt.n < 2)
    throw InputError(trace.string(), "fitting lengths needs at least 2 requests, the trace has " + std::to_string(prompt.n));
  return {prompt.spec(), output.spec(), prompt.n};
}

}  // namespace aifsim::workload
