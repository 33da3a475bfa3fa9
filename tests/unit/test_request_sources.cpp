// Request traces (Azure, BurstGPT, Mooncake) and the synthetic request generator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <vector>

#include <zlib.h>

#include "core/error.hpp"
#include "workload/request_generator.hpp"
#include "workload/request_source.hpp"

using namespace aifsim;
using namespace aifsim::workload;

namespace {

const std::filesystem::path DATA = std::filesystem::path(AIFSIM_TEST_DATA_DIR) / "llm";
const std::filesystem::path SHIPPED = std::filesystem::path(AIFSIM_SOURCE_DIR) / "workloads/llm";

std::filesystem::path scratch(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "aifsim-request-tests";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<serving::Request> read_all(RequestSource& source) {
  std::vector<serving::Request> out;
  while (auto r = source.next()) out.push_back(*r);
  return out;
}

std::vector<serving::Request> read_all(const std::filesystem::path& file, const TraceOptions& options = {}) {
  RequestTraceReader reader(file, options);
  return read_all(reader);
}

// The InputError message reading `text` as a trace, or "" when it reads cleanly.
std::string error_of(const std::string& name, const std::string& text, const TraceOptions& options = {}) {
  auto path = scratch(name, text);
  try {
    read_all(path, options);
  } catch (const InputError& e) {
    std::string msg = e.what();
    const std::string prefix = path.string();
    EXPECT_EQ(msg.substr(0, prefix.size()), prefix);
    return msg.substr(prefix.size());  // ":line: ..." without the temporary directory
  }
  return "";
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::string AZURE = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
const std::string BURST = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n";

}  // namespace

TEST(AzureTrace, ArrivalsAreExactAcrossMidnightAndNewYear) {
  RequestTraceReader reader(DATA / "azure_tiny.csv");  // CRLF line ends
  EXPECT_EQ(reader.format(), TraceFormat::AZURE_CSV);
  auto r = read_all(reader);
  ASSERT_EQ(r.size(), 5u);
  // 23:59:58.5 is the origin; fractions have 1, 7, 0, 2 and 9 digits.
  EXPECT_EQ(r[0].arrival_s, 0.0);
  EXPECT_DOUBLE_EQ(r[1].arrival_s, 1.4999999);     // 23:59:59.9999999 - 23:59:58.5
  EXPECT_DOUBLE_EQ(r[2].arrival_s, 1.5);           // next day (and year) 00:00:00
  EXPECT_DOUBLE_EQ(r[3].arrival_s, 2.75);
  EXPECT_DOUBLE_EQ(r[4].arrival_s, 61.623456789);  // 00:01:00.123456789: nanoseconds kept
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].id, i + 1);
    EXPECT_EQ(r[i].prompt_tokens, 100 * static_cast<int>(i + 1));
    EXPECT_EQ(r[i].output_tokens, 10 * static_cast<int>(i + 1));
    EXPECT_EQ(r[i].session, 0u);
  }
}

TEST(AzureTrace, CivilDatesCrossLeapDaysAndMonthEnds) {
  auto r = read_all(scratch("leap.csv", AZURE +
                                            "2024-02-28 23:00:00,1,1\n"
                                            "2024-03-01 00:00:00,1,1\n"   // 2024 is a leap year: +25 h
                                            "2024-04-01 00:00:00.5,1,1\n"  // + 31 days
                                            "2025-03-01 00:00:00,1,1\n"));  // + 334.99... days (2025: no Feb 29)
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].arrival_s, 25 * 3600.0);
  EXPECT_EQ(r[2].arrival_s, 25 * 3600.0 + 31 * 86400.0 + 0.5);
  EXPECT_EQ(r[3].arrival_s, 25 * 3600.0 + 365 * 86400.0);
  // The whole calendar: 3,652,058 days from 0001-01-01 to 9999-12-31 (Python's datetime agrees).
  r = read_all(scratch("span.csv", AZURE + "0001-01-01 00:00:00,1,1\n9999-12-31 23:59:59.5,1,1\n"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].arrival_s, 315537897599.5);
}

TEST(BurstGptTrace, SkipsAndCountsFailedRows) {
  RequestTraceReader reader(DATA / "burstgpt_sample.csv");
  EXPECT_EQ(reader.format(), TraceFormat::BURSTGPT_CSV);
  auto r = read_all(reader);
  ASSERT_EQ(r.size(), 9u);  // 10 rows, the GPT-4 row at 118 s with 0 response tokens failed
  EXPECT_EQ(reader.skipped(), 1u);
  EXPECT_NE(reader.describe().find("9 requests read, 1 failed rows skipped (0 response tokens)"), std::string::npos)
      << reader.describe();
  // Clock re-based to the first row (5 s); ids continue over the skipped row.
  EXPECT_EQ(r[0].arrival_s, 0.0);
  EXPECT_EQ(r[1].arrival_s, 40.0);
  EXPECT_EQ(r[2].id, 3u);
  EXPECT_EQ(r[2].arrival_s, 113.0);
  EXPECT_EQ(r[2].prompt_tokens, 1360);
  EXPECT_EQ(r[2].output_tokens, 395);
  EXPECT_EQ(r[3].arrival_s, 135.5);
  EXPECT_EQ(r[8].arrival_s, 415.0);
  EXPECT_EQ(r[8].output_tokens, 64);
}

TEST(MooncakeTrace, MillisecondsBecomeSeconds) {
  RequestTraceReader reader(DATA / "mooncake_tiny.jsonl");
  EXPECT_EQ(reader.format(), TraceFormat::MOONCAKE_JSONL);
  auto r = read_all(reader);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[1].arrival_s, 0.0);
  EXPECT_EQ(r[2].arrival_s, 1.5);
  EXPECT_EQ(r[3].arrival_s, 2.001);
  EXPECT_EQ(r[4].arrival_s, 60.0);
  EXPECT_EQ(r[3].prompt_tokens, 9000);
  EXPECT_EQ(r[3].output_tokens, 41);
  EXPECT_EQ(r[4].output_tokens, 1);
}

TEST(RequestTrace, GzipReadsLikePlain) {
  auto plain = DATA / "mooncake_tiny.jsonl";
  auto gz = std::filesystem::temp_directory_path() / "aifsim-request-tests" / "tiny.jsonl.gz";
  std::filesystem::create_directories(gz.parent_path());
  std::string text = read_bytes(plain);
  gzFile out = gzopen(gz.string().c_str(), "wb");
  ASSERT_NE(out, nullptr);
  gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
  gzclose(out);
  auto a = read_all(plain), b = read_all(gz);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival_s, b[i].arrival_s);
    EXPECT_EQ(a[i].prompt_tokens, b[i].prompt_tokens);
  }
}

TEST(RequestTrace, WindowThenScaleRebasesToTheWindowStart) {
  TraceOptions o;
  o.start_s = 40;   // BurstGPT clock: rows at 0, 40, 113, 113 (failed), 135.5, 196, ...
  o.end_s = 196;    // exclusive
  o.rate_scale = 2;
  auto r = read_all(DATA / "burstgpt_sample.csv", o);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, 1u);
  EXPECT_EQ(r[0].arrival_s, 0.0);
  EXPECT_EQ(r[1].arrival_s, (113 - 40) / 2.0);
  EXPECT_EQ(r[2].arrival_s, (135.5 - 40) / 2.0);
}

TEST(RequestTrace, MaxRequestsCountsRequestsReturned) {
  TraceOptions o;
  o.max_requests = 3;
  auto r = read_all(DATA / "burstgpt_sample.csv", o);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2].prompt_tokens, 1360);  // the failed row before it does not count
  o.rate_scale = 0.5;                   // < 1 stretches time
  r = read_all(DATA / "azure_tiny.csv", o);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_DOUBLE_EQ(r[2].arrival_s, 3.0);
}

TEST(RequestTrace, ErrorsNameFileLineFieldAndExpectation) {
  EXPECT_EQ(error_of("header.csv", "time,prompt,output\n1,2,3\n"),
            ":1: unrecognised request trace header \"time,prompt,output\"; expected one of: "
            "\"TIMESTAMP,ContextTokens,GeneratedTokens\" (Azure LLM inference), "
            "\"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\" (BurstGPT), "
            "or a JSON object per line with timestamp, input_length and output_length (Mooncake)");
  EXPECT_EQ(error_of("order.csv", AZURE + "2023-11-16 18:15:46.6805900,1,1\n2023-11-16 18:15:46.68058,1,1\n"),
            ":3: field 1 (TIMESTAMP): 2023-11-16 18:15:46.68058 is earlier than the previous row's "
            "2023-11-16 18:15:46.6805900; requests must be sorted by arrival time");
  EXPECT_EQ(error_of("order.csv", BURST + "5,ChatGPT,1,1,2,API log\n4.5,ChatGPT,1,0,1,API log\n"),
            ":3: field 1 (Timestamp): 4.5 is earlier than the previous row's 5; requests must be sorted by arrival time");
  EXPECT_EQ(error_of("number.csv", AZURE + "2023-11-16 18:15:46,12x,1\n"),
            ":2: field 2 (ContextTokens): expected an integer from 1 to 2147483647, got \"12x\"");
  EXPECT_EQ(error_of("int32.csv", AZURE + "2023-11-16 18:15:46,1,2147483648\n"),
            ":2: field 3 (GeneratedTokens): expected an integer from 1 to 2147483647, got \"2147483648\"");
  // No zero-output row exists in the Azure traces: a 0 is corruption, not a failed request.
  EXPECT_EQ(error_of("zero.csv", AZURE + "2023-11-16 18:15:46,5,0\n"),
            ":2: field 3 (GeneratedTokens): expected an integer from 1 to 2147483647, got \"0\"");
  EXPECT_EQ(error_of("date.csv", AZURE + "2023-02-29 00:00:00,1,1\n"),
            ":2: field 1 (TIMESTAMP): expected a date-time like 2023-11-16 18:15:46.6805900, got \"2023-02-29 00:00:00\"");
  EXPECT_EQ(error_of("fraction.csv", AZURE + "2023-11-16 18:15:46.1234567890,1,1\n"),
            ":2: field 1 (TIMESTAMP): expected a date-time like 2023-11-16 18:15:46.6805900, got "
            "\"2023-11-16 18:15:46.1234567890\"");
  EXPECT_EQ(error_of("column.csv", BURST + "5,ChatGPT,472,18,490\n"),
            ":2: expected 6 comma-separated fields (Timestamp,Model,Request tokens,Response tokens,Total tokens,"
            "Log Type), found 5");
  EXPECT_EQ(error_of("prompt.csv", BURST + "5,ChatGPT,0,18,18,API log\n"),
            ":2: field 3 (Request tokens): expected an integer from 1 to 2147483647, got \"0\"");
  EXPECT_EQ(error_of("missing.jsonl", "{\"timestamp\": 0, \"input_length\": 5}\n"),
            ":1: missing field \"output_length\"");
  EXPECT_EQ(error_of("length.jsonl", "{\"timestamp\": 0, \"input_length\": 5.5, \"output_length\": 1}\n"),
            ":1: field \"input_length\": expected an integer from 1 to 2147483647, got 5.5");
  EXPECT_EQ(error_of("order.jsonl", "{\"timestamp\": 10, \"input_length\": 5, \"output_length\": 1}\n"
                                    "{\"timestamp\": 9, \"input_length\": 5, \"output_length\": 1}\n"),
            ":2: field \"timestamp\": 9 is earlier than the previous row's 10; requests must be sorted by arrival time");
  EXPECT_EQ(error_of("syntax.jsonl", "{\"timestamp\": 10, \"input_length\": 5, \"output_length\": 1}\n{\"timestamp\"\n"),
            ":2: expected one JSON object per line: at column 13: syntax error while parsing object separator - unexpected end of "
            "input; expected ':'");
  EXPECT_EQ(error_of("nul.csv", AZURE + std::string("2023-11-16 18:15:46,1,\0", 23) + "1\n"),
            ":2: binary data (NUL byte): not a request trace text file");
  EXPECT_EQ(error_of("empty.csv", "\n  \n"), ": the request trace is empty");
  TraceOptions bad;
  bad.rate_scale = 0;
  EXPECT_EQ(error_of("options.csv", AZURE, bad), ": trace option rate_scale: expected a number from 1e-6 to 1e6, got 0");
  bad = {};
  bad.start_s = 10;
  bad.end_s = 5;
  EXPECT_EQ(error_of("options.csv", AZURE, bad),
            ": trace option end_s: expected a finite number above start_s (10), got 5");
  EXPECT_THROW(RequestTraceReader(DATA / "no_such_trace.csv"), InputError);
}

TEST(RequestTrace, TruncatedGzipIsAnInputError) {
  std::string bytes = read_bytes(SHIPPED / "azure_conv_2023.csv.gz");
  auto path = scratch("truncated.csv.gz", bytes.substr(0, bytes.size() / 2));
  try {
    read_all(path);
    FAIL() << "a truncated gzip stream read cleanly";
  } catch (const InputError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path.string() + ":", 0), 0u) << msg;
    EXPECT_NE(msg.find(": cannot decompress request trace: unexpected end of file"), std::string::npos) << msg;
  }
}

TEST(ShippedTraces, AzureConversationMatchesSources) {
  RequestTraceReader reader(SHIPPED / "azure_conv_2023.csv.gz");
  std::uint64_t n = 0;
  double prompt = 0, output = 0, last = 0;
  while (auto r = reader.next()) {
    ++n;
    prompt += r->prompt_tokens;
    output += r->output_tokens;
    last = r->arrival_s;
  }
  EXPECT_EQ(n, 19366u);
  EXPECT_NEAR(prompt / n, 1155, 1);  // 1,154.7
  EXPECT_NEAR(output / n, 211, 1);   // 211.1
  EXPECT_NEAR(last, 3501.721937, 1e-9);  // 19:14:08.4025270 - 18:15:46.6805900
}

TEST(ShippedTraces, MooncakeConversationMatchesSources) {
  RequestTraceReader reader(SHIPPED / "mooncake_conversation.jsonl.gz");
  std::uint64_t n = 0;
  double prompt = 0, output = 0, last = 0;
  while (auto r = reader.next()) {
    ++n;
    prompt += r->prompt_tokens;
    output += r->output_tokens;
    last = r->arrival_s;
  }
  EXPECT_EQ(n, 12031u);
  EXPECT_NEAR(prompt / n, 12035, 1);  // 12,035.1
  EXPECT_NEAR(output / n, 343, 1);    // 342.6
  EXPECT_EQ(last, 3536.999);
}

// ---- generator ----

namespace {

GeneratorSpec base_spec() {
  GeneratorSpec s;
  s.rate_rps = 4;
  s.prompt.tokens = 100;
  s.output.tokens = 10;
  s.requests = 100000;
  return s;
}

std::vector<double> gaps(const std::vector<serving::Request>& r) {
  std::vector<double> g;
  double last = 0;
  for (const auto& x : r) g.push_back(x.arrival_s - last), last = x.arrival_s;
  return g;
}

std::pair<double, double> mean_cv(const std::vector<double>& v) {
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, std::sqrt(var / static_cast<double>(v.size())) / mean};
}

std::string generator_error(const GeneratorSpec& spec) {
  try {
    RequestGenerator g(spec, 1, "gen.json: at $.generator");
    return "";
  } catch (const InputError& e) {
    return e.what();
  }
}

}  // namespace

TEST(RequestGenerator, PoissonMeanGapIsOneOverRate) {
  RequestGenerator g(base_spec(), 42);
  auto r = read_all(g);
  ASSERT_EQ(r.size(), 100000u);
  auto [mean, cv] = mean_cv(gaps(r));
  EXPECT_NEAR(mean, 0.25, 0.25 * 0.02);
  EXPECT_NEAR(cv, 1.0, 0.03);  // exponential gaps
  EXPECT_EQ(r.back().id, 100000u);
}

TEST(RequestGenerator, GammaHasTheRequestedCv) {
  for (double want : {0.5, 2.0, 4.0}) {
    auto s = base_spec();
    s.arrival = "gamma";
    s.cv = want;
    RequestGenerator g(s, 7);
    auto [mean, cv] = mean_cv(gaps(read_all(g)));
    EXPECT_NEAR(mean, 0.25, 3 * 0.25 * want / std::sqrt(100000.0)) << "cv " << want;  // 3 standard errors
    EXPECT_NEAR(cv, want, want * 0.03) << "cv " << want;
  }
}

TEST(RequestGenerator, ConstantIsExact) {
  auto s = base_spec();
  s.arrival = "constant";
  s.rate_rps = 3;
  s.requests = 0;
  s.duration_s = 10;  // arrivals at n / 3 for n = 0..29
  RequestGenerator g(s, 1);
  auto r = read_all(g);
  ASSERT_EQ(r.size(), 30u);
  for (std::size_t n = 0; n < r.size(); ++n) EXPECT_EQ(r[n].arrival_s, static_cast<double>(n) / 3);
}

TEST(RequestGenerator, RateCurveStepGetsTwoThirdsInTheDoubledHalf) {
  auto s = base_spec();
  s.rate_rps = 10;
  s.rate_curve = {{0, 2}, {50, 2}, {50, 1}, {100, 1}};
  s.curve_period_s = 100;
  s.requests = 0;
  s.duration_s = 20000;  // 200 periods, 300,000 expected requests
  RequestGenerator g(s, 3);
  std::uint64_t first_half = 0, total = 0;
  while (auto r = g.next()) {
    ++total;
    first_half += std::fmod(r->arrival_s, 100) < 50;
  }
  EXPECT_NEAR(static_cast<double>(total), 300000, 3 * std::sqrt(300000.0));
  EXPECT_NEAR(static_cast<double>(first_half) / total, 2.0 / 3, 0.005);
}

TEST(RequestGenerator, RateCurveRampAndHoldAreExactForConstantArrivals) {
  auto s = base_spec();
  s.arrival = "constant";
  s.rate_rps = 1;
  s.requests = 0;
  s.duration_s = 20;
  // Factor 1 to t = 10 s, then a ramp to 3 at 12 s (integral 4), then 3 held.
  s.rate_curve = {{0, 1}, {10, 1}, {12, 3}};
  RequestGenerator g(s, 1);
  auto r = read_all(g);
  for (int n = 0; n <= 10; ++n) EXPECT_DOUBLE_EQ(r[n].arrival_s, n);
  // Lambda(10 + x) = 10 + x + x^2 / 2 on the ramp: Lambda = 11 at x = sqrt(3) - 1.
  EXPECT_DOUBLE_EQ(r[11].arrival_s, 10 + std::sqrt(3.0) - 1);
  EXPECT_DOUBLE_EQ(r[14].arrival_s, 12.0);               // Lambda(12) = 14
  EXPECT_DOUBLE_EQ(r[17].arrival_s, 13.0);               // then 3 per second
  EXPECT_EQ(r.size(), 14u + 24u);                        // 8 s at 3/s after t = 12
}

TEST(RequestGenerator, SameSeedSameSequence) {
  auto s = base_spec();
  s.arrival = "gamma";
  s.cv = 1.5;
  s.requests = 1000;
  s.prompt.kind = LengthKind::LOGNORMAL;
  s.prompt.mu = 6;
  s.prompt.sigma = 1;
  s.output.kind = LengthKind::UNIFORM;
  s.output.max_tokens = 500;
  s.sessions = 3;
  RequestGenerator a(s, 99), b(s, 99), c(s, 100);
  auto ra = read_all(a), rb = read_all(b), rc = read_all(c);
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].arrival_s, rb[i].arrival_s);
    EXPECT_EQ(ra[i].prompt_tokens, rb[i].prompt_tokens);
    EXPECT_EQ(ra[i].output_tokens, rb[i].output_tokens);
    EXPECT_EQ(ra[i].session, rb[i].session);
  }
  EXPECT_NE(ra[5].arrival_s, rc[5].arrival_s);
}

TEST(RequestGenerator, UniformCoversItsInclusiveBounds) {
  auto s = base_spec();
  s.requests = 20000;
  s.prompt.kind = LengthKind::UNIFORM;
  s.prompt.min_tokens = 3;
  s.prompt.max_tokens = 6;
  RequestGenerator g(s, 5);
  std::map<int, int> seen;
  while (auto r = g.next()) ++seen[r->prompt_tokens];
  ASSERT_EQ(seen.size(), 4u);
  for (const auto& [tokens, n] : seen) EXPECT_NEAR(n, 5000, 250) << tokens;
  EXPECT_EQ(seen.begin()->first, 3);
  EXPECT_EQ(seen.rbegin()->first, 6);
}

TEST(RequestGenerator, EmpiricalDrawsTheTraceColumn) {
  auto s = base_spec();
  s.requests = 45000;
  s.prompt.kind = LengthKind::EMPIRICAL;
  s.prompt.trace = DATA / "burstgpt_sample.csv";  // 9 served requests, distinct prompts
  s.output.kind = LengthKind::EMPIRICAL;
  s.output.trace = DATA / "burstgpt_sample.csv";
  s.output.column = TraceColumn::PROMPT;  // deliberately the prompt column
  RequestGenerator g(s, 11);
  const std::vector<int> expected = {5, 63, 77, 472, 980, 1087, 1360, 2004, 3311};  // 417 failed: absent
  std::map<int, int> prompts;
  while (auto r = g.next()) {
    ++prompts[r->prompt_tokens];
    EXPECT_TRUE(std::binary_search(expected.begin(), expected.end(), r->output_tokens)) << r->output_tokens;
  }
  ASSERT_EQ(prompts.size(), expected.size());
  std::size_t i = 0;
  for (const auto& [tokens, n] : prompts) {
    EXPECT_EQ(tokens, expected[i++]);
    EXPECT_NEAR(n, 5000, 300);
  }
}

TEST(RequestGenerator, SessionsAverageTheRequestedLengthAndInterleave) {
  auto s = base_spec();
  s.sessions = 4;
  RequestGenerator g(s, 8);
  std::map<std::uint64_t, int> per_session;
  std::uint64_t switches = 0, last = 0;
  while (auto r = g.next()) {
    ++per_session[r->session];
    switches += r->session != last;
    last = r->session;
  }
  EXPECT_NEAR(100000.0 / per_session.size(), 4.0, 4 * 0.03);
  EXPECT_GT(switches, 90000u);  // conversations interleave rather than run back to back
}

TEST(RequestGenerator, LognormalFitRecoversMuAndSigma) {
  auto s = base_spec();
  s.prompt.kind = LengthKind::LOGNORMAL;
  s.prompt.mu = 7;  // about 1,100 tokens: rounding to integers is negligible
  s.prompt.sigma = 0.8;
  s.output.kind = LengthKind::LOGNORMAL;
  s.output.mu = 5.3;
  s.output.sigma = 1.1;
  RequestGenerator g(s, 21);
  std::string text;
  std::uint64_t ms = 0;
  while (auto r = g.next())
    text += "{\"timestamp\": " + std::to_string(ms++) + ", \"input_length\": " + std::to_string(r->prompt_tokens) +
            ", \"output_length\": " + std::to_string(r->output_tokens) + "}\n";
  auto fit = fit_lengths(scratch("fit.jsonl", text));
  EXPECT_EQ(fit.requests, 100000u);
  EXPECT_EQ(fit.prompt.kind, LengthKind::LOGNORMAL);
  EXPECT_NEAR(fit.prompt.mu, 7, 7 * 0.02);
  EXPECT_NEAR(fit.prompt.sigma, 0.8, 0.8 * 0.02);
  EXPECT_NEAR(fit.output.mu, 5.3, 5.3 * 0.02);
  EXPECT_NEAR(fit.output.sigma, 1.1, 1.1 * 0.02);
  EXPECT_GE(fit.output.min_tokens, 1);
}

TEST(RequestGenerator, FitOfTheTinyTraceIsTheLogMoments) {
  auto fit = fit_lengths(DATA / "mooncake_tiny.jsonl");
  const std::vector<double> out = {500, 316, 3, 41, 1};
  double mean = 0, var = 0;
  for (double x : out) mean += std::log(x) / 5;
  for (double x : out) var += (std::log(x) - mean) * (std::log(x) - mean) / 5;
  EXPECT_DOUBLE_EQ(fit.output.mu, mean);
  EXPECT_NEAR(fit.output.sigma, std::sqrt(var), 1e-12);
  EXPECT_EQ(fit.output.min_tokens, 1);
  EXPECT_EQ(fit.output.max_tokens, 500);
  EXPECT_EQ(fit.prompt.max_tokens, 9000);
}

TEST(RequestGenerator, ValidationNamesTheField) {
  auto s = base_spec();
  s.rate_rps = 0;
  EXPECT_EQ(generator_error(s), "gen.json: at $.generator: rate_rps: expected a number from 1e-9 to 1e9, got 0");
  s = base_spec();
  s.arrival = "weibull";
  EXPECT_EQ(generator_error(s), "gen.json: at $.generator: arrival: expected poisson, gamma or constant, got \"weibull\"");
  s = base_spec();
  s.cv = -1;
  EXPECT_EQ(generator_error(s), "gen.json: at $.generator: cv: expected a number from 0.001 to 10, got -1");
  s = base_spec();
  s.requests = 0;
  EXPECT_EQ(generator_error(s),
            "gen.json: at $.generator: requests: expected a request count or a duration_s to stop at, got neither");
  s = base_spec();
  s.prompt.tokens = 0;
  EXPECT_EQ(generator_error(s), "gen.json: at $.generator: prompt.tokens: expected an integer from 1 to 2147483647, got 0");
  s = base_spec();
  s.output.kind = LengthKind::UNIFORM;
  EXPECT_EQ(generator_error(s),
            "gen.json: at $.generator: output.max_tokens: expected an upper bound for a uniform length, got none");
  s = base_spec();
  s.prompt.kind = LengthKind::LOGNORMAL;
  s.prompt.mu = 6;
  s.prompt.sigma = -0.5;
  EXPECT_EQ(generator_error(s), "gen.json: at $.generator: prompt.sigma: expected a number from 0 to 10, got -0.5");
  s = base_spec();
  s.sessions = 0.5;
  EXPECT_EQ(generator_error(s),
            "gen.json: at $.generator: sessions: expected 0 (none) or a mean of at least 1 request per session, got 0.5");
  s = base_spec();
  s.rate_curve = {{0, 1}, {10, 2}, {5, 1}};
  EXPECT_EQ(generator_error(s),
            "gen.json: at $.generator: rate_curve[2]: expected a time at or after the previous point's 10, got 5");
  s.rate_curve = {{0, 1}, {10, 0}};
  EXPECT_EQ(generator_error(s),
            "gen.json: at $.generator: rate_curve[1]: expected a factor above 0 for the last point (it holds for ever "
            "without a curve_period_s), got 0");
  s.rate_curve = {{0, 0}, {10, 0}};
  s.curve_period_s = 20;
  EXPECT_EQ(generator_error(s),
            "gen.json: at $.generator: rate_curve: expected a factor above 0 over some stretch of the period, got an "
            "integral of 0 over the period");
  s = base_spec();
  s.prompt.kind = LengthKind::EMPIRICAL;
  s.prompt.trace = DATA / "no_such_trace.csv";
  EXPECT_NE(generator_error(s).find("no_such_trace.csv: cannot open request trace: no such file"), std::string::npos);
}
