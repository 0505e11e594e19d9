// The handler's side of a channel: lib_chan's proxy mailbox `MM` (DESIGN.md §4).
//
// For each authenticated connection the server runs the service's handler, a
// C++20 coroutine on the connection's strand, with a `channel`:
//
//   asio::awaitable<void> echo(channel& mm, const term& args_c) {
//     for (;;) {
//       auto msg = co_await mm.receive();
//       if (auto* call = std::get_if<call_message>(&msg)) call->reply(call->message());
//       else if (std::holds_alternative<chan_closed>(msg)) co_return;
//     }
//   }
//
// Strand rules: receive(), send() and close() are called from the handler's
// coroutine (the session strand). call_message::reply/fail may be called from
// any thread, even after the channel has ended (the answer is then dropped).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "capchan/core/term.hpp"

namespace capchan::server {

// A one-way message from the client: `{cast, Msg}`.
struct cast_message {
  term message;
};

// Where a call's answer goes; implemented by the session, which may be gone
// by the time the answer comes.
class reply_sink {
 public:
  virtual ~reply_sink() = default;
  virtual void answer(std::int64_t id, bool ok, term value) = 0;
};

// A client rpc, `{call, Id, Msg}`: answer it once with reply() (the client
// gets `{reply, Id, Value}`) or fail() (`{fail, Id, Reason}`). A call dropped
// unanswered gets `{fail, Id, no_reply}`. Move-only.
class call_message {
 public:
  call_message(std::int64_t id, term message, std::weak_ptr<reply_sink> sink)
      : id_(id), message_(std::move(message)), sink_(std::move(sink)) {}
  call_message(call_message&& other) noexcept;
  call_message& operator=(call_message&& other) noexcept;
  call_message(const call_message&) = delete;
  call_message& operator=(const call_message&) = delete;
  ~call_message();

  const term& message() const { return message_; }
  std::int64_t id() const { return id_; }
  bool answered() const { return answered_; }
  void reply(term value);
  void fail(term reason);

 private:
  void answer(bool ok, term value);
  std::int64_t id_;
  term message_;
  std::weak_ptr<reply_sink> sink_;
  bool answered_ = false;
};

// The end of the channel, with its reason (DESIGN.md §5): `normal` when the
// client closed, `disconnected`, `timeout`, `{shutdown, Why}`, ...
struct chan_closed {
  term reason;
};

using message = std::variant<cast_message, call_message, chan_closed>;

class channel {
 public:
  virtual ~channel() = default;
  // The next message; after the channel has ended, chan_closed (every time).
  virtual boost::asio::awaitable<message> receive() = 0;
  // Pushes `{cast, Msg}` to the client. Never blocks; if the client does not
  // read and the outbox limit is passed, the channel closes with
  // {overload, outbox}.
  virtual void send(term push) = 0;
  // Ends the channel: the client gets `{close, Reason}`.
  virtual void close(term reason) = 0;
  // The service this channel was opened for, and a connection id for logs.
  virtual const std::string& service() const = 0;
  virtual std::uint64_t id() const = 0;
};

// The mailbox of a blocking handler (service_registry::add_blocking): the
// same channel, seen from a worker thread of the server's blocking pool, so
// the handler may call blocking code (a database driver, a file, a sleep)
// without stalling the I/O threads. receive() blocks the worker until a
// message arrives; send() and close() hand the work to the channel's strand
// and return at once. Use it only from the handler's own thread.
class blocking_channel {
 public:
  blocking_channel(channel& mm, boost::asio::any_io_executor strand) : mm_(mm), strand_(std::move(strand)) {}
  blocking_channel(const blocking_channel&) = delete;
  blocking_channel& operator=(const blocking_channel&) = delete;

  // The next message; after the channel has ended, chan_closed (every time).
  message receive();
  void send(term push);
  void close(term reason);
  const std::string& service() const { return mm_.service(); }
  std::uint64_t id() const { return mm_.id(); }

 private:
  channel& mm_;
  boost::asio::any_io_executor strand_;
};

}  // namespace capchan::server
