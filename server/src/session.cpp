// One connection's life (DESIGN.md §3 wire protocol v1, §4 limits):
//   accept → HTTP request → /healthz | /metrics | WebSocket upgrade at /capchan
//   → Noise NX and login (session_login.cpp) → channel: reader, writer and
//   handler on the session's strand, awaited together.
// handshake_timeout runs from accept to welcome as an absolute deadline on the
// TCP stream; after welcome Beast's idle timeout with keep-alive pings takes over.
#include "session.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "capchan/core/etf.hpp"
#include "capchan/core/frame.hpp"
#include "capchan/core/text.hpp"
#include "websocket_connection.hpp"

namespace capchan::server {

using asio::awaitable;
using asio::use_awaitable;

namespace {

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

}  // namespace

// The log form of a term: its text, cut short so a hostile name cannot flood the log.
std::string loggable(const term& t) {
  std::string s = text::print(t);
  constexpr std::size_t max_log_term = 200;
  if (s.size() > max_log_term) s = s.substr(0, max_log_term) + "...";
  return s;
}

// --- session ----------------------------------------------------------------

session::session(asio::ip::tcp::socket socket, std::shared_ptr<server_core> core, std::uint64_t id)
    : core_(std::move(core)),
      limits_(core_->limits()),
      id_(id),
      accepted_at_(std::chrono::steady_clock::now()),
      mailbox_(socket.get_executor(), limits_->mailbox),
      tasks_done_(socket.get_executor()) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  // Frames are whole messages and the writer coalesces them itself: Nagle
  // would only hold a handshake message or a reply back for an ACK.
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
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
  // One after another, not nested: each phase's coroutine frame is gone
  // before the next starts, so that an idle channel holds only run()'s and
  // run_channel()'s (the HTTP parser and the login state are freed).
  if (!co_await answer_http()) co_return;
  if (!co_await open_channel()) co_return;
  co_await run_channel();
  core_->counters.channels_open--;
  core_->log->info("conn={} closed service={} reason={}", id_, service_name_,
                   close_reason_ ? loggable(*close_reason_) : "normal");
}

awaitable<bool> session::answer_http() {
  auto& stream = beast::get_lowest_layer(conn_->ws);
  stream.expires_at(accepted_at_ + limits_->handshake_timeout);

  http::request_parser<http::empty_body> parser;
  parser.header_limit(http_header_limit);
  auto [ec, n] = co_await http::async_read(stream, conn_->read_buffer, parser, as_tuple_awaitable);
  if (ec) {
    if (ec == beast::error::timeout) core_->counters.handshake_timeouts++;
    // Not HTTP, or headers over http_header_limit; a peer that just hung up is no offence.
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream) {
      core_->counters.http_bad_requests++;
    }
    core_->counters.handshakes_failed++;
    core_->log->info("conn={} closed before a request: {}", id_, ec.message());
    co_return false;
  }
  auto req = parser.release();
  const bool upgrade = websocket::is_upgrade(req);
  if (upgrade && req.target() == websocket_path && offers_subprotocol(req[http::field::sec_websocket_protocol])) {
    conn_->upgrade_request = std::make_unique<http::request<http::empty_body>>(std::move(req));
    co_return true;
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
    res.body() = core_->counters.to_prometheus() + core_->services()->metrics_text();
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
  co_return false;
}

awaitable<void> session::run_channel() {
  auto ex = co_await asio::this_coro::executor;
  core_->counters.handlers_running++;
  // The reader runs here, the handler beside it, and the writer when there
  // is something to write. Each spawned coroutine costs an idle channel a
  // frame and Asio's spawn state, so there is one, and kill() cancels the
  // handler through a signal rather than a second coroutine racing it.
  auto self = shared_from_this();
  tasks_running_ = 2;  // the handler and the writer (end_writer())
  writer_enabled_ = true;
  if (!outbox_.empty() || closing_) wake_writer();
  auto handler_done = [self](std::exception_ptr e) {
    self->kill_signal_.slot().clear();  // nothing left to cancel
    // Whatever the handler kept, its calls are answered no_reply by now.
    self->mailbox_.close(self->close_reason_ ? *self->close_reason_ : reason_atom("normal"));
    self->task_ended(e);
  };
  asio::co_spawn(ex, run_handler(), asio::bind_cancellation_slot(kill_signal_.slot(), std::move(handler_done)));
  try {
    auto& ws = conn_->ws;
    auto& buf = conn_->read_buffer;
    while (!closing_) {
      // An idle channel holds no read buffer (Beast's read would prepare
      // 1.5 KiB of it while waiting): the wait reads the next message's first
      // byte only, and the buffer is allocated for the rest once it arrives.
      buf.clear();
      buf.shrink_to_fit();
      std::uint8_t first = 0;
      auto [ec, n] = co_await ws.async_read_some(asio::buffer(&first, 1), as_tuple_awaitable);
      if (!ec) buf.commit(asio::buffer_copy(buf.prepare(n), asio::buffer(&first, n)));
      if (!ec && !ws.is_message_done()) {
        auto [rest_ec, rest] = co_await ws.async_read(buf, as_tuple_awaitable);
        ec = rest_ec;
        n += rest;
      }
      if (ec) {
        if (ec == websocket::error::closed) {
          begin_close(close_reason_ ? *close_reason_ : reason_atom("normal"), false);
        } else if (ec == beast::error::timeout) {
          core_->counters.idle_timeouts++;
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
        core_->counters.protocol_errors++;
        abort(tuple(atom("protocol_error"), binary::from("text message")), close_unsupported_data);
        break;
      }
      const auto* data = static_cast<const std::uint8_t*>(buf.data().data());
      auto plain = ciphers_->receive.decrypt(std::span(data, buf.size()));
      if (!plain) {
        // Tampered, replayed or reordered: the peer is not trusted, no frame goes back.
        core_->counters.decrypt_failures++;
        core_->counters.protocol_errors++;
        abort(tuple(atom("protocol_error"), binary::from("record failed authentication")), close_protocol_error);
        break;
      }
      // Large binaries in the frames share the plaintext instead of copying it.
      const auto shared = std::make_shared<const std::vector<std::uint8_t>>(std::move(*plain));
      std::size_t offset = 0;
      while (offset < shared->size() && !closing_) {
        auto decoded = etf::decode_next_shared(*shared, offset, shared);
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
          // Named, not a temporary in the co_await: GCC 12 copies class-type
          // temporaries of co_await expressions bitwise (a double free).
          message m = cast_message{std::move(c->message)};
          if (!mailbox_.try_push(m)) {
            core_->counters.mailbox_full++;
            co_await mailbox_.push(std::move(m));
          }
        } else if (auto* call = std::get_if<frames::call>(&*f)) {
          if (!calls_in_flight_.insert(call->id).second) {
            protocol_failure("call Id " + std::to_string(call->id) + " is already in flight");
            break;
          }
          core_->counters.rpcs++;
          message m = call_message(call->id, std::move(call->message), weak_from_this());
          if (!mailbox_.try_push(m)) {
            core_->counters.mailbox_full++;
            co_await mailbox_.push(std::move(m));
          }
        } else if (auto* cl = std::get_if<frames::close>(&*f)) {
          // The client ends the channel; the server answers with the WebSocket close.
          begin_close(std::move(cl->reason), false);
        } else {
          protocol_failure("frame out of phase");
          break;
        }
      }
    }
  } catch (const std::exception& e) {
    core_->log->error("conn={} task ended with an exception: {}", id_, e.what());
  }
  while (tasks_running_ > 0) {
    tasks_done_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await tasks_done_.async_wait(as_tuple_awaitable);
  }
  core_->counters.handlers_running--;
}

void session::task_ended(const std::exception_ptr& e) {
  --tasks_running_;
  tasks_done_.cancel();
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    core_->log->error("conn={} task ended with an exception: {}", id_, ex.what());
  }
}


// The writer is not a coroutine: an idle channel holds nothing for it (a
// spawned coroutine kept some 1.4 KiB of frames). wake_writer() posts
// write_next() once, so frames queued in the same turn go out as one
// record; write_next() runs on the strand, one write or close at a time.
void session::wake_writer() {
  if (!writer_enabled_ || writer_woken_ || write_in_flight_ || writer_done_) return;
  writer_woken_ = true;
  asio::post(tasks_done_.get_executor(), [self = shared_from_this()] {
    self->writer_woken_ = false;
    self->write_next();
  });
}

void session::write_next() {
  if (write_in_flight_ || writer_done_) return;
  if (connection_lost_) {
    close_websocket();
    return;
  }
  if (!outbox_.empty()) {
    auto& plain = write_plain_;
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
    if (!cipher) {
      end_writer();
      return;
    }
    write_record(std::move(*cipher), [frames_taken](session& self, boost::system::error_code ec, std::size_t n) {
      if (ec) {
        self.end_writer();
        return;
      }
      self.core_->counters.bytes_out += n;
      self.core_->counters.frames_out += frames_taken;
      self.write_next();
    });
    return;
  }
  if (!closing_) {
    write_plain_ = {};  // idle until wake_writer(), holding no batch buffer
    return;
  }
  // closing_ with an empty outbox: the close frame, then the WebSocket close.
  if (send_close_frame_ && close_reason_) {
    send_close_frame_ = false;
    std::vector<std::uint8_t> bytes;
    frames::encode_to(bytes, frames::close{*close_reason_});
    if (auto cipher = ciphers_->send.encrypt(bytes)) {
      write_record(std::move(*cipher), [](session& self, boost::system::error_code ec, std::size_t) {
        if (!ec) self.core_->counters.frames_out++;
        self.close_websocket();
      });
      return;
    }
  }
  close_websocket();
}

template <class Then>
void session::write_record(std::vector<std::uint8_t> record, Then then) {
  write_in_flight_ = true;
  write_record_ = std::move(record);
  conn_->ws.async_write(asio::buffer(write_record_), [self = shared_from_this(), then = std::move(then)](
                                                           boost::system::error_code ec, std::size_t n) {
    self->write_in_flight_ = false;
    self->write_record_ = {};
    then(*self, ec, n);
  });
}

void session::close_websocket() {
  auto& ws = conn_->ws;
  if (close_code_ == 0 || !ws.is_open()) {
    end_writer();
    return;
  }
  write_in_flight_ = true;
  ws.async_close(websocket::close_reason(close_code_), [self = shared_from_this()](boost::system::error_code) {
    self->write_in_flight_ = false;
    self->end_writer();
  });
}

void session::end_writer() {
  if (writer_done_) return;
  writer_done_ = true;
  task_ended(nullptr);
}

awaitable<void> session::run_handler() {
  // Never throws: an exception of the handler (or kill()'s cancellation of
  // it) closes the channel like any handler error.
  try {
    co_await entry_->impl->run(*this, args_c_);
    begin_close(reason_atom("normal"), true);
  } catch (const std::exception& e) {
    // After kill() this is the cancellation; the channel is closing already.
    core_->counters.handler_errors++;
    core_->log->warn("conn={} handler error service={}: {}", id_, service_name_, e.what());
    begin_close(tuple(atom("handler_error"), binary::from(e.what())), true);
  }
}

void session::kill(const std::shared_ptr<service_entry>& entry) {
  asio::post(tasks_done_.get_executor(), [self = shared_from_this(), entry] {
    if (entry && self->entry_ != entry) return;
    self->kill_signal_.emit(asio::cancellation_type::terminal);
    // Past the grace period nothing more is owed to the peer: a close
    // handshake it never answers must not hold the shutdown.
    beast::get_lowest_layer(self->conn_->ws).close();
  });
}

void session::stop(term reason) { stop_if_serving(nullptr, std::move(reason)); }

void session::stop_if_serving(const std::shared_ptr<service_entry>& entry, term reason) {
  asio::post(tasks_done_.get_executor(), [self = shared_from_this(), entry, reason = std::move(reason)]() mutable {
    if (entry && self->entry_ != entry) return;
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
  wake_writer();
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
  wake_writer();
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

// Not a coroutine itself: one coroutine frame less per message.
awaitable<message> session::receive() { return mailbox_.pop(); }

void session::queue_frame(std::vector<std::uint8_t> frame) {
  if (closing_) return;
  if (outbox_bytes_ + frame.size() > limits_->outbox) {
    // The client is not reading: closing is the only bound on memory.
    core_->counters.overload_closes++;
    core_->log->warn("conn={} outbox over {} bytes: closing", id_, limits_->outbox);
    abort(tuple(atom("overload"), atom("outbox")), 0);
    return;
  }
  outbox_bytes_ += frame.size();
  core_->counters.outbox_bytes += static_cast<std::int64_t>(frame.size());
  auto& peak = core_->counters.outbox_peak_bytes;
  const auto now = static_cast<std::int64_t>(outbox_bytes_);
  for (auto seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
  }
  outbox_.push_back(std::move(frame));
  wake_writer();
}

void session::send(term push) {
  std::vector<std::uint8_t> bytes;
  frames::encode_to(bytes, frames::cast{std::move(push)});
  queue_frame(std::move(bytes));
}

void session::close(term reason) { begin_close(std::move(reason), true); }

void session::answer(std::int64_t id, bool ok, term value) {
  // dispatch: a handler answering on its own strand sends without a detour.
  asio::dispatch(tasks_done_.get_executor(), [weak = weak_from_this(), id, ok, value = std::move(value)]() mutable {
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
