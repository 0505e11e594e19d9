// rpc and cast run one message over a fresh channel; shell keeps one open
// (shell.hpp). The flags are parsed into state owned by the callbacks, which
// CLI11 keeps alive until parsing is over.
#include "channel_commands.hpp"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <thread>
#include <variant>

#include "capchan/config/units.hpp"
#include "channel_flags.hpp"
#include "exit_codes.hpp"
#include "shell.hpp"

namespace capchan::cli {
namespace {

struct command_state {
  channel_flags flags;
  std::string service;
  std::string term_text;
  std::string max_line = "1MiB";
};

constexpr const char* service_help =
    "Service name, or capchan://HOST:PORT/SERVICE?key=SHA256:... (then no --host/--port)";

// rpc and cast print the reply only. Pushes that arrive meanwhile are taken
// and dropped: left in the channel, a full push queue would stop it reading
// the socket, and the reply behind them would never come. Closes the
// channel when it goes (which ends the receive() it waits in).
class push_drain {
 public:
  explicit push_drain(client::sync::channel& ch)
      : channel_(ch), thread_([&ch] {
          while (!std::holds_alternative<client::chan_closed>(ch.receive())) {
          }
        }) {}
  ~push_drain() {
    channel_.close();
    thread_.join();
  }
  push_drain(const push_drain&) = delete;
  push_drain& operator=(const push_drain&) = delete;

 private:
  client::sync::channel& channel_;
  std::thread thread_;
};

int rpc_command(const command_state& s) {
  auto message = parse_term_argument(s.term_text, "TERM");
  if (!message) return exit_usage;
  return with_channel(
      s.flags, s.service, [&](client::sync::channel& ch, const channel_session& session) {
        push_drain pushes(ch);
        auto reply = ch.rpc(std::move(*message), session.timeout);
        if (!reply) {
          std::cerr << "capchan: " << describe(reply.error()) << "\n";
          return exit_code_for(reply.error());
        }
        auto line = format_term(*reply, s.flags.json);
        if (!line) {
          std::cerr << "capchan: cannot print the reply: " << line.error().message << "\n";
          return exit_remote;
        }
        std::cout << *line << std::endl;
        return exit_ok;
      });
}

int cast_command(const command_state& s) {
  auto message = parse_term_argument(s.term_text, "TERM");
  if (!message) return exit_usage;
  return with_channel(s.flags, s.service, [&](client::sync::channel& ch, const channel_session&) {
    push_drain pushes(ch);
    auto sent = ch.cast(std::move(*message));
    if (!sent) {
      std::cerr << "capchan: " << describe(sent.error()) << "\n";
      return exit_code_for(sent.error());
    }
    return exit_ok;
  });
}

int shell_command(const command_state& s) {
  const auto max_line = config::parse_size(s.max_line);
  if (!max_line || *max_line == 0) {
    std::cerr << "capchan: --max-line '" << s.max_line
              << "': expected a size such as 4096, 64KiB or 1MiB\n";
    return exit_usage;
  }
  return with_channel(s.flags, s.service,
                      [&](client::sync::channel& ch, const channel_session& session) {
                        shell_settings settings;
                        settings.timeout = session.timeout;
                        settings.json = s.flags.json;
                        settings.max_line = static_cast<std::size_t>(*max_line);
                        settings.interactive = ::isatty(STDIN_FILENO) != 0;
                        settings.service = session.service;
                        return run_shell(ch, settings);
                      });
}

// A subcommand that talks to SERVICE, with the channel flags.
CLI::App* add_service_command(CLI::App& app, const char* name, const char* about,
                              command_state& state) {
  auto* command = app.add_subcommand(name, about);
  add_channel_flags(*command, state.flags);
  command->add_option("SERVICE", state.service, service_help)->required();
  return command;
}

}  // namespace

std::shared_ptr<channel_flags> add_channel_commands(CLI::App& app, int& exit_code) {
  auto state = std::make_shared<command_state>();
  add_channel_flags(app, state->flags);

  auto* rpc = add_service_command(app, "rpc", "Call SERVICE with TERM and print its reply", *state);
  rpc->add_option("TERM", state->term_text, "The request in Erlang syntax, e.g. '{lookup, joe}'")
      ->required();
  rpc->footer(
      "Example (the book's name server, started with `make run`):\n"
      "  CAPCHAN_PASSWORD=ABXy45 capchan rpc nameServer '{lookup, joe}'\n"
      "  {ok,\"writing a book\"}\n"
      "Exit codes: 0 ok, 1 the service failed the call, 2 usage, 3 unknown service or wrong "
      "password, 4 no connection (refused, key mismatch, timeout).");
  rpc->callback([state, &exit_code] { exit_code = rpc_command(*state); });

  auto* cast = add_service_command(app, "cast", "Send TERM to SERVICE one way (no reply)", *state);
  cast->add_option("TERM", state->term_text, "The message in Erlang syntax")->required();
  cast->footer(
      "Example:\n"
      "  CAPCHAN_PASSWORD=ABXy45 capchan cast nameServer '{store, joe, \"writing a book\"}'\n"
      "Exit codes as for rpc.");
  cast->callback([state, &exit_code] { exit_code = cast_command(*state); });

  auto* shell = add_service_command(
      app, "shell", "Open a channel to SERVICE and send it terms read from stdin", *state);
  shell->add_option("--max-line", state->max_line, "Longest input line accepted: 4096, 64KiB, 1MiB")
      ->type_name("SIZE")
      ->capture_default_str();
  shell->footer(
      "Reads one command per line: 'rpc TERM.', 'cast TERM.', a bare 'TERM.' (= rpc), 'help',\n"
      "'quit'. Prints replies, and pushes as 'push TERM' as they arrive. Example:\n"
      "  $ CAPCHAN_PASSWORD=ABXy45 capchan shell nameServer\n"
      "  nameServer> cast {store, joe, \"writing a book\"}.\n"
      "  nameServer> {lookup, joe}.\n"
      "  {ok,\"writing a book\"}\n"
      "Exit codes: 0 at end of input or quit; when the channel closes under the shell, its reason\n"
      "is printed and the exit code is 1 for {handler_error, _}, 4 for disconnected, {shutdown, "
      "_}\n"
      "and the rest, 0 for normal.");
  shell->callback([state, &exit_code] { exit_code = shell_command(*state); });
  return {state, &state->flags};
}

}  // namespace capchan::cli
