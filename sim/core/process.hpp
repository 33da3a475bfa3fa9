// Facts about this process, for benchmark figures.
#pragma once
#include <cstdint>

namespace aifsim {
// Peak resident set size in bytes (VmHWM), 0 where the platform does not tell.
std::uint64_t peak_rss_bytes();
}  // namespace aifsim
