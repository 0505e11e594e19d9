// The worker threads of blocking handlers (service_registry::add_blocking):
// at most `workers` handlers run at once, on threads of their own, so a
// handler that blocks never stalls the I/O threads. The threads start with
// the first blocking handler; a server without blocking services has none.
// Private to capchan_server.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "capchan/server/metrics.hpp"

namespace capchan::server {

class blocking_pool {
 public:
  explicit blocking_pool(std::size_t workers) : workers_(workers) {}
  // Joins the threads: destroy only after every job has returned (the server
  // does, after shutdown), and never from a worker thread.
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  // Runs `job` on a worker, waiting for a free one first; completes on the
  // caller's executor when the job returns, rethrowing what it threw.
  boost::asio::awaitable<void> run(const std::function<void()>& job);

  // Where the gauges blocking_running and blocking_waiting go; set once by
  // the server before it starts.
  void attach(metrics& counters) { counters_ = &counters; }

 private:
  boost::asio::thread_pool& threads();

  const std::size_t workers_;
  metrics* counters_ = nullptr;
  std::mutex mutex_;
  std::optional<boost::asio::thread_pool> threads_;
};

}  // namespace capchan::server
