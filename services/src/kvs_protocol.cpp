// See kvs_protocol.hpp; the terms are specified in docs/kvs.md.
#include "kvs_protocol.hpp"

#include <string>

namespace capchan::services::kvs {
namespace {

// A malformed request: the reply says which request and what was expected.
struct bad_request {
  std::string text;
};

term badarg(const std::string& text) {
  return tuple(atom("error"), tuple(atom("badarg"), binary::from(text)));
}

std::int64_t positive(const term& t, const char* what) {
  const auto* n = t.as_int64();
  if (!n || *n < 1) throw bad_request{std::string(what) + " must be a positive integer"};
  return *n;
}

prefix parse_prefix(const term& t, const char* request) {
  prefix p;
  if (t.is_atom("_")) return p;
  p.all = false;
  if (const auto* a = t.as_atom()) {
    p.start = {key_kind::atom, a->name};
  } else if (const auto* b = t.as_binary()) {
    p.start = {key_kind::binary, std::string(b->view())};
  } else if (auto text = t.as_charlist()) {
    p.start = {key_kind::string, std::move(*text)};
  } else {
    throw bad_request{std::string(request) +
                      ": the prefix must be an atom, a string, a binary, or '_' for every key"};
  }
  return p;
}

// #{ephemeral => true} or #{lease => Id} (or #{}).
binding parse_binding(const term& t, std::uint64_t channel, const char* request) {
  const std::string usage =
      std::string(request) + ": options are a map: #{ephemeral => true} or #{lease => Id}";
  const auto* m = t.as_map();
  if (!m) throw bad_request{usage};
  binding b;
  for (const auto& [key, value] : m->entries()) {
    if (key.is_atom("ephemeral")) {
      if (!value.is_atom("true") && !value.is_atom("false")) throw bad_request{usage};
      b.owner = value.is_atom("true") ? channel : 0;
    } else if (key.is_atom("lease")) {
      b.lease = positive(value, "lease");
    } else {
      throw bad_request{usage};
    }
  }
  if (b.owner != 0 && b.lease != 0) {
    throw bad_request{std::string(request) + ": a key is either ephemeral or leased, not both"};
  }
  return b;
}

list_op parse_list(const std::vector<term>& e) {
  list_op op;
  op.where = parse_prefix(e[1], "list");
  if (e.size() == 3) {
    const auto* m = e[2].as_map();
    if (!m) throw bad_request{"list: options are a map: #{limit => N, after => Key}"};
    for (const auto& [key, value] : m->entries()) {
      if (key.is_atom("limit")) {
        op.limit = static_cast<std::size_t>(positive(value, "list: limit"));
      } else if (key.is_atom("after")) {
        op.after = value;
      } else {
        throw bad_request{"list: options are a map: #{limit => N, after => Key}"};
      }
    }
  }
  return op;
}

watch_op parse_watch(const std::vector<term>& e, std::uint64_t channel) {
  watch_op op;
  op.where = parse_prefix(e[1], "watch");
  op.owner = channel;
  if (e.size() == 3) {
    const auto* from = e[2].as_int64();
    if (!from || *from < 0)
      throw bad_request{"watch: the revision to start from must be an integer >= 0"};
    op.from = *from;
  }
  return op;
}

// nullopt: not a kvs request at all.
std::optional<operation> parse(const term& msg, std::uint64_t channel) {
  if (msg.is_atom("unwatch")) return unwatch_op{channel};
  const auto* t = msg.as_tuple();
  if (!t || t->elements.empty()) return std::nullopt;
  const auto& e = t->elements;
  const auto* tag = e[0].as_atom();
  if (!tag) return std::nullopt;
  const std::string& name = tag->name;
  const std::size_t n = e.size();
  const auto arity = [&](std::size_t low, std::size_t high, const char* usage) {
    if (n < low || n > high) throw bad_request{name + ": expected " + usage};
  };
  if (name == "store") {
    arity(3, 3, "{store, Key, Value}");
    return put_op{e[1], e[2], {}};
  }
  if (name == "put") {
    arity(3, 4, "{put, Key, Value} or {put, Key, Value, Options}");
    return put_op{e[1], e[2], n == 4 ? parse_binding(e[3], channel, "put") : binding{}};
  }
  if (name == "delete") {
    arity(2, 2, "{delete, Key}");
    return delete_op{e[1]};
  }
  if (name == "lookup") {
    arity(2, 2, "{lookup, Key}");
    return lookup_op{e[1]};
  }
  if (name == "cas") {
    arity(4, 5, "{cas, Key, Expected, New} or {cas, Key, Expected, New, Options}");
    return cas_op{e[1], e[2], e[3], n == 5 ? parse_binding(e[4], channel, "cas") : binding{}};
  }
  if (name == "list") {
    arity(2, 3, "{list, Prefix} or {list, Prefix, #{limit => N, after => Key}}");
    return parse_list(e);
  }
  if (name == "watch") {
    arity(2, 3, "{watch, Prefix} or {watch, Prefix, FromRevision}");
    return parse_watch(e, channel);
  }
  if (name == "lease_grant") {
    arity(2, 2, "{lease_grant, TtlMilliseconds}");
    return lease_grant_op{
        std::chrono::milliseconds(positive(e[1], "lease_grant: the TTL (milliseconds)"))};
  }
  if (name == "lease_keepalive") {
    arity(2, 2, "{lease_keepalive, LeaseId}");
    return lease_keepalive_op{positive(e[1], "lease_keepalive: the lease id")};
  }
  if (name == "lease_revoke") {
    arity(2, 2, "{lease_revoke, LeaseId}");
    return lease_revoke_op{positive(e[1], "lease_revoke: the lease id")};
  }
  return std::nullopt;
}

}  // namespace

std::variant<operation, term> parse_call(const term& msg, std::uint64_t channel) {
  using reply = std::variant<operation, term>;
  try {
    if (auto op = parse(msg, channel)) return reply(std::in_place_index<0>, std::move(*op));
    return reply(std::in_place_index<1>, tuple(atom("error"), tuple(atom("unknown_request"), msg)));
  } catch (const bad_request& e) {
    return reply(std::in_place_index<1>, badarg(e.text));
  }
}

term stats_reply(const store_stats& s, std::uint64_t failed_casts) {
  return tuple(atom("ok"), map{{atom("revision"), s.revision},
                               {atom("transactions"), s.transactions},
                               {atom("requests"), s.requests},
                               {atom("largest_batch"), s.largest_batch},
                               {atom("queued"), s.queued},
                               {atom("queued_max"), s.queued_max},
                               {atom("failed_transactions"), s.failed_transactions},
                               {atom("failed_casts"), failed_casts},
                               {atom("keys"), s.keys},
                               {atom("watchers"), s.watchers},
                               {atom("leases"), s.leases}});
}

std::optional<operation> parse_cast(const term& msg, std::uint64_t channel) {
  try {
    auto op = parse(msg, channel);
    if (op && (std::holds_alternative<put_op>(*op) || std::holds_alternative<delete_op>(*op)))
      return op;
  } catch (const bad_request&) {
    // A malformed cast is dropped like an unknown one: there is no one to tell.
  }
  return std::nullopt;
}

}  // namespace capchan::services::kvs
