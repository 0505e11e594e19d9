// Redis as an outside reference (DESIGN.md §9 quotes it): redis-benchmark
// against a redis-server the harness starts on loopback, a free port, in
// this run's directory. Optional: skipped when Redis is not installed.
#pragma once

#include <filesystem>
#include <optional>

#include "report.hpp"

namespace capchan::bench {

struct redis_programs {
  std::filesystem::path server, benchmark;
};

// Both programs on PATH, or nothing.
std::optional<redis_programs> find_redis();

// GET latency with 1 client (p50), GET/s with 50 clients, both without
// persistence (--save '' --appendonly no); SET/s with 50 clients with
// appendfsync always, the durable comparison to kvs puts.
void run_redis_baseline(const redis_programs& redis, const std::filesystem::path& dir, bool quick,
                        scenario_report& out);

}  // namespace capchan::bench
