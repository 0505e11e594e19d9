// The password prompt on a real terminal (a pseudo-terminal): no echo while
// the password is typed, and the terminal's settings restored afterwards,
// also when Ctrl-C interrupts the prompt.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "cli_runner.hpp"
#include "server_process.hpp"
#include "terminal_child.hpp"

using capchan::test::cli_runner;
using capchan::test::join;
using capchan::test::server_process;
using capchan::test::terminal_child;

TEST_CASE("prompt: the password is read from the terminal without echo", "[cli][prompt][server]") {
  server_process server;
  cli_runner cli;
  terminal_child child(
      join({CAPCHAN_CLI, "rpc", "nameServer", "{lookup, jim}"}, cli_runner::pinned(server)),
      cli.environment({}));
  // Echo goes off before the prompt shows.
  REQUIRE(child.read_until("Password for nameServer at " + server.host_port() + ": "));
  REQUIRE_FALSE(child.echo_on());
  child.type(std::string(server_process::book_password) + "\n");
  const auto status = child.wait_status();
  REQUIRE(status.has_value());
  child.drain();
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK_THAT(child.output, Catch::Contains("undefined"));
  CHECK_THAT(child.output, !Catch::Contains(server_process::book_password));
  CHECK(child.echo_on());
}

TEST_CASE("prompt: Ctrl-C at the prompt restores the terminal", "[cli][prompt]") {
  cli_runner cli;
  // No server needed: the prompt comes before connecting.
  terminal_child child({CAPCHAN_CLI, "rpc", "--port", "1", "nameServer", "{lookup, jim}"},
                       cli.environment({}));
  REQUIRE(child.read_until("Password for nameServer at 127.0.0.1:1: "));
  REQUIRE_FALSE(child.echo_on());
  child.type("\x03");  // VINTR: the terminal sends SIGINT to the child
  const auto status = child.wait_status();
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));
  CHECK(WTERMSIG(*status) == SIGINT);
  CHECK(child.echo_on());
}

TEST_CASE("shell on a terminal: a prompt per line, pushes shown at the prompt, Ctrl-D leaves",
          "[cli][prompt][shell][server]") {
  server_process server;
  cli_runner cli;
  terminal_child child(join({CAPCHAN_CLI, "shell", "echo"}, cli_runner::pinned(server)),
                       cli.environment({"CAPCHAN_PASSWORD=echo"}));
  REQUIRE(child.read_until("echo> "));
  child.type("{ping, 1}.\n");
  // The terminal turns "\n" into "\r\n", and echoes the typed line
  // ("{ping, 1}.", unlike the reply) whenever the keys arrive.
  REQUIRE(child.read_until("{ping,1}\r\necho> "));
  // Pushes arrive while the shell waits at its prompt, each on a line of
  // its own; the shell goes on reading.
  child.type("cast {push, 2, hi}.\n");
  REQUIRE(child.read_until("push hi\r\n", 2));
  child.type("{ping, 2}.\n");
  REQUIRE(child.read_until("{ping,2}\r\necho> "));
  child.type("\x04");  // VEOF at the start of a line: end of input
  const auto status = child.wait_status();
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}
