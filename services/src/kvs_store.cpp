// The kvs store: reads, the writer thread and its batches (see kvs_store.hpp).
#include "kvs_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "capchan/core/etf.hpp"
#include "kvs_file.hpp"
#include "sqlite.hpp"

namespace capchan::services::kvs {
namespace {

using lease_clock = std::chrono::steady_clock;
using bytes = std::vector<std::uint8_t>;

// Stored bytes that no longer decode: the file was damaged behind SQLite's
// back. The request that met them gets {error, {storage, Text}}.
class corrupt_data : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

term decode_stored(std::span<const std::uint8_t> data) {
  auto t = etf::decode(data);
  if (!t) throw corrupt_data("a stored term does not decode (" + t.error().to_string() + ")");
  return std::move(*t);
}

term error_reply(term reason) {
  return tuple(atom("error"), std::move(reason));
}
term storage_error(const std::string& what) {
  return error_reply(tuple(atom("storage"), binary::from(what)));
}
term no_lease(std::int64_t id) {
  return error_reply(tuple(atom("no_lease"), id));
}

// The least text greater than every text that starts with `text`; none when
// `text` is empty or all 0xFF bytes.
std::optional<std::string> successor(std::string text) {
  while (!text.empty() && static_cast<unsigned char>(text.back()) == 0xFF) text.pop_back();
  if (text.empty()) return std::nullopt;
  text.back() = static_cast<char>(static_cast<unsigned char>(text.back()) + 1);
  return text;
}

// What a connection needs to answer lookups and list pages.
struct read_statements {
  explicit read_statements(const sqlite::connection& db)
      : lookup(db, "SELECT value FROM kv WHERE key = ?1"),
        range(
            db,
            "SELECT key, value FROM kv WHERE (kind, name) >= (?1, ?2) AND (kind, name) < (?3, ?4) "
            "ORDER BY kind, name LIMIT ?5") {}
  sqlite::statement lookup;
  sqlite::statement range;
};

term lookup(read_statements& s, const lookup_op& op) {
  const bytes key = etf::encode(op.key);
  sqlite::query q(s.lookup);
  q.bind(1, key);
  if (!q.next()) return atom("undefined");
  return tuple(atom("ok"), decode_stored(q.blob(0)));
}

term list_page(read_statements& s, const list_op& op, const store_options& o) {
  // Keys sort by (kind, name); a page is the range [low, high) of that order.
  std::int64_t low_kind = 0, high_kind = static_cast<std::int64_t>(key_kind::other) + 1;
  std::string low, high;
  if (!op.where.all) {
    low_kind = static_cast<std::int64_t>(op.where.start.kind);
    low = op.where.start.text;
    if (auto next = successor(low)) {
      high_kind = low_kind;
      high = std::move(*next);
    } else {
      high_kind = low_kind + 1;
    }
  }
  if (op.after) {
    auto after = name_of(*op.after, etf::encode(*op.after));
    after.text.push_back('\0');  // the least name above the continuation key's
    const auto kind = static_cast<std::int64_t>(after.kind);
    if (std::tie(kind, after.text) > std::tie(low_kind, low)) {
      low_kind = kind;
      low = std::move(after.text);
    }
  }
  const std::size_t limit = op.limit == 0 ? o.max_page : std::min(op.limit, o.max_page);
  sqlite::query q(s.range);
  q.bind(1, low_kind)
      .bind(2, low)
      .bind(3, high_kind)
      .bind(4, high)
      .bind(5, static_cast<std::int64_t>(limit + 1));
  std::vector<term> items;
  std::size_t size = 0;
  bool more = false;
  term last;
  while (q.next()) {
    const auto key = q.blob(0), value = q.blob(1);
    if (items.size() == limit ||
        (!items.empty() && size + key.size() + value.size() > o.max_page_bytes)) {
      more = true;
      break;
    }
    size += key.size() + value.size();
    last = decode_stored(key);
    items.push_back(tuple(last, decode_stored(value)));
  }
  term next = more ? term(tuple(atom("more"), std::move(last))) : term(atom("done"));
  return tuple(atom("ok"), list(std::move(items)), std::move(next));
}

term answer_read(read_statements& s, const operation& op, const store_options& o) {
  try {
    if (const auto* l = std::get_if<lookup_op>(&op)) return lookup(s, *l);
    return list_page(s, std::get<list_op>(op), o);
  } catch (const std::exception& e) {  // sqlite::error or corrupt_data; nothing was written
    return storage_error(e.what());
  }
}

// A read-only connection for store::read.
const sqlite::connection& patient(sqlite::connection& db) {
  db.exec("PRAGMA busy_timeout = 5000");  // a checkpoint may hold the WAL index for a moment
  return db;
}

struct reader {
  explicit reader(const std::filesystem::path& file)
      : db(file, sqlite::connection::mode::read_only), statements(patient(db)) {}
  sqlite::connection db;
  read_statements statements;
};

// What the writer needs besides the reads.
struct write_statements {
  explicit write_statements(const sqlite::connection& db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        upsert(db,
               "INSERT OR REPLACE INTO kv (key, kind, name, value, owner, lease, revision) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        remove(db, "DELETE FROM kv WHERE key = ?1"),
        exists(db, "SELECT 1 FROM kv WHERE key = ?1"),
        count(db, "SELECT count(*) FROM kv"),
        add_event(db, "INSERT INTO events (revision, key, value) VALUES (?1, ?2, ?3)"),
        replay(db,
               "SELECT revision, key, value FROM events WHERE revision >= ?1 ORDER BY revision"),
        compact(db, "DELETE FROM events WHERE revision <= ?1"),
        owned_by(db, "SELECT key FROM kv WHERE owner = ?1 AND owner <> 0 ORDER BY kind, name"),
        owned(db, "SELECT key FROM kv WHERE owner <> 0 ORDER BY kind, name"),
        leased_by(db, "SELECT key FROM kv WHERE lease = ?1 AND lease <> 0 ORDER BY kind, name"),
        lease_ttl(db, "SELECT ttl_ms FROM leases WHERE id = ?1"),
        add_lease(db, "INSERT INTO leases (ttl_ms) VALUES (?1)"),
        drop_lease(db, "DELETE FROM leases WHERE id = ?1"),
        leases(db, "SELECT id, ttl_ms FROM leases"),
        get_meta(db, "SELECT value FROM meta WHERE name = ?1"),
        set_meta(db, "UPDATE meta SET value = ?2 WHERE name = ?1") {}
  sqlite::statement begin, commit, rollback, upsert, remove, exists, count, add_event, replay,
      compact, owned_by, owned, leased_by, lease_ttl, add_lease, drop_lease, leases, get_meta,
      set_meta;
};

}  // namespace

class store::engine {
 public:
  explicit engine(store_options o)
      : options_(std::move(o)),
        lock_(lock_file(options_.file)),
        db_(open_kvs_file(options_.file)),
        writes_(*db_),
        reads_(*db_) {
    recover();
    writer_ = std::thread([this] { run_writer(); });
  }

  ~engine() {
    stop();
    // Readers, then the writer's connection (which checkpoints the WAL), then the lock.
    idle_readers_.clear();
  }

  void submit(operation op, completion done) {
    {
      std::lock_guard lock(queue_mutex_);
      if (!stopping_) {
        queue_.push_back({std::move(op), std::move(done)});
        queued_max_ = std::max<std::uint64_t>(queued_max_, queue_.size());
        queue_changed_.notify_one();
        return;
      }
    }
    if (done) done(error_reply(atom("stopped")));
  }

  std::optional<term> read(const operation& op) {
    if (!std::holds_alternative<lookup_op>(op) && !std::holds_alternative<list_op>(op))
      return std::nullopt;
    if (options_.file.empty()) return std::nullopt;  // an in-memory database has one connection
    std::unique_ptr<reader> r;
    {
      std::lock_guard lock(readers_mutex_);
      if (!idle_readers_.empty()) {
        r = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      } else if (readers_open_ >= options_.readers) {
        return std::nullopt;  // all busy: the writer answers it
      } else {
        ++readers_open_;
      }
    }
    if (!r) {
      try {
        r = std::make_unique<reader>(options_.file);
      } catch (const sqlite::error&) {
        std::lock_guard lock(readers_mutex_);
        --readers_open_;
        return std::nullopt;
      }
    }
    term reply = answer_read(r->statements, op, options_);
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(std::move(r));
    return reply;
  }

  void stop() {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
      queue_changed_.notify_one();
    }
    if (writer_.joinable()) writer_.join();
  }

  const store_options& options() const { return options_; }
  store_stats stats() {
    store_stats s;
    s.revision = committed_revision_.load();
    s.transactions = transactions_.load();
    s.requests = requests_.load();
    s.largest_batch = largest_batch_.load();
    s.failed_transactions = failed_transactions_.load();
    s.keys = committed_keys_.load();
    s.watchers = watcher_count_.load();
    s.leases = lease_count_.load();
    std::lock_guard lock(queue_mutex_);
    s.queued = queue_.size();
    s.queued_max = queued_max_;
    return s;
  }

 private:
  struct request {
    operation op;
    completion done;
  };
  struct event {
    std::int64_t revision;
    key_name name;
    term push;
  };
  struct watch_entry {
    std::uint64_t owner;
    prefix where;
    std::int64_t after;  // deliver revisions above this one
    std::weak_ptr<watcher> sink;
  };
  // One transaction's work: its events, and what happens in memory once it commits.
  struct batch_state {
    std::vector<event> events;
    std::vector<std::function<void()>> effects;
    std::optional<std::vector<watch_entry>> watchers_before;  // restored if the batch fails
    std::int64_t keys_added = 0;                              // minus those deleted
  };
  struct outcome {
    outcome() = default;
    outcome(term r)
        : reply(std::move(r)) {}  // NOLINT: implicit, so that `return {atom("ok")};` reads
    outcome(term r, std::shared_ptr<watcher> s) : reply(std::move(r)), sink(std::move(s)) {}
    term reply;
    std::shared_ptr<watcher> sink;  // a new watch, and its replay
    std::vector<term> replay;
  };

  static file_lock lock_file(const std::filesystem::path& file) {
    if (file.empty()) return {};
    make_parent_directories(file);
    return file_lock(file);
  }

  // Startup: the counters, the leases' clocks, and no ephemeral key survives its channel.
  void recover() {
    revision_ = meta("revision");
    compacted_ = meta("compacted");
    {
      sqlite::query q(writes_.count);  // once: commits keep the count after this
      q.next();
      keys_ = q.int64(0);
    }
    {
      sqlite::query q(writes_.leases);
      const auto now = lease_clock::now();
      while (q.next()) set_deadline(q.int64(0), now + std::chrono::milliseconds(q.int64(1)));
    }
    std::vector<request> none;
    const auto failure =
        run_batch(none, [&](batch_state& b) { delete_keys(writes_.owned, std::nullopt, b); });
    if (!failure.empty()) {
      throw store_error(options_.file.string() +
                        ": cannot delete the ephemeral keys of the last run: " + failure);
    }
  }

  std::int64_t meta(const char* name) {
    sqlite::query q(writes_.get_meta);
    q.bind_text(1, name);
    if (!q.next()) throw store_error(options_.file.string() + ": the meta table has no " + name);
    return q.int64(0);
  }

  void run_writer() {
    for (;;) {
      std::vector<request> batch;
      {
        std::unique_lock lock(queue_mutex_);
        const auto ready = [&] { return !queue_.empty() || stopping_; };
        if (expiry_order_.empty()) {
          queue_changed_.wait(lock, ready);
        } else {
          queue_changed_.wait_until(lock, expiry_order_.begin()->first, ready);
        }
        if (queue_.empty() && stopping_) return;
        const std::size_t n = std::min(queue_.size(), options_.max_batch);
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (!run_batch(batch, [&](batch_state& b) { expire_leases(b); }).empty()) {
        // The disk refuses writes: do not spin on it; requests keep queueing meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  // Applies `first`, then the batch, in one transaction; answers after the
  // commit. Empty when it committed, else what went wrong.
  template <class F>
  std::string run_batch(std::vector<request>& batch, F&& first) {
    batch_state b;
    std::vector<outcome> outcomes(batch.size());
    const std::int64_t revision_before = revision_, compacted_before = compacted_;
    std::string failure;
    try {
      sqlite::query(writes_.begin).run();
      first(b);
      for (std::size_t i = 0; i < batch.size(); ++i) outcomes[i] = apply(batch[i].op, b);
      if (revision_ != revision_before) compact();
      sqlite::query(writes_.commit).run();
    } catch (const std::exception& e) {
      failure = *e.what() ? e.what() : "unknown error";
      if (!sqlite3_get_autocommit(db_->get())) {
        try {
          sqlite::query(writes_.rollback).run();
        } catch (const sqlite::error&) {
          // SQLite rolled back on its own.
        }
      }
    }
    if (!failure.empty()) {
      revision_ = revision_before;
      compacted_ = compacted_before;
      if (b.watchers_before) watchers_ = std::move(*b.watchers_before);
      failed_transactions_++;
      const term reply = storage_error(failure);
      for (auto& r : batch) {
        if (r.done) r.done(reply);
      }
      return failure;
    }
    committed_revision_.store(revision_);
    keys_ += b.keys_added;
    committed_keys_.store(static_cast<std::uint64_t>(keys_));
    transactions_++;
    requests_ += batch.size();
    if (batch.size() > largest_batch_.load()) largest_batch_.store(batch.size());
    for (auto& effect : b.effects) effect();
    // Counted before anyone hears of the commit.
    watcher_count_.store(watchers_.size());
    lease_count_.store(lease_deadlines_.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(std::move(outcomes[i].reply));
      if (outcomes[i].sink && !outcomes[i].replay.empty())
        outcomes[i].sink->deliver(std::move(outcomes[i].replay));
    }
    deliver(b.events);
    return {};
  }

  outcome apply(operation& op, batch_state& b) {
    try {
      return std::visit([&](auto& o) { return apply_one(o, b); }, op);
    } catch (const corrupt_data& e) {  // raised before the request wrote anything
      return {storage_error(e.what())};
    }
  }

  outcome apply_one(put_op& p, batch_state& b) {
    if (p.bind.lease != 0 && !lease_ttl(p.bind.lease)) return {no_lease(p.bind.lease)};
    record_put(p.key, p.value, p.bind, b);
    return {atom("ok")};
  }

  outcome apply_one(delete_op& d, batch_state& b) {
    record_delete(d.key, etf::encode(d.key), b);
    return {atom("ok")};
  }

  outcome apply_one(cas_op& c, batch_state& b) {
    const bytes key = etf::encode(c.key);
    std::optional<bytes> current;
    {
      sqlite::query q(reads_.lookup);
      q.bind(1, key);
      if (q.next()) current.emplace(q.blob(0).begin(), q.blob(0).end());
    }
    // `undefined` stands for "absent" on both sides, so a conflict's Current
    // can be handed back as the next Expected.
    const bool matches =
        current ? *current == etf::encode(c.expected) : c.expected.is_atom("undefined");
    if (!matches) {
      term now = current ? decode_stored(*current) : term(atom("undefined"));
      return {error_reply(tuple(atom("conflict"), std::move(now)))};
    }
    if (c.value.is_atom("undefined")) {
      record_delete(c.key, key, b);
    } else {
      if (c.bind.lease != 0 && !lease_ttl(c.bind.lease)) return {no_lease(c.bind.lease)};
      record_put(c.key, c.value, c.bind, b);
    }
    return {atom("ok")};
  }

  outcome apply_one(lookup_op& l, batch_state&) { return {lookup(reads_, l)}; }
  outcome apply_one(list_op& l, batch_state&) { return {list_page(reads_, l, options_)}; }

  outcome apply_one(watch_op& w, batch_state& b) {
    for (const auto& e : watchers_) {
      if (e.owner == w.owner) return {error_reply(atom("already_watching"))};
    }
    const std::int64_t from = std::max<std::int64_t>(w.from.value_or(revision_ + 1), 1);
    if (from <= compacted_) return {error_reply(tuple(atom("compacted"), compacted_ + 1))};
    auto sink = w.sink.lock();
    if (!sink) return {tuple(atom("ok"), revision_)};  // the channel is gone already
    outcome out{tuple(atom("ok"), revision_), sink};
    if (from <= revision_) {
      sqlite::query q(writes_.replay);
      q.bind(1, from);
      while (q.next()) {
        const auto key_bytes = q.blob(1);
        term key = decode_stored(key_bytes);
        if (!w.where.matches(name_of(key, bytes(key_bytes.begin(), key_bytes.end())))) continue;
        out.replay.push_back(
            q.is_null(2) ? event_term(q.int64(0), std::move(key))
                         : event_term(q.int64(0), std::move(key), decode_stored(q.blob(2))));
      }
    }
    change_watchers(b).push_back({w.owner, w.where, std::max(revision_, from - 1), w.sink});
    return out;
  }

  outcome apply_one(unwatch_op& u, batch_state& b) {
    drop_watch(u.owner, b);
    return {atom("ok")};
  }

  outcome apply_one(release_op& r, batch_state& b) {
    drop_watch(r.owner, b);
    delete_keys(writes_.owned_by, static_cast<std::int64_t>(r.owner), b);
    return {atom("ok")};
  }

  outcome apply_one(lease_grant_op& g, batch_state& b) {
    if (g.ttl.count() < 1 || g.ttl > options_.max_ttl) {
      return {error_reply(
          tuple(atom("badarg"), binary::from("lease_grant: the TTL must be 1 to " +
                                             std::to_string(options_.max_ttl.count()) + " ms")))};
    }
    sqlite::query(writes_.add_lease).bind(1, static_cast<std::int64_t>(g.ttl.count())).run();
    const std::int64_t id = db_->last_insert_rowid();
    b.effects.push_back([this, id, ttl = g.ttl] { set_deadline(id, lease_clock::now() + ttl); });
    return {tuple(atom("ok"), id)};
  }

  outcome apply_one(lease_keepalive_op& k, batch_state& b) {
    const auto ttl = lease_ttl(k.id);
    if (!ttl) return {no_lease(k.id)};
    b.effects.push_back(
        [this, id = k.id, ttl = *ttl] { set_deadline(id, lease_clock::now() + ttl); });
    return {atom("ok")};
  }

  outcome apply_one(lease_revoke_op& r, batch_state& b) {
    if (!lease_ttl(r.id)) return {no_lease(r.id)};
    end_lease(r.id, b);
    return {atom("ok")};
  }

  static term event_term(std::int64_t revision, term key, term value) {
    return tuple(atom("kvs"), revision, atom("put"), std::move(key), std::move(value));
  }
  static term event_term(std::int64_t revision, term key) {
    return tuple(atom("kvs"), revision, atom("delete"), std::move(key));
  }

  void record_put(const term& key, const term& value, const binding& bind, batch_state& b) {
    const bytes k = etf::encode(key), v = etf::encode(value);
    auto name = name_of(key, k);
    if (!sqlite::query(writes_.exists).bind(1, k).next()) ++b.keys_added;
    ++revision_;
    sqlite::query(writes_.upsert)
        .bind(1, k)
        .bind(2, static_cast<std::int64_t>(name.kind))
        .bind(3, name.text)
        .bind(4, v)
        .bind(5, static_cast<std::int64_t>(bind.owner))
        .bind(6, bind.lease)
        .bind(7, revision_)
        .run();
    sqlite::query(writes_.add_event).bind(1, revision_).bind(2, k).bind(3, v).run();
    b.events.push_back({revision_, std::move(name), event_term(revision_, key, value)});
  }

  // Deletes `key` if present; a change (and an event) only when it was.
  void record_delete(const term& key, const bytes& k, batch_state& b) {
    sqlite::query(writes_.remove).bind(1, k).run();
    if (sqlite3_changes(db_->get()) == 0) return;
    --b.keys_added;
    ++revision_;
    sqlite::query(writes_.add_event).bind(1, revision_).bind(2, k).bind_null(3).run();
    b.events.push_back({revision_, name_of(key, k), event_term(revision_, key)});
  }

  // Deletes the keys `select` returns (bound to `param`), each with its event.
  void delete_keys(sqlite::statement& select, std::optional<std::int64_t> param, batch_state& b) {
    std::vector<std::pair<term, bytes>> keys;
    {
      sqlite::query q(select);
      if (param) q.bind(1, *param);
      while (q.next()) {
        const auto k = q.blob(0);
        keys.emplace_back(decode_stored(k),
                          bytes(k.begin(), k.end()));  // all decoded before anything is deleted
      }
    }
    for (const auto& [key, k] : keys) record_delete(key, k, b);
  }

  std::optional<std::chrono::milliseconds> lease_ttl(std::int64_t id) {
    sqlite::query q(writes_.lease_ttl);
    q.bind(1, id);
    if (!q.next()) return std::nullopt;
    return std::chrono::milliseconds(q.int64(0));
  }

  void end_lease(std::int64_t id, batch_state& b) {
    delete_keys(writes_.leased_by, id, b);
    sqlite::query(writes_.drop_lease).bind(1, id).run();
    b.effects.push_back([this, id] { clear_deadline(id); });
  }

  void expire_leases(batch_state& b) {
    const auto now = lease_clock::now();
    for (const auto& [deadline, id] : expiry_order_) {
      if (deadline > now) break;
      end_lease(id, b);
    }
  }

  void set_deadline(std::int64_t id, lease_clock::time_point deadline) {
    clear_deadline(id);
    lease_deadlines_[id] = deadline;
    expiry_order_.emplace(deadline, id);
  }

  void clear_deadline(std::int64_t id) {
    const auto it = lease_deadlines_.find(id);
    if (it == lease_deadlines_.end()) return;
    expiry_order_.erase({it->second, id});
    lease_deadlines_.erase(it);
  }

  // Keeps at most `history` revisions of events; watchers from before them
  // get {error, {compacted, Oldest}}.
  void compact() {
    const auto history = static_cast<std::int64_t>(
        std::min<std::uint64_t>(options_.history, std::numeric_limits<std::int64_t>::max()));
    if (revision_ - compacted_ > history) {
      compacted_ = revision_ - history;
      sqlite::query(writes_.compact).bind(1, compacted_).run();
    }
    sqlite::query(writes_.set_meta).bind_text(1, "revision").bind(2, revision_).run();
    sqlite::query(writes_.set_meta).bind_text(1, "compacted").bind(2, compacted_).run();
  }

  std::vector<watch_entry>& change_watchers(batch_state& b) {
    if (!b.watchers_before) b.watchers_before = watchers_;
    return watchers_;
  }

  void drop_watch(std::uint64_t owner, batch_state& b) {
    auto& w = change_watchers(b);
    std::erase_if(w, [&](const watch_entry& e) { return e.owner == owner; });
  }

  void deliver(const std::vector<event>& events) {
    if (events.empty()) return;
    std::erase_if(watchers_, [](const watch_entry& e) { return e.sink.expired(); });
    for (auto& w : watchers_) {
      std::vector<term> mine;
      for (const auto& e : events) {
        if (e.revision > w.after && w.where.matches(e.name)) mine.push_back(e.push);
      }
      if (mine.empty()) continue;
      if (auto sink = w.sink.lock()) sink->deliver(std::move(mine));
    }
  }

  const store_options options_;
  file_lock lock_;  // before the connections, so it is released after they close
  std::unique_ptr<sqlite::connection> db_;
  write_statements writes_;
  read_statements reads_;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<reader>> idle_readers_;
  std::size_t readers_open_ = 0;

  // The writer thread's (and, before it starts, the constructor's).
  std::int64_t revision_ = 0;
  std::int64_t compacted_ = 0;
  std::int64_t keys_ = 0;
  std::map<std::int64_t, lease_clock::time_point> lease_deadlines_;
  std::set<std::pair<lease_clock::time_point, std::int64_t>> expiry_order_;
  std::vector<watch_entry> watchers_;

  std::atomic<std::int64_t> committed_revision_{0};
  std::atomic<std::uint64_t> committed_keys_{0}, watcher_count_{0}, lease_count_{0};
  std::atomic<std::uint64_t> transactions_{0}, requests_{0}, largest_batch_{0},
      failed_transactions_{0};
  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<request> queue_;
  bool stopping_ = false;
  std::uint64_t queued_max_ = 0;  // under queue_mutex_
  std::thread writer_;
};

store::store(store_options options) {
  const auto file = options.file;
  try {
    engine_ = std::make_unique<engine>(std::move(options));
  } catch (const store_error&) {
    throw;
  } catch (const std::exception& e) {
    throw store_error((file.empty() ? std::string("in-memory store") : file.string()) + ": " +
                      e.what());
  }
}

store::~store() = default;

void store::submit(operation op, completion done) {
  engine_->submit(std::move(op), std::move(done));
}
std::optional<term> store::read(const operation& op) {
  return engine_->read(op);
}
void store::stop() {
  engine_->stop();
}
const store_options& store::options() const {
  return engine_->options();
}
store_stats store::stats() const {
  return engine_->stats();
}

}  // namespace capchan::services::kvs
