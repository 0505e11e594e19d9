// The servers capchan-bench measures, each in a child process on 127.0.0.1:
// capchan-server with a config written for the run, and the baseline
// servers (capchan-bench --serve ...). Also what the harness reads from a
// running server: its RSS (/proc) and its /metrics counters.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace capchan::test {
class child_process;
}

namespace capchan::bench {

// capchan-server, started with a config in `dir`: services "echo" (handler
// echo) and "kvs" (handler kvs, file kvs.db in dir), both with `password`
// and libsodium's smallest argon2id cost (the client caches SaltedPassword
// and the server keeps a verifier: argon2id never runs per login), limits
// raised for 10,000 channels, log level warn (one log line per connection
// event is not what is measured).
class capchan_server_process {
 public:
  capchan_server_process(const std::filesystem::path& server_binary, const std::filesystem::path& dir,
                         const std::string& password, unsigned threads);
  ~capchan_server_process();
  std::uint16_t port() const { return port_; }
  const std::string& fingerprint() const { return fingerprint_; }
  pid_t pid() const;
  // GET /metrics, the value of one counter (e.g. "capchan_casts_in_total").
  std::optional<double> metric(const std::string& name) const;

 private:
  std::unique_ptr<test::child_process> child_;
  std::uint16_t port_ = 0;
  std::string fingerprint_;
};

// capchan-bench --serve KIND --threads N.
class baseline_server_process {
 public:
  baseline_server_process(const std::filesystem::path& bench_binary, const std::string& kind, unsigned threads);
  ~baseline_server_process();
  std::uint16_t port() const { return port_; }
  pid_t pid() const;

 private:
  std::unique_ptr<test::child_process> child_;
  std::uint16_t port_ = 0;
};

// VmRSS of a process in bytes (from /proc/PID/status), or nullopt.
std::optional<std::uint64_t> rss_bytes(pid_t pid);

// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (children
// inherit it); returns the limit now in force.
std::uint64_t raise_file_limit();

}  // namespace capchan::bench
