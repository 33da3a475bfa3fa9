#include "core/json_reader.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim {

namespace {

std::string describe(const nlohmann::json& v) {
  std::string text = v.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + text;
}

std::string line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
  try {
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based position just past the offending character.
    std::size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    std::string msg = e.what();
    auto pos = msg.find("syntax error");
    if (pos != std::string::npos) msg = msg.substr(pos);
    throw InputError(where + ":" + line_column(text, byte), "malformed JSON: " + msg);
  } catch (const nlohmann::json::exception& e) {
    // e.g. a number too large for a double; nlohmann gives no position for these.
    std::string msg = e.what();
    auto pos = msg.find("] ");
    throw InputError(where, "malformed JSON: " + (pos == std::string::npos ? msg : msg.substr(pos + 2)));
  }
}

nlohmann::json load_json_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "cannot open file (does it exist and is it readable?)");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw InputError(file.string(), "file is empty; expected a JSON object");
  return parse_json_text(text, file.string());
}

JsonReader::JsonReader(const nlohmann::json& value, std::string file, std::string path)
    : value_(value), file_(std::move(file)), path_(std::move(path)) {
  if (!value_.is_object())
    throw InputError(file_ + ": at " + path_, "expected a JSON object, got " + describe(value_));
}

std::string JsonReader::path_of(const std::string& key) const { return path_ + "." + key; }
std::string JsonReader::where(const std::string& key) const { return file_ + ": at " + path_of(key); }

void JsonReader::fail(const std::string& key, const std::string& expected) const {
  throw InputError(where(key), expected);
}

bool JsonReader::has(const std::string& key) {
  known_.push_back(key);  // asking about a key makes it a valid one, for suggestions
  return value_.contains(key);
}

const nlohmann::json& JsonReader::require(const std::string& key) {
  known_.push_back(key);
  auto it = value_.find(key);
  if (it == value_.end()) throw InputError(file_ + ": at " + path_, "missing required key \"" + key + "\"");
  read_.insert(key);
  return *it;
}

double JsonReader::number(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_number()) fail(key, "expected a number, got " + describe(v));
  return v.get<double>();
}

double JsonReader::number_or(const std::string& key, double fallback) {
  known_.push_back(key);
  return has(key) ? number(key) : fallback;
}

std::int64_t JsonReader::integer(const std::string& key) {
  const auto& v = require(key);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  fail(key, "expected an integer, got " + describe(v));
}

std::int64_t JsonReader::integer_or(const std::string& key, std::int64_t fallback) {
  known_.push_back(key);
  return has(key) ? integer(key) : fallback;
}

std::string JsonReader::string(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_string()) fail(key, "expected a string, got " + describe(v));
  return v.get<std::string>();
}

std::string JsonReader::string_or(const std::string& key, const std::string& fallback) {
  known_.push_back(key);
  return has(key) ? string(key) : fallback;
}

bool JsonReader::boolean_or(const std::string& key, bool fallback) {
  known_.push_back(key);
  if (!has(key)) return fallback;
  const auto& v = require(key);
  if (!v.is_boolean()) fail(key, "expected true or false, got " + describe(v));
  return v.get<bool>();
}

std::string JsonReader::choice(const std::string& key, const std::vector<std::string>& allowed,
                               const std::optional<std::string>& fallback) {
  known_.push_back(key);
  if (!has(key) && fallback) return *fallback;
  std::string got = string(key);
  for (const auto& a : allowed)
    if (a == got) return got;
  std::string msg = "expected one of " + join_alternatives(allowed) + ", got \"" + got + "\"";
  std::string near = nearest_name(got, allowed);
  if (!near.empty()) msg += " (did you mean \"" + near + "\"?)";
  fail(key, msg);
}

JsonReader JsonReader::object(const std::string& key) {
  const auto& v = require(key);
  return JsonReader(v, file_, path_of(key));
}

const nlohmann::json& JsonReader::array(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_array()) fail(key, "expected an array, got " + describe(v));
  return v;
}

const nlohmann::json& JsonReader::raw(const std::string& key) { return require(key); }

void JsonReader::finish(const std::vector<std::string>& extra_valid_keys) const {
  std::vector<std::string> valid = known_;
  valid.insert(valid.end(), extra_valid_keys.begin(), extra_valid_keys.end());
  for (auto it = value_.begin(); it != value_.end(); ++it) {
    if (read_.count(it.key())) continue;
    bool is_valid = false;
    for (const auto& k : valid) is_valid = is_valid || k == it.key();
    if (is_valid) continue;
    std::string msg = "unknown key \"" + it.key() + "\"";
    std::string near = nearest_name(it.key(), valid);
    if (!near.empty()) msg += " (did you mean \"" + near + "\"?)";
    else if (!valid.empty()) {
      std::set<std::string> unique(valid.begin(), valid.end());
      msg += "; valid keys here: " + join_alternatives(std::vector<std::string>(unique.begin(), unique.end()));
    }
    throw InputError(file_ + ": at " + path_of(it.key()), msg);
  }
}

}  // namespace aifsim
