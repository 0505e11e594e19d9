// The server config: the example of DESIGN.md §4 loads, and every kind of
// mistake is reported with file, line and key.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "capchan/config/server_config.hpp"
#include "capchan/core/term.hpp"

using namespace capchan;
using namespace capchan::config;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path config_path = "/etc/capchan/server.toml";

std::vector<config_problem> problems_of(std::string_view text) {
  auto r = parse_config(text, config_path);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

config_problem only_problem(std::string_view text) {
  auto problems = problems_of(text);
  REQUIRE(problems.size() == 1);
  return problems.front();
}

constexpr std::string_view service_tail = "handler = \"kvs\"\npassword = \"x\"\n";

}  // namespace

TEST_CASE("DESIGN.md's example config loads with every key", "[config]") {
  const auto r = parse_config(R"(port = 1234
bind = "127.0.0.1"
key_file = "server.key"          # relative paths are relative to this file
data_dir = "data"
[limits]
max_connections = 10000
max_handshakes = 256
handshake_timeout = "10s"
idle_timeout = "60s"
max_message = "1MiB"
mailbox = 1024
outbox = "8MiB"
[[service]]
name = "nameServer"
password = "ABXy45"
handler = "kvs"
args = { path = "nameserver.db" }
)",
                              config_path);
  REQUIRE(r.has_value());
  CHECK(r->port == 1234);
  CHECK(r->bind == "127.0.0.1");
  CHECK(r->key_file == "/etc/capchan/server.key");
  CHECK(r->data_dir == "/etc/capchan/data");
  CHECK(r->limits == limits_config{});  // the example spells out the defaults
  REQUIRE(r->services.size() == 1);
  const auto& s = r->services[0];
  CHECK(s.name == "nameServer");
  CHECK(s.handler == "kvs");
  CHECK(s.line == 13);
  CHECK(std::get<plaintext_password>(s.secret).text == "ABXy45");
  CHECK(s.args == term(map{{atom("path"), binary::from("nameserver.db")}}));
  REQUIRE(r->warnings.size() == 1);
  CHECK_THAT(r->warnings[0].to_string(),
             Catch::StartsWith("/etc/capchan/server.toml:13: service[0].password: plaintext password"));
}

TEST_CASE("defaults apply to an empty file", "[config]") {
  const auto r = parse_config("", config_path);
  REQUIRE(r.has_value());
  CHECK(r->port == 1234);
  CHECK(r->bind == "127.0.0.1");
  CHECK(r->limits.max_message == 1048576u);
  CHECK(r->limits.idle_timeout == 60s);
  CHECK(r->services.empty());
}

TEST_CASE("args of every TOML type become terms", "[config]") {
  const auto r = parse_config(std::string(R"([[service]]
name = "s"
)") + std::string(service_tail) + R"(args = { s = "x", i = -3, f = 1.5, b = true, a = [1, "two"], t = { n = false } }
)",
                              config_path);
  REQUIRE(r.has_value());
  CHECK(r->services[0].args ==
        term(map{{atom("s"), binary::from("x")},
                 {atom("i"), -3},
                 {atom("f"), 1.5},
                 {atom("b"), atom("true")},
                 {atom("a"), list{1, binary::from("two")}},
                 {atom("t"), map{{atom("n"), atom("false")}}}}));
  CHECK(only_problem(std::string("[[service]]\nname = \"s\"\n") + std::string(service_tail) +
                     "args = 1979-05-27\n")
            .to_string() == "/etc/capchan/server.toml:5: service[0].args: dates and times have no term "
                            "form; write them as strings");
}

TEST_CASE("each mistake names file, line and key", "[config]") {
  CHECK(only_problem("port = 1234\npotr = 5\n").to_string() == "/etc/capchan/server.toml:2: potr: unknown key");
  CHECK(only_problem("port = 70000\n").to_string() ==
        "/etc/capchan/server.toml:1: port: must be between 0 and 65535");
  CHECK(only_problem("port = \"1234\"\n").to_string() ==
        "/etc/capchan/server.toml:1: port: expected an integer");
  CHECK(only_problem("bind = \"localhost\"\n").key == "bind");
  CHECK(only_problem("[limits]\nidle_timeout = 60\n").to_string() ==
        "/etc/capchan/server.toml:2: limits.idle_timeout: expected a duration such as \"10s\" or "
        "\"250ms\" (units: ms, s, m, h)");
  CHECK(only_problem("[limits]\n\nmax_message = \"1MB\"\n").line == 3);
  CHECK(only_problem("[limits]\nmax_message = \"1KiB\"\n").message == "must be at least 4KiB");
  CHECK(only_problem("[limits]\nhandshake_timeout = \"5ms\"\n").message == "must be at least 100ms");
  CHECK(only_problem("[limits]\nmailbox = 0\n").key == "limits.mailbox");
  CHECK(only_problem("[limits]\nblocking_workers = 0\n").message == "must be between 1 and 1024");
  CHECK(only_problem("[limits]\nblocking_workers = 5000\n").key == "limits.blocking_workers");
  CHECK(only_problem("[limits]\nmax_conections = 5\n").to_string() ==
        "/etc/capchan/server.toml:2: limits.max_conections: unknown key");
  CHECK(only_problem("[limits]\nmax_connections = 10\nmax_handshakes = 20\n").key == "limits.max_handshakes");

  // A typo in a password key must not leave a service open or unusable.
  const auto typo = problems_of("[[service]]\nname = \"s\"\nhandler = \"kvs\"\npasword = \"x\"\n");
  REQUIRE(typo.size() == 2);
  CHECK(typo[0].to_string() == "/etc/capchan/server.toml:4: service[0].pasword: unknown key");
  CHECK(typo[1].key == "service[0].verifier");

  CHECK(only_problem("[[service]]\nname = \"s\"\npassword = \"x\"\n").key == "service[0].handler");
  CHECK(only_problem("[[service]]\nhandler = \"kvs\"\npassword = \"x\"\n").key == "service[0].name");
  CHECK(only_problem("[[service]]\nname = \"s\"\nhandler = \"kvs\"\n\n"
                     "verifier = \"scram-argon2id$v=1$t=2,m=1$AAAA$BBBB$CCCC\"\n")
            .to_string() == "/etc/capchan/server.toml:5: service[0].verifier: salt is not 16 bytes of base64");
  CHECK(only_problem(std::string("[[service]]\nname = \"s\"\n") + std::string(service_tail) +
                     "verifier = \"" + format_verifier(verifier{}) + "\"\n")
            .message == "give either password or verifier, not both");
  CHECK(only_problem("[[service]]\nname = \"s\"\nhandler = \"h\"\npassword = \"p\"\n\n"
                     "[[service]]\nname = \"s\"\nhandler = \"h\"\npassword = \"q\"\n")
            .to_string() == "/etc/capchan/server.toml:6: service[1].name: service \"s\" is defined twice");
  CHECK(only_problem("service = 3\n").message == "expected [[service]] tables");
}

TEST_CASE("TOML syntax errors carry the line", "[config]") {
  const auto p = only_problem("port = 1234\n[limits\n");
  CHECK(p.line == 2);
  CHECK(p.file == "/etc/capchan/server.toml");
}

TEST_CASE("several problems are all reported", "[config]") {
  CHECK(problems_of("potr = 1\nbnid = \"x\"\n[limits]\nmailbox = -1\n").size() == 3);
}

TEST_CASE("load_config reads files and reports unreadable ones", "[config]") {
  const auto missing = load_config("/nonexistent/capchan.toml");
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error().front().to_string(), Catch::StartsWith("/nonexistent/capchan.toml: cannot read"));
}

TEST_CASE("default path follows XDG_CONFIG_HOME", "[config]") {
  ::setenv("XDG_CONFIG_HOME", "/tmp/xdg-test", 1);
  CHECK(default_config_path() == "/tmp/xdg-test/capchan/server.toml");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/someone", 1);
  CHECK(default_config_path() == "/home/someone/.config/capchan/server.toml");
}
