// kvs, the name server (DESIGN.md §7, docs/kvs.md): the book's
// {store, K, V} / {lookup, K}, made durable, plus put, delete, list, cas,
// watch, ephemeral keys and leases. One store per [[service]] entry, shared
// by all its channels; each channel's handler turns requests into store
// operations and answers when the store has (after the commit, for writes).
#include <algorithm>
#include <atomic>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "capchan/config/units.hpp"
#include "capchan/services/services.hpp"
#include "kvs_protocol.hpp"
#include "kvs_store.hpp"

namespace capchan::services {
namespace {

namespace asio = boost::asio;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct kvs_options {
  kvs::store_options store;
  // Requests of one channel queued in the store at once; past it the handler
  // stops taking messages, its mailbox fills and its socket stops being read.
  std::size_t max_inflight = 1024;
};

// What the service counts besides the store's own stats.
struct service_counters {
  // Casts whose write the store could not commit; each closed its channel.
  std::atomic<std::uint64_t> failed_casts{0};
};

// The reason a channel closes with when a write it cast could not be
// committed: the client has no reply to learn it from (docs/kvs.md).
std::optional<term> store_failed(const term& reply) {
  const auto* error = reply.as_tuple();
  if (!error || error->elements.size() != 2 || !error->elements[0].is_atom("error"))
    return std::nullopt;
  const auto* why = error->elements[1].as_tuple();
  if (!why || why->elements.size() != 2 || !why->elements[0].is_atom("storage"))
    return std::nullopt;
  return tuple(atom("kvs_error"), tuple(atom("store_failed"), why->elements[1]));
}

// One channel's side of the store. Requests complete on the writer thread;
// the count of those in flight and the pushes of the channel's watch are
// handed to the channel's strand, which owns them.
class channel_link final : public kvs::watcher, public std::enable_shared_from_this<channel_link> {
 public:
  channel_link(server::channel& mm, const asio::any_io_executor& strand,
               std::shared_ptr<service_counters> counters)
      : mm_(&mm), strand_(strand), room_(strand), counters_(std::move(counters)) {}

  void deliver(std::vector<term> events) override {
    asio::post(strand_, [self = shared_from_this(), events = std::move(events)]() mutable {
      if (!self->mm_) return;
      for (auto& e : events) self->mm_->send(std::move(e));
    });
  }

  // Strand only from here on.

  // Nothing in flight: every write of this channel has committed, so a read
  // from any connection sees them.
  bool idle() const { return in_flight_ == 0; }

  asio::awaitable<void> wait_for_room(std::size_t max_inflight) {
    while (in_flight_ >= max_inflight) {
      room_.expires_at(asio::steady_timer::time_point::max());
      co_await room_.async_wait(as_tuple_awaitable);
    }
  }

  // The completion of one request; `call` (null for a cast) gets the reply.
  // A cast whose write failed closes the channel.
  kvs::completion track(server::call_message* call) {
    ++in_flight_;
    std::shared_ptr<server::call_message> answer;
    if (call) answer = std::make_shared<server::call_message>(std::move(*call));
    return [self = shared_from_this(), answer](term reply) {
      asio::post(self->strand_, [self, answer, reply = std::move(reply)]() mutable {
        --self->in_flight_;
        self->room_.cancel();
        if (answer) {
          answer->reply(std::move(reply));
        } else if (auto reason = store_failed(reply); reason && self->mm_) {
          self->counters_->failed_casts++;
          self->mm_->close(std::move(*reason));
          self->mm_ = nullptr;  // once: the channel has ended
        }
      });
    };
  }

  // The handler has ended: nothing more reaches `mm`.
  void detach() { mm_ = nullptr; }

  // Whether the store holds something of this channel's (ephemeral keys, a
  // watch) to release when it ends.
  bool holds_state = false;

 private:
  server::channel* mm_;
  asio::any_io_executor strand_;
  asio::steady_timer room_;
  std::size_t in_flight_ = 0;
  std::shared_ptr<service_counters> counters_;
};

// Runs when the handler's frame goes, however it ends (chan_closed, or the
// coroutine destroyed at a forced shutdown): the channel's ephemeral keys are
// deleted, with events, and its watch ends.
struct link_guard {
  kvs::store& store;
  std::shared_ptr<channel_link> link;
  std::uint64_t channel;
  ~link_guard() {
    link->detach();
    if (link->holds_state) store.submit(kvs::release_op{channel}, nullptr);
  }
};

bool binds_to_channel(const kvs::operation& op) {
  if (std::holds_alternative<kvs::watch_op>(op)) return true;
  if (const auto* p = std::get_if<kvs::put_op>(&op)) return p->bind.owner != 0;
  if (const auto* c = std::get_if<kvs::cas_op>(&op)) return c->bind.owner != 0;
  return false;
}

class kvs_service final : public server::service {
 public:
  kvs_service(std::size_t max_inflight, std::unique_ptr<kvs::store> store)
      : max_inflight_(max_inflight), store_(std::move(store)) {}

  asio::awaitable<void> run(server::channel& mm, const term&) override {
    const auto strand = co_await asio::this_coro::executor;
    const auto link = std::make_shared<channel_link>(mm, strand, counters_);
    const link_guard guard{*store_, link, mm.id()};
    for (;;) {
      auto msg = co_await mm.receive();
      if (std::holds_alternative<server::chan_closed>(msg)) co_return;
      if (auto* cast = std::get_if<server::cast_message>(&msg)) {
        auto op = kvs::parse_cast(cast->message, mm.id());
        if (!op) continue;
        co_await link->wait_for_room(max_inflight_);
        submit(*link, std::move(*op), nullptr);
        continue;
      }
      auto* call = std::get_if<server::call_message>(&msg);
      if (!call) continue;
      if (call->message().is_atom("stats")) {
        call->reply(kvs::stats_reply(store_->stats(), counters_->failed_casts.load()));
        continue;
      }
      auto parsed = kvs::parse_call(call->message(), mm.id());
      if (auto* error = std::get_if<term>(&parsed)) {
        call->reply(std::move(*error));
        continue;
      }
      auto& op = std::get<kvs::operation>(parsed);
      if (link->idle()) {
        if (auto answer = store_->read(op)) {
          call->reply(std::move(*answer));
          continue;
        }
      }
      if (auto* w = std::get_if<kvs::watch_op>(&op)) w->sink = link;
      co_await link->wait_for_room(max_inflight_);
      submit(*link, std::move(op), call);
    }
  }

  void stop() override { store_->stop(); }

  std::vector<server::service_metric> service_metrics() const override {
    using kind = server::service_metric::kind;
    const auto s = store_->stats();
    const auto n = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
    return {
        {"kvs_revision", kind::gauge, "The kvs store's last committed revision.", s.revision},
        {"kvs_keys", kind::gauge, "Keys in the kvs store.", n(s.keys)},
        {"kvs_watchers", kind::gauge, "Watches running on the kvs store.", n(s.watchers)},
        {"kvs_leases", kind::gauge, "Leases of the kvs store granted and not yet ended.",
         n(s.leases)},
        {"kvs_queued", kind::gauge, "Requests waiting for the kvs store's writer.", n(s.queued)},
        {"kvs_queued_max", kind::gauge, "The most requests that ever waited for the writer.",
         n(s.queued_max)},
        {"kvs_largest_batch", kind::gauge,
         "The most requests committed in one transaction (args.max_batch caps it).",
         n(s.largest_batch)},
        {"kvs_transactions_total", kind::counter,
         "Transactions the kvs writer committed (group commits).", n(s.transactions)},
        {"kvs_requests_total", kind::counter,
         "Requests the kvs writer answered; divided by transactions, the mean batch.",
         n(s.requests)},
        {"kvs_failed_transactions_total", kind::counter,
         "kvs transactions rolled back because the disk refused them.", n(s.failed_transactions)},
        {"kvs_failed_casts_total", kind::counter,
         "Cast writes the kvs store could not commit; each closed its channel.",
         n(counters_->failed_casts.load())},
    };
  }

 private:
  void submit(channel_link& link, kvs::operation op, server::call_message* call) {
    if (binds_to_channel(op)) link.holds_state = true;
    store_->submit(std::move(op), link.track(call));
  }

  const std::size_t max_inflight_;
  std::unique_ptr<kvs::store> store_;
  std::shared_ptr<service_counters> counters_ = std::make_shared<service_counters>();
};

// args: absent, or a table of the keys below (docs/kvs.md "Configuration").
class args_reader {
 public:
  explicit args_reader(const term& args) {
    if (args.is_nil()) return;
    const auto* m = args.as_map();
    if (!m)
      throw std::invalid_argument("args: expected a table such as { path = \"nameserver.db\" }");
    map_ = m;
  }

  const term* take(const char* key) {
    if (!map_) return nullptr;
    seen_.push_back(key);
    return map_->find(term(atom(key)));
  }

  std::uint64_t integer(const char* key, std::uint64_t fallback, std::uint64_t low,
                        std::uint64_t high) {
    const term* t = take(key);
    if (!t) return fallback;
    const auto* n = t->as_int64();
    if (!n || *n < 0 || static_cast<std::uint64_t>(*n) < low ||
        static_cast<std::uint64_t>(*n) > high) {
      throw std::invalid_argument("args." + std::string(key) + ": expected an integer from " +
                                  std::to_string(low) + " to " + std::to_string(high));
    }
    return static_cast<std::uint64_t>(*n);
  }

  std::uint64_t size(const char* key, std::uint64_t fallback) {
    const term* t = take(key);
    if (!t) return fallback;
    std::optional<std::uint64_t> v;
    if (const auto* n = t->as_int64(); n && *n > 0) v = static_cast<std::uint64_t>(*n);
    if (const auto* b = t->as_binary()) v = config::parse_size(b->view());
    if (!v || *v == 0)
      throw std::invalid_argument("args." + std::string(key) +
                                  ": expected a size such as \"512KiB\"");
    return *v;
  }

  std::chrono::milliseconds duration(const char* key, std::chrono::milliseconds fallback) {
    const term* t = take(key);
    if (!t) return fallback;
    const auto* b = t->as_binary();
    auto v = b ? config::parse_duration(b->view()) : std::nullopt;
    if (!v || v->count() < 1)
      throw std::invalid_argument("args." + std::string(key) +
                                  ": expected a duration such as \"1h\"");
    return *v;
  }

  std::optional<std::string> string(const char* key) {
    const term* t = take(key);
    if (!t) return std::nullopt;
    const auto* b = t->as_binary();
    if (!b || b->empty())
      throw std::invalid_argument("args." + std::string(key) + ": expected a file name");
    return std::string(b->view());
  }

  // Typos must not pass silently.
  void check_all_known() const {
    if (!map_) return;
    for (const auto& [key, value] : map_->entries()) {
      const auto* a = key.as_atom();
      if (a && std::find(seen_.begin(), seen_.end(), a->name) != seen_.end()) continue;
      std::string known;
      for (const auto& s : seen_) known += (known.empty() ? "" : ", ") + s;
      throw std::invalid_argument("args: unknown key " + (a ? a->name : std::string("?")) +
                                  " (known: " + known + ")");
    }
  }

 private:
  const map* map_ = nullptr;
  std::vector<std::string> seen_;
};

kvs_options parse_args(const server::service_context& ctx) {
  args_reader args(ctx.args);
  kvs_options o;
  auto& s = o.store;
  if (auto path = args.string("path")) s.file = ctx.data_dir / *path;
  s.history = args.integer("history", s.history, 0, 1'000'000'000);
  s.max_batch = args.integer("max_batch", s.max_batch, 1, 1'000'000);
  s.max_page = args.integer("max_page", s.max_page, 1, 1'000'000);
  s.max_page_bytes = args.size("max_page_bytes", s.max_page_bytes);
  s.max_ttl = args.duration("max_ttl", s.max_ttl);
  s.readers = args.integer("readers", s.readers, 0, 64);
  o.max_inflight = args.integer("max_inflight", o.max_inflight, 1, 1'000'000);
  args.check_all_known();
  return o;
}

}  // namespace

void register_kvs(server::service_registry& registry) {
  registry.add("kvs", [](const server::service_context& ctx) -> std::unique_ptr<server::service> {
    auto options = parse_args(ctx);
    auto store = std::make_unique<kvs::store>(std::move(options.store));
    return std::make_unique<kvs_service>(options.max_inflight, std::move(store));
  });
}

}  // namespace capchan::services
