#include "k8s/quantity.hpp"

#include <cctype>
#include <limits>

namespace aifsim::k8s {

namespace {
constexpr std::int64_t MAX = std::numeric_limits<std::int64_t>::max();

bool mul_ok(std::int64_t a, std::int64_t b, std::int64_t& out) {
  if (a != 0 && b > MAX / a) return false;
  out = a * b;
  return true;
}
}  // namespace

std::optional<Milli> parse_quantity(std::string_view text) {
  // <number> ::= <digits> [ "." <digits> ] ; suffixes: binary Ki..Ei, decimal m k M G T P E,
  // or an exponent e<int> / E<int>. A sign is allowed by Kubernetes; negatives are
  // meaningless for requests and rejected here.
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  if (text[0] == '+') ++i;
  std::int64_t whole = 0, frac = 0, frac_scale = 1;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (!mul_ok(whole, 10, whole) || whole > MAX - (text[i] - '0')) return std::nullopt;
    whole += text[i++] - '0';
    digits = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (frac_scale < 1'000'000'000'000LL) {
        frac = frac * 10 + (text[i] - '0');
        frac_scale *= 10;
      } else if (text[i] != '0') {
        return std::nullopt;  // more precision than we can hold exactly
      }
      ++i;
      digits = true;
    }
  }
  if (!digits) return std::nullopt;
  std::string_view suffix = text.substr(i);
  // Multiplier as numerator / denominator, applied to thousandths.
  std::int64_t num = 1000, den = 1;
  if (suffix.empty()) {
  } else if (suffix == "m") {
    num = 1;
  } else if (suffix == "k") {
    num = 1000LL * 1000;
  } else if (suffix == "M") {
    num = 1000LL * 1000 * 1000;
  } else if (suffix == "G") {
    num = 1000LL * 1000 * 1000 * 1000;
  } else if (suffix == "T") {
    num = 1000LL * 1000 * 1000 * 1000 * 1000;
  } else if (suffix == "P") {
    num = 1000LL * 1000 * 1000 * 1000 * 1000 * 1000;
  } else if (suffix == "E") {
    // 1E is 1e21 thousandths: beyond int64 for any non-zero value.
    if (whole == 0 && frac == 0) return 0;
    return std::nullopt;
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    int shift = 0;
    switch (suffix[0]) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      case 'P': shift = 50; break;
      case 'E': shift = 60; break;
      default: return std::nullopt;
    }
    if (shift >= 54) return std::nullopt;  // x1000 would overflow int64 for any non-zero value
    num = (1LL << shift) * 1000;
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::int64_t exponent = 0;
    std::size_t j = 1;
    bool negative = j < suffix.size() && suffix[j] == '-';
    if (negative || (j < suffix.size() && suffix[j] == '+')) ++j;
    if (j == suffix.size()) return std::nullopt;
    for (; j < suffix.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[j])) || exponent > 30) return std::nullopt;
      exponent = exponent * 10 + (suffix[j] - '0');
    }
    if (exponent > 30 && !negative) return std::nullopt;
    if (negative && exponent > 21) {
      // Below a thousandth: rounds up to 1 (Quantity.MilliValue rounds up), 0 stays 0.
      return (whole == 0 && frac == 0) ? 0 : 1;
    }
    if (negative) {
      if (exponent > 3) {
        for (std::int64_t k = 3; k < exponent; ++k) den *= 10;
        num = 1;
      } else {
        for (std::int64_t k = 0; k < exponent; ++k) num /= 10;
      }
    } else {
      for (std::int64_t k = 0; k < exponent; ++k)
        if (!mul_ok(num, 10, num)) return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  std::int64_t value = 0, part = 0;
  if (!mul_ok(whole, num, value)) return std::nullopt;
  // Fractional part: frac / frac_scale * num, exact when it divides; otherwise round up
  // as resource.Quantity does when it converts to milli-values.
  std::int64_t scaled = 0;
  if (!mul_ok(frac, num, scaled)) return std::nullopt;
  part = scaled / frac_scale + (scaled % frac_scale != 0 ? 1 : 0);
  if (value > MAX - part) return std::nullopt;
  value += part;
  if (den > 1) value = value / den + (value % den != 0 ? 1 : 0);
  return value;
}

std::string format_quantity(Milli value) {
  if (value % 1000 == 0) return std::to_string(value / 1000);
  return std::to_string(value) + "m";
}

}  // namespace aifsim::k8s
