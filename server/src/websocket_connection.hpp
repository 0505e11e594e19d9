// What the session's files share, private to capchan_server: the Beast
// objects of one connection and the protocol constants of DESIGN.md §3.
#pragma once

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "capchan/core/term.hpp"

namespace capchan::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

inline constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// DESIGN.md §3: before welcome a message is at most 4 KiB.
inline constexpr std::size_t login_message_max = 4096;
// An HTTP request line and headers; capchan needs a few hundred bytes.
inline constexpr std::uint32_t http_header_limit = 8192;
// Frames queued for one WebSocket message: coalescing small frames saves
// records, but a message stays well under any peer's max_message.
inline constexpr std::size_t coalesce_limit = 64 * 1024;
inline constexpr std::string_view websocket_path = "/capchan";
inline constexpr std::string_view subprotocol = "capchan.v1";

inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_protocol_error = 1002;
inline constexpr std::uint16_t close_unsupported_data = 1003;

// The log form of a term: its text, cut short so a hostile peer cannot flood the log.
std::string loggable(const term& t);

// The Beast objects of one connection, kept out of session.hpp so that only
// the session's own files pay for compiling Beast.
class websocket_connection {
 public:
  explicit websocket_connection(beast::tcp_stream&& stream) : ws(std::move(stream)) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer read_buffer;
  // From the HTTP read to the WebSocket accept only; a pointer, so that a
  // channel does not carry an empty request's fields for its whole life.
  std::unique_ptr<http::request<http::empty_body>> upgrade_request;
};

}  // namespace capchan::server
