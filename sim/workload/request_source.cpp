#include "workload/request_source.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/text.hpp"
#include "workload/line_reader.hpp"

namespace aifsim::workload {

namespace {

constexpr std::string_view AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens";
constexpr std::string_view BURSTGPT_HEADER = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type";
constexpr std::array<const char*, 3> AZURE_FIELDS = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
constexpr std::array<const char*, 6> BURSTGPT_FIELDS = {"Timestamp",       "Model",        "Request tokens",
                                                         "Response tokens", "Total tokens", "Log Type"};
constexpr std::int64_t INT32_MAX_TOKENS = std::numeric_limits<std::int32_t>::max();
// A relative clock beyond this is corruption, not a trace: 1e12 s is 31,700 years.
constexpr double MAX_CLOCK_S = 1e12;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits a CSV line on commas (none of the supported formats quotes its fields); returns
// the number of fields found, filling at most `out.size()`.
template <std::size_t N>
std::size_t split_csv(std::string_view line, std::array<std::string_view, N>& out) {
  std::size_t count = 0;
  for (;;) {
    auto comma = line.find(',');
    if (count < N) out[count] = trim(line.substr(0, comma));
    ++count;
    if (comma == std::string_view::npos) return count;
    line.remove_prefix(comma + 1);
  }
}

std::string normalise_header(std::string_view line) {
  std::array<std::string_view, 8> fields;
  std::size_t n = split_csv(line, fields);
  if (n > fields.size()) return std::string(line);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + std::string(fields[i]);
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
// exact across month, year and leap-day boundaries.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28) == 2);

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : DAYS[m - 1];
}

// A date-time as whole seconds since 1970 and nanoseconds: differences stay exact where
// a double would lose the 100 ns ticks Azure records, and, unlike one int64 count of
// nanoseconds (+-292 years), the pair spans every year from 1 to 9999.
struct DateTime {
  std::int64_t s = 0;
  std::int64_t ns = 0;  // 0 .. 999,999,999
  auto operator<=>(const DateTime&) const = default;
};

// "YYYY-MM-DD HH:MM:SS[.fraction]", 1 to 9 fraction digits.
std::optional<DateTime> parse_date_time(std::string_view s) {
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<std::int64_t> {
    if (at + n > s.size()) return std::nullopt;
    std::int64_t v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*year < 1 || *month < 1 || *month > 12 || *day < 1 ||
      *day > days_in_month(*year, static_cast<unsigned>(*month)) || *hour > 23 || *minute > 59 || *second > 59)
    return std::nullopt;
  std::int64_t fraction_ns = 0;
  if (s.size() > 19) {
    std::size_t n = s.size() - 20;
    if (s[19] != '.' || n < 1 || n > 9) return std::nullopt;
    auto fraction = digits(20, n);
    if (!fraction) return std::nullopt;
    fraction_ns = *fraction;
    for (std::size_t i = n; i < 9; ++i) fraction_ns *= 10;
  }
  std::int64_t days = days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  return DateTime{((days * 24 + *hour) * 60 + *minute) * 60 + *second, fraction_ns};
}

std::string quoted(std::string_view s) {
  constexpr std::size_t LIMIT = 40;
  std::string out = "\"";
  for (char c : s.substr(0, LIMIT)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out + (s.size() > LIMIT ? "...\"" : "\"");
}

}  // namespace

const char* to_string(TraceFormat format) {
  switch (format) {
    case TraceFormat::AZURE_CSV: return "Azure LLM inference CSV";
    case TraceFormat::BURSTGPT_CSV: return "BurstGPT CSV";
    case TraceFormat::MOONCAKE_JSONL: return "Mooncake JSONL";
  }
  return "?";
}

struct RequestTraceReader::Impl {
  // One row as the format gives it, before windowing and scaling.
  struct Row {
    double clock_s = 0;  // since the trace's first row
    int prompt = 0;
    int output = 0;
    bool failed = false;
  };

  Impl(const std::filesystem::path& file, const TraceOptions& opts) : reader(file, "request trace"), options(opts) {
    validate_options();
    std::string_view line, text;
    while (text.empty()) {
      if (!reader.next(line)) throw InputError(reader.file(), "the request trace is empty");
      if (reader.line_number() == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
      text = trim(line);
    }
    std::string header = normalise_header(text);
    if (header == AZURE_HEADER) {
      format = TraceFormat::AZURE_CSV;
    } else if (header == BURSTGPT_HEADER) {
      format = TraceFormat::BURSTGPT_CSV;
    } else if (text.front() == '{') {
      format = TraceFormat::MOONCAKE_JSONL;
      pending_line = std::string(text);  // the first record is data, not a header
    } else {
      throw InputError(reader.where(), "unrecognised request trace header " + quoted(text) +
                                           "; expected one of: \"" + std::string(AZURE_HEADER) +
                                           "\" (Azure LLM inference), \"" + std::string(BURSTGPT_HEADER) +
                                           "\" (BurstGPT), or a JSON object per line with timestamp, "
                                           "input_length and output_length (Mooncake)");
    }
  }

  void validate_options() const {
    auto bad = [&](const std::string& field, const std::string& expected, double got) {
      throw InputError(reader.file(), "trace option " + field + ": expected " + expected + ", got " + format_number(got));
    };
    // Within these bounds every scaled arrival (clocks stop at 1e12 s) stays finite.
    if (!(options.rate_scale >= 1e-6 && options.rate_scale <= 1e6))
      bad("rate_scale", "a number from 1e-6 to 1e6", options.rate_scale);
    if (options.start_s && (!std::isfinite(*options.start_s) || *options.start_s < 0))
      bad("start_s", "a finite number >= 0", *options.start_s);
    if (options.end_s && (!std::isfinite(*options.end_s) || *options.end_s <= options.start_s.value_or(0)))
      bad("end_s", "a finite number above start_s (" + format_number(options.start_s.value_or(0)) + ")", *options.end_s);
    if (options.max_requests && *options.max_requests == 0)
      throw InputError(reader.file(), "trace option max_requests: expected at least 1, got 0");
  }

  std::optional<serving::Request> next() {
    while (!done) {
      if (options.max_requests && returned >= *options.max_requests) break;
      auto row = read_row();
      if (!row) break;
      if (options.start_s && row->clock_s < *options.start_s) continue;
      if (options.end_s && row->clock_s >= *options.end_s) break;  // sorted: nothing later is inside
      if (row->failed) {  // counted only inside the window, like the requests
        ++skipped;
        continue;
      }
      serving::Request r;
      r.id = ++returned;
      r.arrival_s = (row->clock_s - options.start_s.value_or(0)) / options.rate_scale;
      r.prompt_tokens = row->prompt;
      r.output_tokens = row->output;
      return r;
    }
    done = true;
    return std::nullopt;
  }

  std::optional<Row> read_row() {
    std::string_view line;
    if (pending_line) {
      line_storage = std::move(*pending_line);
      pending_line.reset();
      line = line_storage;
    } else {
      do {
        if (!reader.next(line)) return std::nullopt;
      } while (trim(line).empty());
    }
    switch (format) {
      case TraceFormat::AZURE_CSV: return azure_row(line);
      case TraceFormat::BURSTGPT_CSV: return burstgpt_row(line);
      case TraceFormat::MOONCAKE_JSONL: return mooncake_row(line);
    }
    return std::nullopt;
  }

  // "field 2 (ContextTokens)"
  template <std::size_t N>
  static std::string field_name(const std::array<const char*, N>& names, std::size_t i) {
    return "field " + std::to_string(i + 1) + " (" + names[i] + ")";
  }

  template <std::size_t N>
  std::array<std::string_view, N> split_fields(std::string_view line, std::string_view header) const {
    std::array<std::string_view, N> fields;
    std::size_t n = split_csv(line, fields);
    if (n != N)
      throw InputError(reader.where(), "expected " + std::to_string(N) + " comma-separated fields (" +
                                           std::string(header) + "), found " + std::to_string(n));
    return fields;
  }

  int tokens(std::string_view token, const std::string& field, std::int64_t min) const {
    auto v = parse_int(token);
    if (!v || *v < min || *v > INT32_MAX_TOKENS)
      throw InputError(reader.where(), field + ": expected an integer from " + std::to_string(min) + " to " +
                                           std::to_string(INT32_MAX_TOKENS) + ", got " + quoted(token));
    return static_cast<int>(*v);
  }

  void out_of_order(const std::string& field, const std::string& got, const std::string& previous) const {
    throw InputError(reader.where(), field + ": " + got + " is earlier than the previous row's " + previous +
                                         "; requests must be sorted by arrival time");
  }

  Row azure_row(std::string_view line) {
    auto f = split_fields<AZURE_FIELDS.size()>(line, AZURE_HEADER);
    auto time = parse_date_time(f[0]);
    if (!time)
      throw InputError(reader.where(), field_name(AZURE_FIELDS, 0) +
                                           ": expected a date-time like 2023-11-16 18:15:46.6805900, got " +
                                           quoted(f[0]));
    if (!first_time) first_time = *time;
    if (last_time && *time < *last_time) out_of_order(field_name(AZURE_FIELDS, 0), std::string(f[0]), last_text);
    last_time = *time;
    last_text = f[0];
    Row row;
    row.clock_s = static_cast<double>(time->s - first_time->s) + static_cast<double>(time->ns - first_time->ns) / 1e9;
    row.prompt = tokens(f[1], field_name(AZURE_FIELDS, 1), 1);
    row.output = tokens(f[2], field_name(AZURE_FIELDS, 2), 1);
    return row;
  }

  Row burstgpt_row(std::string_view line) {
    auto f = split_fields<BURSTGPT_FIELDS.size()>(line, BURSTGPT_HEADER);
    auto t = parse_double(f[0]);
    if (!t || *t < 0 || *t > MAX_CLOCK_S)
      throw InputError(reader.where(), field_name(BURSTGPT_FIELDS, 0) + ": expected seconds from 0 to 1e12, got " +
                                           quoted(f[0]));
    check_clock(*t, field_name(BURSTGPT_FIELDS, 0), std::string(f[0]));
    Row row;
    row.clock_s = *t - *first_clock;
    // BurstGPT marks a failed request with 0 response tokens: it never reached a model,
    // so it is dropped (and counted) rather than served.
    int response = tokens(f[3], field_name(BURSTGPT_FIELDS, 3), 0);
    row.failed = response == 0;
    row.prompt = tokens(f[2], field_name(BURSTGPT_FIELDS, 2), row.failed ? 0 : 1);
    row.output = response;
    return row;
  }

  Row mooncake_row(std::string_view line) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(line.begin(), line.end());
    } catch (const nlohmann::json::exception& e) {
      std::string msg = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 13: ..." -> "at column 13: ..."
      const std::string noise = "parse error at line 1, ";
      auto at = msg.find(noise);
      if (at != std::string::npos) msg = "at " + msg.substr(at + noise.size());
      else if (auto bracket = msg.find("] "); bracket != std::string::npos) msg = msg.substr(bracket + 2);
      throw InputError(reader.where(), "expected one JSON object per line: " + msg);
    }
    if (!doc.is_object()) throw InputError(reader.where(), "expected one JSON object per line, got " + std::string(doc.type_name()));
    auto field = [&](const char* key) -> const nlohmann::json& {
      auto it = doc.find(key);
      if (it == doc.end()) throw InputError(reader.where(), std::string("missing field \"") + key + "\"");
      return *it;
    };
    const auto& ts = field("timestamp");
    if (!ts.is_number() || !std::isfinite(ts.get<double>()) || ts.get<double>() < 0 ||
        ts.get<double>() > MAX_CLOCK_S * 1e3)
      throw InputError(reader.where(), "field \"timestamp\": expected milliseconds from 0 to 1e15, got " + ts.dump());
    double ms = ts.get<double>();
    check_clock(ms, "field \"timestamp\"", ts.dump());
    auto length = [&](const char* key) {
      const auto& v = field(key);
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > INT32_MAX_TOKENS ||
          (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT32_MAX_TOKENS)))
        throw InputError(reader.where(), std::string("field \"") + key + "\": expected an integer from 1 to " +
                                             std::to_string(INT32_MAX_TOKENS) + ", got " + v.dump());
      return static_cast<int>(v.get<std::int64_t>());
    };
    Row row;
    row.clock_s = (ms - *first_clock) / 1e3;
    row.prompt = length("input_length");
    row.output = length("output_length");
    return row;
  }

  void check_clock(double value, const std::string& field, const std::string& text) {
    if (!first_clock) first_clock = value;
    if (last_clock && value < *last_clock) out_of_order(field, text, last_text);
    last_clock = value;
    last_text = text;
  }

  LineReader reader;
  TraceOptions options;
  TraceFormat format = TraceFormat::AZURE_CSV;
  std::optional<std::string> pending_line;
  std::string line_storage;
  std::optional<DateTime> first_time, last_time;  // Azure
  std::optional<double> first_clock, last_clock;  // BurstGPT s, Mooncake ms
  std::string last_text;                          // the previous timestamp as written, for errors
  std::uint64_t returned = 0;
  std::uint64_t skipped = 0;
  bool done = false;
};

RequestTraceReader::RequestTraceReader(const std::filesystem::path& file, const TraceOptions& options)
    : impl_(std::make_unique<Impl>(file, options)) {}

RequestTraceReader::~RequestTraceReader() = default;

std::optional<serving::Request> RequestTraceReader::next() { return impl_->next(); }

TraceFormat RequestTraceReader::format() const { return impl_->format; }

std::uint64_t RequestTraceReader::skipped() const { return impl_->skipped; }

std::string RequestTraceReader::describe() const {
  const auto& o = impl_->options;
  std::string s = std::string(to_string(impl_->format)) + " trace " + impl_->reader.file() + ": " +
                  std::to_string(impl_->returned) + " requests read";
  if (impl_->format == TraceFormat::BURSTGPT_CSV)
    s += ", " + std::to_string(impl_->skipped) + " failed rows skipped (0 response tokens)";
  if (o.start_s || o.end_s)
    s += ", window [" + format_number(o.start_s.value_or(0)) + ", " + (o.end_s ? format_number(*o.end_s) : "end") +
         ") s";
  if (o.rate_scale != 1) s += ", rate x" + format_number(o.rate_scale);
  if (o.max_requests) s += ", at most " + std::to_string(*o.max_requests) + " requests";
  return s;
}

std::unique_ptr<RequestSource> open_request_trace(const std::filesystem::path& file, const TraceOptions& options) {
  return std::make_unique<RequestTraceReader>(file, options);
}

}  // namespace aifsim::workload
