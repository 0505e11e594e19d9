// One connection's life (DESIGN.md §3 wire protocol v1, §4 limits):
//   accept → HTTP request → /healthz | /metrics | WebSocket upgrade at /capchan
//   → Noise NX (message 1: 32 bytes, message 2: 96 bytes) → login (one frame
//   per message, at most 4 KiB) → welcome → channel (reader, writer, handler).
// handshake_timeout runs from accept to welcome as an absolute deadline on the
// TCP stream; after welcome Beast's idle timeout with keep-alive pings takes over.
#include "session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/core/etf.hpp"
#include "capchan/core/frame.hpp"
#include "capchan/core/text.hpp"

namespace capchan::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

// DESIGN.md §3: before welcome a message is at most 4 KiB.
constexpr std::size_t login_message_max = 4096;
// An HTTP request line and headers; capchan needs a few hundred bytes.
constexpr std::uint32_t http_header_limit = 8192;
// Frames queued for one WebSocket message: coalescing small frames saves
// records, but a message stays well under any peer's max_message.
constexpr std::size_t coalesce_limit = 64 * 1024;
constexpr std::string_view websocket_path = "/capchan";
constexpr std::string_view subprotocol = "capchan.v1";

constexpr std::uint16_t close_normal = 1000;
constexpr std::uint16_t close_protocol_error = 1002;
constexpr std::uint16_t close_unsupported_data = 1003;

term reason_atom(const char* name) { return term(atom(name)); }

bool offers_subprotocol(std::string_view header) {
  // A comma-separated list of tokens (RFC 6455 §4.1, Sec-WebSocket-Protocol).
  std::size_t pos = 0;
  while (pos <= header.size()) {
    std::size_t end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view token = header.substr(pos, end - pos);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token == subprotocol) return true;
    pos = end + 1;
  }
  return false;
}

// The log form of a term: its text, cut short so a hostile name cannot flood the log.
std::string loggable(const term& t) {
  std::string s = text::print(t);
  constexpr std::size_t max_log_term = 200;
  if (s.size() > max_log_term) s = s.substr(0, max_log_term) + "...";
  return s;
}

}  // namespace

// The Beast objects, kept out of session.hpp so that only this file pays for them.
class websocket_connection {
 public:
  explicit websocket_connection(beast::tcp_stream&& stream) : ws(std::move(stream)) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer read_buffer;
  http::request<http::empty_body> upgrade_request;
};

// --- task_tracker / server_core ---------------------------------------------

void task_tracker::finished() {
  if (count_.fetch_sub(1) == 1) asio::post(strand_, [this] { idle_.cancel(); });
}

awaitable<void> task_tracker::wait_idle() {
  co_await asio::post(strand_, use_awaitable);
  while (count_.load() > 0) {
    idle_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await idle_.async_wait(as_tuple_awaitable);
  }
}

server_core::server_core(asio::io_context& ioc_, const config::server_config& config, crypto::noise::keypair key_,
                         std::shared_ptr<service_table> services, std::shared_ptr<spdlog::logger> logger)
    : ioc(ioc_),
      bind(config.bind),
      port(config.port),
      limits(config.limits),
      key(std::move(key_)),
      log(std::move(logger)),
      tasks(ioc_),
      services_(std::move(services)) {}

std::shared_ptr<service_table> server_core::services() const {
  std::lock_guard lock(mutex_);
  return services_;
}

void server_core::register_session(std::uint64_t id, const std::shared_ptr<session>& s) {
  std::lock_guard lock(mutex_);
  sessions_[id] = s;
}

void server_core::unregister_session(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

std::vector<std::shared_ptr<session>> server_core::live_sessions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<session>> out;
  for (const auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

// --- session ----------------------------------------------------------------

session::session(asio::ip::tcp::socket socket, std::shared_ptr<server_core> core, std::uint64_t id)
    : core_(std::move(core)),
      id_(id),
      accepted_at_(std::chrono::steady_clock::now()),
      mailbox_(socket.get_executor(), core_->limits.mailbox),
      outbox_ready_(socket.get_executor()),
      killed_(socket.get_executor()) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  beast::tcp_stream stream(std::move(socket));
  conn_ = std::make_unique<websocket_connection>(std::move(stream));
  core_->counters.connections_open++;
  core_->counters.handshakes_in_progress++;
  handshake_counted_ = true;
}

session::~session() {
  core_->counters.connections_open--;
  if (handshake_counted_) core_->counters.handshakes_in_progress--;
  core_->counters.outbox_bytes -= static_cast<std::int64_t>(outbox_bytes_);
}

awaitable<void> session::run() {
  auto self = shared_from_this();
  core_->log->info("conn={} accepted peer={}", id_, peer_);
  auto& stream = beast::get_lowest_layer(conn_->ws);
  stream.expires_at(accepted_at_ + core_->limits.handshake_timeout);

  http::request_parser<http::empty_body> parser;
  parser.header_limit(http_header_limit);
  auto [ec, n] = co_await http::async_read(stream, conn_->read_buffer, parser, as_tuple_awaitable);
  if (ec) {
    if (ec == beast::error::timeout) core_->counters.handshake_timeouts++;
    core_->counters.handshakes_failed++;
    core_->log->info("conn={} closed before a request: {}", id_, ec.message());
    co_return;
  }
  auto req = parser.release();
  const bool upgrade = websocket::is_upgrade(req);
  if (upgrade && req.target() == websocket_path && offers_subprotocol(req[http::field::sec_websocket_protocol])) {
    conn_->upgrade_request = std::move(req);
    co_await serve_websocket();
    co_return;
  }

  core_->counters.http_requests++;
  core_->counters.handshakes_failed++;
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(false);
  res.set(http::field::server, "capchan");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  if (upgrade && req.target() == websocket_path) {
    res.result(http::status::bad_request);
    res.body() = "capchan needs the WebSocket subprotocol capchan.v1\n";
  } else if (req.method() == http::verb::get && req.target() == "/healthz") {
    res.result(http::status::ok);
    res.body() = "ok\n";
  } else if (req.method() == http::verb::get && req.target() == "/metrics") {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = core_->counters.to_prometheus();
  } else if (req.target() == websocket_path) {
    res.result(http::status::bad_request);
    res.body() = "connect with a capchan client: this path speaks WebSocket (capchan.v1)\n";
  } else {
    res.result(http::status::not_found);
    res.body() = "not found: capchan serves /capchan, /healthz and /metrics\n";
  }
  res.prepare_payload();
  co_await http::async_write(stream, res, as_tuple_awaitable);
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  core_->log->info("conn={} http {} {} -> {}", id_, std::string(req.method_string()), std::string(req.target()),
                   res.result_int());
}


awaitable<void> session::serve_websocket() {
  auto& ws = conn_->ws;
  ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "capchan");
    res.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  ws.read_message_max(login_message_max);
  ws.auto_fragment(false);
  ws.binary(true);
  auto [ec] = co_await ws.async_accept(conn_->upgrade_request, as_tuple_awaitable);
  conn_->upgrade_request = {};
  if (ec) {
    core_->counters.handshakes_failed++;
    if (ec == beast::error::timeout) core_->counters.handshake_timeouts++;
    core_->log->info("conn={} websocket upgrade failed: {}", id_, ec.message());
    co_return;
  }
  if (!co_await login()) {
    core_->counters.handshakes_failed++;
    co_return;
  }
  welcomed_ = true;
  core_->counters.handshakes_ok++;
  core_->counters.handshakes_in_progress--;
  handshake_counted_ = false;
  // From here Beast's idle timeout with keep-alive pings replaces the
  // handshake deadline (DESIGN.md §3 keepalive); the two must not be mixed.
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = core_->limits.handshake_timeout;  // also bounds the close handshake
  timeouts.idle_timeout = core_->limits.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(core_->limits.max_message);
  core_->counters.channels_open++;
  co_await run_channel();
  core_->counters.channels_open--;
  core_->log->info("conn={} closed service={} reason={}", id_, service_name_,
                   close_reason_ ? loggable(*close_reason_) : "normal");
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
    if (code == close_protocol_error) core_->counters.protocol_errors++;
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
  {
    auto [ec, n] = co_await ws.async_write(asio::buffer(*m2), as_tuple_awaitable);
    if (ec) co_return false;
    core_->counters.bytes_out += n;
  }
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
    protocol_failure(*problem);
    std::vector<std::uint8_t> bytes;
    frames::encode_to(bytes, frames::close{frames::protocol_error(*problem)});
    if (auto cipher = ciphers_->send.encrypt(bytes)) co_await ws.async_write(asio::buffer(*cipher), as_tuple_awaitable);
    co_return co_await fail(close_protocol_error, "protocol error");
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
  {
    auto cipher = ciphers_->send.encrypt(challenge_bytes);
    if (!cipher) co_return false;
    auto [ec, n] = co_await ws.async_write(asio::buffer(*cipher), as_tuple_awaitable);
    if (ec) co_return false;
    core_->counters.bytes_out += n;
  }

  login_read second;
  if (auto problem = co_await read_frame(second)) co_return co_await refuse(problem);
  auto* proof = std::get_if<frames::proof>(&*second.frame);
  if (!proof) co_return co_await refuse(std::string("expected {proof, ClientProof, ArgsC}"));
  const crypto::auth_message auth{h, *first.frame_bytes, challenge_bytes};
  if (!entry_ || !crypto::verify_client_proof(verifier, auth, proof->client_proof)) {
    core_->counters.auth_failed++;
    core_->log->info("conn={} auth failed service={}", id_, loggable(binary::from(service_name_)));
    std::vector<std::uint8_t> bytes;
    frames::encode_to(bytes, frames::close{reason_atom("auth_failed")});
    if (auto cipher = ciphers_->send.encrypt(bytes)) co_await ws.async_write(asio::buffer(*cipher), as_tuple_awaitable);
    co_await ws.async_close(websocket::close_reason(close_normal), as_tuple_awaitable);
    co_return false;
  }
  args_c_ = std::move(proof->args);
  frames::welcome welcome;
  welcome.server_signature = crypto::server_signature(verifier, auth);
  std::vector<std::uint8_t> welcome_bytes;
  frames::encode_to(welcome_bytes, welcome);
  auto cipher = ciphers_->send.encrypt(welcome_bytes);
  if (!cipher) co_return false;
  auto [ec, n] = co_await ws.async_write(asio::buffer(*cipher), as_tuple_awaitable);
  if (ec) co_return false;
  core_->counters.bytes_out += n;
  core_->log->info("conn={} authenticated service={} handler={}", id_, service_name_, entry_->handler);
  co_return true;
}

awaitable<void> session::run_channel() {
  auto ex = co_await asio::this_coro::executor;
  core_->counters.handlers_running++;
  auto [order, e_reader, e_writer, e_handler] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, reader(), asio::deferred),
                                                       asio::co_spawn(ex, writer(), asio::deferred),
                                                       asio::co_spawn(ex, handler_task(), asio::deferred))
          .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  core_->counters.handlers_running--;
  (void)order;
  for (const auto& e : {e_reader, e_writer, e_handler}) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex_) {
      core_->log->error("conn={} task ended with an exception: {}", id_, ex_.what());
    }
  }
}

awaitable<void> session::reader() {
  auto& ws = conn_->ws;
  auto& buf = conn_->read_buffer;
  while (!closing_) {
    buf.clear();
    auto [ec, n] = co_await ws.async_read(buf, as_tuple_awaitable);
    if (ec) {
      if (ec == websocket::error::closed) {
        begin_close(close_reason_ ? *close_reason_ : reason_atom("normal"), false);
      } else if (ec == beast::error::timeout) {
        abort(reason_atom("timeout"), 0);
      } else if (ec == websocket::error::message_too_big) {
        core_->counters.messages_too_big++;
        abort(tuple(atom("protocol_error"), binary::from("message over max_message")), 0);
      } else {
        abort(reason_atom("disconnected"), 0);
      }
      break;
    }
    core_->counters.bytes_in += n;
    if (ws.got_text()) {
      abort(tuple(atom("protocol_error"), binary::from("text message")), close_unsupported_data);
      break;
    }
    const auto* data = static_cast<const std::uint8_t*>(buf.data().data());
    auto plain = ciphers_->receive.decrypt(std::span(data, buf.size()));
    if (!plain) {
      // Tampered, replayed or reordered: the peer is not trusted, no frame goes back.
      core_->counters.decrypt_failures++;
      abort(tuple(atom("protocol_error"), binary::from("record failed authentication")), close_protocol_error);
      break;
    }
    std::size_t offset = 0;
    while (offset < plain->size() && !closing_) {
      auto decoded = etf::decode_next(*plain, offset);
      if (!decoded) {
        protocol_failure("undecodable frame: " + decoded.error().to_string());
        break;
      }
      auto f = frames::from_term(std::move(*decoded));
      if (!f) {
        protocol_failure(f.error());
        break;
      }
      core_->counters.frames_in++;
      if (auto* c = std::get_if<frames::cast>(&*f)) {
        core_->counters.casts_in++;
        co_await mailbox_.push(cast_message{std::move(c->message)});
      } else if (auto* call = std::get_if<frames::call>(&*f)) {
        if (!calls_in_flight_.insert(call->id).second) {
          protocol_failure("call Id " + std::to_string(call->id) + " is already in flight");
          break;
        }
        core_->counters.rpcs++;
        co_await mailbox_.push(call_message(call->id, std::move(call->message), weak_from_this()));
      } else if (auto* cl = std::get_if<frames::close>(&*f)) {
        // The client ends the channel; the server answers with the WebSocket close.
        begin_close(std::move(cl->reason), false);
      } else {
        protocol_failure("frame out of phase");
        break;
      }
    }
  }
}

awaitable<void> session::writer() {
  auto& ws = conn_->ws;
  std::vector<std::uint8_t> plain;
  for (;;) {
    while (outbox_.empty() && !closing_ && !connection_lost_) {
      outbox_ready_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await outbox_ready_.async_wait(as_tuple_awaitable);
    }
    if (connection_lost_) {
      if (close_code_ != 0 && ws.is_open()) {
        co_await ws.async_close(websocket::close_reason(close_code_), as_tuple_awaitable);
      }
      break;
    }
    if (!outbox_.empty()) {
      plain.clear();
      std::size_t frames_taken = 0;
      while (!outbox_.empty() && (plain.empty() || plain.size() + outbox_.front().size() <= coalesce_limit)) {
        auto& f = outbox_.front();
        plain.insert(plain.end(), f.begin(), f.end());
        outbox_bytes_ -= f.size();
        core_->counters.outbox_bytes -= static_cast<std::int64_t>(f.size());
        outbox_.pop_front();
        ++frames_taken;
      }
      auto cipher = ciphers_->send.encrypt(plain);
      if (!cipher) break;
      auto [ec, n] = co_await ws.async_write(asio::buffer(*cipher), as_tuple_awaitable);
      if (ec) break;
      core_->counters.bytes_out += n;
      core_->counters.frames_out += frames_taken;
      continue;
    }
    // closing_ with an empty outbox: the close frame, then the WebSocket close.
    if (send_close_frame_ && close_reason_) {
      std::vector<std::uint8_t> bytes;
      frames::encode_to(bytes, frames::close{*close_reason_});
      if (auto cipher = ciphers_->send.encrypt(bytes)) {
        co_await ws.async_write(asio::buffer(*cipher), as_tuple_awaitable);
        core_->counters.frames_out++;
      }
    }
    if (ws.is_open()) co_await ws.async_close(websocket::close_reason(close_code_), as_tuple_awaitable);
    break;
  }
}

awaitable<void> session::handler_task() {
  try {
    co_await (entry_->impl->run(*this, args_c_) || wait_killed());
    begin_close(reason_atom("normal"), true);
  } catch (const std::exception& e) {
    core_->counters.handler_errors++;
    core_->log->warn("conn={} handler error service={}: {}", id_, service_name_, e.what());
    begin_close(tuple(atom("handler_error"), binary::from(e.what())), true);
  }
  // Whatever the handler kept, its calls are answered no_reply by now.
  mailbox_.close(close_reason_ ? *close_reason_ : reason_atom("normal"));
}

awaitable<void> session::wait_killed() {
  killed_.expires_at(std::chrono::steady_clock::time_point::max());
  co_await killed_.async_wait(as_tuple_awaitable);
}

void session::kill() {
  asio::post(killed_.get_executor(), [self = shared_from_this()] { self->killed_.cancel(); });
}

void session::stop(term reason) {
  asio::post(killed_.get_executor(), [self = shared_from_this(), reason = std::move(reason)]() mutable {
    if (!self->welcomed_) {
      // Not a channel yet: just drop the connection.
      beast::get_lowest_layer(self->conn_->ws).close();
      return;
    }
    self->begin_close(std::move(reason), true);
  });
}

void session::begin_close(term reason, bool notify) {
  if (closing_) return;
  closing_ = true;
  send_close_frame_ = notify;
  close_reason_ = reason;
  mailbox_.close(std::move(reason));
  outbox_ready_.cancel();
}

void session::abort(term reason, std::uint16_t code) {
  if (!closing_) {
    closing_ = true;
    close_reason_ = reason;
    mailbox_.close(std::move(reason));
  }
  send_close_frame_ = false;
  connection_lost_ = true;
  close_code_ = code;
  outbox_.clear();
  core_->counters.outbox_bytes -= static_cast<std::int64_t>(outbox_bytes_);
  outbox_bytes_ = 0;
  outbox_ready_.cancel();
  // Code 0: nothing more is owed to this peer. Otherwise the writer sends the
  // WebSocket close with that code and no capchan frame.
  if (code == 0) beast::get_lowest_layer(conn_->ws).close();
}

void session::protocol_failure(const std::string& what) {
  core_->counters.protocol_errors++;
  core_->log->info("conn={} protocol error: {}", id_, what);
  // The peer is authentic but broke the protocol: tell it why (DESIGN.md §3).
  if (!closing_) {
    begin_close(frames::protocol_error(what), true);
    close_code_ = close_protocol_error;
  }
}

awaitable<message> session::receive() { co_return co_await mailbox_.pop(); }

void session::queue_frame(std::vector<std::uint8_t> frame) {
  if (closing_) return;
  if (outbox_bytes_ + frame.size() > core_->limits.outbox) {
    // The client is not reading: closing is the only bound on memory.
    core_->counters.overload_closes++;
    core_->log->warn("conn={} outbox over {} bytes: closing", id_, core_->limits.outbox);
    abort(tuple(atom("overload"), atom("outbox")), 0);
    return;
  }
  outbox_bytes_ += frame.size();
  core_->counters.outbox_bytes += static_cast<std::int64_t>(frame.size());
  outbox_.push_back(std::move(frame));
  outbox_ready_.cancel();
}

void session::send(term push) {
  std::vector<std::uint8_t> bytes;
  frames::encode_to(bytes, frames::cast{std::move(push)});
  queue_frame(std::move(bytes));
}

void session::close(term reason) { begin_close(std::move(reason), true); }

void session::answer(std::int64_t id, bool ok, term value) {
  // dispatch: a handler answering on its own strand sends without a detour.
  asio::dispatch(killed_.get_executor(), [weak = weak_from_this(), id, ok, value = std::move(value)]() mutable {
    auto self = weak.lock();
    if (!self || self->calls_in_flight_.erase(id) == 0) return;
    std::vector<std::uint8_t> bytes;
    if (ok) {
      frames::encode_to(bytes, frames::reply{id, std::move(value)});
    } else {
      frames::encode_to(bytes, frames::fail{id, std::move(value)});
    }
    self->queue_frame(std::move(bytes));
  });
}

}  // namespace capchan::server
