// Child-process servers for capchan-bench (server_process.hpp).
#include "server_process.hpp"

#include <sys/resource.h>

#include <csignal>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "listening_line.hpp"
#include "process.hpp"

namespace capchan::bench {
namespace asio = boost::asio;
namespace {

// A server that prints no listening line within this is broken, not slow
// (argon2id at load is ~0.1 s per service).
constexpr std::chrono::seconds start_limit(30);

// Room for scenario f's 10,000 idle channels and the harness's own.
constexpr int max_channels = 12'000;

std::string read_baseline_line(test::child_process& child, const std::string& what) {
  auto line = child.read_line(start_limit);
  if (!line) throw std::runtime_error(what + " did not say where it listens (see its log)");
  return *line;
}

}  // namespace

capchan_server_process::capchan_server_process(const std::filesystem::path& server_binary,
                                               const std::filesystem::path& dir, const std::string& password,
                                               unsigned threads) {
  const auto config = dir / "bench-server.toml";
  {
    std::ofstream out(config);
    out << "# written by capchan-bench for one run\n"
        << "port = 0\nbind = \"127.0.0.1\"\nkey_file = \"server.key\"\ndata_dir = \"data\"\n"
        << "[limits]\nmax_connections = " << max_channels << "\nmax_handshakes = 256\n"
        << "idle_timeout = \"10m\"\n"
        << "[[service]]\nname = \"echo\"\nhandler = \"echo\"\npassword = \"" << password << "\"\n"
        << "[[service]]\nname = \"kvs\"\nhandler = \"kvs\"\npassword = \"" << password << "\"\n"
        << "args = { path = \"kvs.db\" }\n";
    if (!out) throw std::runtime_error("cannot write " + config.string());
  }
  child_ = std::make_unique<test::child_process>(
      std::vector<std::string>{server_binary.string(), "--config", config.string(), "--log-level", "warn",
                               "--threads", std::to_string(threads)},
      (dir / "server.log").string());
  const auto listening = test::read_listening_line(
      *child_, "capchan-server (log: " + (dir / "server.log").string() + ")", start_limit);
  port_ = listening.port;
  fingerprint_ = listening.fingerprint;
}

capchan_server_process::~capchan_server_process() {
  if (child_) {
    child_->signal(SIGTERM);
    child_->wait(std::chrono::seconds(10));
  }
}

pid_t capchan_server_process::pid() const { return child_->pid(); }

std::optional<double> capchan_server_process::metric(const std::string& name) const {
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address_v4("127.0.0.1"), port_});
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(response), ec);  // to end of stream
    std::istringstream lines(response);
    std::string l;
    while (std::getline(lines, l)) {
      if (l.starts_with(name + " ")) return std::stod(l.substr(name.size() + 1));
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

baseline_server_process::baseline_server_process(const std::filesystem::path& bench_binary, const std::string& kind,
                                                 unsigned threads) {
  child_ = std::make_unique<test::child_process>(
      std::vector<std::string>{bench_binary.string(), "--serve", kind, "--threads", std::to_string(threads)});
  const std::string line = read_baseline_line(*child_, "the " + kind + " baseline server");
  if (!line.starts_with("listening on ")) throw std::runtime_error("baseline server printed '" + line + "'");
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(13)));
}

baseline_server_process::~baseline_server_process() {
  if (child_) child_->wait(std::chrono::seconds(10));  // it ends with its stdin
}

pid_t baseline_server_process::pid() const { return child_->pid(); }

std::optional<std::uint64_t> rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
  }
  return std::nullopt;
}

std::uint64_t raise_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace capchan::bench
