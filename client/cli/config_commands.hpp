// `capchan config init|add|passwd|remove|list|check|fingerprint|reload`
// (DESIGN.md §6, docs/config.md): edits a server config safely (a lock, an
// atomic write, the user's comments and order kept, never a password
// printed) and asks a running server to reload it.
#pragma once

#include <CLI/CLI.hpp>

namespace capchan::cli {

// Adds `config` and its subcommands to `app`; the one that runs stores its
// exit code in `exit_code`.
void add_config_commands(CLI::App& app, int& exit_code);

}  // namespace capchan::cli
