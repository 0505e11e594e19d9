// kvs, the name server (DESIGN.md §7, docs/kvs.md): the book's
// {store, K, V} / {lookup, K}, made durable, plus put, delete, list, cas,
// watch, ephemeral keys and leases. One store per [[service]] entry, shared
// by all its channels; each channel's handler turns requests into store
// operations and answers when the store has (after the commit, for writes).
#include <algorithm>

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

// One channel's side of the store. Requests complete on the writer thread;
// the count of those in flight and the pushes of the channel's watch are
// handed to the channel's strand, which owns them.
class channel_link final : public kvs::watcher, public std::enable_shared_from_this<channel_link> {
 public:
  channel_link(server::channel& mm, const asio::any_io_executor& strand)
      : mm_(&mm), strand_(strand), room_(strand) {}

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
  kvs::completion track(server::call_message* call) {
    ++in_flight_;
    std::shared_ptr<server::call_message> answer;
    if (call) answer = std::make_shared<server::call_message>(std::move(*call));
    return [self = shared_from_this(), answer](term reply) {
      asio::post(self->strand_, [self, answer, reply = std::move(reply)]() mutable {
        --self->in_flight_;
        self->room_.cancel();
        if (answer) answer->reply(std::move(reply));
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
    const auto link = std::make_shared<channel_link>(mm, strand);
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
        call->reply(kvs::stats_reply(store_->stats()));
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

 private:
  void submit(channel_link& link, kvs::operation op, server::call_message* call) {
    if (binds_to_channel(op)) link.holds_state = true;
    store_->submit(std::move(op), link.track(call));
  }

  const std::size_t max_inflight_;
  std::unique_ptr<kvs::store> store_;
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
