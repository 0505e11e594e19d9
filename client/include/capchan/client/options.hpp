// How a client connects (DESIGN.md §3, §5): which server key to trust, where
// notes go, the limits and deadlines of one channel. The defaults suit the
// CLI; tests shorten the deadlines and point known_hosts at a temp file.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace capchan::client {

class password_cache;

// An rpc or receive without a deadline.
inline constexpr std::chrono::milliseconds no_timeout = std::chrono::milliseconds::max();

// Not an aggregate on purpose: GCC 12 destroys a brace-initialised aggregate
// argument of a coroutine twice when the call sits in a co_await expression
// (`co_await connect(..., connect_options{...})`, or a `= {}` default). Set
// the fields one by one:
//
//   client::connect_options options;
//   options.key = url.key;
struct connect_options {
  connect_options() = default;

  // The server's expected fingerprint, "SHA256:..." (--key, ?key=). When set
  // it must match and known_hosts is neither read nor written.
  std::string key;
  // known_hosts file; empty: known_hosts::default_path().
  std::filesystem::path known_hosts;
  // Where the trust-on-first-use note goes (one call, several lines);
  // empty: standard error. Tests capture it here.
  std::function<void(std::string_view)> note;
  // SaltedPassword cache shared between connections; null: none (every
  // connect runs argon2id).
  std::shared_ptr<password_cache> passwords;

  // Largest WebSocket message accepted after `welcome` (ciphertext and tag,
  // DESIGN.md §3), and largest one sent: keep it equal to the server's
  // [limits] max_message. Before `welcome` the limit is 4 KiB, always.
  std::size_t max_message = 1u << 20;
  // From TCP connect to `welcome`: resolve excepted, argon2id included.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  // After sending {close, normal}: how long to wait for the server's
  // WebSocket close before dropping the TCP connection.
  std::chrono::milliseconds close_timeout = std::chrono::seconds(5);
  // With no bytes from the server for this long (the server pings every
  // idle_timeout/2 of its own), the channel ends with reason `timeout`.
  // no_timeout (the default) leaves dead-peer detection to the server and to
  // rpc timeouts. The client also pings at half of it.
  std::chrono::milliseconds idle_timeout = no_timeout;

  // Pushes received and not yet taken by receive(). When full, the channel
  // stops reading the socket (so replies wait too) until receive() runs.
  std::size_t max_pushes = 1024;
  // Bytes of frames queued for sending. When full, cast/rpc wait for room.
  std::size_t max_outbox = 8u << 20;
};

}  // namespace capchan::client
