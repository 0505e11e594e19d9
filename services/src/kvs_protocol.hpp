// The kvs service's request terms (docs/kvs.md "Requests") turned into store
// operations. Parsing checks shapes and types only; the store checks what
// depends on its state or options (leases, TTL bounds, page sizes).
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "capchan/core/term.hpp"
#include "kvs_store.hpp"

namespace capchan::services::kvs {

// A call's operation, or the {error, Reason} reply for a request that is not
// one: {error, {unknown_request, Msg}} or {error, {badarg, Text}}. `channel`
// is the caller's channel id, the owner of its ephemeral keys and watch.
std::variant<operation, term> parse_call(const term& msg, std::uint64_t channel);

// A cast's operation: only writes (store, put, delete) are understood as
// casts; anything else is dropped, as lib_chan drops what it does not know.
std::optional<operation> parse_cast(const term& msg, std::uint64_t channel);

// The reply to `stats`: {ok, #{revision => R, transactions => N, ...}};
// `failed_casts` is the service's count of cast writes that failed.
term stats_reply(const store_stats& s, std::uint64_t failed_casts);

}  // namespace capchan::services::kvs
