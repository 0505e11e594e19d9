// The channel phase of a client connection (DESIGN.md §3 "Channel frames",
// §5): one reader and one writer coroutine on the connection's strand,
// pending rpcs by Id, bounded queues, and the close handshake.
//
// GCC 12 and coroutines: every co_await here is a statement of its own or
// initialises a variable; never inside an if or loop condition or `||`, which
// GCC 12 miscompiles in some coroutines (resumed in a bad state: SIGILL).
//
// Closing. The channel ends when the reader's WebSocket read fails: after
// the server's WebSocket close (clean), or a dropped TCP connection. The
// reason is the first one decided: ours (`normal` from close(), or
// {protocol_error, Text} when the server broke the protocol), else the
// server's {close, Reason}, else what the failure says (`disconnected`,
// `timeout`). Whoever starts closing sets closing_deadline_; past it the TCP
// connection is dropped, so close() always returns.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "capchan/core/etf.hpp"
#include "connection.hpp"
#include "transport.hpp"

namespace capchan::client {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace noise = crypto::noise;
using detail::clock;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto forever = clock::time_point::max();

// The close reason of a channel whose read failed and for which neither
// side gave one (DESIGN.md §5).
term reason_for(const boost::system::error_code& ec, const websocket::close_reason& close) {
  if (ec == websocket::error::closed) {
    switch (close.code) {
      case websocket::close_code::protocol_error:
      case websocket::close_code::unknown_data:
      case websocket::close_code::bad_payload:
      case websocket::close_code::policy_error:
      case websocket::close_code::too_big: {
        std::string text = "the server closed the WebSocket with code " + std::to_string(close.code);
        if (!close.reason.empty()) text += " (" + std::string(close.reason.data(), close.reason.size()) + ")";
        if (close.code == websocket::close_code::too_big) {
          text += ": a message was over its max_message";
        }
        return frames::protocol_error(text);
      }
      default:
        break;  // a WebSocket close without {close, Reason} first
    }
  }
  if (ec == websocket::error::message_too_big) {
    return frames::protocol_error("the server sent a message over max_message");
  }
  if (ec == beast::error::timeout) return atom("timeout");
  return atom("disconnected");
}

error cancelled_error() {
  return error(std::make_error_code(std::errc::operation_canceled), "the caller cancelled the wait");
}

}  // namespace

connection::connection(const asio::any_io_executor& executor, connect_options options)
    : strand_(asio::make_strand(executor)),
      options_(std::move(options)),
      transport_(std::make_unique<transport>(strand_)) {}

connection::~connection() = default;

term connection::close_reason() const {
  std::lock_guard lock(final_mutex_);
  return final_reason_;
}

std::size_t connection::max_plaintext() const {
  return options_.max_message > noise::tag_len ? options_.max_message - noise::tag_len : 0;
}

void connection::start() {
  // The completion handlers run on the strand: co_spawn hands them to the
  // spawn executor. Each coroutine keeps the connection alive until it ends.
  auto self = shared_from_this();
  asio::co_spawn(
      strand_, [self] { return self->read_loop(); },
      [self](std::exception_ptr failure) {
        if (failure) self->finish(atom("disconnected"));  // no exception is expected here
        self->reader_done_ = true;
        self->io_done_.notify_all();
      });
  asio::co_spawn(
      strand_, [self] { return self->write_loop(); },
      [self](std::exception_ptr failure) {
        if (failure) self->force_disconnect();
        self->writer_done_ = true;
        self->io_done_.notify_all();
      });
}

// ---- reader -------------------------------------------------------------------

asio::awaitable<void> connection::read_loop() {
  auto& ws = transport_->ws;
  beast::flat_buffer buffer;
  for (;;) {
    // Backpressure: with max_pushes untaken, stop reading the socket.
    while (phase_ == phase::open && pushes_.size() >= options_.max_pushes) {
      co_await reader_resume_.wait_until(forever);
    }
    buffer.clear();
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) {
      finish(reason_for(ec, ws.reason()));
      co_return;
    }
    if (ignore_input_) continue;  // only the server's close matters now
    if (!ws.got_binary()) {
      fail_protocol("the server sent a text WebSocket message", false,
                    websocket::close_code::unknown_data);
      continue;
    }
    // DESIGN.md §3 table: an AEAD failure gets close 1002 and no capchan
    // frame, because the peer is not trusted.
    std::span<const std::uint8_t> sealed(static_cast<const std::uint8_t*>(buffer.data().data()), n);
    auto plain = ciphers_.receive.decrypt(sealed);
    if (!plain) {
      fail_protocol("a message from the server failed authentication (tampered with, replayed "
                    "or reordered)",
                    false, websocket::close_code::protocol_error);
      continue;
    }
    if (plain->empty()) {
      fail_protocol("an empty transport message", true, websocket::close_code::protocol_error);
      continue;
    }
    // One or more frames back to back (the server may coalesce). Large
    // binaries in them share the plaintext instead of copying it.
    const auto shared = std::make_shared<const std::vector<std::uint8_t>>(std::move(*plain));
    std::size_t offset = 0;
    while (offset < shared->size()) {
      auto decoded = etf::decode_next_shared(*shared, offset, shared);
      if (!decoded) {
        fail_protocol("undecodable frame: " + decoded.error().to_string(), true,
                      websocket::close_code::protocol_error);
        break;
      }
      auto f = frames::from_term(std::move(*decoded));
      if (!f) {
        fail_protocol(f.error(), true, websocket::close_code::protocol_error);
        break;
      }
      if (!handle(std::move(*f))) break;
    }
  }
}

bool connection::handle(frames::frame f) {
  if (auto* c = std::get_if<frames::cast>(&f)) {
    // While closing, nobody may be receiving: past the bound, drop rather
    // than grow (the reader does not pause then, to see the close).
    if (phase_ == phase::open || pushes_.size() < options_.max_pushes) {
      pushes_.push_back(std::move(c->message));
      pushes_ready_.notify_all();
    }
    return true;
  }
  auto known = [&](std::int64_t id) {
    if (id <= last_id_) return true;
    fail_protocol("an answer to rpc Id " + std::to_string(id) + ", which was never sent", true,
                  websocket::close_code::protocol_error);
    return false;
  };
  if (auto* r = std::get_if<frames::reply>(&f)) {
    if (!known(r->id)) return false;
    deliver(r->id, std::move(r->message));
    return true;
  }
  if (auto* failed = std::get_if<frames::fail>(&f)) {
    if (!known(failed->id)) return false;
    deliver(failed->id, error(errc::remote_error, {}, std::move(failed->reason)));
    return true;
  }
  if (auto* c = std::get_if<frames::close>(&f)) {
    // The server ends the channel; its WebSocket close follows. Nothing we
    // still had queued matters to it any more.
    outbox_.clear();
    outbox_bytes_ = 0;
    enter_closing(std::move(c->reason), std::nullopt);
    return true;
  }
  const term t = frames::to_term(std::move(f));
  fail_protocol("unexpected " + t.element(0)->as_atom()->name + " frame after welcome", true,
                websocket::close_code::protocol_error);
  return false;
}

void connection::deliver(std::int64_t id, result<term> outcome) {
  auto it = calls_.find(id);
  // Not pending: the late answer of an rpc that timed out. Dropped, never
  // handed to another rpc (Ids are not reused).
  if (it == calls_.end()) return;
  it->second->outcome = std::move(outcome);
  it->second->ready.notify_all();
  calls_.erase(it);
}

// ---- writer -------------------------------------------------------------------

asio::awaitable<void> connection::write_loop() {
  auto& ws = transport_->ws;
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> sealed;
  for (;;) {
    while (outbox_.empty() && phase_ == phase::open) co_await writer_wake_.wait_until(forever);
    if (phase_ == phase::closed || outbox_.empty()) break;
    // Coalesce queued frames into one transport message (DESIGN.md §3
    // allows it after welcome), up to max_message.
    plain.clear();
    while (!outbox_.empty() &&
           (plain.empty() || plain.size() + outbox_.front().size() <= max_plaintext())) {
      plain.insert(plain.end(), outbox_.front().begin(), outbox_.front().end());
      outbox_bytes_ -= outbox_.front().size();
      outbox_.pop_front();
    }
    room_.notify_all();
    sealed.resize(plain.size() + noise::tag_len);
    if (ciphers_.send.encrypt(plain, sealed)) {  // nonce_exhausted: 2^64 messages
      force_disconnect();
      break;
    }
    auto [ec, n] = co_await ws.async_write(asio::buffer(sealed), use_tuple);
    (void)n;
    if (ec) {
      force_disconnect();
      break;
    }
  }
  if (phase_ != phase::closing) co_return;
  // Our {close, Reason} is out (or the server closed first). After a
  // protocol error we close the WebSocket ourselves; otherwise the server
  // does (DESIGN.md §3: "the server answers with the WebSocket close").
  if (ws_close_code_) {
    auto [ec] = co_await ws.async_close(websocket::close_reason(*ws_close_code_), use_tuple);
    (void)ec;  // the reader sees the outcome
  }
  while (phase_ != phase::closed && clock::now() < closing_deadline_) {
    co_await io_done_.wait_until(closing_deadline_);
  }
  if (phase_ != phase::closed) force_disconnect();
}

// ---- state changes ----------------------------------------------------------------

void connection::enter_closing(term reason, std::optional<frames::frame> last_frame) {
  if (phase_ == phase::closed) return;
  if (!reason_) reason_ = std::move(reason);
  if (phase_ == phase::open) {
    phase_ = phase::closing;
    open_ = false;
    closing_deadline_ = detail::deadline_after(options_.close_timeout);
  }
  if (last_frame) {
    std::vector<std::uint8_t> bytes;
    frames::encode_to(bytes, std::move(*last_frame));
    enqueue(std::move(bytes));
  }
  writer_wake_.notify_all();
  room_.notify_all();
  reader_resume_.notify_all();
}

void connection::fail_protocol(std::string text, bool tell_peer, std::uint16_t ws_code) {
  ignore_input_ = true;
  outbox_.clear();
  outbox_bytes_ = 0;
  ws_close_code_ = ws_code;
  term reason = frames::protocol_error(text);
  std::optional<frames::frame> last;
  if (tell_peer) last = frames::close{reason};
  enter_closing(std::move(reason), std::move(last));
}

void connection::finish(term fallback_reason) {
  if (phase_ == phase::closed) return;
  const term reason = reason_ ? *reason_ : std::move(fallback_reason);
  reason_ = reason;
  phase_ = phase::closed;
  open_ = false;
  {
    std::lock_guard lock(final_mutex_);
    final_reason_ = reason;
  }
  // Pending rpcs fail with the close reason (DESIGN.md §5).
  auto calls = std::move(calls_);
  calls_.clear();
  for (auto& [id, call] : calls) {
    call->outcome = closed_error();
    call->ready.notify_all();
  }
  outbox_.clear();
  outbox_bytes_ = 0;
  writer_wake_.notify_all();
  room_.notify_all();
  pushes_ready_.notify_all();
  reader_resume_.notify_all();
  io_done_.notify_all();
}

void connection::force_disconnect() {
  // Cancels every pending operation and closes the socket: the reader's
  // read fails and finish() runs.
  beast::get_lowest_layer(transport_->ws).close();
}

error connection::closed_error() const {
  return error(errc::closed, phase_ == phase::closed ? "" : "the channel is closing",
               reason_ ? *reason_ : term());
}

// ---- channel methods (on the strand) ------------------------------------------

result<std::vector<std::uint8_t>> connection::encode_outgoing(frames::frame f) const {
  std::vector<std::uint8_t> bytes;
  frames::encode_to(bytes, std::move(f));
  if (bytes.size() > max_plaintext()) {
    return error(errc::message_too_large,
                 "the frame takes " + std::to_string(bytes.size()) + " bytes and max_message is " +
                     std::to_string(options_.max_message) +
                     " (with a 16-byte tag); the server would refuse it");
  }
  return bytes;
}

void connection::enqueue(std::vector<std::uint8_t> bytes) {
  outbox_bytes_ += bytes.size();
  outbox_.push_back(std::move(bytes));
  writer_wake_.notify_all();
}

asio::awaitable<result<void>> connection::wait_for_room(std::size_t bytes, clock::time_point deadline) {
  for (;;) {
    if (phase_ != phase::open) co_return closed_error();
    // An empty outbox takes any frame, so a frame over max_outbox still goes.
    if (outbox_bytes_ == 0 || outbox_bytes_ + bytes <= options_.max_outbox) co_return result<void>();
    if (clock::now() >= deadline) {
      co_return error(errc::timeout, "the outbox stayed full: the server is not reading");
    }
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return cancelled_error();
    co_await room_.wait_until(deadline);
  }
}

asio::awaitable<result<void>> connection::cast(term message) {
  if (phase_ != phase::open) co_return closed_error();
  auto bytes = encode_outgoing(frames::cast{std::move(message)});
  if (!bytes) co_return bytes.error();
  auto room = co_await wait_for_room(bytes->size(), forever);
  if (!room) co_return room.error();
  enqueue(std::move(*bytes));
  co_return result<void>();
}

asio::awaitable<result<term>> connection::rpc(term message, std::chrono::milliseconds timeout) {
  const auto deadline = detail::deadline_after(timeout);
  if (phase_ != phase::open) co_return closed_error();
  // A fresh Id from the counter: positive, never reused, so unique among
  // the calls in flight (DESIGN.md §3) and never confused with a late reply.
  const std::int64_t id = ++last_id_;
  auto bytes = encode_outgoing(frames::call{id, std::move(message)});
  if (!bytes) co_return bytes.error();
  auto room = co_await wait_for_room(bytes->size(), deadline);
  if (!room) co_return room.error();
  auto call = std::make_shared<pending_call>();
  calls_.emplace(id, call);
  enqueue(std::move(*bytes));
  for (;;) {
    if (call->outcome) co_return std::move(*call->outcome);
    if (clock::now() >= deadline) {
      calls_.erase(id);
      co_return error(errc::timeout, "no reply within " + std::to_string(timeout.count()) +
                                         " ms; the channel stays usable and a late reply will "
                                         "be dropped");
    }
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      calls_.erase(id);
      co_return cancelled_error();
    }
    co_await call->ready.wait_until(deadline);
  }
}

asio::awaitable<std::optional<incoming>> connection::receive(clock::time_point deadline) {
  for (;;) {
    if (!pushes_.empty()) {
      term message = std::move(pushes_.front());
      pushes_.pop_front();
      reader_resume_.notify_all();
      co_return incoming(push{std::move(message)});
    }
    if (phase_ == phase::closed) co_return incoming(chan_closed{*reason_});
    if (clock::now() >= deadline) co_return std::nullopt;
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return std::nullopt;
    co_await pushes_ready_.wait_until(deadline);
  }
}

void connection::begin_close() {
  if (phase_ == phase::open) enter_closing(atom("normal"), frames::close{atom("normal")});
}

asio::awaitable<void> connection::close() {
  begin_close();
  bool forced = false;
  while (!(reader_done_ && writer_done_)) {
    // Past the deadline (a server that never closes, or a writer stuck on a
    // peer that does not read), drop the TCP connection.
    const bool waiting_for_peer = phase_ != phase::closed && !forced;
    if (waiting_for_peer && clock::now() >= closing_deadline_) {
      force_disconnect();
      forced = true;
      continue;
    }
    co_await io_done_.wait_until(waiting_for_peer ? closing_deadline_ : forever);
  }
}

}  // namespace capchan::client
