// A TCP relay on 127.0.0.1:0 that forwards every connection to a target port
// and records every byte both ways: what an eavesdropper on the loopback
// would see. For the secrecy tests (DESIGN.md §3: the password never leaves
// the client; everything after the handshake is encrypted).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace capchan::test {

class tcp_relay {
 public:
  explicit tcp_relay(std::uint16_t target_port);
  ~tcp_relay();
  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  std::uint16_t port() const { return port_; }
  // All bytes seen so far, both directions, in arrival order per direction
  // (client to server, then server to client).
  std::string client_to_server() const;
  std::string server_to_client() const;

 private:
  struct pipe;
  void accept();
  void record(bool to_server, const char* data, std::size_t n);

  std::uint16_t target_port_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::string to_server_;
  std::string to_client_;
  std::thread thread_;
};

}  // namespace capchan::test
