// Seeded mutation fuzzing of the request trace readers (Azure CSV, BurstGPT CSV,
// Mooncake JSONL, plain and gzip) and of the request generator's spec validation. Every
// input must either stream requests that keep the reader's promises (ids 1, 2, 3...,
// finite non-decreasing arrivals from 0, token counts >= 1) or be rejected with an
// InputError whose message starts with the file name. Anything else fails, and the
// input is kept for tests/fuzz/regressions/. Iterations: AIFSIM_FUZZ_ITERATIONS.
#include <gtest/gtest.h>

#include "fuzz_support.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <zlib.h>

#include "core/error.hpp"
#include "workload/request_generator.hpp"
#include "workload/request_source.hpp"

using namespace aifsim;
using namespace aifsim::workload;

namespace {

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::string mutate(std::string text) {
    int rounds = 1 + static_cast<int>(pick(4));
    for (int i = 0; i < rounds; ++i) {
      if (text.empty()) text = token();
      std::size_t at = pick(text.size());
      switch (pick(9)) {
        case 0: text[at] = static_cast<char>(pick(256)); break;  // byte flip
        case 1: text.insert(at, token()); break;
        case 2: text.erase(at, 1 + pick(std::min<std::size_t>(16, text.size() - at))); break;
        case 3:  // a number replaced by an extreme one
          fuzzing::replace_number(text, at, extreme());
          break;
        case 4: {  // a line duplicated
          auto [s, e] = line_at(text, at);
          text.insert(s, text.substr(s, e - s));
          break;
        }
        case 5: text.resize(at); break;  // truncated
        case 6: {                        // two lines swapped: reordering
          auto [s1, e1] = line_at(text, at);
          auto [s2, e2] = line_at(text, pick(text.size()));
          if (s1 > s2) std::swap(s1, s2), std::swap(e1, e2);
          if (e1 > s2) break;
          std::string a = text.substr(s1, e1 - s1), b = text.substr(s2, e2 - s2);
          text.replace(s2, e2 - s2, a);
          text.replace(s1, e1 - s1, b);
          break;
        }
        case 7: text.insert(at, std::string(1, '\0')); break;
        default: std::swap(text[at], text[pick(text.size())]); break;
      }
    }
    return text;
  }

  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  double extreme_number() { return std::stod(extreme()); }

 private:
  // [start, end) of the line holding `at`, its newline included.
  static std::pair<std::size_t, std::size_t> line_at(const std::string& text, std::size_t at) {
    std::size_t s = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
    s = s == std::string::npos ? 0 : s + 1;
    std::size_t e = text.find('\n', at);
    return {s, e == std::string::npos ? text.size() : e + 1};
  }
  std::string token() {
    static const char* tokens[] = {",", "\n", "\r\n", " ", "-1", "0", "{", "}", "[", "]", "\"", ":", "1e308",
                                   "nan", "inf", ".", "-", "2023-13-01", "23:59:60", "\xEF\xBB\xBF", "\"timestamp\"",
                                   "null", "\t"};
    return tokens[pick(sizeof tokens / sizeof *tokens)];
  }
  std::string extreme() {
    static const char* values[] = {"-1", "0", "-0", "1e308", "99999999999999999999", "2147483647", "2147483648",
                                   "4294967296", "1e12", "0.5", "1e-300", "7", "9223372036854775808"};
    return values[pick(sizeof values / sizeof *values)];
  }
  std::mt19937_64 rng_;
};

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "aifsim-fuzz";
  std::filesystem::create_directories(dir);
  return dir / name;
}

void write(const std::filesystem::path& path, const std::string& text, bool gzip) {
  // A fresh file, not a truncated one: ext4 flushes a truncated file to disk on close,
  // which made each iteration cost milliseconds.
  std::filesystem::remove(path);
  if (!gzip) {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  gzFile out = gzopen(path.string().c_str(), "wb");
  gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
  gzclose(out);
}

// Reads a whole trace; returns what is wrong, or "" for a clean read (counted in
// `clean`) or a proper InputError.
std::string check_trace(const std::filesystem::path& path, const TraceOptions& options, int& clean) {
  try {
    RequestTraceReader reader(path, options);
    std::uint64_t id = 0;
    double last = 0;
    while (auto r = reader.next()) {
      if (r->id != ++id) return "id " + std::to_string(r->id) + " out of sequence";
      if (!std::isfinite(r->arrival_s) || r->arrival_s < 0 || r->arrival_s < last)
        return "arrival " + std::to_string(r->arrival_s) + " after " + std::to_string(last);
      if (r->prompt_tokens < 1 || r->output_tokens < 1) return "token count below 1";
      last = r->arrival_s;
    }
    if (options.max_requests && id > *options.max_requests) return "more than max_requests";
    reader.describe();
    ++clean;
  } catch (const InputError& e) {
    std::string msg = e.what();
    if (msg.rfind(path.string(), 0) != 0) return "error without the file name: " + msg;
  } catch (const std::exception& e) {
    return std::string("unexpected exception: ") + e.what();
  }
  return "";
}

void keep(const std::string& kind, const std::string& text, const std::string& problem) {
  auto path = scratch("failure-" + kind + "-" + std::to_string(std::hash<std::string>{}(text)));
  std::ofstream(path, std::ios::binary) << text;
  ADD_FAILURE() << kind << ": " << problem << "; input kept at " << path
                << " (copy it to tests/fuzz/regressions/" << kind << "-*)";
}

void fuzz_trace(const std::string& seed_file, std::uint64_t seed) {
  const auto dir = std::filesystem::path(AIFSIM_TEST_DATA_DIR) / "llm";
  const std::string original = aifsim::fuzzing::read_file(dir / seed_file);
  ASSERT_FALSE(original.empty()) << seed_file;
  // Known failures first.
  const auto regressions = std::filesystem::path(AIFSIM_SOURCE_DIR) / "tests/fuzz/regressions";
  std::vector<std::string> inputs;
  if (std::filesystem::exists(regressions)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(regressions))
      if (entry.path().filename().string().rfind("request-trace-", 0) == 0) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) inputs.push_back(aifsim::fuzzing::read_file(f));
  }
  Mutator m(seed);
  const int n = aifsim::fuzzing::iterations();
  int clean = 0;
  for (int i = 0; i < n + static_cast<int>(inputs.size()); ++i) {
    const std::string text = i < static_cast<int>(inputs.size()) ? inputs[static_cast<std::size_t>(i)] : m.mutate(original);
    const bool gzip = m.pick(5) == 0;
    auto path = scratch("trace-input" + std::string(gzip ? ".gz" : ""));
    write(path, text, gzip);
    if (gzip && m.pick(2) == 0) {  // a damaged compressed stream, not only damaged text
      std::string bytes = aifsim::fuzzing::read_file(path);
      if (bytes.size() > 12) {
        if (m.pick(2)) bytes.resize(10 + m.pick(bytes.size() - 10));
        else bytes[10 + m.pick(bytes.size() - 10)] ^= static_cast<char>(1 + m.pick(255));
      }
      std::filesystem::remove(path);
      std::ofstream(path, std::ios::binary) << bytes;
    }
    TraceOptions options;
    switch (m.pick(4)) {
      case 0: options.max_requests = 1 + m.pick(4); break;
      case 1: options.start_s = 0.5 * static_cast<double>(m.pick(4)), options.end_s = 100; break;
      case 2: options.rate_scale = m.pick(2) ? 1e-6 : 1e6; break;
      default: break;
    }
    std::string problem = check_trace(path, options, clean);
    if (!problem.empty()) {
      keep("request-trace", text, problem);
      return;
    }
  }
  // Mutations that every reader rejects at the first line would test the header check only.
  EXPECT_GT(clean, n / 20) << seed_file;
}

}  // namespace

TEST(RequestTraceFuzz, Azure) { fuzz_trace("azure_tiny.csv", 101); }
TEST(RequestTraceFuzz, BurstGpt) { fuzz_trace("burstgpt_sample.csv", 202); }
TEST(RequestTraceFuzz, Mooncake) { fuzz_trace("mooncake_tiny.jsonl", 303); }

// Random generator specs from extreme values: each is rejected with an InputError or
// yields a sane stream, never a hang, a NaN time or an exception of another kind.
TEST(RequestGeneratorFuzz, ExtremeSpecs) {
  Mutator m(404);
  const double values[] = {-1, 0, 1e-300, 1e-9, 0.5, 1, 2, 50, 1e6, 1e9, 1e12, 1e308, std::nan("")};
  // Each field keeps a sane value seven times in eight, so that many specs pass
  // validation and the sampling and curve code run on the extreme values that remain.
  auto value = [&](double sane) { return m.pick(8) ? sane : values[m.pick(sizeof values / sizeof *values)]; };
  auto tokens = [&](int sane) {
    return m.pick(8) ? sane : static_cast<int>(m.pick(2) ? m.pick(3) : 2147483647 - m.pick(2));
  };
  const char* arrivals[] = {"poisson", "gamma", "constant", "bursty"};
  int accepted = 0;
  for (int i = 0; i < aifsim::fuzzing::iterations(); ++i) {
    GeneratorSpec s;
    s.arrival = arrivals[m.pick(4)];
    s.rate_rps = value(5);
    s.cv = value(1.5);
    s.requests = m.pick(3) ? m.pick(300) : 0;
    s.duration_s = m.pick(2) ? value(100) : 0;
    s.sessions = m.pick(2) ? value(3) : 0;
    double t = 0;
    for (std::size_t p = 0, n = m.pick(5); p < n; ++p) s.rate_curve.emplace_back(p == 0 ? 0 : value(t += 10), value(2));
    s.curve_period_s = m.pick(2) ? value(t + 10) : 0;
    for (LengthSpec* l : {&s.prompt, &s.output}) {
      l->kind = static_cast<LengthKind>(m.pick(3));  // EMPIRICAL is the trace reader's, fuzzed above
      l->tokens = tokens(100);
      l->min_tokens = tokens(1);
      if (m.pick(4)) l->max_tokens = tokens(4000);
      l->mu = value(5);
      l->sigma = value(1);
    }
    try {
      RequestGenerator g(s, i);
      double last = 0;
      // Without a count the duration stops it; cap the walk so a slow-but-legal spec stays cheap.
      for (int k = 0; k < 300; ++k) {
        auto r = g.next();
        if (!r) break;
        ASSERT_TRUE(std::isfinite(r->arrival_s) && r->arrival_s >= last) << g.describe();
        ASSERT_GE(r->prompt_tokens, 1) << g.describe();
        ASSERT_GE(r->output_tokens, 1) << g.describe();
        last = r->arrival_s;
      }
      g.describe();
      ++accepted;
    } catch (const InputError&) {
    } catch (const std::exception& e) {
      FAIL() << "iteration " << i << ": " << e.what();
    }
  }
  // A fuzzer whose every spec is rejected tests the validation only.
  EXPECT_GT(accepted, aifsim::fuzzing::iterations() / 5);
}
