// The `capchan` CLI's exit codes (DESIGN.md §6), one place for every command.
#pragma once

namespace capchan::cli {

inline constexpr int exit_ok = 0;
// The service answered with a failure: `{fail, Id, Reason}`, or it crashed
// the channel ({handler_error, Text}).
inline constexpr int exit_remote = 1;
// Bad flags, an unparsable term, no password source.
inline constexpr int exit_usage = 2;
// Unknown service or wrong password (the server does not say which).
inline constexpr int exit_auth = 3;
// No channel: refused, server key mismatch, timeout, the connection lost.
inline constexpr int exit_connection = 4;
// `capchan kvs get`: the key is not in the store (docs/cli.md "kvs").
inline constexpr int exit_not_found = 5;

}  // namespace capchan::cli
