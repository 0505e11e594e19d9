// A capchan channel against raw TCP on 127.0.0.1, in one run (DESIGN.md §9:
// absolute numbers drift, so a benchmark runs its baseline alongside and
// reports the ratio). Measures:
//  (a) rpc round trips over a channel to the `echo` service with a 64-byte
//      binary payload: p50, p99, p99.9;
//  (b) the same on raw TCP: plain Asio, 64-byte messages behind a 4-byte
//      length prefix, echoed back; and the ratio capchan p50 / raw p50;
//  (c) connection setup, one after another: capchan connect (TCP, WebSocket
//      upgrade, Noise handshake, password login) and close, against raw TCP
//      connect and close; connections per second and the ratio.
// Both servers run in this process, each on an io_context of one thread of
// its own; both clients are coroutines on the main thread's io_context, so
// each side crosses the same threads. The two sides alternate in rounds, so
// that a drift in the machine's speed (it is shared) touches both alike.
// capchan logins use the client's password_cache, shared by every connect:
// argon2id runs once (the table says how often it ran), and the server keeps
// a verifier, so neither side runs it per login. The service's argon2id cost
// is libsodium's minimum, as in the integration tests.
// Progress goes to stderr, the table to stdout. Flags: --rpcs=N (measured rpcs
// per side, default 20000), --connects=N (per side, default 400).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "capchan/client/channel.hpp"
#include "capchan/client/password_cache.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/server/server.hpp"
#include "capchan/services/services.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace capchan;

constexpr std::size_t payload_bytes = 64;
constexpr int rounds = 4;
constexpr std::uint32_t max_raw_message = 1 << 16;
const std::string password = "secret";
const std::string service_name = "echo";

double micros(clock_type::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// --- the raw TCP baseline ---------------------------------------------------

// Echoes length-prefixed messages until the peer closes.
asio::awaitable<void> raw_echo(tcp::socket socket) {
  std::array<std::uint8_t, 4> header{};
  std::vector<std::uint8_t> body;
  for (;;) {
    auto [read_error, n] =
        co_await asio::async_read(socket, asio::buffer(header), asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    const std::uint32_t length = std::uint32_t{header[0]} << 24 | std::uint32_t{header[1]} << 16 |
                                 std::uint32_t{header[2]} << 8 | header[3];
    if (length > max_raw_message) co_return;
    body.resize(length);
    auto [body_error, m] =
        co_await asio::async_read(socket, asio::buffer(body), asio::as_tuple(asio::use_awaitable));
    if (body_error) co_return;
    const std::array<asio::const_buffer, 2> reply{asio::buffer(header), asio::buffer(body)};
    auto [write_error, w] =
        co_await asio::async_write(socket, reply, asio::as_tuple(asio::use_awaitable));
    if (write_error) co_return;
  }
}

// Accepts until the acceptor is closed. Sessions run detached: each ends
// when its client closes, and the io_context is stopped after the run.
asio::awaitable<void> raw_accept(tcp::acceptor& acceptor) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    asio::co_spawn(acceptor.get_executor(), raw_echo(std::move(socket)), asio::detached);
  }
}

// One length-prefixed round trip on a connected socket; false on any error.
asio::awaitable<bool> raw_round_trip(tcp::socket& socket, const std::vector<std::uint8_t>& message,
                                     std::vector<std::uint8_t>& answer) {
  auto [write_error, w] =
      co_await asio::async_write(socket, asio::buffer(message), asio::as_tuple(asio::use_awaitable));
  if (write_error) co_return false;
  auto [read_error, r] =
      co_await asio::async_read(socket, asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
  co_return !read_error;
}

// --- the measurement -----------------------------------------------------

struct latency_stats {
  double p50 = 0, p99 = 0, p999 = 0, mean = 0;
  std::size_t count = 0;
};

latency_stats summarize(std::vector<double> us) {
  latency_stats s;
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * static_cast<double>(us.size())))];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  double sum = 0;
  for (const double v : us) sum += v;
  s.mean = sum / static_cast<double>(us.size());
  s.count = us.size();
  return s;
}

struct setup_stats {
  std::vector<double> connect_us;  // connect (and login) alone
  std::vector<double> close_us;    // close alone
  clock_type::duration total{};    // connect, login and close, all of them
  std::size_t count = 0;
  double per_second() const {
    return count == 0 ? 0 : static_cast<double>(count) / std::chrono::duration<double>(total).count();
  }
};

struct results {
  std::vector<double> capchan_rpc_us;
  std::vector<double> raw_rpc_us;
  setup_stats capchan_setup;
  setup_stats raw_setup;
  std::uint64_t argon2id_runs = 0;
  std::uint64_t cache_hits = 0;
};

struct bench_config {
  std::size_t rpcs = 20'000;
  std::size_t connects = 400;
  std::size_t warmup_rpcs = 2'000;
  std::size_t warmup_connects = 20;
};

class bench {
 public:
  bench(std::uint16_t capchan_port, std::string fingerprint, std::uint16_t raw_port,
        bench_config config)
      : capchan_port_(capchan_port), raw_port_(raw_port), config_(config) {
    options_.key = std::move(fingerprint);
    options_.passwords = passwords_;
  }

  asio::awaitable<results> run() {
    results out;
    auto channel_result = co_await connect_capchan();
    if (!channel_result) throw std::runtime_error("capchan connect: " + channel_result.error().message());
    client::channel channel = std::move(*channel_result);
    tcp::socket raw = co_await connect_raw();

    std::fprintf(stderr, "warm-up: %zu rpcs each side\n", config_.warmup_rpcs);
    co_await capchan_rpcs(channel, config_.warmup_rpcs, nullptr);
    co_await raw_rpcs(raw, config_.warmup_rpcs, nullptr);
    for (int round = 1; round <= rounds; ++round) {
      const std::size_t n = config_.rpcs / rounds;
      std::fprintf(stderr, "round %d of %d: %zu rpcs on each side\n", round, rounds, n);
      co_await capchan_rpcs(channel, n, &out.capchan_rpc_us);
      co_await raw_rpcs(raw, n, &out.raw_rpc_us);
    }
    co_await channel.close();
    raw.close();

    std::fprintf(stderr, "warm-up: %zu connects each side\n", config_.warmup_connects);
    setup_stats ignored;
    co_await capchan_connects(config_.warmup_connects, ignored);
    co_await raw_connects(config_.warmup_connects, ignored);
    for (int round = 1; round <= rounds; ++round) {
      const std::size_t n = config_.connects / rounds;
      std::fprintf(stderr, "round %d of %d: %zu connects on each side\n", round, rounds, n);
      co_await capchan_connects(n, out.capchan_setup);
      co_await raw_connects(n, out.raw_setup);
    }
    out.argon2id_runs = passwords_->derivations();
    out.cache_hits = passwords_->hits();
    co_return out;
  }

 private:
  asio::awaitable<client::result<client::channel>> connect_capchan() {
    std::string host = "127.0.0.1";
    std::string service = service_name;
    std::string secret = password;
    term args_c;
    client::connect_options options = options_;
    auto channel = co_await client::connect(host, capchan_port_, service, secret, args_c, options);
    co_return channel;
  }

  asio::awaitable<tcp::socket> connect_raw() {
    tcp::socket socket(co_await asio::this_coro::executor);
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), raw_port_);
    auto [error] = co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
    if (error) throw std::runtime_error("raw TCP connect: " + error.message());
    co_return socket;
  }

  asio::awaitable<void> capchan_rpcs(client::channel& channel, std::size_t n, std::vector<double>* us) {
    const term payload = binary(std::vector<std::uint8_t>(payload_bytes, 0x5a));
    for (std::size_t i = 0; i < n; ++i) {
      term message = payload;
      const auto start = clock_type::now();
      auto reply = co_await channel.rpc(std::move(message));
      const auto elapsed = clock_type::now() - start;
      if (!reply) throw std::runtime_error("capchan rpc: " + reply.error().message());
      if (*reply != payload) throw std::runtime_error("capchan rpc: the echo differs from the payload");
      if (us) us->push_back(micros(elapsed));
    }
  }

  asio::awaitable<void> raw_rpcs(tcp::socket& socket, std::size_t n, std::vector<double>* us) {
    std::vector<std::uint8_t> message{0, 0, 0, payload_bytes};
    message.resize(4 + payload_bytes, 0x5a);
    std::vector<std::uint8_t> answer(message.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto start = clock_type::now();
      const bool ok = co_await raw_round_trip(socket, message, answer);
      const auto elapsed = clock_type::now() - start;
      if (!ok || answer != message) throw std::runtime_error("raw TCP round trip failed");
      if (us) us->push_back(micros(elapsed));
    }
  }

  asio::awaitable<void> capchan_connects(std::size_t n, setup_stats& stats) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto start = clock_type::now();
      auto channel = co_await connect_capchan();
      const auto connected = clock_type::now();
      if (!channel) throw std::runtime_error("capchan connect: " + channel.error().message());
      co_await channel->close();
      const auto closed = clock_type::now();
      stats.connect_us.push_back(micros(connected - start));
      stats.close_us.push_back(micros(closed - connected));
      stats.total += closed - start;
      ++stats.count;
    }
  }

  asio::awaitable<void> raw_connects(std::size_t n, setup_stats& stats) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto start = clock_type::now();
      tcp::socket socket = co_await connect_raw();
      const auto connected = clock_type::now();
      socket.close();
      const auto closed = clock_type::now();
      stats.connect_us.push_back(micros(connected - start));
      stats.close_us.push_back(micros(closed - connected));
      stats.total += closed - start;
      ++stats.count;
    }
  }

  std::uint16_t capchan_port_;
  std::uint16_t raw_port_;
  bench_config config_;
  std::shared_ptr<client::password_cache> passwords_ = std::make_shared<client::password_cache>();
  client::connect_options options_;
};

void print_table(const results& r, const bench_config& config) {
  const auto capchan = summarize(r.capchan_rpc_us);
  const auto raw = summarize(r.raw_rpc_us);
  std::printf("\ncapchan channel vs raw TCP, 127.0.0.1, one run; the sides alternate in %d rounds\n",
              rounds);
  std::printf("\n(a, b) round trip, %zu-byte payload, %zu per side after %zu of warm-up (us):\n",
              payload_bytes, capchan.count, config.warmup_rpcs);
  std::printf("  %-34s %9s %9s %9s %9s\n", "", "p50", "p99", "p99.9", "mean");
  const auto row = [](const char* name, const latency_stats& s) {
    std::printf("  %-34s %9.1f %9.1f %9.1f %9.1f\n", name, s.p50, s.p99, s.p999, s.mean);
  };
  row("capchan rpc (echo service)", capchan);
  row("raw TCP ping-pong (length-prefixed)", raw);
  std::printf("  capchan p50 / raw p50: %.2f\n", raw.p50 > 0 ? capchan.p50 / raw.p50 : 0.0);

  const auto& cs = r.capchan_setup;
  const auto& rs = r.raw_setup;
  std::printf("\n(c) connection setup, one after another, %zu per side after %zu of warm-up:\n",
              cs.count, config.warmup_connects);
  std::printf("  %-34s %11s %15s %13s\n", "", "per second", "connect p50 us", "close p50 us");
  std::printf("  %-34s %11.0f %15.1f %13.1f\n", "capchan connect+login, close", cs.per_second(),
              summarize(cs.connect_us).p50, summarize(cs.close_us).p50);
  std::printf("  %-34s %11.0f %15.1f %13.1f\n", "raw TCP connect, close", rs.per_second(),
              summarize(rs.connect_us).p50, summarize(rs.close_us).p50);
  std::printf("  raw per second / capchan per second: %.1f\n",
              cs.per_second() > 0 ? rs.per_second() / cs.per_second() : 0.0);
  std::printf(
      "  capchan logins share one client password_cache: argon2id ran %llu time(s), cache hits "
      "%llu\n",
      static_cast<unsigned long long>(r.argon2id_runs), static_cast<unsigned long long>(r.cache_hits));
}

// --name=N flags; the default when absent.
std::size_t count_flag(int argc, char** argv, std::string_view name, std::size_t fallback) {
  for (int k = 1; k < argc; ++k) {
    const std::string_view arg = argv[k];
    if (arg.starts_with(name) && arg.substr(name.size()).starts_with("="))
      return std::max<std::size_t>(rounds, std::strtoull(argv[k] + name.size() + 1, nullptr, 10));
  }
  return fallback;
}

config::server_config capchan_config() {
  config::service_config echo;
  echo.name = service_name;
  echo.handler = "echo";
  echo.secret = config::plaintext_password{password};
  echo.pwhash = {crypto::argon2id_min.ops_limit, crypto::argon2id_min.mem_limit};
  config::server_config cfg;
  cfg.path = "channel_bench";
  cfg.bind = "127.0.0.1";
  cfg.port = 0;
  cfg.services = {echo};
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  for (int k = 1; k < argc; ++k) {
    const std::string_view arg = argv[k];
    if (!arg.starts_with("--rpcs=") && !arg.starts_with("--connects=")) {
      std::fprintf(stderr, "usage: channel_bench [--rpcs=N] [--connects=N]\n");
      return 2;
    }
  }
  bench_config config;
  config.rpcs = count_flag(argc, argv, "--rpcs", config.rpcs);
  config.connects = count_flag(argc, argv, "--connects", config.connects);

  // The capchan server, on a thread of its own.
  asio::io_context server_ioc;
  server::service_registry registry;
  services::register_builtin(registry);
  auto logger = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
  auto created = server::server::create(server_ioc, capchan_config(), crypto::noise::keypair::generate(),
                                        registry, logger);
  if (!created) {
    std::fprintf(stderr, "capchan server: %s\n", created.error().front().c_str());
    return 1;
  }
  auto srv = std::move(*created);
  srv->start();
  std::thread server_thread([&] { server_ioc.run(); });

  // The raw TCP echo server, on a thread of its own.
  asio::io_context raw_ioc;
  tcp::acceptor acceptor(raw_ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  asio::co_spawn(raw_ioc, raw_accept(acceptor), asio::detached);
  std::thread raw_thread([&] { raw_ioc.run(); });

  int status = 0;
  asio::io_context client_ioc;
  bench b(srv->local_endpoint().port(), srv->fingerprint(), acceptor.local_endpoint().port(), config);
  auto done = asio::co_spawn(client_ioc, b.run(), asio::use_future);
  client_ioc.run();
  try {
    print_table(done.get(), config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "channel_bench failed: %s\n", e.what());
    status = 1;
  }

  asio::co_spawn(server_ioc, srv->shutdown(std::chrono::seconds(1)), asio::use_future).get();
  server_thread.join();
  raw_ioc.stop();  // the acceptor and the (idle) sessions go with it
  raw_thread.join();
  return status;
}
