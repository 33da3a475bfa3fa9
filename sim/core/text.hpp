// Small text helpers shared by the readers and writers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aifsim {

// Shortest decimal form that reads back to the same double ("12", "0.25", "1e+20"):
// deterministic and locale-independent.
std::string format_number(double value);

// Strict parses of a whole token; nullopt on any trailing garbage or overflow.
std::optional<double> parse_double(std::string_view token);
std::optional<std::int64_t> parse_int(std::string_view token);

// Levenshtein distance, used to suggest the nearest valid key.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `key`, or "" when none is reasonably close.
std::string nearest_name(std::string_view key, const std::vector<std::string>& candidates);

// "a, b or c"
std::string join_alternatives(const std::vector<std::string>& names);

}  // namespace aifsim
