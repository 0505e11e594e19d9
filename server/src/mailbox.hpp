// A handler's bounded mailbox (DESIGN.md §4: `mailbox` messages per handler;
// when full, that socket stops being read). Strand-confined: the reader
// pushes, the handler pops, both on the session strand. Closing it delivers
// what is queued, then chan_closed with the reason, every time after.
#pragma once

#include <chrono>
#include <optional>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/deque.hpp>

#include "capchan/server/channel.hpp"

namespace capchan::server {

class mailbox {
 public:
  mailbox(const boost::asio::any_io_executor& ex, std::size_t capacity)
      : capacity_(capacity), changed_(ex) {}

  // Waits while full (the caller stops reading its socket meanwhile). Once
  // closed, messages are dropped. Takes an rvalue reference, not a value:
  // GCC 12 destroys by-value coroutine parameters of class type wrongly (the
  // caller's temporary lives until the co_await ends, so this is safe).
  boost::asio::awaitable<void> push(message&& m) {
    while (full()) co_await wait_on(changed_);
    try_push(m);
  }

  // Without waiting: queues `m` (or drops it, once closed) and returns true;
  // false when full, `m` untouched: then push() it. The reader takes this
  // path for every message that fits, so a burst of casts costs no
  // coroutine frame each.
  bool try_push(message& m) {
    if (full()) return false;
    if (!closed_) {
      items_.push_back(std::move(m));
      changed_.cancel();
    }
    return true;
  }

  boost::asio::awaitable<message> pop() {
    while (items_.empty() && !closed_) co_await wait_on(changed_);
    if (!items_.empty()) {
      message m = std::move(items_.front());
      items_.pop_front();
      changed_.cancel();
      co_return m;
    }
    message end = chan_closed{*closed_};
    co_return end;
  }

  // The first reason wins; later closes change nothing.
  void close(term reason) {
    if (!closed_) closed_ = std::move(reason);
    changed_.cancel();
  }
  bool closed() const { return closed_.has_value(); }
  const term* reason() const { return closed_ ? &*closed_ : nullptr; }
  std::size_t size() const { return items_.size(); }
  // A push now would wait (DESIGN.md §4: the socket stops being read).
  bool full() const { return items_.size() >= capacity_ && !closed_; }

 private:
  // A timer used as an event: cancel() wakes the waiter (operation_aborted
  // is the wake-up). Not a coroutine: the waiting one holds no frame more.
  static boost::asio::awaitable<std::tuple<boost::system::error_code>> wait_on(boost::asio::steady_timer& event) {
    event.expires_at(std::chrono::steady_clock::time_point::max());
    return event.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  std::size_t capacity_;
  boost::container::deque<message> items_;  // allocates nothing while unused (idle channels)
  std::optional<term> closed_;
  // One event for both waits: the handler waits only while the mailbox is
  // empty and the reader only while it is full, never both at once (the
  // capacity is at least 1), and each re-checks after waking.
  boost::asio::steady_timer changed_;
};

}  // namespace capchan::server
