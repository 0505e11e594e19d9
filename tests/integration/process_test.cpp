// Close reasons when a whole process dies or stops (DESIGN.md §4, §5): a
// client process SIGKILLed (the handler sees `disconnected`), capchan-server
// stopped with SIGTERM (clients see {shutdown, server_stopping}, exit 0,
// gauges at zero in its log) or SIGKILLed (clients see `disconnected`).
#include <catch2/catch.hpp>

#include <signal.h>

#include "../client/temp_dir.hpp"
#include "listening_line.hpp"
#include "process.hpp"
#include "server_fixture.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using capchan::test::closed_reason;
using capchan::test::server_fixture;

namespace {

const std::string server_bin = CAPCHAN_SERVER_BIN;
const std::string client_bin = CAPCHAN_TEST_CLIENT_BIN;

// capchan-server on a config of its own in a temp dir, port 0, logging at
// trace level to a file.
struct server_process {
  explicit server_process(const std::string& password) : password_(password) {
    test::write_file(dir / "server.toml",
                     "port = 0\n"
                     "bind = \"127.0.0.1\"\n"
                     "key_file = \"server.key\"\n"
                     "data_dir = \"data\"\n"
                     "[[service]]\n"
                     "name = \"echo\"\n"
                     "password = \"" + password + "\"\n"
                     "handler = \"echo\"\n"
                     "argon2id_ops = 1\n"
                     "argon2id_mem = \"8KiB\"\n");
    proc = std::make_unique<test::child_process>(
        std::vector<std::string>{server_bin, "--config", (dir / "server.toml").string(), "--log-level", "trace",
                                 "--threads", "2", "--grace", "2s"},
        log_path());
    const auto listening = test::read_listening_line(*proc, "capchan-server (log " + log_path() + ")");
    port = listening.port;
    key = listening.fingerprint;
  }

  client::result<client::sync::channel> connect() const {
    client::connect_options options;
    options.key = key;
    return client::sync::connect("127.0.0.1", port, "echo", password_, term(), options);
  }
  std::string log_path() const { return (dir / "server.log").string(); }
  std::string log() const { return test::read_file(log_path()); }

  test::temp_dir dir;
  std::unique_ptr<test::child_process> proc;
  std::uint16_t port = 0;
  std::string key;

 private:
  std::string password_;
};

}  // namespace

TEST_CASE("a client process SIGKILLed: its handler sees disconnected, one that exits: normal", "[process]") {
  server_fixture f;
  const auto client_args = [&] {
    return std::vector<std::string>{client_bin, std::to_string(f.port), "probe", "secret", f.fingerprint, "3"};
  };
  test::child_process polite(client_args());
  test::child_process doomed(client_args());
  REQUIRE(polite.read_line(10s) == std::optional<std::string>("ready"));
  REQUIRE(doomed.read_line(10s) == std::optional<std::string>("ready"));
  CHECK(f.srv->counters().rpcs.load() == 6);
  CHECK(f.probes->wait_closed(1, 0ms).empty());

  REQUIRE(::kill(doomed.pid(), SIGKILL) == 0);
  REQUIRE(doomed.wait(5s) == std::optional<int>(-1));
  auto reasons = f.probes->wait_closed(1, 5s);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] == term(atom("disconnected")));

  polite.close_stdin();  // it closes its channel and exits
  CHECK(polite.read_line(5s) == std::optional<std::string>("closed normal"));
  CHECK(polite.wait(5s) == std::optional<int>(0));
  reasons = f.probes->wait_closed(2, 5s);
  REQUIRE(reasons.size() == 2);
  CHECK(reasons[1] == term(atom("normal")));
}

TEST_CASE("capchan-server on SIGTERM: clients see {shutdown, server_stopping}, exit 0, gauges at zero",
          "[process]") {
  const std::string password = "Sig-Term-Canary-Password-52";
  server_process server(password);
  auto a = server.connect();
  auto b = server.connect();
  REQUIRE((a.has_value() && b.has_value()));
  CHECK(a->rpc(atom("hello"), 5s).value() == term(atom("hello")));
  CHECK(b->rpc(atom("hello"), 5s).value() == term(atom("hello")));

  REQUIRE(::kill(server.proc->pid(), SIGTERM) == 0);
  const term stopping = tuple(atom("shutdown"), atom("server_stopping"));
  CHECK(closed_reason(*a) == stopping);
  CHECK(closed_reason(*b) == stopping);
  CHECK(server.proc->wait(10s) == std::optional<int>(0));
  const std::string log = server.log();
  INFO("server log:\n" << log);
  CHECK_THAT(log, Catch::Contains("authenticated service=echo"));
  CHECK_THAT(log, Catch::Contains("shutdown complete: connections_open=0 handshakes_in_progress=0 channels_open=0 "
                                  "handlers_running=0 outbox_bytes=0"));
  // Even at trace level the log holds no password.
  CHECK(log.find(password) == std::string::npos);
}

TEST_CASE("capchan-server SIGKILLed: clients see disconnected", "[process]") {
  server_process server("Sig-Kill-Canary-Password-17");
  auto ch = server.connect();
  REQUIRE(ch.has_value());
  CHECK(ch->rpc(atom("hello"), 5s).value() == term(atom("hello")));
  REQUIRE(::kill(server.proc->pid(), SIGKILL) == 0);
  CHECK(closed_reason(*ch) == term(atom("disconnected")));
  CHECK(server.proc->wait(5s) == std::optional<int>(-1));
  const auto after = ch->rpc(atom("again"), 1s);
  REQUIRE_FALSE(after.has_value());
  CHECK(after.error().code == client::errc::closed);
}
