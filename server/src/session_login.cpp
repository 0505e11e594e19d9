// The handshake half of a session (DESIGN.md §3): WebSocket accept, Noise NX
// as responder, and the SCRAM-like login. The peer is not trusted until
// welcome: every failure before it ends the connection, and only an
// authentic but wrong peer is told why.
#include "session.hpp"

#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/core/etf.hpp"
#include "capchan/core/frame.hpp"
#include "websocket_connection.hpp"

namespace capchan::server {

using asio::awaitable;

awaitable<bool> session::open_channel() {
  auto& ws = conn_->ws;
  ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "capchan");
    res.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  ws.read_message_max(login_message_max);
  ws.auto_fragment(false);
  ws.binary(true);
  auto [ec] = co_await ws.async_accept(*conn_->upgrade_request, as_tuple_awaitable);
  conn_->upgrade_request.reset();
  if (ec) {
    core_->counters.handshakes_failed++;
    if (ec == beast::error::timeout) core_->counters.handshake_timeouts++;
    core_->log->info("conn={} websocket upgrade failed: {}", id_, ec.message());
    co_return false;
  }
  if (!co_await login()) {
    core_->counters.handshakes_failed++;
    co_return false;
  }
  core_->counters.handshakes_ok++;
  core_->counters.handshakes_in_progress--;
  handshake_counted_ = false;
  // From here Beast's idle timeout with keep-alive pings replaces the
  // handshake deadline (DESIGN.md §3 keepalive); the two must not be mixed.
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = limits_->handshake_timeout;  // also bounds the close handshake
  timeouts.idle_timeout = limits_->idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(limits_->max_message);
  core_->counters.channels_open++;
  co_return true;
}

// Reads one login-phase message: one Noise transport record holding exactly
// one frame. Anything else ends the connection (the peer is not trusted yet).
namespace {

struct login_read {
  std::optional<std::vector<std::uint8_t>> frame_bytes;  // the frame's exact ETF bytes
  std::optional<frames::frame> frame;
};

}  // namespace

awaitable<bool> session::login() {
  auto& ws = conn_->ws;
  auto& buf = conn_->read_buffer;
  auto fail = [&](std::uint16_t code, const char* why) -> awaitable<bool> {
    core_->log->info("conn={} handshake failed: {}", id_, why);
    core_->counters.protocol_errors++;
    websocket::close_reason reason(code);
    co_await ws.async_close(reason, as_tuple_awaitable);
    co_return false;
  };
  auto read_message = [&]() -> awaitable<std::optional<std::vector<std::uint8_t>>> {
    buf.clear();
    auto [ec, n] = co_await ws.async_read(buf, as_tuple_awaitable);
    if (ec) {
      if (ec == beast::error::timeout) core_->counters.handshake_timeouts++;
      if (ec == websocket::error::message_too_big) core_->counters.messages_too_big++;
      core_->log->info("conn={} handshake failed: {}", id_, ec.message());
      co_return std::nullopt;
    }
    core_->counters.bytes_in += n;
    const auto data = static_cast<const std::uint8_t*>(buf.data().data());
    co_return std::vector<std::uint8_t>(data, data + buf.size());
  };

  // One WebSocket message: the handshake message as it is, or after Split a
  // frame's ETF bytes as one Noise transport record.
  auto write_message = [&](std::span<const std::uint8_t> bytes) -> awaitable<bool> {
    std::vector<std::uint8_t> record;
    if (ciphers_) {
      auto cipher = ciphers_->send.encrypt(bytes);
      if (!cipher) co_return false;
      record = std::move(*cipher);
      bytes = record;
    }
    auto [ec, n] = co_await ws.async_write(asio::buffer(bytes.data(), bytes.size()), as_tuple_awaitable);
    if (ec) co_return false;
    core_->counters.bytes_out += n;
    co_return true;
  };
  // A plain function, and its results are named before they are awaited:
  // GCC 12 mishandles class-type temporaries inside co_await expressions.
  auto encode = [](frames::frame f) {
    std::vector<std::uint8_t> bytes;
    frames::encode_to(bytes, std::move(f));
    return bytes;
  };

  // Noise NX message 1: `e`, exactly 32 bytes with capchan's empty payload.
  auto m1 = co_await read_message();
  if (!m1) co_return false;
  if (ws.got_text()) co_return co_await fail(close_unsupported_data, "text message");
  if (m1->size() != crypto::noise::message_1_len) co_return co_await fail(close_protocol_error, "message 1 is not 32 bytes");
  const auto prologue = std::span(reinterpret_cast<const std::uint8_t*>(crypto::noise::capchan_prologue.data()),
                                  crypto::noise::capchan_prologue.size());
  crypto::noise::handshake_responder responder(core_->key, prologue);
  if (!responder.read_message_1(*m1)) co_return co_await fail(close_protocol_error, "bad message 1");
  auto m2 = responder.write_message_2();
  if (!m2) co_return co_await fail(close_protocol_error, "low-order ephemeral key");
  if (!co_await write_message(*m2)) co_return false;
  const crypto::noise::handshake_hash h = responder.hash();
  auto split = responder.split();
  if (!split) co_return false;
  ciphers_.emplace(std::move(*split));

  // One login-phase frame: decrypt, then exactly one ETF encoding.
  auto read_frame = [&](login_read& out) -> awaitable<std::optional<std::string>> {
    auto msg = co_await read_message();
    if (!msg) co_return std::string();  // already logged; no close frame possible
    if (ws.got_text()) co_return std::string("text");
    auto plain = ciphers_->receive.decrypt(*msg);
    if (!plain) {
      core_->counters.decrypt_failures++;
      co_return std::string("decrypt");
    }
    auto decoded = etf::decode(*plain);
    if (!decoded) co_return "undecodable frame: " + decoded.error().to_string();
    auto f = frames::from_term(std::move(*decoded));
    if (!f) co_return f.error();
    out.frame_bytes = std::move(*plain);
    out.frame = std::move(*f);
    co_return std::nullopt;
  };
  auto refuse = [&](const std::optional<std::string>& problem) -> awaitable<bool> {
    if (problem->empty()) co_return false;
    if (*problem == "text") co_return co_await fail(close_unsupported_data, "text message");
    if (*problem == "decrypt") co_return co_await fail(close_protocol_error, "record failed authentication");
    // The channel is encrypted and authentic: say what was wrong.
    const auto bytes = encode(frames::close{frames::protocol_error(*problem)});
    co_await write_message(bytes);
    co_return co_await fail(close_protocol_error, problem->c_str());
  };

  login_read first;
  if (auto problem = co_await read_frame(first)) co_return co_await refuse(problem);
  const auto* login = std::get_if<frames::login>(&*first.frame);
  if (!login) co_return co_await refuse(std::string("expected {login, Service}"));
  service_name_ = login->service;

  // Unknown service and wrong password look the same: a fake verifier gives
  // a stable fake salt, and the same checks run (DESIGN.md §3).
  entry_ = core_->services()->find(service_name_);
  // Computed for every login, so that a known service costs what an unknown one does.
  const crypto::password_verifier fake = crypto::fake_verifier(core_->key.private_key(), service_name_);
  const crypto::password_verifier& verifier = entry_ ? entry_->verifier : fake;
  frames::challenge challenge;
  challenge.salt = verifier.salt;
  challenge.ops_limit = verifier.params.ops_limit;
  challenge.mem_limit = verifier.params.mem_limit;
  std::vector<std::uint8_t> challenge_bytes;
  frames::encode_to(challenge_bytes, challenge);
  if (!co_await write_message(challenge_bytes)) co_return false;

  login_read second;
  if (auto problem = co_await read_frame(second)) co_return co_await refuse(problem);
  auto* proof = std::get_if<frames::proof>(&*second.frame);
  if (!proof) co_return co_await refuse(std::string("expected {proof, ClientProof, ArgsC}"));
  const crypto::auth_message auth{h, *first.frame_bytes, challenge_bytes};
  if (!entry_ || !crypto::verify_client_proof(verifier, auth, proof->client_proof)) {
    core_->counters.auth_failed++;
    core_->log->info("conn={} auth failed service={}", id_, loggable(binary::from(service_name_)));
    const auto bytes = encode(frames::close{term(atom("auth_failed"))});
    co_await write_message(bytes);
    co_await ws.async_close(websocket::close_reason(close_normal), as_tuple_awaitable);
    co_return false;
  }
  args_c_ = std::move(proof->args);
  frames::welcome welcome;
  welcome.server_signature = crypto::server_signature(verifier, auth);
  const auto welcome_bytes = encode(welcome);
  // Set before the welcome goes out, not after: a client may act on it at
  // once, and from here stop() must close the channel with its reason
  // instead of dropping the connection.
  welcomed_ = true;
  if (!co_await write_message(welcome_bytes)) co_return false;
  core_->log->info("conn={} authenticated service={} handler={}", id_, service_name_, entry_->handler);
  co_return true;
}

}  // namespace capchan::server
