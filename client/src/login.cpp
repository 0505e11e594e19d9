// The login phase of a client connection (DESIGN.md §3): TCP, the WebSocket
// upgrade with subprotocol capchan.v1, Noise NX as initiator, the server key
// check (--key / ?key=, else known_hosts), then the SCRAM-like login inside
// the encrypted channel. One deadline (handshake_timeout) covers everything
// from TCP connect to `welcome`: Beast's tcp_stream applies it to every read
// and write until expires_never().
#include <iostream>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include "capchan/client/known_hosts.hpp"
#include "capchan/client/password_cache.hpp"
#include "capchan/client/url.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/core/etf.hpp"
#include "capchan/core/text.hpp"
#include "connection.hpp"
#include "transport.hpp"

namespace capchan::client {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
namespace noise = crypto::noise;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The password must not linger in freed memory; the compiler may not drop
// stores through a volatile pointer.
void wipe(std::string& secret) {
  volatile char* p = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

std::string milliseconds_text(std::chrono::milliseconds ms) {
  return ms.count() % 1000 == 0 ? std::to_string(ms.count() / 1000) + " s"
                                : std::to_string(ms.count()) + " ms";
}

// An I/O failure during login, in words a person can act on.
error io_failure(const boost::system::error_code& ec, const std::string& where,
                 std::string_view during, std::chrono::milliseconds timeout) {
  const std::string what = std::string(during) + " (" + ec.message() + ")";
  if (ec == beast::error::timeout) {
    return error(errc::timeout, where + " did not complete the login within " +
                                    milliseconds_text(timeout) + ": " + what);
  }
  if (ec == asio::error::connection_refused) {
    return error(errc::connection_refused,
                 "nothing listens on " + where + " (is capchan-server running there?)");
  }
  if (ec == websocket::error::message_too_big) {
    return error(errc::protocol_error, where + " sent a login message over 4 KiB " + what);
  }
  if (ec == websocket::error::closed || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    return error(errc::closed, where + " ended the connection " + what, atom("disconnected"));
  }
  return error(errc::connection_refused, "cannot talk to " + where + ": " + what);
}

// Runs `work` on a thread of its own and resumes on the caller's executor:
// argon2id takes from 0.1 s to seconds and must not stall other channels.
// The thread is joined before this returns (std::jthread), even if the
// coroutine is destroyed while it waits.
template <class T, class F>
asio::awaitable<T> on_own_thread(F work) {
  auto executor = co_await asio::this_coro::executor;
  std::optional<T> out;
  bool finished = false;
  detail::strand_condition done;
  std::jthread worker([&] {
    out.emplace(work());
    asio::post(executor, [&] {
      finished = true;
      done.notify_all();
    });
  });
  while (!finished) co_await done.wait_until(detail::clock::time_point::max());
  co_return std::move(*out);
}

std::string describe_frame(const term& t) {
  std::string s = text::print(t);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

}  // namespace

void connection::note(std::string_view text) const {
  if (options_.note) {
    options_.note(text);
  } else {
    std::cerr << text << std::endl;
  }
}

// DESIGN.md §3: a fingerprint given to the client must match; otherwise
// known_hosts, trust on first use with a loud note, then strict.
result<void> connection::check_server_key(const std::string& where,
                                          const noise::public_key& key) {
  const std::string fingerprint = noise::fingerprint(key);
  if (!options_.key.empty()) {
    if (options_.key == fingerprint) return {};
    return error(errc::server_key_mismatch,
                 where + " presented the key " + fingerprint + ", not the expected " + options_.key +
                     " (given with --key or ?key=). Either someone is intercepting this "
                     "connection or the expected key is wrong: check it with the server's "
                     "operator (`capchan config fingerprint` on the server)");
  }
  const known_hosts hosts(options_.known_hosts.empty() ? known_hosts::default_path()
                                                       : options_.known_hosts);
  auto verdict = hosts.check(where, fingerprint);
  if (!verdict) return verdict.error();
  const std::string file = "'" + hosts.file().string() + "'";
  switch (verdict->what) {
    case known_hosts::outcome::matched:
      break;
    case known_hosts::outcome::recorded:
      note("capchan: NOTE: first connection to " + where + "; its server key is\n" +
           "capchan: NOTE:     " + fingerprint + "\n" +
           "capchan: NOTE: trusted from now on: recorded in " + file + " line " +
           std::to_string(verdict->line) + ".\n" +
           "capchan: NOTE: if you did not expect a new server there, compare this key with "
           "the server's (`capchan config fingerprint`) before you send anything secret.");
      break;
    case known_hosts::outcome::not_recorded:
      note("capchan: NOTE: first connection to " + where + "; its server key is\n" +
           "capchan: NOTE:     " + fingerprint + "\n" +
           "capchan: NOTE: trusted for this connection only: " + verdict->problem + ".\n" +
           "capchan: NOTE: compare this key with the server's (`capchan config fingerprint`), "
           "or pass it with --key.");
      break;
  }
  return {};
}

asio::awaitable<result<void>> connection::write_login_frame(const std::string& where,
                                                            const std::vector<std::uint8_t>& frame) {
  auto sealed = ciphers_.send.encrypt(frame);
  if (!sealed) co_return error(errc::protocol_error, "cannot encrypt: " + sealed.error().message());
  auto [ec, n] = co_await transport_->ws.async_write(asio::buffer(*sealed), use_tuple);
  (void)n;
  if (ec) {
    co_return io_failure(ec, where, "while sending the login", options_.handshake_timeout);
  }
  co_return result<void>();
}

asio::awaitable<result<std::vector<std::uint8_t>>> connection::read_login_message(
    const std::string& where, std::string_view waiting_for) {
  auto& ws = transport_->ws;
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
  if (ec) {
    co_return io_failure(ec, where, "while waiting for " + std::string(waiting_for),
                         options_.handshake_timeout);
  }
  if (!ws.got_binary()) {
    co_return error(errc::protocol_error, where + " sent a text WebSocket message (capchan v1 "
                                                  "sends binary messages only)");
  }
  const auto* data = static_cast<const std::uint8_t*>(buffer.data().data());
  co_return std::vector<std::uint8_t>(data, data + n);
}

asio::awaitable<result<void>> connection::open(std::string host, std::uint16_t port,
                                               std::string service, std::string password,
                                               term args_c) {
  struct wipe_on_exit {
    std::string& secret;
    ~wipe_on_exit() { wipe(secret); }
  } password_guard{password};

  service_ = service;
  const std::string where = host_port(host, port);
  auto& ws = transport_->ws;
  auto& tcp = beast::get_lowest_layer(ws);

  // ---- TCP ------------------------------------------------------------------
  // An IP address needs no resolver: Asio resolves on a thread of its own,
  // and the hand-over costs a reconnect more than the rest of the login.
  boost::system::error_code numeric_ec;
  const auto address = asio::ip::make_address(host, numeric_ec);
  std::vector<asio::ip::tcp::endpoint> endpoints;
  if (!numeric_ec) {
    endpoints.emplace_back(address, port);
  } else {
    asio::ip::tcp::resolver resolver(strand_);
    auto [resolve_ec, found] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
    if (resolve_ec) {
      co_return error(errc::connection_refused,
                      "cannot resolve host '" + host + "': " + resolve_ec.message());
    }
    for (const auto& entry : found) endpoints.push_back(entry.endpoint());
  }
  tcp.expires_after(options_.handshake_timeout);  // one deadline from here to welcome
  auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, use_tuple);
  (void)endpoint;
  if (connect_ec) co_return io_failure(connect_ec, where, "connecting", options_.handshake_timeout);
  // Frames are whole messages and the writer coalesces them itself: Nagle
  // would only hold a login message or a close back for an ACK.
  boost::system::error_code nodelay_ec;
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), nodelay_ec);

  // ---- WebSocket upgrade (DESIGN.md §3): /capchan, subprotocol capchan.v1,
  // binary only, no permessage-deflate (Beast's default: off) ----------------
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
    request.set(http::field::sec_websocket_protocol, subprotocol);
    request.set(http::field::user_agent, "capchan-client/1");
  }));
  ws.read_message_max(login_message_max);
  ws.binary(true);
  websocket::response_type response;
  auto [upgrade_ec] = co_await ws.async_handshake(response, where, websocket_path, use_tuple);
  if (upgrade_ec == websocket::error::upgrade_declined) {
    co_return error(errc::connection_refused,
                    where + " answered HTTP " + std::to_string(response.result_int()) + " " +
                        std::string(response.reason()) +
                        " to a WebSocket upgrade at /capchan with subprotocol capchan.v1: it is "
                        "not a capchan v1 server");
  }
  if (upgrade_ec) {
    co_return io_failure(upgrade_ec, where, "during the WebSocket upgrade", options_.handshake_timeout);
  }
  if (response[http::field::sec_websocket_protocol] != subprotocol) {
    co_return error(errc::protocol_error,
                    where + " accepted the WebSocket without the capchan.v1 subprotocol: it is "
                            "not a capchan v1 server");
  }

  // ---- Noise NX, initiator (DESIGN.md §3) ---------------------------------
  noise::handshake_initiator handshake(as_bytes(noise::capchan_prologue));
  auto message_1 = handshake.write_message_1();
  if (!message_1) co_return error(errc::protocol_error, "Noise: " + message_1.error().message());
  {
    auto [ec, n] = co_await ws.async_write(asio::buffer(*message_1), use_tuple);
    (void)n;
    if (ec) co_return io_failure(ec, where, "sending Noise message 1", options_.handshake_timeout);
  }
  auto message_2 = co_await read_login_message(where, "Noise message 2");
  if (!message_2) co_return message_2.error();
  if (message_2->size() != noise::message_2_len) {
    co_return error(errc::protocol_error, where + " sent a Noise message 2 of " +
                                              std::to_string(message_2->size()) + " bytes, not " +
                                              std::to_string(noise::message_2_len));
  }
  if (auto payload = handshake.read_message_2(*message_2); !payload) {
    co_return error(errc::protocol_error,
                    "the Noise handshake with " + where + " failed: " + payload.error().message());
  }
  server_key_ = handshake.remote_static_key();
  fingerprint_ = noise::fingerprint(server_key_);
  // Before anything else goes to the server, even the service name.
  if (auto checked = check_server_key(where, server_key_); !checked) co_return checked.error();
  auto ciphers = handshake.split();
  if (!ciphers) co_return error(errc::protocol_error, "Noise split: " + ciphers.error().message());
  ciphers_ = std::move(*ciphers);
  const noise::handshake_hash h = handshake.hash();

  // Each login-phase message carries exactly one frame: its plaintext is
  // the frame's exact ETF bytes, as AuthMessage needs them.
  auto read_frame = [&](std::string_view waiting_for)
      -> asio::awaitable<result<std::pair<std::vector<std::uint8_t>, frames::frame>>> {
    auto sealed = co_await read_login_message(where, waiting_for);
    if (!sealed) co_return sealed.error();
    auto plain = ciphers_.receive.decrypt(*sealed);
    if (!plain) {
      co_return error(errc::protocol_error, where + " sent a message that failed authentication "
                                                    "(tampered with, or not from this server)");
    }
    auto decoded = etf::decode(*plain);
    if (!decoded) {
      co_return error(errc::protocol_error,
                      where + " sent an undecodable login frame: " + decoded.error().to_string());
    }
    auto f = frames::from_term(*decoded);
    if (!f) co_return error(errc::protocol_error, where + " sent " + f.error());
    co_return std::pair{std::move(*plain), std::move(*f)};
  };
  // {close, Reason} instead of the frame we wait for.
  auto refused = [&](const frames::close& c) {
    if (c.reason.is_atom("auth_failed")) {
      return error(errc::auth_failed, where + " refused service '" + service + "'");
    }
    return error(errc::closed, where + " closed the login", c.reason);
  };

  // ---- Login (DESIGN.md §3) -------------------------------------------------
  std::vector<std::uint8_t> login_frame;
  frames::encode_to(login_frame, frames::login{service});
  if (login_frame.size() + noise::tag_len > login_message_max) {
    co_return error(errc::message_too_large, "the service name is too long");
  }
  auto login_sent = co_await write_login_frame(where, login_frame);
  if (!login_sent) co_return login_sent.error();

  auto challenge_message = co_await read_frame("the challenge");
  if (!challenge_message) co_return challenge_message.error();
  auto& [challenge_frame, challenge_any] = *challenge_message;
  if (auto* c = std::get_if<frames::close>(&challenge_any)) co_return refused(*c);
  auto* challenge = std::get_if<frames::challenge>(&challenge_any);
  if (!challenge) {
    co_return error(errc::protocol_error,
                    where + " sent " + describe_frame(frames::to_term(challenge_any)) +
                        " where {challenge, Salt, {argon2id, Ops, Mem}} belongs");
  }
  const crypto::argon2id_params params{challenge->ops_limit, challenge->mem_limit};
  if (auto ec = crypto::check_client_argon2id_params(params)) {
    co_return error(errc::protocol_error,
                    where + " asks for argon2id with t=" + std::to_string(params.ops_limit) +
                        ", m=" + std::to_string(params.mem_limit) +
                        " bytes: " + ec.message() + "; refusing to pay for it");
  }

  // SaltedPassword, from the cache when this (server, service, salt) has
  // been seen (DESIGN.md §3), on a thread of its own otherwise.
  const crypto::password_salt salt = challenge->salt;
  std::shared_ptr<password_cache> cache = options_.passwords;
  auto derive = [&] {
    return cache ? cache->get(server_key_, service, salt, params, password)
                 : crypto::client_salted_password(password, salt, params);
  };
  // A cache hit needs no thread: starting one costs a scheduler round trip,
  // which on a busy machine is most of a reconnect's time.
  std::optional<crypto::salted_password> salted;
  if (cache) salted = cache->find(server_key_, service, salt, params);
  if (!salted) {
    auto derived = co_await on_own_thread<crypto::result<crypto::salted_password>>(derive);
    if (!derived) co_return error(errc::protocol_error, "argon2id: " + derived.error().message());
    salted.emplace(*derived);
  }

  const crypto::auth_message auth{std::span<const std::uint8_t, 32>(h), login_frame, challenge_frame};
  std::vector<std::uint8_t> proof_frame;
  frames::encode_to(proof_frame, frames::proof{crypto::client_proof(*salted, auth), std::move(args_c)});
  if (proof_frame.size() + noise::tag_len > login_message_max) {
    co_return error(errc::message_too_large, "ArgsC is too large for the 4 KiB login message");
  }
  auto proof_sent = co_await write_login_frame(where, proof_frame);
  if (!proof_sent) co_return proof_sent.error();

  auto welcome_message = co_await read_frame("the welcome");
  if (!welcome_message) co_return welcome_message.error();
  auto& welcome_any = welcome_message->second;
  if (auto* c = std::get_if<frames::close>(&welcome_any)) {
    // Forget the cached SaltedPassword: the password may have changed.
    if (cache) cache->forget(server_key_, service, salt);
    co_return refused(*c);
  }
  auto* welcome = std::get_if<frames::welcome>(&welcome_any);
  if (!welcome) {
    co_return error(errc::protocol_error, where + " sent " +
                                              describe_frame(frames::to_term(welcome_any)) +
                                              " where {welcome, ServerSignature} belongs");
  }
  // A server that does not know the password must not be trusted
  // (SCRAM's mutual authentication).
  if (!crypto::verify_server_signature(*salted, auth, welcome->server_signature)) {
    co_return error(errc::auth_failed,
                    where + " did not prove that it knows the password of '" + service +
                        "' (wrong ServerSignature): it may be an impostor holding a stolen key, "
                        "or its verifier is not from this password");
  }

  // The channel is open: the handshake deadline ends, the channel limits
  // begin (DESIGN.md §3: max_message counts the message as received).
  tcp.expires_never();
  ws.read_message_max(options_.max_message);
  if (options_.idle_timeout != no_timeout) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.close_timeout;
    timeouts.idle_timeout = options_.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
  }
  phase_ = phase::open;
  open_ = true;
  co_return result<void>();
}

}  // namespace capchan::client
