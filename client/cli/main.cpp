// The `capchan` command line (DESIGN.md §6). Each subcommand lives in its own
// file and registers itself here; exit codes: 0 ok, 1 remote error, 2 usage,
// 3 auth, 4 connection.
#include <iostream>

#include <CLI/CLI.hpp>

#include "term_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"capchan: secure, password-protected message channels"};
  app.require_subcommand(1);
  int exit_code = 0;
  capchan::cli::add_term_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and usage to stderr
    return 2;
  }
  return exit_code;
}
