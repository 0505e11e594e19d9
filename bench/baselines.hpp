// The in-run baselines of capchan-bench (DESIGN.md §9): what a channel is
// measured against, built in-tree so that both sides run on the same machine
// in the same minute.
//   raw TCP   plain Asio, each message a 4-byte big-endian length and the
//             payload, echoed back;
//   plain WS  Boost.Beast WebSocket, binary messages echoed back, no crypto,
//             no framing of its own.
// Their servers run in a child process (`capchan-bench --serve raw-tcp|ws`),
// as capchan-server does, with the same number of I/O threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace capchan::bench {

// Runs a baseline echo server ("raw-tcp" or "ws") on 127.0.0.1, a free port,
// `threads` I/O threads; prints "listening on PORT" on stdout, serves until
// its stdin ends. Returns the exit code.
int serve_baseline(std::string_view kind, unsigned threads);

// One raw TCP connection to the echo server; round_trip() sends `payload`
// bytes and waits for them to come back. Errors throw (a benchmark stops).
class raw_tcp_client {
 public:
  static boost::asio::awaitable<std::unique_ptr<raw_tcp_client>> connect(std::uint16_t port,
                                                                          std::size_t payload);
  explicit raw_tcp_client(boost::asio::ip::tcp::socket socket, std::size_t payload);
  boost::asio::awaitable<void> round_trip();
  void close();

 private:
  boost::asio::ip::tcp::socket socket_;
  std::vector<std::uint8_t> message_;
  std::vector<std::uint8_t> answer_;
};

// One plain WebSocket (no crypto) to the echo server.
class ws_client {
 public:
  static boost::asio::awaitable<std::unique_ptr<ws_client>> connect(std::uint16_t port, std::size_t payload);
  ws_client(boost::asio::ip::tcp::socket socket, std::size_t payload);
  ~ws_client();
  boost::asio::awaitable<void> round_trip();

 private:
  struct stream;
  std::unique_ptr<stream> stream_;
  std::vector<std::uint8_t> message_;
};

// A raw TCP connect to `port` and its close: the connection-rate baseline.
boost::asio::awaitable<void> raw_tcp_connect_close(std::uint16_t port);

}  // namespace capchan::bench
