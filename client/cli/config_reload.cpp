// See config_reload.hpp. Polling the status file with a deadline is the
// whole protocol: no socket, nothing new exposed by the server.
#include "config_reload.hpp"

#include <signal.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "capchan/config/server_state.hpp"
#include "exit_codes.hpp"

namespace capchan::cli {
namespace {

namespace fs = std::filesystem;

constexpr auto poll_interval = std::chrono::milliseconds(20);

std::string read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<config::reload_status> read_status(const fs::path& path) {
  return config::parse_reload_status(read_small_file(path));
}

std::optional<pid_t> read_pid(const fs::path& path) {
  const std::string text = read_small_file(path);
  long pid = 0;
  const auto end = text.find('\n');
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + (end == std::string::npos ? text.size() : end), pid);
  if (ec != std::errc{} || pid <= 1 || ptr != text.data() + (end == std::string::npos ? text.size() : end)) {
    return std::nullopt;
  }
  return static_cast<pid_t>(pid);
}

// /proc/PID/comm, so that a stale pid file never makes us signal a stranger.
bool is_capchan_server(pid_t pid) {
  std::string comm = read_small_file(fs::path("/proc") / std::to_string(pid) / "comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm == "capchan-server";
}

}  // namespace

int reload_server(const config::server_config& cfg, std::chrono::milliseconds limit) {
  const auto pid_file = config::pid_file_path(cfg);
  const auto status_file = config::reload_status_path(cfg);
  const auto pid = read_pid(pid_file);
  if (!pid) {
    std::cerr << "capchan: no server to reload: no pid file '" << pid_file.string()
              << "' (is capchan-server running with this config? a changed data_dir needs a restart)\n";
    return exit_connection;
  }
  if (!is_capchan_server(*pid)) {
    std::cerr << "capchan: no server to reload: process " << *pid << " (from '" << pid_file.string()
              << "') is not capchan-server; the pid file is stale\n";
    return exit_connection;
  }
  const auto before = read_status(status_file);
  if (!before) {
    std::cerr << "capchan: cannot read the reload status '" << status_file.string() << "'\n";
    return exit_connection;
  }
  if (::kill(*pid, SIGHUP) != 0) {
    std::cerr << "capchan: cannot signal capchan-server (pid " << *pid << "): " << std::strerror(errno) << "\n";
    return exit_connection;
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto now = read_status(status_file);
    if (now && now->generation > before->generation) {
      for (const auto& note : now->notes) std::cout << note << "\n";
      if (now->ok) {
        std::cout << "reloaded (pid " << *pid << ")" << std::endl;
        return exit_ok;
      }
      std::cerr << "capchan: the server refused the file and keeps its running config\n";
      return exit_remote;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "capchan: capchan-server (pid " << *pid << ") did not report a reload within "
                << std::chrono::duration_cast<std::chrono::seconds>(limit).count() << " s; see its log\n";
      return exit_connection;
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace capchan::cli
