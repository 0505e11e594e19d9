// The services capchan ships (DESIGN.md §1: services use only the handler API
// that server/ exports). The apps register them by handler name:
//   echo  replies to every call with its message, pushes every cast back, and
//         for {push, N, T} pushes N copies of T, fails a call {fail, R} with R,
//         answers the call `args` with {args, ArgsC, ArgsS} (tests, benchmarks)
//   kvs   the name server (docs/kvs.md): the book's {store, K, V} (cast) and
//         {lookup, K} -> {ok, V} | undefined, plus put/delete/list/cas/watch,
//         ephemeral keys and leases; durable in SQLite when args has a path
#pragma once

#include "capchan/server/service_registry.hpp"

namespace capchan::services {

// Adds "echo" and "kvs" to the registry.
void register_builtin(server::service_registry& registry);

}  // namespace capchan::services
