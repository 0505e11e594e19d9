// Durations ("10s", "250ms") and sizes ("1MiB", "512KiB", 4096) as the server
// config writes them (DESIGN.md §4).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capchan::config {

// "<digits><unit>" with unit ms, s, m or h; nullopt when malformed or when
// the value does not fit in milliseconds of 64 bits.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "<digits>" (bytes) or "<digits><unit>" with unit B, KiB, MiB or GiB.
std::optional<std::uint64_t> parse_size(std::string_view text);

// The shortest exact spelling: 1500ms -> "1500ms", 60000ms -> "1m".
std::string format_duration(std::chrono::milliseconds d);
// 1048576 -> "1MiB", 1000 -> "1000B".
std::string format_size(std::uint64_t bytes);

}  // namespace capchan::config
