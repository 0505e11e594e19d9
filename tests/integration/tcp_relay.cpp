// See tcp_relay.hpp. One pipe per accepted connection: two sockets and a
// pump per direction; when either side ends, both sockets close.
#include "tcp_relay.hpp"

#include <array>

#include <boost/asio/write.hpp>

namespace capchan::test {

namespace asio = boost::asio;
using asio::ip::tcp;

struct tcp_relay::pipe : std::enable_shared_from_this<pipe> {
  pipe(tcp_relay& relay, tcp::socket client) : owner(relay), from_client(std::move(client)), to_server(relay.ioc_) {}

  void start() {
    auto self = shared_from_this();
    to_server.async_connect({asio::ip::make_address("127.0.0.1"), owner.target_port_},
                            [self](const boost::system::error_code& ec) {
                              if (ec) return self->stop();
                              self->pump(self->from_client, self->to_server, self->up, true);
                              self->pump(self->to_server, self->from_client, self->down, false);
                            });
  }

  void pump(tcp::socket& from, tcp::socket& to, std::array<char, 65536>& buf, bool to_server_side) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buf), [self, &from, &to, &buf, to_server_side](
                                                 const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->stop();
      self->owner.record(to_server_side, buf.data(), n);
      asio::async_write(to, asio::buffer(buf.data(), n),
                        [self, &from, &to, &buf, to_server_side](const boost::system::error_code& wec, std::size_t) {
                          if (wec) return self->stop();
                          self->pump(from, to, buf, to_server_side);
                        });
    });
  }

  void stop() {
    boost::system::error_code ignored;
    from_client.close(ignored);
    to_server.close(ignored);
  }

  tcp_relay& owner;
  tcp::socket from_client;
  tcp::socket to_server;
  std::array<char, 65536> up{};
  std::array<char, 65536> down{};
};

tcp_relay::tcp_relay(std::uint16_t target_port)
    : target_port_(target_port), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { ioc_.run(); });
}

tcp_relay::~tcp_relay() {
  ioc_.stop();
  thread_.join();
}

void tcp_relay::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) return;
    std::make_shared<pipe>(*this, std::move(socket))->start();
    accept();
  });
}

void tcp_relay::record(bool to_server, const char* data, std::size_t n) {
  std::lock_guard lock(mutex_);
  (to_server ? to_server_ : to_client_).append(data, n);
}

std::string tcp_relay::client_to_server() const {
  std::lock_guard lock(mutex_);
  return to_server_;
}

std::string tcp_relay::server_to_client() const {
  std::lock_guard lock(mutex_);
  return to_client_;
}

}  // namespace capchan::test
