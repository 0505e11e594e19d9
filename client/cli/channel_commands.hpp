// `capchan rpc|cast|shell SERVICE [TERM]` (DESIGN.md §6): talk to a service
// of a capchan server from the command line.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

#include "channel_flags.hpp"

namespace capchan::cli {

// Adds rpc, cast and shell, and the flags they share (channel_flags.hpp),
// to `app`. The subcommand that runs stores its exit code in `exit_code`.
// Returns the shared flags, for other commands that open channels.
std::shared_ptr<channel_flags> add_channel_commands(CLI::App& app, int& exit_code);

}  // namespace capchan::cli
