// `capchan kvs get|put|del|list|watch` (DESIGN.md §6, docs/cli.md "kvs"):
// the kvs name server's requests (docs/kvs.md) as commands, keys and values
// in Erlang syntax on the command line, replies printed as terms.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "channel_flags.hpp"

namespace capchan::cli {

// Adds `kvs` and its subcommands to `app`. `flags` are the channel flags the
// other commands share (so that they may also come before `kvs`); the
// subcommand that runs stores its exit code in `exit_code`.
void add_kvs_command(CLI::App& app, const std::shared_ptr<channel_flags>& flags, int& exit_code);

}  // namespace capchan::cli
