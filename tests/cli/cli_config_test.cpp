// `capchan config` as a person runs it, against real files and a real
// capchan-server: init, add/passwd/remove/list/fingerprint, two editors
// racing on one file, and reload (SIGHUP) keeping live channels open.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <thread>

#include "capchan/client/sync.hpp"
#include "capchan/config/server_config.hpp"
#include "capchan/config/server_state.hpp"
#include "capchan/core/text.hpp"
#include "capchan/config/verifier.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "cli_runner.hpp"
#include "eventually.hpp"
#include "server_process.hpp"
#include "terminal_child.hpp"

using namespace capchan;
using capchan::test::cli_runner;
using capchan::test::join;
using capchan::test::server_process;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Reloads run beside I/O on other threads (what a sanitizer build should see).
constexpr unsigned reload_threads = 2;

// Cheap argon2id for the verifiers tests write (libsodium's minimum).
const std::vector<std::string> cheap = {"--argon2id-ops", "1", "--argon2id-mem", "8KiB"};

std::string service_block(const std::string& name, const std::string& handler, const std::string& password) {
  return "[[service]]\nname = \"" + name + "\"\nhandler = \"" + handler + "\"\npassword = \"" + password +
         "\"\nargon2id_ops = 1\nargon2id_mem = \"8KiB\"\n\n";
}

const std::string reload_config = "port = 0\nbind = \"127.0.0.1\"\nkey_file = \"server.key\"\ndata_dir = \"data\"\n\n" +
                                  service_block("names", "kvs", "names") + service_block("old", "echo", "old") +
                                  service_block("pw", "echo", "pw1");

struct config_cli {
  test::temp_folder folder;  // first: config may be in it
  cli_runner cli;
  fs::path config;
  explicit config_cli(fs::path file = {}) : config(file.empty() ? folder.path() / "server.toml" : file) {}

  test::process_result run(const std::vector<std::string>& args, const std::string& input = {}) const {
    return cli.run(join({"config", "--config", config.string()}, args), {}, input);
  }
  // A password file for --password-file.
  std::string password_file(const std::string& password) const {
    const auto p = folder.path() / ("pw-" + password);
    test::write_file(p, password + "\n");
    return p.string();
  }
};

client::result<client::sync::channel> login(const server_process& server, const std::string& service,
                                             const std::string& password, const fs::path& known_hosts) {
  client::connect_options options;
  options.key = server.fingerprint();
  options.known_hosts = known_hosts;
  return client::sync::connect("127.0.0.1", server.port(), service, password, term(), options);
}

std::optional<config::reload_status> status_of(const server_process& server) {
  return config::parse_reload_status(test::read_file(server.folder() / "data" / "capchan-server.reload"));
}

}  // namespace

TEST_CASE("config init writes a commented config and a key, and never overwrites", "[cli][config]") {
  config_cli c;
  auto r = c.run({"init"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string text = test::read_file(c.config);
  CHECK(text.find("# ") != std::string::npos);
  CHECK(text.find("bind = \"127.0.0.1\"") != std::string::npos);
  auto loaded = config::load_config(c.config);
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->services.size() == 1);
  CHECK(fs::status(c.folder.path() / "server.key").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(c.config).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  auto checked = c.run({"check"});
  INFO(checked.out);
  CHECK(checked.exit_code == 0);

  auto again = c.run({"init"});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("exists already") != std::string::npos);
  CHECK(test::read_file(c.config) == text);
}

TEST_CASE("config add, list, passwd, remove: the file keeps its other bytes, no secret is printed",
          "[cli][config]") {
  config_cli c;
  const std::string original = "# mine\nport = 1   # keep\n\n[[service]]\nname = \"a\"\nhandler = \"echo\"\n"
                               "password = \"hunter2\"  # old\nargon2id_ops = 1\nargon2id_mem = \"8KiB\"\n";
  test::write_file(c.config, original);

  auto added = c.run(join({"add", "b", "--handler", "kvs", "--args", "{ path = \"b.db\" }", "--password-file",
                           c.password_file("bpass")},
                          cheap));
  INFO(added.err);
  REQUIRE(added.exit_code == 0);
  const std::string after_add = test::read_file(c.config);
  REQUIRE(after_add.starts_with(original + "\n[[service]]\nname = \"b\"\nhandler = \"kvs\"\nverifier = \"scram-argon2id$v=1$t=1,m=8192$"));
  CHECK(after_add.ends_with("\"\nargs = { path = \"b.db\" }\n"));
  CHECK(after_add.find("bpass") == std::string::npos);

  auto list = c.run({"list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out == "NAME  HANDLER  SECRET\na     echo     plaintext\nb     kvs      verifier\n");

  auto changed = c.run(join({"passwd", "a", "--password-file", c.password_file("new")}, cheap));
  INFO(changed.err);
  REQUIRE(changed.exit_code == 0);
  const std::string after_passwd = test::read_file(c.config);
  const auto verifier_at = after_passwd.find("verifier = \"scram-argon2id");
  REQUIRE(verifier_at != std::string::npos);
  CHECK(after_passwd.substr(0, verifier_at) == "# mine\nport = 1   # keep\n\n[[service]]\nname = \"a\"\nhandler = \"echo\"\n");
  CHECK(after_passwd.find("\"  # old\n\n[[service]]\nname = \"b\"") != std::string::npos);
  CHECK(after_passwd.find("hunter2") == std::string::npos);
  CHECK(after_passwd.find("argon2id_ops") == std::string::npos);

  auto removed = c.run({"remove", "b"});
  REQUIRE(removed.exit_code == 0);
  const std::string after_remove = test::read_file(c.config);
  CHECK(after_remove == after_passwd.substr(0, after_passwd.find("\n[[service]]\nname = \"b\"") + 1));

  auto missing = c.run({"remove", "b"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no service named \"b\"") != std::string::npos);
  auto unknown = c.run(join({"add", "z", "--handler", "nope", "--password-file", c.password_file("z")}, cheap));
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("known: echo, kvs") != std::string::npos);
}

TEST_CASE("config add reads no password from CAPCHAN_PASSWORD", "[cli][config]") {
  config_cli c;
  test::write_file(c.config, "port = 1\n");
  auto r = c.cli.run(join({"config", "--config", c.config.string(), "add", "x", "--handler", "echo"}, cheap),
                     {cli_runner::book_password_env()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--password-file") != std::string::npos);
  CHECK(test::read_file(c.config) == "port = 1\n");
}

TEST_CASE("config commands on a missing file say how to make one", "[cli][config]") {
  config_cli c;
  for (const auto& args : std::vector<std::vector<std::string>>{
           join({"add", "x", "--handler", "echo"}, cheap), {"passwd", "x"}, {"remove", "x"}, {"list"}}) {
    auto r = c.run(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "capchan: no config at '" + c.config.string() +
                       "': create one with `capchan config init`, or give --config FILE\n");
  }
  CHECK_FALSE(fs::exists(c.config));
}

TEST_CASE("config add on a terminal asks twice without echo and stores a verifier of what was typed",
          "[cli][config][prompt]") {
  config_cli c;
  test::write_file(c.config, "port = 1\n");
  test::terminal_child child(
      join({CAPCHAN_CLI, "config", "--config", c.config.string(), "add", "e", "--handler", "echo"}, cheap),
      c.cli.environment({}));
  REQUIRE(child.read_until("New password for service e: "));
  REQUIRE_FALSE(child.echo_on());
  child.type("s3cret words\n");
  REQUIRE(child.read_until("Again, to be sure: "));
  REQUIRE_FALSE(child.echo_on());
  child.type("s3cret words\n");
  const auto status = child.wait_status();
  REQUIRE(status.has_value());
  child.drain();
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(child.echo_on());
  CHECK_THAT(child.output, !Catch::Contains("s3cret"));

  auto loaded = config::load_config(c.config);
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->services.size() == 1);
  const auto& v = std::get<config::verifier>(loaded->services[0].secret);
  auto again = crypto::make_verifier("s3cret words", v.salt, {v.ops_limit, v.mem_limit});
  REQUIRE(again.has_value());
  CHECK(again->stored_key == v.stored_key);
}

TEST_CASE("config passwd on a terminal: two different passwords change nothing", "[cli][config][prompt]") {
  config_cli c;
  const std::string text = "[[service]]\nname = \"e\"\nhandler = \"echo\"\npassword = \"x\"\n";
  test::write_file(c.config, text);
  test::terminal_child child(join({CAPCHAN_CLI, "config", "--config", c.config.string(), "passwd", "e"}, cheap),
                             c.cli.environment({}));
  REQUIRE(child.read_until("New password for service e: "));
  child.type("one\n");
  REQUIRE(child.read_until("Again, to be sure: "));
  child.type("two\n");
  const auto status = child.wait_status();
  REQUIRE(status.has_value());
  child.drain();
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 2);
  CHECK_THAT(child.output, Catch::Contains("the two passwords differ; nothing was changed"));
  CHECK(test::read_file(c.config) == text);
}

TEST_CASE("two config add runs racing on one file lose no entry", "[cli][config]") {
  config_cli c;
  test::write_file(c.config, "# racing\nport = 1\n");
  const std::string pw = c.password_file("race");
  constexpr int per_writer = 12;
  std::vector<int> failures(2, 0);
  auto writer = [&](int w) {
    for (int i = 0; i < per_writer; ++i) {
      auto r = c.run(join({"add", "s" + std::to_string(w) + "_" + std::to_string(i), "--handler", "echo",
                           "--password-file", pw},
                          cheap));
      if (r.exit_code != 0) ++failures[static_cast<std::size_t>(w)];
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();
  CHECK(failures == std::vector<int>{0, 0});
  auto loaded = config::load_config(c.config);
  REQUIRE(loaded.has_value());
  CHECK(loaded->services.size() == 2 * per_writer);
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < per_writer; ++i) {
      const std::string name = "s" + std::to_string(w) + "_" + std::to_string(i);
      const bool present = std::any_of(loaded->services.begin(), loaded->services.end(),
                                       [&](const config::service_config& s) { return s.name == name; });
      CHECK(present);
    }
  }
  CHECK(test::read_file(c.config).starts_with("# racing\nport = 1\n\n[[service]]\n"));
}

TEST_CASE("config fingerprint prints what the server's listening line shows", "[cli][config]") {
  server_process server;
  config_cli c(server.folder() / "server.toml");
  auto r = c.run({"fingerprint"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == server.fingerprint() + "\n");
}

TEST_CASE("reload: a watch survives adding, removing and re-keying services", "[cli][config][reload]") {
  server_process server(test::whole_config{reload_config, reload_threads});
  config_cli c(server.config_file());
  const auto known_hosts = c.folder.path() / "known_hosts";

  auto names = login(server, "names", "names", known_hosts);
  REQUIRE(names.has_value());
  auto watching = names->rpc(tuple(atom("watch"), binary::from("k"), 0), 10s);
  REQUIRE(watching.has_value());
  CHECK(text::print(*watching).starts_with("{ok,"));
  auto old = login(server, "old", "old", known_hosts);
  REQUIRE(old.has_value());
  auto pw = login(server, "pw", "pw1", known_hosts);
  REQUIRE(pw.has_value());

  REQUIRE(c.run({"remove", "old"}).exit_code == 0);
  REQUIRE(c.run(join({"add", "fresh", "--handler", "echo", "--password-file", c.password_file("fresh")}, cheap))
              .exit_code == 0);
  REQUIRE(c.run(join({"passwd", "pw", "--password-file", c.password_file("pw2")}, cheap)).exit_code == 0);
  auto reloaded = c.run({"reload"});
  INFO(reloaded.out << reloaded.err);
  REQUIRE(reloaded.exit_code == 0);
  CHECK(reloaded.out == "added fresh\nremoved old\npassword changed pw\nreloaded (pid " +
                            std::to_string(server.pid()) + ")\n");

  // The removed service's channel is told why.
  auto last = old->receive_for(10s);
  REQUIRE(last.has_value());
  REQUIRE(std::holds_alternative<client::chan_closed>(*last));
  CHECK(text::print(std::get<client::chan_closed>(*last).reason) == "{shutdown,service_removed}");

  // The watch is still there: a put on the same channel comes back as a push.
  auto put = names->rpc(tuple(atom("put"), binary::from("k1"), 7), 10s);
  REQUIRE(put.has_value());
  CHECK(text::print(*put) == "ok");
  auto event = names->receive_for(10s);
  REQUIRE(event.has_value());
  REQUIRE(std::holds_alternative<client::push>(*event));
  CHECK(text::print(std::get<client::push>(*event).message).ends_with(",put,<<\"k1\">>,7}"));

  // The re-keyed service's live channel stays; new logins need the new password.
  auto echoed = pw->rpc(atom("still_here"), 10s);
  REQUIRE(echoed.has_value());
  CHECK(text::print(*echoed) == "still_here");
  auto with_old = login(server, "pw", "pw1", known_hosts);
  REQUIRE_FALSE(with_old.has_value());
  CHECK(with_old.error().code == client::errc::auth_failed);
  CHECK(login(server, "pw", "pw2", known_hosts).has_value());
  CHECK(login(server, "fresh", "fresh", known_hosts).has_value());
  auto gone = login(server, "old", "old", known_hosts);
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == client::errc::auth_failed);
  CHECK(names->is_open());
}

TEST_CASE("reload: an invalid file keeps the running config and says where it is wrong", "[cli][config][reload]") {
  server_process server(test::whole_config{reload_config, reload_threads});
  const auto known_hosts = server.folder() / "known_hosts";
  std::string broken = test::read_file(server.config_file());
  broken += "[[service]]\nname = \"x\"\nhandler = \"echo\"\npasword = \"typo\"\n";
  test::write_file(server.config_file(), broken);

  config_cli c(server.config_file());
  auto refused = c.run({"reload"});
  CHECK(refused.exit_code == 2);  // the CLI checks first and sends nothing

  // A SIGHUP anyway (as `kill -HUP` would): the server keeps its config.
  REQUIRE(server.signal(SIGHUP));
  std::optional<config::reload_status> status;
  test::eventually(
      [&] {
        status = status_of(server);
        return status && status->generation == 1;
      },
      30s);
  REQUIRE(status.has_value());
  REQUIRE(status->generation == 1);
  CHECK_FALSE(status->ok);
  const std::string where = server.config_file().string() + ":30: service[3].pasword: unknown key";
  CHECK(std::find(status->notes.begin(), status->notes.end(), where) != status->notes.end());
  CHECK(login(server, "old", "old", known_hosts).has_value());
}

TEST_CASE("reload: a service whose args changed restarts on the same store, its channels told why",
          "[cli][config][reload]") {
  const std::string before = "port = 0\nbind = \"127.0.0.1\"\n\n[[service]]\nname = \"names\"\nhandler = \"kvs\"\n"
                             "password = \"names\"\nargon2id_ops = 1\nargon2id_mem = \"8KiB\"\n"
                             "args = { path = \"names.db\" }\n";
  server_process server(test::whole_config{before, reload_threads});
  config_cli c(server.config_file());
  const auto known_hosts = c.folder.path() / "known_hosts";
  auto names = login(server, "names", "names", known_hosts);
  REQUIRE(names.has_value());
  auto put = names->rpc(tuple(atom("put"), atom("joe"), 1), 10s);
  REQUIRE(put.has_value());

  // A new history length for the store, a limit for new connections, and a
  // port the running server cannot take up.
  std::string after = before;
  after.replace(after.find("port = 0"), 8, "port = 1");
  after.replace(after.find("{ path = \"names.db\" }"), 21, "{ path = \"names.db\", history = 100 }");
  after += "\n[limits]\nmailbox = 64\n";
  test::write_file(server.config_file(), after);
  auto reloaded = c.run({"reload"});
  INFO(reloaded.out << reloaded.err);
  REQUIRE(reloaded.exit_code == 0);
  CHECK(reloaded.out.starts_with(
      "restarted names\nlimits changed (new connections)\nneeds a restart: port\nreloaded (pid "));

  auto last = names->receive_for(10s);
  REQUIRE(last.has_value());
  REQUIRE(std::holds_alternative<client::chan_closed>(*last));
  CHECK(text::print(std::get<client::chan_closed>(*last).reason) == "{shutdown,service_changed}");
  // The new instance opened the same file once the old one had let go of it.
  auto again = login(server, "names", "names", known_hosts);
  REQUIRE(again.has_value());
  auto found = again->rpc(tuple(atom("lookup"), atom("joe")), 10s);
  REQUIRE(found.has_value());
  CHECK(text::print(*found) == "{ok,1}");
}

TEST_CASE("reload: new limits apply to new connections, open channels stay", "[cli][config][reload]") {
  const std::string before = "port = 0\nbind = \"127.0.0.1\"\n\n" + service_block("echo", "echo", "echo");
  server_process server(test::whole_config{before, reload_threads});
  config_cli c(server.config_file());
  const auto known_hosts = c.folder.path() / "known_hosts";
  auto first = login(server, "echo", "echo", known_hosts);
  REQUIRE(first.has_value());

  test::write_file(server.config_file(), before + "[limits]\nmax_connections = 1\nmax_handshakes = 1\n");
  auto reloaded = c.run({"reload"});
  INFO(reloaded.out << reloaded.err);
  REQUIRE(reloaded.exit_code == 0);
  CHECK(reloaded.out.starts_with("limits changed (new connections)\nreloaded (pid "));

  // One connection is open: a second is turned away at the door.
  auto second = login(server, "echo", "echo", known_hosts);
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code != client::errc::auth_failed);
  auto still = first->rpc(atom("ping"), 10s);
  REQUIRE(still.has_value());
  CHECK(text::print(*still) == "ping");
}
