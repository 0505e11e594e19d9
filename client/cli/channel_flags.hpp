// What `capchan rpc|cast|shell` share (DESIGN.md §6): the flags that say
// where the channel is and how to trust it, opening the channel, turning
// client errors into messages and exit codes, and printing terms.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "capchan/client/error.hpp"
#include "capchan/client/sync.hpp"
#include "capchan/core/term.hpp"
#include "problem.hpp"

namespace capchan::cli {

struct channel_flags {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1234;
  std::string key;
  std::string known_hosts;
  std::string password_file;
  std::string args;
  std::string timeout = "10s";
  bool json = false;

  // Filled by add_channel_flags, to tell a given flag from its default.
  std::vector<CLI::Option*> host_options;
  std::vector<CLI::Option*> port_options;
};

// Adds the flags to `app`. Called for the top level and for each
// subcommand, so that they may come before or after it and each
// subcommand's --help lists them.
void add_channel_flags(CLI::App& app, channel_flags& flags);

// What the body of a command gets besides the channel.
struct channel_session {
  std::string service;
  std::string where;  // "host:port"
  std::chrono::milliseconds timeout;
};

// Checks the flags, reads the password, connects to SERVICE (a name, or a
// capchan://HOST:PORT/SERVICE?key=FP URL), runs `body`, closes the channel.
// Every failure before `body` is reported on stderr; returns the exit code.
int with_channel(const channel_flags& flags, const std::string& service,
                 const std::function<int(client::sync::channel&, const channel_session&)>& body);

// `text` (TERM, --args) as a term; on error prints "capchan: WHAT: 1:5: ..."
// and returns nothing (the caller exits 2).
std::optional<term> parse_term_argument(const std::string& text, std::string_view what);

// The line to print for `t`: Erlang syntax, or JSON (json.hpp).
checked<std::string> format_term(const term& t, bool json);

// What to tell a person about `e`, and the exit code it means.
std::string describe(const client::error& e);
int exit_code_for(const client::error& e);
// A channel that ended with `reason`: 0 for normal, 1 when the service
// crashed it ({handler_error, Text}), 3 for auth_failed, 4 otherwise.
int exit_code_for_close(const term& reason);

}  // namespace capchan::cli
