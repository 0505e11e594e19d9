// The listener and the server's life: bind, accept (with max_connections and
// max_handshakes enforced at the door), and shutdown that waits for every
// session (DESIGN.md §4).
#include "capchan/server/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "blocking_pool.hpp"
#include "session.hpp"

namespace capchan::server {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// `owner` outlives the loop (the server waits for it at shutdown); the copy
// keeps the core alive for the sessions the loop starts.
awaitable<void> accept_loop(const std::shared_ptr<server_core>& owner) {
  const auto core = owner;
  for (;;) {
    auto strand = asio::make_strand(core->ioc);
    auto [ec, socket] = co_await core->acceptor->async_accept(strand, as_tuple_awaitable);
    if (ec) {
      if (core->stopping || ec == asio::error::operation_aborted) break;
      // EMFILE and friends: say so and keep serving the connections we have.
      core->log->warn("accept failed: {}", ec.message());
      asio::steady_timer backoff(core->ioc, std::chrono::milliseconds(50));
      co_await backoff.async_wait(as_tuple_awaitable);
      continue;
    }
    core->counters.connections_total++;
    const auto limits = core->limits();
    if (core->counters.connections_open.load() >= static_cast<std::int64_t>(limits->max_connections)) {
      core->counters.rejected_max_connections++;
      continue;  // the socket closes as it goes out of scope
    }
    if (core->counters.handshakes_in_progress.load() >= static_cast<std::int64_t>(limits->max_handshakes)) {
      core->counters.rejected_max_handshakes++;
      continue;
    }
    const auto id = core->next_session_id();
    auto s = std::make_shared<session>(std::move(socket), core, id);
    core->register_session(id, s);
    core->tasks.started();
    asio::co_spawn(strand, s->run(), [core, id, s](std::exception_ptr e) mutable {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          core->log->error("conn={} session ended with an exception: {}", id, ex.what());
        }
      }
      core->unregister_session(id);
      // The session's destructor settles the gauges: before shutdown can see no task left.
      s.reset();
      core->tasks.finished();
    });
  }
}

}  // namespace

boost::system::result<std::unique_ptr<server>, std::vector<std::string>> server::create(
    asio::io_context& ioc, const config::server_config& config, crypto::noise::keypair key,
    const service_registry& registry, std::shared_ptr<spdlog::logger> logger) {
  auto blocking = std::make_shared<blocking_pool>(config.limits.blocking_workers);
  auto table = service_table::build(config, key, {registry, config.data_dir, ioc.get_executor(), blocking});
  if (!table) return table.error();
  auto core = std::make_shared<server_core>(ioc, config, std::move(key), std::move(*table), std::move(logger));
  blocking->attach(core->counters);
  return std::unique_ptr<server>(new server(std::move(core), config, std::move(blocking)));
}

server::server(std::shared_ptr<server_core> core, const config::server_config& config,
               std::shared_ptr<blocking_pool> blocking)
    : core_(std::move(core)), running_(config), blocking_(std::move(blocking)) {}
server::~server() = default;

void server::start() {
  const tcp::endpoint ep(asio::ip::make_address(core_->bind), core_->port);
  core_->acceptor.emplace(core_->ioc);
  core_->acceptor->open(ep.protocol());
  core_->acceptor->set_option(asio::socket_base::reuse_address(true));
  core_->acceptor->bind(ep);
  core_->acceptor->listen(asio::socket_base::max_listen_connections);
  core_->tasks.started();
  asio::co_spawn(core_->ioc, accept_loop(core_), [core = core_](std::exception_ptr e) {
    if (e) core->log->error("the accept loop ended with an exception");
    core->tasks.finished();
  });
}

tcp::endpoint server::local_endpoint() const { return core_->acceptor->local_endpoint(); }

std::string server::fingerprint() const { return crypto::noise::fingerprint(core_->key.public_key()); }

const metrics& server::counters() const { return core_->counters; }

awaitable<void> server::shutdown(std::chrono::milliseconds grace) {
  auto core = core_;
  if (core->stopping.exchange(true)) co_return;
  core->log->info("shutting down: closing {} sessions", core->live_sessions().size());
  asio::post(core->acceptor->get_executor(), [core] {
    boost::system::error_code ec;
    core->acceptor->close(ec);
  });
  const term reason = tuple(atom("shutdown"), atom("server_stopping"));
  for (const auto& s : core->live_sessions()) s->stop(reason);

  // Give handlers `grace` to finish on their own, then cancel what is left.
  asio::steady_timer deadline(core->ioc, grace);
  bool drained = false;
  {
    using namespace asio::experimental::awaitable_operators;
    auto result = co_await (core->tasks.wait_idle() || deadline.async_wait(asio::use_awaitable));
    drained = result.index() == 0;
  }
  if (!drained) {
    core->log->warn("handlers still running after {} ms: cancelling them", grace.count());
    for (const auto& s : core->live_sessions()) s->kill();
    co_await core->tasks.wait_idle();
  }
  for (const auto& [name, entry] : core->services()->entries()) entry->impl->stop();
  // Every gauge must be back at zero: nothing outlives the server.
  const auto& m = core->counters;
  core->log->info(
      "shutdown complete: connections_open={} handshakes_in_progress={} channels_open={} handlers_running={} "
      "outbox_bytes={}",
      m.connections_open.load(), m.handshakes_in_progress.load(), m.channels_open.load(), m.handlers_running.load(),
      m.outbox_bytes.load());
}

}  // namespace capchan::server
