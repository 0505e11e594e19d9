// The `capchan` command line (DESIGN.md §6). Each subcommand lives in its own
// file and registers itself here; exit codes are in exit_codes.hpp: 0 ok,
// 1 remote error, 2 usage, 3 auth, 4 connection (5: `kvs get` found no key).
#include <iostream>

#include <CLI/CLI.hpp>

#include "channel_commands.hpp"
#include "config_commands.hpp"
#include "exit_codes.hpp"
#include "kvs_commands.hpp"
#include "term_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"capchan: secure, password-protected message channels"};
  app.require_subcommand(1);
  app.footer(
      "Talk to the book's name server (`make run` in another terminal):\n"
      "  export CAPCHAN_PASSWORD=ABXy45\n"
      "  capchan cast nameServer '{store, joe, \"writing a book\"}'\n"
      "  capchan rpc nameServer '{lookup, joe}'      # prints {ok,\"writing a book\"}\n"
      "  capchan shell nameServer                    # one command per line\n"
      "Run `capchan SUBCOMMAND --help` for each subcommand's flags.");
  int exit_code = capchan::cli::exit_ok;
  capchan::cli::add_kvs_command(app, capchan::cli::add_channel_commands(app, exit_code), exit_code);
  capchan::cli::add_term_command(app, exit_code);
  capchan::cli::add_config_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and usage to stderr
    return capchan::cli::exit_usage;
  }
  return exit_code;
}
