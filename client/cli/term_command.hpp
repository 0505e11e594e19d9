// `capchan term encode|decode`: Erlang term text to ETF bytes (hex) and back.
#pragma once

#include <CLI/CLI.hpp>

namespace capchan::cli {

// Adds the `term` subcommand to `app`; when it runs, it stores its exit code
// (DESIGN.md §6: 0 ok, 2 usage or bad input) in `exit_code`.
void add_term_command(CLI::App& app, int& exit_code);

}  // namespace capchan::cli
