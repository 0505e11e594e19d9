// The latency plot of scenario (a): one cumulative distribution per series
// (capchan rpc, raw TCP, plain WebSocket), latency on x, the fraction of
// round trips at most that long on y, with axes, ticks and a legend.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace capchan::bench {

struct latency_series_data {
  std::string label;
  std::vector<double> us;  // round-trip times, microseconds, any order
};

// Draws and writes the PNG; false if the file could not be written.
bool write_latency_plot(const std::filesystem::path& file, const std::string& title,
                        std::vector<latency_series_data> series);

}  // namespace capchan::bench
