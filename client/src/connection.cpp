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
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
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

// Resumes an rpc's caller on its own executor, never inline.
template <class Handler>
void complete(Handler waiter, result<term> outcome, const asio::any_io_executor& ex) {
  asio::post(ex, [waiter = std::move(waiter), outcome = std::move(outcome)]() mutable {
    asio::get_associated_cancellation_slot(waiter).clear();
    std::move(waiter)(std::move(outcome));
  });
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
    {
      std::lock_guard lock(queue_mutex_);
      if (id <= last_id_) return true;
    }
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
    {
      std::lock_guard lock(queue_mutex_);
      outbox_.clear();
      outbox_bytes_ = 0;
    }
    enter_closing(std::move(c->reason), std::nullopt);
    return true;
  }
  const term t = frames::to_term(std::move(f));
  fail_protocol("unexpected " + t.element(0)->as_atom()->name + " frame after welcome", true,
                websocket::close_code::protocol_error);
  return false;
}

void connection::deliver(std::int64_t id, result<term> outcome) {
  std::lock_guard lock(queue_mutex_);
  auto it = calls_.find(id);
  // Not pending: the late answer of an rpc that timed out. Dropped, never
  // handed to another rpc (Ids are not reused).
  if (it == calls_.end()) return;
  settle(*it->second, std::move(outcome));
  calls_.erase(it);
}

void connection::settle(pending_call& call, result<term> outcome) {
  if (call.timer) call.timer->cancel();
  if (call.waiter) {
    waiter_type waiter(std::move(*call.waiter));
    call.waiter.reset();
    complete(std::move(waiter), std::move(outcome), *call.work);
    call.work.reset();
  } else {
    call.outcome = std::move(outcome);
  }
}

// ---- writer -------------------------------------------------------------------

asio::awaitable<void> connection::write_loop() {
  auto& ws = transport_->ws;
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> sealed;
  for (;;) {
    bool idle = false;
    bool done = false;
    {
      std::lock_guard lock(queue_mutex_);
      idle = outbox_.empty() && phase_ == phase::open;
      done = !idle && (phase_ == phase::closed || outbox_.empty());
      writer_idle_ = idle;
      // Coalesce queued frames into one transport message (DESIGN.md §3
      // allows it after welcome), up to max_message.
      plain.clear();
      while (!idle && !done && !outbox_.empty() &&
             (plain.empty() || plain.size() + outbox_.front().size() <= max_plaintext())) {
        plain.insert(plain.end(), outbox_.front().begin(), outbox_.front().end());
        outbox_bytes_ -= outbox_.front().size();
        outbox_.pop_front();
      }
    }
    if (idle) {
      co_await writer_wake_.wait_until(forever);
      continue;
    }
    if (done) break;
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
    std::lock_guard lock(queue_mutex_);  // nothing is queued after the close frame
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
  {
    std::lock_guard lock(queue_mutex_);
    outbox_.clear();
    outbox_bytes_ = 0;
  }
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
  {
    std::lock_guard lock(final_mutex_);
    final_reason_ = reason;
  }
  {
    std::lock_guard lock(queue_mutex_);
    open_ = false;
    // Pending rpcs fail with the close reason (DESIGN.md §5).
    for (auto& [id, call] : calls_) settle(*call, closed_error());
    calls_.clear();
    outbox_.clear();
    outbox_bytes_ = 0;
  }
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
  {
    std::lock_guard lock(queue_mutex_);
    outbox_bytes_ += bytes.size();
    outbox_.push_back(std::move(bytes));
  }
  writer_wake_.notify_all();
}

bool connection::room_for(std::size_t bytes) const {
  // An empty outbox takes any frame, so a frame over max_outbox still goes.
  return outbox_bytes_ == 0 || outbox_bytes_ + bytes <= options_.max_outbox;
}

bool connection::try_enqueue(std::vector<std::uint8_t>& bytes, const std::shared_ptr<pending_call>& call) {
  bool wake = false;
  {
    std::lock_guard lock(queue_mutex_);
    if (!open_.load() || !room_for(bytes.size())) return false;
    if (call) calls_.emplace(call->id, call);
    outbox_bytes_ += bytes.size();
    outbox_.push_back(std::move(bytes));
    wake = std::exchange(writer_idle_, false);
  }
  // One post per batch: while the writer is busy, frames just pile up for
  // its next message.
  if (wake) asio::post(strand_, [self = shared_from_this()] { self->writer_wake_.notify_all(); });
  return true;
}

std::int64_t connection::next_id() {
  // A fresh Id from the counter: positive, never reused, so unique among
  // the calls in flight (DESIGN.md §3) and never confused with a late reply.
  std::lock_guard lock(queue_mutex_);
  return ++last_id_;
}

asio::awaitable<result<void>> connection::wait_for_room(std::size_t bytes, clock::time_point deadline) {
  for (;;) {
    if (phase_ != phase::open) co_return closed_error();
    {
      std::lock_guard lock(queue_mutex_);
      if (room_for(bytes)) co_return result<void>();
    }
    if (clock::now() >= deadline) {
      co_return error(errc::timeout, "the outbox stayed full: the server is not reading");
    }
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) co_return cancelled_error();
    co_await room_.wait_until(deadline);
  }
}

asio::awaitable<result<void>> connection::queue_on_strand(result<std::vector<std::uint8_t>> bytes,
                                                          std::shared_ptr<pending_call> call,
                                                          clock::time_point deadline) {
  if (phase_ != phase::open) co_return closed_error();
  if (!bytes) co_return bytes.error();
  auto room = co_await wait_for_room(bytes->size(), deadline);
  if (!room) co_return room.error();
  if (call) {
    std::lock_guard lock(queue_mutex_);
    calls_.emplace(call->id, call);
  }
  enqueue(std::move(*bytes));
  co_return result<void>();
}

asio::awaitable<result<void>> connection::queue_via_strand(result<std::vector<std::uint8_t>> bytes,
                                                           std::shared_ptr<pending_call> call,
                                                           clock::time_point deadline) {
  auto op = [self = shared_from_this(), b = std::move(bytes), call, deadline]() mutable {
    return self->queue_on_strand(std::move(b), std::move(call), deadline);
  };
  return asio::co_spawn(strand_, std::move(op), asio::use_awaitable);
}

asio::awaitable<result<void>> connection::cast(term message) {
  auto bytes = encode_outgoing(frames::cast{std::move(message)});
  if (bytes && try_enqueue(*bytes, nullptr)) co_return result<void>();
  // Closing or closed, the outbox full, or the frame too large: as before,
  // on the strand.
  auto queuing = queue_via_strand(std::move(bytes), nullptr, forever);
  auto queued = co_await std::move(queuing);
  co_return queued;
}

asio::awaitable<result<term>> connection::rpc(term message, std::chrono::milliseconds timeout) {
  auto call = std::make_shared<pending_call>();
  call->deadline = detail::deadline_after(timeout);
  call->timeout = timeout;
  call->id = next_id();
  auto bytes = encode_outgoing(frames::call{call->id, std::move(message)});
  if (!bytes || !try_enqueue(*bytes, call)) {
    auto queuing = queue_via_strand(std::move(bytes), call, call->deadline);
    auto queued = co_await std::move(queuing);
    if (!queued) co_return queued.error();
  }
  const auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    give_up(call, cancelled_error());
  }
  auto wait = [self = shared_from_this(), call](auto waiter) {
    auto work = detail::work_of(waiter);
    self->await_outcome(call, std::move(waiter), std::move(work));
  };
  auto waiting = asio::async_initiate<const asio::use_awaitable_t<>&, void(result<term>)>(wait, asio::use_awaitable);
  auto outcome = co_await std::move(waiting);
  co_return outcome;
}

void connection::await_outcome(const std::shared_ptr<pending_call>& call, waiter_type waiter,
                               asio::any_io_executor work) {
  std::lock_guard lock(queue_mutex_);
  if (call->outcome) {
    complete(std::move(waiter), std::move(*call->outcome), work);
    return;
  }
  auto slot = asio::get_associated_cancellation_slot(waiter);
  call->work = std::move(work);
  call->waiter.emplace(std::move(waiter));
  std::weak_ptr<connection> weak = weak_from_this();
  if (slot.is_connected()) {
    slot.assign([weak, call](asio::cancellation_type) {
      if (auto self = weak.lock()) self->give_up(call, cancelled_error());
    });
  }
  if (call->deadline != forever) {
    call->timer.emplace(strand_, call->deadline);
    call->timer->async_wait([weak, call](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->give_up(call, error(errc::timeout, "no reply within " + std::to_string(call->timeout.count()) +
                                                   " ms; the channel stays usable and a late reply will "
                                                   "be dropped"));
    });
  }
}

void connection::give_up(const std::shared_ptr<pending_call>& call, error why) {
  std::lock_guard lock(queue_mutex_);
  // Already answered (or failed by the close): that outcome stands. A reply
  // that comes later finds no pending call and is dropped.
  if (calls_.erase(call->id) == 0) return;
  settle(*call, std::move(why));
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
