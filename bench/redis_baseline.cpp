// redis-server and redis-benchmark on loopback (redis_baseline.hpp).
#include "redis_baseline.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "process.hpp"

namespace capchan::bench {
namespace asio = boost::asio;
using namespace std::chrono_literals;
namespace {

std::optional<std::filesystem::path> on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::uint16_t free_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address_v4("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

bool accepts(std::uint16_t port) {
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address_v4("127.0.0.1"), port}, ec);
  return !ec;
}

// A redis-server for one measurement; stopped when this goes.
class redis_server {
 public:
  redis_server(const redis_programs& redis, const std::filesystem::path& dir, bool durable) : port_(free_port()) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> argv{redis.server.string(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--save", "", "--dir", dir.string(), "--daemonize", "no"};
    if (durable) {
      argv.insert(argv.end(), {"--appendonly", "yes", "--appendfsync", "always"});
    } else {
      argv.insert(argv.end(), {"--appendonly", "no"});
    }
    child_ = std::make_unique<test::child_process>(argv, (dir / "redis.log").string());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!accepts(port_)) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server did not start");
      std::this_thread::sleep_for(20ms);
    }
  }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<test::child_process> child_;
};

struct csv_row {
  double rps = 0, p50_ms = 0;
};

// redis-benchmark --csv: a header, then "TEST","rps","avg_latency_ms",
// "min_latency_ms","p50_latency_ms",...
csv_row benchmark(const redis_programs& redis, std::uint16_t port, const std::string& test, int clients,
                  int requests) {
  const auto result = test::run_process({redis.benchmark.string(), "-h", "127.0.0.1", "-p", std::to_string(port),
                                         "-t", test, "-c", std::to_string(clients), "-n", std::to_string(requests),
                                         "-d", "64", "--csv"},
                                        {}, {}, 120s);
  if (result.exit_code != 0) throw std::runtime_error("redis-benchmark failed: " + result.err);
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("\"test\"") || line.empty()) continue;
    std::vector<std::string> cells;
    std::istringstream row(line);
    std::string cell;
    while (std::getline(row, cell, ',')) {
      if (cell.size() >= 2 && cell.front() == '"') cell = cell.substr(1, cell.size() - 2);
      cells.push_back(cell);
    }
    if (cells.size() >= 5) return {std::stod(cells[1]), std::stod(cells[4])};
  }
  throw std::runtime_error("redis-benchmark printed no CSV row: " + result.out);
}

}  // namespace

std::optional<redis_programs> find_redis() {
  auto server = on_path("redis-server");
  auto bench = on_path("redis-benchmark");
  if (!server || !bench) return std::nullopt;
  return redis_programs{*server, *bench};
}

void run_redis_baseline(const redis_programs& redis, const std::filesystem::path& dir, bool quick,
                        scenario_report& out) {
  const int scale = quick ? 1 : 20;
  {
    redis_server server(redis, dir / "redis", false);
    const auto one = benchmark(redis, server.port(), "get", 1, 1'000 * scale);
    out.add("redis GET p50, 1 client", one.p50_ms * 1000, "us", "redis-benchmark reports 1 us steps");
    const auto fifty = benchmark(redis, server.port(), "get", 50, 5'000 * scale);
    out.add("redis GET/s, 50 clients", fifty.rps, "req/s");
  }
  {
    redis_server server(redis, dir / "redis-durable", true);
    const auto durable = benchmark(redis, server.port(), "set", 50, 1'000 * scale);
    out.add("redis SET/s, 50 clients, appendfsync always", durable.rps, "req/s");
  }
}

}  // namespace capchan::bench
