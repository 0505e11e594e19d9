// The kvs name server's storage (DESIGN.md §7, docs/kvs.md): one SQLite file
// per [[service]] entry, shared by all its channels.
//
// Durability: WAL with synchronous=FULL. Every change goes through a single
// writer thread that takes whatever requests are queued (up to max_batch),
// applies them in queue order in one transaction, commits, and only then
// answers them (group commit): an acknowledged write survives a crash.
// Keys and values are stored as their deterministic ETF bytes; every change
// takes the next global revision and leaves an event (kept for `history`
// revisions) that watchers replay and follow.
//
// Reads: lookups and list pages are answered either by the writer, in queue
// order (read-your-writes for a channel with writes in flight), or by
// store::read on the calling thread through a small pool of read-only
// connections, which see the last committed state. Both are short indexed
// queries; the service uses the pool only when the channel has nothing in
// flight.
//
// Thread rules: submit() and read() may be called from any thread. Request
// completions and watcher deliveries run on the writer thread, after the
// commit, and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "capchan/core/term.hpp"

namespace capchan::services::kvs {

// Raised when the store cannot open; the message starts with the file name.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct store_options {
  std::filesystem::path file;      // empty: a private in-memory database (lost at stop)
  std::uint64_t history = 10'000;  // events kept for watch replay
  std::size_t max_batch = 1024;    // requests per transaction
  std::size_t max_page = 1000;     // list items per page
  std::size_t max_page_bytes = 512u
                               << 10;  // ETF bytes of keys and values per page (at least one item)
  std::chrono::milliseconds max_ttl{std::chrono::hours(24)};  // longest lease
  std::size_t readers = 4;  // read-only connections for store::read
};

// How list and watch select keys: every key ('_'), or the atom, string
// (charlist) or binary keys whose text starts with `text`.
enum class key_kind : std::int64_t { atom = 0, string = 1, binary = 2, other = 3 };
struct key_name {
  key_kind kind = key_kind::other;
  std::string text;  // UTF-8 of an atom or string, a binary's bytes, else the key's ETF bytes
};
struct prefix {
  bool all = true;
  key_name start;  // kind and leading text when !all
  bool matches(const key_name& k) const;
};
// `etf` is etf::encode(key).
key_name name_of(const term& key, const std::vector<std::uint8_t>& etf);

// What ties a key to a life shorter than the store's: the channel that wrote
// it (ephemeral) or a lease. Zero means none.
struct binding {
  std::uint64_t owner = 0;
  std::int64_t lease = 0;
};

// Receives watch events: {kvs, Rev, put, K, V} and {kvs, Rev, delete, K}.
class watcher {
 public:
  virtual ~watcher() = default;
  // Called on the writer thread, in revision order, each event once.
  virtual void deliver(std::vector<term> events) = 0;
};

struct put_op {
  term key;
  term value;
  binding bind;
};
struct delete_op {
  term key;
};
struct cas_op {
  term key;
  term expected;  // `undefined`: the key must be absent
  term value;     // `undefined`: delete the key
  binding bind;
};
struct lookup_op {
  term key;
};
struct list_op {
  prefix where;
  std::optional<term> after;  // start after this key
  std::size_t limit = 0;      // 0: max_page
};
struct watch_op {
  prefix where;
  std::optional<std::int64_t> from;  // first revision to deliver; none: only what comes next
  std::uint64_t owner = 0;           // one watch per channel
  std::weak_ptr<watcher> sink;
};
struct unwatch_op {
  std::uint64_t owner = 0;
};
struct lease_grant_op {
  std::chrono::milliseconds ttl{0};
};
struct lease_keepalive_op {
  std::int64_t id = 0;
};
struct lease_revoke_op {
  std::int64_t id = 0;
};
// A channel has ended: delete its ephemeral keys, end its watch.
struct release_op {
  std::uint64_t owner = 0;
};
using operation = std::variant<put_op, delete_op, cas_op, lookup_op, list_op, watch_op, unwatch_op,
                               lease_grant_op, lease_keepalive_op, lease_revoke_op, release_op>;

// What the store has done since it opened (the `stats` request).
struct store_stats {
  std::int64_t revision = 0;              // the last committed revision
  std::uint64_t transactions = 0;         // committed by the writer
  std::uint64_t requests = 0;             // answered by the writer
  std::uint64_t largest_batch = 0;        // requests in one transaction, at most max_batch
  std::uint64_t queued = 0;               // requests waiting for the writer now
  std::uint64_t queued_max = 0;           // the most that ever waited at once
  std::uint64_t failed_transactions = 0;  // rolled back: their requests got {error, {storage, _}}
  std::uint64_t keys = 0;                 // in the store, as of the last commit
  std::uint64_t watchers = 0;             // watches running, as of the last commit
  std::uint64_t leases = 0;               // leases granted and not ended, as of the last commit
};

// The answer to one request, given after its transaction committed (or
// failed: {error, {storage, Text}}). May be empty for fire-and-forget.
using completion = std::function<void(term reply)>;

class store {
 public:
  // Opens (creating if missing) and checks the file, removes the ephemeral
  // keys a previous run left, restarts the leases' clocks, and starts the
  // writer. Throws store_error naming the file when it is foreign, corrupt,
  // of another schema version, or in use by another store.
  explicit store(store_options options);
  // stop(), then closes the file.
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // Queues `op` for the writer. After stop(), answers {error, stopped} at once.
  void submit(operation op, completion done);
  // Answers a lookup_op or list_op on the calling thread from the last
  // committed state, if a read connection is free; nullopt otherwise (and
  // always for an in-memory store, or for other operations).
  std::optional<term> read(const operation& op);
  // Finishes the queued requests, then stops the writer. Idempotent.
  void stop();

  const store_options& options() const;
  store_stats stats() const;

 private:
  class engine;
  std::unique_ptr<engine> engine_;
};

}  // namespace capchan::services::kvs
