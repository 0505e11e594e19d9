// Peers that do what a capchan client must not (DESIGN.md §3 "Bad input"):
// raw TCP bytes, hand-made WebSocket messages, a Noise NX initiator and a
// login driven step by step, so that a test can send garbage, replay a
// record, or stop reading. Every call blocks the test thread on a private
// io_context and gives up after a deadline (the test then fails), so a
// server that never answers cannot hang the suite.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/core/frame.hpp"
#include "eventually.hpp"

namespace capchan::test {

inline constexpr std::chrono::milliseconds io_deadline{5000};

// Plain TCP to a port: for bytes that are not a WebSocket at all.
class raw_tcp {
 public:
  explicit raw_tcp(std::uint16_t port);
  // Writes all of `bytes`; false if the peer is gone.
  bool send(std::string_view bytes);
  // Everything the peer sends until it closes; nullopt if it is still open
  // after `limit`.
  std::optional<std::string> read_to_end(std::chrono::milliseconds limit = io_deadline);

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
};

// Sends `request` as it is and returns the whole answer (the server closes
// after one HTTP response); nullopt if it is still open after the deadline.
std::optional<std::string> http_exchange(std::uint16_t port, std::string_view request);
// `GET path` with a Host header.
std::optional<std::string> http_get(std::uint16_t port, std::string_view path);

// eventually() with the I/O deadline of these tests as its default limit.
template <class Predicate>
bool eventually(Predicate done) {
  return eventually(std::move(done), io_deadline);
}

// One WebSocket message as read, or how the read ended.
struct ws_message {
  boost::system::error_code ec;   // websocket::error::closed after a close frame
  std::uint16_t close_code = 0;   // the peer's close code, if a close frame came
  bool text = false;
  std::vector<std::uint8_t> bytes;
};

// What a raw login saw and computed, for the secrecy checks.
struct login_secrets {
  std::vector<std::uint8_t> salted_password;
  std::vector<std::uint8_t> client_proof;
  std::vector<std::uint8_t> stored_key;  // SHA256(ClientKey): the verifier's part
};

// A WebSocket at /capchan with subprotocol capchan.v1, opened by the
// constructor (the upgrade must succeed), then driven by hand.
class raw_channel {
 public:
  // receive_buffer > 0 sets SO_RCVBUF before connecting: a peer that stops
  // reading then stops the server's writes sooner.
  explicit raw_channel(std::uint16_t port, int receive_buffer = 0);

  // One binary (or text) WebSocket message; false if the write failed.
  bool write(std::span<const std::uint8_t> bytes, bool text = false);
  ws_message read(std::chrono::milliseconds limit = io_deadline);
  // Writes a message the server is expected to refuse before reading all of
  // it, and returns the code of the close frame it sent (0 if none came).
  // The server closes with unread bytes, so the connection is reset and
  // Beast may give up before it parses the close frame: this reads the TCP
  // bytes itself.
  std::uint16_t write_refused(std::span<const std::uint8_t> bytes);
  // Reads until the server ends the connection (messages before it are
  // skipped); the last read: ec `closed` with close_code, or eof/reset.
  ws_message read_until_closed(std::chrono::milliseconds limit = io_deadline);

  // Noise NX as initiator (message 1, message 2, split); false on failure.
  bool handshake();
  // {login}, {challenge}, {proof} with the real password proof. Returns the
  // server's answer: {welcome, _} or {close, auth_failed}, or nullopt if the
  // connection ended instead. Needs handshake() first.
  std::optional<frames::frame> login(const std::string& service, const std::string& password);

  // Encrypts a frame (or raw plaintext) with the next nonce and sends it as
  // one message; returns the record, so that a test can send it again.
  std::vector<std::uint8_t> send_frame(const frames::frame& f);
  // The record of a frame (or plaintext) with the next nonce, not sent: to
  // send out of order, or with write_refused.
  std::vector<std::uint8_t> seal(const frames::frame& f);
  std::vector<std::uint8_t> seal_plaintext(std::span<const std::uint8_t> plain);
  std::vector<std::uint8_t> send_plaintext(std::span<const std::uint8_t> plain);
  // The next message's frames, decrypted; nullopt if the read or the
  // decryption failed (then `last` says how the read ended).
  std::optional<std::vector<frames::frame>> read_frames(std::chrono::milliseconds limit = io_deadline);

  const login_secrets& secrets() const { return secrets_; }
  const ws_message& last() const { return last_; }
  boost::beast::websocket::stream<boost::beast::tcp_stream>& ws() { return ws_; }

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::optional<crypto::noise::transport_ciphers> ciphers_;
  crypto::noise::handshake_hash hash_{};
  login_secrets secrets_;
  ws_message last_;
};

}  // namespace capchan::test
