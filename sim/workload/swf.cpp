#include "workload/swf.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <string_view>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::workload {

namespace {

constexpr std::array<const char*, 18> FIELD_NAMES = {
    "job number", "submit time", "wait time", "run time", "allocated processors",
    "average CPU time", "used memory", "requested processors", "requested time",
    "requested memory", "status", "user id", "group id", "executable number",
    "queue number", "partition number", "preceding job number", "think time"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

SwfReader::SwfReader(const std::filesystem::path& file) : lines_(file, "SWF trace"), file_(file.string()) {
  while (read_line()) {
    std::string_view text = trim(line_);
    if (text.empty()) continue;
    if (text.front() == ';') {
      if (!seen_record_) parse_header_line(line_number_);
      continue;
    }
    pending_ = parse_record();
    last_submit_s_ = pending_->submit_s;
    seen_record_ = true;
    break;
  }
  if (!pending_) throw InputError(file_, "the SWF trace contains no job records (only comments or nothing)");
}

SwfReader::~SwfReader() = default;

bool SwfReader::read_line() {
  // Plain or gzip alike; NUL bytes, over-long lines and damaged compression are input errors.
  if (!lines_.next(line_)) return false;
  line_number_ = lines_.line_number();
  return true;
}

void SwfReader::parse_header_line(std::int64_t line_number) {
  std::string_view text = trim(std::string_view(line_).substr(1));
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return;  // free-text comment
  std::string key(trim(text.substr(0, colon)));
  std::string value(trim(text.substr(colon + 1)));
  if (key.empty() || key.find(' ') != std::string::npos) return;
  header_.fields[key] = value;
  auto integer_field = [&](std::optional<std::int64_t>& slot) {
    // Some headers annotate values ("1024 (32 per node)"): take the leading integer.
    std::string_view v = value;
    auto end = v.find_first_of(" \t(");
    auto parsed = parse_int(v.substr(0, end));
    if (!parsed || *parsed < 0)
      throw InputError(file_ + ":" + std::to_string(line_number),
                       "header field " + key + ": expected a non-negative integer, got \"" + value + "\"");
    slot = *parsed;
  };
  if (key == "MaxNodes") integer_field(header_.max_nodes);
  else if (key == "MaxProcs") integer_field(header_.max_procs);
  else if (key == "UnixStartTime") integer_field(header_.unix_start_time);
  else if (key == "MaxJobs") integer_field(header_.max_jobs);
}

SwfRecord SwfReader::parse_record() const {
  const std::string where = file_ + ":" + std::to_string(line_number_);
  std::array<std::string_view, 18> tokens;
  std::size_t count = 0;
  std::string_view rest = trim(line_);
  while (!rest.empty()) {
    auto end = rest.find_first_of(" \t");
    std::string_view token = rest.substr(0, end);
    if (count < tokens.size()) tokens[count] = token;
    ++count;
    if (end == std::string_view::npos) break;
    rest = trim(rest.substr(end));
  }
  if (count != 18)
    throw InputError(where, "expected 18 whitespace-separated SWF fields, found " + std::to_string(count));

  auto number = [&](std::size_t i, bool integral) -> std::optional<double> {
    auto v = parse_double(tokens[i]);
    std::string field = "field " + std::to_string(i + 1) + " (" + FIELD_NAMES[i] + ")";
    if (!v)
      throw InputError(where, field + ": expected a number or -1 for unknown, got \"" + std::string(tokens[i]) + "\"");
    if (*v == -1) return std::nullopt;
    if (*v < 0)
      throw InputError(where, field + ": expected a non-negative value or -1 for unknown, got " + std::string(tokens[i]));
    if (integral && std::floor(*v) != *v)
      throw InputError(where, field + ": expected an integer, got " + std::string(tokens[i]));
    // Beyond these, a value is corruption, not history: 1e12 s is 31,700 years.
    if (integral && *v > 2147483647.0) throw InputError(where, field + ": value out of range: " + std::string(tokens[i]));
    if (!integral && *v > 1e12) throw InputError(where, field + ": value out of range (above 1e12): " + std::string(tokens[i]));
    return v;
  };
  auto integer = [&](std::size_t i) -> std::optional<std::int64_t> {
    auto v = number(i, true);
    if (!v) return std::nullopt;
    return static_cast<std::int64_t>(*v);
  };

  SwfRecord r;
  r.line = line_number_;
  auto id = integer(0);
  if (!id) throw InputError(where, "field 1 (job number): expected a job number, got -1");
  r.job_number = *id;
  auto submit = number(1, false);
  if (!submit) throw InputError(where, "field 2 (submit time): unknown (-1); every job needs a submit time");
  r.submit_s = *submit;
  r.wait_s = number(2, false);
  r.runtime_s = number(3, false);
  r.allocated_procs = integer(4);
  r.avg_cpu_time_s = number(5, false);
  r.used_memory_kb = number(6, false);
  r.requested_procs = integer(7);
  r.requested_time_s = number(8, false);
  r.requested_memory_kb = number(9, false);
  // Status is the one field where SWF gives meaning to values beyond -1..N; accept any integer >= 0.
  r.status = integer(10);
  r.user_id = integer(11);
  r.group_id = integer(12);
  r.executable = integer(13);
  r.queue = integer(14);
  r.partition = integer(15);
  r.preceding_job = integer(16);
  r.think_time_s = number(17, false);
  return r;
}

std::optional<SwfRecord> SwfReader::next() {
  if (pending_) {
    auto r = std::move(pending_);
    pending_.reset();
    return r;
  }
  while (read_line()) {
    std::string_view text = trim(line_);
    if (text.empty() || text.front() == ';') continue;
    SwfRecord r = parse_record();
    if (r.submit_s < last_submit_s_)
      throw InputError(file_ + ":" + std::to_string(line_number_),
                       "field 2 (submit time): " + format_number(r.submit_s) + " is earlier than the previous job's " +
                           format_number(last_submit_s_) + "; SWF records must be sorted by submit time");
    last_submit_s_ = r.submit_s;
    return r;
  }
  return std::nullopt;
}

}  // namespace aifsim::workload
