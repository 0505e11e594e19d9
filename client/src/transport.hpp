// The Beast side of a connection: a WebSocket over a TCP stream whose
// executor is the connection's strand. Kept out of connection.hpp so that
// only the two files that do I/O (login.cpp, connection.cpp) pay for Beast.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "connection.hpp"

namespace capchan::client {

struct connection::transport {
  explicit transport(const strand_type& strand) : ws(boost::asio::any_io_executor(strand)) {}
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws;
};

}  // namespace capchan::client
