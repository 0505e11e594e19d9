// A real `capchan-server` process for the CLI's process-level tests: a temp
// folder with a config on 127.0.0.1 port 0 (the book's nameServer, password
// ABXy45, and echo, password echo, both with the cheapest argon2id), the
// server started on it, its address and key read from the line it prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "process.hpp"

namespace capchan::test {

// A folder under the system temp folder, removed with everything in it.
class temp_folder {
 public:
  temp_folder();
  ~temp_folder();
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `file`.
void write_file(const std::filesystem::path& file, const std::string& text);
std::string read_file(const std::filesystem::path& file);

// A whole config for a server_process, instead of the default one.
struct whole_config {
  std::string text;
  unsigned threads = 1;
};

class server_process {
 public:
  static constexpr const char* book_password = "ABXy45";

  // `extra_config` is appended to the config (more [[service]] entries).
  // Throws std::runtime_error if the server does not start.
  explicit server_process(const std::string& extra_config = {});
  // A server of `config.text` as server.toml (port 0, and its paths
  // relative to the folder), on `config.threads` I/O threads.
  explicit server_process(const whole_config& config);
  ~server_process();  // SIGKILL if still running

  std::uint16_t port() const { return port_; }
  const std::string& fingerprint() const { return fingerprint_; }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& folder() const { return folder_.path(); }
  std::filesystem::path config_file() const { return folder_.path() / "server.toml"; }
  // Sends `signo` (SIGHUP: reload).
  bool signal(int signo) { return process_->signal(signo); }
  pid_t pid() const { return process_->pid(); }

  // SIGTERM (graceful shutdown), then the exit code; nullopt if it has
  // not exited within the limit.
  std::optional<int> terminate(std::chrono::milliseconds limit = std::chrono::seconds(20));
  // SIGKILL, and reaps it.
  void kill();

 private:
  temp_folder folder_;
  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
  std::string fingerprint_;
};

}  // namespace capchan::test
