// Reloading the config without dropping channels (DESIGN.md §4, docs/config.md).
// Everything that can fail is done before anything live changes: verifiers
// are derived and new services started first; if one fails, they are stopped
// again and the server keeps its config. Then the new table and limits go in
// at once, retired entries' channels are told to close, and their instances
// are stopped once the last channel has let go of them (a kvs store holds a
// lock on its file: a changed kvs service can start only after that).
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "capchan/server/server.hpp"
#include "session.hpp"

namespace capchan::server {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Counts retired entries still held by channels; wakes the reload when the
// count reaches zero. Its state lives on one strand.
class release_wait : public std::enable_shared_from_this<release_wait> {
 public:
  explicit release_wait(asio::io_context& ioc) : strand_(asio::make_strand(ioc)), timer_(strand_) {}

  // Called before the entry can be released (its owners are the caller's).
  void watch(service_entry& entry) {
    ++remaining_;
    entry.notice.fn = [self = shared_from_this()] {
      asio::post(self->strand_, [self] {
        --self->remaining_;
        self->timer_.cancel();
      });
    };
  }

  // True when every watched entry was released before `deadline`.
  awaitable<bool> wait(std::chrono::steady_clock::time_point deadline) {
    // Named, not a temporary in the co_await: GCC 12 copies those bitwise.
    auto on_strand = wait_on_strand(shared_from_this(), deadline);
    co_return co_await asio::co_spawn(strand_, std::move(on_strand), asio::use_awaitable);
  }

 private:
  static awaitable<bool> wait_on_strand(std::shared_ptr<release_wait> self,
                                        std::chrono::steady_clock::time_point deadline) {
    while (self->remaining_ > 0) {
      if (std::chrono::steady_clock::now() >= deadline) co_return false;
      self->timer_.expires_at(deadline);
      co_await self->timer_.async_wait(as_tuple_awaitable);
    }
    co_return true;
  }

  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  std::size_t remaining_ = 0;  // set before any notice can fire, then only on the strand
};

struct retiring {
  std::shared_ptr<service_entry> entry;
  term reason;
};

void note_restart(const config::server_config& running, const config::server_config& next,
                  std::vector<std::string>& keys) {
  if (next.bind != running.bind) keys.push_back("bind");
  if (next.port != running.port) keys.push_back("port");
  if (next.key_file != running.key_file) keys.push_back("key_file");
  if (next.data_dir != running.data_dir) keys.push_back("data_dir");
  if (next.limits.blocking_workers != running.limits.blocking_workers) keys.push_back("limits.blocking_workers");
}

std::shared_ptr<service_entry> make_entry(const config::service_config& s, crypto::password_verifier verifier,
                                          std::shared_ptr<service> impl) {
  auto e = std::make_shared<service_entry>();
  e->name = s.name;
  e->handler = s.handler;
  e->args = s.args;
  e->verifier = std::move(verifier);
  e->impl = std::move(impl);
  return e;
}

}  // namespace

awaitable<reload_report> server::reload(const config::server_config& next, const service_registry& registry,
                                        std::chrono::milliseconds grace) {
  auto core = core_;
  reload_report report;
  if (core->stopping) {
    report.errors.push_back("the server is shutting down");
    co_return report;
  }
  // Started with the running data_dir: a new one needs a restart.
  const service_start start{registry, running_.data_dir, core->ioc.get_executor(), blocking_};

  // 1. Prepare, touching nothing live.
  auto current = core->services();
  service_table::entry_map entries;
  std::vector<retiring> retired;
  std::vector<std::pair<const config::service_config*, crypto::password_verifier>> restarts;
  for (const auto& s : next.services) {
    auto verifier = service_table::verifier_of(s, core->key);
    if (!verifier) {
      report.errors.push_back(service_table::where(next, s) + ": " + verifier.error());
      continue;
    }
    const auto old = current->find(s.name);
    if (old && old->handler == s.handler && old->args == s.args) {
      if (same_verifier(old->verifier, *verifier)) {
        entries[s.name] = old;
      } else {
        entries[s.name] = make_entry(s, std::move(*verifier), old->impl);
        report.password_changed.push_back(s.name);
      }
      continue;
    }
    if (!registry.find(s.handler)) {
      auto impl = service_table::start_service(s, start);  // for its message
      report.errors.push_back(service_table::where(next, s) + ": " + impl.error());
      continue;
    }
    if (old) {
      retired.push_back({old, tuple(atom("shutdown"), atom("service_changed"))});
      restarts.emplace_back(&s, std::move(*verifier));
      report.replaced.push_back(s.name);
      continue;
    }
    auto impl = service_table::start_service(s, start);
    if (!impl) {
      report.errors.push_back(service_table::where(next, s) + ": " + impl.error());
      continue;
    }
    entries[s.name] = make_entry(s, std::move(*verifier), std::move(*impl));
    report.added.push_back(s.name);
  }
  if (!report.errors.empty()) {
    for (const auto& name : report.added) entries[name]->impl->stop();
    report.added.clear();
    report.replaced.clear();
    report.password_changed.clear();
    co_return report;
  }
  for (const auto& [name, entry] : current->entries()) {
    const bool kept = std::any_of(next.services.begin(), next.services.end(),
                                  [&](const config::service_config& s) { return s.name == name; });
    if (!kept) {
      retired.push_back({entry, tuple(atom("shutdown"), atom("service_removed"))});
      report.removed.push_back(name);
    }
  }
  note_restart(running_, next, report.needs_restart);
  config::limits_config limits = next.limits;
  limits.blocking_workers = running_.limits.blocking_workers;  // the pool keeps its size
  report.limits_changed = !(limits == running_.limits);

  // 2. Switch: new logins and connections see the new table and limits.
  auto wait = std::make_shared<release_wait>(core->ioc);
  std::vector<std::shared_ptr<service>> retired_impls;
  for (auto& r : retired) {
    wait->watch(*r.entry);
    retired_impls.push_back(r.entry->impl);
  }
  core->replace(limits, std::make_shared<service_table>(entries));
  current.reset();
  {
    // Scoped: a session held here could not end, and its entry not be released.
    const auto sessions = core->live_sessions();
    for (const auto& r : retired) {
      for (const auto& s : sessions) s->stop_if_serving(r.entry, r.reason);
    }
  }

  // 3. Wait for the retired channels, then stop their instances.
  if (!retired.empty()) {
    std::vector<std::weak_ptr<service_entry>> weak;
    for (const auto& r : retired) weak.push_back(r.entry);
    // Our own references go first; the sessions' follow as their channels end.
    retired.clear();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    if (!co_await wait->wait(deadline)) {
      core->log->warn("reload: channels of retired services still open after {} ms: cancelling them", grace.count());
      for (const auto& w : weak) {
        if (auto e = w.lock()) {
          for (const auto& s : core->live_sessions()) s->kill(e);
        }
      }
      co_await wait->wait(std::chrono::steady_clock::time_point::max());
    }
    for (auto& impl : retired_impls) impl->stop();
    retired_impls.clear();  // a kvs store closes its file here
  }

  // 4. Start the replaced services again under their new config.
  if (!restarts.empty()) {
    for (auto& [s, verifier] : restarts) {
      auto impl = service_table::start_service(*s, start);
      if (!impl) {
        report.errors.push_back(service_table::where(next, *s) + ": " + impl.error() + " (the service is down)");
        continue;
      }
      entries[s->name] = make_entry(*s, std::move(verifier), std::move(*impl));
    }
    core->replace(limits, std::make_shared<service_table>(entries));
  }
  // What runs now: the next config, but for what needs a restart.
  config::server_config applied = next;
  applied.bind = running_.bind;
  applied.port = running_.port;
  applied.key_file = running_.key_file;
  applied.data_dir = running_.data_dir;
  applied.limits = limits;
  running_ = std::move(applied);
  co_return report;
}

}  // namespace capchan::server
