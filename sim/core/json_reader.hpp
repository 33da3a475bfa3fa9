// Strict reading of JSON input files: every key is either consumed or reported as
// unknown (with its JSON path and the nearest valid key), every value is type-checked.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aifsim {

// Parses a JSON file; // and /* */ comments are allowed. Errors name file:line:column.
nlohmann::json load_json_file(const std::filesystem::path& file);
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

class JsonReader {
 public:
  // `path` is the JSON path of `value` ("$" for the root). Throws unless it is an object.
  JsonReader(const nlohmann::json& value, std::string file, std::string path = "$");

  bool has(const std::string& key);
  double number(const std::string& key);
  double number_or(const std::string& key, double fallback);
  std::int64_t integer(const std::string& key);
  std::int64_t integer_or(const std::string& key, std::int64_t fallback);
  std::string string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  bool boolean_or(const std::string& key, bool fallback);
  // A string restricted to `allowed`; the error lists them and suggests the nearest.
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     const std::optional<std::string>& fallback = std::nullopt);
  JsonReader object(const std::string& key);
  const nlohmann::json& array(const std::string& key);
  const nlohmann::json& raw(const std::string& key);  // any type, marks the key as read

  // Reports the first key that was never read, with the nearest valid one.
  void finish(const std::vector<std::string>& extra_valid_keys = {}) const;

  std::string path_of(const std::string& key) const;
  std::string where(const std::string& key) const;  // "file: at $.a.b"
  const std::string& file() const { return file_; }
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json& require(const std::string& key);
  const nlohmann::json& value_;
  std::string file_;
  std::string path_;
  std::set<std::string> read_;
  std::vector<std::string> known_;  // every key the caller asked about, valid or not present
};

}  // namespace aifsim
