// The services capchan ships (DESIGN.md §1: services use only the handler API
// that server/ exports). The apps register them by handler name:
//   echo  replies to every call with its message, pushes every cast back, and
//         for {push, N, T} pushes N copies of T (tests and benchmarks)
//   kvs   the book's name server: {store, K, V} (cast), {lookup, K} -> {ok, V} | undefined
#pragma once

#include "capchan/server/service_registry.hpp"

namespace capchan::services {

// Adds "echo" and "kvs" to the registry.
void register_builtin(server::service_registry& registry);

}  // namespace capchan::services
