// A condition variable for coroutines that share one strand: notify_all()
// wakes every waiter. Waking is a hint: a waiter re-checks what it waits
// for, because it may also wake at its deadline or when its coroutine is
// cancelled (asio per-operation cancellation, e.g. the loser of an
// awaitable `||`: check this_coro::cancellation_state). No lock is needed:
// every caller is on the same strand, and a wait is registered before the
// coroutine suspends, so a notify cannot fall between a waiter's check and
// its wait.
//
// A wait with a deadline parks on a timer of its own. A wait without one
// (the writer's, on every batch) parks only its completion handler: arming
// a timer costs a timerfd syscall whenever it is the earliest one, and a
// "never" timer in an otherwise empty queue always is.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>
#include <list>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace capchan::client::detail {

using clock = std::chrono::steady_clock;

// The executor a parked waiter resumes on, holding its context's work.
// Taken from the concrete handler: an any_completion_executor cannot be
// required to be non-blocking, so asio::post cannot take it.
template <class Handler>
boost::asio::any_io_executor work_of(const Handler& handler) {
  return boost::asio::prefer(boost::asio::any_io_executor(boost::asio::get_associated_executor(handler)),
                             boost::asio::execution::outstanding_work.tracked);
}

class strand_condition {
 public:
  strand_condition() = default;
  strand_condition(const strand_condition&) = delete;
  strand_condition& operator=(const strand_condition&) = delete;

  // Returns after notify_all(), at `deadline`, or on cancellation.
  boost::asio::awaitable<void> wait_until(clock::time_point deadline) {
    if (deadline == clock::time_point::max()) {
      auto park = [this](auto handler) {
        auto work = work_of(handler);
        this->park(std::move(handler), std::move(work));
      };
      auto parked = boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
          park, boost::asio::use_awaitable);
      co_await std::move(parked);
      co_return;
    }
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    timers_.push_back(&timer);
    // Unregisters even if the coroutine frame is destroyed while parked.
    struct unregister {
      std::vector<boost::asio::steady_timer*>& timers;
      boost::asio::steady_timer* timer;
      ~unregister() { std::erase(timers, timer); }
    } guard{timers_, &timer};
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  void notify_all() {
    for (boost::asio::steady_timer* t : timers_) t->cancel();
    auto woken = std::move(parked_);
    parked_.clear();
    for (auto& p : woken) resume(std::move(p));
  }

 private:
  using handler_type = boost::asio::any_completion_handler<void()>;
  struct parked_waiter {
    std::uint64_t id;
    handler_type handler;
    // Keeps the waiter's io_context running while it is parked, as the
    // pending timer did.
    boost::asio::any_io_executor work;
  };

  void park(handler_type handler, boost::asio::any_io_executor work) {
    const std::uint64_t id = ++last_id_;
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) {
      // Emitted on the strand too (co_spawn forwards cancellation there).
      slot.assign([this, id](boost::asio::cancellation_type) { wake(id); });
    }
    parked_.push_back({id, std::move(handler), std::move(work)});
  }

  void wake(std::uint64_t id) {
    auto it = std::find_if(parked_.begin(), parked_.end(), [id](const parked_waiter& p) { return p.id == id; });
    if (it == parked_.end()) return;
    parked_waiter woken = std::move(*it);
    parked_.erase(it);
    resume(std::move(woken));
  }

  // Never inline: the notifier's code goes on before any waiter runs, as
  // it did with the timers.
  static void resume(parked_waiter waiter) {
    boost::asio::post(waiter.work, [handler = std::move(waiter.handler)]() mutable {
      boost::asio::get_associated_cancellation_slot(handler).clear();
      std::move(handler)();
    });
  }

  std::vector<boost::asio::steady_timer*> timers_;
  // A list: erasing from a vector move-assigns, and Boost 1.81's
  // any_completion_handler move assignment recurses without end.
  std::list<parked_waiter> parked_;
  std::uint64_t last_id_ = 0;
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
