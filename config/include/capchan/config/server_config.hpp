// The server's TOML config (DESIGN.md §4) as a validated model.
//
// Loading checks everything before the server uses anything: unknown keys
// (a typo must not silently drop a password), wrong types, bad durations and
// sizes, duplicate services, a service with both or neither of `password` and
// `verifier`. Every problem names file, line and key:
//   server.toml:12: service[0].pasword: unknown key
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/system/result.hpp>

#include "capchan/config/verifier.hpp"
#include "capchan/core/term.hpp"

namespace capchan::config {

// Defaults are safe for a server on the open internet.
struct limits_config {
  std::uint64_t max_connections = 10'000;
  std::uint64_t max_handshakes = 256;  // concurrent unauthenticated connections
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::uint64_t max_message = 1u << 20;  // bytes of one WebSocket message
  std::uint64_t mailbox = 1024;          // messages queued per handler
  std::uint64_t outbox = 8u << 20;       // unsent bytes per connection
  std::uint64_t blocking_workers = 16;   // threads for blocking handlers, all services
  friend bool operator==(const limits_config&, const limits_config&) = default;
};

// argon2id cost for turning a plaintext password into a verifier; libsodium's
// INTERACTIVE limits by default (crypto_pwhash_OPSLIMIT/MEMLIMIT_INTERACTIVE).
struct pwhash_params {
  std::uint64_t ops_limit = 2;
  std::uint64_t mem_limit = 64u << 20;
  friend bool operator==(const pwhash_params&, const pwhash_params&) = default;
};

// lib_chan-style `password = "..."`; the server turns it into a verifier at
// load and warns.
struct plaintext_password {
  std::string text;
  friend bool operator==(const plaintext_password&, const plaintext_password&) = default;
};

struct service_config {
  std::string name;
  std::variant<verifier, plaintext_password> secret;
  pwhash_params pwhash;  // used for a plaintext password only
  std::string handler;
  term args;  // ArgsS: the TOML value as a term (docs/config.md)
  std::size_t line = 0;
};

struct config_problem {
  std::string file;
  std::size_t line = 0;  // 0 when the problem is the file as a whole
  std::string key;       // dotted path, e.g. "limits.max_message"; may be empty
  std::string message;
  // "server.toml:12: limits.max_message: expected a size such as \"1MiB\""
  std::string to_string() const;
};

struct server_config {
  std::filesystem::path path;  // the file this came from
  std::string bind = "127.0.0.1";
  std::uint16_t port = 1234;
  std::filesystem::path key_file;  // absolute (relative paths resolve against the file's folder)
  std::filesystem::path data_dir;  // absolute
  limits_config limits;
  std::vector<service_config> services;
  std::vector<config_problem> warnings;  // loaded anyway, but a person should know
};

using load_result = boost::system::result<server_config, std::vector<config_problem>>;

// Reads and validates `path`; every problem found is returned, not just the first.
load_result load_config(const std::filesystem::path& path);
// The same from text already read (`path` names it in messages and anchors
// relative paths).
load_result parse_config(std::string_view text, const std::filesystem::path& path);

// $XDG_CONFIG_HOME/capchan/server.toml, else ~/.config/capchan/server.toml.
std::filesystem::path default_config_path();

}  // namespace capchan::config
