// A condition variable for coroutines that share one strand: a waiter parks
// on a timer of its own (so each wait has its own deadline), notify_all()
// cancels them all. Waking is a hint: a waiter re-checks what it waits for,
// because it may also wake at its deadline or when its coroutine is
// cancelled (asio per-operation cancellation, e.g. the loser of an
// awaitable `||`: check this_coro::cancellation_state). No lock is needed: every caller is on the same strand, and a
// wait is registered before the coroutine suspends, so a notify cannot fall
// between a waiter's check and its wait.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace capchan::client::detail {

using clock = std::chrono::steady_clock;

class strand_condition {
 public:
  strand_condition() = default;
  strand_condition(const strand_condition&) = delete;
  strand_condition& operator=(const strand_condition&) = delete;

  // Returns after notify_all(), at `deadline`, or on cancellation.
  boost::asio::awaitable<void> wait_until(clock::time_point deadline) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    waiters_.push_back(&timer);
    // Unregisters even if the coroutine frame is destroyed while parked.
    struct unregister {
      std::vector<boost::asio::steady_timer*>& waiters;
      boost::asio::steady_timer* timer;
      ~unregister() { std::erase(waiters, timer); }
    } guard{waiters_, &timer};
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  void notify_all() {
    for (boost::asio::steady_timer* t : waiters_) t->cancel();
  }

 private:
  std::vector<boost::asio::steady_timer*> waiters_;
};

// now + timeout, saturating: no_timeout (milliseconds::max()) is "never".
inline clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  const auto now = clock::now();
  if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(clock::time_point::max() - now)) {
    return clock::time_point::max();
  }
  return now + timeout;
}

}  // namespace capchan::client::detail
