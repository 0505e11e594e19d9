// See raw_peer.hpp. Each blocking call starts one asynchronous operation on
// the private io_context and runs it until that operation completes; the
// tcp_stream's expiry bounds every operation.
#include "raw_peer.hpp"

#include <array>
#include <stdexcept>
#include <tuple>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "capchan/core/etf.hpp"

namespace capchan::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using error_code = boost::system::error_code;

namespace {

// Starts an operation with a handler that stores its arguments, and runs the
// io_context until they are there.
template <class... Args, class Start>
std::tuple<Args...> run_op(asio::io_context& ioc, Start&& start) {
  std::optional<std::tuple<Args...>> out;
  start([&out](Args... args) { out.emplace(std::move(args)...); });
  ioc.restart();
  while (!out && ioc.run_one() > 0) {
  }
  if (!out) throw std::logic_error("raw_peer: the operation never completed");
  return std::move(*out);
}

asio::ip::tcp::endpoint loopback(std::uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

void connect(asio::io_context& ioc, beast::tcp_stream& stream, std::uint16_t port, int receive_buffer) {
  stream.socket().open(asio::ip::tcp::v4());
  if (receive_buffer > 0) stream.socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
  stream.expires_after(io_deadline);
  auto [ec] = run_op<error_code>(ioc, [&](auto h) { stream.async_connect(loopback(port), std::move(h)); });
  if (ec) throw std::runtime_error("raw_peer: cannot connect to port " + std::to_string(port) + ": " + ec.message());
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

// --- raw_tcp ------------------------------------------------------------------

raw_tcp::raw_tcp(std::uint16_t port) : stream_(ioc_) { connect(ioc_, stream_, port, 0); }

bool raw_tcp::send(std::string_view bytes) {
  stream_.expires_after(io_deadline);
  auto [ec, n] = run_op<error_code, std::size_t>(
      ioc_, [&](auto h) { asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), std::move(h)); });
  return !ec && n == bytes.size();
}

std::optional<std::string> raw_tcp::read_to_end(std::chrono::milliseconds limit) {
  std::string out;
  char chunk[4096];
  stream_.expires_after(limit);
  for (;;) {
    auto [ec, n] = run_op<error_code, std::size_t>(
        ioc_, [&](auto h) { stream_.async_read_some(asio::buffer(chunk), std::move(h)); });
    out.append(chunk, n);
    if (ec == beast::error::timeout) return std::nullopt;
    if (ec) return out;  // eof, or a reset after the server dropped unread bytes
  }
}

std::optional<std::string> http_exchange(std::uint16_t port, std::string_view request) {
  raw_tcp tcp(port);
  tcp.send(request);
  return tcp.read_to_end();
}

std::optional<std::string> http_get(std::uint16_t port, std::string_view path) {
  return http_exchange(port, "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

// --- raw_channel --------------------------------------------------------------

raw_channel::raw_channel(std::uint16_t port, int receive_buffer) : ws_(ioc_) {
  auto& tcp = beast::get_lowest_layer(ws_);
  connect(ioc_, tcp, port, receive_buffer);
  ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::sec_websocket_protocol, "capchan.v1");
  }));
  ws_.binary(true);
  ws_.auto_fragment(false);
  ws_.read_message_max(64u << 20);
  tcp.expires_after(io_deadline);
  auto [ec] = run_op<error_code>(
      ioc_, [&](auto h) { ws_.async_handshake("127.0.0.1:" + std::to_string(port), "/capchan", std::move(h)); });
  if (ec) throw std::runtime_error("raw_channel: WebSocket upgrade failed: " + ec.message());
}

bool raw_channel::write(std::span<const std::uint8_t> bytes, bool text) {
  ws_.text(text);
  beast::get_lowest_layer(ws_).expires_after(io_deadline);
  auto [ec, n] = run_op<error_code, std::size_t>(
      ioc_, [&](auto h) { ws_.async_write(asio::buffer(bytes.data(), bytes.size()), std::move(h)); });
  (void)n;
  ws_.binary(true);
  return !ec;
}

ws_message raw_channel::read(std::chrono::milliseconds limit) {
  buffer_.clear();
  beast::get_lowest_layer(ws_).expires_after(limit);
  auto [ec, n] = run_op<error_code, std::size_t>(ioc_, [&](auto h) { ws_.async_read(buffer_, std::move(h)); });
  ws_message m;
  m.ec = ec;
  // Set once a close frame has arrived, even if answering it then failed
  // (Beast 1.81's teardown may reset the connection right after its close).
  if (ec) m.close_code = ws_.reason().code;
  m.text = ws_.got_text();
  const auto* data = static_cast<const std::uint8_t*>(buffer_.data().data());
  if (!ec) m.bytes.assign(data, data + n);
  last_ = m;
  return m;
}

std::uint16_t raw_channel::write_refused(std::span<const std::uint8_t> bytes) {
  write(bytes);  // may fail: the server hangs up before the end
  auto& socket = beast::get_lowest_layer(ws_);
  std::vector<std::uint8_t> in;
  std::array<std::uint8_t, 4096> chunk{};
  socket.expires_after(io_deadline);
  for (;;) {
    auto [ec, n] = run_op<error_code, std::size_t>(
        ioc_, [&](auto h) { socket.async_read_some(asio::buffer(chunk), std::move(h)); });
    in.insert(in.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (ec) break;
  }
  // RFC 6455 §5.2 frames from the server (never masked): skip to the close.
  std::size_t at = 0;
  while (at + 2 <= in.size()) {
    const std::uint8_t opcode = in[at] & 0x0f;
    std::uint64_t length = in[at + 1] & 0x7f;
    std::size_t header = 2;
    if (length == 126 || length == 127) {
      const std::size_t extra = length == 126 ? 2 : 8;
      if (at + 2 + extra > in.size()) break;
      length = 0;
      for (std::size_t i = 0; i < extra; ++i) length = (length << 8) | in[at + 2 + i];
      header += extra;
    }
    if (opcode == 0x8) {
      if (length < 2 || at + header + 2 > in.size()) return 0;
      return static_cast<std::uint16_t>((in[at + header] << 8) | in[at + header + 1]);
    }
    at += header + length;
  }
  return 0;
}

ws_message raw_channel::read_until_closed(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto m = read(std::max(left, std::chrono::milliseconds(1)));
    if (m.ec) return m;
  }
}

bool raw_channel::handshake() {
  crypto::noise::handshake_initiator initiator(as_bytes(crypto::noise::capchan_prologue));
  auto m1 = initiator.write_message_1();
  if (!m1 || !write(*m1)) return false;
  auto m2 = read();
  if (m2.ec || !initiator.read_message_2(m2.bytes)) return false;
  hash_ = initiator.hash();
  auto split = initiator.split();
  if (!split) return false;
  ciphers_.emplace(std::move(*split));
  return true;
}

std::vector<std::uint8_t> raw_channel::seal_plaintext(std::span<const std::uint8_t> plain) {
  auto record = ciphers_->send.encrypt(plain);
  if (!record) throw std::logic_error("raw_channel: encrypt failed");
  return std::move(*record);
}

std::vector<std::uint8_t> raw_channel::seal(const frames::frame& f) {
  std::vector<std::uint8_t> bytes;
  frames::encode_to(bytes, f);
  return seal_plaintext(bytes);
}

std::vector<std::uint8_t> raw_channel::send_plaintext(std::span<const std::uint8_t> plain) {
  auto record = seal_plaintext(plain);
  write(record);
  return record;
}

std::vector<std::uint8_t> raw_channel::send_frame(const frames::frame& f) {
  auto record = seal(f);
  write(record);
  return record;
}

std::optional<std::vector<frames::frame>> raw_channel::read_frames(std::chrono::milliseconds limit) {
  auto m = read(limit);
  if (m.ec) return std::nullopt;
  auto plain = ciphers_->receive.decrypt(m.bytes);
  if (!plain) return std::nullopt;
  std::vector<frames::frame> out;
  std::size_t offset = 0;
  while (offset < plain->size()) {
    auto t = etf::decode_next(*plain, offset);
    if (!t) return std::nullopt;
    auto f = frames::from_term(std::move(*t));
    if (!f) return std::nullopt;
    out.push_back(std::move(*f));
  }
  return out;
}

std::optional<frames::frame> raw_channel::login(const std::string& service, const std::string& password) {
  std::vector<std::uint8_t> login_bytes;
  frames::encode_to(login_bytes, frames::login{service});
  send_plaintext(login_bytes);

  auto m = read();
  if (m.ec) return std::nullopt;
  auto challenge_bytes = ciphers_->receive.decrypt(m.bytes);
  if (!challenge_bytes) return std::nullopt;
  auto challenge_term = etf::decode(*challenge_bytes);
  if (!challenge_term) return std::nullopt;
  auto challenge_frame = frames::from_term(std::move(*challenge_term));
  if (!challenge_frame) return std::nullopt;
  const auto* challenge = std::get_if<frames::challenge>(&*challenge_frame);
  if (!challenge) return *challenge_frame;

  const crypto::argon2id_params params{challenge->ops_limit, challenge->mem_limit};
  auto salted = crypto::client_salted_password(password, challenge->salt, params);
  if (!salted) throw std::runtime_error("raw_channel: argon2id: " + salted.error().message());
  const crypto::auth_message auth{std::span<const std::uint8_t, 32>(hash_), login_bytes, *challenge_bytes};
  const auto proof = crypto::client_proof(*salted, auth);
  const auto verifier = crypto::make_verifier(*salted, challenge->salt, params);
  secrets_.salted_password.assign(salted->bytes().begin(), salted->bytes().end());
  secrets_.client_proof.assign(proof.begin(), proof.end());
  secrets_.stored_key.assign(verifier.stored_key.begin(), verifier.stored_key.end());
  send_frame(frames::proof{proof, term()});

  auto answer = read_frames();
  if (!answer || answer->size() != 1) return std::nullopt;
  return std::move(answer->front());
}

}  // namespace capchan::test
