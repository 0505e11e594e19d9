// Load shapes shared by capchan and its baselines, so that both sides of a
// ratio are driven by the same code: a latency series on one connection, and
// closed-loop round trips over many connections with `depth` in flight on
// each. A connection type needs `awaitable<void> round_trip()` that throws
// on failure. The load runs on one io_context, run by one thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

namespace capchan::bench {

using bench_clock = std::chrono::steady_clock;

inline double micros(bench_clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }
inline double seconds_of(bench_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs `work` on `ioc` (which a thread of its own runs: channels keep
// coroutines there) and waits for its value; its exception is rethrown here.
template <class T>
T run_on(boost::asio::io_context& ioc, boost::asio::awaitable<T> work) {
  return boost::asio::co_spawn(ioc, std::move(work), boost::asio::use_future).get();
}

// `n` round trips one after another; each one's time in microseconds is
// appended to `us` (when not null).
template <class Conn>
boost::asio::awaitable<void> latency_series(Conn& conn, std::size_t n, std::vector<double>* us) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto start = bench_clock::now();
    co_await conn.round_trip();
    const auto elapsed = bench_clock::now() - start;
    if (us) us->push_back(micros(elapsed));
  }
}

// Every connection runs `depth` workers, each doing round trips one after
// another until `length` has passed; round trips per second over all.
template <class Conn>
double closed_loop(boost::asio::io_context& ioc, std::vector<std::unique_ptr<Conn>>& conns, int depth,
                   std::chrono::milliseconds length) {
  std::uint64_t done = 0;  // touched on the ioc's thread only, read after all_done
  std::exception_ptr failure;
  std::size_t running = conns.size() * static_cast<std::size_t>(depth);
  std::promise<void> all_done;
  const auto start = bench_clock::now();
  const auto end = start + length;
  auto worker = [&done, end](Conn& c) -> boost::asio::awaitable<void> {
    while (bench_clock::now() < end) {
      co_await c.round_trip();
      ++done;
    }
  };
  for (auto& conn : conns) {
    for (int d = 0; d < depth; ++d) {
      boost::asio::co_spawn(ioc, worker(*conn), [&](std::exception_ptr e) {
        if (e && !failure) failure = e;
        if (--running == 0) all_done.set_value();
      });
    }
  }
  all_done.get_future().wait();
  const double elapsed = seconds_of(bench_clock::now() - start);
  if (failure) std::rethrow_exception(failure);
  return static_cast<double>(done) / elapsed;
}

// Percentiles of a sample (sorted here), microseconds.
struct latency_summary {
  double p50 = 0, p99 = 0, p999 = 0, mean = 0;
  std::size_t count = 0;
};

inline latency_summary summarize(std::vector<double> us) {
  latency_summary s;
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * static_cast<double>(us.size())))];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  double sum = 0;
  for (const double v : us) sum += v;
  s.mean = sum / static_cast<double>(us.size());
  s.count = us.size();
  return s;
}

}  // namespace capchan::bench
