// Lower-case hexadecimal, for the CLI (`capchan term encode`), logs and tests.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace capchan::hex {

std::string encode(std::span<const std::uint8_t> bytes);

// Decodes pairs of hex digits (either case). Whitespace between pairs is
// allowed so that pasted dumps work; nullopt on anything else or an odd count.
std::optional<std::vector<std::uint8_t>> decode(std::string_view text);

}  // namespace capchan::hex
