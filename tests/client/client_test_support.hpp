// Shared pieces of the client tests: running a coroutine test body on an
// io_context, waiting for several coroutines, and connect options that
// keep known_hosts in a temporary folder and capture the notes.
#pragma once

#include <chrono>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "capchan/client/options.hpp"
#include "temp_dir.hpp"

// REQUIRE(result) for results whose value cannot be printed (channels):
// on failure, shows the error's message.
#define REQUIRE_RESULT(r)                                         \
  do {                                                            \
    INFO(((r).has_value() ? std::string() : (r).error().message())); \
    REQUIRE((r).has_value());                                     \
  } while (false)

namespace capchan::test {

// Runs `body()` (a coroutine) to completion on a fresh io_context, then
// rethrows what it threw. run() returning also proves that nothing the body
// started is still running: the client leaves no work behind.
template <class F>
void run_coroutine(F body) {
  boost::asio::io_context context;
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(context, body(), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  context.run();
  if (failure) std::rethrow_exception(failure);
  if (!done) throw std::runtime_error("the test coroutine never finished");
}

// Runs the coroutines concurrently on the caller's executor and returns when
// all have finished (rethrowing the first failure).
inline boost::asio::awaitable<void> all_of(std::vector<boost::asio::awaitable<void>> tasks) {
  auto executor = co_await boost::asio::this_coro::executor;
  std::size_t left = tasks.size();
  std::exception_ptr first;
  boost::asio::steady_timer done(executor, boost::asio::steady_timer::time_point::max());
  for (auto& task : tasks) {
    boost::asio::co_spawn(executor, std::move(task), [&](std::exception_ptr e) {
      if (e && !first) first = e;
      if (--left == 0) done.cancel();
    });
  }
  while (left > 0) co_await done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (first) std::rethrow_exception(first);
}

// known_hosts in a temporary folder, notes captured, short deadlines.
struct client_fixture {
  temp_dir dir;
  std::mutex mutex;
  std::vector<std::string> notes;

  client::connect_options options() {
    client::connect_options o;
    o.known_hosts = dir / "known_hosts";
    o.note = [this](std::string_view text) {
      std::lock_guard lock(mutex);
      notes.emplace_back(text);
    };
    o.handshake_timeout = std::chrono::seconds(10);
    o.close_timeout = std::chrono::seconds(5);
    return o;
  }
};

}  // namespace capchan::test
