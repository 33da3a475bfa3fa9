// Kubernetes resource quantities ("500m", "16Gi", "1.5", "2e3"), parsed exactly into
// thousandths of a unit, as the API server's resource.Quantity keeps them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aifsim::k8s {

using Milli = std::int64_t;  // thousandths of a unit: cpu "500m" = 500, memory "1Ki" = 1,024,000

// nullopt when `text` is not a quantity, is negative, or overflows.
std::optional<Milli> parse_quantity(std::string_view text);
// Canonical text: whole units where exact ("2", "16Gi" stays "17179869184"), else milli ("500m").
std::string format_quantity(Milli value);

}  // namespace aifsim::k8s
