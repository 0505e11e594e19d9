// `capchan rpc|cast` and the example client against a real capchan-server
// process: the book's transcript, --json, passwords, trust in the server's
// key, and the exit codes of DESIGN.md §6 (0 ok, 1 remote error, 2 usage,
// 3 auth, 4 connection).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cli_runner.hpp"
#include "server_process.hpp"

using capchan::test::cli_runner;
using capchan::test::join;
using capchan::test::process_result;
using capchan::test::read_file;
using capchan::test::run_process;
using capchan::test::server_process;
using capchan::test::write_file;

namespace {

// A socket bound to a free port of 127.0.0.1. Without listen(), connecting
// to it is refused; with listen() but no accept(), the TCP handshake
// completes and nothing ever answers. Either way no other program can take
// the port while the test uses it.
class local_socket {
 public:
  explicit local_socket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    if (listening) REQUIRE(::listen(fd_, 16) == 0);
  }
  ~local_socket() { ::close(fd_); }
  std::string port() const { return std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// No known_hosts entry, no key pinned in any of these: a fingerprint that
// is well-formed but belongs to no server.
const std::string wrong_fingerprint = "SHA256:" + std::string(43, 'A');

void check_book_transcript(const cli_runner& cli, const std::vector<std::string>& server_flags) {
  const auto stored =
      cli.run(join({"cast", "nameServer", R"({store, joe, "writing a book"})"}, server_flags));
  CHECK(stored.exit_code == 0);
  CHECK(stored.out.empty());
  CHECK(stored.err.empty());

  const auto joe = cli.run(join({"rpc", "nameServer", "{lookup, joe}"}, server_flags));
  CHECK(joe.exit_code == 0);
  CHECK(joe.out == "{ok,\"writing a book\"}\n");
  CHECK(joe.err.empty());

  const auto jim = cli.run(join({"rpc", "nameServer", "{lookup, jim}."}, server_flags));
  CHECK(jim.exit_code == 0);
  CHECK(jim.out == "undefined\n");
}

}  // namespace

TEST_CASE("the book's transcript with capchan cast and capchan rpc", "[cli][server]") {
  server_process server;
  cli_runner cli;
  check_book_transcript(cli, cli_runner::pinned(server));
}

TEST_CASE("global flags may come before the subcommand, and a capchan:// URL names the server",
          "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto before = cli.run(join(cli_runner::pinned(server), {"rpc", "echo", "{hello, 1}"}),
                              {"CAPCHAN_PASSWORD=echo"});
  CHECK(before.exit_code == 0);
  CHECK(before.out == "{hello,1}\n");

  const std::string url =
      "capchan://" + server.host_port() + "/nameServer?key=" + server.fingerprint();
  const auto by_url = cli.run({"rpc", url, "{lookup, jim}"});
  CHECK(by_url.exit_code == 0);
  CHECK(by_url.out == "undefined\n");

  // The URL and --port both name the server: refused as ambiguous.
  const auto both = cli.run({"rpc", url, "{lookup, jim}", "--port", std::to_string(server.port())});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Catch::Contains("the URL already names the server"));
}

TEST_CASE("rpc --json prints the reply with the documented mapping", "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto pinned = cli_runner::pinned(server);
  REQUIRE(cli.run(join({"cast", "nameServer", R"({store, joe, "writing a book"})"}, pinned))
              .exit_code == 0);
  const auto joe = cli.run(join({"rpc", "--json", "nameServer", "{lookup, joe}"}, pinned));
  CHECK(joe.exit_code == 0);
  CHECK(joe.out == R"({"tuple":[{"atom":"ok"},{"string":"writing a book"}]})"
                   "\n");

  // Every kind of term, echoed by the echo service.
  const auto all = cli.run(
      join({"rpc", "echo", R"({1, -2.5, <<"bin">>, <<255>>, [a | b], #{k => "v"}, [1,2], 'A b'})",
            "--json"},
           pinned),
      {"CAPCHAN_PASSWORD=echo"});
  CHECK(all.exit_code == 0);
  CHECK(
      all.out ==
      R"({"tuple":[1,{"float":-2.5},{"binary":"bin"},{"base64":"/w=="},{"improper_list":[{"atom":"a"},{"atom":"b"}]},)"
      R"({"map":[[{"atom":"k"},{"string":"v"}]]},[1,2],{"atom":"A b"}]})"
      "\n");
}

TEST_CASE("wrong password and unknown service: the same message, exit 3, and the server goes on",
          "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto pinned = cli_runner::pinned(server);
  const auto wrong_password = cli.run(join({"rpc", "nameServer", "{lookup, joe}"}, pinned),
                                      {"CAPCHAN_PASSWORD=not-ABXy45"});
  const auto unknown_service = cli.run(join({"rpc", "noSuchService", "{lookup, joe}"}, pinned));
  CHECK(wrong_password.exit_code == 3);
  CHECK(unknown_service.exit_code == 3);
  CHECK(wrong_password.out.empty());
  CHECK_THAT(wrong_password.err, Catch::Contains("unknown service or wrong password"));
  CHECK(wrong_password.err == unknown_service.err);
  // The password is not repeated back.
  CHECK_THAT(wrong_password.err, !Catch::Contains("not-ABXy45"));

  check_book_transcript(cli, pinned);
}

TEST_CASE("the password comes from --password-file before CAPCHAN_PASSWORD", "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto pinned = cli_runner::pinned(server);
  const auto good = cli.config_home() / "good-password";
  const auto bad = cli.config_home() / "bad-password";
  write_file(good, "ABXy45\r\nsecond line is ignored\n");
  write_file(bad, "wrong\n");

  const auto from_file = cli.run(
      join({"rpc", "nameServer", "{lookup, jim}", "--password-file", good.string()}, pinned),
      {"CAPCHAN_PASSWORD=wrong"});
  CHECK(from_file.exit_code == 0);
  CHECK(from_file.out == "undefined\n");

  const auto file_wins = cli.run(
      join({"rpc", "nameServer", "{lookup, jim}", "--password-file", bad.string()}, pinned));
  CHECK(file_wins.exit_code == 3);

  const auto from_env = cli.run(join({"rpc", "nameServer", "{lookup, jim}"}, pinned));
  CHECK(from_env.exit_code == 0);

  const auto missing = cli.run(join({"rpc", "nameServer", "{lookup, jim}", "--password-file",
                                     (cli.config_home() / "nope").string()},
                                    pinned));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("cannot read it"));

  const auto huge = cli.config_home() / "huge";
  write_file(huge, std::string(5000, 'x'));
  const auto too_long = cli.run(
      join({"rpc", "nameServer", "{lookup, jim}", "--password-file", huge.string()}, pinned));
  CHECK(too_long.exit_code == 2);
  CHECK_THAT(too_long.err, Catch::Contains("more than 4096 bytes"));
}

TEST_CASE("no password source and no terminal: a usage error that says how to give one", "[cli]") {
  cli_runner cli;
  // Nothing listens on the port: the check comes before any connection.
  const auto r = cli.run({"rpc", "--port", "1", "nameServer", "{lookup, joe}"}, {});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("CAPCHAN_PASSWORD") && Catch::Contains("--password-file"));
}

TEST_CASE("rpc: pushes before the reply do not hold the reply back", "[cli][server]") {
  server_process server;
  cli_runner cli;
  // 5,000 pushes of 1 KiB: at least 5 WebSocket messages (at most
  // max_message, 1 MiB, each), so the client has queued more than its
  // max_pushes (1024) before the message with the reply. Unless the CLI
  // takes the pushes, the channel stops reading and the reply never comes.
  const std::string push_request = "{push, 5000, <<\"" + std::string(1024, 'x') + "\">>}";
  const auto r =
      cli.run(join({"rpc", "--timeout", "60s", "echo", push_request}, cli_runner::pinned(server)),
              {"CAPCHAN_PASSWORD=echo"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{ok,5000}\n");
  CHECK(r.err.empty());
}

TEST_CASE("the service failing the call: exit 1 with the reason on stderr", "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto r =
      cli.run(join({"rpc", "echo", "{fail, {badarg, {frobnicate, joe}}}"}, cli_runner::pinned(server)),
              {"CAPCHAN_PASSWORD=echo"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("the service failed the call: {badarg,{frobnicate,joe}}"));
}

TEST_CASE("the --args flag reaches the handler as ArgsC next to the config's ArgsS", "[cli][server]") {
  server_process server;
  cli_runner cli;
  // echo answers the call `args` with {args, ArgsC, ArgsS}; its ArgsS is the
  // config's `args = { greeting = "hello" }` (a TOML table becomes a map).
  const auto with_args =
      cli.run(join({"rpc", "--args", "{client, 7, \"n\"}", "echo", "args"}, cli_runner::pinned(server)),
              {"CAPCHAN_PASSWORD=echo"});
  CHECK(with_args.exit_code == 0);
  CHECK(with_args.out == "{args,{client,7,\"n\"},#{greeting => <<\"hello\">>}}\n");
  CHECK(with_args.err.empty());
  const auto without =
      cli.run(join({"rpc", "echo", "args"}, cli_runner::pinned(server)), {"CAPCHAN_PASSWORD=echo"});
  CHECK(without.exit_code == 0);
  CHECK_THAT(without.out, Catch::StartsWith("{args,[],"));
}

TEST_CASE("connection refused: exit 4 with what to check", "[cli]") {
  cli_runner cli;
  local_socket closed_port(false);
  const auto r = cli.run({"rpc", "--port", closed_port.port(), "nameServer", "{lookup, joe}"});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::Contains("nothing listens on 127.0.0.1:" + closed_port.port()) &&
                        Catch::Contains("capchan-server running"));
}

TEST_CASE("a server that never answers: --timeout ends the wait with exit 4", "[cli]") {
  cli_runner cli;
  local_socket silent(true);
  const auto r = cli.run(
      {"rpc", "--port", silent.port(), "--timeout", "300ms", "nameServer", "{lookup, joe}"});
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::Contains("within 300 ms") && Catch::Contains("--timeout"));
}

TEST_CASE("server key mismatch with --key: refused, exit 4, and what to do", "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto r = cli.run({"rpc", "--port", std::to_string(server.port()), "--key",
                          wrong_fingerprint, "nameServer", "{lookup, joe}"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("server key mismatch") &&
                        Catch::Contains(server.fingerprint()) &&
                        Catch::Contains(wrong_fingerprint) &&
                        Catch::Contains("check it with the server's operator"));
}

TEST_CASE("known_hosts: first use records the key and says so, a different key is refused",
          "[cli][server]") {
  server_process server;
  cli_runner cli;
  const std::string known_hosts = cli.known_hosts_file();
  const std::vector<std::string> flags = {"--port", std::to_string(server.port()), "--known-hosts",
                                          known_hosts};

  const auto first = cli.run(join({"rpc", "nameServer", "{lookup, jim}"}, flags));
  CHECK(first.exit_code == 0);
  CHECK(first.out == "undefined\n");
  CHECK_THAT(first.err, Catch::Contains("first connection to " + server.host_port()) &&
                            Catch::Contains(server.fingerprint()) && Catch::Contains(known_hosts));
  CHECK_THAT(read_file(known_hosts),
             Catch::Contains(server.host_port() + " " + server.fingerprint() + "\n"));

  const auto second = cli.run(join({"rpc", "nameServer", "{lookup, jim}"}, flags));
  CHECK(second.exit_code == 0);
  CHECK(second.err.empty());

  // The same host:port recorded with another key: refused, naming the line.
  write_file(known_hosts, server.host_port() + " " + wrong_fingerprint + "\n");
  const auto changed = cli.run(join({"rpc", "nameServer", "{lookup, jim}"}, flags));
  CHECK(changed.exit_code == 4);
  CHECK(changed.out.empty());
  CHECK_THAT(changed.err, Catch::Contains("server key mismatch") && Catch::Contains("line 1") &&
                              Catch::Contains("remove line 1 from '" + known_hosts + "'"));
  CHECK(read_file(known_hosts) == server.host_port() + " " + wrong_fingerprint + "\n");
}

TEST_CASE("without --known-hosts the file is under XDG_CONFIG_HOME", "[cli][server]") {
  server_process server;
  cli_runner cli;
  const auto r =
      cli.run({"rpc", "--port", std::to_string(server.port()), "nameServer", "{lookup, jim}"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(read_file(cli.config_home() / "capchan" / "known_hosts"),
             Catch::Contains(server.host_port() + " " + server.fingerprint()));
}

TEST_CASE("usage errors exit 2 and say what is wrong", "[cli]") {
  cli_runner cli;
  struct usage_case {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<usage_case> cases = {
      {{}, "A subcommand is required"},
      {{"rpc", "nameServer"}, "TERM is required"},
      {{"rpc", "--bogus", "nameServer", "x"}, "--bogus"},
      {{"rpc", "nameServer", "{lookup,"}, "TERM: 1:9:"},
      {{"cast", "nameServer", "{store, joe"}, "TERM: 1:12:"},
      {{"rpc", "--args", "[1,", "nameServer", "x"}, "--args: 1:4:"},
      {{"rpc", "--timeout", "soon", "nameServer", "x"}, "--timeout 'soon'"},
      {{"rpc", "--port", "70000", "nameServer", "x"}, "--port"},
      {{"rpc", "capchan://127.0.0.1/nameServer", "x"}, "missing port"},
      {{"shell", "--max-line", "lots", "nameServer"}, "--max-line 'lots'"},
  };
  for (const auto& c : cases) {
    INFO("capchan " << [&] {
      std::string s;
      for (const auto& a : c.args) s += a + " ";
      return s;
    }());
    const auto r = cli.run(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(c.says));
  }
}

TEST_CASE("help: --help explains the flags with an example", "[cli]") {
  cli_runner cli;
  const auto top = cli.run({"--help"});
  CHECK(top.exit_code == 0);
  CHECK_THAT(top.out, Catch::Contains("rpc") && Catch::Contains("shell") &&
                          Catch::Contains("CAPCHAN_PASSWORD"));
  for (const char* sub : {"rpc", "cast", "shell"}) {
    const auto r = cli.run({sub, "--help"});
    CHECK(r.exit_code == 0);
    for (const char* flag : {"--host", "--port", "--key", "--known-hosts", "--password-file",
                             "--args", "--timeout", "--json", "Example"}) {
      CHECK_THAT(r.out, Catch::Contains(flag));
    }
  }
}

TEST_CASE("the example client program does the book's session", "[cli][server][example]") {
  server_process server;
  cli_runner cli;
  const auto r = run_process(
      {CAPCHAN_NAMESERVER_CLIENT, "127.0.0.1", std::to_string(server.port()), server.fingerprint()},
      {}, cli.environment({cli_runner::book_password_env()}), std::chrono::seconds(60));
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "cast {store,joe,\"writing a book\"}\n"
        "rpc {lookup,joe} -> {ok,\"writing a book\"}\n"
        "rpc {lookup,jim} -> undefined\n");
  CHECK(r.err.empty());
  // And what it stored is there for the next client.
  const auto joe =
      cli.run(join({"rpc", "nameServer", "{lookup, joe}"}, cli_runner::pinned(server)));
  CHECK(joe.out == "{ok,\"writing a book\"}\n");
}
