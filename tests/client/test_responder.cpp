// The client tests' stand-in server (see test_responder.hpp). Deliberately
// plain: one coroutine per connection that reads a message, answers it, and
// reads the next; no limits, no timeouts beyond what the tests need.
// GCC 12 and coroutines, as in client/src: no co_await inside a condition
// (miscompiled), and frames are built into a variable before
// `co_await send(...)` (a brace-initialised aggregate argument in a co_await
// expression is destroyed twice).
#include "test_responder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "capchan/core/etf.hpp"
#include "capchan/core/frame.hpp"

namespace capchan::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

struct test_responder::session {
  test_responder& owner;
  websocket::stream<beast::tcp_stream> ws;
  crypto::noise::transport_ciphers ciphers;
  term args_c;
  std::int64_t held = 0;

  session(test_responder& o, tcp::socket socket) : owner(o), ws(std::move(socket)) {}

  asio::awaitable<std::optional<std::vector<std::uint8_t>>> read_raw() {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) co_return std::nullopt;
    const auto* p = static_cast<const std::uint8_t*>(buffer.data().data());
    co_return std::vector<std::uint8_t>(p, p + n);
  }

  asio::awaitable<std::optional<std::vector<std::uint8_t>>> read_plain() {
    auto sealed = co_await read_raw();
    if (!sealed) co_return std::nullopt;
    auto plain = ciphers.receive.decrypt(*sealed);
    if (!plain) co_return std::nullopt;
    co_return std::move(*plain);
  }

  asio::awaitable<bool> send_plain(const std::vector<std::uint8_t>& plain) {
    auto sealed = ciphers.send.encrypt(plain);
    if (!sealed) co_return false;
    auto [ec, n] = co_await ws.async_write(asio::buffer(*sealed), use_tuple);
    co_return !ec;
  }

  // Frames in one message. Callers build the vector before co_await: GCC 12
  // rejects a braced list inside a co_await expression ("array used as
  // initializer", its backing array).
  asio::awaitable<bool> send(std::vector<frames::frame> fs) {
    std::vector<std::uint8_t> plain;
    for (auto& f : fs) frames::encode_to(plain, std::move(f));
    co_return co_await send_plain(plain);
  }
  asio::awaitable<bool> send(frames::frame f) {
    std::vector<std::uint8_t> plain;
    frames::encode_to(plain, std::move(f));
    co_return co_await send_plain(plain);
  }

  // Our WebSocket close, then read until the client's close arrives.
  asio::awaitable<void> close_websocket() {
    auto [ec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
    while (!ec) {
      auto more = co_await read_raw();
      if (!more) break;
    }
  }

  asio::awaitable<void> run() {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_ec, n] = co_await http::async_read(ws.next_layer(), buffer, request, use_tuple);
    if (read_ec) co_return;
    const bool asked = request[http::field::sec_websocket_protocol] == "capchan.v1";
    if (!websocket::is_upgrade(request) || !asked || owner.options_.refuse_upgrade) {
      http::response<http::string_body> refusal{http::status::bad_request, request.version()};
      refusal.body() = "capchan.v1 subprotocol required\n";
      refusal.prepare_payload();
      co_await http::async_write(ws.next_layer(), refusal, use_tuple);
      co_return;
    }
    const bool answer = owner.options_.answer_subprotocol;
    ws.set_option(websocket::stream_base::decorator([answer](websocket::response_type& r) {
      if (answer) r.set(http::field::sec_websocket_protocol, "capchan.v1");
    }));
    auto [accept_ec] = co_await ws.async_accept(request, use_tuple);
    if (accept_ec) co_return;
    ws.binary(true);
    if (owner.options_.stall) {
      for (;;) {
        auto more = co_await read_raw();
        if (!more) co_return;
      }
    }

    // Noise NX, responder.
    crypto::noise::handshake_responder handshake(owner.key_, as_bytes(crypto::noise::capchan_prologue));
    auto message_1 = co_await read_raw();
    if (!message_1 || !handshake.read_message_1(*message_1)) co_return;
    auto message_2 = handshake.write_message_2();
    if (!message_2) co_return;
    auto [write_ec, written] = co_await ws.async_write(asio::buffer(*message_2), use_tuple);
    if (write_ec) co_return;
    auto split = handshake.split();
    if (!split) co_return;
    ciphers = std::move(*split);
    const crypto::noise::handshake_hash h = handshake.hash();

    // Login.
    auto login_bytes = co_await read_plain();
    if (!login_bytes) co_return;
    auto login = frames::from_term(etf::decode(*login_bytes).value());
    if (!login || !std::holds_alternative<frames::login>(*login)) co_return;
    const auto& verifier = owner.verifier_;
    std::vector<std::uint8_t> challenge_bytes;
    frames::challenge challenge;
    challenge.salt = verifier.salt;
    challenge.ops_limit = verifier.params.ops_limit;
    challenge.mem_limit = verifier.params.mem_limit;
    frames::encode_to(challenge_bytes, challenge);
    const bool challenged = co_await send_plain(challenge_bytes);
    if (!challenged) co_return;
    auto proof_bytes = co_await read_plain();
    if (!proof_bytes) co_return;
    auto proof = frames::from_term(etf::decode(*proof_bytes).value());
    if (!proof || !std::holds_alternative<frames::proof>(*proof)) co_return;
    auto& p = std::get<frames::proof>(*proof);
    const crypto::auth_message auth{std::span<const std::uint8_t, 32>(h), *login_bytes, challenge_bytes};
    if (owner.options_.forge_welcome) {
      frames::welcome forged;
      forged.server_signature.fill(0x42);
      co_await send(frames::frame(forged));
    } else if (std::get<frames::login>(*login).service == owner.options_.service &&
               crypto::verify_client_proof(verifier, auth, p.client_proof)) {
      args_c = std::move(p.args);
      ++owner.logins_;
      frames::welcome welcome;
      welcome.server_signature = crypto::server_signature(verifier, auth);
      const bool welcomed = co_await send(frames::frame(welcome));
      if (!welcomed) co_return;
    } else {
      frames::frame refusal = frames::close{atom("auth_failed")};
      co_await send(std::move(refusal));
      co_await close_websocket();
      co_return;
    }

    // Channel.
    for (;;) {
      auto plain = co_await read_plain();
      if (!plain) co_return;
      std::size_t offset = 0;
      while (offset < plain->size()) {
        auto f = frames::from_term(etf::decode_next(*plain, offset).value());
        if (!f) co_return;
        const bool go_on = co_await handle(std::move(*f));
        if (!go_on) co_return;
      }
    }
  }

  // False when the session is over.
  asio::awaitable<bool> handle(frames::frame f) {
    if (auto* c = std::get_if<frames::cast>(&f)) {
      const term* tag = c->message.element(0);
      if (tag && tag->is_atom("push_back")) {
        frames::frame echo = frames::cast{*c->message.element(1)};
        co_return co_await send(std::move(echo));
      }
      co_return true;
    }
    if (std::holds_alternative<frames::close>(f)) {
      co_await close_websocket();
      co_return false;
    }
    auto* call = std::get_if<frames::call>(&f);
    if (!call) co_return false;
    const term& m = call->message;
    const std::int64_t id = call->id;
    const term* tag = m.element(0);
    if (m.is_atom("hold")) {
      held = id;
      co_return true;
    }
    if (m.is_atom("release")) {
      std::vector<frames::frame> both;
      both.push_back(frames::reply{held, atom("held")});
      both.push_back(frames::reply{id, atom("released")});
      co_return co_await send(std::move(both));
    }
    if (m.is_atom("stall")) {
      // Stop reading (so no pong either) until the responder goes away.
      asio::steady_timer never(ws.get_executor(), asio::steady_timer::time_point::max());
      co_await never.async_wait(use_tuple);
      co_return false;
    }
    if (m.is_atom("drop")) {
      beast::get_lowest_layer(ws).close();
      co_return false;
    }
    if (m.is_atom("args")) {
      frames::frame out = frames::reply{id, args_c};
      co_return co_await send(std::move(out));
    }
    if (m.is_atom("bad_id")) {
      frames::frame out = frames::reply{1000000, atom("oops")};
      co_return co_await send(std::move(out));
    }
    if (m.is_atom("garbage")) {
      const std::vector<std::uint8_t> not_etf{0xff, 0x00, 0x01};
      co_return co_await send_plain(not_etf);
    }
    if (tag && tag->is_atom("fail")) {
      frames::frame out = frames::fail{id, *m.element(1)};
      co_return co_await send(std::move(out));
    }
    if (tag && tag->is_atom("push")) {
      std::vector<frames::frame> out;
      for (std::int64_t i = 1; i <= *m.element(1)->as_int64(); ++i) {
        out.push_back(frames::cast{tuple(atom("push"), i)});
      }
      out.push_back(frames::reply{id, atom("ok")});
      co_return co_await send(std::move(out));
    }
    if (tag && tag->is_atom("push_each")) {
      for (std::int64_t i = 1; i <= *m.element(1)->as_int64(); ++i) {
        frames::frame push = frames::cast{tuple(atom("push"), i)};
        const bool sent = co_await send(std::move(push));
        if (!sent) co_return false;
      }
      frames::frame ok = frames::reply{id, atom("ok")};
      co_return co_await send(std::move(ok));
    }
    if (tag && tag->is_atom("close")) {
      frames::frame close = frames::close{*m.element(1)};
      co_await send(std::move(close));
      co_await close_websocket();
      co_return false;
    }
    frames::frame echo = frames::reply{id, m};
    co_return co_await send(std::move(echo));
  }
};

test_responder::test_responder(responder_options options)
    : options_(std::move(options)),
      key_(crypto::noise::keypair::generate()),
      verifier_(crypto::make_verifier(options_.password, crypto::random_salt(), crypto::argon2id_min)
                    .value()),
      acceptor_(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { context_.run(); });
}

test_responder::~test_responder() {
  context_.stop();
  thread_.join();
}

std::string test_responder::fingerprint() const { return crypto::noise::fingerprint(key_.public_key()); }

void test_responder::accept() {
  asio::co_spawn(
      context_,
      [this]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
          if (ec) co_return;
          auto s = std::make_shared<session>(*this, std::move(socket));
          asio::co_spawn(context_, [s] { return s->run(); }, asio::detached);
        }
      },
      asio::detached);
}

std::uint16_t unused_port() {
  asio::io_context context;
  tcp::acceptor probe(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

}  // namespace capchan::test
