// What the mutation fuzzers share: the iteration budget, reading a seed input, and the
// text mutations every format gets.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aifsim::fuzzing {

// AIFSIM_FUZZ_ITERATIONS, default 1500 per parser (about a second or two).
inline int iterations() {
  const char* env = std::getenv("AIFSIM_FUZZ_ITERATIONS");
  return env ? std::max(1, std::atoi(env)) : 1500;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first number at or after `at` replaced by `replacement` (nothing when there is none).
inline void replace_number(std::string& text, std::size_t at, const std::string& replacement) {
  std::size_t d = text.find_first_of("0123456789", at);
  if (d == std::string::npos) return;
  std::size_t e = text.find_first_not_of("0123456789.e+-", d);
  text.replace(d, (e == std::string::npos ? text.size() : e) - d, replacement);
}

// The line holding position `at` written twice.
inline void duplicate_line(std::string& text, std::size_t at) {
  std::size_t s = text.rfind('\n', at);
  s = s == std::string::npos ? 0 : s + 1;
  std::size_t e = text.find('\n', at);
  text.insert(s, text.substr(s, e == std::string::npos ? std::string::npos : e - s + 1));
}

}  // namespace aifsim::fuzzing
