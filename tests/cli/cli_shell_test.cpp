// `capchan shell` against a real capchan-server: the book's transcript from
// piped stdin, pushes shown while the shell waits for input, bad lines, and
// the channel closing under the shell (DESIGN.md §6).
#include <functional>

#include <catch2/catch.hpp>

#include "cli_runner.hpp"
#include "server_process.hpp"

using capchan::test::child_process;
using capchan::test::cli_runner;
using capchan::test::join;
using capchan::test::server_process;

namespace {

constexpr auto line_limit = std::chrono::seconds(30);

// `capchan shell SERVICE` with stdin a pipe and stderr merged into stdout.
std::unique_ptr<child_process> start_shell(const cli_runner& cli, const server_process& server,
                                           const std::string& service,
                                           const std::string& password) {
  auto args = join({CAPCHAN_CLI, "shell", service}, cli_runner::pinned(server));
  return std::make_unique<child_process>(args, cli.environment({"CAPCHAN_PASSWORD=" + password}),
                                         true);
}

// `capchan shell FLAGS... nameServer` with `input` piped to it.
capchan::test::process_result run_book_shell(const cli_runner& cli, const server_process& server,
                                             const std::string& input,
                                             const std::vector<std::string>& flags = {}) {
  const auto args = join(join({"shell"}, flags), join({"nameServer"}, cli_runner::pinned(server)));
  return cli.run(args, {cli_runner::book_password_env()}, input);
}

}  // namespace

TEST_CASE("shell: the book's transcript from piped stdin", "[cli][shell][server]") {
  server_process server;
  cli_runner cli;
  const std::string input =
      "cast {store, joe, \"writing a book\"}.\n"
      "rpc {lookup, joe}.\n"
      "{lookup, jim}.\n";
  const auto r = run_book_shell(cli, server, input);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{ok,\"writing a book\"}\nundefined\n");
  CHECK(r.err.empty());
}

TEST_CASE("shell: --json, blank lines, comments, help, quit", "[cli][shell][server]") {
  server_process server;
  cli_runner cli;
  const std::string input =
      "\n"
      "% a comment\n"
      "help\n"
      "rpc {lookup, jim}\n"  // the final '.' is optional
      "quit\n"
      "{lookup, jim}.\n";  // never read: quit left
  const auto r = run_book_shell(cli, server, input, {"--json"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("Commands, one per line"));
  CHECK_THAT(r.out, Catch::EndsWith("\n{\"atom\":\"undefined\"}\n"));
  CHECK(r.err.empty());
}

TEST_CASE("shell: --json shows pushes as push objects", "[cli][shell][server]") {
  server_process server;
  cli_runner cli;
  const auto r = cli.run(join({"shell", "--json", "echo"}, cli_runner::pinned(server)),
                         {"CAPCHAN_PASSWORD=echo"}, "cast {push, 1, hi}.\n{ping}.\n");
  CHECK(r.exit_code == 0);
  // The push and the reply come on different paths: either may print first.
  CHECK_THAT(r.out, Catch::Contains("{\"push\":{\"atom\":\"hi\"}}\n"));
  CHECK_THAT(r.out, Catch::Contains("{\"tuple\":[{\"atom\":\"ping\"}]}\n"));
  CHECK(r.err.empty());
}

TEST_CASE("shell: a bad line gets an error naming it, and the shell goes on",
          "[cli][shell][server]") {
  server_process server;
  cli_runner cli;
  const std::string input =
      "{lookup, joe\n"
      "rpc\n"
      "rpc {lookup,, joe}.\n"
      "help me\n"
      "rpc {bogus}.\n"
      "{lookup, jim}.\n";
  const auto r = run_book_shell(cli, server, input);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{error,{unknown_request,{bogus}}}\nundefined\n");
  CHECK_THAT(r.err, Catch::Contains("capchan: line 1, column 13: "));
  CHECK_THAT(r.err, Catch::Contains("capchan: line 2: rpc needs a term"));
  CHECK_THAT(r.err, Catch::Contains("capchan: line 3, column 13: "));
  CHECK_THAT(r.err, Catch::Contains("capchan: line 4: help takes nothing after it"));
}

TEST_CASE("shell: a line longer than --max-line is skipped with an error", "[cli][shell][server]") {
  server_process server;
  cli_runner cli;
  const std::string input =
      "rpc {lookup, <<\"" + std::string(200, 'x') + "\">>}.\n{lookup, jim}.\n";
  const auto r = run_book_shell(cli, server, input, {"--max-line", "64"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "undefined\n");
  CHECK_THAT(r.err, Catch::Contains("line 1: longer than --max-line (64 bytes); skipped"));

  // At the limit exactly, the line is read.
  const std::string at_limit = "{lookup, '" + std::string(64 - 13, 'y') + "'}.\n";
  REQUIRE(at_limit.size() == 65);
  const auto ok = run_book_shell(cli, server, at_limit, {"--max-line", "64"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "undefined\n");
  CHECK(ok.err.empty());
}

TEST_CASE("shell: pushes print as they arrive, while the shell waits for input",
          "[cli][shell][server]") {
  server_process server;
  cli_runner cli;
  auto shell = start_shell(cli, server, "echo", "echo");
  // echo pushes a cast back, and {push, N, T} as N pushes of T.
  REQUIRE(shell->write_line("cast {push, 3, hello}."));
  for (int i = 0; i < 3; ++i) CHECK(shell->read_line(line_limit) == "push hello");
  REQUIRE(shell->write_line("cast {ping, 1}."));
  CHECK(shell->read_line(line_limit) == "push {ping,1}");
  // The shell still reads commands; end of input ends it with 0.
  REQUIRE(shell->write_line("rpc {ping, 2}."));
  CHECK(shell->read_line(line_limit) == "{ping,2}");
  shell->close_stdin();
  CHECK(shell->read_line(line_limit) == std::nullopt);
  CHECK(shell->wait(line_limit) == 0);
}

// A shell on a live channel; `stop` ends the server under it. The shell
// must say why the channel closed and exit 4 on its own (stdin stays open).
static void check_closed_under_shell(const std::function<void(server_process&)>& stop,
                                     const std::string& reason) {
  server_process server;
  cli_runner cli;
  auto shell = start_shell(cli, server, "nameServer", server_process::book_password);
  REQUIRE(shell->write_line("{lookup, jim}."));
  REQUIRE(shell->read_line(line_limit) == "undefined");  // the channel is up
  stop(server);
  const auto said = shell->read_line(line_limit);
  REQUIRE(said.has_value());
  CHECK_THAT(*said, Catch::StartsWith("capchan: the channel closed: " + reason));
  CHECK(shell->wait(line_limit) == 4);
}

TEST_CASE("shell: the server shutting down closes the shell with the reason, exit 4",
          "[cli][shell][server]") {
  check_closed_under_shell([](server_process& server) { CHECK(server.terminate() == 0); },
                           "{shutdown,server_stopping}");
}

TEST_CASE("shell: the server killed closes the shell as disconnected, exit 4",
          "[cli][shell][server]") {
  check_closed_under_shell([](server_process& server) { server.kill(); }, "disconnected");
}
