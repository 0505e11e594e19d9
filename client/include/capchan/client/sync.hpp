// The blocking client API (DESIGN.md §5): the same channel as channel.hpp for
// programs that are not coroutines (the CLI, scripts, tests). connect() starts
// an I/O thread of its own; every method blocks the calling thread until its
// answer, and may be called from several threads at once.
//
//   auto ch = capchan::sync::connect("127.0.0.1", 1234, "nameServer", password);
//   if (!ch) return fail(ch.error());
//   ch->cast(tuple(atom("store"), atom("joe"), charlist("writing a book")));
//   auto v = ch->rpc(tuple(atom("lookup"), atom("joe")), 5s);   // result<term>
//   std::thread([&] { for (;;) if (std::holds_alternative<chan_closed>(ch->receive())) break; });
//   ch->close();
//
// The destructor closes the channel (if close() was not called) and joins
// the I/O thread: nothing outlives the object. Do not destroy it while
// another thread is inside one of its methods.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "capchan/client/channel.hpp"
#include "capchan/client/error.hpp"
#include "capchan/client/options.hpp"
#include "capchan/client/url.hpp"
#include "capchan/core/term.hpp"

namespace capchan::client::sync {

class channel {
 public:
  channel(channel&&) noexcept;
  channel& operator=(channel&&) noexcept;
  ~channel();

  // As client::channel, blocking.
  result<void> cast(term message);
  result<term> rpc(term message, std::chrono::milliseconds timeout = no_timeout);
  std::future<result<term>> async_rpc(term message,
                                      std::chrono::milliseconds timeout = no_timeout);
  incoming receive();
  std::optional<incoming> receive_for(std::chrono::milliseconds timeout);
  void close();

  bool is_open() const;
  term close_reason() const;
  const std::string& server_fingerprint() const;
  const std::string& service() const;

 private:
  struct io;  // the I/O thread, its io_context and the client::channel
  friend result<channel> connect(std::string, std::uint16_t, std::string, std::string, term,
                                 connect_options);
  explicit channel(std::unique_ptr<io> io);
  std::unique_ptr<io> io_;
};

// Connects on a new I/O thread; see client::connect for the errors.
result<channel> connect(std::string host, std::uint16_t port, std::string service,
                        std::string password, term args_c = term(),
                        connect_options options = {});
result<channel> connect(const channel_url& url, std::string password, term args_c = term(),
                        connect_options options = {});

}  // namespace capchan::client::sync

namespace capchan {
// DESIGN.md §5 spells it `capchan::sync::connect`.
namespace sync = client::sync;
}  // namespace capchan
