// `capchan shell SERVICE`: an interactive session on one channel.
//
// Standard input holds one command per line:
//   rpc TERM.     call the service; its reply is printed
//   cast TERM.    send TERM one way; nothing is printed
//   TERM.         shorthand for rpc TERM.
//   help          the commands
//   quit          close the channel and leave (so does end of input)
// Blank lines and lines starting with % are skipped; the final `.` is
// optional. Replies print on stdout in Erlang syntax (or JSON); pushes from
// the service print as they arrive, also while the shell waits for input,
// as `push TERM` (JSON: {"push": ...}). A bad line gets an error on stderr
// naming its line and column, and the shell goes on.
//
// Exit: 0 at end of input or quit. When the channel ends under the shell,
// it prints the close reason on stderr and exits with
// exit_code_for_close(reason): 0 normal, 1 {handler_error, _}, 4 otherwise
// (disconnected, {shutdown, _}, timeout, ...).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "capchan/client/sync.hpp"

namespace capchan::cli {

struct shell_settings {
  std::chrono::milliseconds timeout;  // per rpc
  bool json = false;
  std::size_t max_line = 1u << 20;  // bytes
  // A prompt (`SERVICE> `) before each line, when stdin is a terminal.
  bool interactive = false;
  std::string service;
};

int run_shell(client::sync::channel& channel, const shell_settings& settings);

}  // namespace capchan::cli
