// capchan channels as capchan-bench drives them (capchan_load.hpp).
#include "capchan_load.hpp"

#include <stdexcept>

#include "capchan/client/password_cache.hpp"
#include "load.hpp"

namespace capchan::bench {
namespace asio = boost::asio;

client::connect_options capchan_target::options() const {
  client::connect_options o;
  o.key = fingerprint;
  o.passwords = passwords;
  return o;
}

asio::awaitable<client::channel> open_channel(const capchan_target& target, std::string service) {
  std::string host = "127.0.0.1";
  std::string password = target.password;
  term args_c;
  client::connect_options options = target.options();
  auto ch = co_await client::connect(host, target.port, service, password, args_c, options);
  if (!ch) throw std::runtime_error("capchan connect to " + service + ": " + ch.error().message());
  co_return std::move(*ch);
}

echo_rpc_conn::echo_rpc_conn(client::channel ch, std::size_t payload)
    : channel_(std::move(ch)), payload_(binary(std::vector<std::uint8_t>(payload, 0x5a))) {}

asio::awaitable<std::unique_ptr<echo_rpc_conn>> echo_rpc_conn::connect(const capchan_target& target,
                                                                       std::size_t payload) {
  auto ch = co_await open_channel(target, "echo");
  co_return std::make_unique<echo_rpc_conn>(std::move(ch), payload);
}

asio::awaitable<void> echo_rpc_conn::round_trip() {
  term message = payload_;
  auto reply = co_await channel_.rpc(std::move(message));
  if (!reply) throw std::runtime_error("capchan rpc: " + reply.error().message());
  if (*reply != payload_) throw std::runtime_error("capchan rpc: the echo differs from the payload");
}

asio::awaitable<void> echo_rpc_conn::close() { co_await channel_.close(); }

request_conn::request_conn(client::channel ch, int index, request_fn request)
    : channel_(std::move(ch)), index_(index), request_(std::move(request)) {}

asio::awaitable<void> request_conn::round_trip() {
  term message = request_(index_, n_++);
  auto reply = co_await channel_.rpc(std::move(message));
  if (!reply) throw std::runtime_error("capchan rpc: " + reply.error().message());
}

asio::awaitable<void> request_conn::close() { co_await channel_.close(); }

asio::awaitable<void> connect_login_close(const capchan_target& target, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto ch = co_await open_channel(target, "echo");
    co_await ch.close();
  }
}

asio::awaitable<double> cast_burst(client::channel& ch, std::size_t n, std::size_t payload) {
  const term message = tuple(atom("push"), std::int64_t{0}, binary(std::vector<std::uint8_t>(payload, 0x5a)));
  const auto start = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    term m = message;
    auto sent = co_await ch.cast(std::move(m));
    if (!sent) throw std::runtime_error("capchan cast: " + sent.error().message());
  }
  // The server handles a channel's frames in order: when this reply is
  // back, every cast before it has been received.
  term marker = atom("casts_done");
  auto reply = co_await ch.rpc(std::move(marker));
  if (!reply) throw std::runtime_error("capchan rpc after the casts: " + reply.error().message());
  co_return static_cast<double>(n) / seconds_of(bench_clock::now() - start);
}

}  // namespace capchan::bench
