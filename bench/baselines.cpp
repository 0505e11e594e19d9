// The raw TCP and plain WebSocket echo servers and their clients
// (baselines.hpp). Nothing here is clever on purpose: a baseline is what a
// careful programmer writes with Asio or Beast in an afternoon.
#include "baselines.hpp"

#include <array>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace capchan::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Echo messages are small; the bound only stops a confused peer.
constexpr std::uint32_t max_message = 1 << 20;

const asio::ip::address_v4 loopback = asio::ip::make_address_v4("127.0.0.1");

std::vector<std::uint8_t> length_prefixed(std::size_t payload) {
  std::vector<std::uint8_t> m(4 + payload, 0x5a);
  const auto n = static_cast<std::uint32_t>(payload);
  m[0] = static_cast<std::uint8_t>(n >> 24);
  m[1] = static_cast<std::uint8_t>(n >> 16);
  m[2] = static_cast<std::uint8_t>(n >> 8);
  m[3] = static_cast<std::uint8_t>(n);
  return m;
}

void set_no_delay(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
}

asio::awaitable<void> raw_echo(tcp::socket socket) {
  set_no_delay(socket);
  std::array<std::uint8_t, 4> header{};
  std::vector<std::uint8_t> body;
  for (;;) {
    auto [read_error, n] = co_await asio::async_read(socket, asio::buffer(header), use_tuple);
    if (read_error) co_return;
    const std::uint32_t length = std::uint32_t{header[0]} << 24 | std::uint32_t{header[1]} << 16 |
                                 std::uint32_t{header[2]} << 8 | header[3];
    if (length > max_message) co_return;
    body.resize(length);
    auto [body_error, m] = co_await asio::async_read(socket, asio::buffer(body), use_tuple);
    if (body_error) co_return;
    const std::array<asio::const_buffer, 2> reply{asio::buffer(header), asio::buffer(body)};
    auto [write_error, w] = co_await asio::async_write(socket, reply, use_tuple);
    if (write_error) co_return;
  }
}

asio::awaitable<void> ws_echo(tcp::socket socket) {
  set_no_delay(socket);
  websocket::stream<beast::tcp_stream> ws(std::move(socket));
  ws.read_message_max(max_message);
  ws.binary(true);
  auto [accept_error] = co_await ws.async_accept(use_tuple);
  if (accept_error) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [read_error, n] = co_await ws.async_read(buffer, use_tuple);
    if (read_error) co_return;
    auto [write_error, w] = co_await ws.async_write(buffer.data(), use_tuple);
    if (write_error) co_return;
  }
}

// Each session runs on its own strand-free coroutine: it is the only user
// of its socket. Sessions end when their client closes; the process ends
// when stdin does.
asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, bool websocket) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(use_tuple);
    if (error) {
      if (error == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and the like: keep serving the others
    }
    auto executor = socket.get_executor();
    if (websocket) {
      asio::co_spawn(executor, ws_echo(std::move(socket)), asio::detached);
    } else {
      asio::co_spawn(executor, raw_echo(std::move(socket)), asio::detached);
    }
  }
}

}  // namespace

int serve_baseline(std::string_view kind, unsigned threads) {
  if (kind != "raw-tcp" && kind != "ws") {
    std::fprintf(stderr, "capchan-bench: --serve takes raw-tcp or ws, not '%.*s'\n", static_cast<int>(kind.size()),
                 kind.data());
    return 2;
  }
  asio::io_context ioc(static_cast<int>(threads));
  tcp::acceptor acceptor(ioc, tcp::endpoint(loopback, 0));
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(ioc, accept_loop(acceptor, kind == "ws"), asio::detached);
  std::printf("listening on %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  std::thread stdin_watch([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    ioc.stop();
  });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  stdin_watch.join();
  return 0;
}

// ---- raw TCP client -----------------------------------------------------------

raw_tcp_client::raw_tcp_client(tcp::socket socket, std::size_t payload)
    : socket_(std::move(socket)), message_(length_prefixed(payload)), answer_(message_.size()) {}

asio::awaitable<std::unique_ptr<raw_tcp_client>> raw_tcp_client::connect(std::uint16_t port, std::size_t payload) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [error] = co_await socket.async_connect(tcp::endpoint(loopback, port), use_tuple);
  if (error) throw std::runtime_error("raw TCP connect: " + error.message());
  set_no_delay(socket);
  co_return std::make_unique<raw_tcp_client>(std::move(socket), payload);
}

asio::awaitable<void> raw_tcp_client::round_trip() {
  auto [write_error, w] = co_await asio::async_write(socket_, asio::buffer(message_), use_tuple);
  if (write_error) throw std::runtime_error("raw TCP write: " + write_error.message());
  auto [read_error, r] = co_await asio::async_read(socket_, asio::buffer(answer_), use_tuple);
  if (read_error) throw std::runtime_error("raw TCP read: " + read_error.message());
  if (answer_ != message_) throw std::runtime_error("raw TCP: the echo differs from the message");
}

void raw_tcp_client::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

asio::awaitable<void> raw_tcp_connect_close(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [error] = co_await socket.async_connect(tcp::endpoint(loopback, port), use_tuple);
  if (error) throw std::runtime_error("raw TCP connect: " + error.message());
  socket.close();
}

// ---- plain WebSocket client -----------------------------------------------------

struct ws_client::stream {
  explicit stream(tcp::socket socket) : ws(std::move(socket)) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
};

ws_client::ws_client(tcp::socket socket, std::size_t payload)
    : stream_(std::make_unique<stream>(std::move(socket))), message_(payload, 0x5a) {}

ws_client::~ws_client() = default;

asio::awaitable<std::unique_ptr<ws_client>> ws_client::connect(std::uint16_t port, std::size_t payload) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [error] = co_await socket.async_connect(tcp::endpoint(loopback, port), use_tuple);
  if (error) throw std::runtime_error("WebSocket connect: " + error.message());
  set_no_delay(socket);
  auto client = std::make_unique<ws_client>(std::move(socket), payload);
  auto& ws = client->stream_->ws;
  ws.binary(true);
  const std::string host = "127.0.0.1:" + std::to_string(port);
  auto [upgrade_error] = co_await ws.async_handshake(host, "/", use_tuple);
  if (upgrade_error) throw std::runtime_error("WebSocket upgrade: " + upgrade_error.message());
  co_return client;
}

asio::awaitable<void> ws_client::round_trip() {
  auto& s = *stream_;
  auto [write_error, w] = co_await s.ws.async_write(asio::buffer(message_), use_tuple);
  if (write_error) throw std::runtime_error("WebSocket write: " + write_error.message());
  s.buffer.clear();
  auto [read_error, r] = co_await s.ws.async_read(s.buffer, use_tuple);
  if (read_error) throw std::runtime_error("WebSocket read: " + read_error.message());
  if (r != message_.size()) throw std::runtime_error("WebSocket: the echo differs from the message");
}

}  // namespace capchan::bench
