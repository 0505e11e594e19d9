// Blocking handlers: blocking_channel, the worker pool, and the service
// adapter behind service_registry::add_blocking.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "blocking_pool.hpp"
#include "capchan/server/channel.hpp"
#include "capchan/server/service_registry.hpp"

namespace capchan::server {

namespace asio = boost::asio;

message blocking_channel::receive() {
  // The mailbox is strand-confined: pop it there and wait here.
  auto next = asio::co_spawn(
      strand_, [&mm = mm_]() -> asio::awaitable<message> { co_return co_await mm.receive(); }, asio::use_future);
  return next.get();
}

// Posted work runs on the strand in order, before the handler's run() resumes
// there: mm_ is still alive when it does.
void blocking_channel::send(term push) {
  asio::post(strand_, [&mm = mm_, push = std::move(push)]() mutable { mm.send(std::move(push)); });
}

void blocking_channel::close(term reason) {
  asio::post(strand_, [&mm = mm_, reason = std::move(reason)]() mutable { mm.close(std::move(reason)); });
}

blocking_pool::~blocking_pool() {
  if (threads_) threads_->join();
}

asio::thread_pool& blocking_pool::threads() {
  std::lock_guard lock(mutex_);
  if (!threads_) threads_.emplace(workers_);
  return *threads_;
}

namespace {

// Moves a gauge up for as long as it lives.
class gauge_hold {
 public:
  explicit gauge_hold(std::atomic<std::int64_t>* g) : gauge_(g) {
    if (gauge_) gauge_->fetch_add(1);
  }
  ~gauge_hold() {
    if (gauge_) gauge_->fetch_sub(1);
  }
  gauge_hold(const gauge_hold&) = delete;
  gauge_hold& operator=(const gauge_hold&) = delete;

 private:
  std::atomic<std::int64_t>* gauge_;
};

}  // namespace

asio::awaitable<void> blocking_pool::run(const std::function<void()>& job) {
  auto* waiting = counters_ ? &counters_->blocking_waiting : nullptr;
  auto* running = counters_ ? &counters_->blocking_running : nullptr;
  auto wait = std::make_unique<gauge_hold>(waiting);
  // A pool of N threads runs at most N jobs; the rest queue in the pool. The
  // job cannot be interrupted: cancelling this wait still waits for it.
  auto on_worker = [&]() -> asio::awaitable<void> {
    wait.reset();
    gauge_hold busy(running);
    job();
    co_return;
  };
  co_await asio::co_spawn(threads(), on_worker, asio::use_awaitable);
}

namespace {

class blocking_service final : public service {
 public:
  blocking_service(blocking_function fn, term args_s, std::shared_ptr<blocking_pool> pool)
      : fn_(std::move(fn)), args_s_(std::move(args_s)), pool_(std::move(pool)) {}

  asio::awaitable<void> run(channel& mm, const term& args_c) override {
    const asio::any_io_executor strand = co_await asio::this_coro::executor;
    blocking_channel bc(mm, strand);
    const std::function<void()> job = [&] { fn_(bc, args_c, args_s_); };
    co_await pool_->run(job);
  }

 private:
  blocking_function fn_;
  term args_s_;
  std::shared_ptr<blocking_pool> pool_;
};

}  // namespace

void service_registry::add_blocking(std::string handler_name, blocking_function fn) {
  add(std::move(handler_name), [fn = std::move(fn)](const service_context& ctx) -> std::unique_ptr<service> {
    if (!ctx.blocking) throw std::logic_error("this server has no pool for blocking handlers");
    return std::make_unique<blocking_service>(fn, ctx.args, ctx.blocking);
  });
}

}  // namespace capchan::server
