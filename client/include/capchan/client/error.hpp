// Errors of the capchan client (DESIGN.md §5): std::error_codes in the
// "capchan.client" category, carried in a `client::error` together with the
// term the server gave (an rpc's fail reason, a channel's close reason) and a
// sentence for a person: what happened and what to do about it.
//
//   auto ch = co_await client::connect(...);
//   if (!ch) {
//     if (ch.error().code == client::errc::auth_failed) ...   // exit 3
//     std::cerr << ch.error().message() << "\n";
//   }
#pragma once

#include <iosfwd>
#include <string>
#include <system_error>

#include <boost/system/result.hpp>

#include "capchan/core/term.hpp"

namespace capchan::client {

enum class errc {
  // TCP connect failed (nothing listening, host unknown, network down) or the
  // peer is not a capchan v1 server (HTTP upgrade refused).
  connection_refused = 1,
  // The server's static key is not the expected one (--key, ?key=, known_hosts).
  server_key_mismatch,
  // Unknown service or wrong password, or a server that could not prove it
  // knows the password (DESIGN.md §3 login).
  auth_failed,
  // The connect/handshake deadline passed, an rpc's timeout passed, or the
  // connection went idle.
  timeout,
  // The channel has ended; error::reason holds the close reason (§5).
  closed,
  // The server broke the wire protocol (DESIGN.md §3).
  protocol_error,
  // An rpc answered `{fail, Id, Reason}`; error::reason holds Reason.
  remote_error,
  // A capchan:// URL that does not parse.
  bad_url,
  // The known_hosts file cannot be read or is malformed.
  known_hosts_error,
  // A message larger than max_message: the server would refuse it.
  message_too_large,
};

const std::error_category& client_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

// What went wrong. Compare `code` with errc values in programs; show
// message() to people.
struct error {
  std::error_code code;
  // The server's term, when there is one: the Reason of `{fail, Id, Reason}`
  // (remote_error) or the channel's close reason (closed). `[]` otherwise.
  term reason;
  // What happened and how to fix it, e.g. which known_hosts line to remove.
  std::string detail;

  error() = default;
  error(std::error_code c, std::string d = {}, term r = term())
      : code(c), reason(std::move(r)), detail(std::move(d)) {}

  // "server key mismatch: <detail>" (the code's message, then the detail,
  // then the reason term in Erlang syntax when there is one and the detail
  // does not already say it).
  std::string message() const;
};

// Lets `result.value()` throw (Boost.System finds it by argument-dependent
// lookup): std::system_error with message().
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

// Streams message() (logs, test failure messages).
std::ostream& operator<<(std::ostream& os, const error& e);

template <class T>
using result = boost::system::result<T, error>;

}  // namespace capchan::client

template <>
struct std::is_error_code_enum<capchan::client::errc> : std::true_type {};
