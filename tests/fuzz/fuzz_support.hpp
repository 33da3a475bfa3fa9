// What the mutation fuzzers share: the iteration budget and reading a seed input.
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

}  // namespace aifsim::fuzzing
