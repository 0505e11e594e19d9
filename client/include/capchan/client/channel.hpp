// The client's proxy of a capchan channel, coroutine API (DESIGN.md §5): what
// lib_chan's `connect/5` returns, with the rpc done right.
//
//   asio::awaitable<void> demo() {
//     auto ch = co_await client::connect("127.0.0.1", 1234, "nameServer", password);
//     if (!ch) { std::cerr << ch.error().message() << "\n"; co_return; }
//     co_await ch->cast(tuple(atom("store"), atom("joe"), charlist("writing a book")));
//     auto v = co_await ch->rpc(tuple(atom("lookup"), atom("joe")), 5s);  // {ok, "writing a book"}
//     co_await ch->close();
//   }
//
// Many rpcs may be in flight on one channel, from any number of coroutines:
// each gets its own Id (a counter, never reused), so an rpc that timed out
// leaves the channel usable and its late reply is dropped, never handed to a
// later rpc. Pushes from the server (`{cast, Msg}`) queue for receive(),
// which finally yields chan_closed{reason} once the channel has ended (and
// again on every later call). When the channel ends, pending rpcs fail with
// errc::closed and the close reason.
//
// Threads: a channel runs one reader and one writer coroutine on a strand of
// the executor connect() ran on. Its methods may be called from any thread
// or executor (each hops to the strand and back). Destroying a channel that
// was not closed starts close() and lets the I/O coroutines finish on their
// own (the io_context's run() returns only after them); co_await close()
// to wait for them.
//
// GCC 12 (Debian 12's compiler) miscompiles two coroutine patterns that
// callers may write: a co_await inside an if/loop condition, and a
// brace-initialised aggregate argument in a co_await expression (destroyed
// twice). Write `auto r = co_await ch->rpc(...); if (!r) ...`, and
// Catch's CHECK(co_await ...) evaluates the co_await more than once.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "capchan/client/error.hpp"
#include "capchan/client/options.hpp"
#include "capchan/client/url.hpp"
#include "capchan/core/term.hpp"

namespace capchan::client {

class connection;

// A message the server pushed: `{cast, Msg}` (the handler's mm.send).
struct push {
  term message;
};
// The end of the channel, with its reason (DESIGN.md §5): normal,
// disconnected (no close frame: network or peer death), timeout,
// {shutdown, Why}, {handler_error, Text}, {protocol_error, Text},
// {overload, Which}, auth_failed.
struct chan_closed {
  term reason;
};
using incoming = std::variant<push, chan_closed>;

class channel {
 public:
  channel() = default;  // no channel; every call fails with errc::closed
  explicit channel(std::shared_ptr<connection> c);
  channel(channel&&) noexcept = default;
  channel& operator=(channel&& other) noexcept;
  ~channel();

  // Queues `{cast, Msg}`; waits only while the outbox is full. Errors:
  // closed, message_too_large.
  boost::asio::awaitable<result<void>> cast(term message);

  // `{call, Id, Msg}`, then the reply's Msg. Errors: remote_error with the
  // Reason of `{fail, Id, Reason}` (no_reply, {handler_error, Text},
  // overload, ...), timeout, closed (with the close reason),
  // message_too_large.
  boost::asio::awaitable<result<term>> rpc(term message,
                                           std::chrono::milliseconds timeout = no_timeout);
  // The same rpc, started now, its result in a future: for callers that are
  // not coroutines. Never block on it from the channel's own executor.
  std::future<result<term>> async_rpc(term message,
                                      std::chrono::milliseconds timeout = no_timeout);

  // The next push, or chan_closed once the channel has ended and every push
  // before the end has been taken.
  boost::asio::awaitable<incoming> receive();
  // The same, or nothing after `timeout`.
  boost::asio::awaitable<std::optional<incoming>> receive_for(std::chrono::milliseconds timeout);

  // Sends {close, normal} and waits until the server's WebSocket close has
  // arrived (or close_timeout passed) and both I/O coroutines have ended.
  // On a channel that has already ended, just waits for them.
  boost::asio::awaitable<void> close();

  // False once the channel is closing or closed. Any thread.
  bool is_open() const;
  // The close reason, once the channel has ended; [] before.
  term close_reason() const;
  // The server's key fingerprint, "SHA256:...".
  const std::string& server_fingerprint() const;
  const std::string& service() const;

 private:
  std::shared_ptr<connection> connection_;
};

// Connects, checks the server's key, logs in to `service` and returns the
// channel (DESIGN.md §3). `args_c` is ArgsC, `[]` for none. Runs on the
// calling coroutine's executor; argon2id runs on a thread of its own so the
// executor is never blocked for it. Errors: connection_refused,
// server_key_mismatch, known_hosts_error, auth_failed, timeout, closed
// (the server closed the login with another reason), protocol_error.
boost::asio::awaitable<result<channel>> connect(std::string host, std::uint16_t port,
                                                std::string service, std::string password,
                                                term args_c = term(),
                                                connect_options options = {});
// The same from a capchan:// URL; its ?key= wins over options.key.
boost::asio::awaitable<result<channel>> connect(channel_url url, std::string password,
                                                term args_c = term(),
                                                connect_options options = {});

}  // namespace capchan::client

namespace capchan {
// DESIGN.md §5 spells it `capchan::connect`.
using client::connect;
}  // namespace capchan
