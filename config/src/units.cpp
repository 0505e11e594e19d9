// Parsing and printing of config durations and sizes: digits then a unit, no
// spaces, no fractions, no overflow (checked before multiplying).
#include "capchan/config/units.hpp"

#include <array>
#include <limits>
#include <utility>

namespace capchan::config {
namespace {

// Splits "<digits><suffix>"; nullopt if there are no digits or they overflow.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;
  return std::pair{value, text.substr(i)};
}

std::optional<std::uint64_t> scale(std::uint64_t value, std::uint64_t factor,
                                   std::uint64_t limit = std::numeric_limits<std::uint64_t>::max()) {
  if (value > limit / factor) return std::nullopt;
  return value * factor;
}

struct unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first, so formatting picks the biggest unit that divides exactly.
constexpr std::array<unit, 4> duration_units{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
constexpr std::array<unit, 4> size_units{{{"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}, {"B", 1}}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto parts = split_number(text);
  if (!parts) return std::nullopt;
  for (const auto& u : duration_units) {
    if (parts->second == u.name) {
      const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      const auto ms = scale(parts->first, u.factor, limit);
      if (!ms) return std::nullopt;
      return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  const auto parts = split_number(text);
  if (!parts) return std::nullopt;
  if (parts->second.empty()) return parts->first;
  for (const auto& u : size_units) {
    if (parts->second == u.name) return scale(parts->first, u.factor);
  }
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
  for (const auto& u : duration_units) {
    if (ms != 0 && ms % u.factor == 0) return std::to_string(ms / u.factor) + std::string(u.name);
  }
  return "0ms";
}

std::string format_size(std::uint64_t bytes) {
  for (const auto& u : size_units) {
    if (bytes != 0 && bytes % u.factor == 0) return std::to_string(bytes / u.factor) + std::string(u.name);
  }
  return "0B";
}

}  // namespace capchan::config
